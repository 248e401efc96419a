"""The engine's aiohttp wire: errors keep the money rules (a table), and over a real socket it
sends exactly what httpx built, never resends a POST, keeps no cookies and tells the bounded
reader whether a request may have left."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import httpx
import pytest

from grokvid_nb._aiohttp_transport import MESSAGE_CHARS, PRELOAD_BYTES, AiohttpTransport, httpx_error
from grokvid_nb._bounded_http import read_reply
from grokvid_nb._submit_rules import NOT_SENT, SubmitAction, after_failed_submit

from .conftest import HostileServer, hang_up, reply

pytestmark = pytest.mark.timeout(20)

_KEY = SimpleNamespace(ssl=None, host="api.example", port=443)

# (aiohttp error, httpx error, may the request have left?)
ERRORS: list[tuple[BaseException, type[httpx.TransportError], bool]] = [
    (aiohttp.ConnectionTimeoutError("connect"), httpx.ConnectTimeout, False),
    (aiohttp.ClientConnectorError(_KEY, OSError(111, "refused")), httpx.ConnectError, False),  # type: ignore[arg-type]
    (aiohttp.ClientConnectorDNSError(_KEY, OSError(-2, "no such host")), httpx.ConnectError, False),  # type: ignore[arg-type]
    (aiohttp.NonHttpUrlClientError("ftp://x"), httpx.UnsupportedProtocol, False),
    (aiohttp.InvalidURL("http://"), httpx.UnsupportedProtocol, False),
    (aiohttp.SocketTimeoutError("read"), httpx.ReadTimeout, True),
    (aiohttp.ServerTimeoutError("read"), httpx.ReadTimeout, True),
    (aiohttp.ServerDisconnectedError(), httpx.RemoteProtocolError, True),
    (aiohttp.ClientPayloadError("cut short"), httpx.RemoteProtocolError, True),
    (aiohttp.ClientResponseError(SimpleNamespace(real_url="http://api.example/"), (),  # type: ignore[arg-type]
                                 status=400, message="bad status line"), httpx.RemoteProtocolError, True),
    (aiohttp.ClientOSError(104, "reset"), httpx.ReadError, True),
    (aiohttp.ClientError("other"), httpx.TransportError, True),
]


@pytest.mark.parametrize(("error", "expected", "maybe_sent"), ERRORS,
                         ids=[type(row[0]).__name__ for row in ERRORS])
def test_errors_map_by_whether_the_request_may_have_left(error: BaseException,
                                                         expected: type[httpx.TransportError],
                                                         maybe_sent: bool) -> None:
    mapped = httpx_error(error)
    assert type(mapped) is expected
    assert isinstance(mapped, NOT_SENT) is (not maybe_sent)
    action = after_failed_submit("apixo", mapped).action
    assert action is (SubmitAction.UNKNOWN if maybe_sent else SubmitAction.RETRY)


def test_other_errors_are_not_mapped_and_messages_are_bounded() -> None:
    assert httpx_error(ValueError("x")) is None
    assert httpx_error(asyncio.CancelledError()) is None
    long = httpx_error(aiohttp.ClientPayloadError("x" * 5000))
    assert long is not None and len(str(long)) == MESSAGE_CHARS and str(long).endswith("…")


async def _send(transport: AiohttpTransport, request: httpx.Request) -> httpx.Response:
    response = await transport.handle_async_request(request)
    await response.aread()
    return response


async def test_sends_what_httpx_built_and_keeps_no_cookie(hostile: HostileServer) -> None:
    hostile.route("/v1/tasks/a%2Fb", reply(b'{"ok": 1}', headers={"Set-Cookie": "session=s1"}))
    transport = AiohttpTransport(max_connections=2)
    try:
        url = hostile.url("/v1/tasks/a%2Fb?q=x%20y")
        first = await _send(transport, httpx.Request("POST", url, json={"prompt": "a $5 cat"},
                                                     headers={"X-Tag": "1"}))
        second = await _send(transport, httpx.Request("GET", url))
    finally:
        await transport.aclose()
    assert (first.status_code, first.json(), first.headers["set-cookie"]) == (200, {"ok": 1}, "session=s1")
    assert second.status_code == 200
    (m1, p1, h1), (m2, p2, h2) = hostile.requests
    assert (m1, p1, m2, p2) == ("POST", "/v1/tasks/a%2Fb?q=x%20y", "GET", "/v1/tasks/a%2Fb?q=x%20y")
    assert h1 == {"host": f"127.0.0.1:{hostile.port}", "x-tag": "1", "content-type": "application/json",
                  "content-length": str(len(b'{"prompt":"a $5 cat"}'))}
    assert h2 == {"host": f"127.0.0.1:{hostile.port}"}  # no cookie, nothing httpx did not build


async def test_a_post_whose_connection_drops_is_not_resent(hostile: HostileServer) -> None:
    url = hostile.route("/submit", hang_up())
    transport = AiohttpTransport(max_connections=2)
    try:
        with pytest.raises(httpx.RemoteProtocolError) as info:
            await _send(transport, httpx.Request("POST", url, json={"prompt": "p"}))
    finally:
        await transport.aclose()
    assert len(hostile.requests) == 1
    assert after_failed_submit("apixo", info.value).action is SubmitAction.UNKNOWN


async def test_trace_says_when_a_request_that_creates_may_have_left(hostile: HostileServer) -> None:
    events: list[str] = []

    async def trace(name: str, info: dict[str, Any]) -> None:
        events.append(name)

    url = hostile.route("/submit", reply())
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        refused = f"http://127.0.0.1:{probe.getsockname()[1]}/submit"
    transport = AiohttpTransport(max_connections=2)
    try:
        await _send(transport, httpx.Request("POST", url, json={}, extensions={"trace": trace}))
        assert events == ["connection.acquire.started", "http11.send_request_headers.started"]
        events.clear()
        with pytest.raises(httpx.ConnectError):
            await _send(transport, httpx.Request("POST", refused, json={}, extensions={"trace": trace}))
        assert events == ["connection.acquire.started"]
        events.clear()
        await _send(transport, httpx.Request("GET", url, extensions={"trace": trace}))
        assert events == []  # a status poll: nothing traced, so "may have left"
    finally:
        await transport.aclose()


async def test_small_declared_bodies_come_read_and_others_stream(hostile: HostileServer) -> None:
    small = hostile.route("/small", reply(b"s" * PRELOAD_BYTES))
    large = hostile.route("/large", reply(b"l" * (PRELOAD_BYTES + 1)))
    transport = AiohttpTransport(max_connections=2)
    try:
        read = await transport.handle_async_request(httpx.Request("GET", small))
        assert read.content == b"s" * PRELOAD_BYTES  # no aread(): it came with the headers
        streamed = await transport.handle_async_request(httpx.Request("GET", large))
        with pytest.raises(httpx.ResponseNotRead):
            _ = streamed.content
        assert await streamed.aread() == b"l" * (PRELOAD_BYTES + 1)
    finally:
        await transport.aclose()


async def test_bounded_reads_over_the_wire_say_nothing_left_when_refused() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        refused = f"http://127.0.0.1:{probe.getsockname()[1]}/submit"
    async with httpx.AsyncClient(transport=AiohttpTransport(max_connections=2)) as http:
        with pytest.raises(httpx.ConnectError) as info:
            await read_reply(http, http.build_request("POST", refused, json={}),
                             deadline=time.monotonic() + 5, source="apixo")
    assert isinstance(info.value, NOT_SENT)


_FORGOTTEN = """
import gc, http.server, sys, threading, time
import httpx
from grokvid_nb._aiohttp_transport import AiohttpTransport
from grokvid_nb._loop import run_sync

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the connection stays open in the pool
    def do_GET(self):
        self.send_response(200); self.send_header("Content-Length", "2"); self.end_headers()
        self.wfile.write(b"{}")
    def log_message(self, *args):
        pass

