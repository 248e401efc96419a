"""Each provider's documented validation: what is accepted, what is a 400, in which shape."""

from __future__ import annotations

import copy
from typing import Any

import httpx
import pytest

from grokvid_nb.sandbox import ManualClock, Sandbox

from .conftest import BEARER, CASES, PIXAZO_KEY, pixazo_route

ERROR_SHAPES = {
    "xai": lambda b: set(b) == {"code", "error"} and b["code"] == "Client specified an invalid argument",
    "apixo": lambda b: set(b) == {"code", "message"} and b["code"] == 400,
    "pixazo": lambda b: set(b) == {"error", "message"} and b["error"] == "Bad Request",
    "xingchao": lambda b: set(b) == {"error"} and b["error"]["type"] == "invalid_request_error" and b["error"]["code"],
    "apiinone": lambda b: set(b) == {"error"} and b["error"]["code"] == 400 and b["error"]["type"] == "invalid_request",
}


def _xai(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"model": "grok-imagine-video", "prompt": "p"}
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def _apixo(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "request_type": "async",
        "input": {"mode": "text-to-video", "prompt": "p", "duration": 6, "resolution": "480p"},
    }
    for key, value in changes.items():
        if key in ("request_type", "callback_url"):
            body[key] = value
        elif value is None:
            body["input"].pop(key, None)
        else:
            body["input"][key] = value
    return body


def _xing(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"model": "grok_video3", "prompt": "p"}
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def _aio(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"model": "grok-imagine/text-to-video", "prompt": "p"}
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


IMG = "https://example.com/a.png"

# (provider, path or pixazo kind, body, expected HTTP status)
CASES_400: list[tuple[str, str, dict[str, Any]]] = [
    ("xai", "generations", _xai(model="grok-2")),
    ("xai", "generations", _xai(prompt=None)),
    ("xai", "generations", _xai(prompt="   ")),
    ("xai", "generations", _xai(duration=16)),
    ("xai", "generations", _xai(duration=0)),
    ("xai", "generations", _xai(duration="6")),
    ("xai", "generations", _xai(duration=6.5)),
    ("xai", "generations", _xai(resolution="1080p")),
    ("xai", "generations", _xai(aspect_ratio="21:9")),
    ("xai", "generations", _xai(image=IMG)),
    ("xai", "generations", _xai(reference_images=[{"url": IMG}] * 8)),
    ("xai", "generations", _xai(reference_images=[IMG])),
    ("xai", "edits", _xai()),
    ("xai", "extensions", _xai(video={"url": IMG}, duration=11)),
    ("xai", "extensions", _xai(video={"url": IMG}, duration=1)),
    ("apixo", "", _apixo(mode=None)),
    ("apixo", "", _apixo(mode="video-to-video")),
    ("apixo", "", _apixo(prompt="")),
    ("apixo", "", _apixo(prompt="x" * 5001)),
    ("apixo", "", _apixo(duration=5)),
    ("apixo", "", _apixo(duration=31)),
    ("apixo", "", _apixo(duration="6.5")),
    ("apixo", "", _apixo(duration=None)),
    ("apixo", "", _apixo(duration=True)),
    ("apixo", "", _apixo(resolution="1080p")),
    ("apixo", "", _apixo(resolution=None)),
    ("apixo", "", _apixo(aspect_ratio="4:3")),
    ("apixo", "", _apixo(style="wild")),
    ("apixo", "", _apixo(mode="image-to-video")),
    ("apixo", "", _apixo(mode="image-to-video", image_urls=[IMG, IMG])),
    ("apixo", "", _apixo(mode="image-to-video", image_urls=[""])),
    ("apixo", "", _apixo(mode="image-to-video", image_urls=[IMG], task_id="task_x", index=0)),
    ("apixo", "", _apixo(mode="image-to-video", task_id="task_x")),
    ("apixo", "", _apixo(mode="image-to-video", task_id="task_x", index=6)),
    ("apixo", "", _apixo(request_type="webhook")),
    ("apixo", "", _apixo(request_type="callback")),
    ("apixo", "", _apixo(request_type="callback", callback_url="http://example.com/hook")),
    ("apixo", "", {"request_type": "async"}),
    ("pixazo", "text-to-video", {"duration": 6}),
    ("pixazo", "text-to-video", {"prompt": "p", "duration": 2}),
    ("pixazo", "text-to-video", {"prompt": "p", "duration": 11}),
    ("pixazo", "text-to-video", {"prompt": "p", "aspect_ratio": "auto"}),
    ("pixazo", "text-to-video", {"prompt": "p", "resolution": "auto"}),
    ("pixazo", "image-to-video", {"prompt": "p"}),
    ("pixazo", "image-to-video", {"prompt": "p", "image_url": "data:image/png;base64,AAAA"}),
    ("pixazo", "image-to-video", {"prompt": "p", "image_url": IMG, "duration": 11}),
    ("pixazo", "edit-video", {"prompt": "p"}),
    ("pixazo", "edit-video", {"prompt": "p", "video_url": IMG, "resolution": "1080p"}),
    ("pixazo", "reference-to-video", {"prompt": "p"}),
    ("pixazo", "reference-to-video", {"prompt": "p", "reference_image_urls": []}),
    ("pixazo", "reference-to-video", {"prompt": "p", "reference_image_urls": [IMG] * 8}),
    ("pixazo", "reference-to-video", {"prompt": "p", "reference_image_urls": [IMG], "duration": 16}),
    ("xingchao", "", _xing(model="grok_video4")),
    ("xingchao", "", _xing(prompt=None)),
    ("xingchao", "", _xing(duration=5)),
    ("xingchao", "", _xing(duration=31)),
    ("xingchao", "", _xing(aspect_ratio="4:3")),
    ("xingchao", "", _xing(resolution="1080p")),
    ("xingchao", "", _xing(image_urls=[IMG] * 8)),
    ("xingchao", "", _xing(model="grok_video3_pro", duration=6)),
    ("xingchao", "", _xing(model="grok_video3_pro", aspect_ratio="9:16")),
    ("xingchao", "", _xing(model="grok_video3_pro", resolution="480p")),
    ("xingchao", "", _xing(model="grok_video3_max", duration=8)),
    ("xingchao", "", _xing(model="grok_video3_max", aspect_ratio="3:2")),
    ("xingchao", "", _xing(model="grok_video3_max", image_urls=[IMG] * 6)),
    ("xingchao", "", _xing(model="grok_video3_max", image_urls=["data:image/png;base64,AAAA"])),
    ("xingchao", "", _xing(model="grok_video3_stable", duration=8)),
    ("xingchao", "", _xing(model="grok_video3_stable", image_urls=["iVBORw0KGgo="])),
    ("apiinone", "", _aio(model="grok-imagine/edit")),
    ("apiinone", "", _aio(prompt=None)),
    ("apiinone", "", _aio(prompt="x" * 5001)),
    ("apiinone", "", _aio(model="grok-imagine/image-to-video")),
    ("apiinone", "", _aio(model="grok-imagine/image-to-video", image_urls=[])),
    ("apiinone", "", _aio(image_urls="https://example.com/a.png")),
]

