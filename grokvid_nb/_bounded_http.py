"""HTTP bodies read under a whole-operation deadline and a size cap, decompression guarded.

Why: httpx's read timeout restarts with every chunk, so a server that drips one byte a second
holds a request open forever, and `response.read()` inflates a gzip body whole, so a 1 MB
gzip reply can take gigabytes of memory. Here:

- the deadline is an absolute `time.monotonic()` instant that covers connecting, sending, the
  headers and the whole body, however slowly the bytes arrive (`asyncio.timeout_at` around
  the lot; in the sync variant a watchdog shuts the socket down at the deadline);
- the body is decoded here, incrementally, never more than 64 KiB of output at a time, and the
  read stops as soon as the decoded size or the raw size passes the cap (a declared
  Content-Length over the cap is refused before any body byte is read);
- only `identity`, `gzip` and `deflate` are accepted (`Accept-Encoding: gzip, deflate` is sent).

Errors: `DeadlineExceededError` (a `TransportError` and a `TimeoutError`; `maybe_sent` is
False only when the request provably never left) and `ReplyTooLargeError` (a
`ProviderResponseError`). httpx's own errors (refused, reset, ...) pass through unchanged.

Settings, read from the environment at each call:

- `GROKVID_MAX_REPLY_BYTES`: cap on one API reply, decoded (default 1 MiB);
- `GROKVID_MAX_DOWNLOAD_BYTES`: cap on one video download, decoded (default 500 MiB);
- `GROKVID_DOWNLOAD_TIMEOUT_S`: overall time allowed for one download (default 900 s).
"""

from __future__ import annotations

import asyncio
import math
import os
import socket
import threading
import time
import zlib
from collections.abc import AsyncGenerator, Iterator
from contextlib import aclosing
from types import TracebackType
from typing import Any

import httpx

from ._exceptions import (
    ConfigurationError,
    DeadlineExceededError,
    ProviderResponseError,
    ReplyTooLargeError,
)

__all__ = [
    "ACCEPT_ENCODING",
    "DEFAULT_MAX_REPLY_BYTES",
    "DEFAULT_MAX_DOWNLOAD_BYTES",
    "DEFAULT_DOWNLOAD_TIMEOUT_S",
    "FRAMED",
    "max_reply_bytes",
    "max_download_bytes",
    "download_timeout_s",
    "BoundedResponse",
    "read_reply",
    "BoundedResponseSync",
    "read_reply_sync",
]

DEFAULT_MAX_REPLY_BYTES = 1 << 20
DEFAULT_MAX_DOWNLOAD_BYTES = 500 << 20
DEFAULT_DOWNLOAD_TIMEOUT_S = 900.0
ACCEPT_ENCODING = "gzip, deflate"
#: response extension set by a transport whose HTTP/1.1 parser frames the body (ours, see
#: `_aiohttp_transport`; httpcore's responses say so with `network_stream`)
FRAMED = "grokvid.framed"
#: the most decoded bytes produced from one step of the decompressor
PIECE = 64 * 1024


# ---- settings ---------------------------------------------------------------------------------
def _setting(name: str, default: float, *, integer: bool) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(int(raw.replace("_", ""))) if integer else float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        kind = "a whole number of bytes" if integer else "a number of seconds"
        raise ConfigurationError(f"{name}={raw!r} is not allowed; {kind} > 0 (unset it for the default)")
    return value


def max_reply_bytes() -> int:
    """The cap on one decoded API reply: `GROKVID_MAX_REPLY_BYTES`, default 1 MiB."""
    return int(_setting("GROKVID_MAX_REPLY_BYTES", DEFAULT_MAX_REPLY_BYTES, integer=True))


def max_download_bytes() -> int:
    """The cap on one decoded video download: `GROKVID_MAX_DOWNLOAD_BYTES`, default 500 MiB."""
    return int(_setting("GROKVID_MAX_DOWNLOAD_BYTES", DEFAULT_MAX_DOWNLOAD_BYTES, integer=True))


def download_timeout_s() -> float:
    """The overall time allowed for one download: `GROKVID_DOWNLOAD_TIMEOUT_S`, default 900 s."""
    return _setting("GROKVID_DOWNLOAD_TIMEOUT_S", DEFAULT_DOWNLOAD_TIMEOUT_S, integer=False)


