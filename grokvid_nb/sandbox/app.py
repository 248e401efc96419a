"""The :class:`Sandbox`: one ASGI app emulating all five providers, plus ways to reach it.

- ``sb.app``: the Starlette app (serve it with any ASGI server).
- ``sb.transport()``: an in-process ``httpx.AsyncBaseTransport``.
- ``sb.sync_transport()``: the same for a blocking ``httpx.Client``.
- ``sb.serve(host, port)``: uvicorn in a background thread, yields the base URL.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import Message, Receive, Scope, Send

from ._apiinone import ApiInOneEmulator
from ._apixo import ApixoEmulator
from ._base import CTX_KEY, Emulator, RequestContext, SandboxState
from ._cdn import CdnEmulator, ClipCache
from ._config import PROVIDERS, SandboxConfig
from ._core import Fault, SandboxDrop, SandboxStats, Task
from ._pixazo import PixazoEmulator
from ._server import TransportRegistry, conn_key, serve_in_thread
from ._uploads import UploadStore
from ._xai import XaiEmulator
from ._xingchao import XingchaoEmulator

__all__ = ["Sandbox", "SandboxTransport", "SyncSandboxTransport"]

T = TypeVar("T")

#: How long a dropped connection waits for the rest of its request before closing anyway
#: (a client that never sends its announced body must not hold the server forever).
DROP_READ_TIMEOUT_S = 10.0


class _SandboxStarlette(Starlette):
    """Starlette plus the outermost layer that realises connection drops."""

    def __init__(self, routes: list[BaseRoute], transports: TransportRegistry) -> None:
        super().__init__(routes=routes)
        self._transports = transports

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        ctx = RequestContext()
        scope[CTX_KEY] = ctx

        async def tracked_receive() -> Message:
            message = await receive()
            if message["type"] != "http.request" or not message.get("more_body", False):
                ctx.request_read = True
            return message

        async def guarded_send(message: Any) -> None:
            if not ctx.drop:
                await send(message)

        await super().__call__(scope, tracked_receive, guarded_send)
        if ctx.drop:
            await self._drop(scope, ctx, tracked_receive)

    async def _drop(self, scope: Scope, ctx: RequestContext, receive: Receive) -> None:
        key = conn_key(scope.get("server"), scope.get("client"))
        transport = self._transports.get(key) if key else None
        if transport is None:
            # In-process (or an unknown server): let the transport wrapper translate it.
            raise SandboxDrop("connection dropped by an injected fault")
        # A drop fires before the route reads the body. Closing a socket while request bytes
        # are still unread (or still on their way) makes the kernel answer with RST, which the
        # client sees as "connection reset" instead of "disconnected without a response", and
        # how often depends on scheduling. So read the request to its end first.
        if not ctx.request_read:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(_read_to_end(ctx, receive), DROP_READ_TIMEOUT_S)
        transport.close()
        # Let connection_lost run, so uvicorn sees a disconnect rather than a silent app.
        for _ in range(3):
            await asyncio.sleep(0)


async def _read_to_end(ctx: RequestContext, receive: Receive) -> None:
    """Consume the request's remaining body messages (until ``more_body`` is false)."""
    while not ctx.request_read:
        await receive()


class SandboxTransport(httpx.AsyncBaseTransport):
    """In-process transport to a sandbox app.

    A dropped connection raises ``httpx.RemoteProtocolError``, as from a real server.
    """

    def __init__(self, app: Any) -> None:
        self._inner = httpx.ASGITransport(app=app)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send the request through the ASGI app."""
        try:
            return await self._inner.handle_async_request(request)
        except SandboxDrop:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            ) from None

    async def aclose(self) -> None:
        """Close the inner transport."""
        await self._inner.aclose()


class SyncSandboxTransport(httpx.BaseTransport):
    """Blocking in-process transport: runs the app on a private event-loop thread."""

    def __init__(self, app: Any) -> None:
        self._async = SandboxTransport(app)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="grokvid-sandbox-loop", daemon=True)
        self._thread.start()

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send the request and return a fully read response."""

        async def call() -> httpx.Response:
            body = request.read()
            async_request = httpx.Request(
                request.method, request.url, headers=request.headers, content=body, extensions=request.extensions
            )
            response = await self._async.handle_async_request(async_request)
            content = await response.aread()
            return httpx.Response(
                response.status_code, headers=response.headers, content=content, extensions=response.extensions
            )

        try:
            return self._run(call())
        except httpx.RemoteProtocolError as exc:
            raise httpx.RemoteProtocolError(str(exc), request=request) from None

    def close(self) -> None:
        """Stop the private event loop."""
        if self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)
        if not self._loop.is_running() and not self._loop.is_closed():
            self._loop.close()


