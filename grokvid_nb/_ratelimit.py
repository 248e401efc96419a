"""Client-side rate limits per provider account, shared by every job of that account.

Which documented limit applies to which request:

- xAI: "60 requests per minute, 1 request per second" (the REST tutorial, seed 003, in its
  429 section; docs.x.ai does not say whether status polls count). They are applied to
  submits (generation requests) from the start. Status polls are not held to them until
  the provider refuses a poll with 429: from then on polls share the same budget.
- APIXO: "rate limits and concurrency can vary by account, API key, and route"; no figure.
- Pixazo, XingChaoYiQing, API in One: no figure published. XingChaoYiQing asks for 30-60 s
  between status polls; that is a politeness interval of the polling schedule
  (`grokvid_nb._schedule.POLL_POLICIES`), not a limit here.

Without a figure, nothing is held back until a 429 arrives; then the limiter learns a limit
from the rate that was refused (70 % of what was sent in the last 10 s) for that kind of
request. Every 429 with Retry-After holds the refused kind of request for that long (a
refused poll holds submits too: the account is saturated). Retry-After is in the provider's
seconds: the caller scales it (`GROKVID_TIME_SCALE`, the in-process sandbox's scale).

When the budget is short, waiting requests are served by priority, not arrival: a submit or
a poll aimed at a job's predicted end (`URGENT`) before a poll scanning a completion window
(`ROUTINE`) before an exploratory look (`EXPLORE`); equal priorities in arrival order.
"""

from __future__ import annotations

import asyncio
import collections
import hashlib
import itertools
import time
from collections.abc import Callable

__all__ = ["RateLimiter", "limiter_for", "reset_limiters", "URGENT", "ROUTINE", "EXPLORE",
           "SUBMIT", "POLL"]

#: request priorities (lower is served first when the budget is short)
URGENT, ROUTINE, EXPLORE = 0.0, 1.0, 2.0
#: request kinds
SUBMIT, POLL = "submit", "poll"

_LEARN_WINDOW_S = 10.0  # provider seconds over which a refused rate is measured