# ---- decoding -----------------------------------------------------------------------------------
class _Stage:
    """One zlib stage (gzip or deflate) that never emits more than PIECE bytes per step."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self.raw_fallback = encoding == "deflate"  # "deflate" is zlib-wrapped, or raw in the wild
        self.zobj = zlib.decompressobj(zlib.MAX_WBITS | 32)  # gzip or zlib header, auto-detected

    def feed(self, data: bytes) -> Iterator[bytes]:
        while data and not self.zobj.eof:
            try:
                out = self.zobj.decompress(data, PIECE)
            except zlib.error as exc:
                if self.raw_fallback:
                    self.raw_fallback = False
                    self.zobj = zlib.decompressobj(-zlib.MAX_WBITS)
                    continue
                raise ValueError(f"bad {self.encoding} data: {exc}") from None
            self.raw_fallback = False
            data = self.zobj.unconsumed_tail
            if out:
                yield out
        # bytes after the end of the compressed stream are ignored, as browsers do

    def finish(self) -> Iterator[bytes]:
        if not self.zobj.eof:
            raise ValueError(f"the {self.encoding} body ended before its end marker")
        tail = self.zobj.flush()
        if tail:
            yield tail


class _Decoder:
    """Decodes a Content-Encoding chain step by step with bounded output."""

    def __init__(self, header: str) -> None:
        names = [n.strip().lower() for n in header.split(",") if n.strip()]
        self.stages: list[_Stage] = []
        for name in reversed(names):  # listed in the order they were applied
            if name in ("identity", ""):
                continue
            if name not in ("gzip", "x-gzip", "deflate"):
                raise ValueError(f"unsupported content-encoding {header!r} "
                                 f"(only {ACCEPT_ENCODING} or identity are accepted)")
            self.stages.append(_Stage("gzip" if name == "x-gzip" else name))

    def feed(self, data: bytes, level: int = 0) -> Iterator[bytes]:
        if level == len(self.stages):
            if data:
                yield data
            return
        for piece in self.stages[level].feed(data):
            yield from self.feed(piece, level + 1)

    def finish(self, level: int = 0) -> Iterator[bytes]:
        if level == len(self.stages):
            return
        for piece in self.stages[level].finish():
            yield from self.feed(piece, level + 1)
        yield from self.finish(level + 1)


class _Budget:
    """Counts raw and decoded bytes against the cap; shared by the async and sync readers."""

    def __init__(self, response: httpx.Response, *, max_bytes: int, source: str) -> None:
        self.response, self.max_bytes, self.source = response, max_bytes, source
        self.size = 0
        declared = response.headers.get("content-length", "")
        if declared.strip().isdigit() and int(declared) > max_bytes:
            self.too_large(f"it declares Content-Length {int(declared)}")
        try:
            self.decoder = _Decoder(response.headers.get("content-encoding", ""))
        except ValueError as exc:
            raise ProviderResponseError(source, str(exc), status_code=response.status_code) from None

    def too_large(self, detail: str) -> None:
        raise ReplyTooLargeError(
            self.source, f"reply larger than the cap of {self.max_bytes} bytes ({detail}); it was "
            "not read further. Raise GROKVID_MAX_REPLY_BYTES / GROKVID_MAX_DOWNLOAD_BYTES if it "
            "is legitimate", status_code=self.response.status_code, limit=self.max_bytes)

    def _checked(self, pieces: Iterator[bytes]) -> Iterator[bytes]:
        try:
            for piece in pieces:
                self.size += len(piece)
                if self.size > self.max_bytes:
                    self.too_large(f"more than {self.max_bytes} bytes after decoding "
                                   f"{self.response.headers.get('content-encoding') or 'nothing'}")
                yield piece
        except ValueError as exc:
            raise ProviderResponseError(self.source, f"could not decode the body: {exc}",
                                        status_code=self.response.status_code) from None

    def feed(self, raw: bytes) -> Iterator[bytes]:
        if self.response.num_bytes_downloaded > self.max_bytes:
            self.too_large(f"more than {self.max_bytes} bytes on the wire")
        return self._checked(self.decoder.feed(raw))

    def finish(self) -> Iterator[bytes]:
        return self._checked(self.decoder.finish())

    def preloaded(self) -> Iterator[bytes] | None:
        """The body of a response an in-process transport built already read (decoded), if so."""
        try:
            content = self.response.content
        except httpx.ResponseNotRead:
            return None
        return self._checked(iter([content[i:i + PIECE] for i in range(0, len(content), PIECE)]))


def _complete(head: httpx.Response, content: bytes) -> httpx.Response:
    """A fully read `httpx.Response` holding the decoded body (no Content-Encoding left)."""
    headers = [(k, v) for k, v in head.headers.multi_items()
               if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")]
    extensions: dict[str, Any] = {k: head.extensions[k] for k in ("http_version", "reason_phrase") if k in head.extensions}
    return httpx.Response(head.status_code, headers=headers, content=content, request=head.request,
                          extensions=extensions)


class _SendTracker:
    """Follows httpcore's trace events to know whether a request may have left this machine."""

    def __init__(self) -> None:
        self.connecting = False
        self.sending = False
        self.sockets: list[socket.socket] = []

    def event(self, name: str, info: dict[str, Any]) -> None:
        if name.startswith("connection.") and name.endswith(".started"):
            self.connecting = True
        elif "send_request_headers" in name:
            self.sending = True
        if name == "connection.connect_tcp.complete":
            stream = info.get("return_value")
            sock = stream.get_extra_info("socket") if stream is not None else None
            if isinstance(sock, socket.socket):
                self.sockets.append(sock)

    @property
    def maybe_sent(self) -> bool:
        # without trace events (in-process transports) nobody can tell: assume it left
        return self.sending or not self.connecting


