"""The engine's wire: an httpx transport that sends over aiohttp.

Why: the engine keeps httpx's API everywhere (requests built by the sans-IO adapters,
`httpx.Response`, `MockTransport` and the in-process sandbox in tests, proxies from the
environment, which httpx mounts on its own transports), but its default transport (httpcore on
anyio) costs about 1.3 ms of client CPU per status request on a 2-core machine, ten times the
socket work, and most of a thousand-job fan-out's CPU. aiohttp, asyncio-native with a C HTTP
parser, does the same requests for about 0.35 ms (`benchmarks/http_cpu.py`).

Rules kept here, because the engine's money and deadline rules depend on them:

- Errors map to httpx's by *when* they happened (`httpx_error`, a pure table): an error before
  a connection existed (refused, DNS, TLS, connect timeout) is `ConnectError`/`ConnectTimeout`,
  which `_submit_rules.NOT_SENT` lets a submit retry; anything later (reset, disconnect, a
  broken or unreadable reply, read timeout) is a read or protocol error, after which a submit
  is never resent. aiohttp itself retries a dropped keep-alive connection only for idempotent
  methods, so a POST is never sent twice by it. The mapped error does not chain aiohttp's,
  whose `request_info` would carry the request's headers, the API key among them.
- For a request that may create something (not GET, HEAD, OPTIONS), the `trace` extension
  hears httpcore's event names, so `_bounded_http` can tell whether it may have left when its
  deadline expired: `connection.acquire.started` before a connection is sought,
  `http11.send_request_headers.started` once one is ready. Other requests report nothing, which
  the bounded reader reads as "may have left".
- Responses carry the `FRAMED` extension: the body is framed by the HTTP/1.1 parser (it stops at
  a declared Content-Length), which is what lets `_bounded_http` read a small reply whole.
- The request goes out as httpx built it (URL as encoded, headers, body; aiohttp adds only
  Host and Content-Length). No cookies are kept (httpx's client owns cookies), no redirects
  are followed, no body is decompressed (the bounded reader decodes under its cap).
"""

from __future__ import annotations

import asyncio
import atexit
import functools
import ssl
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from types import SimpleNamespace
from typing import Any

import aiohttp
import httpx
from multidict import CIMultiDict
from yarl import URL

from ._bounded_http import FRAMED

__all__ = ["MESSAGE_CHARS", "PRELOAD_BYTES", "AiohttpTransport", "httpx_error"]

_CHUNK = 64 * 1024
#: headers aiohttp would add on its own: only what httpx built is sent
_NOT_OURS = ("User-Agent", "Accept", "Accept-Encoding", "Content-Type")
#: a body declared at most this long is read with the headers (one step, no stream)
PRELOAD_BYTES = 64 * 1024
#: methods whose fate after an expired deadline does not matter: no trace of the connection
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: the longest message of a mapped error
MESSAGE_CHARS = 300

Trace = Callable[[str, dict[str, Any]], Awaitable[None]]

# (aiohttp error, httpx error): the first match wins, so subclasses come before their bases
_ERRORS: tuple[tuple[type[BaseException], type[httpx.TransportError]], ...] = (
    (aiohttp.ConnectionTimeoutError, httpx.ConnectTimeout),  # waiting for or opening a connection
    (aiohttp.ClientConnectorError, httpx.ConnectError),  # refused, DNS, TLS, proxy: nothing sent
    (aiohttp.NonHttpUrlClientError, httpx.UnsupportedProtocol),
    (aiohttp.InvalidURL, httpx.UnsupportedProtocol),
    (aiohttp.SocketTimeoutError, httpx.ReadTimeout),
    (aiohttp.ServerTimeoutError, httpx.ReadTimeout),
    (aiohttp.ServerDisconnectedError, httpx.RemoteProtocolError),
    (aiohttp.ClientPayloadError, httpx.RemoteProtocolError),  # body cut short or badly framed
    (aiohttp.ClientResponseError, httpx.RemoteProtocolError),  # a reply the parser refused
    (aiohttp.ClientOSError, httpx.ReadError),  # reset or broken pipe on a live connection
    (aiohttp.ClientError, httpx.TransportError),  # anything else: assume the request left
)


