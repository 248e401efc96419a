"""Many jobs from a notebook: `gv.generate(..., n=4)` (a `JobGroup` shown as one grid),
`gv.as_completed` (sync and async) and `await gv.compare_async(...)`."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pandas as pd
import pytest
from IPython.core.displaypub import CapturingDisplayPublisher
from IPython.core.interactiveshell import InteractiveShell

import grokvid_nb as gv
from grokvid_nb import display as gv_display
from grokvid_nb._compare.table import COLUMNS

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


@pytest.mark.timeout(60)
def test_generate_n_returns_a_group_of_distinct_jobs_and_wait_lists_the_results(sandbox: Any) -> None:
    group = gv.generate("a lakeside [sandbox:latency=40]", provider="apixo", n=4, duration=6)
    assert isinstance(group, gv.JobGroup) and len(group) == 4
    assert [job.sample_index for job in group] == [0, 1, 2, 3]
    assert len({job.job_id for job in group}) == 4  # four jobs, four charges: never reused among themselves
    results = group.wait(30)
    assert [type(r) for r in results] == [gv.Result] * 4
    assert [r.status for r in results] == [gv.State.SUCCEEDED] * 4
    assert [r.job_id for r in results] == [job.job_id for job in group]
    assert group.done() and repr(group) == "JobGroup(4 jobs: 4 succeeded)"
    # n=1 is the contract's generate(...) -> Job
    single = gv.generate("a lakeside", provider="apixo", duration=6)
    assert isinstance(single, gv.Job)
    single.wait(30)


@pytest.mark.parametrize("n", [0, -1, 2.0, True, "4"])
def test_generate_n_must_be_a_whole_number(sandbox: Any, n: Any) -> None:
    with pytest.raises(gv.ArgumentError, match="n="):
        gv.generate("a lakeside", provider="apixo", n=n)


def test_generate_n_validates_before_anything_is_sent(sandbox: Any) -> None:
    with pytest.raises(gv.ValidationError):
        gv.generate("a lakeside", provider="apixo", n=3, duration=999)
    assert sandbox.stats.submits["apixo"] == 0


def test_generate_n_checks_the_budget_for_the_whole_group_first(sandbox: Any) -> None:
    gv.set_budget(total=0.20)  # apixo 6 s: $0.09 a video: two fit, three do not
    try:
        with pytest.raises(gv.BudgetExceededError, match="3 x apixo"):
            gv.generate("a lakeside", provider="apixo", n=3, duration=6)
        assert sandbox.stats.submits["apixo"] == 0  # not even the first two were sent
        group = gv.generate("a lakeside", provider="apixo", n=2, duration=6)
        assert [r.ok for r in group.wait(30)] == [True, True]
    finally:
        gv.set_budget()


@pytest.mark.timeout(60)
def test_as_completed_yields_jobs_in_the_order_they_end(sandbox: Any) -> None:
    slow = gv.Client("apixo").start("slow [sandbox:latency=150]", duration=6)
    fast = gv.Client("apiinone").start("fast [sandbox:latency=10]")
    order = list(gv.as_completed([slow, fast, fast], timeout=30))
    assert order == [fast, slow]  # a job given twice comes once


@pytest.mark.timeout(60)
def test_as_completed_times_out_and_leaves_the_jobs_running(sandbox: Any) -> None:
    slow = gv.Client("apixo").start("slow [sandbox:latency=400]", duration=6)
    started = time.monotonic()
    with pytest.raises(TimeoutError, match="1 of 1 job"):
        list(gv.as_completed([slow], timeout=0.3))
    assert time.monotonic() - started < 3
    assert not slow.done()
    assert slow.wait(30).ok


@pytest.mark.timeout(60)
async def test_async_as_completed_and_awaiting_a_group(sandbox: Any) -> None:
    group = gv.generate("a lakeside [sandbox:latency=200]", provider="apixo", n=2, duration=6)
    fast = gv.Client("apiinone").start("fast [sandbox:latency=5]")
    seen = [job async for job in gv.as_completed([*group, fast], timeout=30)]
    assert seen[0] is fast and set(seen[1:]) == set(group)
    results = await group
    assert [r.ok for r in results] == [True, True]
    with pytest.raises(TimeoutError):
        slow = gv.Client("apixo").start("slow [sandbox:latency=400]", duration=6)
        async for _ in gv.as_completed([slow], timeout=0.2):
            pass
    slow.cancel()


@pytest.mark.timeout(120)
async def test_compare_async_returns_the_same_table_as_compare(sandbox: Any) -> None:
    ticks = 0

    async def ticker() -> None:  # the caller's loop stays free while the comparison runs
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    task = asyncio.create_task(ticker())
    df = await gv.compare_async("a lakeside", providers=["xai", "apixo"], duration=6, progress=False)
    task.cancel()
    assert isinstance(df, pd.DataFrame) and list(df.columns) == list(COLUMNS)
    assert sorted(df["provider"]) == ["apixo", "xai"] and set(df["status"]) == {"succeeded"}
    assert df.attrs["estimated_usd"] > 0 and df.attrs["interrupted"] is False
    assert ticks > 5
    sync = gv.compare("a lakeside", providers=["xai", "apixo"], duration=6, progress=False, reuse=False)
    assert list(sync.columns) == list(df.columns) and sync.attrs.keys() == df.attrs.keys()
    with pytest.raises(gv.BudgetExceededError):
        await gv.compare_async("a lakeside", providers=["xai"], repeats=3, duration=6,
                               max_cost_usd=0.01, progress=False)


@pytest.fixture
def shell(monkeypatch: pytest.MonkeyPatch) -> Any:
    ip = InteractiveShell.instance()
    publisher = CapturingDisplayPublisher(shell=ip)
    monkeypatch.setattr(ip, "display_pub", publisher)
    monkeypatch.setattr(gv_display, "in_notebook", lambda: True)
    return publisher


@pytest.mark.timeout(60)
def test_a_group_shows_as_one_grid_that_fills_in(shell: CapturingDisplayPublisher, sandbox: Any) -> None:
    from ipywidgets.widgets.widget import _instances

    group = gv.generate("a lakeside [sandbox:latency=60]", provider="pixazo", n=3, duration=6)
    group._ipython_display_()
    first = shell.outputs[0]["data"]
    assert first["text/html"].count("grokvid-grid-cell") == 3
    assert first["text/html"].count("grokvid-job") == 3 and "<video" not in first["text/html"]
    live = _instances[first[WIDGET_VIEW]["model_id"]]
    seen: set[int] = set()
    deadline = time.monotonic() + 30
    while "3 finished" not in live.value and time.monotonic() < deadline:
        seen.add(live.value.count("<video"))
        time.sleep(0.02)
    group.wait(30)
    deadline = time.monotonic() + 20
    while "<video" not in shell.outputs[-1]["data"]["text/html"] and time.monotonic() < deadline:
        time.sleep(0.02)
    final = shell.outputs[-1]["data"]
    assert final["text/html"].count('<video src="data:video/mp4;base64,') == 3
    assert "3 jobs · 3 finished" in final["text/plain"] and WIDGET_VIEW not in final
    assert live.value == final["text/html"]
    assert 0 in seen  # it started empty and filled in
