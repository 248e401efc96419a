"""Injected faults and rate limits, in-process through ``sb.transport()``."""

from __future__ import annotations

import email.utils
import time

import httpx
import pytest

from grokvid_nb.sandbox import ManualClock, RateLimit, Sandbox, SandboxConfig
from grokvid_nb.sandbox._config import ProviderProfile

from .conftest import CASES, ProviderCase, poll, submit


async def _finished(client: httpx.AsyncClient, case: ProviderCase, clock: ManualClock) -> tuple[str, str]:
    task_id = await submit(client, case, "f [sandbox:latency=1]")
    clock.advance(1.5)
    return task_id, case.video_url(await poll(client, case, task_id))


async def _hit(client: httpx.AsyncClient, case: ProviderCase, phase: str, url: str, task_id: str) -> httpx.Response:
    if phase == "submit":
        return await client.post(case.submit_path, json=case.body, headers=case.headers)
    if phase == "poll":
        path, params = case.poll(task_id)
        return await client.get(path, params=params, headers=case.headers)
    return await client.get(url)


@pytest.mark.parametrize("phase", ["submit", "poll", "download"])
async def test_http_faults_fire_once_then_clear(
    client: httpx.AsyncClient, sb: Sandbox, clock: ManualClock, case: ProviderCase, phase: str
) -> None:
    task_id, url = await _finished(client, case, clock)
    for fault in ("429", "429-date", "500", "502", "503", "non_json"):
        clock.advance(2)  # stay clear of xAI's own 1/s limit
        sb.inject(case.name, phase, fault, retry_after=7)
        created = sb.stats.tasks_created[case.name]
        response = await _hit(client, case, phase, url, task_id)
        expected = 200 if fault == "non_json" else int(fault[:3])
        assert response.status_code == expected, (fault, response.text)
        assert sb.stats.tasks_created[case.name] == created  # no task behind a faulted submit
        if fault == "429":
            assert response.headers["Retry-After"] == "7"
        elif fault == "429-date":
            when = email.utils.parsedate_to_datetime(response.headers["Retry-After"]).timestamp()
            assert 6 <= when - time.time() <= 9
        elif fault == "502":
            assert response.headers["content-type"].startswith("text/html")
        elif fault == "non_json":
            assert response.headers["content-type"].startswith("text/html")
            with pytest.raises(ValueError):
                response.json()
        elif phase != "download":  # 500/503 in the provider's error shape
            assert response.headers["content-type"] == "application/json"
        clock.advance(2)
        again = await _hit(client, case, phase, url, task_id)
        assert again.status_code == (case.submit_status if phase == "submit" else 200), again.text
        assert sb.stats.faults[(case.name, phase, fault)] == 1
    assert sb.pending_faults() == []


@pytest.mark.parametrize("phase", ["submit", "poll", "download"])
async def test_drop_raises_remote_protocol_error(
    client: httpx.AsyncClient, sb: Sandbox, clock: ManualClock, case: ProviderCase, phase: str
) -> None:
    task_id, url = await _finished(client, case, clock)
    clock.advance(2)
    sb.inject(case.name, phase, "drop")
    before = sb.stats.tasks_created[case.name]
    with pytest.raises(httpx.RemoteProtocolError):
        await _hit(client, case, phase, url, task_id)
    assert sb.stats.tasks_created[case.name] == before
    clock.advance(2)
    assert (await _hit(client, case, phase, url, task_id)).status_code < 300


async def test_lost_reply_creates_the_task(client: httpx.AsyncClient, sb: Sandbox, case: ProviderCase) -> None:
    sb.inject(case.name, "submit", "lost_reply")
    with pytest.raises(httpx.RemoteProtocolError):
        await client.post(case.submit_path, json=case.body, headers=case.headers)
    assert sb.stats.submits[case.name] == 1
    assert sb.stats.tasks_created[case.name] == 1
    (task,) = sb.tasks(case.name)
    assert task.reply_lost
    # The orphan is a real task: pollable by id.
    assert await poll(client, case, task.task_id)


