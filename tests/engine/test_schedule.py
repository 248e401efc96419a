"""The polling schedule as a pure function of what a job has seen so far."""

from __future__ import annotations

import pytest

from grokvid_nb._schedule import TARGET_SPACING_S, LatencyMemory, PollSchedule, time_scale
from grokvid_nb.adapters import PollingPrior

APIXO = PollingPrior(first_poll=30.0, typical=(40.0, 60.0), interval=5.0)


def no_jitter() -> float:
    return 0.5  # the midpoint of the jitter range: no jitter


def test_fixed_interval_is_exact_and_unscaled() -> None:
    schedule = PollSchedule(APIXO, scale=0.01, fixed=2.0, rng=no_jitter)
    assert [schedule.next_delay(t) for t in (0, 2, 4)] == [2.0, 2.0, 2.0]


def test_prior_first_poll_then_dense_window_then_back_off() -> None:
    schedule = PollSchedule(APIXO, rng=no_jitter)
    assert schedule.next_delay(0.0) == pytest.approx(30.0)       # the documented first poll
    assert schedule.next_delay(30.0) == pytest.approx(10.0)      # sleep to the window's start
    assert schedule.next_delay(41.0) == pytest.approx(2.0)       # dense: a tenth of 40-60 s
    assert schedule.next_delay(80.0) == pytest.approx(7.0)       # overdue: backing off
    assert schedule.next_delay(500.0) == pytest.approx(15.0)     # ... up to the cap


def test_time_scale_shrinks_every_built_in_timing() -> None:
    assert PollSchedule(APIXO, scale=0.1, rng=no_jitter).next_delay(0.0) == pytest.approx(3.0)


def test_retry_after_is_always_honoured() -> None:
    assert PollSchedule(APIXO, fixed=1.0).next_delay(0.0, retry_after=7.0) == 7.0
    assert PollSchedule(APIXO, rng=no_jitter).next_delay(41.0, retry_after=9.0) == 9.0


def test_two_progress_readings_aim_just_past_the_eta() -> None:
    schedule = PollSchedule(PollingPrior(10.0, (20.0, 60.0)), rng=no_jitter)
    schedule.next_delay(10.0, progress=20.0)           # one reading: look again soon
    delay = schedule.next_delay(20.0, progress=45.0)   # 2.5 %/s: 100 % at t = 42
    assert delay == pytest.approx(22.0 + TARGET_SPACING_S / 4)


def test_learned_window_skips_the_prior_and_polls_densely_inside() -> None:
    schedule = PollSchedule(APIXO, learned=(38.0, 44.0), rng=no_jitter)
    assert schedule.next_delay(0.0) == pytest.approx(38.0)
    assert schedule.next_delay(38.0) == pytest.approx(TARGET_SPACING_S)


def test_memory_prefers_precise_observations_and_keeps_a_minimum_spread() -> None:
    memory = LatencyMemory()
    key = ("apixo", "http://x", "grok-video", 6.0, "480p")
    assert memory.window(key) is None
    memory.add(key, 40.0, 0.5)
    assert memory.window(key, precision=2.0) is None          # one observation is not enough
    memory.add(key, 20.0, 20.0)                               # a job seen done at its first poll
    assert memory.window(key, precision=2.0) is None          # too vague to count
    memory.add(key, 40.2, 0.5)
    low, high = memory.window(key, precision=2.0)  # type: ignore[misc]
    spread = 0.06 * 40.1                                      # the floor, not ~0.1 s
    assert low == pytest.approx(40.1 - 1.28 * spread, abs=0.05)
    assert high == pytest.approx(40.1 + 1.28 * spread, abs=0.05)


def test_time_scale_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROKVID_TIME_SCALE", "0.25")
    assert time_scale() == 0.25
    monkeypatch.setenv("GROKVID_TIME_SCALE", "fast")
    with pytest.raises(ValueError, match="GROKVID_TIME_SCALE"):
        time_scale()
    monkeypatch.setenv("GROKVID_TIME_SCALE", "-1")
    with pytest.raises(ValueError, match="positive"):
        time_scale()