def _remaining(deadline: float | None) -> float | None:
    return None if deadline is None else deadline - time.monotonic()


def _deadline_error(source: str, budget_s: float | None, tracker: _SendTracker) -> DeadlineExceededError:
    total = f" of {budget_s:.3g} s" if budget_s is not None else ""
    return DeadlineExceededError(
        f"no complete reply from {source} within the deadline{total}: the request and its body "
        "did not finish in time (a slow or stalled server)", maybe_sent=tracker.maybe_sent)


# ---- async ---------------------------------------------------------------------------------------
class BoundedResponse:
    """`async with BoundedResponse(http, request, deadline=..., max_bytes=..., source=...) as r:`
    then `r.response` (status and headers) and `async for piece in r.chunks()` (decoded bytes).

    Everything inside the block, the caller's own work between pieces included, is bound by the
    deadline (`time.monotonic()` instant, None for none); on expiry `DeadlineExceededError`.
    """

    def __init__(self, http: httpx.AsyncClient, request: httpx.Request, *, deadline: float | None,
                 max_bytes: int, source: str, follow_redirects: bool = False) -> None:
        self.http, self.request = http, request
        self.deadline, self.max_bytes, self.source = deadline, max_bytes, source
        self.follow_redirects = follow_redirects
        self.tracker = _SendTracker()
        self._timeout: asyncio.Timeout | None = None
        self._response: httpx.Response | None = None
        self._budget: _Budget | None = None
        self._budget_s = _remaining(deadline)

    @property
    def response(self) -> httpx.Response:
        """The response whose headers have arrived (its body is read with `chunks()`)."""
        if self._response is None:
            raise RuntimeError("BoundedResponse.response outside its async with-block")
        return self._response

    @property
    def size(self) -> int:
        """Decoded bytes read so far."""
        return self._budget.size if self._budget else 0

    async def __aenter__(self) -> "BoundedResponse":
        remaining = _remaining(self.deadline)
        if remaining is not None and remaining <= 0:
            raise DeadlineExceededError(f"the deadline for {self.source} had passed before the "
                                        "request was sent; nothing was sent", maybe_sent=False)
        if self.deadline is not None:
            loop = asyncio.get_running_loop()
            self._timeout = asyncio.timeout_at(loop.time() + remaining)  # type: ignore[operator]
            await self._timeout.__aenter__()
        tracker = self.tracker
        chained = self.request.extensions.get("trace")

        async def trace(name: str, info: dict[str, Any]) -> None:
            tracker.event(name, info)
            if chained is not None:
                await chained(name, info)

        self.request.extensions = {**self.request.extensions, "trace": trace}
        headers = self.request.headers
        if "accept-encoding" not in headers:  # not setdefault: its KeyError path costs more
            headers["Accept-Encoding"] = ACCEPT_ENCODING
        try:
            self._response = await self.http.send(self.request, stream=True,
                                                  follow_redirects=self.follow_redirects)
            self._budget = _Budget(self._response, max_bytes=self.max_bytes, source=self.source)
        except BaseException as exc:
            await self.__aexit__(type(exc), exc, exc.__traceback__)
            raise
        return self

    async def read_declared(self) -> httpx.Response | None:
        """The response read whole, if it came off a connection whose HTTP/1.1 parser framed it
        (httpcore's `network_stream` extension, or our transport's `FRAMED`) with a plain body (no Content-Encoding, no Transfer-Encoding)
        that declares a Content-Length within the cap; else None (read it with `chunks()`).
        HTTP/1.1 framing (h11, llhttp) then stops the read at the declared length, so the cap holds
        without decoding piece by piece, and the response needs no rebuilding."""
        response = self.response
        headers = response.headers
        declared = headers.get("content-length")
        if (declared is None or not declared.isdigit() or int(declared) > self.max_bytes
                or "content-encoding" in headers or "transfer-encoding" in headers
                or not (FRAMED in response.extensions or "network_stream" in response.extensions)):
            return None
        content = await response.aread()
        if len(content) > self.max_bytes:  # never with h11's framing; a belt for the cap
            assert self._budget is not None
            self._budget.too_large(f"{len(content)} bytes read")
        return response

    async def chunks(self) -> AsyncGenerator[bytes, None]:
        """The decoded body, in pieces of at most 64 KiB, stopped at the cap."""
        budget = self._budget
        if budget is None:
            raise RuntimeError("BoundedResponse.chunks() outside its async with-block")
        preloaded = budget.preloaded()
        if preloaded is not None:
            for piece in preloaded:
                yield piece
            return
        async for raw in self.response.aiter_raw():
            for piece in budget.feed(raw):
                yield piece
        for piece in budget.finish():
            yield piece

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        trace: TracebackType | None) -> None:
        response, self._response = self._response, None
        try:
            if response is not None:
                await response.aclose()
        finally:
            timeout, self._timeout = self._timeout, None
            if timeout is not None:
                try:
                    await timeout.__aexit__(kind, error, trace)
                except TimeoutError:
                    raise _deadline_error(self.source, self._budget_s, self.tracker) from None


