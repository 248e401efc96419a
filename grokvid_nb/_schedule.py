"""When to poll next: provider priors, the job's own progress, what this session learned.

The schedule is a pure function of what one job has seen (its progress readings, the time
since submit) plus what the provider documents and what earlier jobs took. Chosen by
`benchmarks/polling.py --family all` (several latency families, not only the sandbox's):

1. Progress (xAI, API in One): 0 % readings mean "queued" and are ignored; the end is
   predicted from the last two distinct readings (not from the submit time). Far from the
   end the next poll goes 70 % of the way there (progress is not always linear), near it
   the poll aims just past it. One reading alone never buys a long sleep. A reading at the
   top (99 %) says "nearly done", not how fast the job runs: it is left out of the rate.
   Before the documented window's start no job ends, so looks there only serve the
   prediction: a queued job (0 %) is next looked at that start, and after a first running
   reading the second waits until that start or half the way to the latest end the reading
   allows, whichever comes first (`one_reading_wait`): a longer base for the rate.
   Learned per kind of job (`RatioMemory`, `end_ratios`): each finished job's running time
   over the running time its progress predicted. Where earlier jobs reliably ran longer
   than predicted (progress sitting at 99 % for a while: the learned range starts 5 % or
   more above 1), polls aim at that range instead of the predicted end, and scan it with
   the window's spacing rule (down to 0.6 s). Read at each decision, so a burst learns
   from its first jobs.
2. No progress: a completion window (the documented range for the clip, widened, never
   narrowed, by completion times learned in this session) is scanned with a spacing that
   tightens as the window runs out (the chance to finish in the next second grows). The
   first look is at the window's start: "about 40-60 s" lets a job end at or just before
   40 s (the sandbox's own model puts 6 s clips there), and skipping that look cost a
   p95 worse than a 5 s loop's (benchmarks/RESULTS.md, family `by_request`).
   The queue word: a status reply that says the job waits in the provider's queue (xAI
   `pending`, Pixazo `QUEUED`, XingChaoYiQing `queued`) means it cannot end yet. It is taken
   to run at least `QUEUE_RUN_SHARE` of the shortest documented time once it starts, so it is
   looked at that often (at least once a minute), and the window then counts from its last
   queued reply: a queue surge pushes the window back instead of making the job look overdue.
   A provider whose job went from queued straight to done is not believed again
   (`queue_words`).
3. Overdue (past the predicted end or the window): polls stay a few seconds apart while the
   job is late by less than the typical spread, then back off to the documented interval
   (`PollingPrior.interval`) and at most `cap`.

Per provider politeness (`POLL_POLICIES`, `poll_policy()`): XingChaoYiQing asks for 30-60 s
between polls, so by default no two of its polls are closer than 30 s. A Retry-After hint is
always honoured. Delays get a little jitter so jobs submitted together do not poll in the
same instant. All built-in times are multiplied by `GROKVID_TIME_SCALE`.
"""

from __future__ import annotations

import dataclasses
import math
import os
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from ._ratelimit import EXPLORE, ROUTINE, URGENT
from .adapters import PollingPrior

__all__ = ["time_scale", "PollSchedule", "PollPolicy", "POLL_POLICIES", "poll_policy",
           "LatencyMemory", "MemoryKey", "memory", "Prediction", "RatioMemory", "end_ratios",
           "QueueWordTrust", "queue_words", "one_reading_wait"]

