"""Shared client-side rate limits, automatic downloads, and configured prices."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import httpx
import pytest

import grokvid_nb as gv
from grokvid_nb._ratelimit import RateLimiter

DONE = {"status": "done", "video": {"url": "https://cdn.example/v.mp4", "duration": 6},
        "progress": 100, "usage": {"cost_in_usd_ticks": 3_000_000_000}}


def test_xai_limit_holds_submits_of_every_job_of_the_account(monkeypatch: pytest.MonkeyPatch) -> None:
    # 1 request per 0.2 s: wide enough that scheduling jitter on a loaded machine (tens of ms
    # between the limiter's grant and the handler's clock) cannot fake a breach or hide one
    monkeypatch.setenv("GROKVID_TIME_SCALE", "0.2")
    stamps: list[tuple[str, float]] = []
    lock = threading.Lock()

    def handler(request: httpx.Request) -> httpx.Response:
        with lock:
            stamps.append((request.method, time.monotonic()))
        if request.method == "POST":
            return httpx.Response(200, json={"request_id": f"t{len(stamps)}"})
        return httpx.Response(200, json=DONE)

    transport = httpx.MockTransport(handler)
    jobs = [gv.Client("xai", api_key="k", base_url="http://limits.test", transport=transport)
            .start(f"p{i}") for i in range(6)]  # six clients, one account: one limiter
    for job in jobs:
        assert job.wait(30).ok
    submits = [t for method, t in stamps if method == "POST"]
    assert len(submits) == 6
    gaps = [b - a for a, b in zip(submits, submits[1:])]
    # the stamps are taken in the handler, some scheduling after each grant: one late stamp
    # shortens one gap and lengthens the next, so the span is what holds (5 gaps of 0.2 s);
    # without one shared limiter the six would arrive within milliseconds of each other
    assert submits[-1] - submits[0] >= 0.85, gaps
    assert min(gaps) >= 0.05, gaps


def test_a_refused_poll_puts_polls_under_the_limit_and_retry_after_is_scaled(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROKVID_TIME_SCALE", "0.05")
    stamps: list[tuple[str, float]] = []
    lock = threading.Lock()

    def handler(request: httpx.Request) -> httpx.Response:
        with lock:
            stamps.append((request.method, time.monotonic()))
            polls = sum(1 for method, _ in stamps if method == "GET")
        if request.method == "POST":
            return httpx.Response(200, json={"request_id": f"t{len(stamps)}"})
        if polls == 1:  # "Retry-After: 2" means 2 provider seconds = 0.1 s at this scale
            return httpx.Response(429, json={"error": "slow down"}, headers={"Retry-After": "2"})
        return httpx.Response(200, json=DONE)

    transport = httpx.MockTransport(handler)
    client = gv.Client("xai", api_key="k2", base_url="http://limits.test", transport=transport)
    began = time.monotonic()
    jobs = [client.start(f"q{i}") for i in range(4)]
    for job in jobs:
        assert job.wait(30).ok
    assert time.monotonic() - began < 1.9  # an unscaled Retry-After alone would take 2 s
    assert client.limiter.polls_limited is True
    refused_at = next(t for method, t in stamps if method == "GET")
    after = [t for _, t in stamps if t > refused_at]
    assert after and after[0] - refused_at >= 0.095
    gaps = [b - a for a, b in zip(after, after[1:])]
    assert not gaps or min(gaps) >= 0.045, gaps


async def test_rate_limiter_windows_and_penalty() -> None:
    now = [0.0]
    limiter = RateLimiter(((2, 1.0),), clock=lambda: now[0])
    await limiter.acquire()
    await limiter.acquire()
    assert limiter._wait_time(now[0]) == pytest.approx(1.0)
    now[0] = 1.0
    assert limiter._wait_time(now[0]) == 0.0
    limiter.penalize(5.0)
    assert limiter._wait_time(now[0]) == pytest.approx(5.0)


def test_results_are_downloaded_as_soon_as_ready(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(200, json={"request_id": "auto"})
        if request.url.host == "cdn.example":
            return httpx.Response(200, content=b"\x00\x00\x00\x18ftypisom" + b"\x00" * 32,
                                  headers={"content-type": "video/mp4"})
        return httpx.Response(200, json=DONE)

    client = gv.Client("xai", api_key="k", transport=httpx.MockTransport(handler),
                       download_dir=tmp_path / "clips")
    job = client.submit("auto download")
    job.wait(30)
    deadline = time.monotonic() + 10
    while job.local_path is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert job.local_path is not None and job.local_path.parent == tmp_path / "clips"
    assert job.local_path.read_bytes()[4:8] == b"ftyp"


def test_configured_price_for_an_unpublished_model() -> None:
    assert gv.estimate_cost("xingchao", duration=10, resolution="720p") is None
    gv.set_price("xingchao", "grok_video3", per_second={"480p": 0.02, "720p": 0.04})
    try:
        assert gv.estimate_cost("xingchao", duration=10, resolution="720p") == pytest.approx(0.40)
        table = gv.providers()
        row = table[(table.provider == "xingchao") & (table.model == "grok_video3")].iloc[0]
        assert "$0.04/s at 720p" in row.price
        with pytest.raises(ValueError, match="published price"):
            gv.set_price("apixo", per_call=0.01)
    finally:
        gv.set_price("xingchao", "grok_video3")
    assert gv.estimate_cost("xingchao", duration=10, resolution="720p") is None


def test_each_in_process_sandbox_is_its_own_endpoint() -> None:
    """A later process's sandbox never reuses or resumes the jobs of an earlier, vanished one."""
    try:
        gv.use_sandbox(time_scale=0.01)
        first = gv.Client("apixo").submit("same prompt")
        assert first.wait(30).ok
        gv.use_sandbox(time_scale=0.01)  # as a new kernel would
        second = gv.Client("apixo").submit("same prompt")
        assert not second.reused and second.task_id != first.task_id
        assert second.client.endpoint != first.client.endpoint
        assert second.client.endpoint.endswith(".sandbox.invalid")
    finally:
        gv.use_sandbox(False)


def test_downloads_run_four_at_a_time_on_a_pool_of_their_own(tmp_path: Path) -> None:
    state = {"now": 0, "peak": 0, "served": 0, "tasks": 0}
    lock = threading.Lock()

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            with lock:
                state["tasks"] += 1
                return httpx.Response(200, json={"request_id": f"t-{state['tasks']}"})
        if request.url.host != "cdn.example":
            return httpx.Response(200, json=DONE)
        with lock:
            state["now"] += 1
            state["peak"] = max(state["peak"], state["now"])
        await asyncio.sleep(0.05)
        with lock:
            state["now"] -= 1
            state["served"] += 1
        return httpx.Response(200, content=b"\x00\x00\x00\x18ftypisom" + b"\x00" * 32,
                              headers={"content-type": "video/mp4"})

    client = gv.Client("xai", api_key="k", transport=httpx.MockTransport(handler),
                       download_dir=tmp_path / "clips", keep_local=True)
    jobs = [client.start(f"clip {i:04d}", reuse=False) for i in range(12)]
    for job in jobs:
        job.wait(30)
    assert [job.local_path is not None for job in jobs] == [True] * 12
    assert len({job.local_path for job in jobs}) == 12
    assert (state["served"], state["peak"]) == (12, 4)
    assert client.download_gate().cap == 4
    assert client.download_http() is not client.http()
    client.close()