CASES_OK: list[tuple[str, str, dict[str, Any]]] = [
    ("xai", "generations", _xai(duration=1, resolution="720p", aspect_ratio="2:3")),
    ("xai", "generations", _xai(duration=15)),
    ("xai", "generations", _xai(model=None)),  # model is optional on submit (docs.x.ai)
    ("xai", "generations", _xai(image={"url": "data:image/png;base64,AAAA"})),
    ("xai", "generations", _xai(reference_images=[{"url": IMG}] * 7)),
    ("xai", "edits", _xai(video={"url": "https://example.com/v.mp4"})),
    ("xai", "edits", _xai(video_url="https://example.com/v.mp4")),
    ("xai", "extensions", _xai(video={"url": "https://example.com/v.mp4"}, duration=10)),
    ("apixo", "", _apixo(duration="30", resolution=" 720P ")),
    ("apixo", "", _apixo(mode="image-to-video", image_urls=[IMG], style="spicy")),
    ("apixo", "", _apixo(mode="image-to-video", task_id="task_prev", index=5, style="fun")),
    ("apixo", "", _apixo(request_type="callback", callback_url="https://example.com/hook")),
    ("pixazo", "text-to-video", {"prompt": "p", "duration": 10, "aspect_ratio": "3:4", "resolution": "480p"}),
    ("pixazo", "image-to-video", {"prompt": "p", "image_url": IMG, "aspect_ratio": "auto", "duration": 3}),
    ("pixazo", "edit-video", {"prompt": "p", "video_url": "https://example.com/v.mp4", "resolution": "auto"}),
    ("pixazo", "reference-to-video", {"prompt": "@Image1 runs", "reference_image_urls": [IMG] * 7, "duration": 15}),
    ("xingchao", "", _xing(duration=30, aspect_ratio="2:3", resolution="480p", image_urls=["iVBORw0KGgo="] * 7)),
    ("xingchao", "", _xing(model="grok_video3_pro")),
    ("xingchao", "", _xing(model="grok_video3_pro", duration=10, aspect_ratio="16:9", resolution="720p")),
    ("xingchao", "", _xing(model="grok_video3_max", duration=12, aspect_ratio="1:1", image_urls=[IMG] * 5)),
    ("xingchao", "", _xing(model="grok_video3_stable", duration=10, aspect_ratio="3:2", image_urls=[IMG] * 7)),
    ("apiinone", "", _aio(model="grok-imagine/image-to-video", prompt=None, image_urls=[IMG])),
    ("apiinone", "", {"prompt": "default model"}),
    ("apiinone", "", {"model": "grok-video", "prompt": "p"}),
]


