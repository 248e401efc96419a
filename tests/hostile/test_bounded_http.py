"""Bounded reads against a real hostile server: deadlines hold however slowly bytes drip, caps
stop gzip bombs and endless bodies early with little memory, and odd encodings are refused."""

from __future__ import annotations

import asyncio
import functools
import gc
import gzip
import inspect
import io
import json
import time
import tracemalloc
import weakref
import zlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from grokvid_nb import _bounded_http as bh
from grokvid_nb._aiohttp_transport import AiohttpTransport
from grokvid_nb._exceptions import (
    ConfigurationError,
    DeadlineExceededError,
    ProviderResponseError,
    ReplyTooLargeError,
    TransportError,
)
from grokvid_nb._files import AtomicWriter

from .conftest import (
    Behaviour,
    HostileServer,
    drip,
    drip_headers,
    endless,
    gzip_bomb,
    gzip_bomb_bytes,
    huge_content_length,
    never_answer,
    redirect,
    reply,
)

pytestmark = pytest.mark.timeout(20)
MiB = 1 << 20
CAP = 2 * MiB
# httpx's own per-operation timeouts are generous: only the overall deadline can stop a drip
PATIENT = httpx.Timeout(30.0, connect=5.0)


#: the wire under every async test against the hostile server: httpx's own (httpcore) and the
#: engine's default (aiohttp); the extension each puts on a response it framed
WIRES = {"httpcore": "network_stream", "aiohttp": bh.FRAMED}
_wire = {"name": "httpcore"}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "hostile" in metafunc.fixturenames and inspect.iscoroutinefunction(metafunc.function):
        metafunc.parametrize("wire", list(WIRES), indirect=True)


@pytest.fixture(autouse=True)
def wire(request: pytest.FixtureRequest) -> Iterator[str]:
    _wire["name"] = getattr(request, "param", "httpcore")
    yield _wire["name"]
    _wire["name"] = "httpcore"


def _client() -> httpx.AsyncClient:
    transport = AiohttpTransport(max_connections=10) if _wire["name"] == "aiohttp" else None
    return httpx.AsyncClient(timeout=PATIENT, transport=transport)


async def _read(url: str, *, deadline_s: float = 10.0, max_bytes: int = MiB) -> httpx.Response:
    async with _client() as http:
        return await bh.read_reply(http, http.build_request("GET", url),
                                   deadline=time.monotonic() + deadline_s, max_bytes=max_bytes,
                                   source="hostile")


# ---- deadlines --------------------------------------------------------------------------------
@pytest.mark.parametrize("behaviour", [drip(b'{"status": "done"}' * 10, interval=0.3),
                                       never_answer(), drip_headers(interval=0.3)],
                         ids=["drip-body", "never-answer", "drip-headers"])
async def test_deadline_holds_however_slowly_bytes_arrive(hostile: HostileServer, behaviour: Behaviour) -> None:
    url = hostile.route("/poll", behaviour)
    start = time.monotonic()
    with pytest.raises(DeadlineExceededError) as info:
        await _read(url, deadline_s=2.0)
    elapsed = time.monotonic() - start
    assert 1.9 <= elapsed <= 3.0
    assert info.value.maybe_sent is True  # the request had left: a submit must not be resent
    assert isinstance(info.value, TransportError) and isinstance(info.value, TimeoutError)
    assert str(info.value) == ("no complete reply from hostile within the deadline of 2 s: the "
                               "request and its body did not finish in time (a slow or stalled server)")


async def test_deadline_already_passed_sends_nothing(hostile: HostileServer) -> None:
    url = hostile.route("/poll", reply())
    async with _client() as http:
        with pytest.raises(DeadlineExceededError) as info:
            await bh.read_reply(http, http.build_request("GET", url), deadline=time.monotonic() - 1,
                                source="hostile")
    assert info.value.maybe_sent is False
    assert hostile.requests == []


async def test_deadline_covers_the_callers_work_between_pieces(hostile: HostileServer, tmp_path: Path) -> None:
    url = hostile.route("/video", reply(b"\x00" * (4 * MiB), headers={"Content-Type": "video/mp4"}))
    start = time.monotonic()
    async with _client() as http:
        with pytest.raises(DeadlineExceededError):
            async with bh.BoundedResponse(http, http.build_request("GET", url), source="cdn",
                                          deadline=time.monotonic() + 1.0, max_bytes=8 * MiB) as body:
                async for _piece in body.chunks():
                    await asyncio.sleep(0.1)  # a slow disk
    assert time.monotonic() - start <= 2.0


