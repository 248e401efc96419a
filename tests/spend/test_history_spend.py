"""gv.history() and gv.spend(): one row per job, totals that add up, CSV and Parquet."""

from __future__ import annotations

import math
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import grokvid_nb as gv
from grokvid_nb._history import HISTORY_COLUMNS, SPEND_COLUMNS, _classify
from grokvid_nb._ledger import Ledger, default_ledger


@pytest.fixture
def jobs(sandbox: Any) -> list[gv.Result]:
    """Five finished jobs: xAI reports its cost, APIXO/Pixazo are estimated, one failure."""
    out = []
    for provider, prompt in (("xai", "a cat"), ("apixo", "a dog"), ("pixazo", "a fox"),
                             ("apixo", "a failing dog [sandbox:fail]"), ("xai", "another cat")):
        out.append(gv.Client(provider, keep_local=provider != "pixazo").submit(prompt).wait(30))
    return out


@pytest.mark.timeout(60)
def test_history_has_one_row_per_job(jobs: list[gv.Result]) -> None:
    df = gv.history()
    assert list(df.columns) == list(HISTORY_COLUMNS)
    assert len(df) == len(jobs)
    assert list(df["task_id"]) == [r.task_id for r in jobs]
    assert list(df["state"]) == [r.status.value for r in jobs]
    assert list(df["cost_source"].fillna("-")) == [r.cost_source or "-" for r in jobs]
    assert str(df["created_at"].dtype) == "datetime64[ns, UTC]"
    succeeded = df[df["state"] == "succeeded"]
    assert set(succeeded["url_status"]) == {"live", "live (expiry unknown)"}
    assert succeeded.loc[succeeded["provider"] == "pixazo", "url_expires_at"].isna().all()
    assert succeeded.loc[succeeded["provider"] == "xai", "url_expires_at"].notna().all()
    kept = succeeded[succeeded["provider"] != "pixazo"]["local_path"]
    assert all(Path(p).is_file() for p in kept)
    assert succeeded[succeeded["provider"] == "pixazo"]["local_path"].isna().all()
    assert (succeeded["latency_s"] > 0).all()


@pytest.mark.timeout(60)
def test_history_filters(jobs: list[gv.Result]) -> None:
    assert len(gv.history(provider="xai")) == 2
    assert len(gv.history(provider=["xai", "pixazo"])) == 3
    assert list(gv.history(state="failed")["provider"]) == ["apixo"]
    assert len(gv.history(prompt="CAT")) == 2
    assert len(gv.history(since=timedelta(hours=1))) == 5
    assert len(gv.history(since="2999-01-01")) == 0


@pytest.mark.timeout(60)
def test_spend_totals_equal_the_sum_of_the_results(jobs: list[gv.Result]) -> None:
    df = gv.spend()
    assert list(df.columns) == list(SPEND_COLUMNS)
    totals = df.attrs["totals"]
    reported = sum(r.cost_usd or 0.0 for r in jobs if r.cost_source == "reported")
    estimated = sum(r.cost_usd or 0.0 for r in jobs if r.cost_source == "estimated")
    assert reported > 0 and estimated > 0
    assert math.isclose(totals["reported_usd"], reported, abs_tol=1e-9)
    assert math.isclose(totals["estimated_usd"], estimated, abs_tol=1e-9)
    assert math.isclose(totals["known_usd"], sum(r.cost_usd or 0.0 for r in jobs), abs_tol=1e-9)
    assert totals["jobs"] == len(jobs) and totals["possibly_charged_usd"] == 0.0
    by_provider = df.groupby("provider")["known_usd"].sum()
    for provider in ("xai", "apixo", "pixazo"):
        expected = sum(r.cost_usd or 0.0 for r in jobs if r.provider == provider)
        assert math.isclose(by_provider[provider], expected, abs_tol=1e-9)
    assert df["day"].nunique() == 1


