"""Client-side rate limits per provider, shared by every job of that provider in the process."""

from __future__ import annotations

import asyncio
import collections
import time
from typing import Callable

__all__ = ["RateLimiter", "limiter_for"]


class RateLimiter:
    """Sliding-window limits such as ((1, 1.0), (60, 60.0)): 1 request/s and 60/min.

    Must be used from one event loop (the engine's).
    """

    def __init__(self, limits: tuple[tuple[int, float], ...],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self._clock = clock
        self._sent: collections.deque[float] = collections.deque()
        self._lock: asyncio.Lock | None = None
        self._penalty_until = 0.0

    def _wait_time(self, now: float) -> float:
        wait = max(0.0, self._penalty_until - now)
        longest = max((period for _, period in self.limits), default=0.0)
        while self._sent and now - self._sent[0] >= longest:
            self._sent.popleft()
        for count, period in self.limits:
            recent = [t for t in self._sent if now - t < period]
            if len(recent) >= count:
                wait = max(wait, recent[-count] + period - now)
        return wait

    async def acquire(self) -> None:
        """Wait until one more request is allowed, then count it."""
        if not self.limits and self._penalty_until == 0.0:
            return
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            while True:
                wait = self._wait_time(self._clock())
                if wait <= 0:
                    break
                await asyncio.sleep(wait)
            self._sent.append(self._clock())

    def penalize(self, seconds: float) -> None:
        """Hold every request of this provider for `seconds` (after a 429 with Retry-After)."""
        self._penalty_until = max(self._penalty_until, self._clock() + seconds)


_limiters: dict[tuple[str, str], RateLimiter] = {}


def limiter_for(provider: str, endpoint: str, limits: tuple[tuple[int, float], ...]) -> RateLimiter:
    """The process-wide limiter for one provider at one endpoint (base URL)."""
    key = (provider, endpoint)
    if key not in _limiters:
        _limiters[key] = RateLimiter(limits)
    return _limiters[key]