def test_send_tracker_knows_a_request_still_connecting() -> None:
    tracker = bh._SendTracker()
    assert tracker.maybe_sent is True  # no events (in-process transport): assume it left
    tracker.event("connection.connect_tcp.started", {})
    assert tracker.maybe_sent is False
    tracker.event("http11.send_request_headers.started", {})
    assert tracker.maybe_sent is True


# ---- size caps and decompression ----------------------------------------------------------------
def test_bomb_fixture_is_a_real_1gib_bomb() -> None:
    blob = gzip_bomb_bytes(1024)
    assert 1_000_000 <= len(blob) <= 1_100_000
    head = gzip.GzipFile(fileobj=io.BytesIO(blob)).read(1000)
    assert head == bytes(1000)


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize("encoding", ["gzip", "deflate", "gzip, identity"])
async def test_gzip_bomb_stops_at_the_cap_with_little_memory(hostile: HostileServer, chunked: bool,
                                                              encoding: str) -> None:
    url = hostile.route("/poll", gzip_bomb(inflated_mib=1024, encoding=encoding, chunked=chunked))
    gzip_bomb_bytes(1024)  # built before measuring
    tracemalloc.start()
    try:
        start = time.monotonic()
        with pytest.raises(ReplyTooLargeError) as info:
            await _read(url, max_bytes=CAP)  # over the 1 MB on the wire: decoding must stop it
        elapsed = time.monotonic() - start
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 50 * MiB
    assert elapsed < 5
    assert info.value.limit == CAP and info.value.status_code == 200
    assert str(info.value).startswith(f"hostile HTTP 200: reply larger than the cap of {CAP} bytes "
                                      f"(more than {CAP} bytes after decoding {encoding})")


@functools.lru_cache(maxsize=1)
def _deflate_bombs() -> dict[str, tuple[bytes, str]]:
    """16 MiB of zeros as real deflate bodies (not gzip bytes under a deflate label): the
    zlib-wrapped form RFC 9110 means, the raw form some servers send, and a gzip bomb gzipped
    again (`Content-Encoding: gzip, gzip`)."""
    zeros = bytes(16 * MiB)
    raw = zlib.compressobj(9, zlib.DEFLATED, -15)
    return {"zlib-deflate": (zlib.compress(zeros, 9), "deflate"),
            "raw-deflate": (raw.compress(zeros) + raw.flush(), "deflate"),
            "gzip-of-gzip": (gzip.compress(gzip_bomb_bytes(1024)), "gzip, gzip")}


@pytest.mark.parametrize("kind", ["zlib-deflate", "raw-deflate", "gzip-of-gzip"])
async def test_deflate_and_nested_bombs_stop_at_the_cap_with_little_memory(hostile: HostileServer,
                                                                           kind: str) -> None:
    body, encoding = _deflate_bombs()[kind]
    url = hostile.route("/poll", reply(body, headers={"Content-Encoding": encoding}))
    tracemalloc.start()
    try:
        with pytest.raises(ReplyTooLargeError) as info:
            await _read(url, max_bytes=CAP)
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 12 * MiB  # the inflated 16 MiB (1 GiB for the nested one) never exists at once
    assert f"more than {CAP} bytes after decoding {encoding}" in str(info.value)


async def test_download_of_a_bomb_leaves_no_file(hostile: HostileServer, tmp_path: Path) -> None:
    url = hostile.route("/video.mp4", gzip_bomb(inflated_mib=1024, content_type="video/mp4"))
    target = tmp_path / "v.mp4"
    async with _client() as http:
        with pytest.raises(ReplyTooLargeError):
            async with bh.BoundedResponse(http, http.build_request("GET", url), source="cdn",
                                          deadline=time.monotonic() + 15, max_bytes=8 * MiB) as body:
                with AtomicWriter(target) as out:
                    async for piece in body.chunks():
                        out.write(piece)
    assert list(tmp_path.iterdir()) == []


