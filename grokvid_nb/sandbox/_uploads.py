"""The sandbox's own image host, so URL-only providers can take local images (issue 12).

- ``POST /sandbox/uploads``: the image as a raw body (any ``Content-Type``) or as
  ``multipart/form-data`` (the first file part, e.g. field ``file``). The bytes are
  sniffed: PNG, JPEG, GIF and WebP are kept, anything else is 415. More than
  ``SandboxConfig.upload_max_bytes`` (20 MB by default) is 413, an empty body 400.
  Reply 201 ``{"id", "url": "<base>/sandbox/files/<id>.<ext>", "content_type", "bytes"}``.
- ``GET /sandbox/files/<id>.<ext>`` serves the bytes back with their content type (404
  for anything never uploaded). Ids are random and made here; a client's file name is
  never used. Everything lives in memory for the sandbox's lifetime; no auth, as the
  sandbox is local.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import HTTP

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

__all__ = ["DEFAULT_UPLOAD_MAX_BYTES", "Upload", "UploadStore", "sniff_image"]

DEFAULT_UPLOAD_MAX_BYTES = 20 * 1024 * 1024
"""Largest accepted upload (xAI's own image limit is in the same range)."""

_TYPES = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp"}


def sniff_image(data: bytes) -> str | None:
    """The image content type the bytes start like, or ``None``."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


@dataclass(frozen=True)
class Upload:
    """One stored file."""

    file_id: str
    content_type: str
    data: bytes

    @property
    def name(self) -> str:
        """``<id>.<ext>``, the last segment of its URL."""
        return f"{self.file_id}.{_TYPES[self.content_type]}"


class _TooLarge(Exception):
    pass


class UploadStore:
    """In-memory uploads and their two routes."""

    def __init__(self, max_bytes: int = DEFAULT_UPLOAD_MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self.files: dict[str, Upload] = {}
        """Stored uploads by ``<id>.<ext>`` name."""

    def routes(self) -> list[BaseRoute]:
        """``POST /sandbox/uploads`` and ``GET /sandbox/files/{name}``."""
        return [
            Route("/sandbox/uploads", self.upload, methods=["POST"]),
            Route("/sandbox/files/{name}", self.serve, methods=["GET", "HEAD"]),
        ]

    def put(self, data: bytes) -> Upload:
        """Store image bytes (sniffed) and return the upload; ``ValueError`` if not an image."""
        content_type = sniff_image(data)
        if content_type is None:
            raise ValueError("not a PNG, JPEG, GIF or WebP image")
        upload = Upload(secrets.token_hex(16), content_type, data)
        self.files[upload.name] = upload
        return upload

    async def _read(self, request: Request) -> bytes:
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise _TooLarge
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > self.max_bytes:
                raise _TooLarge
            chunks.append(chunk)
        return b"".join(chunks)

    @staticmethod
    def _file_part(content_type: str, body: bytes) -> bytes | None:
        """The first file part of a multipart body (stdlib parser: no extra dependency)."""
        message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body)
        if not message.is_multipart():
            return None
        for part in message.iter_parts():
            if part.get_filename() is not None or part.get_content_maintype() == "image":
                payload = part.get_payload(decode=True)
                return payload if isinstance(payload, bytes) else None
        return None

    async def upload(self, request: Request) -> Response:
        """``POST /sandbox/uploads``."""
        try:
            body = await self._read(request)
        except _TooLarge:
            return JSONResponse({"error": f"upload larger than {self.max_bytes} bytes"}, status_code=413)
        content_type = request.headers.get("content-type", "")
        if content_type.lower().startswith("multipart/form-data"):
            part = self._file_part(content_type, body)
            if part is None:
                return JSONResponse({"error": "multipart body has no file part"}, status_code=400)
            body = part
        if not body:
            return JSONResponse({"error": "empty upload"}, status_code=400)
        try:
            upload = self.put(body)
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, status_code=415)
        url = f"{str(request.base_url).rstrip('/')}/sandbox/files/{upload.name}"
        reply = {"id": upload.file_id, "url": url, "content_type": upload.content_type, "bytes": len(upload.data)}
        return JSONResponse(reply, status_code=201)

    async def serve(self, request: Request) -> Response:
        """``GET /sandbox/files/{name}``."""
        upload = self.files.get(request.path_params["name"])
        if upload is None:
            return PlainTextResponse("Not Found", status_code=404)
        return Response(upload.data, media_type=upload.content_type, headers={"Cache-Control": "public, max-age=86400"})
