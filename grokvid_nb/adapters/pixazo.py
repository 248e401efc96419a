"""Pixazo (https://gateway.pixazo.ai), four routes of `grok-imagine-video`.

Submit `POST /grok-imagine-video-<kind>/v1/grok-imagine-video-<kind>-request` for kind
text-to-video, image-to-video, edit-video, reference-to-video, with the key in
`Ocp-Apim-Subscription-Key`; reply `{request_id, status: "QUEUED", polling_url}`. Poll
`GET /v2/requests/status/{request_id}`: QUEUED, PROCESSING, COMPLETED, FAILED, ERROR;
`output.media_url` is a list. Only ERROR ("system error") is not charged: FAILED is (the seed's
status tables; PROVIDERS.md additions), so a FAILED job's cost is estimated from the price table.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import httpx

from .._secrets import Secret
from .._types import State, TaskStatus, VideoRequest
from ._adapter import Adapter
from ._reply import field_list, mapping, parse_time, path_segment, text
from ._spec import ModelSpec, ModeSpec, PollingPrior, Price

_RATIOS = ("16:9", "4:3", "3:2", "1:1", "2:3", "3:4", "9:16")
_RES = ("480p", "720p")
_PRICE = Price(per_second={"480p": 0.05, "720p": 0.07})

_ROUTE = {
    "text-to-video": "text-to-video",
    "image-to-video": "image-to-video",
    "reference-to-video": "reference-to-video",
    "edit": "edit-video",
}


class Pixazo(Adapter):
    """Adapter for Pixazo's Grok Imagine Video gateway."""

    name = "pixazo"
    title = "Pixazo"
    env_var = "PIXAZO_API_KEY"
    default_base_url = "https://gateway.pixazo.ai"
    default_model = "grok-imagine-video"
    polling = PollingPrior(first_poll=10.0, typical=(15.0, 110.0), interval=5.0)
    failure_billing = "charged"
    failure_billing_note = "FAILED is charged; ERROR (a system error) is not"
    models: ClassVar[Mapping[str, ModelSpec]] = {
        "grok-imagine-video": ModelSpec("grok-imagine-video", {
            "text-to-video": ModeSpec(
                "text-to-video", durations=range(3, 11), default_duration=6,
                aspect_ratios=_RATIOS, default_aspect_ratio="16:9",
                resolutions=_RES, default_resolution="720p", price=_PRICE),
            "image-to-video": ModeSpec(
                "image-to-video", durations=range(3, 11), default_duration=6,
                aspect_ratios=("auto",) + _RATIOS, default_aspect_ratio="auto",
                resolutions=_RES, default_resolution="720p", images=(1, 1), price=_PRICE),
            "reference-to-video": ModeSpec(
                "reference-to-video", durations=range(3, 16), default_duration=8,
                aspect_ratios=_RATIOS, default_aspect_ratio="16:9",
                resolutions=_RES, default_resolution="480p", images=(1, 7), price=_PRICE,
                note="refer to images as @Image1..@Image7 in the prompt"),
            "edit": ModeSpec(
                "edit", resolutions=("auto",) + _RES, default_resolution="auto", video_input=True,
                price=Price(per_second={"480p": 0.06, "720p": 0.08}),
                note="billed per second of the source video, which is not known in advance"),
        }),
    }

    def auth_headers(self, key: Secret) -> dict[str, str]:
        return {"Ocp-Apim-Subscription-Key": key.reveal(), "Cache-Control": "no-cache"}

    def build_submit(self, request: VideoRequest, base_url: str, key: Secret) -> httpx.Request:
        p = request.params
        body: dict[str, Any] = {"prompt": request.prompt}
        for name in ("duration", "aspect_ratio", "resolution", "video_url"):
            if name in p:
                body[name] = p[name]
        if request.mode == "image-to-video":
            body["image_url"] = p["image_urls"][0]
        elif request.mode == "reference-to-video":
            body["reference_image_urls"] = list(p["image_urls"])
        kind = _ROUTE[request.mode]
        path = f"/grok-imagine-video-{kind}/v1/grok-imagine-video-{kind}-request"
        return self.json_request("POST", self.url(base_url, path), key, body)

    def parse_submit(self, response: httpx.Response) -> str:
        return self.id_field(response, "request_id")

    def build_poll(self, task_id: str, base_url: str, key: Secret) -> httpx.Request:
        return self.json_request("GET", self.url(base_url, f"/v2/requests/status/{path_segment(task_id)}"), key)

    _STATES = {"queued": State.QUEUED, "processing": State.RUNNING, "completed": State.SUCCEEDED,
               "failed": State.FAILED, "error": State.FAILED}

    def parse_poll(self, response: httpx.Response) -> TaskStatus:
        body = self.read_object(response)
        raw = body.get("status")
        state = self.state_of(raw, self._STATES)
        if state is None:
            return self.unknown_word(response, raw, self._STATES)
        output = mapping(body.get("output"))
        urls = field_list(output.get("media_url"))
        if state is State.SUCCEEDED and not urls:
            return self.unrecognised(response, "status is COMPLETED but output.media_url is empty",
                                     raw, state=State.UNKNOWN)
        error = body.get("error")
        message = text(error.get("message") if isinstance(error, dict) else error)
        code = billing = None
        if state is State.FAILED:
            word = str(raw).strip().upper()
            billing = "not charged" if word == "ERROR" else "charged"
            code, message = self.failure(word, message or (
                "system error" if word == "ERROR" else "generation failed"))
            message = f"{message} ({word}: {billing})"
        return TaskStatus(
            state=state,
            progress=100.0 if state is State.SUCCEEDED else None,
            video_urls=urls,
            error_code=code,
            error_message=message,
            created_at=parse_time(body.get("created_at")),
            completed_at=parse_time(body.get("completed_at")),
            raw_status=text(raw),
            billing=billing,
        )
