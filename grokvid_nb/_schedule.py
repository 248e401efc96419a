"""When to poll next: provider priors, server hints and what this session has learned.

A fixed 5 s loop wastes requests early and detects completion 2.5 s late on average. Instead:
sleep through the part of the window where the job is very unlikely to be done, then poll
densely around the expected completion time, then back off. Expected completion comes from
(in order of trust) the provider's progress percentage, completion times this session has
observed for the same provider and clip length, and the provider's documented typical range.
All built-in times are multiplied by `GROKVID_TIME_SCALE`.
"""

from __future__ import annotations

import os
import random
import statistics
import threading
from dataclasses import dataclass
from typing import Callable

from .providers import PollingPrior

__all__ = ["time_scale", "PollSchedule", "LatencyMemory", "memory"]


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


class LatencyMemory:
    """Completion times seen in this session, per (provider, model, clip length)."""

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
        """A (low, high) range covering most observed completions, once there are 3 or more."""
        with self._lock:
            seen = sorted(self._seen.get(key, ()))
        if len(seen) < 3:
            return None
        spread = statistics.pstdev(seen)
        return max(0.0, seen[0] - spread), seen[-1] + spread


memory = LatencyMemory()


@dataclass
class PollSchedule:
    """Delays between status polls for one job.

    `fixed` (seconds) forces a constant interval, unscaled, as `Client(poll_interval=...)` asks.
    """

    prior: PollingPrior
    scale: float = 1.0
    fixed: float | None = None
    learned: tuple[float, float] | None = None
    floor: float = 0.5
    cap: float = 15.0
    rng: Callable[[], float] = random.random

    def _window(self) -> tuple[float, float]:
        if self.learned is not None:
            return self.learned
        lo, hi = self.prior.typical
        return lo * self.scale, hi * self.scale

    def next_delay(self, elapsed: float, progress: float | None = None,
                   retry_after: float | None = None) -> float:
        """Seconds to wait before the next poll, `elapsed` seconds after the submit."""
        if self.fixed is not None:
            delay = self.fixed
        else:
            delay = self._adaptive(elapsed, progress)
            delay *= 1.0 + (self.rng() - 0.5) * 0.2  # +-10 % jitter de-synchronizes many jobs
            delay = min(max(delay, self.floor * self.scale), self.cap * self.scale)
        if retry_after is not None:
            delay = max(delay, retry_after)
        return delay

    def _adaptive(self, elapsed: float, progress: float | None) -> float:
        floor = self.floor * self.scale
        if progress is not None and 1.0 <= progress < 100.0 and elapsed > 0:
            # linear extrapolation of the provider's own progress figure
            eta = elapsed * (100.0 - progress) / progress
            return max(floor, min(eta * 0.8, self.cap * self.scale))
        lo, hi = self._window()
        first = self.prior.first_poll * self.scale
        if elapsed < min(first, lo) * 0.9:
            return min(first, lo) * 0.9 - elapsed + floor
        if elapsed < lo:
            return max(floor, (lo - elapsed))
        if elapsed <= hi:
            # dense inside the window: spacing a tenth of the window, at least the floor
            return max(floor, (hi - lo) / 10.0)
        overdue = elapsed - hi
        return max(floor, min(self.cap * self.scale, (hi - lo) / 10.0 + overdue / 4.0))
