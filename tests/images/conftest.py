"""Fixtures for image-input and uploader tests: small real images made on the spot."""

from __future__ import annotations

import io
from pathlib import Path

import pytest


def make_png(width: int = 4, height: int = 3, color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    """A real PNG of one color, encoded by Pillow."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, format="PNG")
    return buffer.getvalue()


def encode(fmt: str, color: tuple[int, int, int] = (10, 120, 240)) -> bytes:
    """A real 5x4 image in the given Pillow format (JPEG, WEBP, GIF, PNG)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (5, 4), color).save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.fixture()
def png_bytes() -> bytes:
    return make_png()


@pytest.fixture()
def png_file(tmp_path: Path, png_bytes: bytes) -> Path:
    path = tmp_path / "cat.png"
    path.write_bytes(png_bytes)
    return path
