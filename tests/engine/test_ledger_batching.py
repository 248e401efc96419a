"""Progress and poll counts are batched off the event loop; nothing money-related is: the
intent and the task id are on disk when the calls that make them return."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

import grokvid_nb as gv
from grokvid_nb._ledger import FLUSH_INTERVAL_S, Ledger

pytestmark = pytest.mark.timeout(30)


def _intent(ledger: Ledger) -> str:
    return ledger.record_intent(provider="xai", model="grok-imagine-video", mode="text", prompt="p",
                                params={}, endpoint="http://x", fingerprint="f", sample_index=0)


def _on_disk(path: Path, job_id: str, column: str) -> object:
    with sqlite3.connect(path) as raw:  # another connection: only committed data
        row = raw.execute(f"SELECT {column} FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
    return None if row is None else row[0]


def test_only_progress_and_poll_counts_may_wait(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.sqlite3")
    job_id = _intent(ledger)
    for column in ("state", "task_id", "cost_usd"):
        with pytest.raises(KeyError, match="may be deferred"):
            ledger.update_soon(job_id, **{column: "x"})


def test_the_intent_is_on_disk_when_record_intent_returns(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.sqlite3")
    job_id = _intent(ledger)
    assert _on_disk(ledger.path, job_id, "state") == "queued"


def test_batched_updates_reach_the_disk_within_a_tick(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.sqlite3")
    ids = [_intent(ledger) for _ in range(50)]
    for n, job_id in enumerate(ids):
        ledger.update_soon(job_id, progress=n / 100, polls=n)
    assert _on_disk(ledger.path, ids[7], "polls") == 0  # not yet: no commit on the caller's thread
    end = time.monotonic() + 10 * FLUSH_INTERVAL_S
    while _on_disk(ledger.path, ids[-1], "polls") != 49 and time.monotonic() < end:
        time.sleep(0.05)
    assert [_on_disk(ledger.path, i, "polls") for i in ids] == list(range(50))
    assert _on_disk(ledger.path, ids[7], "progress") == 0.07


def test_a_pending_update_never_lands_after_a_later_direct_one(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.sqlite3")
    job_id = _intent(ledger)
    ledger.update_soon(job_id, polls=3, progress=0.5)
    ledger.update(job_id, state="succeeded", polls=7)  # takes the pending progress along
    ledger.flush()
    assert (_on_disk(ledger.path, job_id, "polls"), _on_disk(ledger.path, job_id, "progress"),
            _on_disk(ledger.path, job_id, "state")) == (7, 0.5, "succeeded")


def test_a_reader_sees_pending_updates(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.sqlite3")
    job_id = _intent(ledger)
    ledger.update_soon(job_id, polls=4)
    row = ledger.get(job_id)
    assert row is not None and row.polls == 4


def test_the_task_id_is_on_disk_when_submit_returns() -> None:
    gv.use_sandbox(time_scale=0.01, seed=5)
    try:
        client = gv.Client("xai")
        job = client.submit("a paid job [sandbox:latency=300]")
        assert job.task_id is not None
        assert _on_disk(client.ledger.path, job.job_id, "task_id") == job.task_id
        job.cancel()
    finally:
        gv.use_sandbox(False)


def test_the_task_id_and_the_queued_state_are_one_write(monkeypatch: pytest.MonkeyPatch) -> None:
    # the reply to a submit is one transaction (task id, accepted time, state): a second write
    # of the same state cost every job a transaction on the event loop
    from grokvid_nb._job import Job
    from grokvid_nb._types import State

    writes: list[dict[str, object]] = []
    notified: list[tuple[State, str | None]] = []
    real_write, real_notify = Ledger._write, Job._notify

    def write(self: Ledger, job_id: str, fields: dict[str, object]) -> None:
        writes.append(dict(fields))
        real_write(self, job_id, fields)

    def notify(self: Job) -> None:
        notified.append((self.state, self.task_id))
        real_notify(self)

    monkeypatch.setattr(Ledger, "_write", write)
    monkeypatch.setattr(Job, "_notify", notify)
    gv.use_sandbox(time_scale=0.01, seed=5)
    try:
        client = gv.Client("xai")
        job = client.start("a paid job [sandbox:succeed] [sandbox:latency=30]", reuse=False)
        assert job.wait(20).ok
    finally:
        gv.use_sandbox(False)
    with_id = [w for w in writes if w.get("task_id") is not None]
    assert with_id[0].keys() - {"updated_at"} == {"task_id", "accepted_at", "state"}
    assert with_id[0]["state"] == "queued" and with_id[0]["task_id"] == job.task_id
    assert [w for w in writes if w.get("state") == "queued"] == [with_id[0]]
    assert writes[0].keys() - {"updated_at"} == {"submitted_at"}  # before the submit left
    assert (State.QUEUED, job.task_id) in notified  # views still hear of the task id at once
    assert _on_disk(client.ledger.path, job.job_id, "task_id") == job.task_id
    assert _on_disk(client.ledger.path, job.job_id, "state") == "succeeded"
