"""Issue 14 item 3 and the ledger items of the low list: a full disk, a read-only file or a
corrupted ledger ends a job with a `LedgerError` message naming the file, `wait()` never
raises a raw sqlite error, the deadline holds, and a task id the provider returned is never
lost (kept on the job, printed in the error, written as soon as the file takes it)."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import time
from pathlib import Path
from typing import Any

import pytest

import grokvid_nb as gv
from grokvid_nb._ledger import Ledger

from .conftest import HostileServer, never_answer, reply

pytestmark = pytest.mark.timeout(20)
KEY = "sk-live-LEDGER-0123456789abcdef"
SUBMIT = "/v1/videos/generations"
FULL = "database or disk is full"


class FlakyConnection:
    """A sqlite3 connection whose writes fail with "disk full" while `full` is set, once the
    statement matches `when` (a substring of the SQL or of its arguments)."""

    def __init__(self, real: sqlite3.Connection, switch: dict[str, Any]) -> None:
        self.real, self.switch = real, switch

    def execute(self, sql: str, args: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        when = self.switch.get("when")
        if self.switch.get("full") and sql.startswith("UPDATE") and (
                when is None or when in sql or any(when == a for a in args)):
            raise sqlite3.OperationalError(FULL)
        return self.real.execute(sql, args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def _flaky(ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    switch: dict[str, Any] = {"full": False}
    real = ledger._connection

    def connection() -> Any:
        return FlakyConnection(real(), switch)

    monkeypatch.setattr(ledger, "_connection", connection)
    return switch


def _client(server: HostileServer, ledger: Ledger, **kw: Any) -> gv.Client:
    return gv.Client("xai", api_key=KEY, base_url=server.url(), ledger=ledger, **kw)


def _done_body(server: HostileServer) -> bytes:
    return json.dumps({"status": "done", "video": {"url": server.url("/v.mp4")}}).encode()


def test_disk_full_when_the_task_id_arrives_keeps_it_and_writes_it_later(
        hostile: HostileServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hostile.route(SUBMIT, reply(b'{"request_id": "task-kept-1"}'))
    hostile.route("/v1/videos/task-kept-1", reply(b'{"status": "pending"}'))
    ledger = Ledger(tmp_path / "l.sqlite3")
    switch = _flaky(ledger, monkeypatch)
    switch.update(full=True, when="task_id")
    job = _client(hostile, ledger).start("p")
    res = job.wait(10)
    assert (res.status, res.error_code) == (gv.State.UNKNOWN, "ledger_error")
    assert job.task_id == "task-kept-1" and res.task_id == "task-kept-1"
    assert str(ledger.path) in (res.error_message or "")
    assert "task-kept-1" in (res.error_message or "")
    assert "Free some disk space" in (res.error_message or "")
    assert ledger.get(job.job_id).task_id is None  # type: ignore[union-attr]
    switch["full"] = False  # the disk has room again: the retry timer writes it
    deadline = time.monotonic() + 5
    while ledger.get(job.job_id).task_id is None and time.monotonic() < deadline:  # type: ignore[union-attr]
        time.sleep(0.05)
    row = ledger.get(job.job_id)
    assert row is not None and (row.task_id, row.state) == ("task-kept-1", "unknown")
    assert ledger.pending() == 0
    assert sum(1 for m, _p, _h in hostile.requests if m == "POST") == 1


def test_disk_full_before_the_submit_sends_nothing(hostile: HostileServer, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    hostile.route(SUBMIT, reply(b'{"request_id": "t"}'))
    ledger = Ledger(tmp_path / "l.sqlite3")
    switch = _flaky(ledger, monkeypatch)
    switch.update(full=True, when="submitted_at")
    res = _client(hostile, ledger).start("p").wait(10)
    assert (res.status, res.error_code) == (gv.State.FAILED, "ledger_error")
    assert "Nothing was sent" in (res.error_message or "")
    assert hostile.requests == []


def test_disk_full_everywhere_wait_timeout_returns_and_the_deadline_holds(
        hostile: HostileServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hostile.route(SUBMIT, never_answer())
    ledger = Ledger(tmp_path / "l.sqlite3")
    switch = _flaky(ledger, monkeypatch)
    job = _client(hostile, ledger, deadline_s=1.5).start("p")
    deadline = time.monotonic() + 5
    while not hostile.requests and time.monotonic() < deadline:
        time.sleep(0.01)
    switch.update(full=True, when=None)
    start = time.monotonic()
    res = job.wait(0.5)  # never a raw sqlite error
    assert time.monotonic() - start < 3
    assert res.status is gv.State.TIMED_OUT
    assert res.error_code == "ledger_error"
    assert str(ledger.path) in (res.error_message or "")


def test_disk_full_at_the_end_keeps_the_video_usable(hostile: HostileServer, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    hostile.route(SUBMIT, reply(b'{"request_id": "task-2"}'))
    hostile.route("/v1/videos/task-2", reply(_done_body(hostile)))
    ledger = Ledger(tmp_path / "l.sqlite3")
    switch = _flaky(ledger, monkeypatch)
    switch.update(full=True, when="finished_at")
    res = _client(hostile, ledger).submit("p").wait(10)
    assert (res.status, res.task_id, res.error_code) == (gv.State.SUCCEEDED, "task-2", "ledger_error")
    assert res.video_urls == (hostile.url("/v.mp4"),)
    assert ledger.unsaved_task_ids() == ("task-2",)


def test_corrupted_ledger_names_the_path_and_how_to_recover(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    path.write_bytes(b"this is not a database, it is " * 200)
    with pytest.raises(gv.LedgerError) as info:
        gv.Client("xai", api_key=KEY, base_url="http://127.0.0.1:9", home=tmp_path)
    assert info.value.path == str(path)
    assert f"mv {path} {path}.damaged" in str(info.value)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes read-only files")
def test_read_only_ledger_refuses_before_sending(hostile: HostileServer, tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.sqlite3")
    ledger.path.chmod(stat.S_IRUSR)
    hostile.route(SUBMIT, reply(b'{"request_id": "t"}'))
    with pytest.raises(gv.LedgerError) as info:
        _client(hostile, Ledger(tmp_path / "l.sqlite3")).start("p")
    assert str(ledger.path) in str(info.value)
    assert hostile.requests == []


def test_read_only_ledger_file_is_an_error_with_the_path(hostile: HostileServer, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Also as root: the file opened read-only by SQLite itself (mode=ro), as a read-only mount."""
    Ledger(tmp_path / "l.sqlite3")
    ledger = Ledger(tmp_path / "l.sqlite3")
    real_connect = sqlite3.connect

    def read_only(path: Any, *a: Any, **kw: Any) -> sqlite3.Connection:
        return real_connect(f"file:{path}?mode=ro", *a, uri=True, **kw)

    ledger._local.conn = None
    monkeypatch.setattr(sqlite3, "connect", read_only)
    hostile.route(SUBMIT, reply(b'{"request_id": "t"}'))
    with pytest.raises(gv.LedgerError) as info:
        _client(hostile, ledger).start("p")
    assert info.value.path == str(ledger.path)
    assert "writable" in info.value.hint
    assert hostile.requests == []
