"""Issue 14, low items on resume and cancel: `resume()` tells an intent that never left from
one whose reply was lost, leaves a job another live process is still submitting alone, and a
cancelled job (cancel only stops the local polling) is re-attached by `resume()` and by reuse,
so the clip the provider may still finish and charge is never lost."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import grokvid_nb as gv
from grokvid_nb._ledger import Ledger

from .conftest import HostileServer, reply

pytestmark = pytest.mark.timeout(20)
KEY = "sk-live-RESUME-0123456789abcdef"
SUBMIT = "/v1/videos/generations"


def _intent(ledger: Ledger, endpoint: str, *, owner: str, sent: bool) -> str:
    job_id = ledger.record_intent(provider="xai", model="grok-imagine-video", mode="text",
                                  prompt="p", params={}, endpoint=endpoint, fingerprint="f",
                                  sample_index=0)
    ledger.update(job_id, owner=owner, **({"submitted_at": 1.0} if sent else {}))
    return job_id


def _dead_owner() -> str:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return f"{child.pid}@{socket.gethostname()}"


def test_resume_marks_never_sent_failed_and_maybe_sent_unknown(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.sqlite3")
    dead = _dead_owner()
    never = _intent(ledger, "http://127.0.0.1:9", owner=dead, sent=False)
    maybe = _intent(ledger, "http://127.0.0.1:9", owner=dead, sent=True)
    assert gv.resume(ledger) == []
    never_row, maybe_row = ledger.get(never), ledger.get(maybe)
    assert never_row is not None and maybe_row is not None
    assert (never_row.state, never_row.error_code) == ("failed", "never_sent")
    assert "nothing was charged" in (never_row.error_message or "")
    assert (maybe_row.state, maybe_row.error_code) == ("unknown", "submit_reply_lost")
    assert "may have been created and charged" in (maybe_row.error_message or "")


def test_resume_leaves_a_job_another_live_process_is_submitting(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.sqlite3")
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        job_id = _intent(ledger, "http://127.0.0.1:9", owner=f"{other.pid}@{socket.gethostname()}",
                         sent=True)
        assert gv.resume(ledger) == []
        row = ledger.get(job_id)
        assert row is not None and (row.state, row.error_code) == ("queued", None)
    finally:
        other.kill()
        other.wait()
    assert gv.resume(ledger) == []  # that process is gone now: the reply is lost
    row = ledger.get(job_id)
    assert row is not None and (row.state, row.error_code) == ("unknown", "submit_reply_lost")


def _pending_then_done(server: HostileServer, task: str) -> dict[str, bool]:
    switch = {"done": False}
    done = json.dumps({"status": "done", "video": {"url": server.url("/v.mp4")}}).encode()

    def poll(conn: object) -> None:
        reply(done if switch["done"] else b'{"status": "pending"}')(conn)  # type: ignore[arg-type]

    server.route(SUBMIT, reply(json.dumps({"request_id": task}).encode()))
    server.route(f"/v1/videos/{task}", poll)
    return switch


def test_cancelled_job_is_resumed_and_its_clip_fetched(hostile: HostileServer, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XAI_API_KEY", KEY)
    switch = _pending_then_done(hostile, "task-c1")
    ledger = Ledger(tmp_path / "l.sqlite3")
    job = gv.Client("xai", base_url=hostile.url(), ledger=ledger).submit("p")
    job.cancel()
    assert job.wait(5).status is gv.State.CANCELLED
    assert ledger.get(job.job_id).task_id == "task-c1"  # type: ignore[union-attr]
    switch["done"] = True  # the provider finished it anyway (and charged it)
    resumed = gv.resume(ledger)
    assert [j.task_id for j in resumed] == ["task-c1"]
    res = resumed[0].wait(10)
    assert (res.status, res.task_id, res.video_urls) == (gv.State.SUCCEEDED, "task-c1",
                                                          (hostile.url("/v.mp4"),))
    assert sum(1 for m, _p, _h in hostile.requests if m == "POST") == 1


def test_cancelled_job_is_reused_and_polled_again(hostile: HostileServer, tmp_path: Path) -> None:
    switch = _pending_then_done(hostile, "task-c2")
    client = gv.Client("xai", api_key=KEY, base_url=hostile.url(), ledger=Ledger(tmp_path / "l.sqlite3"))
    first = client.submit("p")
    first.cancel()
    switch["done"] = True
    again = client.start("p")
    res = again.wait(10)
    assert (res.status, res.task_id, again.reused) == (gv.State.SUCCEEDED, "task-c2", True)
    assert sum(1 for m, _p, _h in hostile.requests if m == "POST") == 1