@pytest.mark.timeout(60)
def test_unknown_outcomes_and_unknown_prices_are_split_out(jobs: list[gv.Result]) -> None:
    ledger = default_ledger()
    lost = ledger.record_intent(provider="apixo", model="grok-video", mode="text-to-video", prompt="lost",
                                params={"duration": 6, "resolution": "480p"}, endpoint="https://x.test",
                                fingerprint="f1", sample_index=0)
    ledger.update(lost, state="unknown", error_code="submit_reply_lost")
    unpriced = ledger.record_intent(provider="xingchao", model="grok_video3", mode="text-to-video",
                                    prompt="u", params={"duration": 10}, endpoint="https://x.test",
                                    fingerprint="f2", sample_index=0)
    ledger.update(unpriced, state="succeeded")
    df = gv.spend()
    totals = df.attrs["totals"]
    estimate = gv.estimate_cost("apixo", duration=6, resolution="480p")
    assert estimate is not None
    assert math.isclose(totals["possibly_charged_usd"], estimate, abs_tol=1e-9)
    assert totals["unknown_price_jobs"] == 1
    row = df[df["provider"] == "xingchao"].iloc[0]
    assert (row["jobs"], row["unknown_price_jobs"], row["known_usd"]) == (1, 1, 0.0)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_both_export(jobs: list[gv.Result], tmp_path: Path, suffix: str) -> None:
    hist = gv.history(to=tmp_path / f"history{suffix}")
    spent = gv.spend(to=tmp_path / f"spend{suffix}")
    read = pd.read_csv if suffix == ".csv" else pd.read_parquet
    back = read(hist.attrs["path"])
    assert list(back["task_id"]) == list(hist["task_id"])
    assert math.isclose(read(spent.attrs["path"])["known_usd"].sum(), spent.attrs["totals"]["known_usd"])
    with pytest.raises(ValueError, match="suffix"):
        gv.history(to=tmp_path / "x.txt")


@pytest.mark.timeout(60)
def test_cli_history_and_spend(jobs: list[gv.Result], capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from grokvid_nb.__main__ import main

    assert main(["history", "--provider", "xai"]) == 0
    out = capsys.readouterr().out
    assert out.count("grok-imagine-video") == 2 and jobs[0].task_id in out
    assert main(["spend", "--to", str(tmp_path / "s.csv")]) == 0
    out = capsys.readouterr().out
    total = sum(r.cost_usd or 0.0 for r in jobs)
    assert f"total: ${total:.2f} known" in out and "wrote " in out


@pytest.mark.timeout(60)
def test_cli_generate_and_resume(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from PIL import Image

    from grokvid_nb.__main__ import main

    image = tmp_path / "c.png"
    Image.new("RGB", (16, 16), (5, 5, 200)).save(image)
    assert main(["generate", "a blue card", "--provider", "apixo", "--image", str(image), "--sandbox"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("succeeded: apixo grok-video") and "local copy: " in out
    assert gv.history()["state"].tolist() == ["succeeded"]
    assert main(["generate", "a red card", "--provider", "apixo", "--sandbox", "--max-cost", "0.01"]) == 1
    assert "limit $0.01" in capsys.readouterr().err
    assert len(gv.history()) == 1
    assert main(["resume"]) == 0
    assert "no unfinished jobs" in capsys.readouterr().out


@pytest.mark.timeout(60)
def test_a_not_charged_failure_is_a_known_zero_not_an_estimate(sandbox: Any) -> None:
    """Pixazo's ERROR is documented as not charged: its 0.0 is a known amount, so spend() files
    it with the reported (known) costs, not under `estimated_usd`; the same after the rows are
    read back from the SQLite file by a fresh `Ledger`."""
    failed = gv.Client("pixazo").submit("a fox [sandbox:fail=internal]").wait(30)
    assert (failed.status, failed.cost_usd, failed.cost_source) == (gv.State.FAILED, 0.0, "not charged")
    paid = gv.Client("pixazo", keep_local=False).submit("a fox").wait(30)
    assert paid.cost_source == "estimated" and paid.cost_usd is not None
    reloaded = Ledger(default_ledger().path)  # its own connection to the same file
    rows = {row.task_id: row for row in reloaded.all()}
    assert _classify(rows[failed.task_id]) == ("reported", 0.0)
    assert _classify(rows[paid.task_id]) == ("estimated", paid.cost_usd)
    for df in (gv.spend(), gv.spend(ledger=reloaded)):
        assert df[list(SPEND_COLUMNS[1:])].values.tolist() == [
            ["pixazo", 2, 0.0, round(paid.cost_usd, 6), 0.0, 0, round(paid.cost_usd, 6)]]
