"""Image inputs from anywhere, coerced to one of three normalized values.

```
coerce_image(x)  ->  str         an http(s) URL, kept as given (trimmed)
                 ->  DataURI     a base64 data URI, kept, with its decoded bytes checked
                 ->  ImageBytes  local content: a path, pathlib.Path, bytes, a PIL image,
                                 a numpy array, an ipywidgets FileUpload (widget or value)
```

The content type always comes from the bytes themselves (PNG, JPEG, WebP, GIF magic numbers),
never from a file name or a browser's claim, and anything else is refused with an error naming
the parameter. PIL and numpy are imported only when such an object is passed: an object of
theirs cannot exist unless its module was already imported, so `sys.modules` tells.

`image_fingerprint(x)` is what the ledger's reuse check compares: the content hash for local
content and data URIs (the same file gives the same fingerprint, however it was passed), the URL
for URLs. The ledger never stores base64.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._exceptions import ImageInputError

__all__ = [
    "ImageBytes",
    "DataURI",
    "Image",
    "ImageInputError",
    "IMAGE_TYPES",
    "MAX_IMAGE_BYTES",
    "JPEG_ABOVE_PIXELS",
    "coerce_image",
    "coerce_images",
    "sniff_image_type",
    "image_fingerprint",
    "human_size",
]

#: Content type -> file extension, for every image kind recognized from its bytes.
IMAGE_TYPES: Mapping[str, str] = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/webp": ".webp",
    "image/gif": ".gif",
}
#: grokvid_nb's own cap on one image input (the only documented provider limit, xAI's, is 10 MiB);
#: a larger input is refused before it is read or encoded whole.
MAX_IMAGE_BYTES = 50 * 1024 * 1024
#: A PIL image or array in RGB with more pixels than this is encoded as JPEG (q=90), else PNG.
JPEG_ABOVE_PIXELS = 1024 * 1024
_JPEG_QUALITY = 90
_URL_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
_ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg", "image/x-png": "image/png"}


def human_size(n: int) -> str:
    """Bytes as a short text: '812 B', '14.2 KiB', '10.0 MiB'."""
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KiB"
    return f"{n / (1024 * 1024):.1f} MiB"


@dataclass(frozen=True)
class ImageBytes:
    """Local image content: the bytes, their detected content type, a file name and SHA-256."""

    data: bytes = field(repr=False)
    content_type: str
    filename: str
    sha256: str

    @classmethod
    def from_data(cls, data: bytes, *, parameter: str, filename: str | None = None) -> "ImageBytes":
        """Check that `data` is an image, and name it (`image-<hash>.png` when unnamed)."""
        if len(data) > MAX_IMAGE_BYTES:
            raise ImageInputError(parameter, f"{human_size(len(data))} is larger than the "
                                             f"{human_size(MAX_IMAGE_BYTES)} grokvid_nb accepts for one image")
        content_type = sniff_image_type(data)
        if content_type is None:
            raise ImageInputError(parameter, f"{_describe_bytes(data)} is not an image "
                                             "(PNG, JPEG, WebP or GIF expected)")
        digest = hashlib.sha256(data).hexdigest()
        ext = IMAGE_TYPES[content_type]
        name = filename.strip() if filename and filename.strip() else f"image-{digest[:12]}{ext}"
        return cls(bytes(data), content_type, name, digest)

    @property
    def size(self) -> int:
        """Length of the image in bytes."""
        return len(self.data)

    @property
    def extension(self) -> str:
        """The file extension of the detected type ('.png', '.jpg', ...)."""
        return IMAGE_TYPES[self.content_type]

    def data_uri(self) -> str:
        """The image as a `data:<type>;base64,...` URI."""
        return f"data:{self.content_type};base64,{base64.b64encode(self.data).decode('ascii')}"

    def describe(self) -> str:
        """'cat.png (image/png, 14.2 KiB)': for messages, never the bytes."""
        return f"{self.filename} ({self.content_type}, {human_size(self.size)})"


@dataclass(frozen=True)
class DataURI:
    """A base64 data URI as given (`uri`), with its decoded and checked image."""

    uri: str = field(repr=False)
    image: ImageBytes

    def __repr__(self) -> str:
        return f"DataURI({self.image.content_type}, {human_size(self.image.size)}, sha256={self.image.sha256[:12]})"


#: A coerced image: an http(s) URL string, a data URI, or local content.
Image = str | DataURI | ImageBytes


def sniff_image_type(data: bytes) -> str | None:
    """The content type from the magic bytes: PNG, JPEG, WebP or GIF; None for anything else."""
    head = bytes(data[:16])
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    return None


def coerce_image(value: Any, parameter: str = "image_url") -> Image:
    """Normalize one image input (see the module docstring); errors name `parameter`."""
    if isinstance(value, (DataURI, ImageBytes)):
        return value
    if isinstance(value, str):
        return _from_text(value, parameter)
    if isinstance(value, os.PathLike):
        return _from_path(Path(os.fspath(value)), parameter)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return ImageBytes.from_data(bytes(value), parameter=parameter)
    pil = _pil_image_class()
    if pil is not None and isinstance(value, pil):
        return _from_pil(value, parameter)
    np = sys.modules.get("numpy")
    if np is not None and isinstance(value, np.ndarray):
        return _from_array(value, parameter)
    uploads = _file_upload_items(value)
    if uploads is not None:
        if len(uploads) != 1:
            raise ImageInputError(parameter, f"the FileUpload holds {len(uploads)} files; one image "
                                             "is expected here (pass several as image_urls=[...])")
        return _from_upload(uploads[0], parameter)
    if isinstance(value, (list, tuple)):
        raise ImageInputError(parameter, f"one image is expected, got a {type(value).__name__} "
                                         f"of {len(value)} (pass several as image_urls=[...])")
    raise ImageInputError(parameter, f"a {type(value).__module__}.{type(value).__qualname__} is not an "
                                     "image input; give an http(s) URL, a data URI, a file path, "
                                     "bytes, a PIL image, a numpy array or a FileUpload value")


def coerce_images(values: Any, parameter: str = "image_urls") -> list[Image]:
    """Normalize a list of image inputs; a FileUpload (widget or value) counts as its files.

    A single input that is not a list (a URL, a path, bytes, ...) is a list of one. Errors name
    the item: `image_urls[2]: ...`.
    """
    uploads = _file_upload_items(values)
    if uploads is not None:
        return [_from_upload(item, f"{parameter}[{i}]") for i, item in enumerate(uploads)]
    if not isinstance(values, (list, tuple)):
        return [coerce_image(values, parameter)]
    out: list[Image] = []
    for value in values:
        inner = _file_upload_items(value)
        if inner is not None:
            out.extend(_from_upload(item, f"{parameter}[{len(out) + j}]") for j, item in enumerate(inner))
        else:
            out.append(coerce_image(value, f"{parameter}[{len(out)}]"))
    return out


def image_fingerprint(value: Any, parameter: str = "image_url") -> str:
    """What the reuse check compares for one image: `sha256:<hex>` of the image bytes for local
    content and data URIs (so the same file gives the same fingerprint however it is passed),
    the URL itself for an http(s) URL."""
    image = coerce_image(value, parameter)
    if isinstance(image, str):
        return image
    content = image.image if isinstance(image, DataURI) else image
    return f"sha256:{content.sha256}"


# ---- strings: URL, data URI, local path ---------------------------------------------------
def _from_text(value: str, parameter: str) -> Image:
    text = value.strip()
    if not text:
        raise ImageInputError(parameter, "an empty text is not an image")
    match = _URL_SCHEME.match(text)
    scheme = match.group(1).lower() if match else ""
    if scheme in ("http", "https"):
        return text
    if scheme == "data":
        return _parse_data_uri(text, parameter)
    if scheme and len(scheme) > 1 and text[len(scheme):].startswith("://"):
        raise ImageInputError(parameter, f"{scheme}:// URLs are not supported; give an http(s) URL, "
                                         "a data URI or a local file path")
    return _from_path(Path(text).expanduser(), parameter)


def _parse_data_uri(text: str, parameter: str) -> DataURI:
    header, comma, payload = text.partition(",")
    if not comma:
        raise ImageInputError(parameter, "a data URI needs a ',' before its data")
    parts = [p.strip() for p in header[len("data:"):].split(";")]
    declared = _ALIASES.get(parts[0].lower(), parts[0].lower()) if parts and parts[0] else ""
    if "base64" not in (p.lower() for p in parts[1:]):
        raise ImageInputError(parameter, "only base64 data URIs are supported "
                                         "(data:image/png;base64,...)")
    if len(payload) > MAX_IMAGE_BYTES * 4 // 3 + 4:
        raise ImageInputError(parameter, f"the data URI is larger than the "
                                         f"{human_size(MAX_IMAGE_BYTES)} grokvid_nb accepts for one image")
    try:
        data = base64.b64decode(re.sub(r"\s+", "", payload), validate=True)
    except (binascii.Error, ValueError):
        raise ImageInputError(parameter, "the data URI's base64 payload is malformed") from None
    image = ImageBytes.from_data(data, parameter=parameter)
    if declared and declared != image.content_type:
        raise ImageInputError(parameter, f"the data URI says {declared!r} but its bytes are "
                                         f"{image.content_type}")
    return DataURI(text, image)


def _from_path(path: Path, parameter: str) -> ImageBytes:
    shown = str(path)
    if len(shown) > 120:
        shown = shown[:117] + "..."
    if not path.exists():
        raise ImageInputError(parameter, f"{shown!r} is not an http(s) URL, a data URI, or an "
                                         "existing file")
    if not path.is_file():
        raise ImageInputError(parameter, f"{shown!r} is not a file")
    size = path.stat().st_size
    if size > MAX_IMAGE_BYTES:
        raise ImageInputError(parameter, f"{shown!r} is {human_size(size)}, larger than the "
                                         f"{human_size(MAX_IMAGE_BYTES)} grokvid_nb accepts for one image")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImageInputError(parameter, f"cannot read {shown!r}: {exc.strerror or exc}") from None
    try:
        return ImageBytes.from_data(data, parameter=parameter, filename=path.name)
    except ImageInputError as exc:  # say which file
        raise ImageInputError(parameter, f"the file {shown!r}: " + str(exc).split(": ", 1)[1]) from None


# ---- PIL images and numpy arrays ----------------------------------------------------------
def _pil_image_class() -> type | None:
    module = sys.modules.get("PIL.Image")
    return getattr(module, "Image", None) if module is not None else None


def _from_pil(image: Any, parameter: str) -> ImageBytes:
    mode = image.mode
    if mode not in ("1", "L", "LA", "P", "RGB", "RGBA"):  # CMYK, 16-bit, float...: to 8-bit RGB(A)
        image = image.convert("RGBA" if "A" in mode else "RGB")
    width, height = image.size
    if width == 0 or height == 0:
        raise ImageInputError(parameter, f"the PIL image is empty ({width}x{height})")
    buffer = io.BytesIO()
    if image.mode == "RGB" and width * height > JPEG_ABOVE_PIXELS:
        image.save(buffer, format="JPEG", quality=_JPEG_QUALITY)
    else:
        image.save(buffer, format="PNG")
    return ImageBytes.from_data(buffer.getvalue(), parameter=parameter)


def _from_array(array: Any, parameter: str) -> ImageBytes:
    import numpy as np

    shape = tuple(array.shape)
    described = f"dtype={array.dtype}, shape={shape}"
    if array.ndim == 3 and shape[2] == 1:
        array = array[:, :, 0]
    if not (array.ndim == 2 or (array.ndim == 3 and array.shape[2] in (3, 4))):
        raise ImageInputError(parameter, f"a numpy array of {described} is not an image; expected "
                                         "HxW (gray), HxWx3 (RGB) or HxWx4 (RGBA)")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ImageInputError(parameter, f"the numpy array is empty ({described})")
    if array.dtype == np.uint8:
        pixels = array
    elif np.issubdtype(array.dtype, np.floating):
        if not np.all(np.isfinite(array)) or array.min() < 0.0 or array.max() > 1.0:
            raise ImageInputError(parameter, f"a float numpy array ({described}) must hold values "
                                             "in [0, 1] (no NaN); scale it, or pass uint8 0-255")
        pixels = np.rint(array * 255.0).astype(np.uint8)
    else:
        raise ImageInputError(parameter, f"a numpy array of {described} is not supported; pass "
                                         "uint8 (0-255) or float (0.0-1.0)")
    try:
        from PIL import Image as PILImage
    except ImportError:
        raise ImageInputError(parameter, "encoding a numpy array needs Pillow: pip install pillow") from None
    mode = {2: "L"}.get(pixels.ndim) or ("RGB" if pixels.shape[2] == 3 else "RGBA")
    return _from_pil(PILImage.fromarray(np.ascontiguousarray(pixels), mode=mode), parameter)


# ---- ipywidgets FileUpload ----------------------------------------------------------------
def _is_upload_item(value: Any) -> bool:
    return isinstance(value, Mapping) and "content" in value and ("name" in value or "type" in value)


def _file_upload_items(value: Any) -> list[Mapping[str, Any]] | None:
    """The files of a FileUpload widget, its ipywidgets 8 value (a tuple of dicts with `name`,
    `type`, `content`), or one such dict; None when `value` is none of these."""
    if type(value).__name__ == "FileUpload" and hasattr(value, "value"):
        value = value.value
    if _is_upload_item(value):
        return [value]
    if isinstance(value, tuple) and value and all(_is_upload_item(v) for v in value):
        return list(value)
    return None


def _from_upload(item: Mapping[str, Any], parameter: str) -> ImageBytes:
    content = item.get("content")
    if not isinstance(content, (bytes, bytearray, memoryview)):
        raise ImageInputError(parameter, "the FileUpload entry has no byte content")
    name = item.get("name")
    try:
        return ImageBytes.from_data(bytes(content), parameter=parameter,
                                    filename=name if isinstance(name, str) else None)
    except ImageInputError as exc:
        label = f"the uploaded file {name!r}" if isinstance(name, str) else "the uploaded file"
        raise ImageInputError(parameter, f"{label}: " + str(exc).split(": ", 1)[1]) from None


def _describe_bytes(data: bytes) -> str:
    if not data:
        return "empty content"
    return f"{human_size(len(data))} starting with {bytes(data[:8])!r}"
