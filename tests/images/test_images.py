"""`coerce_image`: every input kind to a URL, a data URI or `ImageBytes`; fingerprints."""

from __future__ import annotations

import base64
import hashlib
import io
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from grokvid_nb._images import (
    MAX_IMAGE_BYTES,
    DataURI,
    ImageBytes,
    ImageInputError,
    coerce_image,
    coerce_images,
    image_fingerprint,
    sniff_image_type,
)
from tests.images.conftest import encode, make_png


def _decode(image: ImageBytes) -> Image.Image:
    return Image.open(io.BytesIO(image.data))


# ---- URLs and data URIs ------------------------------------------------------------------
@pytest.mark.parametrize("url", ["https://example.com/a.png", "http://127.0.0.1:8/x.jpg",
                                 "HTTPS://EXAMPLE.COM/B.PNG"])
def test_urls_are_kept_as_given(url: str) -> None:
    assert coerce_image(f"  {url} ") == url


def test_data_uri_is_kept_and_parsed(png_bytes: bytes) -> None:
    uri = "data:image/png;base64," + base64.b64encode(png_bytes).decode()
    out = coerce_image(uri)
    assert isinstance(out, DataURI)
    assert out.uri == uri
    assert out.image.data == png_bytes
    assert out.image.content_type == "image/png"
    assert out.image.sha256 == hashlib.sha256(png_bytes).hexdigest()
    assert "base64" not in repr(out)


def test_data_uri_jpg_alias_is_accepted() -> None:
    jpeg = encode("JPEG")
    out = coerce_image("data:image/jpg;base64," + base64.b64encode(jpeg).decode())
    assert isinstance(out, DataURI) and out.image.content_type == "image/jpeg"


@pytest.mark.parametrize(("uri", "message"), [
    ("data:image/png;base64", "image_url: a data URI needs a ',' before its data"),
    ("data:image/png,abc", "image_url: only base64 data URIs are supported (data:image/png;base64,...)"),
    ("data:image/png;base64,@@@", "image_url: the data URI's base64 payload is malformed"),
    ("data:image/png;base64," + base64.b64encode(b"%PDF-1.7 hello").decode(),
     "image_url: 14 B starting with b'%PDF-1.7' is not an image (PNG, JPEG, WebP or GIF expected)"),
])
def test_bad_data_uris_are_refused(uri: str, message: str) -> None:
    with pytest.raises(ImageInputError) as info:
        coerce_image(uri)
    assert str(info.value) == message
    assert info.value.parameter == "image_url"


def test_data_uri_type_must_match_its_bytes() -> None:
    uri = "data:image/jpeg;base64," + base64.b64encode(make_png()).decode()
    with pytest.raises(ImageInputError, match=r"says 'image/jpeg' but its bytes are image/png"):
        coerce_image(uri)


def test_other_url_schemes_are_refused() -> None:
    with pytest.raises(ImageInputError) as info:
        coerce_image("ftp://host/a.png", "image_urls[1]")
    assert str(info.value) == ("image_urls[1]: ftp:// URLs are not supported; give an http(s) URL, "
                               "a data URI or a local file path")


# ---- local files -------------------------------------------------------------------------
def test_path_string_and_pathlib(png_file: Path, png_bytes: bytes) -> None:
    for value in (str(png_file), png_file):
        out = coerce_image(value)
        assert isinstance(out, ImageBytes)
        assert (out.data, out.content_type, out.filename) == (png_bytes, "image/png", "cat.png")
        assert out.sha256 == hashlib.sha256(png_bytes).hexdigest()


def test_home_relative_path(tmp_path: Path, png_bytes: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "pic.png").write_bytes(png_bytes)
    out = coerce_image("~/pic.png")
    assert isinstance(out, ImageBytes) and out.filename == "pic.png"


