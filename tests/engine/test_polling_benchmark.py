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
