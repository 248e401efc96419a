"""XingChaoYiQing: four `grok_video3*` models behind an OpenAI-style gateway.

Base URL `https://zcbservice.aizfw.cn/kyyReactApiServer` (docs.xingchaoyiqing.com
api-reference/video/grok-create and grok-query, same on docs.globalaiopc.com; the seed page had
lost it); `XINGCHAO_BASE_URL` or `base_url=` override it. Submit `POST {base}/v1/grok/videos`;
reply `{id, object: "video", created, model, status: "queued", error: null}`. Poll
`GET {base}/v1/result/{id}`: queued | processing | completed | failed, `video_url` (null until
done), `actualDuration`, `error` (a string). Jobs take 2-8 minutes and the page asks for polls
30-60 s apart; result URLs are valid for about 24 hours. No prices are published, so cost is
unknown unless configured.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import httpx

from .._secrets import Secret
from .._types import State, TaskStatus, VideoRequest
from ._adapter import Adapter
from ._reply import field_list, number, parse_time, path_segment, percent, text
from ._spec import ModelSpec, ModeSpec, PollingPrior

_RES = ("480p", "720p")


def _model(name: str, *, per_call: bool, note: str = "", **mode: Any) -> ModelSpec:
    images = mode.pop("images", (1, 7))
    schemes = mode.pop("image_schemes", ("http", "https", "data"))
    t2v = ModeSpec("text-to-video", **mode)
    i2v = ModeSpec("image-to-video", images=images, image_schemes=schemes, **mode)
    return ModelSpec(name, {"text-to-video": t2v, "image-to-video": i2v},
                     per_call_billing=per_call, note=note)


class XingChao(Adapter):
    """Adapter for XingChaoYiQing's Grok video gateway."""

    name = "xingchao"
    url_ttl_s = 24 * 3600  # result URLs are typically valid for 24 hours
    title = "XingChaoYiQing"
    env_var = "XINGCHAO_API_KEY"
    default_base_url = "https://zcbservice.aizfw.cn/kyyReactApiServer"
    base_url_env = "XINGCHAO_BASE_URL"
    default_model = "grok_video3"
    # grok-create/grok-query: 6-10 s clips take 2-4 min, 20-30 s clips 4-8 min, pro 3-6 min;
    # "recommended polling interval: 30-60 seconds" (the engine's POLL_POLICIES refine by length)
    polling = PollingPrior(first_poll=120.0, typical=(120.0, 480.0), interval=30.0)
    models: ClassVar[Mapping[str, ModelSpec]] = {
        "grok_video3": _model(
            "grok_video3", per_call=False, durations=range(6, 31), default_duration=10,
            aspect_ratios=("16:9", "9:16", "1:1", "3:2", "2:3"), default_aspect_ratio="16:9",
            resolutions=_RES, default_resolution="720p", note="billed per second"),
        "grok_video3_pro": _model(
            "grok_video3_pro", per_call=True, durations=(10,), default_duration=None,
            output_duration=10.0, aspect_ratios=("16:9",), default_aspect_ratio="16:9",
            resolutions=("720p",), default_resolution="720p",
            note="fixed 10 s, 16:9, 720p; duration is not sent; billed per call"),
        "grok_video3_max": _model(
            "grok_video3_max", per_call=False, durations=(6, 10, 12, 16, 20, 30), default_duration=10,
            aspect_ratios=("16:9", "9:16", "1:1"), default_aspect_ratio="16:9",
            resolutions=_RES, default_resolution="720p", images=(1, 5),
            image_schemes=("http", "https"), note="public image URLs only (no base64)"),
        # The provider's current page (docs.xingchaoyiqing.com/api-reference/video/grok-create,
        # 2026-11) says a fixed 10 s at 720p only; the older seed page said 6 or 10 s at
        # 480p/720p. The newer page wins (PROVIDERS.md additions, 2026-11-30).
        "grok_video3_stable": _model(
            "grok_video3_stable", per_call=True, durations=(10,), default_duration=10,
            aspect_ratios=("16:9", "9:16", "3:2", "2:3", "1:1"), default_aspect_ratio="16:9",
            resolutions=("720p",), default_resolution="720p", images=(1, 7),
            image_schemes=("http", "https"),
            note="fixed 10 s at 720p (provider's current grok-create page, 2026-11; the older "
                 "page said 6 or 10 s at 480p/720p: the newer page wins); public image URLs "
                 "only; billed per call"),
    }

    def build_submit(self, request: VideoRequest, base_url: str, key: Secret) -> httpx.Request:
        p = request.params
        body: dict[str, Any] = {"model": request.model, "prompt": request.prompt}
        for name in ("aspect_ratio", "resolution", "image_urls"):
            if name in p:
                body[name] = p[name]
        # grok_video3_pro: "fixed 10 - do not set" the duration field
        if "duration" in p and request.model != "grok_video3_pro":
            body["duration"] = p["duration"]
        return self.json_request("POST", self.url(base_url, "/v1/grok/videos"), key, body)

    def parse_submit(self, response: httpx.Response) -> str:
        body = self.read_json(response)
        task_id = body.get("id") if isinstance(body, dict) else None
        if not isinstance(task_id, str) or not task_id:
            raise self.unexpected(response, "no id in the submit reply")
        if isinstance(body.get("error"), (dict, str)) and body["error"]:
            code, message = self.error_details(body)
            raise self.unexpected(response, f"submit reported an error: {message or code}")
        return task_id

    def build_poll(self, task_id: str, base_url: str, key: Secret) -> httpx.Request:
        return self.json_request("GET", self.url(base_url, f"/v1/result/{path_segment(task_id)}"), key)

    _STATES = {"queued": State.QUEUED, "pending": State.QUEUED, "processing": State.RUNNING,
               "in_progress": State.RUNNING, "completed": State.SUCCEEDED, "succeeded": State.SUCCEEDED,
               "failed": State.FAILED}

    def parse_poll(self, response: httpx.Response) -> TaskStatus:
        body = self.read_object(response)
        raw = body.get("status")
        state = self.state_of(raw, self._STATES)
        if state is None:
            return self.unknown_word(response, raw, self._STATES)
        urls = field_list(body.get("video_url"))
        if state is State.SUCCEEDED and not urls:
            return self.unrecognised(response, "status is completed but video_url is missing", raw,
                                     state=State.UNKNOWN)
        code, message = None, None
        if body.get("error"):
            code, message = self.error_details(body)
        if state is State.FAILED:
            code, message = self.failure(code, message or "generation failed")
        progress = body.get("progress")
        return TaskStatus(
            state=state,
            progress=percent(progress),
            video_urls=urls,
            error_code=code,
            error_message=message,
            created_at=parse_time(body.get("created_at") or body.get("created")),
            completed_at=parse_time(body.get("completed_at")),
            video_duration=number(body.get("actualDuration")),
            raw_status=text(raw),
        )
