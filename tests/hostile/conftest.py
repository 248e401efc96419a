"""A small, real, scriptable hostile HTTP server on 127.0.0.1 (port 0) for hardening tests.

`hostile` starts one server per test; `hostile.route(path, behaviour)` scripts what each path
does, `hostile.url(path)` is its address, `hostile.requests` records what arrived. Behaviours
are plain functions of a `Conn` (the raw socket, the parsed request), built by the helpers here:
`reply`, `drip`, `drip_headers`, `never_answer`, `gzip_bomb`, `huge_content_length`,
`redirect`, `hang_up`. Every wait inside a behaviour wakes when the test ends, so no server
thread outlives its test.
"""

from __future__ import annotations

import socket
import socketserver
import struct
import threading
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache

import pytest

Behaviour = Callable[["Conn"], None]


@dataclass
class Conn:
    """One accepted request: what it asked for, and the socket to answer on."""

    sock: socket.socket
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    stop: threading.Event

    def send(self, data: bytes) -> bool:
        """Send bytes; False when the client has gone away."""
        try:
            self.sock.sendall(data)
            return True
        except OSError:
            return False

    def wait(self, seconds: float) -> bool:
        """Sleep, unless the test ends first; False when it did."""
        return not self.stop.wait(seconds)


def _head(status: int, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status} X"] + [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def reply(body: bytes = b"{}", *, status: int = 200, headers: dict[str, str] | None = None) -> Behaviour:
    """An ordinary complete reply (JSON by default)."""
    def run(conn: Conn) -> None:
        fields = {"Content-Type": "application/json", "Content-Length": str(len(body)),
                  "Connection": "close", **(headers or {})}
        conn.send(_head(status, fields) + body)
    return run


def drip(body: bytes, *, interval: float, content_type: str = "application/json") -> Behaviour:
    """Headers at once, then the body one byte every `interval` seconds."""
    def run(conn: Conn) -> None:
        if not conn.send(_head(200, {"Content-Type": content_type, "Content-Length": str(len(body)),
                                     "Connection": "close"})):
            return
        for i in range(len(body)):
            if not conn.wait(interval) or not conn.send(body[i:i + 1]):
                return
    return run


def drip_headers(*, interval: float) -> Behaviour:
    """The status line and headers one byte every `interval` seconds, forever."""
    def run(conn: Conn) -> None:
        head = _head(200, {"Content-Type": "application/json", "X-Pad": "p" * 10_000})
        for i in range(len(head)):
            if not conn.send(head[i:i + 1]) or not conn.wait(interval):
                return
    return run


def never_answer() -> Behaviour:
    """Read the request, then say nothing until the test ends."""
    def run(conn: Conn) -> None:
        conn.stop.wait()
    return run


def hang_up() -> Behaviour:
    """Close the connection without a byte of reply."""
    def run(conn: Conn) -> None:
        pass
    return run


