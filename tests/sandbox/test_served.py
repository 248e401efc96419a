"""The sandbox behind a real uvicorn server on loopback (and the command line)."""

from __future__ import annotations

import asyncio
import errno
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from grokvid_nb.sandbox import Sandbox, SandboxConfig

from .conftest import CASES, SUCCESS_STATUS

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def served() -> Iterator[tuple[Sandbox, str]]:
    """A sandbox served on 127.0.0.1 with tiny latencies (real clock)."""
    sandbox = Sandbox(SandboxConfig(time_scale=0.005, seed=3))
    with sandbox.serve(host="127.0.0.1", port=0) as base_url:
        yield sandbox, base_url
    sandbox.close()


def test_all_providers_end_to_end_over_http(served: tuple[Sandbox, str]) -> None:
    sandbox, base_url = served
    with httpx.Client(base_url=base_url, timeout=10) as client:
        pending = {}
        for case in CASES.values():
            response = client.post(
                case.submit_path, json=case.with_prompt("served [sandbox:latency=20]"), headers=case.headers
            )
            assert response.status_code == case.submit_status, response.text
            pending[case.name] = case.task_id(response.json())
        deadline = time.monotonic() + 10
        urls: dict[str, str] = {}
        while pending and time.monotonic() < deadline:
            for name, task_id in list(pending.items()):
                case = CASES[name]
                path, params = case.poll(task_id)
                reply = client.get(path, params=params, headers=case.headers).json()
                if case.status(reply) == SUCCESS_STATUS[name]:
                    urls[name] = case.video_url(reply)
                    del pending[name]
            time.sleep(0.02)
        assert not pending
        for name, url in urls.items():
            assert url.startswith(f"{base_url}/cdn/{name}/")  # the request's own base URL
            video = client.get(url)
            assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
            assert len(video.content) > 1000
            ranged = client.get(url, headers={"Range": "bytes=0-99"})
            assert ranged.status_code == 206 and len(ranged.content) == 100
        # pixazo's polling_url is absolute and fetchable too
        pix = CASES["pixazo"]
        reply = client.post(pix.submit_path, json=pix.body, headers=pix.headers).json()
        assert client.get(reply["polling_url"], headers=pix.headers).status_code == 200
    assert sandbox.stats.downloads["xai"] == 2


def test_drop_and_lost_reply_over_a_real_socket(served: tuple[Sandbox, str]) -> None:
    """A drop is "disconnected without a response" (RemoteProtocolError), whatever the load:
    the server reads the request to its end before closing (see the ASGI test below)."""
    sandbox, base_url = served
    apixo = CASES["apixo"]
    with httpx.Client(base_url=base_url, timeout=10) as client:
        sandbox.inject("apixo", "submit", "drop")
        with pytest.raises(httpx.RemoteProtocolError):
            client.post(apixo.submit_path, json=apixo.body, headers=apixo.headers)
        assert sandbox.stats.tasks_created["apixo"] == 0

        sandbox.inject("apixo", "submit", "lost_reply")
        with pytest.raises(httpx.RemoteProtocolError):
            client.post(apixo.submit_path, json=apixo.body, headers=apixo.headers)
        assert sandbox.stats.tasks_created["apixo"] == 1

        # The client recovers on a fresh connection.
        response = client.post(apixo.submit_path, json=apixo.body, headers=apixo.headers)
        assert response.status_code == 200

        sandbox.inject("apixo", "poll", "429", retry_after=4)
        task_id = apixo.task_id(response.json())
        limited = client.get("/api/v1/statusTask/grok-video", params={"taskId": task_id}, headers=apixo.headers)
        assert limited.status_code == 429 and limited.headers["retry-after"] == "4"
        assert limited.json() == {"code": 429, "message": limited.json()["message"]}


def test_xai_rate_limit_over_http(served: tuple[Sandbox, str]) -> None:
    _, base_url = served
    xai = CASES["xai"]
    with httpx.Client(base_url=base_url, timeout=10) as client:
        assert client.post(xai.submit_path, json=xai.body, headers=xai.headers).status_code == 200
        refused = client.post(xai.submit_path, json=xai.body, headers=xai.headers)
        assert refused.status_code == 429 and refused.headers["retry-after"] == "1"
        assert set(refused.json()) == {"code", "error"}


