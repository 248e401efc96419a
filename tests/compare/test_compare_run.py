"""`gv.compare` against the in-process sandbox: columns, costs, fairness, budget, reuse,
interrupts, timeouts."""

from __future__ import annotations

import _thread
import json
import threading
from typing import Any

import pandas as pd
import pytest

import grokvid_nb as gv
from grokvid_nb._client import Client
from grokvid_nb._compare.table import REUSED_NOTE
from grokvid_nb.sandbox import ProviderProfile

REQUIRED = ["provider", "model", "status", "latency_s", "polls", "cost_usd", "cost_source",
            "video_url", "error", "task_id"]
EXTRA = ["request", "duration", "resolution", "aspect_ratio", "queue_s", "generation_s",
         "cost_per_video_s", "reused", "note", "sample", "mode", "estimated_cost_usd"]
SIX_480 = dict(duration=6, resolution="480p", aspect_ratio="16:9")


def by_provider(df: Any) -> dict[str, Any]:
    return {row["provider"]: row for row in df.to_dict("records")}


def total_submits(sb: Any) -> int:
    return sum(sb.stats.submits.values())


def test_table_columns_and_costs(sandbox: Any) -> None:
    df = gv.compare("a lakeside at sunset", providers=["xai", "apixo", "pixazo", "apiinone"],
                    progress=False, adapt=True, **SIX_480)
    assert list(df.columns[: len(REQUIRED)]) == REQUIRED
    assert set(EXTRA) <= set(df.columns)
    rows = by_provider(df)
    assert set(rows) == {"xai", "apixo", "pixazo", "apiinone"}
    for row in rows.values():
        assert row["status"] == "succeeded", row
        assert row["latency_s"] > 0 and row["polls"] >= 1
        assert row["video_url"].startswith("http") and row["task_id"]
        assert row["sample"] == 0 and not row["reused"]
        assert pd.isna(row["error"])

    xai, apixo, pixazo, apiinone = rows["xai"], rows["apixo"], rows["pixazo"], rows["apiinone"]
    # xAI reports what it charged: 6 s x $0.05 (ticks / 1e10), the others are price-table estimates
    assert xai["cost_usd"] == pytest.approx(0.30) and xai["cost_source"] == "reported"
    assert apixo["cost_usd"] == pytest.approx(0.09) and apixo["cost_source"] == "estimated"
    assert apixo["estimated_cost_usd"] == pytest.approx(0.09)
    assert pixazo["cost_usd"] == pytest.approx(0.30) and pixazo["cost_source"] == "estimated"
    assert apiinone["cost_usd"] == pytest.approx(0.048)
    assert xai["cost_per_video_s"] == pytest.approx(0.05)
    assert apixo["cost_per_video_s"] == pytest.approx(0.015)
    assert apiinone["cost_per_video_s"] == pytest.approx(0.008)

    # the request as sent to each provider
    assert json.loads(apixo["request"]) == {**SIX_480, "style": "normal"}
    assert json.loads(xai["request"]) == SIX_480
    assert (xai["duration"], xai["resolution"], xai["aspect_ratio"]) == (6, "480p", "16:9")
    assert json.loads(apiinone["request"]) == {}
    assert "duration=6 dropped" in apiinone["note"] and "resolution=480p dropped" in apiinone["note"]
    assert apixo["note"] == ""
    assert df.attrs["estimated_usd"] == pytest.approx(0.30 + 0.09 + 0.30 + 0.048)
    assert {k: v for k, v in sandbox.stats.submits.items() if v} == {
        "xai": 1, "apixo": 1, "pixazo": 1, "apiinone": 1}


def test_provider_timestamps_give_generation_time(sandbox: Any) -> None:
    df = gv.compare("a lakeside", providers=["apixo"], progress=False, **SIX_480)
    row = df.iloc[0]
    assert row["generation_s"] is not None and row["generation_s"] >= 0