#: spacing constant of the window scan: spacing = sqrt(2 * C * time left in the window)
SCAN_COST_S = 0.3
#: polls inside a window are at least this far apart (before politeness)
MIN_SPACING_S = 1.0
#: longest step inside a window (and never more than 90 % of the documented interval)
MAX_SCAN_STEP_S = 4.0
#: longest step while a job is overdue by less than the typical spread
TAIL_STEP_S = 3.0
#: step while a progress-reporting job is queued (0 %)
QUEUED_STEP_S = 5.0
#: a job that leaves the provider's queue still runs at least this share of the documented
#: shortest time (the documented range includes a usual short queue)
QUEUE_RUN_SHARE = 0.75
#: a job queued by the provider's word is still looked at least once a minute (a failure in
#: the queue is then seen within a minute, and XingChaoYiQing's 30-60 s guidance is kept)
QUEUED_MAX_STEP_S = 60.0
#: with a measured progress rate, polls further than this from the predicted end go part way
AIM_HORIZON_S = 6.0
#: far from the predicted end, a poll goes this fraction of the way there
AIM_FRACTION = 0.7
#: two successive progress rates this close (relative) count as linear: aim at the end directly
STEADY_RATE_TOLERANCE = 0.15
#: the documented first poll is kept when it is before this fraction of the window's start
EARLY_LOOK_FRACTION = 0.6
#: first step once a job is past its window / its predicted end
TAIL_START_S = 3.0
PROGRESS_TAIL_START_S = 1.5
#: a reading at or above this says the job is nearly done, not how fast it runs
TOP_PROGRESS = 99.0
#: inside an end range learned from earlier jobs' progress (`RatioMemory`): spacing
#: sqrt(2 x SCAN_COST_S x time left in the range) as in a window, but at least this step
LEARNED_SPACING_S = 0.6
#: the learned range is used once earlier jobs ran at least this much longer than their
#: progress predicted (its low end): below that the readings' own prediction is the aim
LEARNED_RATIO_MIN = 1.05
#: quantiles of `RatioMemory`'s window, and the range an observed ratio is clamped to
RATIO_QUANTILES = (0.1, 0.9)
RATIO_RANGE = (0.5, 3.0)


@dataclass(frozen=True)
class Prediction:
    """The end a job's progress readings predict (scaled seconds since submit).

    `start`: when it started running (the rate drawn back to 0 %); `eta`: when it reaches
    100 % at that rate; `steady`: the rate was seen constant over three readings;
    `uncertainty`: how far one whole percent point moves `eta`.
    """

    start: float
    eta: float
    steady: bool
    uncertainty: float


def one_reading_wait(elapsed: float, bound: float, window_start: float, step: float, shortest: float) -> float:
    """Wait after a job's first running progress reading, taken `elapsed` seconds after the
    submit, when that reading allows the job to end at most `bound` seconds from now.

    Soon (`step`, or the bound if nearer; never under `shortest`), for a second reading that
    measures the rate. Before the documented window's start, when no job of the kind ends, it
    waits instead until that start or until half the way to the bound, whichever comes first:
    the rate is then measured over a longer base (closer to linear, fewer "part way" polls),
    and a fast job still gets a second reading below the top (99 %)."""
    wait = max(min(step, bound), shortest)
    if elapsed < window_start:
        wait = max(wait, min(0.5 * bound, window_start - elapsed))
    return wait


def time_scale() -> float:
    """`GROKVID_TIME_SCALE` (default 1): multiplies every built-in timing."""
    raw = os.environ.get("GROKVID_TIME_SCALE", "").strip()
    if not raw:
        return 1.0
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"GROKVID_TIME_SCALE={raw!r} is not a number") from None
    if not value > 0:
        raise ValueError(f"GROKVID_TIME_SCALE={raw!r} must be positive")
    return value


@dataclass(frozen=True)
class PollPolicy:
    """Per-provider polling settings on top of the adapter's `PollingPrior` (unscaled seconds).

    `min_interval`: no two polls of one job closer than this (politeness; applies to a fixed
    `poll_interval` too). `first_poll`, `typical` and `interval` replace the adapter's prior
    when set; `typical_by_duration` gives the completion range by clip length as
    ((longest clip, (low, high)), ...), the first entry the clip fits. `source` cites the page.
    """

    min_interval: float = 0.0
    first_poll: float | None = None
    typical: tuple[float, float] | None = None
    interval: float | None = None
    typical_by_duration: tuple[tuple[float, tuple[float, float]], ...] = ()
    source: str = ""


