"""The sandbox's upload endpoint: images in, server-made URLs out, served back."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import httpx
import pytest
from PIL import Image

from grokvid_nb.sandbox import Sandbox, SandboxConfig

from .conftest import PIXAZO_KEY, pixazo_route


def _image(fmt: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 6), (200, 30, 30)).save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.fixture
async def small() -> AsyncIterator[tuple[Sandbox, httpx.AsyncClient]]:
    sandbox = Sandbox(SandboxConfig(time_scale=1.0, seed=0, upload_max_bytes=1000))
    async with httpx.AsyncClient(transport=sandbox.transport(), base_url="http://sandbox.test:8765") as c:
        yield sandbox, c
    sandbox.close()


@pytest.mark.parametrize("fmt,ctype,ext", [("PNG", "image/png", "png"), ("JPEG", "image/jpeg", "jpg"),
                                           ("GIF", "image/gif", "gif"), ("WEBP", "image/webp", "webp")])  # fmt: skip
async def test_raw_upload_round_trip(client: httpx.AsyncClient, fmt: str, ctype: str, ext: str) -> None:
    data = _image(fmt)
    response = await client.post("/sandbox/uploads", content=data, headers={"Content-Type": ctype})
    assert response.status_code == 201
    reply = response.json()
    assert reply["url"] == f"http://sandbox.test/sandbox/files/{reply['id']}.{ext}"
    assert (reply["content_type"], reply["bytes"]) == (ctype, len(data))
    served = await client.get(reply["url"])
    assert served.status_code == 200
    assert served.headers["content-type"] == ctype
    assert served.content == data


async def test_multipart_upload_ignores_the_client_file_name(client: httpx.AsyncClient) -> None:
    data = _image("PNG")
    files = {"file": ("../../etc/passwd.png", data, "application/octet-stream")}
    response = await client.post("/sandbox/uploads", files=files)
    assert response.status_code == 201
    reply = response.json()
    assert "passwd" not in reply["url"] and len(reply["id"]) == 32
    assert reply["url"].endswith(f"/sandbox/files/{reply['id']}.png")
    assert (await client.get(reply["url"])).content == data


async def test_type_is_sniffed_not_trusted(client: httpx.AsyncClient) -> None:
    # a JPEG labelled PNG is stored as the JPEG it is
    response = await client.post("/sandbox/uploads", content=_image("JPEG"), headers={"Content-Type": "image/png"})
    assert response.json()["content_type"] == "image/jpeg" and response.json()["url"].endswith(".jpg")
    html = await client.post("/sandbox/uploads", content=b"<html>hi</html>", headers={"Content-Type": "image/png"})
    assert html.status_code == 415 and html.json() == {"error": "not a PNG, JPEG, GIF or WebP image"}
    empty = await client.post("/sandbox/uploads", content=b"", headers={"Content-Type": "image/png"})
    assert empty.status_code == 400 and empty.json() == {"error": "empty upload"}
    no_file = await client.post("/sandbox/uploads", files={"field": (None, "value")})
    assert no_file.status_code == 400 and no_file.json() == {"error": "multipart body has no file part"}


async def test_size_cap_gives_413(small: tuple[Sandbox, httpx.AsyncClient]) -> None:
    sandbox, client = small
    too_big = b"\x89PNG\r\n\x1a\n" + b"\x00" * 1000
    response = await client.post("/sandbox/uploads", content=too_big, headers={"Content-Type": "image/png"})
    assert response.status_code == 413 and response.json() == {"error": "upload larger than 1000 bytes"}

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the stream is counted
        for _ in range(5):
            yield b"\x89PNG\r\n\x1a\n" + b"\x00" * 300

    streamed = await client.post("/sandbox/uploads", content=chunks(), headers={"Content-Type": "image/png"})
    assert streamed.status_code == 413
    assert sandbox.uploads.files == {}


def test_default_cap_is_20_mb() -> None:
    assert SandboxConfig().upload_max_bytes == 20 * 1024 * 1024
    with pytest.raises(ValueError, match="upload_max_bytes"):
        SandboxConfig(upload_max_bytes=0)


async def test_unknown_file_is_404(client: httpx.AsyncClient) -> None:
    assert (await client.get("/sandbox/files/0123456789abcdef0123456789abcdef.png")).status_code == 404


async def test_uploaded_url_is_accepted_by_a_url_only_provider(client: httpx.AsyncClient) -> None:
    url = (await client.post("/sandbox/uploads", content=_image("PNG"))).json()["url"]
    body = {"prompt": "animate it", "image_url": url}
    response = await client.post(pixazo_route("image-to-video"), json=body, headers=PIXAZO_KEY)
    assert response.status_code == 202
