"""Issue 14 items 2, 4, 5 and 9 through the public API, against the hostile server: a dripping
submit or poll reply ends the job at its deadline, a gzip-bomb poll reply is capped, a hostile
task id cannot steer a download out of its folder, and a download never replaces a device nor
outlives its own timeout or size cap."""

from __future__ import annotations

import json
import os
import stat
import time
import tracemalloc
import uuid
from pathlib import Path

import pytest

import grokvid_nb as gv
from grokvid_nb._exceptions import DeadlineExceededError, ReplyTooLargeError, UnsafePathError

from .conftest import Behaviour, HostileServer, drip, gzip_bomb, gzip_bomb_bytes, reply

pytestmark = pytest.mark.timeout(20)
KEY = "sk-live-HOSTILE-0123456789abcdef"
SUBMIT = "/v1/videos/generations"
MP4 = b"\x00\x00\x00\x18ftypisom" + b"\x00" * 2000


def _done(server: HostileServer) -> bytes:
    return json.dumps({"status": "done", "video": {"url": server.url("/v.mp4"), "duration": 6},
                       "progress": 100}).encode()


def _client(server: HostileServer, **kw: object) -> gv.Client:
    return gv.Client("xai", api_key=KEY, base_url=server.url(), **kw)


def _posts(server: HostileServer) -> int:
    return sum(1 for method, _p, _h in server.requests if method == "POST")


def test_dripping_submit_reply_ends_unknown_at_the_deadline(hostile: HostileServer) -> None:
    hostile.route(SUBMIT, drip(b'{"request_id": "task-1"}', interval=0.5))
    start = time.monotonic()
    res = _client(hostile, deadline_s=2).start("p").wait(15)
    assert time.monotonic() - start <= 3.5
    assert (res.status, res.error_code, res.task_id) == (gv.State.UNKNOWN, "submit_reply_lost", None)
    assert "It was NOT resent" in (res.error_message or "")
    assert _posts(hostile) == 1


def test_dripping_poll_reply_times_out_at_the_deadline(hostile: HostileServer) -> None:
    hostile.route(SUBMIT, reply(b'{"request_id": "task-1"}'))
    hostile.route("/v1/videos/task-1", drip(b'{"status": "pending"}', interval=0.5))
    start = time.monotonic()
    res = _client(hostile, deadline_s=2).submit("p").wait(15)
    assert time.monotonic() - start <= 3.5
    assert (res.status, res.task_id) == (gv.State.TIMED_OUT, "task-1")
    assert _posts(hostile) == 1


def test_gzip_bomb_poll_reply_is_capped(hostile: HostileServer) -> None:
    hostile.route(SUBMIT, reply(b'{"request_id": "task-1"}'))
    hostile.route("/v1/videos/task-1", gzip_bomb(inflated_mib=1024))
    gzip_bomb_bytes(1024)
    tracemalloc.start()
    try:
        res = _client(hostile, deadline_s=2).submit("p").wait(15)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # each bomb stops at the cap; three unreadable replies in a row end the job (not a silent
    # poll to the deadline), saying what came back and keeping the task id
    assert (res.status, res.error_code, res.task_id, res.polls) == (gv.State.UNKNOWN, "unreadable_reply", "task-1", 3)
    assert "reply larger than the cap of 1048576 bytes" in (res.error_message or "")
    assert peak < 50 * (1 << 20)


def _succeeded(hostile: HostileServer, task_id: str, video: Behaviour | None = None) -> gv.Result:
    hostile.route(SUBMIT, reply(json.dumps({"request_id": task_id}).encode()))
    hostile.route("*", reply(_done(hostile)))
    hostile.route("/v.mp4", video or reply(MP4, headers={"Content-Type": "video/mp4"}))
    res = _client(hostile).submit("p").wait(15)
    assert res.ok
    return res


def test_hostile_task_id_cannot_leave_the_downloads_folder(hostile: HostileServer) -> None:
    marker = f"gv-{uuid.uuid4().hex}"
    res = _succeeded(hostile, f"../../../../tmp/{marker}/pwned")
    path = res.download()
    downloads = gv.Client("xai", api_key=KEY, base_url=hostile.url()).home / "downloads"
    assert path.parent == downloads and path.read_bytes() == MP4
    assert path.name.startswith(f"xai-tmp_{marker}_pwned-") and path.suffix == ".mp4"
    assert not Path("/tmp", marker).exists()
    assert sorted(p.name for p in downloads.iterdir()) == [path.name]


def test_download_never_replaces_a_device_or_trusts_one_as_cached(hostile: HostileServer,
                                                                  tmp_path: Path) -> None:
    res = _succeeded(hostile, "task-1")
    # a private twin of /dev/null (root only): a regression must not replace the machine's own
    device = tmp_path / "null"
    try:
        os.mknod(device, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except OSError:
        device = None  # type: ignore[assignment]
    if device is not None:
        with pytest.raises(UnsafePathError, match="it is a character device"):
            res.download(device)
        assert stat.S_ISCHR(device.lstat().st_mode)
    fifo = tmp_path / "fifo.mp4"
    os.mkfifo(fifo)
    with pytest.raises(UnsafePathError, match="it is a FIFO"):
        res.download(fifo)
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    job = res.link.download.__self__  # type: ignore[union-attr]  # the Job behind the result
    job.local_path = Path("/dev/null")  # as a poisoned ledger row would restore it
    path = res.download()
    assert path != Path("/dev/null") and path.read_bytes() == MP4


def test_download_has_its_own_overall_timeout(hostile: HostileServer, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    res = _succeeded(hostile, "task-1", drip(MP4, interval=0.2, content_type="video/mp4"))
    monkeypatch.setenv("GROKVID_DOWNLOAD_TIMEOUT_S", "1.5")
    start = time.monotonic()
    with pytest.raises(DeadlineExceededError):
        res.download(tmp_path / "v.mp4")
    assert time.monotonic() - start <= 2.5
    assert list(tmp_path.iterdir()) == []


def test_download_of_a_gzip_bomb_is_capped(hostile: HostileServer, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    res = _succeeded(hostile, "task-1", gzip_bomb(inflated_mib=1024, content_type="video/mp4"))
    monkeypatch.setenv("GROKVID_MAX_DOWNLOAD_BYTES", str(8 << 20))
    with pytest.raises(ReplyTooLargeError, match="cap of 8388608 bytes"):
        res.download(tmp_path / "v.mp4")
    assert list(tmp_path.iterdir()) == []


def test_rate_limit_wait_counts_against_the_deadline(hostile: HostileServer) -> None:
    hostile.route(SUBMIT, reply(b'{"request_id": "task-1"}'))
    client = _client(hostile, deadline_s=1)
    client.limiter.penalize(30)  # as after a 429 with Retry-After: 30
    start = time.monotonic()
    res = client.start("p").wait(15)
    assert time.monotonic() - start <= 2.0
    assert (res.status, res.task_id) == (gv.State.TIMED_OUT, None)
    assert res.error_message == ("the deadline passed while waiting for xai's rate limit; nothing "
                                 "was sent; no task was created")
    assert hostile.requests == []