#: Provider name -> polling policy. Change an entry with `poll_policy(name, min_interval=...)`.
POLL_POLICIES: dict[str, PollPolicy] = {
    # docs.xingchaoyiqing.com/api-reference/video/grok-query (2026-11): "recommended polling
    # interval: 30-60 seconds ... avoid overly frequent requests"; 6-10 s clips take 2-4 min,
    # 20-30 s clips 4-8 min (the adapter's older prior says 60-120 s)
    "xingchao": PollPolicy(min_interval=30.0, first_poll=120.0, typical=(120.0, 480.0), interval=30.0,
                           typical_by_duration=((10.0, (120.0, 240.0)), (30.0, (240.0, 480.0))),
                           source="docs.xingchaoyiqing.com grok-create / grok-query"),
}
_policy_lock = threading.Lock()


def poll_policy(provider: str, **changes: object) -> PollPolicy:
    """The polling policy of `provider`; keyword arguments replace fields for this process.

    `gv.poll_policy("xingchao", min_interval=10)` polls XingChaoYiQing jobs up to every 10 s
    (its pages ask for 30-60 s); `gv.poll_policy("xai")` just reads. See `PollPolicy`.
    """
    with _policy_lock:
        current = POLL_POLICIES.get(provider, PollPolicy())
        if changes:
            current = dataclasses.replace(current, **changes)  # type: ignore[arg-type]
            if current.min_interval < 0:
                raise ValueError("min_interval must not be negative")
            POLL_POLICIES[provider] = current
        return current


#: (provider, endpoint, model, clip length, resolution): requests expected to take as long
MemoryKey = tuple[str, str, str, "float | None", "str | None"]


def _quantile(ordered: list[float], q: float) -> float:
    pos = q * (len(ordered) - 1)
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


class LatencyMemory:
    """Completion times seen in this session, per provider, endpoint, model and clip shape.

    Each observation is an interval: the job was still running at the last poll before the
    one that saw it done. Vague observations (a job seen done at a sparse poll) are left out
    when enough precise ones exist, and every observation is clamped to within three
    inter-quantile spreads of the median seen so far, so one outlier moves the window by a
    bounded amount.
    """

    def __init__(self, keep: int = 50) -> None:
        self._keep = keep
        self._seen: dict[MemoryKey, list[tuple[float, float]]] = {}
        self._lock = threading.Lock()

    def add(self, key: MemoryKey, seconds: float, uncertainty: float = 0.0) -> None:
        """Remember one completion time (seconds since submit) known to +- `uncertainty`."""
        with self._lock:
            seen = self._seen.setdefault(key, [])
            if len(seen) >= 3:
                times = sorted(t for t, _ in seen)
                mid = _quantile(times, 0.5)
                spread = max(_quantile(times, 0.9) - _quantile(times, 0.1), 0.1 * mid)
                seconds = min(max(seconds, mid - 3 * spread), mid + 3 * spread)
            seen.append((seconds, uncertainty))
            del seen[: -self._keep]

    def window(self, key: MemoryKey, precision: float = float("inf")) -> tuple[float, float] | None:
        """(10th, 90th percentile) of completion times, once 3 or more were seen.

        Uses the observations known to within `precision` seconds (or, if fewer than three
        are, those within three times that); each end is widened by the mean uncertainty.
        """
        with self._lock:
            seen = list(self._seen.get(key, ()))
        usable = [(t, u) for t, u in seen if u <= precision]
        if len(usable) < 3:
            usable = [(t, u) for t, u in seen if u <= 3 * precision]
        if len(usable) < 3:
            return None
        times = sorted(t for t, _ in usable)
        blur = sum(u for _, u in usable) / len(usable)
        return max(0.0, _quantile(times, 0.1) - blur), _quantile(times, 0.9) + blur

    def clear(self) -> None:
        """Forget everything (for tests and benchmarks)."""
        with self._lock:
            self._seen.clear()


