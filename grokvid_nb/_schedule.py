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
import threading
from dataclasses import dataclass, field
from typing import Callable

from .providers import PollingPrior

__all__ = ["time_scale", "PollSchedule", "LatencyMemory", "memory"]

#: spacing of polls inside the expected window: half of it is the typical detection delay
TARGET_SPACING_S = 2.0


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


def _quantile(ordered: list[float], q: float) -> float:
    position = q * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


class LatencyMemory:
    """Completion times seen in this session, per (provider, endpoint, clip length)."""

    def __init__(self, keep: int = 50) -> None:
        self._keep = keep
        self._seen: dict[tuple[str, str, float | None], list[float]] = {}
        self._lock = threading.Lock()

    def add(self, key: tuple[str, str, float | None], seconds: float) -> None:
        """Remember one observed completion time (seconds since submit)."""
        with self._lock:
            seen = self._seen.setdefault(key, [])
            seen.append(seconds)
            del seen[: -self._keep]

    def window(self, key: tuple[str, str, float | None]) -> tuple[float, float] | None:
        """(low, high) covering most observed completions, once 3 or more were seen.

        The 10th-90th percentile range, widened by a tenth of itself, so one outlier does
        not stretch the dense-polling window for every later job.
        """
        with self._lock:
            seen = sorted(self._seen.get(key, ()))
        if len(seen) < 3:
            return None
        low, high = _quantile(seen, 0.1), _quantile(seen, 0.9)
        margin = (high - low) * 0.1
        return max(0.0, low - margin), high + margin

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
    """

    prior: PollingPrior
    scale: float = 1.0
    fixed: float | None = None
    learned: tuple[float, float] | None = None
    floor: float = 0.5
    cap: float = 15.0
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
            delay *= 1.0 + (self.rng() - 0.5) * 0.2  # +-10 % jitter de-synchronizes many jobs
            delay = min(max(delay, self.floor * self.scale), self.cap * self.scale)
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
            # aim just past the ETA; one reading is a weaker estimate, so look again earlier
            return eta + spacing / 4 if len(self._progress) >= 2 else max(eta * 0.6, spacing)
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
        dense = max(spacing, (hi - lo) / 10.0) if self.learned is None else spacing
        if elapsed <= hi:
            return dense
        overdue = elapsed - hi
        return min(self.cap * self.scale, dense + overdue / 4.0)