server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
threading.Thread(target=server.serve_forever, daemon=True).start()
url = f"http://127.0.0.1:{server.server_address[1]}/"

async def get(http):
    return (await http.get(url)).status_code

dropped = httpx.AsyncClient(transport=AiohttpTransport(max_connections=2))
kept = httpx.AsyncClient(transport=AiohttpTransport(max_connections=2))  # still open at exit
print(run_sync(get(dropped)), run_sync(get(kept)))
connector = dropped._transport._pool.connector
del dropped
gc.collect()  # the close is scheduled on the engine loop, never waited for here
for _ in range(200):
    if connector.closed:
        break
    time.sleep(0.01)
print("dropped closed:", connector.closed)
"""


@pytest.mark.timeout(60)
def test_a_forgotten_or_dropped_transport_closes_quietly(tmp_path: Path) -> None:
    script = tmp_path / "forgotten.py"
    script.write_text(_FORGOTTEN)
    root = str(Path(__file__).resolve().parents[2])  # this checkout's package, not an installed one
    out = subprocess.run([sys.executable, "-X", "dev", str(script)], capture_output=True, text=True,
                         timeout=50, cwd=root, env={**os.environ, "PYTHONPATH": root})
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["200 200", "dropped closed: True"]
    assert "Unclosed" not in out.stderr and "never awaited" not in out.stderr, out.stderr


async def test_a_mapped_error_carries_no_trace_of_the_key(hostile: HostileServer) -> None:
    # a reply aiohttp's parser refuses raises ClientResponseError, whose request_info holds
    # every request header; none of it may ride along on the error the engine sees
    url = hostile.route("/bad", reply(b'{"a": 1}' + b"x" * 100, headers={"Content-Length": "8"}))
    transport = AiohttpTransport(max_connections=2)
    try:
        with pytest.raises(httpx.RemoteProtocolError) as info:
            await _send(transport, httpx.Request("POST", url, json={},
                                                 headers={"Authorization": "Bearer sk-secret-123"}))
    finally:
        await transport.aclose()
    error = info.value
    assert error.__cause__ is None and error.__context__ is None
    assert "sk-secret-123" not in repr(error) and "sk-secret-123" not in str(error)


def test_dropping_transports_never_waits_for_a_busy_engine_loop() -> None:
    """The garbage collector runs a dropped transport's finalizer in whatever thread it runs
    in, maybe one holding a lock the engine loop is itself waiting for (the ledger's SQLite
    write lock). The finalizer only schedules the close: it used to wait up to 2 s per
    transport for the loop, and a convoy of them held the lock past the ledger's 30 s busy
    timeout, failing a submit with "locked for too long" and freezing every job meanwhile."""
    import gc
    import threading
    import weakref

    from grokvid_nb import _loop

    async def opened(count: int) -> list[AiohttpTransport]:
        transports = [AiohttpTransport(max_connections=2) for _ in range(count)]
        for transport in transports:
            transport._pool = transport._open()
        return transports

    transports = _loop.run_sync(opened(5))
    connectors = [t._pool.connector for t in transports]  # type: ignore[union-attr]
    refs = [weakref.ref(t) for t in transports]
    held, seen = threading.Event(), {}

    async def wait_for_the_lock() -> None:  # as a blocking SQLite busy-wait on the loop would
        held.set()
        seen["released"] = release.wait(8.0)  # a hang guard: the release takes milliseconds

    release = threading.Event()
    busy = _loop.run_coroutine(wait_for_the_lock())
    assert held.wait(5)
    del transports
    gc.collect()  # the finalizers run here, in this thread, while the loop waits on it
    release.set()
    busy.result(10)
    assert seen["released"] is True, "dropping the transports waited for the blocked loop"
    assert all(ref() is None for ref in refs)
    for _ in range(200):  # and the loop closes them once it is free
        if all(c.closed for c in connectors):
            break
        time.sleep(0.01)
    assert all(c.closed for c in connectors)