async def test_huge_content_length_refused_before_reading(hostile: HostileServer) -> None:
    url = hostile.route("/video.mp4", huge_content_length(10**12))
    start = time.monotonic()
    with pytest.raises(ReplyTooLargeError, match=r"it declares Content-Length 1000000000000"):
        await _read(url, max_bytes=500 * MiB)
    assert time.monotonic() - start < 1.0


async def test_endless_body_stops_at_the_raw_cap(hostile: HostileServer) -> None:
    url = hostile.route("/video.mp4", endless())
    with pytest.raises(ReplyTooLargeError, match=r"more than 2097152 bytes"):
        await _read(url, max_bytes=2 * MiB)


async def test_cap_comes_from_the_setting(hostile: HostileServer, monkeypatch: pytest.MonkeyPatch) -> None:
    url = hostile.route("/poll", reply(b'{"pad": "' + b"x" * 200 + b'"}'))
    monkeypatch.setenv("GROKVID_MAX_REPLY_BYTES", "100")
    async with _client() as http:
        with pytest.raises(ReplyTooLargeError, match="cap of 100 bytes"):
            await bh.read_reply(http, http.build_request("GET", url), deadline=None, source="hostile")


# ---- ordinary replies still work ------------------------------------------------------------------
async def test_plain_and_gzip_replies_are_decoded(hostile: HostileServer) -> None:
    doc = {"id": "task-1", "status": "done", "pad": "y" * 5000}
    plain = hostile.route("/plain", reply(json.dumps(doc).encode(), headers={"Retry-After": "3"}))
    packed = hostile.route("/gzip", reply(gzip.compress(json.dumps(doc).encode()),
                                          headers={"Content-Encoding": "gzip"}))
    for url in (plain, packed):
        response = await _read(url)
        assert response.status_code == 200 and response.json() == doc
        assert "content-encoding" not in response.headers
        assert response.headers["content-length"] == str(len(json.dumps(doc)))
    assert response.request.url == packed
    assert hostile.requests[0][2]["accept-encoding"] == "gzip, deflate"
    assert (await _read(plain)).headers["retry-after"] == "3"


async def test_error_status_is_returned_not_raised(hostile: HostileServer) -> None:
    url = hostile.route("/poll", reply(b'{"error": "busy"}', status=503))
    response = await _read(url)
    assert (response.status_code, response.json()) == (503, {"error": "busy"})


@pytest.mark.parametrize("headers,body,message", [
    ({"Content-Encoding": "br"}, b"\x8b\x02", "could not decode|unsupported content-encoding 'br'"),
    ({"Content-Encoding": "gzip"}, gzip.compress(b"x" * 1000)[:20], "ended before its end marker"),
    ({"Content-Encoding": "gzip"}, b"not gzip at all", "bad gzip data"),
])
async def test_bad_encodings_are_refused(hostile: HostileServer, headers: dict[str, str], body: bytes,
                                         message: str) -> None:
    url = hostile.route("/poll", reply(body, headers=headers))
    with pytest.raises(ProviderResponseError, match=message) as info:
        await _read(url)
    assert not isinstance(info.value, ReplyTooLargeError)


async def test_redirect_to_another_host_is_not_followed_for_replies(hostile: HostileServer) -> None:
    url = hostile.route("/poll", redirect(f"http://localhost:{hostile.port}/stolen"))
    response = await _read(url)
    assert response.status_code == 302
    assert [path for _m, path, _h in hostile.requests] == ["/poll"]


async def test_download_redirect_drops_credentials(hostile: HostileServer) -> None:
    hostile.route("/video", redirect(f"http://localhost:{hostile.port}/cdn"))
    hostile.route("/cdn", reply(b"\x00\x00\x00\x18ftypmp42", headers={"Content-Type": "video/mp4"}))
    async with _client() as http:
        request = http.build_request("GET", hostile.url("/video"), headers={"Authorization": "Bearer k"})
        async with bh.BoundedResponse(http, request, deadline=time.monotonic() + 10, max_bytes=MiB,
                                      source="cdn", follow_redirects=True) as body:
            data = b"".join([p async for p in body.chunks()])
    assert data == b"\x00\x00\x00\x18ftypmp42"
    assert [(p, "authorization" in h) for _m, p, h in hostile.requests] == [("/video", True), ("/cdn", False)]