def _listening_addresses(port: int) -> list[str]:
    """Local addresses of IPv4 sockets listening on ``port``, from /proc/net/tcp."""
    found = []
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        host_hex, port_hex = local.split(":")
        if state == "0A" and int(port_hex, 16) == port:  # 0A = LISTEN
            found.append(socket.inet_ntoa(bytes.fromhex(host_hex)[::-1]))
    return found


def test_binds_only_to_the_given_host(served: tuple[Sandbox, str]) -> None:
    _, base_url = served
    port = int(base_url.rsplit(":", 1)[1])
    if Path("/proc/net/tcp").exists():
        assert _listening_addresses(port) == ["127.0.0.1"]
    with socket.create_connection(("127.0.0.1", port), timeout=2):
        pass
    # Another loopback address reaches the same interface but not a 127.0.0.1-only socket.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as other:
        other.settimeout(2)
        result = other.connect_ex(("127.0.0.2", port))
    assert result != 0, "reachable on 127.0.0.2: the server is not bound to 127.0.0.1 only"
    assert result == errno.ECONNREFUSED or result in (errno.ETIMEDOUT, errno.EHOSTUNREACH)


def test_command_line_serves_and_prints_url(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "grokvid_nb.sandbox",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--time-scale",
            "0.01",
            "--seed",
            "5",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "http://127.0.0.1:" in line, line
        base_url = line.split("http://", 1)[1].split()[0]
        index = httpx.get(f"http://{base_url}/", timeout=5).json()
        assert index["time_scale"] == 0.01 and index["providers"][0] == "xai"
    finally:
        proc.terminate()
        proc.wait(10)
    assert json.dumps(index)  # the index is plain JSON


class _RecordingTransport:
    """Stands in for a served connection's asyncio transport: records when it is closed."""

    def __init__(self, received: list[dict[str, Any]]) -> None:
        self.received = received
        self.closed_after: int | None = None  # request messages read when close() was called

    def close(self) -> None:
        self.closed_after = len(self.received)


async def _drop_over_asgi(fault: str) -> tuple[_RecordingTransport, list[dict[str, Any]], Sandbox]:
    """One APIXO submit with ``fault`` injected, its body in two ASGI messages, through the
    served app with a recorded transport; returns (transport, messages read, sandbox)."""
    sandbox = Sandbox(SandboxConfig(time_scale=0.005, seed=3))
    apixo = CASES["apixo"]
    body = json.dumps(apixo.body).encode()
    server, peer = ("127.0.0.1", 8765), ("127.0.0.1", 50000)
    received: list[dict[str, Any]] = []
    transport = _RecordingTransport(received)
    sandbox._transports[(server, peer)] = transport  # type: ignore[assignment]
    parts = [{"type": "http.request", "body": body[:10], "more_body": True},
             {"type": "http.request", "body": body[10:], "more_body": False}]
    never = asyncio.Event()

    async def receive() -> dict[str, Any]:
        if len(received) == len(parts):
            await never.wait()  # as uvicorn: after the body, receive() waits for a disconnect
        received.append(parts[len(received)])
        return received[-1]

    async def send(message: dict[str, Any]) -> None:
        raise AssertionError(f"a dropped connection sent {message['type']}")

    headers = [(k.lower().encode(), v.encode()) for k, v in apixo.headers.items()]
    headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
             "scheme": "http", "path": apixo.submit_path, "raw_path": apixo.submit_path.encode(),
             "query_string": b"", "root_path": "", "headers": headers, "server": server, "client": peer}
    sandbox.inject("apixo", "submit", fault)
    await asyncio.wait_for(sandbox.app(scope, receive, send), 5)
    return transport, received, sandbox


@pytest.mark.timeout(30)
async def test_a_drop_reads_the_request_to_its_end_before_closing() -> None:
    """A drop fires before the route reads the body; closing with request bytes unread or
    still arriving makes the kernel send RST, so under load the client saw "connection reset"
    (httpx.ReadError) instead of "disconnected without a response". The server now reads the
    request to its last body message, then closes."""
    transport, received, sandbox = await _drop_over_asgi("drop")
    assert transport.closed_after == 2 and len(received) == 2
    assert sandbox.stats.tasks_created["apixo"] == 0


@pytest.mark.timeout(30)
async def test_a_lost_reply_closes_without_waiting_for_more() -> None:
    """After ``lost_reply`` the route has read the whole body: the drop closes at once (it
    does not wait on a receive() that only a disconnect would end)."""
    transport, received, sandbox = await _drop_over_asgi("lost_reply")
    assert transport.closed_after == 2 and len(received) == 2
    assert sandbox.stats.tasks_created["apixo"] == 1