def test_missing_file_names_the_parameter(tmp_path: Path) -> None:
    missing = tmp_path / "nope.png"
    with pytest.raises(ImageInputError) as info:
        coerce_image(str(missing), "image_urls[0]")
    assert str(info.value) == (f"image_urls[0]: {str(missing)!r} is not an http(s) URL, a data URI, "
                               "or an existing file")


def test_non_image_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.png"  # the name lies; the bytes decide
    path.write_bytes(b"hello, not an image")
    with pytest.raises(ImageInputError) as info:
        coerce_image(path)
    assert str(info.value) == (f"image_url: the file {str(path)!r}: 19 B starting with b'hello, n' "
                               "is not an image (PNG, JPEG, WebP or GIF expected)")


def test_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ImageInputError, match=r"is not a file$"):
        coerce_image(tmp_path)


def test_oversized_file_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.png"
    with path.open("wb") as f:
        f.truncate(MAX_IMAGE_BYTES + 1)  # sparse: nothing is really written or read
    with pytest.raises(ImageInputError, match=r"is 50\.0 MiB, larger than the 50\.0 MiB grokvid_nb accepts for one image"):
        coerce_image(path)


# ---- bytes -------------------------------------------------------------------------------
@pytest.mark.parametrize(("fmt", "content_type", "ext"), [
    ("PNG", "image/png", ".png"), ("JPEG", "image/jpeg", ".jpg"),
    ("WEBP", "image/webp", ".webp"), ("GIF", "image/gif", ".gif"),
])
def test_magic_bytes_decide_the_type(fmt: str, content_type: str, ext: str) -> None:
    data = encode(fmt)
    assert sniff_image_type(data) == content_type
    for value in (data, bytearray(data), memoryview(data)):
        out = coerce_image(value)
        assert isinstance(out, ImageBytes)
        assert out.content_type == content_type
        assert out.data == data
        assert out.filename == f"image-{hashlib.sha256(data).hexdigest()[:12]}{ext}"


def test_non_image_bytes_are_refused() -> None:
    with pytest.raises(ImageInputError) as info:
        coerce_image(b"", "image_urls[3]")
    assert str(info.value) == "image_urls[3]: empty content is not an image (PNG, JPEG, WebP or GIF expected)"


# ---- PIL ---------------------------------------------------------------------------------
def test_small_pil_image_is_png() -> None:
    out = coerce_image(Image.new("RGB", (8, 6), (1, 2, 3)))
    assert isinstance(out, ImageBytes) and out.content_type == "image/png"
    decoded = _decode(out)
    assert decoded.size == (8, 6) and decoded.getpixel((0, 0)) == (1, 2, 3)


def test_large_rgb_photo_is_jpeg() -> None:
    out = coerce_image(Image.new("RGB", (1100, 1000), (90, 90, 90)))
    assert isinstance(out, ImageBytes) and out.content_type == "image/jpeg"
    assert _decode(out).size == (1100, 1000)


def test_large_rgba_stays_png_with_alpha() -> None:
    out = coerce_image(Image.new("RGBA", (1100, 1000), (9, 9, 9, 100)))
    assert isinstance(out, ImageBytes) and out.content_type == "image/png"
    assert _decode(out).getpixel((5, 5)) == (9, 9, 9, 100)


def test_cmyk_is_converted() -> None:
    out = coerce_image(Image.new("CMYK", (3, 3), (0, 0, 0, 0)))
    assert isinstance(out, ImageBytes) and out.content_type == "image/png"
    assert _decode(out).mode == "RGB"


# ---- numpy -------------------------------------------------------------------------------
def test_uint8_arrays() -> None:
    gray = np.full((4, 5), 77, dtype=np.uint8)
    rgb = np.zeros((4, 5, 3), dtype=np.uint8)
    rgb[..., 1] = 200
    rgba = np.zeros((4, 5, 4), dtype=np.uint8)
    rgba[..., 3] = 128
    assert _decode(coerce_image(gray)).getpixel((0, 0)) == 77  # type: ignore[arg-type]
    assert _decode(coerce_image(rgb)).getpixel((4, 3)) == (0, 200, 0)  # type: ignore[arg-type]
    assert _decode(coerce_image(rgba)).getpixel((1, 1)) == (0, 0, 0, 128)  # type: ignore[arg-type]


