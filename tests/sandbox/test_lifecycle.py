"""Submit -> poll -> terminal state for every provider, in-process."""

from __future__ import annotations

import httpx
import pytest

from grokvid_nb.sandbox import ManualClock, Sandbox

from .conftest import CASES, FAILED_STATUS, SUCCESS_STATUS, ProviderCase, poll, submit

QUEUED_STATUS = {
    "xai": "pending",
    "apixo": "processing",
    "pixazo": "QUEUED",
    "xingchao": "queued",
    "apiinone": "IN_PROGRESS",
}
RUNNING_STATUS = {
    "xai": "processing",
    "apixo": "processing",
    "pixazo": "PROCESSING",
    "xingchao": "processing",
    "apiinone": "IN_PROGRESS",
}


async def test_progression_to_success_and_download(
    client: httpx.AsyncClient, sb: Sandbox, clock: ManualClock, case: ProviderCase
) -> None:
    task_id = await submit(client, case, "a lakeside at sunset [sandbox:latency=40]")
    first = await poll(client, case, task_id)
    assert case.status(first) == QUEUED_STATUS[case.name]

    clock.advance(20)
    middle = await poll(client, case, task_id)
    assert case.status(middle) == RUNNING_STATUS[case.name]
    if case.name == "xai":
        assert 1 <= middle["progress"] <= 99

    clock.advance(20.001)
    done = await poll(client, case, task_id)
    assert case.status(done) == SUCCESS_STATUS[case.name]
    url = case.video_url(done)
    assert url.startswith("http://sandbox.test/cdn/")

    video = await client.get(url)  # the CDN needs no key
    assert video.status_code == 200
    assert video.headers["content-type"] == "video/mp4"
    assert video.content[4:8] == b"ftyp"
    assert sb.stats.for_provider(case.name) == {
        "submits": 1,
        "tasks_created": 1,
        "polls": 3,
        "downloads": 1,
        "rate_limited": 0,
        "rejected": 0,
    }


async def test_cdn_404_before_done_and_for_unknown(client: httpx.AsyncClient, sb: Sandbox, case: ProviderCase) -> None:
    task_id = await submit(client, case)
    assert (await client.get(f"/cdn/{case.name}/{task_id}.mp4")).status_code == 404
    assert (await client.get(f"/cdn/{case.name}/nope.mp4")).status_code == 404
    assert (await client.get("/cdn/nobody/x.mp4")).status_code == 404


async def test_magic_fail_uses_moderation_code(
    client: httpx.AsyncClient, clock: ManualClock, case: ProviderCase
) -> None:
    task_id = await submit(client, case, "something [sandbox:fail] [sandbox:latency=5]")
    clock.advance(5)
    reply = await poll(client, case, task_id)
    assert case.status(reply) == FAILED_STATUS[case.name]
    if case.name == "xai":
        assert reply["error"]["code"] == "content_moderated" and reply["error"]["message"]
    elif case.name == "apixo":
        assert reply["data"]["failCode"] == "SensitiveContent"
        assert reply["data"]["failMsg"]
        assert "resultJson" not in reply["data"]
    elif case.name == "pixazo":
        assert reply["output"] is None and isinstance(reply["error"], str) and reply["completed_at"]
    elif case.name == "xingchao":
        assert isinstance(reply["error"], str) and reply["video_url"] is None
    else:
        assert reply["data"]["error"]["code"] == "content_policy_violation"


async def test_failure_kinds_and_literal_codes(client: httpx.AsyncClient, clock: ManualClock) -> None:
    xai, apixo, pixazo = CASES["xai"], CASES["apixo"], CASES["pixazo"]
    a = await submit(client, apixo, "x [sandbox:fail=timeout] [sandbox:latency=1]")
    b = await submit(client, apixo, "x [sandbox:fail=ImageFormatIncorrect] [sandbox:latency=1]")
    c = await submit(client, xai, "x [sandbox:fail=internal] [sandbox:latency=1]")
    clock.advance(1.1)
    d = await submit(client, pixazo, "x [sandbox:fail=internal] [sandbox:latency=1]")
    clock.advance(1.1)
    assert (await poll(client, apixo, a))["data"]["failCode"] == "Timeout"
    assert (await poll(client, apixo, b))["data"]["failCode"] == "ImageFormatIncorrect"
    assert (await poll(client, xai, c))["error"]["code"] == "internal_error"
    assert (await poll(client, pixazo, d))["status"] == "ERROR"  # system error, not charged


