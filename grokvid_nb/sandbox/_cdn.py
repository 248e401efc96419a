"""The sandbox "CDN": ``GET /cdn/{provider}/{task_id}.mp4``, no auth, like a real CDN.

Also ``/cdn/{provider}/{task_id}`` (the same clip for ``url_style="noext"`` tasks) and
``/cdn/{provider}/{task_id}.jpg`` (the clip's first frame, the cover of a ``thumbnail``
task). A clip exists only once its task has finished successfully (404 before); after
its result time to live it answers 403 ``AccessDenied: Request has expired``, as a
signed CDN URL does. Clips are made on first fetch and cached on disk,
keyed by (prompt, duration, aspect ratio), so repeated fetches cost nothing. Range
requests and HEAD work, so a browser ``<video>`` element can seek.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from ._base import Emulator, SandboxState
from ._config import PROVIDERS
from ._core import Task

__all__ = ["CdnEmulator", "ClipCache"]

#: one clip is encoded at a time in a process: encoding holds the GIL for most of its work, and
#: twenty threads encoding at once (a burst of finished jobs keeping their copies) left a
#: kernel that hosts the in-process sandbox answering a trivial cell in over a second
_ENCODING = threading.Lock()


class ClipCache:
    """Clips on disk, made once per (prompt, duration, aspect ratio)."""

    def __init__(self, directory: Path | None = None) -> None:
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if directory is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="grokvid-sandbox-")
            directory = Path(self._tmp.name)
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self.made = 0
        """How many clips were encoded (cache misses)."""

    def path_for(self, prompt: str, duration: float, aspect_ratio: str) -> Path:
        """Where the clip for these parameters lives (made or not)."""
        key = hashlib.sha256(f"{duration:g}|{aspect_ratio}|{prompt}".encode()).hexdigest()[:32]
        return self.directory / f"{key}.mp4"

    def get(self, prompt: str, duration: float, aspect_ratio: str) -> Path:
        """The clip's path, encoding it first if needed (thread-safe, blocking)."""
        path = self.path_for(prompt, duration, aspect_ratio)
        with self._guard:
            lock = self._locks.setdefault(path.name, threading.Lock())
        with lock:
            if not path.exists():
                from .clips import make_clip  # PyAV loads with the first clip

                with _ENCODING:
                    make_clip(prompt, duration, aspect_ratio, path)
                self.made += 1
        return path

    def get_for(self, task: Task) -> Path:
        """The labelled clip of a task (``sandbox · <provider> · #<sample>``), made once."""
        spec = task.spec
        key = hashlib.sha256(
            f"{task.provider}|{task.sample}|{spec.resolution}|{spec.duration:g}|{spec.aspect_ratio}|{spec.prompt}".encode()
        ).hexdigest()[:32]
        path = self.directory / f"{key}.mp4"
        with self._guard:
            lock = self._locks.setdefault(path.name, threading.Lock())
        with lock:
            if not path.exists():
                from .clips import make_clip

                with _ENCODING:
                    make_clip(spec.prompt, float(spec.duration), spec.aspect_ratio, path,
                              resolution=spec.resolution, provider=task.provider, sample=task.sample)  # fmt: skip
                self.made += 1
        return path

    def cover_for(self, task: Task) -> Path:
        """The JPEG cover (first frame) of a task's clip, made once."""
        clip = self.get_for(task)
        path = clip.with_suffix(".jpg")
        with self._guard:
            lock = self._locks.setdefault(path.name, threading.Lock())
        with lock:
            if not path.exists():
                import av

                with av.open(str(clip)) as container:
                    image = next(container.decode(video=0)).to_image()
                tmp = path.with_suffix(".tmp.jpg")
                image.save(tmp, format="JPEG", quality=80)
                os.replace(tmp, path)
        return path

    def cleanup(self) -> None:
        """Delete the temporary directory, if this cache made one."""
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None


class CdnEmulator(Emulator):
    """Serves finished tasks' clips."""

    name = "cdn"

    def __init__(self, state: SandboxState, clips: ClipCache) -> None:
        super().__init__(state)
        self.clips = clips

    def routes(self) -> list[BaseRoute]:
        """The CDN routes: the clip (with and without ``.mp4``) and its JPEG cover."""
        return [
            Route("/cdn/{provider}/{task_id}.mp4", self.download, methods=["GET", "HEAD"]),
            Route("/cdn/{provider}/{task_id}.jpg", self.cover, methods=["GET", "HEAD"]),
            Route("/cdn/{provider}/{task_id}", self.download, methods=["GET", "HEAD"]),
        ]

    def error(self, status: int, message: str, code: str | None = None) -> Response:
        """CDNs answer errors in plain text."""
        return PlainTextResponse(message, status_code=status)

    def _lookup(self, request: Request) -> tuple[Task | None, Response | None]:
        """The finished task a CDN request names, or the error reply (fault, 404, 403)."""
        provider = request.path_params["provider"]
        if provider not in PROVIDERS:
            return None, self.error(404, "Not Found")
        self.state.stats.downloads[provider] += 1
        fault = self.state.faults.take(provider, "download")
        if fault is not None:
            return None, self.fault_response(request, fault, provider)
        task = self.state.find(provider, request.path_params["task_id"])
        now = self.state.now()
        if task is None or not task.succeeded(now):
            return None, self.error(404, "Not Found")
        if self.state.result_expired(task, now):
            return None, self.error(403, "AccessDenied: Request has expired")
        return task, None

    async def download(self, request: Request) -> Response:
        """``GET /cdn/{provider}/{task_id}.mp4`` (or without the extension)."""
        task, failed = self._lookup(request)
        if task is None:
            return failed or self.error(404, "Not Found")
        path = await run_in_threadpool(self.clips.get_for, task)
        return FileResponse(path, media_type="video/mp4", headers={"Cache-Control": "public, max-age=86400"})

    async def cover(self, request: Request) -> Response:
        """``GET /cdn/{provider}/{task_id}.jpg``: the first frame as a JPEG."""
        task, failed = self._lookup(request)
        if task is None:
            return failed or self.error(404, "Not Found")
        path = await run_in_threadpool(self.clips.cover_for, task)
        return FileResponse(path, media_type="image/jpeg", headers={"Cache-Control": "public, max-age=86400"})
