"""The engine against scripted replies (httpx.MockTransport): retries that are safe with money,
deadlines, cancel, reuse, the ledger and downloads."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

import grokvid_nb as gv
from grokvid_nb._ledger import Ledger

KEY = "sk-live-TOPSECRET-0123456789"
DONE = {"status": "done", "video": {"url": "https://cdn.example/v.mp4", "duration": 6},
        "progress": 100, "usage": {"cost_in_usd_ticks": 3_000_000_000}}


class Script:
    """A MockTransport handler that replays scripted submit and poll outcomes."""

    def __init__(self, submits: list[object], polls: list[object]) -> None:
        self.submits: Iterator[object] = iter(submits)
        self.polls: Iterator[object] = iter(polls)
        self.submit_count = 0
        self.poll_count = 0
        self.seen: list[httpx.Request] = []
        self.lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.seen.append(request)
            if request.method == "POST":
                self.submit_count += 1
                step = next(self.submits, {"request_id": "task-1"})
            elif request.url.host == "cdn.example":
                return httpx.Response(200, content=b"\x00\x00\x00\x18ftypisom" + b"\x00" * 64,
                                      headers={"content-type": "video/mp4"})
            else:
                self.poll_count += 1
                step = next(self.polls, DONE)
        if isinstance(step, Exception):
            raise step
        if isinstance(step, httpx.Response):
            return step
        return httpx.Response(200, json=step)


def client(script: Callable[[httpx.Request], httpx.Response], **kw: object) -> gv.Client:
    return gv.Client("xai", api_key=KEY, transport=httpx.MockTransport(script), **kw)


def test_happy_path_reports_cost_and_counts_polls() -> None:
    script = Script([], [{"status": "pending"}, {"status": "processing", "progress": 50}, DONE])
    job = client(script).submit("a lakeside", duration=6)
    assert job.task_id == "task-1"
    res = job.wait(timeout=20)
    assert res.ok and res.status == "succeeded"
    assert res.cost_usd == pytest.approx(0.30) and res.cost_source == "reported"
    assert res.polls == 3 and script.poll_count == 3 and script.submit_count == 1
    assert res.latency_s is not None and res.latency_s > 0


@pytest.mark.parametrize("first", [
    httpx.ConnectError("refused"),
    httpx.Response(429, json={"code": "rate", "error": "slow down"}, headers={"Retry-After": "0"}),
    httpx.Response(503, text="unavailable"),
])
def test_submit_is_retried_only_when_no_task_can_exist(first: object) -> None:
    script = Script([first], [])
    res = client(script).submit("p").wait(20)
    assert res.ok
    assert script.submit_count == 2


@pytest.mark.parametrize("first, code", [
    (httpx.ReadTimeout("reply lost"), "submit_reply_lost"),
    (httpx.RemoteProtocolError("dropped"), "submit_reply_lost"),
    (httpx.Response(500, text="boom"), "http_500"),
    (httpx.Response(200, text="<html>gateway</html>"), "unreadable_submit_reply"),
])
def test_lost_submit_reply_ends_unknown_and_is_never_resent(first: object, code: str) -> None:
    script = Script([first], [])
    job = client(script).submit("p")
    res = job.wait(20)
    assert res.status == "unknown" and res.error_code == code
    assert "charged" in (res.error_message or "") and "NOT resent" in (res.error_message or "")
    assert script.submit_count == 1
    # asking again for the identical request does not pay again either
    again = client(script).submit("p")
    assert again.state == "unknown" and again.reused and script.submit_count == 1


def test_rejected_submit_fails_with_the_providers_words() -> None:
    script = Script([httpx.Response(400, json={"code": "bad-arg", "error": "duration too long"})], [])
    res = client(script).submit("p").wait(20)
    assert res.status == "failed" and res.error_code == "bad-arg"
    assert "duration too long" in (res.error_message or "")
    assert script.submit_count == 1


def test_polls_retry_through_every_transient_fault() -> None:
    faults = [
        httpx.Response(429, json={"code": "r", "error": "slow"}, headers={"Retry-After": "0"}),
        httpx.Response(429, json={"code": "r", "error": "slow"},
                       headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}),
        httpx.Response(500, text="oops"), httpx.Response(502, text="bad gateway"),
        httpx.Response(200, text="<html>not json</html>"),
        httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("dropped"), httpx.ConnectError("refused"),
    ]
    script = Script([], faults + [DONE])
    res = client(script).submit("p").wait(30)
    assert res.ok and script.submit_count == 1
    assert res.polls == len(faults) + 1


def test_failed_and_expired_are_terminal() -> None:
    failed = {"status": "failed", "error": {"code": "moderation", "message": "rejected"}}
    res = client(Script([], [failed])).submit("p").wait(20)
    assert res.status == "failed" and res.error_code == "moderated"  # moderation: its own code
    assert res.error_message.endswith("rejected [moderation]")
    res = client(Script([], [{"status": "expired"}])).submit("q").wait(20)
    assert res.status == "expired"


def test_deadline_ends_timed_out_and_keeps_task_id() -> None:
    script = Script([], [{"status": "processing", "progress": 1}] * 10_000)
    # its own endpoint, so its own rate limiter: jobs other tests left polling cannot delay the
    # submit past the deadline (which would rightly end it timed_out with nothing sent)
    job = client(script, deadline_s=0.5, base_url="https://deadline.example").submit("p")
    res = job.wait(20)
    assert res.status == "timed_out" and res.task_id == "task-1"
    row = Ledger(Path(gv.Client("xai", api_key=KEY).ledger.path)).get(job.job_id)
    assert row is not None and row.state == "timed_out" and row.task_id == "task-1"


def test_wait_timeout_and_cancel_end_in_clear_states() -> None:
    endless = [{"status": "processing"}] * 10_000
    job = client(Script([], endless)).submit("p1")
    res = job.wait(timeout=0.2)
    assert res.status == "timed_out" and job.done()
    job = client(Script([], endless)).submit("p2")
    job.cancel()
    assert job.state == "cancelled" and job.wait(1).status == "cancelled"


def test_identical_request_reuses_and_reuse_false_pays_again() -> None:
    script = Script([{"request_id": "a"}, {"request_id": "b"}], [])
    first = client(script).submit("same", duration=5)
    first.wait(20)
    second = client(script).submit("same", duration=5)
    assert second.reused and second.task_id == "a" and script.submit_count == 1
    assert second.wait(1).ok
    third = client(script).submit("same", duration=5, reuse=False)
    assert third.task_id == "b" and script.submit_count == 2
    other_sample = client(script).submit("same", duration=5, sample_index=1)
    assert not other_sample.reused and script.submit_count == 3


def test_ledger_never_stores_the_key(_isolated_home: Path) -> None:
    script = Script([], [])
    client(script).submit("p").wait(20)
    dump = "\n".join(sqlite3.connect(_isolated_home / "ledger.sqlite3").iterdump())
    assert "task-1" in dump and KEY not in dump


def test_download_is_atomic_sends_no_key_and_checks_video(tmp_path: Path) -> None:
    script = Script([], [])
    res = client(script).submit("p").wait(20)
    path = res.download(tmp_path / "clip.mp4")
    assert path.read_bytes()[4:8] == b"ftyp"
    cdn = [r for r in script.seen if r.url.host == "cdn.example"]
    assert cdn and all("authorization" not in r.headers for r in cdn)
    assert not list(tmp_path.glob(".part-*"))


def cdn_serving(cdn: Callable[[], httpx.Response]) -> Callable[[httpx.Request], httpx.Response]:
    """A provider whose job succeeds at once, with its video host answering `cdn()`."""
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(200, json={"request_id": "t"})
        if request.url.host == "cdn.example":
            return cdn()
        return httpx.Response(200, json=DONE)

    return handler


def test_download_rejects_non_video(tmp_path: Path) -> None:
    res = client(cdn_serving(lambda: httpx.Response(
        200, text="<html>expired</html>", headers={"content-type": "text/html"}))).submit("p").wait(20)
    with pytest.raises(gv.DownloadError, match="not a video") as caught:
        res.download(tmp_path / "x.mp4")
    assert caught.value.url == "https://cdn.example/v.mp4"
    assert caught.value.status_code == 200
    assert not (tmp_path / "x.mp4").exists()
    assert not list(tmp_path.glob(".part-*"))


def test_download_http_error_is_a_download_error(tmp_path: Path) -> None:
    res = client(cdn_serving(lambda: httpx.Response(404, text="gone"))).submit("p").wait(20)
    with pytest.raises(gv.DownloadError, match="HTTP 404.*expire") as caught:
        res.download(tmp_path / "x.mp4")
    assert not isinstance(caught.value, gv.TransportError)
    assert caught.value.status_code == 404
    assert not (tmp_path / "x.mp4").exists()
    assert not list(tmp_path.glob(".part-*"))


def test_fixed_poll_interval_is_used() -> None:
    script = Script([], [{"status": "processing"}] * 2 + [DONE])
    start = time.monotonic()
    client(script, poll_interval=0.3).submit("p").wait(20)
    assert time.monotonic() - start >= 3 * 0.3 * 0.95  # three polls, 0.3 s apart, +-5 % jitter


def test_validation_happens_before_any_request() -> None:
    script = Script([], [])
    with pytest.raises(gv.ValidationError, match="duration"):
        client(script).submit("p", duration=99)
    assert script.seen == []


async def test_await_job_from_async_code() -> None:
    script = Script([], [{"status": "processing", "progress": 10}, DONE])
    job = await client(script).submit_async("async prompt")
    assert job.task_id == "task-1"
    res = await job
    assert res.ok and res.cost_source == "reported"


def test_stopping_during_the_submit_keeps_the_paid_task_id() -> None:
    import asyncio

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            await asyncio.sleep(0.5)  # the provider is slow to answer the submit
            return httpx.Response(200, json={"request_id": "slow-task"})
        return httpx.Response(200, json=DONE)

    c = client(handler)
    job = c.start("slow submit")
    res = job.wait(timeout=0.1)  # gives up while the submit is in flight
    assert res.status == "timed_out"
    row = None
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        row = c.ledger.get(job.job_id)
        if row is not None and row.task_id:
            break
        time.sleep(0.05)
    assert row is not None and row.task_id == "slow-task" and row.state == "timed_out"
    resumed = c.resume()  # this client holds the key and the transport
    assert [j.task_id for j in resumed] == ["slow-task"]
    assert resumed[0].wait(20).ok


def test_download_without_a_reply_is_a_transport_error(tmp_path: Path) -> None:
    def refuse() -> httpx.Response:
        raise httpx.ConnectError("refused")

    res = client(cdn_serving(refuse)).submit("p").wait(20)
    with pytest.raises(gv.TransportError, match="ConnectError: refused") as caught:
        res.download(tmp_path / "x.mp4")
    assert isinstance(caught.value.__cause__, httpx.ConnectError)
    assert not (tmp_path / "x.mp4").exists()
    assert not list(tmp_path.glob(".part-*"))


def test_finished_progress_jobs_teach_the_end_ratio_later_jobs_aim_at(monkeypatch: pytest.MonkeyPatch) -> None:
    from grokvid_nb._schedule import end_ratios

    taught: list[tuple[object, float, float]] = []
    learn = end_ratios.add
    monkeypatch.setattr(end_ratios, "add", lambda key, low, high: (taught.append((key, low, high)),
                                                                   learn(key, low, high)))
    plain = client(Script([], [{"status": "processing"}, DONE] * 2))
    assert all(plain.submit(f"no figures {i}").wait(20).ok for i in range(2))
    assert taught == []  # no progress figures: nothing to learn

    figures = [{"status": "processing", "progress": p} for p in (20, 40, 60, 80, 99)]
    jobs = []
    for i in range(3):
        job = client(Script([], [*figures, DONE])).submit(f"with figures {i}", duration=6)
        assert job.wait(20).ok
        jobs.append(job)
    assert [key for key, _, _ in taught] == [job._memory_key() for job in jobs]
    assert all(low <= high for _, low, high in taught)
    assert end_ratios.window(jobs[0]._memory_key()) is not None  # three seen: later jobs read it


def test_a_reattached_task_teaches_no_end_ratio(monkeypatch: pytest.MonkeyPatch) -> None:
    from grokvid_nb._schedule import end_ratios

    taught: list[object] = []
    monkeypatch.setattr(end_ratios, "add", lambda key, low, high: taught.append(key))
    figures = [{"status": "processing", "progress": p} for p in (20, 40, 60, 80, 99)]
    c = client(Script([], [*figures, DONE]))
    job = c.start("given up on before its first poll", duration=6)
    assert job.wait(timeout=0.05).status == "timed_out"  # the task id is kept in the ledger
    resumed = c.resume()
    assert [j.task_id for j in resumed] == ["task-1"]
    assert resumed[0].wait(20).ok
    assert taught == []  # its readings start mid-run: nothing learned from them


@pytest.fixture
def heard_queued(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """The `queued` argument of every `PollSchedule.next_delay` call, in order."""
    from grokvid_nb._schedule import PollSchedule

    heard: list[bool] = []
    original = PollSchedule.next_delay

    def recording(self: PollSchedule, elapsed: float, progress: float | None = None,
                  retry_after: float | None = None, queued: bool = False) -> float:
        heard.append(queued)
        return original(self, elapsed, progress, retry_after, queued=queued)

    monkeypatch.setattr(PollSchedule, "next_delay", recording)
    return heard


def test_the_schedule_hears_the_status_word_queued_from_poll_replies_only(heard_queued: list[bool]) -> None:
    """A reply that says queued (xAI `pending`) tells the schedule the job has not started; the
    engine's own QUEUED after the submit does not (APIXO, say, has no such word)."""
    script = Script([], [{"status": "pending"}, {"status": "queued"}, {"status": "processing", "progress": 40}, DONE])
    res = client(script).submit("a harbour at dawn", duration=6).wait(timeout=20)
    assert res.ok and res.polls == 4
    assert heard_queued == [False, True, True, False]


def test_a_job_done_straight_from_queued_makes_the_queue_word_ignored_for_that_provider(
        heard_queued: list[bool], caplog: pytest.LogCaptureFixture) -> None:
    """A provider that says queued while the job runs would make every job wait a queued step
    after its end: once a job goes from queued straight to done, the word is ignored."""
    from grokvid_nb._schedule import queue_words

    caplog.set_level("INFO", logger="grokvid_nb")
    first = client(Script([], [{"status": "queued"}, DONE])).submit("a quiet street", duration=6).wait(20)
    assert first.ok and heard_queued == [False, True]
    assert not queue_words.trusted("xai") and queue_words.trusted("pixazo")
    assert "went from 'queued' straight to done" in caplog.text
    heard_queued.clear()
    second = client(Script([], [{"status": "queued"}, {"status": "queued"}, DONE])).submit("a quiet pier", duration=6)
    assert second.wait(20).ok and heard_queued == [False, False, False]
    assert caplog.text.count("straight to done") == 1  # said once per provider and session