def test_float_array_in_unit_range_is_scaled() -> None:
    rgb = np.full((2, 3, 3), 0.5, dtype=np.float32)
    decoded = _decode(coerce_image(rgb))  # type: ignore[arg-type]
    assert decoded.size == (3, 2) and decoded.getpixel((0, 0)) == (128, 128, 128)


@pytest.mark.parametrize(("array", "message"), [
    (np.zeros((4, 5), dtype=np.int16),
     "image_url: a numpy array of dtype=int16, shape=(4, 5) is not supported; pass uint8 (0-255) "
     "or float (0.0-1.0)"),
    (np.zeros((4, 5, 2), dtype=np.uint8),
     "image_url: a numpy array of dtype=uint8, shape=(4, 5, 2) is not an image; expected HxW (gray), "
     "HxWx3 (RGB) or HxWx4 (RGBA)"),
    (np.zeros((3, 4, 5, 3), dtype=np.uint8),
     "image_url: a numpy array of dtype=uint8, shape=(3, 4, 5, 3) is not an image; expected HxW "
     "(gray), HxWx3 (RGB) or HxWx4 (RGBA)"),
    (np.full((2, 2), 2.0), "image_url: a float numpy array (dtype=float64, shape=(2, 2)) must hold "
                           "values in [0, 1] (no NaN); scale it, or pass uint8 0-255"),
    (np.full((2, 2), np.nan, dtype=np.float32),
     "image_url: a float numpy array (dtype=float32, shape=(2, 2)) must hold values in [0, 1] "
     "(no NaN); scale it, or pass uint8 0-255"),
    (np.zeros((0, 4), dtype=np.uint8), "image_url: the numpy array is empty (dtype=uint8, shape=(0, 4))"),
])
def test_bad_arrays_name_dtype_and_shape(array: np.ndarray, message: str) -> None:
    with pytest.raises(ImageInputError) as info:
        coerce_image(array)
    assert str(info.value) == message


# ---- ipywidgets FileUpload ---------------------------------------------------------------
def _upload_item(name: str, data: bytes, kind: str = "image/png") -> dict[str, object]:
    return {"name": name, "type": kind, "size": len(data), "content": memoryview(data),
            "last_modified": datetime(2026, 11, 30, tzinfo=UTC)}


def test_file_upload_value_item_and_widget(png_bytes: bytes) -> None:
    import ipywidgets

    item = _upload_item("dog.png", png_bytes)
    widget = ipywidgets.FileUpload(accept="image/*")
    widget.value = (item,)
    for value in (item, (item,), widget):
        out = coerce_image(value)
        assert isinstance(out, ImageBytes)
        assert (out.filename, out.content_type, out.data) == ("dog.png", "image/png", png_bytes)


def test_file_upload_type_comes_from_bytes_not_browser() -> None:
    jpeg = encode("JPEG")
    out = coerce_image(_upload_item("x.png", jpeg, kind="image/png"))
    assert isinstance(out, ImageBytes) and out.content_type == "image/jpeg"


def test_file_upload_non_image_is_refused() -> None:
    with pytest.raises(ImageInputError) as info:
        coerce_image((_upload_item("doc.pdf", b"%PDF-1.4 blah", "application/pdf"),))
    assert str(info.value) == ("image_url: the uploaded file 'doc.pdf': 13 B starting with "
                               "b'%PDF-1.4' is not an image (PNG, JPEG, WebP or GIF expected)")