async def read_reply(http: httpx.AsyncClient, request: httpx.Request, *, deadline: float | None,
                     max_bytes: int | None = None, source: str) -> httpx.Response:
    """Send `request` and return the complete, decoded response, within `deadline` (a
    `time.monotonic()` instant) and `max_bytes` (default `GROKVID_MAX_REPLY_BYTES`).

    The returned response is fully read (`.json()`, `.text` work) and has no Content-Encoding.
    Redirects are not followed. `source` names the other end in errors (a provider name).
    """
    cap = max_reply_bytes() if max_bytes is None else max_bytes
    async with BoundedResponse(http, request, deadline=deadline, max_bytes=cap, source=source) as body:
        whole = await body.read_declared()  # the usual small JSON reply: no piecewise decoding
        if whole is None:
            pieces: list[bytes] = []
            async with aclosing(body.chunks()) as chunks:
                async for piece in chunks:
                    pieces.append(piece)
        head = body.response
    _unbind(head)
    return whole if whole is not None else _complete(head, b"".join(pieces))


def _unbind(response: httpx.Response) -> None:
    """Drop the reference cycle httpx leaves on a closed response (its stream, a
    `BoundAsyncStream`, points back at the response): the response, its request and headers
    are then freed as soon as the caller lets go, not at the next cyclic garbage collection.
    With hundreds of jobs polling, those cycles (about 30 objects a request) made most of the
    collector's work. A read response keeps its body (`content`) and serves it as before, as
    httpx itself does for a request it has read."""
    try:
        content = response.content
    except httpx.ResponseNotRead:  # read piece by piece: a rebuilt response carries the body
        content = b""
    response.stream = httpx.ByteStream(content)


# ---- sync ----------------------------------------------------------------------------------------
class _Watchdog:
    """Shuts the request's sockets down at the deadline, which wakes any blocked read."""

    def __init__(self, tracker: _SendTracker, delay: float) -> None:
        self.tracker = tracker
        self.fired = False
        self._lock = threading.Lock()
        self._extra: list[socket.socket] = []
        self._timer = threading.Timer(max(0.0, delay), self._fire)
        self._timer.daemon = True
        self._timer.start()

    def watch(self, sock: socket.socket | None) -> None:
        if isinstance(sock, socket.socket):
            with self._lock:
                self._extra.append(sock)
                fired = self.fired
            if fired:
                self._shutdown(sock)

    @staticmethod
    def _shutdown(sock: socket.socket) -> None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            sockets = [*self.tracker.sockets, *self._extra]
        for sock in sockets:
            self._shutdown(sock)

    def cancel(self) -> None:
        self._timer.cancel()


def _op_timeouts(http: httpx.Client, remaining: float | None) -> dict[str, float | None]:
    limits = http.timeout.as_dict()
    if remaining is None:
        return limits
    return {k: remaining if v is None else min(v, remaining) for k, v in limits.items()}


