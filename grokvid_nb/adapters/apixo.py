"""APIXO (https://api.apixo.ai), model `grok-video`.

Submit `POST /api/v1/generateTask/grok-video` with `{"request_type": "async", "input": {...}}`;
reply `{"code": 200, "data": {"taskId"}}`. Poll `GET /api/v1/statusTask/grok-video?taskId=`:
`data.state` is processing | success | failed; on success `data.resultJson` is a JSON *string*
holding `resultUrls`; failures carry `failCode`/`failMsg`. Times are Unix milliseconds.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import Any, ClassVar

import httpx

from .._secrets import Secret
from .._types import State, TaskStatus, VideoRequest
from ._adapter import Adapter
from ._reply import field_list, number, parse_time, text
from ._spec import ModelSpec, ModeSpec, PollingPrior, Price

_COMMON: dict[str, Any] = dict(
    durations=range(6, 31), default_duration=6,
    resolutions=("480p", "720p"), default_resolution="480p",
    prompt_max=5000, styles=("fun", "normal", "spicy"), default_style="normal",
    price=Price(per_second={"480p": 0.015, "720p": 0.03}),
)
_RATIOS = ("1:1", "3:2", "2:3", "16:9", "9:16")


@functools.lru_cache(maxsize=4096)
def _status_url(endpoint: str, task_id: str) -> str:
    """The status URL of a task, its id as the `taskId` query parameter (made once per task)."""
    return str(httpx.URL(endpoint, params={"taskId": task_id}))


class Apixo(Adapter):
    """Adapter for APIXO's grok-video route."""

    name = "apixo"
    url_ttl_s = 15 * 24 * 3600  # result URLs expire after 15 days
    title = "APIXO"
    env_var = "APIXO_API_KEY"
    default_base_url = "https://api.apixo.ai"
    default_model = "grok-video"
    polling = PollingPrior(first_poll=30.0, typical=(40.0, 60.0), interval=5.0)
    models: ClassVar[Mapping[str, ModelSpec]] = {
        "grok-video": ModelSpec("grok-video", {
            "text-to-video": ModeSpec("text-to-video", aspect_ratios=_RATIOS,
                                      default_aspect_ratio="3:2", **_COMMON),
            "image-to-video": ModeSpec(
                "image-to-video", aspect_ratios=_RATIOS, default_aspect_ratio="16:9",
                images=(1, 1), image_task_source=True,
                note="exactly one source: image_urls (1 URL) or image_task_id + image_index 0-5",
                **_COMMON),
        }),
    }

    def build_submit(self, request: VideoRequest, base_url: str, key: Secret) -> httpx.Request:
        p = request.params
        body_input: dict[str, Any] = {"mode": request.mode, "prompt": request.prompt}
        for name in ("duration", "resolution", "aspect_ratio", "style", "image_urls"):
            if name in p:
                body_input[name] = p[name]
        if "image_task_id" in p:
            body_input["task_id"] = p["image_task_id"]
            body_input["index"] = p["image_index"]
        body = {"request_type": "async", "input": body_input}
        return self.json_request("POST", self.url(base_url, "/api/v1/generateTask/grok-video"), key, body)

    def parse_submit(self, response: httpx.Response) -> str:
        body = self._envelope(response)
        data = body.get("data")
        task_id = data.get("taskId") if isinstance(data, dict) else None
        if not isinstance(task_id, str) or not task_id:
            raise self.unexpected(response, "no data.taskId in the submit reply")
        return task_id

    def build_poll(self, task_id: str, base_url: str, key: Secret) -> httpx.Request:
        return self.json_request("GET", _status_url(self.url(base_url, "/api/v1/statusTask/grok-video"), task_id), key)

    _STATES = {"processing": State.RUNNING, "pending": State.QUEUED, "queued": State.QUEUED,
               "success": State.SUCCEEDED, "failed": State.FAILED}

    def _envelope(self, response: httpx.Response) -> dict[str, Any]:
        body = self.read_object(response)
        code = body.get("code")
        if isinstance(code, int) and code >= 400:  # an error carried in a 200 envelope
            raise self.http_error(response, body, status=code)
        return body

    def parse_poll(self, response: httpx.Response) -> TaskStatus:
        body = self._envelope(response)
        data = body.get("data")
        if not isinstance(data, dict):
            raise self.unexpected(response, "no data object in the status reply")
        word = data.get("state")
        state = self.state_of(word, self._STATES)
        if state is None:
            return self.unknown_word(response, word, self._STATES)
        urls: tuple[str, ...] = ()
        if state is State.SUCCEEDED:
            raw = data.get("resultJson")
            try:
                result = json.loads(raw) if isinstance(raw, str) else raw
            except (json.JSONDecodeError, RecursionError):
                result = None
            urls = field_list(result.get("resultUrls")) if isinstance(result, dict) else ()
            if not urls:
                return self.unrecognised(response, "state is success but resultJson has no resultUrls",
                                         word, state=State.UNKNOWN)
        code, message = text(data.get("failCode")), text(data.get("failMsg"))
        if state is State.FAILED:
            code, message = self.failure(code, message or "generation failed")
        return TaskStatus(
            state=state,
            progress=100.0 if state is State.SUCCEEDED else None,
            video_urls=urls,
            error_code=code,
            error_message=message,
            created_at=parse_time(data.get("createTime")),
            completed_at=parse_time(data.get("completeTime")),
            processing_s=cost_ms / 1000.0 if (cost_ms := number(data.get("costTime"))) is not None else None,
            raw_status=text(word),
        )