def httpx_error(exc: BaseException) -> httpx.TransportError | None:
    """The httpx error for aiohttp's `exc` (None if `exc` is not aiohttp's): a connect-stage
    error only where nothing can have been sent. The message is cut to `MESSAGE_CHARS`
    (aiohttp's parser errors quote the bytes it refused, which a hostile server controls)."""
    for source, target in _ERRORS:
        if isinstance(exc, source):
            text = f"{type(exc).__name__}: {exc}"
            if len(text) > MESSAGE_CHARS:
                text = text[:MESSAGE_CHARS - 1] + "…"
            return target(text)
    return None


def _traced_session_config() -> aiohttp.TraceConfig:
    config = aiohttp.TraceConfig(trace_config_ctx_factory=SimpleNamespace)

    async def connection_ready(session: aiohttp.ClientSession, context: SimpleNamespace, params: Any) -> None:
        trace: Trace | None = context.trace_request_ctx
        if trace is not None:
            await trace("http11.send_request_headers.started", {})

    config.on_connection_create_end.append(connection_ready)
    config.on_connection_reuseconn.append(connection_ready)
    return config


class _Body(httpx.AsyncByteStream):
    """The raw body of an aiohttp response, as httpx reads it; errors mapped."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response

    async def __aiter__(self) -> AsyncIterator[bytes]:
        error: httpx.TransportError | None = None
        try:
            async for chunk in self._response.content.iter_chunked(_CHUNK):
                yield chunk
        except aiohttp.ClientError as exc:
            error = _mapped(exc)
        if error is not None:
            raise error

    async def aclose(self) -> None:
        # back to the pool when the body was read to its end, else the connection is closed
        self._response.release()


def _mapped(exc: aiohttp.ClientError) -> httpx.TransportError:
    error = httpx_error(exc)
    assert error is not None  # every aiohttp.ClientError has a row
    return error


async def _close(pool: _Pool) -> None:
    # the pool (its sessions too) lives until its connector is closed: a session collected
    # before that would report itself "Unclosed"
    await pool.connector.close()


#: set by an exit hook that runs before `weakref.finalize`'s own (see `_hook_exit`)
_exiting = False
_exit_hooked = False


def _set_exiting() -> None:
    global _exiting
    _exiting = True


def _hook_exit() -> None:
    """Register `_set_exiting` after `weakref.finalize`'s exit hook exists (atexit runs hooks
    last-registered first), so finalizers running at exit know it."""
    global _exit_hooked
    if not _exit_hooked:
        _exit_hooked = True
        atexit.register(_set_exiting)


def _close_unclosed(pool: _Pool, loop: asyncio.AbstractEventLoop) -> None:
    """Close the connections of a transport its owner forgot (garbage collected or still open at
    exit), on their own loop: aiohttp would otherwise report "Unclosed client session" into the
    notebook.

    From another thread the close is only scheduled, except at exit (then a wait of at most 2 s,
    so exit does not cut it off). The garbage collector runs this in whatever thread it happens
    to run in, maybe one holding a lock the loop is itself waiting for (the ledger's SQLite
    write lock, taken on the loop): a wait there stalled both, 2 s per dropped transport, long
    enough to fail a ledger write on the loop and hold every job."""
    if pool.connector.closed or loop.is_closed():
        return
    try:
        running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        loop.create_task(_close(pool))
    elif loop.is_running():  # the engine's loop thread
        try:
            future = asyncio.run_coroutine_threadsafe(_close(pool), loop)
            if _exiting:
                future.result(timeout=2.0)
        except Exception:  # a best-effort close, never an error of its own
            pass


@functools.cache
def _default_ssl_context() -> ssl.SSLContext:
    # loading the CA bundle costs about 50 ms of CPU: once per process, not per client
    return httpx.create_ssl_context()


class _Pool:
    """One connector, and two sessions over it: `traced` reports when a connection is ready
    (for requests that may create something, whose fate after an expired deadline matters),
    `plain` does not (aiohttp's tracing costs a few percent of a status poll's CPU)."""

    def __init__(self, max_connections: int, keepalive_s: float, ssl_context: ssl.SSLContext) -> None:
        self.connector = aiohttp.TCPConnector(limit=max_connections, limit_per_host=0,
                                              keepalive_timeout=keepalive_s, ssl=ssl_context)
        self.plain = self._session([])
        self.traced = self._session([_traced_session_config()])

    def _session(self, traces: list[aiohttp.TraceConfig]) -> aiohttp.ClientSession:
        return aiohttp.ClientSession(
            connector=self.connector, connector_owner=False, cookie_jar=aiohttp.DummyCookieJar(),
            auto_decompress=False, trust_env=False, trace_configs=traces,
            skip_auto_headers=_NOT_OURS, timeout=aiohttp.ClientTimeout(total=None))


class AiohttpTransport(httpx.AsyncBaseTransport):
    """An `httpx.AsyncBaseTransport` over aiohttp (its connection pool created on first use, on
    the loop that uses it): at most `max_connections` connections, kept alive for `keepalive_s`
    seconds when idle. Certificates are checked as httpx checks them. A body that declares at
    most `PRELOAD_BYTES` (a status reply) is read with the headers. A transport dropped or still
    open at exit closes its connections on its loop."""

    def __init__(self, *, max_connections: int, keepalive_s: float = 5.0,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        self.max_connections = max_connections
        self.keepalive_s = keepalive_s
        self._ssl = ssl_context
        self._pool: _Pool | None = None

    def _open(self) -> _Pool:
        pool = _Pool(self.max_connections, self.keepalive_s, self._ssl or _default_ssl_context())
        weakref.finalize(self, _close_unclosed, pool, asyncio.get_running_loop())
        _hook_exit()
        return pool

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send `request` and return its response (a small declared body already read)."""
        pool = self._pool = self._pool or self._open()
        timeouts = request.extensions.get("timeout", {})
        trace: Trace | None = request.extensions.get("trace")
        body = await request.aread()
        session = pool.plain
        if trace is not None and request.method not in _SAFE_METHODS:
            session = pool.traced
            await trace("connection.acquire.started", {})
        error: httpx.TransportError | None = None
        try:
            response = await session.request(
                request.method, URL(str(request.url), encoded=True),
                headers=CIMultiDict(request.headers.multi_items()), data=body or None,
                allow_redirects=False, compress=None, trace_request_ctx=trace,
                timeout=aiohttp.ClientTimeout(
                    total=None, connect=timeouts.get("pool"), sock_connect=timeouts.get("connect"),
                    sock_read=timeouts.get("read")))
            extensions = {"http_version": b"HTTP/1.1",
                          "reason_phrase": (response.reason or "").encode("ascii", "replace"), FRAMED: True}
            headers = list(response.raw_headers)
            if _preload(response):
                content = await response.read()
                return httpx.Response(response.status, headers=headers, content=content, extensions=extensions)
            return httpx.Response(response.status, headers=headers, stream=_Body(response), extensions=extensions)
        except aiohttp.ClientError as exc:
            error = _mapped(exc)
        # raised outside the handler, so aiohttp's error (whose request_info holds the request's
        # headers, the key among them) is neither its cause nor its context
        raise error

    async def aclose(self) -> None:
        """Close every connection."""
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.connector.close()


def _preload(response: aiohttp.ClientResponse) -> bool:
    length = response.content_length
    return (length is not None and length <= PRELOAD_BYTES
            and "Content-Encoding" not in response.headers and "Transfer-Encoding" not in response.headers)