def test_skipped_by_default_then_adapted(sandbox: Any) -> None:
    df = gv.compare("a harbour at dawn", progress=False, duration=12)
    rows = by_provider(df)
    assert set(rows) == {"xai", "apixo", "pixazo", "xingchao", "apiinone"}  # all five in the sandbox
    assert rows["pixazo"]["status"] == "skipped" and "3-10 s" in rows["pixazo"]["note"]
    assert rows["apiinone"]["status"] == "skipped" and "duration" in rows["apiinone"]["note"]
    assert all(rows[p]["status"] == "succeeded" for p in ("xai", "apixo", "xingchao"))
    assert all(rows[p]["duration"] == 12 for p in ("xai", "apixo", "xingchao"))
    assert sandbox.stats.submits["pixazo"] == 0 and sandbox.stats.submits["apiinone"] == 0

    adapted = by_provider(gv.compare("a harbour at dawn", progress=False, duration=12, adapt=True))
    assert adapted["pixazo"]["status"] == "succeeded" and adapted["pixazo"]["duration"] == 10
    assert "duration 12->10" in adapted["pixazo"]["note"]
    assert adapted["apiinone"]["status"] == "succeeded"
    assert "duration=12 dropped" in adapted["apiinone"]["note"]
    assert adapted["pixazo"]["cost_usd"] == pytest.approx(10 * 0.07)  # pixazo's default is 720p
    # the unchanged providers are reused from the first run, not paid again
    assert adapted["xai"]["reused"] and adapted["apixo"]["reused"]
    assert sandbox.stats.submits["pixazo"] == 1 and sandbox.stats.submits["xai"] == 1


def test_models_as_tuples_and_dicts(sandbox: Any) -> None:
    df = gv.compare("a fox", providers=[("xingchao", "grok_video3_pro"), ("apixo", None)],
                    progress=False, duration=6, adapt=True)
    rows = by_provider(df)
    pro = rows["xingchao"]
    assert pro["model"] == "grok_video3_pro" and pro["status"] == "succeeded"
    assert pro["duration"] == 10 and "duration 6->10" in pro["note"]
    assert pd.isna(pro["cost_usd"]) and pro["cost_source"] == "unknown"  # no published price
    skipped = gv.compare("a fox", providers={"xingchao": "grok_video3_pro"}, progress=False, duration=6)
    assert skipped.iloc[0]["status"] == "skipped" and "10 s" in skipped.iloc[0]["note"]


def test_repeats_are_distinct_jobs(sandbox: Any) -> None:
    df = gv.compare("waves", providers="apixo", repeats=3, progress=False, **SIX_480)
    assert list(df["sample"]) == [0, 1, 2]
    assert df["task_id"].nunique() == 3 and (df["status"] == "succeeded").all()
    assert sandbox.stats.submits["apixo"] == 3


def test_budget_guard_refuses_before_any_submit(sandbox: Any, home: Any, capsys: Any) -> None:
    with pytest.raises(gv.BudgetExceededError, match="max_cost_usd"):
        gv.compare("an expensive idea", providers=["xai", "apixo", "xingchao"], repeats=3,
                   max_cost_usd=0.01, progress="terminal", **SIX_480)
    assert total_submits(sandbox) == 0
    assert Client("apixo").ledger.all() == []  # not even an intent was recorded
    err = capsys.readouterr().err
    # the estimate is shown, with the unpriced provider listed as unknown (not as $0)
    assert "estimated $1.17" in err and "unknown price for xingchao/grok_video3" in err
    # the same batch under a raised limit runs
    df = gv.compare("an expensive idea", providers=["xai", "apixo"], max_cost_usd=0.5,
                    progress=False, **SIX_480)
    assert (df["status"] == "succeeded").all()