memory = LatencyMemory()


class RatioMemory:
    """How the end of progress-reporting jobs related to the end their progress predicted.

    One observation per finished job: its running time over the running time its progress
    predicted (`PollSchedule.end_ratio`), known as an interval (still running at one poll,
    done at the next) and kept as the interval's midpoint. About 1 where progress is linear
    to the end; 4/3 where it sits at 99 % for the last quarter of the job. The window is the
    (10th, 90th) percentile, from two observations on: its low end, where polls aim first, is
    never set by one job alone (with two, it lies a tenth of the way from the lower to the
    higher, so one job that ran long cannot move the aim). A job found done by the first poll
    aimed at the window (its ratio is only known to be below the window's low end) counts
    with a midpoint below that end, so it pulls the window down instead of dropping out of
    the sample (which would ratchet the window up). Every ratio is clamped to 0.5-3, and
    from the fourth on to within three inter-quantile spreads of the median seen so far, so
    one job moves the window by a bounded amount.
    """

    def __init__(self, keep: int = 50) -> None:
        self._keep = keep
        self._seen: dict[MemoryKey, list[float]] = {}
        self._lock = threading.Lock()

    def add(self, key: MemoryKey, low: float, high: float) -> None:
        """Remember one job's ratio, known to lie between `low` and `high`."""
        ratio = min(max((low + high) / 2, RATIO_RANGE[0]), RATIO_RANGE[1])
        with self._lock:
            seen = self._seen.setdefault(key, [])
            if len(seen) >= 3:
                ordered = sorted(seen)
                mid = _quantile(ordered, 0.5)
                spread = max(_quantile(ordered, 0.9) - _quantile(ordered, 0.1), 0.1 * mid)
                ratio = min(max(ratio, mid - 3 * spread), mid + 3 * spread)
            seen.append(ratio)
            del seen[: -self._keep]

    def window(self, key: MemoryKey) -> tuple[float, float] | None:
        """(10th, 90th percentile) of the ratios seen, once two or more were; else None."""
        with self._lock:
            ordered = sorted(self._seen.get(key, ()))
        if len(ordered) < 2:
            return None
        return _quantile(ordered, RATIO_QUANTILES[0]), _quantile(ordered, RATIO_QUANTILES[1])

    def clear(self) -> None:
        """Forget everything (for tests and benchmarks)."""
        with self._lock:
            self._seen.clear()


end_ratios = RatioMemory()


class QueueWordTrust:
    """Whether a provider's "queued" status word is believed in this session.

    The pages of xAI, Pixazo and XingChaoYiQing say a job goes queued -> processing -> done, and
    the schedule takes a queued job for not started (`PollSchedule.next_delay(queued=...)`). A
    job whose replies went from queued straight to done shows that this provider says queued
    while it runs: from then on the engine ignores that word for the provider, and its jobs are
    polled as if it had none (the first such job was seen at most one queued step late).
    """

    def __init__(self) -> None:
        self._distrusted: set[str] = set()
        self._lock = threading.Lock()

    def trusted(self, provider: str) -> bool:
        """False once a job of `provider` went from queued straight to done."""
        with self._lock:
            return provider not in self._distrusted

    def contradicted(self, provider: str) -> bool:
        """Record a job of `provider` that went from queued straight to done; True the first time."""
        with self._lock:
            if provider in self._distrusted:
                return False
            self._distrusted.add(provider)
            return True

    def clear(self) -> None:
        """Believe every provider's word again (for tests and benchmarks)."""
        with self._lock:
            self._distrusted.clear()


queue_words = QueueWordTrust()