@lru_cache(maxsize=2)
def bomb_segment() -> bytes:
    """1 MiB of zeros as a raw-deflate segment ending in a full flush (about 1 KB). A full flush
    resets the compressor, so the same segment can be repeated to make any size."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(bytes(1 << 20)) + compressor.flush(zlib.Z_FULL_FLUSH)


def gzip_bomb_parts(inflated_mib: int = 1024) -> Iterator[bytes]:
    """A valid gzip stream of `inflated_mib` MiB of zeros (1 GiB -> about 1 MB), generated piece
    by piece: no more than 1 MiB of plain data exists at any time."""
    yield b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    segment, zeros, crc = bomb_segment(), bytes(1 << 20), 0
    for _ in range(inflated_mib):
        crc = zlib.crc32(zeros, crc)
        yield segment
    yield zlib.compressobj(9, zlib.DEFLATED, -15).flush()  # the final empty block
    yield struct.pack("<II", crc, (inflated_mib << 20) & 0xFFFFFFFF)


@lru_cache(maxsize=2)
def gzip_bomb_bytes(inflated_mib: int = 1024) -> bytes:
    """The whole bomb (about 1 MB for 1 GiB inflated)."""
    return b"".join(gzip_bomb_parts(inflated_mib))


def gzip_bomb(*, inflated_mib: int = 1024, encoding: str = "gzip",
              content_type: str = "application/json", chunked: bool = False) -> Behaviour:
    """A gzip body that inflates to `inflated_mib` MiB, with an honest Content-Length (the
    compressed size) unless `chunked`."""
    def run(conn: Conn) -> None:
        blob = gzip_bomb_bytes(inflated_mib)
        fields = {"Content-Type": content_type, "Content-Encoding": encoding, "Connection": "close"}
        if chunked:
            fields["Transfer-Encoding"] = "chunked"
        else:
            fields["Content-Length"] = str(len(blob))
        if not conn.send(_head(200, fields)):
            return
        for start in range(0, len(blob), 16384):
            part = blob[start:start + 16384]
            if chunked:
                part = f"{len(part):x}\r\n".encode() + part + b"\r\n"
            if not conn.send(part):
                return
        if chunked:
            conn.send(b"0\r\n\r\n")
    return run


def huge_content_length(declared: int = 10**12, *, actual: bytes = b"0" * 1024) -> Behaviour:
    """Declare an enormous Content-Length, send a little, then wait."""
    def run(conn: Conn) -> None:
        if conn.send(_head(200, {"Content-Type": "video/mp4", "Content-Length": str(declared)}) + actual):
            conn.stop.wait()
    return run


def endless(*, chunk: bytes = b"\x00" * 65536) -> Behaviour:
    """A chunked body that never ends (as fast as the client reads)."""
    def run(conn: Conn) -> None:
        if not conn.send(_head(200, {"Content-Type": "video/mp4", "Transfer-Encoding": "chunked"})):
            return
        frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
        while not conn.stop.is_set() and conn.send(frame):
            pass
    return run


def redirect(location: str, *, status: int = 302) -> Behaviour:
    """Redirect to `location` (another host, a loop, ...)."""
    return reply(b"", status=status, headers={"Location": location})


@dataclass
class HostileServer:
    """The running server: script it with `route`, point clients at `url(path)`."""

    host: str
    port: int
    stop: threading.Event
    routes: dict[str, Behaviour] = field(default_factory=dict)
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)

    def route(self, path: str, behaviour: Behaviour) -> str:
        """Script `path` ("*" for every path without its own script); returns its URL."""
        self.routes[path] = behaviour
        return self.url(path)

    def url(self, path: str = "/") -> str:
        """The absolute URL of `path` on this server."""
        return f"http://{self.host}:{self.port}{path}"


def _read_request(sock: socket.socket) -> tuple[str, str, dict[str, str], bytes] | None:
    data = b""
    while b"\r\n\r\n" not in data:
        part = sock.recv(65536)
        if not part:
            return None
        data += part
        if len(data) > 1 << 20:
            return None
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, path, _version = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0") or 0)
    while len(rest) < length:
        part = sock.recv(65536)
        if not part:
            break
        rest += part
    return method, path, headers, rest[:length]


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No ledger or download in ~, fast engine timings, no key from the real environment."""
    monkeypatch.setenv("GROKVID_HOME", str(tmp_path_factory.mktemp("home")))
    monkeypatch.setenv("GROKVID_TIME_SCALE", "0.01")
    monkeypatch.setenv("GROKVID_KEEP_LOCAL", "0")  # the scripted servers count every request
    for var in ("XAI_API_KEY", "APIXO_API_KEY", "PIXAZO_API_KEY", "XINGCHAO_API_KEY",
                "APIINONE_API_KEY", "XINGCHAO_BASE_URL", "GROKVID_MAX_REPLY_BYTES",
                "GROKVID_MAX_DOWNLOAD_BYTES", "GROKVID_DOWNLOAD_TIMEOUT_S"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def hostile() -> Iterator[HostileServer]:
    """A fresh scriptable server on 127.0.0.1, stopped (threads woken) after the test."""
    stop = threading.Event()
    holder: dict[str, HostileServer] = {}

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            server = holder["server"]
            sock: socket.socket = self.request
            sock.settimeout(30)
            try:
                parsed = _read_request(sock)
            except (OSError, ValueError):
                return
            if parsed is None:
                return
            method, path, headers, body = parsed
            server.requests.append((method, path, headers))
            behaviour = (server.routes.get(path.split("?")[0]) or server.routes.get("*")
                         or reply(b'{"error": "no route"}', status=404))
            try:
                behaviour(Conn(sock, method, path, headers, body, stop))
            except OSError:
                pass

    class Server(socketserver.ThreadingTCPServer):
        daemon_threads = True
        block_on_close = False
        allow_reuse_address = True
        # socketserver's default backlog of 5 drops the SYNs of a burst of connections (the
        # client retries 1 s later): tests that start several jobs at once would wait for that
        request_queue_size = 128

    tcp = Server(("127.0.0.1", 0), Handler)
    holder["server"] = server = HostileServer("127.0.0.1", tcp.server_address[1], stop)
    thread = threading.Thread(target=tcp.serve_forever, kwargs={"poll_interval": 0.05},
                              name="hostile-server", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        stop.set()
        tcp.shutdown()
        tcp.server_close()
        thread.join(5)
