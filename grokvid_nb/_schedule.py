"""When to poll next: provider priors, server hints and what this session has learned.

A fixed 5 s loop wastes requests early and detects completion 2.5 s late on average. Instead
the schedule sleeps through the part of the window where the job is very unlikely to be done,
polls densely around the expected completion time, then backs off. Expected completion comes
from, in order of trust:

1. the provider's progress percentage (xAI): two readings give a rate and so an ETA;
2. completion times this session has observed for the same provider, endpoint and clip length;
3. the provider's documented typical range (APIXO: first poll ~30 s, done in 40-60 s).

A Retry-After hint is always honoured. Delays get +-10 % jitter (so many jobs do not poll in
lockstep), a floor and a cap. All built-in times are multiplied by `GROKVID_TIME_SCALE`.
"""

from __future__ import annotations

import os
import random
import statistics
import threading
from dataclasses import dataclass, field
from typing import Callable

from .adapters import PollingPrior

__all__ = ["time_scale", "PollSchedule", "LatencyMemory", "MemoryKey", "memory"]

#: spacing of polls inside the expected window: half of it is the typical detection delay
TARGET_SPACING_S = 1.8


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


#: (provider, endpoint, model, clip length, resolution): requests expected to take as long
MemoryKey = tuple[str, str, str, "float | None", "str | None"]


class LatencyMemory:
    """Completion times seen in this session, per provider, endpoint, model and clip shape.

    Each observation is an interval: the job was still running at the last poll before the
    one that saw it done. Precise intervals (dense polling) outweigh coarse ones (a fixed
    5 s loop), so a few sloppy observations do not widen every later job's window.
    """

    def __init__(self, keep: int = 50) -> None:
        self._keep = keep
        self._seen: dict[MemoryKey, list[tuple[float, float]]] = {}
        self._lock = threading.Lock()

    def add(self, key: MemoryKey, seconds: float, uncertainty: float = 0.0) -> None:
        """Remember one completion time (seconds since submit) known to +- `uncertainty`."""
        with self._lock:
            seen = self._seen.setdefault(key, [])
            seen.append((seconds, uncertainty))
            del seen[: -self._keep]

    def window(self, key: MemoryKey, precision: float = float("inf")) -> tuple[float, float] | None:
        """(low, high) where this kind of job usually completes, once 2 or more were seen.

        Uses the observations known to within `precision` seconds (or, if fewer than two are,
        those within three times that), as mean -+ 1.28 sd: about the 10th to the 90th
        percentile. The spread never counts as less than 6 % of the mean, so two look-alike
        observations do not shrink the window to nothing.
        """
        with self._lock:
            seen = list(self._seen.get(key, ()))
        usable = [(t, u) for t, u in seen if u <= precision]
        if len(usable) < 2:
            usable = [(t, u) for t, u in seen if u <= 3 * precision]
        if len(usable) < 2:
            return None
        times = [t for t, _ in usable]
        mean = statistics.fmean(times)
        # each observation is only known to +-u: a uniform error adds u^2/3 to the variance
        variance = statistics.pvariance(times, mean) + statistics.fmean(u * u / 3 for _, u in usable)
        spread = max(variance ** 0.5, 0.06 * mean)
        return max(0.0, mean - 1.28 * spread), mean + 1.28 * spread

    def clear(self) -> None:
        """Forget everything (for tests and benchmarks)."""
        with self._lock:
            self._seen.clear()


memory = LatencyMemory()


@dataclass
class PollSchedule:
    """Delays between status polls for one job.

    `fixed` (seconds) forces a constant interval, unscaled, as `Client(poll_interval=...)` asks.
    `learned` is a (low, high) completion window from `LatencyMemory`, in scaled seconds.
    `floor`, `cap` and `max_wait` are unscaled seconds.
    """

    prior: PollingPrior
    scale: float = 1.0
    fixed: float | None = None
    learned: tuple[float, float] | None = None
    floor: float = 0.5
    cap: float = 15.0  # longest interval once the expected window has opened
    max_wait: float = 300.0  # longest single sleep, even before the window
    rng: Callable[[], float] = random.random
    _progress: list[tuple[float, float]] = field(default_factory=list)

    def next_delay(self, elapsed: float, progress: float | None = None,
                   retry_after: float | None = None) -> float:
        """Seconds to wait before the next poll, `elapsed` seconds after the submit."""
        if self.fixed is not None:
            delay = self.fixed
        else:
            if progress is not None and (not self._progress or progress > self._progress[-1][1]):
                self._progress.append((elapsed, progress))
            delay = self._adaptive(elapsed)
            # jitter de-synchronizes many jobs: +-10 %, but never more than a quarter of the
            # dense spacing, so a long first wait does not overshoot the expected window
            spread = min(0.1 * delay, TARGET_SPACING_S * self.scale / 4)
            delay += (self.rng() * 2 - 1) * spread
            delay = min(max(delay, self.floor * self.scale), self.max_wait * self.scale)
        if retry_after is not None:
            delay = max(delay, retry_after)
        return delay

    def _eta_from_progress(self, elapsed: float) -> float | None:
        """Seconds from now until 100 %, from the provider's own progress figures."""
        readings = [r for r in self._progress if 0.0 < r[1] < 100.0]
        if not readings:
            return None
        t_last, p_last = readings[-1]
        if len(readings) >= 2:
            t_first, p_first = readings[0]
            rate = (p_last - p_first) / (t_last - t_first) if t_last > t_first else 0.0
        else:
            rate = p_last / t_last if t_last > 0 else 0.0  # assumes progress started at submit
        if rate <= 0:
            return None
        return t_last + (100.0 - p_last) / rate - elapsed

    def _adaptive(self, elapsed: float) -> float:
        spacing = TARGET_SPACING_S * self.scale
        eta = self._eta_from_progress(elapsed)
        if eta is not None:
            if len([r for r in self._progress if 0.0 < r[1] < 100.0]) >= 2:
                return eta + spacing / 4  # a measured rate: aim just past the ETA
            # one reading cannot tell queueing from slow progress: take a second one soon
            return max(spacing, eta * 0.3)
        if self.learned is not None:
            lo, hi = self.learned
        else:
            lo, hi = self.prior.typical[0] * self.scale, self.prior.typical[1] * self.scale
            first = self.prior.first_poll * self.scale
            if elapsed < first * 0.9:
                # one early look: it catches instant failures and the first progress figure
                return first - elapsed
        if elapsed < lo - spacing / 2:
            return lo - elapsed
        dense = min(max(spacing, (hi - lo) / 10.0) if self.learned is None else spacing,
                    self.cap * self.scale)
        if elapsed <= hi:
            return dense
        overdue = elapsed - hi
        return min(self.cap * self.scale, dense + overdue / 4.0)
