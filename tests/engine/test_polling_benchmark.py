"""`benchmarks/polling.py` runs the engine's real schedule on a virtual clock; these checks keep
its switches honest (they run the simulation at a small size, well under a second)."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def polling() -> ModuleType:
    spec = importlib.util.spec_from_file_location("polling_benchmark", ROOT / "benchmarks" / "polling.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def adaptive_phases(polling: ModuleType, provider: str) -> dict[str, int]:
    outcomes = polling.simulate("surge", 7, 6, "submits")
    phases: dict[str, int] = {}
    for outcome in outcomes:
        if outcome.arm == "adaptive" and outcome.job.provider == provider:
            for phase, count in outcome.phases.items():
                phases[phase] = phases.get(phase, 0) + count
    return phases


def test_the_queue_word_reaches_the_schedule_only_where_documented(polling: ModuleType,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(polling, "SHOWS_QUEUE", {"xai", "pixazo", "xingchao"})
    assert adaptive_phases(polling, "pixazo").get("queued", 0) > 0  # the surge's queue is seen
    assert "queued" not in adaptive_phases(polling, "apixo")  # APIXO says only `processing`
    monkeypatch.setattr(polling, "SHOWS_QUEUE", set())
    assert "queued" not in adaptive_phases(polling, "pixazo")


def test_progress_figures_only_from_the_providers_asked_for(polling: ModuleType,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(polling, "REPORTS_PROGRESS", {"xai"})
    job = polling.SimJob("apiinone", 0, 6.0, latency=40.0, queue=5.0)
    assert job.progress(20.0) is None
    monkeypatch.setattr(polling, "REPORTS_PROGRESS", {"xai", "apiinone"})
    assert job.progress(20.0) == pytest.approx(42.0, abs=1.0)


def test_the_command_prints_every_target_line(polling: ModuleType, capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(polling, "REPORTS_PROGRESS", set())  # the command fills them from its options
    monkeypatch.setattr(polling, "SHOWS_QUEUE", set())
    assert polling.main(["--family", "uniform,surge", "--seed", "3", "--seeds", "1", "--jobs", "4"]) == 0
    out = capsys.readouterr().out
    assert "queue word from pixazo, xai, xingchao" in out and "progress from apiinone, xai" in out
    for family in ("uniform", "surge"):
        assert f"### {family} (1 seeds x 20 jobs)" in out
    target_lines = re.findall(r"^  (?:PASS|MISS)  status requests <= 35 % of fixed-5s: [0-9.]+ %$", out, re.M)
    assert len(target_lines) == 3  # two families and the pool
    with pytest.raises(SystemExit, match="unknown provider"):
        polling.main(["--family", "uniform", "--seed", "3", "--seeds", "1", "--progress", "grok"])


@pytest.fixture
def sweep(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """`benchmarks/polling_sweep.py`, with the schedule's constants restored after the test."""
    from grokvid_nb import _schedule

    spec = importlib.util.spec_from_file_location("polling_sweep", ROOT / "benchmarks" / "polling_sweep.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name in module.SPACE:
        if name != "RATIO_LOW_QUANTILE":
            monkeypatch.setattr(_schedule, name, getattr(_schedule, name))
    monkeypatch.setattr(_schedule, "RATIO_QUANTILES", _schedule.RATIO_QUANTILES)
    for name in ("ARMS", "REPORTS_PROGRESS", "SHOWS_QUEUE"):
        monkeypatch.setattr(module.polling, name, getattr(module.polling, name))
    return module


def test_the_sweep_starts_from_the_shipped_schedule_and_draws_inside_its_ranges(sweep: ModuleType) -> None:
    from grokvid_nb import _schedule

    assert sweep.draw(0, 5) == sweep.shipped()
    assert sweep.shipped()["SCAN_COST_S"] == _schedule.SCAN_COST_S
    drawn = sweep.draw(3, 5)
    assert drawn == sweep.draw(3, 5) != sweep.draw(4, 5)
    assert all(sweep.SPACE[name][0] <= value <= sweep.SPACE[name][1] for name, value in drawn.items())
    sweep.apply(drawn)
    assert drawn["SCAN_COST_S"] == _schedule.SCAN_COST_S
    assert (drawn["RATIO_LOW_QUANTILE"], 0.9) == _schedule.RATIO_QUANTILES


@pytest.mark.parametrize(("shares", "missed", "free", "expected"), [
    ({"stall": 39.0, "uniform": 33.0}, [], {"stall"}, True),      # the free family may miss the share
    ({"stall": 39.0, "uniform": 35.5}, [], {"stall"}, False),     # another family may not
    ({"stall": 30.0, "uniform": 30.0}, ["x"], {"stall"}, False),  # nor any delay line
    ({"stall": 39.0, "uniform": 35.5}, [], {"stall", "uniform"}, True),
])
def test_feasible_is_every_delay_line_and_the_share_outside_the_free_families(
        sweep: ModuleType, shares: dict[str, float], missed: list[str], free: set[str], expected: bool) -> None:
    result = {family: {"share": share, "missed": missed} for family, share in shares.items()}
    assert sweep.feasible(result, free) is expected


def test_the_sweep_command_reports_the_shipped_schedule_and_a_verdict(
        sweep: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    assert sweep.main(["--configs", "2", "--processes", "1", "--families", "uniform,stall",
                       "--sim-seeds", "3", "--jobs", "3", "--top", "2"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^shipped\s+\d+\.\d\s+\d+\.\d\s+1\.000", out, re.M)
    assert "no feasible configuration" in out or "lowest share on stall" in out
    with pytest.raises(SystemExit):
        sweep.main(["--families", "uniform", "--free", "stall"])


def test_sets_count_how_often_each_target_line_holds(polling: ModuleType, capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(polling, "REPORTS_PROGRESS", set())
    monkeypatch.setattr(polling, "SHOWS_QUEUE", set())
    assert polling.main(["--family", "uniform,stall", "--sets", "2", "--seeds", "1", "--seed", "3", "--jobs", "3"]) == 0
    out = capsys.readouterr().out
    assert "first set [3], last [1000003]" in out
    rows = re.findall(r"^(uniform|stall)\s+(\d+\.\d)\s+(\d+\.\d)\s+(\d+\.\d)$", out, re.M)
    assert [row[0] for row in rows] == ["uniform", "stall"]
    assert all(float(low) <= float(mid) <= float(high) for _, low, mid, high in rows)
    # XingChaoYiQing polls at its 30 s politeness: its line never holds, and is listed as 0/2
    assert re.search(r"0/2\s+xingchao: median and p95 no worse than fixed-5s", out)
    with pytest.raises(SystemExit):
        polling.main(["--sets", "0"])