# ---- the blocking variant -------------------------------------------------------------------------
def _sync_client() -> httpx.Client:
    return httpx.Client(timeout=PATIENT, limits=httpx.Limits(max_keepalive_connections=0))


@pytest.mark.parametrize("behaviour", [drip(b"{}" * 50, interval=0.3), never_answer(),
                                       drip_headers(interval=0.3)],
                         ids=["drip-body", "never-answer", "drip-headers"])
def test_sync_deadline_holds(hostile: HostileServer, behaviour: Behaviour) -> None:
    url = hostile.route("/poll", behaviour)
    start = time.monotonic()
    with _sync_client() as http, pytest.raises(DeadlineExceededError, match="within the deadline of 2 s"):
        bh.read_reply_sync(http, http.build_request("GET", url), deadline=time.monotonic() + 2.0,
                           source="hostile")
    assert 1.9 <= time.monotonic() - start <= 3.0


def test_sync_bomb_and_plain(hostile: HostileServer) -> None:
    bomb = hostile.route("/bomb", gzip_bomb(inflated_mib=1024))
    plain = hostile.route("/plain", reply(gzip.compress(b'{"a": 1}'), headers={"Content-Encoding": "gzip"}))
    gzip_bomb_bytes(1024)
    with _sync_client() as http:
        tracemalloc.start()
        try:
            with pytest.raises(ReplyTooLargeError):
                bh.read_reply_sync(http, http.build_request("GET", bomb), deadline=time.monotonic() + 10,
                                   max_bytes=MiB, source="hostile")
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        response = bh.read_reply_sync(http, http.build_request("GET", plain),
                                      deadline=time.monotonic() + 10, source="hostile")
    assert peak < 50 * MiB
    assert response.json() == {"a": 1}


# ---- settings -------------------------------------------------------------------------------------
@pytest.mark.parametrize("name,raw,expected", [
    ("GROKVID_MAX_REPLY_BYTES", "", bh.DEFAULT_MAX_REPLY_BYTES),
    ("GROKVID_MAX_REPLY_BYTES", "2048", 2048),
    ("GROKVID_MAX_DOWNLOAD_BYTES", "1_000_000", 1_000_000),
    ("GROKVID_DOWNLOAD_TIMEOUT_S", "2.5", 2.5),
    ("GROKVID_MAX_DOWNLOAD_BYTES", "", bh.DEFAULT_MAX_DOWNLOAD_BYTES),
    ("GROKVID_DOWNLOAD_TIMEOUT_S", "", bh.DEFAULT_DOWNLOAD_TIMEOUT_S),
])
def test_settings(monkeypatch: pytest.MonkeyPatch, name: str, raw: str, expected: float) -> None:
    monkeypatch.setenv(name, raw)
    getter = {"GROKVID_MAX_REPLY_BYTES": bh.max_reply_bytes, "GROKVID_MAX_DOWNLOAD_BYTES": bh.max_download_bytes,
              "GROKVID_DOWNLOAD_TIMEOUT_S": bh.download_timeout_s}[name]
    assert getter() == expected


@pytest.mark.parametrize("name,raw", [("GROKVID_MAX_REPLY_BYTES", "abc"), ("GROKVID_MAX_REPLY_BYTES", "0"),
                                      ("GROKVID_MAX_DOWNLOAD_BYTES", "-5"), ("GROKVID_MAX_REPLY_BYTES", "1.5"),
                                      ("GROKVID_DOWNLOAD_TIMEOUT_S", "nan"), ("GROKVID_DOWNLOAD_TIMEOUT_S", "inf")])
def test_bad_settings_name_the_variable(monkeypatch: pytest.MonkeyPatch, name: str, raw: str) -> None:
    monkeypatch.setenv(name, raw)
    getter = {"GROKVID_MAX_REPLY_BYTES": bh.max_reply_bytes, "GROKVID_MAX_DOWNLOAD_BYTES": bh.max_download_bytes,
              "GROKVID_DOWNLOAD_TIMEOUT_S": bh.download_timeout_s}[name]
    kind = "a number of seconds" if name.endswith("_S") else "a whole number of bytes"
    with pytest.raises(ConfigurationError) as info:
        getter()
    assert str(info.value) == f"{name}={raw!r} is not allowed; {kind} > 0 (unset it for the default)"