class Sandbox:
    """All five providers' video APIs on one ASGI app, with playable clips.

    >>> sb = Sandbox(SandboxConfig(time_scale=0.01, seed=0))
    >>> client = httpx.AsyncClient(transport=sb.transport(), base_url="http://sandbox")

    See the package docstring for endpoints, magic words and faults.
    """

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        self._state = SandboxState(self.config)
        self.clips = ClipCache(self.config.clip_dir)
        self._transports: TransportRegistry = {}
        self.emulators: dict[str, Emulator] = {
            "xai": XaiEmulator(self._state),
            "apixo": ApixoEmulator(self._state),
            "pixazo": PixazoEmulator(self._state),
            "xingchao": XingchaoEmulator(self._state),
            "apiinone": ApiInOneEmulator(self._state),
        }
        routes: list[BaseRoute] = [Route("/", self._index, methods=["GET"])]
        for emulator in self.emulators.values():
            routes.extend(emulator.routes())
        routes.extend(CdnEmulator(self._state, self.clips).routes())
        self.uploads = UploadStore(self.config.upload_max_bytes)
        """Images posted to ``/sandbox/uploads`` (see ``_uploads``)."""
        routes.extend(self.uploads.routes())
        self.app: Starlette = _SandboxStarlette(routes, self._transports)
        """The Starlette ASGI app serving every provider and the CDN."""

    def __repr__(self) -> str:
        """'Sandbox(5 providers, time_scale=0.05, seed=1, 3 tasks)': what a notebook cell
        ending in `gv.use_sandbox(...)` prints (never a memory address)."""
        config = self.config
        seed = "" if config.seed is None else f", seed={config.seed}"
        tasks = len(self._state.stats.tasks)
        return (f"Sandbox({len(self.emulators)} providers: {', '.join(self.emulators)}; "
                f"time_scale={config.time_scale:g}{seed}; {tasks} task{'s' if tasks != 1 else ''} so far)")

    # -- inspection -------------------------------------------------------------------

    @property
    def stats(self) -> SandboxStats:
        """Counters per provider (submits, tasks_created, polls, downloads, ...) and all tasks."""
        return self._state.stats

    def task(self, provider: str, task_id: str) -> Task | None:
        """The task with this id at this provider, if it exists."""
        return self._state.find(provider, task_id)

    def tasks(self, provider: str | None = None) -> list[Task]:
        """Every task created (optionally at one provider), oldest first."""
        return [t for t in self._state.tasks.values() if provider is None or t.provider == provider]

    def charged_usd(self, provider: str | None = None) -> float:
        """What the emulated providers would have billed so far for finished tasks, in USD.

        Each provider's rule: success is billed everywhere; xAI also bills moderation (the
        done reply reports the cost); Pixazo bills ``FAILED`` but not ``ERROR``. Tasks with no
        known price (XingChaoYiQing, Pixazo v1.5) count as 0.
        """
        now = self._state.now()
        total = 0.0
        for task in self.tasks(provider):
            if task.phase(now) == "finished" and self.emulators[task.provider].charged(task):
                total += task.spec.cost_usd or 0.0
        return round(total, 6)

    # -- fault injection ----------------------------------------------------------------

    def inject(self, provider: str, phase: str, fault: str, times: int = 1, *, retry_after: int = 1) -> Fault:
        """Make the next ``times`` matching requests fail with ``fault``.

        ``provider``: a provider name or ``"*"``; ``phase``: ``"submit"``, ``"poll"`` or
        ``"download"``; ``fault``: ``"429"``, ``"429-date"``, ``"500"``, ``"502"``,
        ``"503"``, ``"non_json"``, ``"drop"`` or ``"lost_reply"`` (submit only).
        ``retry_after`` is the delay in seconds advertised by the 429 faults.
        """
        return self._state.faults.add(provider, phase, fault, times, retry_after)

    def pending_faults(self) -> list[Fault]:
        """Injected faults that have not fired yet (or not all their times)."""
        return self._state.faults.pending()

    def clear_faults(self) -> None:
        """Forget every injected fault."""
        self._state.faults.clear()

    # -- ways in --------------------------------------------------------------------------

    def transport(self) -> SandboxTransport:
        """An in-process ``httpx.AsyncBaseTransport`` to this sandbox (any base URL works)."""
        return SandboxTransport(self.app)

    def sync_transport(self) -> SyncSandboxTransport:
        """An in-process ``httpx.BaseTransport`` for blocking clients; close it when done."""
        return SyncSandboxTransport(self.app)

    @contextlib.contextmanager
    def serve(self, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
        """Serve on ``host:port`` with uvicorn in a background thread; yields the base URL.

        ``port=0`` picks a free port. The server listens on ``host`` only.
        """
        with serve_in_thread(self.app, self._transports, host, port) as base_url:
            yield base_url

    def run(self, host: str = "127.0.0.1", port: int = 8765) -> None:
        """Serve in the foreground until interrupted (Ctrl-C), printing the URL."""
        with self.serve(host, port) as base_url:
            print(f"grokvid sandbox serving all five providers at {base_url}  (Ctrl-C to stop)", flush=True)
            with contextlib.suppress(KeyboardInterrupt):
                while True:
                    time.sleep(3600)

    def close(self) -> None:
        """Delete cached clips (when they live in a temporary directory)."""
        self.clips.cleanup()

    async def _index(self, request: Request) -> Response:
        """A small description of what is served, for humans poking at the server."""
        base = str(request.base_url).rstrip("/")
        return JSONResponse(
            {
                "service": "grokvid_nb sandbox",
                "providers": list(PROVIDERS),
                "base_url": base,
                "time_scale": self.config.time_scale,
                "cdn": f"{base}/cdn/{{provider}}/{{task_id}}.mp4",
                "uploads": f"{base}/sandbox/uploads",
            }
        )
