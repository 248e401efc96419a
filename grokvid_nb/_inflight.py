"""A cap on the HTTP requests one client has in flight: fair, and deadline-aware.

Why: with hundreds of jobs polling through one `httpx.AsyncClient`, every job sending at
once made httpcore's pool assignment cost grow with the number of waiting requests (about
N^2 overall), overflowed the keep-alive pool (hundreds of reconnects) and ended submits with
`PoolTimeout`. Holding requests here, in arrival order, before they reach httpx keeps the
pool at most `cap` busy connections, all of them kept alive.

A wait here counts against the request's deadline, like the rate-limit wait does: when the
deadline passes first, `DeadlineExceededError(maybe_sent=False)` (nothing was sent).
"""

from __future__ import annotations

import asyncio
import collections
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from ._exceptions import DeadlineExceededError

__all__ = ["DEFAULT_MAX_IN_FLIGHT", "InflightGate", "max_in_flight"]

#: requests one client sends at once unless `GROKVID_MAX_IN_FLIGHT` says otherwise. What a cap
#: carries is cap / round trip: at a 0.5 s round trip 20 carry 40 status requests a second per
#: provider, enough for about 100 jobs polled every 2-3 s; 8 would carry 16. On loopback (no
#: round trip) a smaller cap cost less client CPU over httpx's own transport, which checks every
#: idle pooled connection on each request: 1,000 jobs took 5 % more CPU at 20 than at 8 with the
#: same wall (benchmarks/RESULTS.md, "Fan-out before the aiohttp wire"). Detection on a real link
#: matters more than that 5 %.
DEFAULT_MAX_IN_FLIGHT = 20


def max_in_flight() -> int:
    """`GROKVID_MAX_IN_FLIGHT` (a positive integer), else `DEFAULT_MAX_IN_FLIGHT`."""
    raw = os.environ.get("GROKVID_MAX_IN_FLIGHT", "").strip()
    if not raw:
        return DEFAULT_MAX_IN_FLIGHT
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"GROKVID_MAX_IN_FLIGHT={raw!r} must be a positive integer") from None
    if value < 1:
        raise ValueError(f"GROKVID_MAX_IN_FLIGHT={raw!r} must be a positive integer")
    return value


class InflightGate:
    """At most `cap` holders at once; waiters are let in strictly first come, first served
    (a newcomer never overtakes a waiter, even when a slot is free at that instant). Use from
    one event loop."""

    def __init__(self, cap: int) -> None:
        if cap < 1:
            raise ValueError(f"cap={cap!r} must be at least 1")
        self.cap = cap
        self._busy = 0
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()

    def __repr__(self) -> str:
        return f"InflightGate(cap={self.cap}, busy={self._busy}, waiting={len(self._waiters)})"

    @property
    def busy(self) -> int:
        """Slots held now."""
        return self._busy

    @property
    def waiting(self) -> int:
        """Callers waiting for a slot."""
        return sum(1 for waiter in self._waiters if not waiter.done())

    def try_acquire(self) -> bool:
        """Take a slot if one is free and nobody waits (no await, no timer); else False."""
        if self._busy < self.cap and not self._waiters:
            self._busy += 1
            return True
        return False

    async def acquire(self, deadline: float | None = None, *, what: str = "the provider") -> None:
        """Take a slot, waiting in line; `deadline` is a `time.monotonic()` instant."""
        if self.try_acquire():
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
        try:
            async with asyncio.timeout(timeout):
                await waiter
        except BaseException as exc:
            if waiter.done() and not waiter.cancelled():
                self._release_slot()  # granted as we gave up: hand it to the next in line
            else:
                waiter.cancel()
                self._discard(waiter)
            if isinstance(exc, TimeoutError):
                raise DeadlineExceededError(
                    f"the deadline passed while waiting for a free connection to {what}; "
                    "nothing was sent", maybe_sent=False) from None
            raise

    def release(self) -> None:
        """Give a slot back (to the first waiter, if any)."""
        self._release_slot()

    def _discard(self, waiter: asyncio.Future[None]) -> None:
        try:
            self._waiters.remove(waiter)
        except ValueError:
            pass

    def _release_slot(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the slot passes on: `busy` is unchanged
                return
        self._busy -= 1

    @asynccontextmanager
    async def slot(self, deadline: float | None = None, *, what: str = "the provider") -> AsyncIterator[None]:
        """`async with gate.slot(deadline):` holds one slot for the block."""
        await self.acquire(deadline, what=what)
        try:
            yield
        finally:
            self.release()
