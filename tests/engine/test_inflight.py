"""The cap on requests in flight (`_inflight.InflightGate`): strictly first come, first
served, and a wait for a slot counts against the request's deadline."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

import grokvid_nb as gv
from grokvid_nb._aiohttp_transport import AiohttpTransport
from grokvid_nb._exceptions import DeadlineExceededError
from grokvid_nb._inflight import DEFAULT_MAX_IN_FLIGHT, InflightGate, max_in_flight
from grokvid_nb._loop import run_sync

pytestmark = pytest.mark.timeout(30)


def test_waiters_get_slots_in_arrival_order_and_the_cap_holds() -> None:
    async def scenario() -> tuple[list[int], int]:
        gate = InflightGate(3)
        order: list[int] = []
        busy = peak = 0

        async def one(i: int) -> None:
            nonlocal busy, peak
            async with gate.slot():
                order.append(i)
                busy += 1
                peak = max(peak, busy)
                await asyncio.sleep(0.01)
                busy -= 1

        tasks = []
        for i in range(12):
            tasks.append(asyncio.create_task(one(i)))
            await asyncio.sleep(0)  # each one arrives after the previous
        await asyncio.gather(*tasks)
        assert (gate.busy, gate.waiting) == (0, 0)
        return order, peak

    order, peak = asyncio.run(scenario())
    assert order == list(range(12))
    assert peak == 3


def test_a_newcomer_never_overtakes_a_waiter() -> None:
    async def scenario() -> list[str]:
        gate = InflightGate(1)
        got: list[str] = []
        await gate.acquire()

        async def take(name: str) -> None:
            await gate.acquire()
            got.append(name)

        waiter = asyncio.create_task(take("waiter"))
        await asyncio.sleep(0)  # the waiter is in line
        gate.release()  # the slot is handed to the waiter, not left free
        newcomer = asyncio.create_task(take("newcomer"))
        await asyncio.sleep(0.01)
        assert got == ["waiter"]
        assert (gate.busy, gate.waiting) == (1, 1)
        gate.release()
        await asyncio.gather(waiter, newcomer)
        gate.release()
        assert (gate.busy, gate.waiting) == (0, 0)
        return got

    assert asyncio.run(scenario()) == ["waiter", "newcomer"]


def test_the_wait_counts_against_the_deadline_and_leaks_no_slot() -> None:
    async def scenario() -> tuple[DeadlineExceededError, float, int, int]:
        gate = InflightGate(1)
        await gate.acquire()
        start = time.monotonic()
        with pytest.raises(DeadlineExceededError) as caught:
            await gate.acquire(time.monotonic() + 0.05, what="xai")
        waited = time.monotonic() - start
        gate.release()
        await gate.acquire(time.monotonic() + 0.05)  # the slot is free again, at once
        gate.release()
        return caught.value, waited, gate.busy, gate.waiting

    error, waited, busy, waiting = asyncio.run(scenario())
    assert error.maybe_sent is False
    assert "nothing was sent" in str(error) and "xai" in str(error)
    assert 0.04 <= waited < 1.0
    assert (busy, waiting) == (0, 0)


def test_a_deadline_already_past_fails_at_once_only_when_it_must_wait() -> None:
    async def scenario() -> int:
        gate = InflightGate(1)
        await gate.acquire(time.monotonic() - 1)  # a free slot is taken even so
        with pytest.raises(DeadlineExceededError):
            await gate.acquire(time.monotonic() - 1)
        gate.release()
        return gate.busy

    assert asyncio.run(scenario()) == 0


def test_a_cancelled_waiter_leaves_the_line_and_a_granted_then_cancelled_one_passes_the_slot_on() -> None:
    async def scenario() -> list[str]:
        gate = InflightGate(1)
        got: list[str] = []
        await gate.acquire()

        async def take(name: str) -> None:
            await gate.acquire()
            got.append(name)

        first = asyncio.create_task(take("first"))
        second = asyncio.create_task(take("second"))
        third = asyncio.create_task(take("third"))
        await asyncio.sleep(0)
        first.cancel()  # cancelled while waiting: leaves the line
        await asyncio.sleep(0)
        gate.release()  # granted to "second"...
        second.cancel()  # ...which is cancelled before it runs: the slot goes to "third"
        await asyncio.gather(first, second, third, return_exceptions=True)
        assert (first.cancelled(), second.cancelled()) == (True, True)
        gate.release()
        assert (gate.busy, gate.waiting) == (0, 0)
        return got

    assert asyncio.run(scenario()) == ["third"]


def test_setting_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GROKVID_MAX_IN_FLIGHT", raising=False)
    assert max_in_flight() == DEFAULT_MAX_IN_FLIGHT == 20
    monkeypatch.setenv("GROKVID_MAX_IN_FLIGHT", "7")
    assert max_in_flight() == 7
    for bad in ("0", "-3", "many"):
        monkeypatch.setenv("GROKVID_MAX_IN_FLIGHT", bad)
        with pytest.raises(ValueError, match="GROKVID_MAX_IN_FLIGHT"):
            max_in_flight()
    with pytest.raises(ValueError, match="cap"):
        InflightGate(0)


def test_client_send_never_has_more_than_the_cap_in_flight(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROKVID_MAX_IN_FLIGHT", "4")
    state = {"now": 0, "peak": 0, "served": 0}

    async def handler(request: httpx.Request) -> httpx.Response:
        state["now"] += 1
        state["peak"] = max(state["peak"], state["now"])
        await asyncio.sleep(0.005)
        state["now"] -= 1
        state["served"] += 1
        return httpx.Response(200, json={"ok": True})

    client = gv.Client("apixo", api_key="k", base_url="http://127.0.0.1:9",
                       transport=httpx.MockTransport(handler))

    async def burst() -> list[int]:
        requests = [httpx.Request("GET", f"http://127.0.0.1:9/r/{i}") for i in range(60)]
        replies = await asyncio.gather(*(client.send(r) for r in requests))
        return [reply.status_code for reply in replies]

    assert run_sync(burst(), timeout=20) == [200] * 60
    assert state["peak"] == 4
    assert state["served"] == 60
    assert client.gate().cap == 4
    client.close()


def test_client_pool_keeps_alive_as_many_connections_as_it_may_open(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROKVID_HTTP_BACKEND", "httpcore")
    client = gv.Client("apixo", api_key="k", base_url="http://127.0.0.1:9")
    pool = client.http()._transport._pool  # type: ignore[attr-defined]
    assert pool._max_connections == pool._max_keepalive_connections == client.gate().cap
    downloads = client.download_http()._transport._pool  # type: ignore[attr-defined]
    assert downloads._max_connections == downloads._max_keepalive_connections == 4
    client.close()


def test_client_wire_opens_as_many_connections_as_its_gate_lets_through() -> None:
    client = gv.Client("apixo", api_key="k", base_url="http://127.0.0.1:9")
    wire = client.http()._transport  # type: ignore[attr-defined]
    assert isinstance(wire, AiohttpTransport)
    assert wire.max_connections == client.gate().cap
    downloads = client.download_http()._transport  # type: ignore[attr-defined]
    assert isinstance(downloads, AiohttpTransport)
    assert downloads.max_connections == 4
    client.close()


def test_try_acquire_takes_a_free_slot_and_never_overtakes_a_waiter() -> None:
    async def scenario() -> list[bool]:
        gate = InflightGate(1)
        seen = [gate.try_acquire(), gate.try_acquire()]  # the slot, then none left
        waiter = asyncio.create_task(gate.acquire())
        await asyncio.sleep(0)
        gate.release()  # handed to the waiter
        await waiter
        gate.release()
        seen.append(gate.try_acquire())  # free and nobody waiting
        gate.release()
        assert (gate.busy, gate.waiting) == (0, 0)
        return seen

    assert asyncio.run(scenario()) == [True, False, True]


def test_api_clients_keep_no_cookie() -> None:
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("cookie"))
        return httpx.Response(200, json={}, headers={"Set-Cookie": "session=s1; Path=/"})

    client = gv.Client("apixo", api_key="k", base_url="http://api.test", transport=httpx.MockTransport(handler))

    async def twice() -> None:
        http = client.http()
        for _ in range(2):
            reply = await http.send(http.build_request("GET", "http://api.test/v1/x"))
            assert reply.headers["set-cookie"] == "session=s1; Path=/"

    run_sync(twice(), timeout=10)
    assert seen == [None, None]
    assert list(client.http().cookies.jar) == []
    with pytest.raises(TypeError, match="keep no cookies"):
        client.http().cookies = {"a": "b"}
    client.close()
