"""The polling schedule as a pure function of what a job has seen so far: tables and properties."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence

import pytest

from grokvid_nb import _schedule
from grokvid_nb._ratelimit import EXPLORE, ROUTINE, URGENT
from grokvid_nb._schedule import (
    LEARNED_SPACING_S,
    POLL_POLICIES,
    TAIL_STEP_S,
    LatencyMemory,
    PollPolicy,
    PollSchedule,
    Prediction,
    RatioMemory,
    one_reading_wait,
    poll_policy,
    time_scale,
)
from grokvid_nb.adapters import PollingPrior, get_adapter

APIXO = PollingPrior(first_poll=30.0, typical=(40.0, 60.0), interval=5.0)
XAI = PollingPrior(first_poll=10.0, typical=(20.0, 60.0), interval=5.0)
PIXAZO = PollingPrior(first_poll=10.0, typical=(15.0, 110.0), interval=5.0)


def no_jitter() -> float:
    return 0.5  # the midpoint of the jitter range: no jitter


def replay(schedule: PollSchedule, readings: Sequence[tuple[float, float | None]], now: float) -> float:
    """Feed (elapsed, progress) readings in order, then ask for the delay at `now`."""
    for elapsed, progress in readings:
        schedule.next_delay(elapsed, progress)
    return schedule.next_delay(now, readings[-1][1] if readings else None)


# (case, prior, provider, clip, readings [(t, progress)], now, expected delay, priority)
NO_PROGRESS = [
    ("apixo: documented first poll is near the window, go straight to it", APIXO, None, None, [], 0.0, 40.0, EXPLORE),
    ("pixazo: same", PIXAZO, None, None, [], 0.0, 15.0, EXPLORE),
    ("xai: an early look well before the window", XAI, None, None, [], 0.0, 10.0, EXPLORE),
    ("then the scan one step after the window's start", APIXO, None, None, [], 40.0,
     math.sqrt(2 * 0.3 * 22), ROUTINE),
    ("apixo: window opens, spacing sqrt(2*0.3*(20+2))", APIXO, None, None, [], 40.0, math.sqrt(13.2), ROUTINE),
    ("apixo: spacing tightens as the window runs out", APIXO, None, None, [], 58.0, math.sqrt(2.4), ROUTINE),
    ("pixazo: a wide window is capped at 4 s", PIXAZO, None, None, [], 15.0, 4.0, ROUTINE),
    ("apixo: overdue by less than the spread: 3 s", APIXO, None, None, [], 65.0, 3.0, ROUTINE),
    ("apixo: overdue 2 spreads: towards 90 % of the documented 5 s", APIXO, None, None, [], 80.0, 3.5, ROUTINE),
    ("apixo: overdue 14 spreads: backing off", APIXO, None, None, [], 200.0, 14.5, ROUTINE),
    ("apixo: far overdue: capped at 15 s", APIXO, None, None, [], 900.0, 15.0, ROUTINE),
    ("xingchao 6 s clip: its 2-4 min window, no early look", XAI, "xingchao", 6.0, [], 0.0, 120.0, EXPLORE),
    ("xingchao 20 s clip: early look at 2 min", XAI, "xingchao", 20.0, [], 0.0, 120.0, EXPLORE),
    ("xingchao 20 s clip: then its 4-8 min window", XAI, "xingchao", 20.0, [], 120.0, 120.0, EXPLORE),
    ("xingchao: inside the window, never closer than 30 s", XAI, "xingchao", 6.0, [], 130.0, 30.0, ROUTINE),
]

PROGRESS = [
    ("queued (0 %) before the 20 s window: the next look at its start", XAI, [(10.0, 0.0)], 10.0, 10.0, EXPLORE),
    ("queued (0 %) in the window: look every 5 s", XAI, [(10.0, 0.0), (20.0, 0.0)], 20.0, 5.0, EXPLORE),
    ("long queue: a quarter of the wait, at most twice the interval", XAI, [(10.0, 0.0), (36.0, 0.0)], 36.0, 9.0, EXPLORE),
    ("one reading before the window (20 % at 10 s, end by 50 s): the next at the window's start",
     XAI, [(10.0, 20.0)], 10.0, 10.0, EXPLORE),
    ("one reading before the window, a fast job (60 % at 10 s, end by 16.7 s): half way to that end",
     XAI, [(10.0, 60.0)], 10.0, (40 / 6) / 2, EXPLORE),
    ("one reading in the window: the next soon (3 s), never a long sleep on it", XAI, [(25.0, 20.0)], 25.0, 3.0,
     EXPLORE),
    ("one high reading after a 0 %: at most the bound it implies", XAI, [(5.0, 0.0), (10.0, 95.0)], 10.0, 0.5, EXPLORE),
    ("two readings, not yet linear: at most half the running time", XAI,
     [(10.0, 20.0), (13.0, 29.0)], 13.0, 6.5, EXPLORE),
    ("0 % readings are the queue: the rate counts from the running ones", XAI,
     [(10.0, 0.0), (15.0, 0.0), (20.0, 10.0), (23.0, 16.0)], 23.0, 5.0, EXPLORE),
    ("three linear readings: aim at the end less one point's uncertainty", XAI,
     [(10.0, 20.0), (13.0, 29.0), (19.0, 47.0)], 19.0, 53 / 3 - (53 / 3) / 27, URGENT),
    ("close to the end: just past it", XAI, [(10.0, 20.0), (13.0, 29.0), (19.0, 47.0), (35.0, 95.0)], 36.5,
     5 / 3 - 1.5 + 0.1, URGENT),
    ("stalled at 99 % past the predicted end: short steps", XAI, [(10.0, 50.0), (20.0, 99.0)], 25.0,
     1.5 + 1.5 * (25.0 - (20 + 1 / 4.9)) / (0.4 * (20 + 1 / 4.9)), URGENT),
]


# (case, prior, provider, clip, replies [(elapsed, said queued)], now, queued now, expected, phase): the
# provider's own status word "queued" (xAI pending, Pixazo QUEUED, XingChaoYiQing queued), no progress figure
QUEUE_WORD = [
    ("queued at the submit: the first look is still the window's start", PIXAZO, None, None, [], 0.0, True,
     15.0, "queued"),
    ("queued at the window's start: the next look when it could have run 3/4 of the shortest time",
     PIXAZO, None, None, [], 15.0, True, 11.25, "queued"),
    ("a long queue: the same step", PIXAZO, None, None, [(15.0, True)], 100.0, True, 11.25, "queued"),
    ("another window: 3/4 of its 30 s", PollingPrior(first_poll=10.0, typical=(30.0, 60.0), interval=5.0),
     None, None, [], 100.0, True, 22.5, "queued"),
    ("running after a queue that lasted to 40 s: the window starts 3/4 x 15 s after that", PIXAZO, None, None,
     [(15.0, True), (40.0, True)], 50.0, False, 51.25 - 50.0, "to window"),
    ("then scanned with the whole documented width after the queue (capped at 4 s)", PIXAZO, None, None,
     [(15.0, True), (40.0, True)], 60.0, False, 4.0, "window scan"),
    ("near the shifted window's end (40 + 110 s) the spacing tightens", PIXAZO, None, None,
     [(15.0, True), (40.0, True)], 148.0, False, math.sqrt(2 * 0.3 * (2 + (150 - 51.25) / 10)), "window scan"),
    ("past the shifted window: the tail", PIXAZO, None, None, [(15.0, True), (40.0, True)], 151.0, False,
     3.0, "tail"),
    ("queued at the submit only: nothing shifts", PIXAZO, None, None, [(0.0, True)], 15.0, False,
     4.0, "window scan"),
    ("still queued at 5 s: it cannot end before 5 + 3/4 x 15 s", PIXAZO, None, None, [(5.0, True)], 15.0, False,
     1.25, "to window"),
    ("xingchao queued at 2 min: 3/4 of its 2 min is more than a minute, so once a minute", XAI, "xingchao", 6.0,
     [], 120.0, True, 60.0, "queued"),
]


@pytest.mark.parametrize(("case", "prior", "provider", "clip", "replies", "now", "queued", "expected", "phase"),
                         QUEUE_WORD, ids=[row[0] for row in QUEUE_WORD])
def test_the_queue_word_pushes_the_window_back(case: str, prior: PollingPrior, provider: str | None,
                                               clip: float | None, replies: list[tuple[float, bool]], now: float,
                                               queued: bool, expected: float, phase: str) -> None:
    schedule = PollSchedule(prior, provider=provider, duration=clip, rng=no_jitter)
    for elapsed, said_queued in replies:
        schedule.next_delay(elapsed, None, queued=said_queued)
    assert schedule.next_delay(now, None, queued=queued) == pytest.approx(expected)
    assert schedule.phase == phase


def test_a_queue_word_with_progress_figures_is_the_same_queue_as_zero_percent() -> None:
    by_word, by_figure = PollSchedule(XAI, rng=no_jitter), PollSchedule(XAI, rng=no_jitter)
    for elapsed in (10.0, 20.0, 36.0):
        assert by_word.next_delay(elapsed, 0.0, queued=True) == pytest.approx(by_figure.next_delay(elapsed, 0.0))
    # then running: both predict from the running readings, counting from the last queued reply
    for elapsed, progress in ((40.0, 10.0), (43.0, 16.0)):
        assert by_word.next_delay(elapsed, progress) == pytest.approx(by_figure.next_delay(elapsed, progress))
    assert by_word.prediction() == by_figure.prediction()


def test_a_fixed_interval_ignores_the_queue_word() -> None:
    schedule = PollSchedule(PIXAZO, fixed=5.0, rng=no_jitter)
    assert schedule.next_delay(40.0, None, queued=True) == pytest.approx(5.0)


# (case, elapsed, bound, window start, step, shortest, expected): the wait after a first running reading
ONE_READING_WAITS = [
    ("in the window: the step (3 s)", 25.0, 40.0, 20.0, 3.0, 0.5, 3.0),
    ("in the window, the bound nearer: the bound", 25.0, 2.0, 20.0, 3.0, 0.5, 2.0),
    ("in the window, the bound very near: never under the shortest", 25.0, 0.2, 20.0, 3.0, 0.5, 0.5),
    ("before the window: until its start", 10.0, 40.0, 20.0, 3.0, 0.5, 10.0),
    ("before the window, a fast job: half way to the bound", 10.0, 12.0, 20.0, 3.0, 0.5, 6.0),
    ("before the window, the bound very near: the step rule still holds", 10.0, 4.0, 20.0, 3.0, 0.5, 3.0),
    ("just before the window: never less than the step rule", 19.5, 40.0, 20.0, 3.0, 0.5, 3.0),
    ("time scale 0.05: the same shape", 0.5, 2.0, 1.0, 0.15, 0.025, 0.5),
]


@pytest.mark.parametrize(("case", "elapsed", "bound", "start", "step", "shortest", "expected"), ONE_READING_WAITS,
                         ids=[row[0] for row in ONE_READING_WAITS])
def test_one_reading_wait_uses_the_time_before_the_window(case: str, elapsed: float, bound: float, start: float,
                                                          step: float, shortest: float, expected: float) -> None:
    assert one_reading_wait(elapsed, bound, start, step, shortest) == pytest.approx(expected)


@pytest.mark.parametrize(("case", "prior", "provider", "clip", "readings", "now", "expected", "priority"),
                         NO_PROGRESS, ids=[row[0] for row in NO_PROGRESS])
def test_next_delay_without_progress(case: str, prior: PollingPrior, provider: str | None, clip: float | None,
                                     readings: list[tuple[float, float | None]], now: float,
                                     expected: float, priority: float) -> None:
    schedule = PollSchedule(prior, provider=provider, duration=clip, rng=no_jitter)
    assert replay(schedule, readings, now) == pytest.approx(expected)
    assert schedule.priority == priority


@pytest.mark.parametrize(("case", "prior", "readings", "now", "expected", "priority"),
                         PROGRESS, ids=[row[0] for row in PROGRESS])
def test_next_delay_from_progress(case: str, prior: PollingPrior, readings: list[tuple[float, float]],
                                  now: float, expected: float, priority: float) -> None:
    schedule = PollSchedule(prior, rng=no_jitter)
    assert replay(schedule, readings, now) == pytest.approx(expected)
    assert schedule.priority == priority


LINEAR = [(10.0, 20.0), (13.0, 29.0), (19.0, 47.0)]  # 3 %/s from 3.33 s: 100 % at 36.67 s
START, ETA = 10.0 - 20.0 / 3, 19.0 + 53.0 / 3
SPAN = ETA - START

# (case, readings [(t, progress)], expected Prediction or None)
PREDICTIONS = [
    ("one reading predicts nothing", [(10.0, 20.0)], None),
    ("three linear readings: the rate drawn back to 0 % gives the start", LINEAR,
     Prediction(start=START, eta=ETA, steady=True, uncertainty=(53 / 3) / 27)),
    ("a 99 % reading seen late (a stall) is left out of the rate", [*LINEAR, (45.0, 99.0)],
     Prediction(start=START, eta=ETA, steady=True, uncertainty=(53 / 3) / 27)),
    ("the start is never before the last 0 % reading", [(6.0, 0.0), *LINEAR],
     Prediction(start=6.0, eta=ETA, steady=True, uncertainty=(53 / 3) / 27)),
    ("two readings: not yet seen linear", LINEAR[:2],
     Prediction(start=START, eta=ETA, steady=False, uncertainty=(71 / 3) / 9)),
    ("only one reading below the top: the top one counts (start never before the submit)",
     [(10.0, 50.0), (20.0, 99.0)], Prediction(start=0.0, eta=20.0 + 1 / 4.9, steady=False, uncertainty=(1 / 4.9) / 49)),
]


@pytest.mark.parametrize(("case", "readings", "expected"), PREDICTIONS, ids=[row[0] for row in PREDICTIONS])
def test_prediction_from_the_readings_that_measure_speed(case: str, readings: list[tuple[float, float]],
                                                         expected: Prediction | None) -> None:
    schedule = PollSchedule(XAI, rng=no_jitter)
    for elapsed, progress in readings:
        schedule.next_delay(elapsed, progress)
    predicted = schedule.prediction()
    if expected is None:
        assert predicted is None
    else:
        assert predicted is not None
        assert (predicted.start, predicted.eta, predicted.steady, predicted.uncertainty) == pytest.approx(
            (expected.start, expected.eta, expected.steady, expected.uncertainty))


# (case, pending, done, expected (low, high) ratio of running times)
END_RATIOS = [
    ("ended as predicted", ETA - 0.5, ETA + 0.5, ((SPAN - 0.5) / SPAN, (SPAN + 0.5) / SPAN)),
    ("sat at 99 % for a third more", START + 4 / 3 * SPAN - 1.0, START + 4 / 3 * SPAN,
     (4 / 3 - 1.0 / SPAN, 4 / 3)),
]


@pytest.mark.parametrize(("case", "pending", "done", "expected"), END_RATIOS, ids=[row[0] for row in END_RATIOS])
def test_end_ratio_is_running_time_over_the_predicted_running_time(case: str, pending: float, done: float,
                                                                  expected: tuple[float, float]) -> None:
    schedule = PollSchedule(XAI, rng=no_jitter)
    for elapsed, progress in [*LINEAR, (40.0, 99.0)]:
        schedule.next_delay(elapsed, progress)
    assert schedule.end_ratio(pending, done) == pytest.approx(expected)


def test_a_job_found_done_by_the_learned_aim_counts_as_ending_one_step_before_it() -> None:
    schedule = PollSchedule(XAI, rng=no_jitter, ratios=constant(STALL))
    assert replay(schedule, LINEAR, 19.0) == pytest.approx(LOW - 19.0)
    assert schedule.phase == "aim learned"
    # still running at 19 s, done at the aimed poll: not the midpoint of 19 s..LOW
    assert schedule.end_ratio(19.0, LOW) == pytest.approx(((LOW - LEARNED_SPACING_S - START) / SPAN, STALL[0]))


def test_no_end_ratio_without_a_prediction() -> None:
    schedule = PollSchedule(XAI, rng=no_jitter)
    schedule.next_delay(10.0, 20.0)
    assert schedule.end_ratio(20.0, 21.0) is None
    fixed = PollSchedule(XAI, fixed=5.0, rng=no_jitter)
    for elapsed, progress in LINEAR:
        fixed.next_delay(elapsed, progress)
    assert fixed.end_ratio(40.0, 41.0) is None


STALL = (1.30, 1.35)  # earlier jobs ran 30-35 % longer than their progress predicted
LOW, HIGH = START + STALL[0] * SPAN, START + STALL[1] * SPAN

# (case, learned ratio window, readings, now, expected delay, priority, phase)
LEARNED = [
    ("steady readings: straight to the learned range, not to the predicted end", STALL, LINEAR, 19.0,
     LOW - 19.0, URGENT, "aim learned"),
    ("not yet linear and far: part of the way, as without learning", STALL, LINEAR[:2], 13.0,
     6.5, EXPLORE, "part way"),
    ("at 99 % inside the range: spaced as a window scan, sqrt(2 x 0.3 s x time left)", STALL,
     [*LINEAR, (LOW + 0.1, 99.0)], LOW + 0.3,
     max(math.sqrt(2 * 0.3 * (HIGH - LOW - 0.3)), LEARNED_SPACING_S), URGENT, "learned window"),
    ("within half a step of the range: in it (no tiny step)", STALL, LINEAR, LOW - 0.3,
     max(math.sqrt(2 * 0.3 * (HIGH - LOW + 0.3)), LEARNED_SPACING_S), URGENT, "learned window"),
    ("near the range's end: never closer than the shortest step", STALL, [*LINEAR, (LOW + 0.1, 99.0)],
     HIGH - 0.1, LEARNED_SPACING_S, URGENT, "learned window"),
    ("past the range: the progress tail from its end", STALL, [*LINEAR, (LOW, 99.0)], HIGH + 2.0,
     1.5 + 1.5 * 2.0 / (0.4 * (HIGH - START)), URGENT, "progress tail"),
    ("a range that starts below 5 % over: the readings' own aim", (1.02, 1.40), LINEAR, 19.0,
     53 / 3 - (53 / 3) / 27, URGENT, "aim"),
    ("nothing learned yet: the readings' own aim", None, LINEAR, 19.0, 53 / 3 - (53 / 3) / 27, URGENT, "aim"),
]


@pytest.mark.parametrize(("case", "ratios", "readings", "now", "expected", "priority", "phase"),
                         LEARNED, ids=[row[0] for row in LEARNED])
def test_next_delay_aims_at_the_learned_end_range(case: str, ratios: tuple[float, float] | None,
                                                  readings: list[tuple[float, float]], now: float,
                                                  expected: float, priority: float, phase: str) -> None:
    schedule = PollSchedule(XAI, rng=no_jitter, ratios=lambda: ratios)
    assert replay(schedule, readings, now) == pytest.approx(expected)
    assert (schedule.priority, schedule.phase) == (priority, phase)


def test_ratios_are_read_at_each_decision_so_a_burst_learns_from_its_first_jobs() -> None:
    memory = RatioMemory()
    key = ("xai", "http://x", "grok-video", 6.0, "480p")
    schedule = PollSchedule(XAI, rng=no_jitter, ratios=lambda: memory.window(key))
    for elapsed, progress in LINEAR[:2]:
        schedule.next_delay(elapsed, progress)
    assert schedule.next_delay(*LINEAR[2]) == pytest.approx(53 / 3 - (53 / 3) / 27)  # nothing learned
    memory.add(key, 1.30, 1.32)
    assert schedule.next_delay(*LINEAR[2]) == pytest.approx(53 / 3 - (53 / 3) / 27)  # one job: not yet
    for low, high in [(1.32, 1.34), (1.31, 1.35)]:
        memory.add(key, low, high)
    assert schedule.next_delay(*LINEAR[2]) == pytest.approx(START + memory.window(key)[0] * SPAN - 19.0)  # type: ignore[index]


def test_one_reading_past_the_end_it_allows_goes_to_the_tail_not_half_second_polls() -> None:
    schedule = PollSchedule(XAI, rng=no_jitter)
    assert schedule.next_delay(30.0, 99.0) == pytest.approx(0.5)       # 99 % at 30 s: the end within 0.3 s
    assert schedule.next_delay(30.5, 99.0) == pytest.approx(0.5)
    overdue = 31.5 - (30.0 + 30.0 / 99.0)
    assert schedule.next_delay(31.5, 99.0) == pytest.approx(1.5 + 1.5 * overdue / (0.4 * (30.0 + 30.0 / 99.0)))
    assert schedule.phase == "progress tail"


# (case, observations [(low, high)], expected window)
RATIO_MEMORY = [
    ("one: nothing (one job never sets the aim)", [(1.3, 1.4)], None),
    ("two: a tenth of the way from the lower", [(1.30, 1.34), (2.0, 2.2)], (1.32 + 0.1 * 0.78, 1.32 + 0.9 * 0.78)),
    ("three: 10th and 90th percentile of the midpoints", [(1.30, 1.32), (1.32, 1.34), (1.20, 1.40)],
     (1.302, 1.326)),
    # midpoints 1.30, 1.31, 1.33: median 1.31, spread max(0.024, 10 % of 1.31): 2.95 counts as 1.703
    # (unclamped, the 90th percentile would be 2.46)
    ("a wild fourth is clamped to three spreads of the median", [(1.30, 1.32), (1.32, 1.34), (1.20, 1.40),
                                                                   (2.9, 3.0)], (1.303, 1.33 + 0.7 * 0.373)),
    ("every ratio is clamped to 0.5-3", [(9.0, 9.0), (0.0, 0.1), (1.0, 1.0)], (0.6, 2.6)),
]


@pytest.mark.parametrize(("case", "observations", "expected"), RATIO_MEMORY, ids=[row[0] for row in RATIO_MEMORY])
def test_ratio_memory_is_bounded_quantiles(case: str, observations: list[tuple[float, float]],
                                           expected: tuple[float, float] | None) -> None:
    memory = RatioMemory()
    key = ("xai", "http://x", "grok-video", 6.0, "480p")
    for low, high in observations:
        memory.add(key, low, high)
    window = memory.window(key)
    if expected is None:
        assert window is None
    else:
        assert window == pytest.approx(expected, abs=1e-4)
    memory.clear()
    assert memory.window(key) is None


@pytest.mark.parametrize("provider", ["apixo", "pixazo"])
def test_the_first_look_is_at_the_window_start_even_without_progress_figures(provider: str) -> None:
    # the sandbox's own model ends 6 s APIXO clips at 40 s +-8 %: a look only one scan step into
    # the window found them later than a 5 s loop (benchmarks/polling.py --family by_request)
    prior = get_adapter(provider).polling
    assert PollSchedule(prior, rng=no_jitter).next_delay(0.0) == pytest.approx(prior.typical[0])


def test_slow_start_never_buys_a_long_sleep() -> None:
    # 1 % then 2 %: a naive rate says 100 % in ~5 minutes; the job has run 13 s, so at most 6.5 s
    schedule = PollSchedule(XAI, rng=no_jitter)
    schedule.next_delay(10.0, 1.0)
    assert schedule.next_delay(13.0, 2.0) == pytest.approx(6.5)


@pytest.mark.parametrize(("fixed", "rng", "expected"), [(5.0, 0.5, 5.0), (5.0, 0.0, 4.75), (5.0, 1.0, 5.25),
                                                        (2.0, 0.5, 2.0)])
def test_fixed_interval_has_a_small_jitter_and_is_unscaled(fixed: float, rng: float, expected: float) -> None:
    schedule = PollSchedule(APIXO, scale=0.01, fixed=fixed, rng=lambda: rng)
    assert [schedule.next_delay(t) for t in (0.0, 2.0, 4.0)] == pytest.approx([expected] * 3)


def test_fixed_interval_keeps_the_provider_politeness_minimum() -> None:
    assert PollSchedule(XAI, fixed=5.0, provider="xingchao", rng=no_jitter).next_delay(0.0) == 30.0
    assert PollSchedule(XAI, fixed=5.0, provider="xingchao", policy=PollPolicy(),
                        rng=no_jitter).next_delay(0.0) == 5.0


def test_time_scale_shrinks_every_built_in_timing() -> None:
    assert PollSchedule(APIXO, scale=0.1, rng=no_jitter).next_delay(0.0) == pytest.approx(4.0)
    assert PollSchedule(XAI, scale=0.1, provider="xingchao", duration=6.0,
                        rng=no_jitter).next_delay(130 * 0.1) == pytest.approx(3.0)


def test_retry_after_is_always_honoured() -> None:
    assert PollSchedule(APIXO, fixed=1.0).next_delay(0.0, retry_after=7.0) == 7.0
    assert PollSchedule(APIXO, rng=no_jitter).next_delay(41.0, retry_after=9.0) == 9.0


def test_learning_widens_the_documented_window_but_never_narrows_it() -> None:
    assert PollSchedule(APIXO, learned=(30.0, 50.0)).window() == (30.0, 60.0)
    assert PollSchedule(APIXO, learned=(45.0, 90.0)).window() == (40.0, 90.0)
    assert PollSchedule(APIXO, learned=(45.0, 50.0)).window() == (40.0, 60.0)


def test_the_documented_interval_is_read() -> None:
    # a provider documenting 10 s between polls backs off to 90 % of it when well overdue
    slow = PollingPrior(first_poll=30.0, typical=(40.0, 60.0), interval=10.0)
    assert PollSchedule(slow, rng=no_jitter).next_delay(100.0) == pytest.approx(9.0)
    assert PollSchedule(APIXO, rng=no_jitter).next_delay(100.0) == pytest.approx(4.5)


def test_memory_needs_three_precise_observations_and_caps_an_outlier() -> None:
    memory = LatencyMemory()
    key = ("apixo", "http://x", "grok-video", 6.0, "480p")
    memory.add(key, 40.0, 0.5)
    memory.add(key, 42.0, 0.5)
    memory.add(key, 20.0, 20.0)                       # a job seen done at its first poll: too vague
    assert memory.window(key, precision=2.0) is None
    memory.add(key, 44.0, 0.5)
    assert memory.window(key, precision=2.0) == pytest.approx((40.4 - 0.5, 43.6 + 0.5))
    memory.add(key, 10_000.0, 0.5)                    # one wild observation moves the window a bounded amount
    low, high = memory.window(key, precision=2.0)  # type: ignore[misc]
    assert 39.0 < low < 44.0 and high < 80.0


def test_policy_table_is_public_and_overridable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_schedule, "POLL_POLICIES", dict(POLL_POLICIES))
    assert poll_policy("xingchao").min_interval == 30.0
    assert poll_policy("xai") == PollPolicy()
    changed = poll_policy("xingchao", min_interval=10.0)
    assert changed.min_interval == 10.0 and changed.typical == (120.0, 480.0)
    assert PollSchedule(XAI, provider="xingchao", duration=6.0, rng=no_jitter).next_delay(130.0) == 10.0
    with pytest.raises(ValueError, match="min_interval"):
        poll_policy("xai", min_interval=-1.0)


def constant(value: tuple[float, float] | None) -> Callable[[], tuple[float, float] | None]:
    return lambda: value


def _random_history(rng: random.Random, prior: PollingPrior) -> tuple[list[tuple[float, float | None]], float]:
    """A plausible history: polls at increasing times, progress None or rising (0 first)."""
    t, readings = 0.0, []
    reports = rng.random() < 0.5
    progress = 0.0
    for _ in range(rng.randrange(0, 8)):
        t += rng.uniform(0.2, 30.0)
        if reports:
            progress = min(99.0, progress + rng.choice([0.0, 0.0, rng.uniform(0, 40)]))
            readings.append((t, float(int(progress))))
        else:
            readings.append((t, None))
    return readings, t + rng.uniform(0.0, 5.0)


@pytest.mark.parametrize("provider", ["xai", "apixo", "pixazo", "xingchao", "apiinone"])
def test_properties_hold_on_random_histories(provider: str) -> None:
    rng = random.Random(f"schedule-{provider}")
    prior = get_adapter(provider).polling
    minimum = POLL_POLICIES.get(provider, PollPolicy()).min_interval
    for _ in range(3000):
        scale = rng.choice([1.0, 0.05])
        readings, now = _random_history(rng, prior)
        readings = [(t * scale, p) for t, p in readings]
        now *= scale
        deadline = now + rng.uniform(0.0, 400.0) * scale
        learned = rng.choice([None, (1.0, 1.02), (1.3, 1.35), (0.6, 2.9)])
        schedule = PollSchedule(prior, scale=scale, provider=provider, deadline=deadline,
                                duration=rng.choice([6.0, 20.0]), rng=rng.random,
                                ratios=constant(learned))
        delay = replay(schedule, readings, now)
        assert 0.0 <= delay <= deadline - now + 1e-9             # never sleeps past the deadline
        if delay < deadline - now:
            assert delay >= minimum * scale - 1e-9                # never below the politeness minimum
        # overdue by less than the window's spread, with no progress: no long back-off
        if all(p is None for _, p in readings):
            low, high = schedule.window()
            spread = max(high - low, 0.1 * high) / 2
            if high < now <= high + spread:
                assert delay <= max(TAIL_STEP_S * scale * 1.05, minimum * scale) + 1e-9


def test_time_scale_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROKVID_TIME_SCALE", "0.25")
    assert time_scale() == 0.25
    monkeypatch.setenv("GROKVID_TIME_SCALE", "fast")
    with pytest.raises(ValueError, match="GROKVID_TIME_SCALE"):
        time_scale()
    monkeypatch.setenv("GROKVID_TIME_SCALE", "-1")
    with pytest.raises(ValueError, match="positive"):
        time_scale()
