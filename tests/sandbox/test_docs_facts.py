"""Where the sandbox follows the newer public pages (PROVIDERS.md additions, 2026-11-30)."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from grokvid_nb.sandbox import ManualClock, Sandbox

from .conftest import BEARER, PIXAZO_KEY, pixazo_route

IMG = "https://example.com/a.png"
XAI_400 = "Client specified an invalid argument"
VIDEO_URI = "data:video/mp4;base64," + base64.b64encode(b"\x00\x00\x00\x18ftypmp42 fake video").decode()
IMAGE_URI = "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n fake").decode()


async def _xai(client: httpx.AsyncClient, where: str, **body: Any) -> httpx.Response:
    return await client.post(f"/v1/videos/{where}", json={"prompt": "p", **body}, headers=BEARER)


@pytest.mark.parametrize("duration", [11, 12, 15])
async def test_xai_reference_to_video_refuses_more_than_10_s(
    client: httpx.AsyncClient, sb: Sandbox, duration: int
) -> None:
    response = await _xai(client, "generations", duration=duration, reference_images=[{"url": IMG}])
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"code", "error"} and body["code"] == XAI_400
    assert "at most 10 s with reference images" in body["error"]
    assert sb.stats.tasks_created["xai"] == 0


async def test_xai_reference_to_video_accepts_10_s_and_text_still_15(
    client: httpx.AsyncClient, clock: ManualClock
) -> None:
    assert (await _xai(client, "generations", duration=10, reference_images=[{"url": IMG}])).status_code == 200
    clock.advance(1.1)  # xAI allows one submit a second
    assert (await _xai(client, "generations", duration=15)).status_code == 200


@pytest.mark.parametrize(
    "where,body",
    [
        ("generations", {}),
        ("generations", {"reference_images": [{"url": IMG}]}),
        ("edits", {"video": {"url": "https://example.com/v.mp4"}}),
        ("extensions", {"video": {"url": "https://example.com/v.mp4"}}),
    ],
)
async def test_xai_preview_model_is_image_to_video_only(
    client: httpx.AsyncClient, where: str, body: dict[str, Any]
) -> None:
    response = await _xai(client, where, model="grok-imagine-video-1.5-preview", **body)
    assert response.status_code == 400
    assert response.json()["code"] == XAI_400
    assert "supports image-to-video only" in response.json()["error"]


@pytest.mark.parametrize("model", ["grok-imagine-video-1.5-lite", "grok-imagine-video-1.5"])
async def test_xai_unpublished_models_are_refused(client: httpx.AsyncClient, model: str) -> None:
    response = await _xai(client, "generations", model=model, image={"url": IMG})
    assert response.status_code == 400
    assert "model must be one of grok-imagine-video, grok-imagine-video-1.5-preview" in response.json()["error"]


async def test_xai_preview_image_to_video_price(client: httpx.AsyncClient, clock: ManualClock) -> None:
    response = await _xai(
        client, "generations", model="grok-imagine-video-1.5-preview", image={"url": IMG},
        duration=5, resolution="720p", prompt="p [sandbox:latency=1]",
    )  # fmt: skip
    assert response.status_code == 200
    clock.advance(2)
    done = (await client.get(f"/v1/videos/{response.json()['request_id']}", headers=BEARER)).json()
    assert done["model"] == "grok-imagine-video-1.5-preview"
    # 5 s x $0.14 + one input image x $0.01 = $0.71 = 7.1e9 ticks
    assert done["usage"]["cost_in_usd_ticks"] == 7_100_000_000


async def test_xai_base_image_input_costs_two_tenths_of_a_cent(client: httpx.AsyncClient, clock: ManualClock) -> None:
    response = await _xai(client, "generations", image={"url": IMAGE_URI}, duration=6, prompt="p [sandbox:latency=1]")
    assert response.status_code == 200
    clock.advance(2)
    done = (await client.get(f"/v1/videos/{response.json()['request_id']}", headers=BEARER)).json()
    assert done["usage"]["cost_in_usd_ticks"] == 3_020_000_000  # 6 x $0.05 + $0.002


@pytest.mark.parametrize(
    "where,body",
    [
        ("edits", {"video": {"url": VIDEO_URI}}),
        ("edits", {"video_url": VIDEO_URI}),
        ("extensions", {"video": {"url": VIDEO_URI}, "duration": 4}),
        ("generations", {"image": {"url": IMAGE_URI}}),
        ("generations", {"reference_images": [{"url": IMAGE_URI}, {"url": IMG}]}),
    ],
)
async def test_xai_accepts_base64_data_uris(client: httpx.AsyncClient, where: str, body: dict[str, Any]) -> None:
    assert (await _xai(client, where, **body)).status_code == 200


@pytest.mark.parametrize(
    "where,body,message",
    [
        ("edits", {"video": {"url": "data:video/mp4;base64,@@not base64@@"}}, "video is not valid base64"),
        ("edits", {"video": {"url": IMAGE_URI}}, "video must be a base64 data URI of type video/*"),
        ("generations", {"image": {"url": VIDEO_URI}}, "image must be a base64 data URI of type image/*"),
        ("generations", {"image": {"url": "file:///etc/passwd"}}, "public http(s) URL or a base64 data URI"),
    ],
)
async def test_xai_refuses_bad_data_uris(client: httpx.AsyncClient, where: str, body: dict[str, Any], message: str) -> None:
    response = await _xai(client, where, **body)
    assert response.status_code == 400
    assert message in response.json()["error"]


@pytest.mark.parametrize(
    "model,duration,expected",
    [
        ("grok_video3", 6, (120.0, 240.0)),
        ("grok_video3", 10, (120.0, 240.0)),
        ("grok_video3", 15, (180.0, 360.0)),
        ("grok_video3", 20, (240.0, 480.0)),
        ("grok_video3", 30, (240.0, 480.0)),
        ("grok_video3_pro", None, (180.0, 360.0)),
        ("grok_video3_max", 30, (240.0, 480.0)),
        ("grok_video3_stable", None, (120.0, 240.0)),
    ],
)
async def test_xingchao_latencies_follow_its_pages(
    client: httpx.AsyncClient, sb: Sandbox, model: str, duration: int | None, expected: tuple[float, float]
) -> None:
    for i in range(8):
        body: dict[str, Any] = {"model": model, "prompt": f"p{i}"}
        if duration is not None:
            body["duration"] = duration
        assert (await client.post("/v1/grok/videos", json=body, headers=BEARER)).status_code == 200
    latencies = [t.latency for t in sb.tasks("xingchao")]
    assert len(latencies) == 8
    assert all(expected[0] <= value <= expected[1] for value in latencies), latencies
    assert max(latencies) - min(latencies) > 0  # drawn within the range, not one fixed value


@pytest.mark.parametrize("body", [{}, {"duration": 10}, {"duration": 10, "resolution": "720p"}])
async def test_xingchao_stable_is_fixed_10_s_720p(client: httpx.AsyncClient, sb: Sandbox, body: dict[str, Any]) -> None:
    response = await client.post("/v1/grok/videos", json={"model": "grok_video3_stable", "prompt": "p", **body},
                                 headers=BEARER)  # fmt: skip
    assert response.status_code == 200
    task = sb.tasks("xingchao")[0]
    assert (task.spec.duration, task.spec.resolution) == (10, "720p")


@pytest.mark.parametrize(
    "body,message",
    [
        ({"duration": 6}, "duration (grok_video3_stable is fixed at 10 s) must be one of 10 (got 6)"),
        ({"resolution": "480p"}, "resolution for grok_video3_stable must be one of 720p (got '480p')"),
    ],
)
async def test_xingchao_stable_refuses_other_values(
    client: httpx.AsyncClient, body: dict[str, Any], message: str
) -> None:
    response = await client.post("/v1/grok/videos", json={"model": "grok_video3_stable", "prompt": "p", **body},
                                 headers=BEARER)  # fmt: skip
    assert response.status_code == 400
    assert response.json() == {
        "error": {"message": message, "type": "invalid_request_error", "code": "invalid_parameter"}
    }


async def test_xingchao_submit_and_query_shapes(client: httpx.AsyncClient, clock: ManualClock) -> None:
    submitted = await client.post("/v1/grok/videos", json={"model": "grok_video3", "prompt": "p", "duration": 7},
                                  headers=BEARER)  # fmt: skip
    reply = submitted.json()
    assert isinstance(reply["created"], int) and reply["status"] == "queued" and reply["error"] is None
    first = (await client.get(f"/v1/result/{reply['id']}", headers=BEARER)).json()
    assert first["video_url"] is None and first["error"] is None and "actualDuration" not in first
    clock.advance(119)  # the page's minimum is 2 minutes
    assert (await client.get(f"/v1/result/{reply['id']}", headers=BEARER)).json()["video_url"] is None
    clock.advance(122)
    done = (await client.get(f"/v1/result/{reply['id']}", headers=BEARER)).json()
    assert done["status"] == "completed" and done["actualDuration"] == 7
    assert done["video_url"].endswith(".mp4") and done["error"] is None
    failed_id = (await client.post("/v1/grok/videos", json={"model": "grok_video3", "prompt": "p [sandbox:fail]"},
                                   headers=BEARER)).json()["id"]  # fmt: skip
    clock.advance(500)
    failed = (await client.get(f"/v1/result/{failed_id}", headers=BEARER)).json()
    assert failed["status"] == "failed" and failed["video_url"] is None
    assert failed["error"] == "The prompt or reference images violate the content policy"


async def test_pixazo_v1_5_image_to_video_route(client: httpx.AsyncClient, sb: Sandbox, clock: ManualClock) -> None:
    route = pixazo_route("v1-5-image-to-video")
    assert route == "/grok-imagine-video-v1-5-image-to-video/v1/grok-imagine-video-v1-5-image-to-video-request"
    missing = await client.post(route, json={"prompt": "p"}, headers=PIXAZO_KEY)
    assert missing.status_code == 400 and missing.json() == {"error": "Bad Request", "message": "image_url is required"}
    response = await client.post(route, json={"prompt": "p [sandbox:latency=1]", "image_url": IMG}, headers=PIXAZO_KEY)
    assert response.status_code == 202
    request_id = response.json()["request_id"]
    assert request_id.startswith("grok-imagine-video-v1-5-image-to-video_")
    assert sb.tasks("pixazo")[0].spec.mode == "image-to-video"
    clock.advance(2)
    done = (await client.get(f"/v2/requests/status/{request_id}", headers=PIXAZO_KEY)).json()
    assert done["status"] == "COMPLETED" and done["output"]["media_url"][0].endswith(".mp4")
