"""The per-account rate limiter: priorities, which requests a documented limit holds, learning
from 429, resetting the shared limiters."""

from __future__ import annotations

import asyncio

import pytest

from grokvid_nb import _ratelimit
from grokvid_nb._ratelimit import EXPLORE, POLL, ROUTINE, SUBMIT, URGENT, RateLimiter, limiter_for, reset_limiters
from grokvid_nb._secrets import Secret


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_documented_limit_holds_submits_but_not_polls_until_a_poll_is_refused() -> None:
    clock = Clock()
    limiter = RateLimiter(((1, 1.0),), clock=clock)
    await limiter.acquire(URGENT, SUBMIT)
    assert limiter._wait_time(clock.now, SUBMIT) == pytest.approx(1.0)
    assert limiter._wait_time(clock.now, POLL) == 0.0
    for _ in range(5):
        await limiter.acquire(ROUTINE, POLL)  # polls pass while only submits are limited
    limiter.refused_with(2.0, POLL)
    assert limiter.polls_limited is True
    assert limiter._wait_time(clock.now, POLL) == pytest.approx(2.0)   # Retry-After
    assert limiter._wait_time(clock.now, SUBMIT) == pytest.approx(2.0)  # the account is saturated
    clock.now = 2.5
    assert limiter._wait_time(clock.now, POLL) == 0.0
    await limiter.acquire(ROUTINE, POLL)
    assert limiter._wait_time(clock.now, POLL) == pytest.approx(1.0)   # polls now share 1/s


async def test_a_refused_submit_does_not_hold_polls() -> None:
    clock = Clock()
    limiter = RateLimiter(((1, 1.0),), clock=clock)
    limiter.refused_with(5.0, SUBMIT)
    assert limiter._wait_time(0.0, SUBMIT) == pytest.approx(5.0)
    assert limiter._wait_time(0.0, POLL) == 0.0
    assert limiter.polls_limited is False


async def test_a_limit_is_learned_when_none_is_documented() -> None:
    clock = Clock()
    limiter = RateLimiter((), clock=clock, scale=0.5)
    for i in range(10):
        clock.now = i * 0.1
        await limiter.acquire(ROUTINE, POLL)
    limiter.refused_with(None, POLL)
    assert limiter.limits == ((7, 5.0),)  # 70 % of the 10 sent in the last 10 s (scaled: 5 s)
    assert limiter._wait_time(clock.now, POLL) > 0


@pytest.mark.timeout(10)
async def test_waiting_requests_are_served_best_priority_first() -> None:
    limiter = RateLimiter(((1, 0.05),), polls_limited=True)
    await limiter.acquire(URGENT, SUBMIT)  # the budget is spent: the next ones wait
    order: list[str] = []

    async def request(name: str, priority: float, kind: str) -> None:
        await limiter.acquire(priority, kind)
        order.append(name)

    tasks = [asyncio.ensure_future(request("far poll", EXPLORE, POLL)),
             asyncio.ensure_future(request("scan poll", ROUTINE, POLL)),
             asyncio.ensure_future(request("submit", URGENT, SUBMIT)),
             asyncio.ensure_future(request("poll at the predicted end", URGENT, POLL))]
    await asyncio.gather(*tasks)
    assert order == ["submit", "poll at the predicted end", "scan poll", "far poll"]


@pytest.mark.timeout(10)
async def test_a_cancelled_waiter_does_not_block_the_others() -> None:
    limiter = RateLimiter(((1, 0.05),), polls_limited=True)
    await limiter.acquire(URGENT, SUBMIT)
    doomed = asyncio.ensure_future(limiter.acquire(URGENT, POLL))
    survivor = asyncio.ensure_future(limiter.acquire(EXPLORE, POLL))
    await asyncio.sleep(0)
    doomed.cancel()
    await asyncio.wait_for(survivor, 2.0)
    assert survivor.done() and not survivor.cancelled()


def test_limiters_are_per_account_keep_no_key_and_reset() -> None:
    key_a, key_b = Secret("sk-account-a-1234567890"), Secret("sk-account-b-1234567890")
    first = limiter_for("xai", "https://api.x.ai", ((1, 1.0),), key_a)
    assert limiter_for("xai", "https://api.x.ai", ((5, 1.0),), key_a) is first  # the first limits stay
    assert limiter_for("xai", "https://api.x.ai", ((1, 1.0),), key_b) is not first
    assert not any("sk-account" in part for key in _ratelimit._limiters for part in key)
    reset_limiters()
    fresh = limiter_for("xai", "https://api.x.ai", ((5, 1.0),), key_a)
    assert fresh is not first and fresh.limits == ((5, 1.0),)


@pytest.mark.timeout(10)
async def test_a_held_kind_does_not_block_a_free_one_behind_it() -> None:
    limiter = RateLimiter(((1, 0.05),), polls_limited=True)
    limiter.refused_with(5.0, SUBMIT)  # submits held for 5 s, polls only by the 1 per 0.05 s
    submit = asyncio.ensure_future(limiter.acquire(URGENT, SUBMIT))
    await asyncio.sleep(0)
    await asyncio.wait_for(limiter.acquire(EXPLORE, POLL), 1.0)  # goes past the held submit
    assert not submit.done()
    submit.cancel()


async def test_try_acquire_counts_only_what_may_leave_now() -> None:
    clock = Clock()
    limiter = RateLimiter(((1, 1.0),), clock=clock)
    assert limiter.try_acquire(SUBMIT) is True
    assert limiter.try_acquire(SUBMIT) is False  # the budget is spent: nothing counted
    assert len(limiter._limited_sent) == 1
    assert limiter.try_acquire(POLL) is True  # polls are not held until one is refused
    clock.now = 1.0
    assert limiter.try_acquire(SUBMIT) is True


def test_unheld_polls_do_not_pile_up() -> None:
    clock = Clock()
    limiter = RateLimiter((), clock=clock)
    for i in range(20_000):
        clock.now = i * 0.01  # 100 polls a second, for 200 s
        assert limiter.try_acquire(POLL) is True
    assert len(limiter._sent) <= 4096 + 1
    assert limiter._sent[-1] == pytest.approx(199.99)