def _path(provider: str, where: str) -> str:
    if provider == "xai":
        return f"/v1/videos/{where}"
    if provider == "pixazo":
        return pixazo_route(where)
    return CASES[provider].submit_path


def _headers(provider: str) -> dict[str, str]:
    return PIXAZO_KEY if provider == "pixazo" else BEARER


def _id(case: tuple[str, str, dict[str, Any]]) -> str:
    provider, where, body = case
    return f"{provider}-{where}-{str(body)[:60]}"


@pytest.mark.parametrize("provider,where,body", CASES_400, ids=[_id(c) for c in CASES_400])
async def test_rejected_with_400_in_provider_shape(
    client: httpx.AsyncClient, sb: Sandbox, provider: str, where: str, body: dict[str, Any]
) -> None:
    response = await client.post(_path(provider, where), json=body, headers=_headers(provider))
    assert response.status_code == 400, response.text
    assert ERROR_SHAPES[provider](response.json()), response.json()
    assert sb.stats.tasks_created[provider] == 0
    assert sb.stats.rejected[provider] == 1


@pytest.mark.parametrize("provider,where,body", CASES_OK, ids=[_id(c) for c in CASES_OK])
async def test_accepted(client: httpx.AsyncClient, provider: str, where: str, body: dict[str, Any]) -> None:
    response = await client.post(_path(provider, where), json=copy.deepcopy(body), headers=_headers(provider))
    assert response.status_code == (202 if provider == "pixazo" else 200), response.text


async def test_apixo_normalises_and_defaults(client: httpx.AsyncClient, sb: Sandbox) -> None:
    path = CASES["apixo"].submit_path
    await client.post(path, json=_apixo(duration="8", resolution=" 720P "), headers=BEARER)
    await client.post(path, json=_apixo(mode="image-to-video", image_urls=[IMG]), headers=BEARER)
    text, image = sb.tasks("apixo")
    assert (text.spec.duration, text.spec.resolution, text.spec.aspect_ratio) == (8, "720p", "3:2")
    assert text.spec.params["style"] == "normal"
    assert image.spec.aspect_ratio == "16:9"


async def test_pixazo_defaults_per_route(client: httpx.AsyncClient, sb: Sandbox) -> None:
    await client.post(pixazo_route("text-to-video"), json={"prompt": "p"}, headers=PIXAZO_KEY)
    await client.post(pixazo_route("image-to-video"), json={"prompt": "p", "image_url": IMG}, headers=PIXAZO_KEY)
    await client.post(pixazo_route("edit-video"), json={"prompt": "p", "video_url": IMG}, headers=PIXAZO_KEY)
    body = {"prompt": "p", "reference_image_urls": [IMG]}
    await client.post(pixazo_route("reference-to-video"), json=body, headers=PIXAZO_KEY)
    got = [(t.spec.model, t.spec.duration, t.spec.aspect_ratio, t.spec.resolution) for t in sb.tasks("pixazo")]
    assert got == [
        ("grok-imagine-video-text-to-video", 6, "16:9", "720p"),
        ("grok-imagine-video-image-to-video", 6, "auto", "720p"),
        ("grok-imagine-video-edit-video", 6.0, "16:9", "auto"),
        ("grok-imagine-video-reference-to-video", 8, "16:9", "480p"),
    ]
    assert [t.task_id.split("_")[0] for t in sb.tasks("pixazo")] == [t.spec.model for t in sb.tasks("pixazo")]


