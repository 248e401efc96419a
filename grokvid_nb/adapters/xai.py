"""xAI, direct (https://api.x.ai): `grok-imagine-video` and its newer ids.

Submit `POST /v1/videos/generations` (text, image, reference images), `/v1/videos/edits`,
`/v1/videos/extensions`; each replies `{"request_id"}`. Poll `GET /v1/videos/{request_id}`.
Status words: pending, queued, processing, done, failed, expired. A finished job reports its
cost as `usage.cost_in_usd_ticks`, where 1 USD = 10**10 ticks (docs.x.ai; the seed page's
"divide by 10,000,000" is wrong).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import httpx

from .._secrets import Secret
from .._types import MODERATED, State, TaskStatus, VideoRequest
from ._adapter import Adapter
from ._reply import field_list, mapping, number, parse_time, path_segment, percent, text
from ._spec import ModelSpec, ModeSpec, PollingPrior, Price

TICKS_PER_USD = 10_000_000_000

_RATIOS = ("16:9", "9:16", "1:1", "4:3", "3:4", "3:2", "2:3")
_RESOLUTIONS = ("480p", "720p")
_SOURCES = ("http", "https", "data")  # public URLs or base64 data URIs (docs.x.ai)
# docs.x.ai pricing: input images cost $0.002 each (the reported cost includes them)
_PRICE = Price(per_second={"480p": 0.05, "720p": 0.07}, per_input_image=0.002)
# grok-imagine-video-1.5-preview (several independent pages, 2026-06; PROVIDERS.md additions)
_PREVIEW_PRICE = Price(per_second={"480p": 0.08, "720p": 0.14}, per_input_image=0.01)
#: docs.x.ai/developers/model-capabilities/video/reference-to-video: "The maximum duration
#: allowed when using reference images is 10 seconds" (newer than seed 003's 1-15 s for all)
MAX_REFERENCE_S = 10


def _image_to_video(price: Price, note: str = "") -> ModeSpec:
    # no default ratio: the provider follows the image (a fixed 16:9 would crop portraits)
    return ModeSpec("image-to-video", durations=range(1, 16), default_duration=6,
                    aspect_ratios=_RATIOS, resolutions=_RESOLUTIONS, default_resolution="480p",
                    images=(1, 1), image_schemes=_SOURCES, price=price,
                    note=note or "aspect ratio follows the image unless given")


def _modes(price: Price) -> dict[str, ModeSpec]:
    common: dict[str, Any] = dict(
        resolutions=_RESOLUTIONS, default_resolution="480p", price=price,
    )
    ratios: dict[str, Any] = dict(common, aspect_ratios=_RATIOS, default_aspect_ratio="16:9")
    return {
        "text-to-video": ModeSpec("text-to-video", durations=range(1, 16), default_duration=6,
                                  **ratios),
        "image-to-video": _image_to_video(price),
        "reference-to-video": ModeSpec(
            "reference-to-video", durations=range(1, MAX_REFERENCE_S + 1), default_duration=6,
            images=(1, 7), image_schemes=_SOURCES,
            note="1-10 s with reference images (docs.x.ai reference-to-video page, newer than "
                 "seed 003's 1-15 s); refer to images as <IMAGE_1>..<IMAGE_7> in the prompt",
            **ratios),
        "edit": ModeSpec("edit", video_input=True, video_schemes=_SOURCES, price=Price(),
                         note="source video (URL or base64 data URI) at most 8.7 s; cost is "
                              "reported when done"),
        # docs.x.ai: extensions take no aspect_ratio/resolution (the output matches the input)
        "extend": ModeSpec("extend", video_input=True, video_schemes=_SOURCES,
                           durations=range(2, 11), default_duration=6, price=Price(),
                           note="extension 2-10 s; source video 2-15 s (URL or base64 data URI); "
                                "output keeps the source's ratio and resolution; cost is reported "
                                "when done"),
    }


class XAI(Adapter):
    """Adapter for xAI's own video API."""

    name = "xai"
    url_ttl_s = 24 * 3600  # docs.x.ai: generated URLs are temporary, about 24 h
    title = "xAI (direct)"
    env_var = "XAI_API_KEY"
    default_base_url = "https://api.x.ai"
    default_model = "grok-imagine-video"
    reports_cost = True
    polling = PollingPrior(first_poll=10.0, typical=(20.0, 60.0), interval=5.0)
    rate_limits = ((1, 1.0), (60, 60.0))
    failure_billing_note = ("xAI bills per second of output; a failed job's cost is not "
                            "documented; a moderated job reports its cost when it has one")
    models: ClassVar[Mapping[str, ModelSpec]] = {
        "grok-imagine-video": ModelSpec("grok-imagine-video", _modes(_PRICE)),
        # public material (2026-06) describes only this 1.5 id, image-to-video only; nothing
        # public on "-1.5" or "-1.5-lite", so they are not offered (PROVIDERS.md additions)
        "grok-imagine-video-1.5-preview": ModelSpec(
            "grok-imagine-video-1.5-preview",
            {"image-to-video": _image_to_video(
                _PREVIEW_PRICE, "image-to-video only (public pages, 2026-06); aspect ratio "
                "follows the image unless given")},
            note="preview model: $0.08/s 480p, $0.14/s 720p, +$0.01 per input image"),
    }

    _PATHS = {"edit": "/v1/videos/edits", "extend": "/v1/videos/extensions"}

    def build_submit(self, request: VideoRequest, base_url: str, key: Secret) -> httpx.Request:
        p = request.params
        body: dict[str, Any] = {"model": request.model, "prompt": request.prompt}
        for name in ("duration", "resolution", "aspect_ratio"):  # absent ones: the provider decides
            if name in p:
                body[name] = p[name]
        if request.mode == "image-to-video":
            body["image"] = {"url": p["image_urls"][0]}
        elif request.mode == "reference-to-video":
            body["reference_images"] = [{"url": u} for u in p["image_urls"]]
        elif request.mode in self._PATHS:
            body["video"] = {"url": p["video_url"]}
        path = self._PATHS.get(request.mode, "/v1/videos/generations")
        return self.json_request("POST", self.url(base_url, path), key, body)

    def parse_submit(self, response: httpx.Response) -> str:
        return self.id_field(response, "request_id")

    def build_poll(self, task_id: str, base_url: str, key: Secret) -> httpx.Request:
        return self.json_request("GET", self.url(base_url, f"/v1/videos/{path_segment(task_id)}"), key)

    _STATES = {
        "pending": State.QUEUED, "queued": State.QUEUED, "processing": State.RUNNING,
        "in_progress": State.RUNNING, "done": State.SUCCEEDED, "failed": State.FAILED,
        "expired": State.EXPIRED,
    }

    def error_details(self, body: Any) -> tuple[str | None, str | None]:
        # xAI errors: {"code": "...", "error": "message"}
        if isinstance(body, dict) and isinstance(body.get("error"), str):
            return (str(body["code"]) if body.get("code") else None), body["error"]
        return super().error_details(body)

    def parse_poll(self, response: httpx.Response) -> TaskStatus:
        body = self.read_object(response)
        raw = body.get("status")
        state = self.state_of(raw, self._STATES)
        if state is None:
            return self.unknown_word(response, raw, self._STATES)
        video = mapping(body.get("video"))
        urls = field_list(video.get("url"))
        usage = mapping(body.get("usage"))
        ticks = number(usage.get("cost_in_usd_ticks"))
        cost = ticks / TICKS_PER_USD if ticks is not None else None
        if state is State.SUCCEEDED and not urls:
            if video.get("respect_moderation") is False:
                return self._moderated(body, video, cost)
            return self.unrecognised(response, "status is done but video.url is missing", raw,
                                     state=State.UNKNOWN, cost_usd=cost)
        code = message = None
        error = body.get("error")
        if isinstance(error, dict):
            code, message = text(error.get("code")), text(error.get("message"))
        elif isinstance(error, str):
            message = error
        if state is State.FAILED:
            code, message = self.failure(code, message or "generation failed")
        if state is State.EXPIRED and not message:
            message = "the request expired before the video was made"
        progress = body.get("progress")
        return TaskStatus(
            state=state,
            progress=percent(progress),
            video_urls=urls,
            cost_usd=cost,
            error_code=text(code),
            error_message=text(message),
            created_at=parse_time(body.get("created_at")),
            completed_at=parse_time(body.get("completed_at")),
            video_duration=number(video.get("duration")),
            raw_status=text(raw),
        )

    def _moderated(self, body: dict[str, Any], video: dict[str, Any], cost: float | None) -> TaskStatus:
        """`done` without a URL and `respect_moderation: false`: moderation blocked the video
        (xai-sdk checks this flag). Its cost is the reported one, when there is one."""
        money = (f"xAI reported a cost of ${cost:.4g} for it" if cost is not None
                 else "xAI reported no cost for it; whether it was charged is unknown")
        return TaskStatus(
            state=State.FAILED, progress=percent(body.get("progress")), cost_usd=cost,
            error_code=MODERATED,
            error_message=f"xAI's content moderation blocked the video (status done, no URL, "
                          f"respect_moderation false); {money}",
            created_at=parse_time(body.get("created_at")),
            completed_at=parse_time(body.get("completed_at")),
            video_duration=number(video.get("duration")), raw_status=text(body.get("status")),
            billing="charged" if cost else None)