# ---- in-process transports (bodies already in memory) ---------------------------------------------
async def test_in_process_transport_bodies_are_capped_too() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        size = int(request.url.params["n"])
        return httpx.Response(200, content=b"x" * size, headers={"Content-Type": "text/plain"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        small = await bh.read_reply(http, http.build_request("GET", "http://t/?n=10"),
                                    deadline=time.monotonic() + 5, max_bytes=100, source="mock")
        assert small.content == b"x" * 10
        with pytest.raises(ReplyTooLargeError, match="cap of 100 bytes"):
            await bh.read_reply(http, http.build_request("GET", "http://t/?n=101"),
                                deadline=time.monotonic() + 5, max_bytes=100, source="mock")


# ---- the whole-read path for small plain replies ----------------------------------------------
async def test_small_plain_reply_is_read_whole_and_encoded_one_piecewise(hostile: HostileServer, wire: str) -> None:
    doc = {"status": "processing", "progress": 40}
    plain = hostile.route("/plain", reply(json.dumps(doc).encode()))
    packed = hostile.route("/gzip", reply(gzip.compress(json.dumps(doc).encode()),
                                          headers={"Content-Encoding": "gzip"}))
    whole = await _read(plain)
    assert whole.json() == doc
    # the response httpx read (its connection's stream still named) is returned as it came
    assert WIRES[wire] in whole.extensions
    assert whole.headers["content-length"] == str(len(json.dumps(doc)))
    rebuilt = await _read(packed)
    assert rebuilt.json() == doc and WIRES[wire] not in rebuilt.extensions
    assert "content-encoding" not in rebuilt.headers


async def test_whole_read_stops_at_the_declared_length(hostile: HostileServer, wire: str) -> None:
    # 5,000 bytes follow a Content-Length of 10: h11's framing ends the body at 10, llhttp
    # (aiohttp) refuses the reply as malformed; neither reads past the declared length
    url = hostile.route("/liar", reply(b'{"a": 123}' + b"x" * 5000, headers={"Content-Length": "10"}))
    if wire == "httpcore":
        response = await _read(url, max_bytes=64)
        assert response.content == b'{"a": 123}'
        return
    with pytest.raises(httpx.RemoteProtocolError) as info:
        await _read(url, max_bytes=64)
    assert str(info.value).startswith("ClientResponseError: 400, message='Data after `Connection: close`")
    assert len(str(info.value)) == 300


async def test_whole_read_refuses_a_declared_length_over_the_cap(hostile: HostileServer) -> None:
    url = hostile.route("/big", reply(b"y" * 65))
    assert (await _read(url, max_bytes=65)).content == b"y" * 65
    with pytest.raises(ReplyTooLargeError):
        await _read(url, max_bytes=64)


# ---- no reference cycles left behind ----------------------------------------------------------
async def test_a_read_reply_is_freed_without_the_cyclic_collector(hostile: HostileServer) -> None:
    # httpx's stream on a response points back at the response: left as it is, every reply (with
    # its request, headers and the trace closure) waited for the cyclic collector, which made
    # most of the collector's work in a 1,000-job fan-out (benchmarks/RESULTS.md)
    doc = {"status": "processing", "progress": 40}
    plain = hostile.route("/plain", reply(json.dumps(doc).encode()))
    packed = hostile.route("/gzip", reply(gzip.compress(json.dumps(doc).encode()),
                                          headers={"Content-Encoding": "gzip"}))
    async with _client() as http:
        for url in (plain, packed, plain):
            gc.collect()
            gc.disable()
            try:
                request = http.build_request("GET", url)
                response = await bh.read_reply(http, request, deadline=time.monotonic() + 10,
                                               max_bytes=MiB, source="hostile")
                # the body is still served every way a read response serves it
                assert response.json() == doc and response.is_closed
                assert b"".join(response.iter_bytes()) == response.content
                assert b"".join([p async for p in response.aiter_bytes()]) == response.content
                refs = [weakref.ref(response), weakref.ref(request)]
                del response, request
                assert [ref() for ref in refs] == [None, None]
            finally:
                gc.enable()