@dataclass
class PollSchedule:
    """Delays between status polls for one job.

    `fixed` (seconds) forces a constant interval (+-5 % jitter), unscaled, as
    `Client(poll_interval=...)` asks. `learned` is a (low, high) completion window from
    `LatencyMemory`, in scaled seconds. `provider` selects the `POLL_POLICIES` entry unless
    `policy` is given; `duration` (the clip's seconds) picks a per-length range. `deadline`
    (seconds since submit) is never slept past. `cap` and `max_wait` are unscaled seconds.
    `ratios` returns, when called, the (low, high) range learned so far of how the end of
    this kind of job relates to the end its progress predicted (`RatioMemory.window`); it
    is read at each decision, so jobs of one burst learn from those that finished first.
    After each `next_delay`, `priority` says how much that poll is worth to a rate limiter
    (`_ratelimit.URGENT`, `ROUTINE`, `EXPLORE`) and `phase` which rule chose it (for
    diagnostics and the benchmark's breakdown of where polls go).
    """

    prior: PollingPrior
    scale: float = 1.0
    fixed: float | None = None
    learned: tuple[float, float] | None = None
    provider: str | None = None
    policy: PollPolicy | None = None
    duration: float | None = None
    deadline: float | None = None
    cap: float = 15.0  # longest interval once a job is well overdue
    max_wait: float = 300.0  # longest single sleep, even before the window
    rng: Callable[[], float] = random.random
    ratios: Callable[[], tuple[float, float] | None] | None = None
    priority: float = EXPLORE
    phase: str = ""
    _readings: list[tuple[float, float]] = field(default_factory=list)  # (t, %) while running
    _queued_at: float | None = None  # last time the job said it was queued (0 %, or its status word)
    _reports_progress: bool = False

    def __post_init__(self) -> None:
        if self.policy is None:
            self.policy = POLL_POLICIES.get(self.provider or "", PollPolicy())

    # ---- the prior, scaled --------------------------------------------------------------
    def _first_poll(self) -> float:
        assert self.policy is not None
        return (self.policy.first_poll or self.prior.first_poll) * self.scale

    def _interval(self) -> float:
        assert self.policy is not None
        return (self.policy.interval or self.prior.interval) * self.scale

    def _min_interval(self) -> float:
        assert self.policy is not None
        return self.policy.min_interval * self.scale

    def _documented(self) -> tuple[float, float]:
        """The documented completion range of this job's clip, scaled."""
        assert self.policy is not None
        low, high = self.policy.typical or self.prior.typical
        if self.duration is not None:
            for longest, rng in self.policy.typical_by_duration:
                if self.duration <= longest:
                    low, high = rng
                    break
        return low * self.scale, high * self.scale

    def window(self) -> tuple[float, float]:
        """(low, high) scaled seconds since submit where this job is expected to finish."""
        low, high = self._documented()
        if self.learned is not None:
            # learning widens the documented range (jobs faster or slower than documented) but
            # never narrows it: the first jobs of a burst to finish are the fastest ones
            low, high = min(low, self.learned[0]), max(high, self.learned[1])
        return low, high

    # ---- the decision -------------------------------------------------------------------
    def next_delay(self, elapsed: float, progress: float | None = None,
                   retry_after: float | None = None, queued: bool = False) -> float:
        """Seconds to wait before the next poll, `elapsed` seconds after the submit.

        `progress` is the latest reading (None when the provider reports none); `queued`: the
        latest reply's status word said the job waits in the provider's queue (xAI `pending`,
        Pixazo `QUEUED`, XingChaoYiQing `queued`), as opposed to running.
        """
        if self.fixed is not None:
            delay = self.fixed * (1 + 0.1 * (self.rng() - 0.5))
            self.priority, self.phase = ROUTINE, "fixed"
        else:
            queued_now = self._note_queued(elapsed, queued)
            self._note(elapsed, progress)
            delay = self._adaptive(elapsed, queued_now)
            spread = min(0.05 * delay, 0.2 * self.scale)
            delay += (self.rng() * 2 - 1) * spread
            delay = min(delay, self.max_wait * self.scale)
        delay = max(delay, self._min_interval(), 0.05 * self.scale)
        if retry_after is not None:
            delay = max(delay, retry_after)
        if self.deadline is not None:
            delay = min(delay, max(0.0, self.deadline - elapsed))
        return delay

    def _note_queued(self, elapsed: float, queued: bool) -> bool:
        """Remember a queued reply (one before any running progress figure); True for one."""
        if queued and not self._readings:
            self._queued_at = elapsed
            return True
        return False

    def _note(self, elapsed: float, progress: float | None) -> None:
        if progress is None:
            return
        self._reports_progress = True
        if progress <= 0.0:
            if not self._readings:
                self._queued_at = elapsed
            return
        if progress >= 100.0:
            return
        if not self._readings or progress > self._readings[-1][1]:
            self._readings.append((elapsed, progress))  # first time this figure was seen

    def _adaptive(self, elapsed: float, queued_now: bool) -> float:
        scale = self.scale
        if self._readings:
            return self._from_progress(elapsed)
        low, high = self.window()
        first = self._first_poll()
        if elapsed < first * 0.9 and first < EARLY_LOOK_FRACTION * low:
            # one early look well before the window: it catches instant failures and the
            # first progress figure (a look just before the window buys little)
            self.priority, self.phase = EXPLORE, "early look"
            return first - elapsed
        if self._reports_progress:
            # queued (0 %): it cannot finish before it has run, and a running reading
            # will give the end; look every few seconds, sooner near the window
            # (a long queue is looked at less often: a quarter of the time waited so far)
            self.priority, self.phase = EXPLORE, "queued"
            if elapsed < low - MIN_SPACING_S * scale:
                # before the window's start nothing ends: the next look is at that start
                return low - elapsed
            step = min(max(QUEUED_STEP_S * scale, 0.25 * elapsed), 2 * self._interval())
            return max(step, min(low - elapsed, self._interval()))
        if self._queued_at is not None:
            if queued_now:
                return self._queued_no_progress(elapsed, low)
            low, high = self._after_queue(low, high)
        if elapsed < low - MIN_SPACING_S * scale:
            self.priority, self.phase = EXPLORE, "to window"
            return low - elapsed
        return self._scan(elapsed, low, high)

    def _queued_no_progress(self, elapsed: float, low: float) -> float:
        """Still queued, by the provider's own word: it cannot end before it has run for
        `QUEUE_RUN_SHARE` of the documented shortest time, and the window is then counted from
        the last queued reply (`_after_queue`), so looks that far apart miss nothing (but at
        least once a minute, `QUEUED_MAX_STEP_S`, for a failure in the queue)."""
        self.priority, self.phase = EXPLORE, "queued"
        if elapsed < low - MIN_SPACING_S * self.scale:
            return low - elapsed  # before the window nothing ends, queued or not
        return min(max(QUEUE_RUN_SHARE * self._documented()[0], MIN_SPACING_S * self.scale),
                   QUEUED_MAX_STEP_S * self.scale)

    def _after_queue(self, low: float, high: float) -> tuple[float, float]:
        """The window of a job last seen queued at `_queued_at` and running since: the
        documented range counts from when it left the queue (a queue surge pushes the whole
        range back), its start no sooner than `QUEUE_RUN_SHARE` of the shortest time after
        the last queued reply (the documented range includes a usual short queue)."""
        assert self._queued_at is not None
        doc_low, doc_high = self._documented()
        return (max(low, self._queued_at + QUEUE_RUN_SHARE * doc_low),
                max(high, self._queued_at + doc_high))

    def _scan(self, elapsed: float, low: float, high: float) -> float:
        """Spacing inside the window and after it."""
        scale = self.scale
        width = max(high - low, 0.1 * high)
        max_step = min(0.9 * self._interval(), MAX_SCAN_STEP_S * scale)
        if elapsed <= high:
            self.priority, self.phase = ROUTINE, "window scan"
            left = high - elapsed + width / 10
            return min(max(math.sqrt(2 * SCAN_COST_S * scale * left), MIN_SPACING_S * scale), max_step)
        return self._tail(elapsed - high, width / 2, TAIL_START_S * scale)

    def _tail(self, overdue: float, spread: float, start: float) -> float:
        """Step when `overdue` seconds past the expected end, with a typical `spread`."""
        scale = self.scale
        self.priority, self.phase = ROUTINE, "tail"
        short = TAIL_STEP_S * scale
        if overdue <= spread:
            return min(start + (short - start) * overdue / max(spread, 1e-9), short)
        # then up to just under the documented interval (no worse than a plain loop at it),
        # and only a job late by several spreads backs off further, up to `cap`
        documented = max(0.9 * self._interval(), short)
        if overdue <= 4 * spread:
            return short + (documented - short) * (overdue - spread) / (3 * spread)
        return min(documented + (overdue - 4 * spread) / 10, max(self.cap * scale, documented))

    # ---- progress: the end the readings predict, and what earlier jobs add to it ----------
    def prediction(self) -> Prediction | None:
        """The end this job's progress predicts from the readings that measure its speed
        (scaled seconds since submit), the figure `end_ratio` and learned ranges are relative
        to; None before two running readings, or for a fixed interval.

        A reading at the top (99 %) is left out once two readings below it exist: it only says
        "nearly done", and is first seen whenever a poll happens to come (after a stall began,
        often much later than the job reached it)."""
        below = [r for r in self._readings if r[1] < TOP_PROGRESS]
        return self._predict(below if len(below) >= 2 else self._readings)

    def _predict(self, readings: list[tuple[float, float]]) -> Prediction | None:
        if self.fixed is not None or len(readings) < 2:
            return None
        t_last, p_last = readings[-1]
        t_prev, p_prev = readings[-2]
        rate = (p_last - p_prev) / max(t_last - t_prev, 1e-9)
        t_base, p_base = t_prev, p_prev
        steady = False
        if len(readings) >= 3:
            t_0, p_0 = readings[-3]
            earlier = (p_prev - p_0) / max(t_prev - t_0, 1e-9)
            if abs(rate - earlier) <= STEADY_RATE_TOLERANCE * rate:
                steady = True  # linear so far: measure the rate over the longer base
                t_base, p_base = t_0, p_0
                rate = (p_last - p_0) / max(t_last - t_0, 1e-9)
        to_go = (100.0 - p_last) / rate
        # it started running where the rate, drawn back, meets 0 % (after the last 0 % reading
        # and before the first running one)
        queued = self._queued_at if self._queued_at is not None else 0.0
        start = min(max(t_base - p_base / rate, queued), readings[0][0])
        # whole-percent figures leave the rate uncertain by about 1 point over the base
        return Prediction(start=start, eta=t_last + to_go, steady=steady,
                          uncertainty=to_go / max(p_last - p_base, 1.0))

    def end_ratio(self, pending: float, done: float) -> tuple[float, float] | None:
        """What a finished job teaches: (low, high) bounds of its running time (from the start
        its progress implies) over the running time its progress predicted, for a job seen
        still running at `pending` and done at `done` seconds since submit. None without a
        prediction (fewer than two running readings)."""
        predicted = self.prediction()
        if predicted is None or predicted.eta - predicted.start <= 0:
            return None
        span = predicted.eta - predicted.start
        if self.phase == "aim learned":
            # found done by the poll aimed at the learned range: it ended before the aim, how
            # long before is unknown. Counted as one scan step before (the midpoint of the
            # whole gap would drag the range far down on one job aimed a little late)
            pending = max(pending, done - LEARNED_SPACING_S * self.scale)
        return (max(pending, predicted.start) - predicted.start) / span, (done - predicted.start) / span

    def _learned_window(self) -> tuple[Prediction, float, float] | None:
        """Where the end is expected when earlier jobs of the kind reliably ended later than
        their progress predicted (the learned `ratios` range starts above 1, as when progress
        sits at 99 % for a while): (prediction, low, high). None otherwise: then the latest
        readings' own prediction is the best aim."""
        learned = self.ratios() if self.ratios is not None else None
        predicted = self.prediction()
        if learned is None or predicted is None or learned[0] < LEARNED_RATIO_MIN:
            return None
        span = predicted.eta - predicted.start
        return predicted, predicted.start + learned[0] * span, predicted.start + max(learned) * span

    def _from_progress(self, elapsed: float) -> float:
        scale = self.scale
        t_last, p_last = self._readings[-1]
        predicted = self._predict(self._readings)
        if predicted is None:
            # one reading cannot tell how long the job queued: it started running after the
            # last 0 % reading, so its rate is at least this, and the end at most this far
            started = self._queued_at if self._queued_at is not None else 0.0
            rate = p_last / max(t_last - started, 1e-9)
            bound = t_last + (100.0 - p_last) / rate - elapsed
            if bound < -0.5 * scale:
                # past even the latest end that reading allows: stalled, or slower than it
                # seemed; not a poll every half second from here on
                spread = max(2.0 * scale, 0.4 * (elapsed + bound - started))
                return self._progress_tail(-bound, spread)
            self.priority, self.phase = EXPLORE, "one reading"
            return one_reading_wait(elapsed, bound, self.window()[0], TAIL_STEP_S * scale, 0.5 * scale)
        running = t_last - (self._queued_at if self._queued_at is not None else 0.0)
        learned = self._learned_window()
        if learned is not None:
            return self._from_learned(elapsed, *learned, running)
        remaining = predicted.eta - elapsed
        if remaining > 0:
            self.priority, self.phase = URGENT, "aim"
            early = remaining - predicted.uncertainty
            delay = early if early > 0.5 * scale else remaining + 0.1 * scale
            if not predicted.steady and remaining > AIM_HORIZON_S * scale:
                delay = self._part_way(delay, remaining, running)
            return delay
        # past the predicted end: progress stalled (often at 99 %) or slowed down; a stall
        # can last a good part of the run, so the spread is 40 % of the predicted total
        spread = max(2.0 * scale, 0.4 * (predicted.eta - (self._queued_at or 0.0)))
        return self._progress_tail(-remaining, spread)

    def _part_way(self, delay: float, remaining: float, running: float) -> float:
        """Progress not (yet) seen to be linear: go part of the way, and never sleep longer
        than half the time it has been seen running (or the documented interval), so a slow
        start's far prediction costs a few polls, not minutes."""
        self.priority, self.phase = EXPLORE, "part way"
        return min(delay, AIM_FRACTION * remaining, max(self._interval(), 0.5 * running))

    def _from_learned(self, elapsed: float, predicted: Prediction, low: float, high: float,
                      running: float) -> float:
        """Aim at the start of the learned end range, scan it, then the tail."""
        scale = self.scale
        remaining = low - elapsed
        if remaining > LEARNED_SPACING_S * scale / 2:
            self.priority, self.phase = URGENT, "aim learned"
            if not predicted.steady and remaining > AIM_HORIZON_S * scale:
                return self._part_way(remaining, remaining, running)
            return remaining
        if elapsed < high:
            # inside the range: spaced as a window scan, down to a shorter step than a window
            # without progress (earlier jobs have shown this one is about to end)
            self.priority, self.phase = URGENT, "learned window"
            left = high - elapsed
            return max(math.sqrt(2 * SCAN_COST_S * scale * left), LEARNED_SPACING_S * scale)
        spread = max(2.0 * scale, 0.4 * (high - predicted.start))
        return self._progress_tail(elapsed - high, spread)

    def _progress_tail(self, overdue: float, spread: float) -> float:
        delay = self._tail(overdue, spread, PROGRESS_TAIL_START_S * self.scale)
        self.priority, self.phase = URGENT, "progress tail"  # at its end: worth a request before a scan
        return delay
