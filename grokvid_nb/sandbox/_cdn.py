"""The sandbox "CDN": ``GET /cdn/{provider}/{task_id}.mp4``, no auth, like a real CDN.

A clip exists only once its task has finished successfully (404 before, and after
``result_ttl`` if one is set). Clips are made on first fetch and cached on disk,
keyed by (prompt, duration, aspect ratio), so repeated fetches cost nothing. Range
requests and HEAD work, so a browser ``<video>`` element can seek.
"""

from __future__ import annotations

import hashlib
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
from .clips import make_clip

__all__ = ["CdnEmulator", "ClipCache"]


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
                make_clip(prompt, duration, aspect_ratio, path)
                self.made += 1
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
        """The one CDN route."""
        return [Route("/cdn/{provider}/{task_id}.mp4", self.download, methods=["GET", "HEAD"])]

    def error(self, status: int, message: str, code: str | None = None) -> Response:
        """CDNs answer errors in plain text."""
        return PlainTextResponse(message, status_code=status)

    def _available(self, task: Task | None) -> bool:
        if task is None:
            return False
        now = self.state.now()
        return task.succeeded(now) and not self.state.result_expired(task, now)

    async def download(self, request: Request) -> Response:
        """``GET /cdn/{provider}/{task_id}.mp4``."""
        provider = request.path_params["provider"]
        if provider not in PROVIDERS:
            return self.error(404, "Not Found")
        self.state.stats.downloads[provider] += 1
        fault = self.state.faults.take(provider, "download")
        if fault is not None:
            return self.fault_response(request, fault, provider)
        task = self.state.find(provider, request.path_params["task_id"])
        if not self._available(task):
            return self.error(404, "Not Found")
        assert task is not None
        spec = task.spec
        path = await run_in_threadpool(self.clips.get, spec.prompt, float(spec.duration), spec.aspect_ratio)
        return FileResponse(
            path,
            media_type="video/mp4",
            headers={"Cache-Control": "public, max-age=86400"},
        )