async def test_lost_reply_waits_for_a_valid_submit(client: httpx.AsyncClient, sb: Sandbox) -> None:
    apixo = CASES["apixo"]
    sb.inject("apixo", "submit", "lost_reply")
    bad = await client.post(apixo.submit_path, json={"input": {}}, headers=apixo.headers)
    assert bad.status_code == 400  # not consumed by a rejected request
    with pytest.raises(httpx.RemoteProtocolError):
        await client.post(apixo.submit_path, json=apixo.body, headers=apixo.headers)


async def test_times_wildcard_and_order(client: httpx.AsyncClient, sb: Sandbox) -> None:
    apixo, aio = CASES["apixo"], CASES["apiinone"]
    sb.inject("*", "submit", "503", times=2)
    sb.inject("apixo", "submit", "500")
    statuses = [
        (await client.post(c.submit_path, json=c.body, headers=c.headers)).status_code for c in (apixo, aio, apixo, aio)
    ]
    assert statuses == [503, 503, 500, 200]


def test_inject_rejects_nonsense(sb: Sandbox) -> None:
    with pytest.raises(ValueError):
        sb.inject("openai", "submit", "500")
    with pytest.raises(ValueError):
        sb.inject("xai", "cancel", "500")
    with pytest.raises(ValueError):
        sb.inject("xai", "submit", "418")
    with pytest.raises(ValueError):
        sb.inject("xai", "poll", "lost_reply")
    with pytest.raises(ValueError):
        sb.inject("xai", "poll", "500", times=0)


async def test_xai_rate_limit_one_per_second(client: httpx.AsyncClient, sb: Sandbox, clock: ManualClock) -> None:
    xai = CASES["xai"]
    first = await client.post(xai.submit_path, json=xai.body, headers=xai.headers)
    assert first.status_code == 200
    clock.advance(0.4)
    second = await client.post(xai.submit_path, json=xai.body, headers=xai.headers)
    assert second.status_code == 429
    assert second.json()["code"] == "Some resource has been exhausted"
    assert second.headers["Retry-After"] == "1"
    # Polls don't count by default, and another key has its own budget.
    assert (await client.get(f"/v1/videos/{first.json()['request_id']}", headers=xai.headers)).status_code == 200
    other = await client.post(xai.submit_path, json=xai.body, headers={"Authorization": "Bearer other"})
    assert other.status_code == 200
    clock.advance(0.6)
    assert (await client.post(xai.submit_path, json=xai.body, headers=xai.headers)).status_code == 200
    assert sb.stats.rate_limited["xai"] == 1


async def test_per_minute_window(clock: ManualClock) -> None:
    # With xAI's 1/s, 60/min can't be exceeded; check the minute window on its own.
    profile = ProviderProfile(latency=(10, 10), rate_limit=RateLimit(per_minute=3))
    sandbox = Sandbox(SandboxConfig(time_scale=1.0, clock=clock, providers={"xai": profile}))
    xai = CASES["xai"]
    async with httpx.AsyncClient(transport=sandbox.transport(), base_url="http://s") as c:
        for _ in range(3):
            assert (await c.post(xai.submit_path, json=xai.body, headers=xai.headers)).status_code == 200
            clock.advance(10)
        refused = await c.post(xai.submit_path, json=xai.body, headers=xai.headers)
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == "30"  # the first hit leaves the window at t=60
        clock.advance(30)
        assert (await c.post(xai.submit_path, json=xai.body, headers=xai.headers)).status_code == 200
    sandbox.close()


async def test_configured_rate_limit_on_polls_in_provider_shape(clock: ManualClock) -> None:
    profile = ProviderProfile(latency=(10, 10), rate_limit=RateLimit(per_second=2, count_polls=True))
    sandbox = Sandbox(SandboxConfig(time_scale=1.0, clock=clock, providers={"pixazo": profile}))
    pixazo = CASES["pixazo"]
    async with httpx.AsyncClient(transport=sandbox.transport(), base_url="http://s") as c:
        task_id = await submit(c, pixazo)
        await poll(c, pixazo, task_id)
        limited = await c.get(f"/v2/requests/status/{task_id}", headers=pixazo.headers)
        assert limited.status_code == 429
        assert limited.json()["statusCode"] == 429 and "Rate limit is exceeded" in limited.json()["message"]
        assert limited.headers["Retry-After"] == "1"
    sandbox.close()