class BoundedResponseSync:
    """The blocking twin of `BoundedResponse`, for an `httpx.Client`.

    Each network operation's timeout is capped by the time left, and a watchdog thread shuts the
    socket down at the deadline, so a drip-fed body or header block cannot outlive it. The
    watchdog finds the socket when the connection is opened for this request or once headers
    arrive: use a client without keep-alive (`max_keepalive_connections=0`) to cover a drip
    in the headers of a reused connection too.
    """

    def __init__(self, http: httpx.Client, request: httpx.Request, *, deadline: float | None,
                 max_bytes: int, source: str, follow_redirects: bool = False) -> None:
        self.http, self.request = http, request
        self.deadline, self.max_bytes, self.source = deadline, max_bytes, source
        self.follow_redirects = follow_redirects
        self.tracker = _SendTracker()
        self._watchdog: _Watchdog | None = None
        self._response: httpx.Response | None = None
        self._budget: _Budget | None = None
        self._budget_s = _remaining(deadline)

    @property
    def response(self) -> httpx.Response:
        """The response whose headers have arrived."""
        if self._response is None:
            raise RuntimeError("BoundedResponseSync.response outside its with-block")
        return self._response

    @property
    def size(self) -> int:
        """Decoded bytes read so far."""
        return self._budget.size if self._budget else 0

    def _expired(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline

    def _check(self) -> None:
        if self._expired():
            raise _deadline_error(self.source, self._budget_s, self.tracker)

    def __enter__(self) -> "BoundedResponseSync":
        remaining = _remaining(self.deadline)
        if remaining is not None and remaining <= 0:
            raise DeadlineExceededError(f"the deadline for {self.source} had passed before the "
                                        "request was sent; nothing was sent", maybe_sent=False)
        tracker = self.tracker
        chained = self.request.extensions.get("trace")

        def trace(name: str, info: dict[str, Any]) -> None:
            tracker.event(name, info)
            if chained is not None:
                chained(name, info)

        self.request.extensions = {**self.request.extensions, "trace": trace,
                                   "timeout": _op_timeouts(self.http, remaining)}
        headers = self.request.headers
        if "accept-encoding" not in headers:  # not setdefault: its KeyError path costs more
            headers["Accept-Encoding"] = ACCEPT_ENCODING
        if remaining is not None:
            self._watchdog = _Watchdog(tracker, remaining)
        try:
            self._response = self.http.send(self.request, stream=True,
                                            follow_redirects=self.follow_redirects)
            if self._watchdog is not None:
                stream = self._response.extensions.get("network_stream")
                self._watchdog.watch(stream.get_extra_info("socket") if stream is not None else None)
            self._check()
            self._budget = _Budget(self._response, max_bytes=self.max_bytes, source=self.source)
        except BaseException as exc:
            self.__exit__(type(exc), exc, exc.__traceback__)
            raise
        return self

    def chunks(self) -> Iterator[bytes]:
        """The decoded body, in pieces of at most 64 KiB, stopped at the cap or the deadline."""
        budget = self._budget
        if budget is None:
            raise RuntimeError("BoundedResponseSync.chunks() outside its with-block")
        preloaded = budget.preloaded()
        if preloaded is not None:
            yield from preloaded
            return
        for raw in self.response.iter_raw():
            self._check()
            yield from budget.feed(raw)
        self._check()
        yield from budget.finish()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        response, self._response = self._response, None
        watchdog, self._watchdog = self._watchdog, None
        try:
            if response is not None:
                response.close()
        finally:
            if watchdog is not None:
                watchdog.cancel()
        expired = (watchdog is not None and watchdog.fired) or self._expired()
        if expired and isinstance(error, (httpx.TransportError, OSError)):
            # the watchdog's shutdown (or a capped timeout) ended the read: that is the deadline
            raise _deadline_error(self.source, self._budget_s, self.tracker) from None


def read_reply_sync(http: httpx.Client, request: httpx.Request, *, deadline: float | None,
                    max_bytes: int | None = None, source: str) -> httpx.Response:
    """`read_reply` for a blocking `httpx.Client`."""
    cap = max_reply_bytes() if max_bytes is None else max_bytes
    with BoundedResponseSync(http, request, deadline=deadline, max_bytes=cap, source=source) as body:
        pieces = list(body.chunks())
        head = body.response
    return _complete(head, b"".join(pieces))