async def test_pixazo_submit_reply_and_key_in_query(client: httpx.AsyncClient) -> None:
    response = await client.post(
        pixazo_route("reference-to-video"),
        json={"prompt": "p", "reference_image_urls": [IMG]},
        params={"subscription-key": "k"},
    )
    assert response.status_code == 202
    body = response.json()
    assert body["request_id"].startswith("grok-imagine-video-reference-to-video_")
    assert body["status"] == "QUEUED"
    assert body["polling_url"] == f"http://sandbox.test/v2/requests/status/{body['request_id']}"


async def test_pixazo_webhook_must_be_https(client: httpx.AsyncClient) -> None:
    headers = {**PIXAZO_KEY, "X-Webhook-URL": "http://example.com/hook"}
    response = await client.post(pixazo_route("text-to-video"), json={"prompt": "p"}, headers=headers)
    assert response.status_code == 400
    headers["X-Webhook-URL"] = "https://example.com/hook"
    response = await client.post(pixazo_route("text-to-video"), json={"prompt": "p"}, headers=headers)
    assert response.status_code == 202


async def test_xingchao_defaults_and_reply(client: httpx.AsyncClient, sb: Sandbox) -> None:
    response = await client.post("/v1/grok/videos", json=_xing(model="grok_video3_stable"), headers=BEARER)
    body = response.json()
    assert set(body) == {"id", "object", "created", "created_at", "model", "status", "error"}
    assert body["object"] == "video" and body["status"] == "queued" and body["error"] is None
    assert body["model"] == "grok_video3_stable" and body["id"].startswith("video_")
    (task,) = sb.tasks("xingchao")
    assert (task.spec.duration, task.spec.aspect_ratio, task.spec.resolution) == (10, "16:9", "720p")


async def test_apiinone_reply(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/videos/generations", json=_aio(), headers=BEARER)
    body = response.json()
    assert body["code"] == 200 and body["message"] == "success"
    assert body["data"]["status"] == "IN_PROGRESS" and body["data"]["task_id"].endswith("_grokvid")


async def test_xai_cost_ticks(client: httpx.AsyncClient, clock: ManualClock) -> None:
    ids = []
    for resolution, duration in (("480p", 10), ("720p", 6)):
        body = _xai(prompt="p [sandbox:latency=1]", resolution=resolution, duration=duration)
        ids.append((await client.post("/v1/videos/generations", json=body, headers=BEARER)).json()["request_id"])
        clock.advance(1.5)
    ticks = [(await client.get(f"/v1/videos/{i}", headers=BEARER)).json()["usage"]["cost_in_usd_ticks"] for i in ids]
    assert ticks == [5_000_000_000, 4_200_000_000]  # $0.50 and $0.42; 1 USD = 1e10 ticks


async def test_xai_edit_and_extension_of_sandbox_clips(client: httpx.AsyncClient, clock: ManualClock) -> None:
    async def make(duration: int) -> tuple[str, str]:
        body = _xai(prompt="src [sandbox:latency=1]", duration=duration, aspect_ratio="9:16")
        rid = (await client.post("/v1/videos/generations", json=body, headers=BEARER)).json()["request_id"]
        clock.advance(1.5)
        return rid, (await client.get(f"/v1/videos/{rid}", headers=BEARER)).json()["video"]["url"]

    short_id, short_url = await make(8)
    _, long_url = await make(9)
    edit = await client.post(
        "/v1/videos/edits", json=_xai(prompt="e [sandbox:latency=1]", video={"url": short_url}), headers=BEARER
    )
    assert edit.status_code == 200
    clock.advance(1.5)
    too_long = await client.post("/v1/videos/edits", json=_xai(video={"url": long_url}), headers=BEARER)
    assert too_long.status_code == 400 and "8.7" in too_long.json()["error"]
    clock.advance(1.5)
    ext = await client.post(
        "/v1/videos/extensions",
        json=_xai(prompt="x [sandbox:latency=1]", request_id=short_id, duration=4),
        headers=BEARER,
    )
    assert ext.status_code == 200
    clock.advance(1.5)
    edited = (await client.get(f"/v1/videos/{edit.json()['request_id']}", headers=BEARER)).json()
    extended = (await client.get(f"/v1/videos/{ext.json()['request_id']}", headers=BEARER)).json()
    assert edited["video"]["duration"] == 8
    assert extended["video"]["duration"] == 12
    # the extension at $0.05/s plus the 8 s input video at $0.01/s (docs.x.ai pricing)
    assert extended["usage"]["cost_in_usd_ticks"] == 4 * 500_000_000 + 8 * 100_000_000