class RateLimiter:
    """Sliding-window limits such as ((1, 1.0), (60, 60.0)): 1 request/s and 60/min.

    `limits` are the documented ones, applied to submits; `polls_limited=True` applies them
    to status polls as well from the start (otherwise the first 429 on a poll does). `scale`
    multiplies the learning window (the client's time scale). Use from one event loop.
    """

    def __init__(self, limits: tuple[tuple[int, float], ...], clock: Callable[[], float] = time.monotonic,
                 *, polls_limited: bool = False, scale: float = 1.0) -> None:
        self.limits = limits
        self.polls_limited = polls_limited
        self.scale = scale
        self._clock = clock
        self._sent: collections.deque[float] = collections.deque()
        self._limited_sent: collections.deque[float] = collections.deque()
        self._penalty_until: dict[str, float] = {SUBMIT: 0.0, POLL: 0.0}
        self._waiters: list[tuple[float, int, str, asyncio.Future[None]]] = []
        self._wake: asyncio.Event | None = None
        self._seq = itertools.count()
        self._dispatcher: asyncio.Task[None] | None = None
        self.refused = 0  # 429 replies seen

    # ---- bookkeeping ----------------------------------------------------------------------
    def _limited(self, kind: str) -> bool:
        return kind == SUBMIT or self.polls_limited

    def _trim(self, now: float) -> None:
        longest = max([period for _, period in self.limits] + [_LEARN_WINDOW_S * self.scale])
        for sent in (self._sent, self._limited_sent):
            while sent and now - sent[0] >= longest:
                sent.popleft()

    def _wait_time(self, now: float, kind: str = SUBMIT) -> float:
        """Seconds until one more request of `kind` may leave."""
        wait = max(0.0, self._penalty_until[kind] - now)
        if not self._limited(kind):
            return wait
        self._trim(now)
        for count, period in self.limits:
            recent = [t for t in self._limited_sent if now - t < period]
            if len(recent) >= count:
                wait = max(wait, recent[-count] + period - now)
        return wait

    def _record(self, kind: str, now: float) -> None:
        self._sent.append(now)
        if self._limited(kind):
            self._limited_sent.append(now)
        elif len(self._sent) > 4096:  # unheld polls never reach `_trim` otherwise
            self._trim(now)

    # ---- the API the engine uses --------------------------------------------------------
    def try_acquire(self, kind: str = SUBMIT) -> bool:
        """Count one more request of `kind` and return True if it may leave now without
        waiting (nothing awaited); False when it must wait (then call `acquire`)."""
        now = self._clock()
        # an unheld kind never queues behind held ones (polls while only submits are limited)
        if self._wait_time(now, kind) <= 0 and (not self._waiters or not self._limited(kind)):
            self._record(kind, now)
            return True
        return False

    async def acquire(self, priority: float = URGENT, kind: str = SUBMIT) -> None:
        """Wait until one more request of `kind` is allowed, then count it.

        Requests that must wait are released best `priority` first (lower is better).
        """
        if self.try_acquire(kind):
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((priority, next(self._seq), kind, future))
        if self._wake is None:
            self._wake = asyncio.Event()
        self._wake.set()
        if self._dispatcher is None or self._dispatcher.done():
            self._dispatcher = asyncio.ensure_future(self._dispatch())
        await future

    async def _dispatch(self) -> None:
        """Release waiting requests, the best priority among those whose kind may go first."""
        assert self._wake is not None
        while True:
            self._waiters = [w for w in self._waiters if not w[3].done()]  # drop cancelled jobs
            if not self._waiters:
                return
            now = self._clock()
            waits = {kind: self._wait_time(now, kind) for kind in (SUBMIT, POLL)}
            ready = [w for w in self._waiters if waits[w[2]] <= 0]
            if not ready:
                self._wake.clear()
                try:  # sleep until the first kind may go, or a new request arrives
                    await asyncio.wait_for(self._wake.wait(), min(waits[w[2]] for w in self._waiters))
                except TimeoutError:
                    pass
                continue
            best = min(ready)  # (priority, arrival order, ...): never compares the futures
            self._waiters.remove(best)
            self._record(best[2], now)
            best[3].set_result(None)
            await asyncio.sleep(0)

    def refused_with(self, retry_after: float | None, kind: str = POLL) -> None:
        """A 429 arrived for a request of `kind`; `retry_after` already in this process's seconds.

        Polls start sharing the documented budget (or a learned one when none is documented);
        the refused kind, and submits after a refused poll, wait out `retry_after`.
        """
        now = self._clock()
        self.refused += 1
        if kind == POLL:
            self.polls_limited = True
        if not self.limits:
            self._trim(now)
            window = _LEARN_WINDOW_S * self.scale
            sent = sum(1 for t in self._sent if now - t < window)
            self.limits = ((max(1, int(0.7 * sent)), window),)
            self._limited_sent = collections.deque(t for t in self._sent if now - t < window)
        if retry_after:
            kinds = (POLL, SUBMIT) if kind == POLL else (SUBMIT,)
            for k in kinds:
                self._penalty_until[k] = max(self._penalty_until[k], now + retry_after)

    def penalize(self, seconds: float) -> None:
        """Hold every request of this account for `seconds`."""
        until = self._clock() + seconds
        for k in self._penalty_until:
            self._penalty_until[k] = max(self._penalty_until[k], until)


_limiters: dict[tuple[str, str, str], RateLimiter] = {}


def limiter_for(provider: str, endpoint: str, limits: tuple[tuple[int, float], ...],
                account: object = "", scale: float = 1.0) -> RateLimiter:
    """The process-wide limiter for one account (`account`: its key) of a provider at an endpoint.

    Only a digest of the account is kept. The first client of an account sets its limits;
    `reset_limiters()` forgets them all.
    """
    secret = getattr(account, "reveal", None)
    raw = secret() if callable(secret) else str(account)
    digest = hashlib.sha256(raw.encode()).hexdigest()[:16]
    key = (provider, endpoint, digest)
    if key not in _limiters:
        _limiters[key] = RateLimiter(limits, scale=scale)
    return _limiters[key]


def reset_limiters() -> None:
    """Forget every shared limiter (tests; a changed time scale). Live clients keep theirs."""
    _limiters.clear()