def test_budget_counts_only_new_jobs(sandbox: Any) -> None:
    gv.compare("once", providers=["xai"], progress=False, **SIX_480)
    # all reused: nothing new to pay for, so even a tiny limit lets it through
    df = gv.compare("once", providers=["xai"], progress=False, max_cost_usd=0.01, **SIX_480)
    assert bool(df.iloc[0]["reused"]) and df.attrs["estimated_usd"] == 0
    with pytest.raises(gv.BudgetExceededError):
        gv.compare("once", providers=["xai"], progress=False, max_cost_usd=0.01, reuse=False, **SIX_480)


def test_second_identical_compare_reuses(sandbox: Any) -> None:
    first = gv.compare("the same request", providers=["xai", "apixo", "pixazo"], repeats=2,
                       progress=False, **SIX_480)
    before = dict(sandbox.stats.submits)
    second = gv.compare("the same request", providers=["xai", "apixo", "pixazo"], repeats=2,
                        progress=False, **SIX_480)
    assert dict(sandbox.stats.submits) == before
    assert second["reused"].all() and not first["reused"].any()
    assert list(second["task_id"]) == list(first["task_id"])
    assert (second["status"] == "succeeded").all()
    assert list(second["cost_usd"]) == list(first["cost_usd"])


def test_a_rerun_shows_the_jobs_cost_but_spends_nothing(sandbox: Any) -> None:
    """cost_usd stays the job's cost (the contract); a reused row says so in `reused` and
    `note`, `spent_usd` is what the call paid, and summarize() counts each job once."""
    first = gv.compare("paid once", providers=["xai", "apixo"], repeats=2, progress=False, **SIX_480)
    second = gv.compare("paid once", providers=["xai", "apixo"], repeats=2, progress=False, **SIX_480)
    costs = [0.30, 0.30, 0.09, 0.09]
    assert first["cost_usd"].round(6).tolist() == costs and first["spent_usd"].round(6).tolist() == costs
    assert second["cost_usd"].round(6).tolist() == costs
    assert second["spent_usd"].tolist() == [0.0] * 4
    assert second["note"].tolist() == [REUSED_NOTE] * 4 and first["note"].tolist() == [""] * 4
    summaries = {"first": gv.summarize(first), "second": gv.summarize(second),
                 "both": gv.summarize(pd.concat([first, second], ignore_index=True))}
    shown = {name: s[["provider", "n", "reused", "spent_usd", "mean_cost_usd"]].round(6).values.tolist()
             for name, s in summaries.items()}
    assert shown == {"first": [["xai", 2, 0, 0.6, 0.3], ["apixo", 2, 0, 0.18, 0.09]],
                     "second": [["xai", 2, 2, 0.0, 0.3], ["apixo", 2, 2, 0.0, 0.09]],
                     "both": [["xai", 2, 2, 0.6, 0.3], ["apixo", 2, 2, 0.18, 0.09]]}


def test_a_sweep_that_asks_the_same_request_twice_pays_and_counts_it_once(sandbox: Any) -> None:
    """Two grid points with the same request: planned as two new jobs (nothing was in the
    ledger), but the second reuses the first's job: one row paid, the job counted once."""
    df = gv.sweep("twice the same", providers=["apixo"], grid={"duration": [6, 6]}, progress=False,
                  resolution="480p", aspect_ratio="16:9")
    assert df.attrs["estimated_usd"] == pytest.approx(0.18)
    assert df["job_id"].nunique() == 1 and df["reused"].tolist() == [False, True]
    assert df["cost_usd"].round(6).tolist() == [0.09, 0.09]
    assert df["spent_usd"].round(6).tolist() == [0.09, 0.0]
    summary = gv.summarize(df)
    assert summary[["n", "succeeded", "reused", "spent_usd"]].values.tolist() == [[1, 1, 1, 0.09]]
    assert sandbox.stats.submits["apixo"] == 1


