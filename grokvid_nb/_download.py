"""Saving a result video: bounded in time and size, under a safe name, written atomically.

`download_target` picks the file (a provider's task id never chooses where it lands), and
`fetch_video` streams the URL into it with an overall deadline (`GROKVID_DOWNLOAD_TIMEOUT_S`)
and a size cap (`GROKVID_MAX_DOWNLOAD_BYTES`), checks that it is a video, and renames it into
place only when complete. No credentials are sent: result URLs live on CDN hosts.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from ._bounded_http import BoundedResponse, download_timeout_s, max_download_bytes
from ._exceptions import DownloadError, TransportError
from ._files import AtomicWriter, check_target, child_path, safe_name

__all__ = ["default_name", "download_target", "fetch_video", "looks_like_video"]


def default_name(provider: str, task_id: str | None, job_id: str) -> str:
    """`<provider>-<task id>.mp4`, made safe whatever the provider returned as its id."""
    return safe_name(task_id or job_id, prefix=safe_name(provider) + "-", suffix=".mp4")


def download_target(dest: str | Path | None, folder: Path, name: str) -> Path:
    """Where a download goes: `dest` when it names a file, else `name` inside `dest` (a
    directory, or a path ending in a separator) or inside `folder`. A file `dest` must be absent
    or a regular file (`UnsafePathError` otherwise, before anything is fetched)."""
    target = Path(dest) if dest is not None else folder
    if dest is None or target.is_dir() or str(dest).endswith(os.sep):
        target.mkdir(parents=True, exist_ok=True)
        return check_target(child_path(target, name))
    return check_target(target)


def looks_like_video(head: bytes, content_type: str) -> bool:
    """An MP4/MOV or WebM/Matroska signature, or a video/* type with some bytes."""
    if head[4:8] == b"ftyp" or head[:4] == b"\x1aE\xdf\xa3":
        return True
    return content_type.split(";")[0].strip().lower().startswith("video/") and len(head) >= 8


async def fetch_video(http: httpx.AsyncClient, url: str, target: Path, *,
                      deadline: float | None = None, max_bytes: int | None = None) -> int:
    """Stream `url` into `target` atomically; returns the size in bytes.

    `deadline` is a `time.monotonic()` instant (default: now + `GROKVID_DOWNLOAD_TIMEOUT_S`),
    `max_bytes` the decoded size cap (default `GROKVID_MAX_DOWNLOAD_BYTES`). Raises
    `DownloadError` for an HTTP error, a body that is not a video or a redirect loop,
    `DeadlineExceededError`, `ReplyTooLargeError` or `UnsafePathError`; in every case no file
    is left behind.
    """
    if deadline is None:
        deadline = time.monotonic() + download_timeout_s()
    cap = max_download_bytes() if max_bytes is None else max_bytes
    host = urlsplit(url).hostname or "the result host"
    request = http.build_request("GET", url)  # the client's defaults carry no key
    try:
        async with BoundedResponse(http, request, deadline=deadline, max_bytes=cap, source=host,
                                   follow_redirects=True) as body:
            status = body.response.status_code
            if status >= 400:
                raise DownloadError(
                    f"download of {url} failed with HTTP {status}"
                    + (" (result URLs expire: download promptly)" if status in (403, 404, 410) else ""),
                    url=url, status_code=status)
            content_type = body.response.headers.get("content-type", "")
            with AtomicWriter(target) as out:
                head = b""
                async for piece in body.chunks():
                    if len(head) < 12:
                        head += piece[: 12 - len(head)]
                    out.write(piece)
                if not looks_like_video(head, content_type):
                    raise DownloadError(f"download of {url} is not a video (content-type {content_type!r})",
                                        url=url, status_code=status)
    except httpx.TransportError as exc:  # no usable reply, unlike an HTTP error
        raise TransportError(f"download of {url} failed: {type(exc).__name__}: {exc}") from exc
    except httpx.TooManyRedirects:  # a loop, or a longer chain than httpx follows
        raise DownloadError(f"download of {url} failed: more than {http.max_redirects} redirects "
                            "(a redirect loop?); nothing was written", url=url) from None
    return out.size