async def test_xai_expired(client: httpx.AsyncClient, clock: ManualClock) -> None:
    xai = CASES["xai"]
    task_id = await submit(client, xai, "x [sandbox:expire] [sandbox:latency=3]")
    clock.advance(3)
    assert await poll(client, xai, task_id) == {"status": "expired", "model": "grok-imagine-video"}
    assert (await client.get(f"/cdn/xai/{task_id}.mp4")).status_code == 404


async def test_unknown_task_is_404_in_provider_shape(client: httpx.AsyncClient, case: ProviderCase) -> None:
    path, params = case.poll("does-not-exist")
    response = await client.get(path, params=params, headers=case.headers)
    assert response.status_code == 404
    body = response.json()
    shapes = {
        "xai": lambda b: set(b) == {"code", "error"},
        "apixo": lambda b: b["code"] == 404 and b["message"],
        "pixazo": lambda b: set(b) == {"error", "message"},
        "xingchao": lambda b: set(b["error"]) == {"message", "type", "code"},
        "apiinone": lambda b: b["error"]["code"] == 404 and b["error"]["type"],
    }
    assert shapes[case.name](body), body


async def test_other_keys_task_is_not_visible(client: httpx.AsyncClient, case: ProviderCase) -> None:
    task_id = await submit(client, case)
    other = {k: v.replace("test-key", "other-key") for k, v in case.headers.items()}
    path, params = case.poll(task_id)
    assert (await client.get(path, params=params, headers=other)).status_code == 404


@pytest.mark.parametrize("name", list(CASES))
async def test_missing_key_is_401_in_provider_shape(client: httpx.AsyncClient, name: str) -> None:
    case = CASES[name]
    response = await client.post(case.submit_path, json=case.body)
    assert response.status_code == 401
    body = response.json()
    if name == "xai":
        assert set(body) == {"code", "error"}
    elif name == "apixo":
        assert body["code"] == 401 and body["message"]
    elif name == "pixazo":
        assert body["statusCode"] == 401 and "subscription key" in body["message"] and body["error"]
    elif name == "xingchao":
        assert body["error"]["type"] == "authentication_error"
    else:
        assert body["error"]["code"] == 401 and body["error"]["type"] == "authentication_error"
    path, params = case.poll("whatever")
    assert (await client.get(path, params=params)).status_code == 401


async def test_wrong_key_is_401_when_keys_configured(clock: ManualClock) -> None:
    from grokvid_nb.sandbox import SandboxConfig

    sandbox = Sandbox(SandboxConfig(time_scale=1.0, clock=clock, api_keys={"xai": "right", "pixazo": "right"}))
    async with httpx.AsyncClient(transport=sandbox.transport(), base_url="http://s") as c:
        xai = CASES["xai"]
        wrong = await c.post(xai.submit_path, json=xai.body, headers={"Authorization": "Bearer wrong"})
        assert wrong.status_code == 401
        right = await c.post(xai.submit_path, json=xai.body, headers={"Authorization": "Bearer right"})
        assert right.status_code == 200
        pix = CASES["pixazo"]
        assert (
            await c.post(pix.submit_path, json=pix.body, headers={"Ocp-Apim-Subscription-Key": "x"})
        ).status_code == 401
        # Providers without a configured key accept any key.
        apixo = CASES["apixo"]
        assert (await c.post(apixo.submit_path, json=apixo.body, headers=apixo.headers)).status_code == 200
    sandbox.close()


async def test_invalid_json_is_400(client: httpx.AsyncClient, clock: ManualClock, case: ProviderCase) -> None:
    headers = {**case.headers, "Content-Type": "application/json"}
    for content in (b"{not json", b"[1, 2]"):
        clock.advance(1)  # refused requests still count against xAI's 1/s limit
        response = await client.post(case.submit_path, content=content, headers=headers)
        assert response.status_code == 400, response.text
        assert response.headers["content-type"].startswith("application/json")


async def test_sync_transport(sb: Sandbox, clock: ManualClock) -> None:
    transport = sb.sync_transport()
    try:
        with httpx.Client(transport=transport, base_url="http://sync.test") as c:
            xai = CASES["xai"]
            rid = c.post(xai.submit_path, json=xai.with_prompt("x [sandbox:latency=1]"), headers=xai.headers).json()
            clock.advance(2)
            reply = c.get(f"/v1/videos/{rid['request_id']}", headers=xai.headers).json()
            assert reply["status"] == "done"
            assert c.get(reply["video"]["url"]).status_code == 200
            sb.inject("xai", "poll", "drop")
            with pytest.raises(httpx.RemoteProtocolError):
                c.get(f"/v1/videos/{rid['request_id']}", headers=xai.headers)
    finally:
        transport.close()