def test_interrupt_keeps_finished_rows(make_sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    make_sandbox(providers={"xingchao": ProviderProfile(latency=(5000.0, 5000.0))})
    fired = threading.Event()
    real_start = Client.start

    def start(self: Client, *args: Any, **kwargs: Any) -> Any:
        job = real_start(self, *args, **kwargs)
        if job.provider == "apixo":
            def interrupt(j: Any) -> None:
                if j.done() and not fired.is_set():
                    fired.set()
                    _thread.interrupt_main()  # what Ctrl-C / a kernel interrupt does
            job.add_listener(interrupt)
        return job

    monkeypatch.setattr(Client, "start", start)
    with pytest.warns(RuntimeWarning, match="interrupted"):
        df = gv.compare("slow and fast", providers=["apixo", "xingchao"], progress=False, **SIX_480)
    rows = by_provider(df)
    assert df.attrs["interrupted"] is True
    assert rows["apixo"]["status"] == "succeeded" and rows["apixo"]["cost_usd"] == pytest.approx(0.09)
    slow = rows["xingchao"]
    assert slow["status"] in ("queued", "running")
    assert "interrupted" in slow["note"] and "gv.resume()" in slow["note"]
    assert slow["task_id"]  # the ledger knows the task, so it can be re-attached
    resumed = [j for j in gv.resume() if j.provider == "xingchao"]
    assert [j.task_id for j in resumed] == [slow["task_id"]]
    for job in resumed:
        job.cancel()


def test_timeout_marks_slow_jobs(make_sandbox: Any) -> None:
    make_sandbox(providers={"xingchao": ProviderProfile(latency=(5000.0, 5000.0))})
    df = gv.compare("slow", providers=["apixo", "xingchao"], progress=False, timeout=1.5, **SIX_480)
    rows = by_provider(df)
    assert rows["apixo"]["status"] == "succeeded"
    assert rows["xingchao"]["status"] == "timed_out" and "timeout" in rows["xingchao"]["error"]


def test_failures_are_rows_not_exceptions(sandbox: Any) -> None:
    df = gv.compare("[sandbox:fail] a banned scene", providers=["xai", "apixo"], progress=False, **SIX_480)
    assert (df["status"] == "failed").all()
    assert df["error"].notna().all()
    summary = gv.summarize(df)
    assert list(summary["success_rate"]) == [0.0, 0.0]


def test_terminal_progress_lines(sandbox: Any, capsys: Any) -> None:
    gv.compare("progress please", providers=["xai", "pixazo"], progress="terminal", duration=12)
    err = capsys.readouterr().err
    assert "compare: estimated $0.60 for 1 new job" in err
    assert "compare [1/2]" in err and "compare [2/2]" in err
    assert "pixazo/grok-imagine-video: skipped" in err
    assert "2/2 done" in err


def test_default_providers_and_bad_arguments(home: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(gv.ConfigurationError, match="use_sandbox"):
        gv.compare("no keys at all", progress=False)
    with pytest.raises(TypeError, match="durration"):
        gv.compare("typo", providers=["xai"], durration=6)
    with pytest.raises(ValueError, match="prompt"):
        gv.compare("  ", providers=["xai"])
    with pytest.raises(ValueError, match="unknown provider"):
        gv.compare("x", providers=["nope"])
    # a provider with a key but no base URL (an adapter without a published default) is a
    # skipped row that says what to set; nothing is sent
    from grokvid_nb.adapters.xingchao import XingChao

    monkeypatch.setattr(XingChao, "default_base_url", None)
    monkeypatch.setenv("XINGCHAO_API_KEY", "test-key")
    df = gv.compare("x", progress=False)
    assert list(df["provider"]) == ["xingchao"] and df.iloc[0]["status"] == "skipped"
    assert "XINGCHAO_BASE_URL" in df.iloc[0]["note"]


def test_compare_is_callable_even_after_submodule_import(sandbox: Any) -> None:
    import grokvid_nb._compare.plan
    import grokvid_nb._compare.run  # noqa: F401

    assert gv.compare is gv._compare.compare

    df = gv.compare("callable", providers=["apiinone"], progress=False)
    assert df.iloc[0]["status"] == "succeeded"