def test_file_upload_with_several_files_needs_image_urls(png_bytes: bytes) -> None:
    value = (_upload_item("a.png", png_bytes), _upload_item("b.png", make_png(color=(0, 0, 1))))
    with pytest.raises(ImageInputError, match=r"holds 2 files; one image is expected here"):
        coerce_image(value)
    out = coerce_images(value)
    assert [i.filename for i in out if isinstance(i, ImageBytes)] == ["a.png", "b.png"]


def test_empty_file_upload_widget_is_refused() -> None:
    import ipywidgets

    with pytest.raises(ImageInputError, match=r"ipywidgets.widgets.widget_upload.FileUpload is not an image input"):
        coerce_image(ipywidgets.FileUpload())


# ---- lists -------------------------------------------------------------------------------
def test_coerce_images_mixes_kinds_and_names_items(png_file: Path, png_bytes: bytes) -> None:
    out = coerce_images(["https://e.com/1.png", png_file, (_upload_item("u.png", png_bytes),),
                         np.zeros((2, 2), dtype=np.uint8)])
    assert out[0] == "https://e.com/1.png"
    assert isinstance(out[1], ImageBytes) and out[1].filename == "cat.png"
    assert isinstance(out[2], ImageBytes) and out[2].filename == "u.png"
    assert isinstance(out[3], ImageBytes) and out[3].content_type == "image/png"
    with pytest.raises(ImageInputError) as info:
        coerce_images(["https://e.com/1.png", b"nope"])
    assert info.value.parameter == "image_urls[1]"
    assert coerce_images("https://e.com/1.png") == ["https://e.com/1.png"]


def test_a_list_for_one_image_is_refused() -> None:
    with pytest.raises(ImageInputError) as info:
        coerce_image(["https://e.com/1.png"])
    assert str(info.value) == ("image_url: one image is expected, got a list of 1 "
                               "(pass several as image_urls=[...])")


def test_unknown_objects_are_refused() -> None:
    with pytest.raises(ImageInputError) as info:
        coerce_image(3.5)
    assert str(info.value) == ("image_url: a builtins.float is not an image input; give an http(s) "
                               "URL, a data URI, a file path, bytes, a PIL image, a numpy array or a "
                               "FileUpload value")


# ---- fingerprints ------------------------------------------------------------------------
def test_fingerprint_is_the_content_hash_for_every_local_kind(png_file: Path, png_bytes: bytes) -> None:
    expected = "sha256:" + hashlib.sha256(png_bytes).hexdigest()
    uri = "data:image/png;base64," + base64.b64encode(png_bytes).decode()
    kinds = [png_file, str(png_file), png_bytes, memoryview(png_bytes), uri,
             _upload_item("other-name.png", png_bytes)]
    assert [image_fingerprint(k) for k in kinds] == [expected] * len(kinds)


def test_fingerprint_of_a_url_is_the_url() -> None:
    assert image_fingerprint(" https://e.com/a.png ") == "https://e.com/a.png"


def test_different_content_different_fingerprint() -> None:
    assert image_fingerprint(make_png(color=(1, 1, 1))) != image_fingerprint(make_png(color=(1, 1, 2)))


def test_same_array_same_fingerprint() -> None:
    array = np.arange(48, dtype=np.uint8).reshape(4, 4, 3)
    assert image_fingerprint(array) == image_fingerprint(array.copy())


@pytest.mark.timeout(60)
def test_module_import_pulls_in_neither_pil_nor_numpy() -> None:
    code = ("import sys; import grokvid_nb._images; "
            "print(sorted(m for m in ('PIL', 'PIL.Image', 'numpy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.stdout.strip() == "[]"


def test_oversized_bytes_are_refused() -> None:
    with pytest.raises(ImageInputError) as info:
        coerce_image(bytes(MAX_IMAGE_BYTES + 1), "image_urls[0]")
    assert str(info.value) == ("image_urls[0]: 50.0 MiB is larger than the 50.0 MiB grokvid_nb "
                               "accepts for one image")
