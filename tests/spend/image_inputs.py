"""Image inputs of every kind, and what the sandbox received: shared by the generate/submit
tests here and the compare/sweep tests (tests/compare/test_compare_images.py)."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

#: provider -> how a local image reaches it (its default model)
HOW = {"xai": "data-uri", "xingchao": "data-uri", "apixo": "uploaded", "pixazo": "uploaded",
       "apiinone": "uploaded"}
KINDS = ("str-path", "Path", "bytes", "PIL", "numpy", "FileUpload", "data-uri")


def image_input(kind: str, path: Path, data: bytes) -> Any:
    """`data` (a PNG also written at `path`) passed as one input kind of `KINDS`."""
    if kind == "str-path":
        return str(path)
    if kind == "Path":
        return path
    if kind == "bytes":
        return data
    if kind == "PIL":
        return Image.open(io.BytesIO(data))
    if kind == "numpy":
        return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    if kind == "FileUpload":  # ipywidgets 8 FileUpload.value: a tuple of dicts
        return ({"name": "cat.png", "type": "image/png", "size": len(data), "content": memoryview(data),
                 "last_modified": 0},)
    return "data:image/png;base64," + base64.b64encode(data).decode()


def sent_image(sb: Any, provider: str) -> str:
    """The image the sandbox's last task of `provider` was sent (a data URI or a URL)."""
    task = sb.tasks(provider)[-1]
    params = task.spec.params
    value = params.get("image_url") or params.get("image_urls")
    if isinstance(value, str) and value.startswith("["):  # stored as text by some emulations
        value = value.strip("[]'\" ")
    return value[0] if isinstance(value, list) else value


def bytes_behind(sb: Any, sent: str) -> bytes:
    """The bytes of a sent image: decoded from a data URI, or the sandbox's stored upload."""
    if sent.startswith("data:"):
        return base64.b64decode(sent.split(",", 1)[1])
    return sb.uploads.files[sent.rsplit("/", 1)[1]].data
