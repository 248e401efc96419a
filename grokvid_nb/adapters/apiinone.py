"""API in One (https://apiin.one): `grok-imagine/text-to-video` and `.../image-to-video`.

Submit `POST /api/v1/videos/generations` `{model, prompt, image_urls?}`; reply
`{"code": 200, "data": {"task_id", "status": "IN_PROGRESS"}}`. Poll `GET /api/v1/tasks/{task_id}`
until `completed` or `failed`. The provider's page does not show a finished task's body, so
`parse_poll` looks for the status and video URLs tolerantly (top level or under `data`, URLs in
any `*url*` field ending in a video extension or under an output/result object) and says plainly
what it could not find. No duration, resolution or aspect ratio; a flat 24 credits (~$0.048).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

import httpx

from .._secrets import Secret
from .._types import State, TaskStatus, VideoRequest
from ._adapter import Adapter
from ._reply import number, parse_time, path_segment, text
from ._spec import ModelSpec, ModeSpec, PollingPrior, Price

_PRICE = Price(per_call=0.048)
_CLIP_SECONDS = 6.0  # Grok Imagine's default length; the route has no duration parameter


class ApiInOne(Adapter):
    """Adapter for API in One's Grok Video route."""

    name = "apiinone"
    title = "API in One"
    env_var = "APIINONE_API_KEY"
    default_base_url = "https://apiin.one"
    default_model = "grok-imagine"
    polling = PollingPrior(first_poll=20.0, typical=(30.0, 60.0), interval=5.0)
    models: ClassVar[Mapping[str, ModelSpec]] = {
        "grok-imagine": ModelSpec("grok-imagine", {
            "text-to-video": ModeSpec("text-to-video", prompt_max=5000, output_duration=_CLIP_SECONDS,
                                      price=_PRICE),
            "image-to-video": ModeSpec("image-to-video", prompt_max=5000, images=(1, None),
                                       output_duration=_CLIP_SECONDS, price=_PRICE),
        }, per_call_billing=True, note="24 credits (~$0.048) per video; no duration/resolution knobs"),
    }

    def build_submit(self, request: VideoRequest, base_url: str, key: Secret) -> httpx.Request:
        body: dict[str, Any] = {"model": f"grok-imagine/{request.mode}", "prompt": request.prompt}
        if "image_urls" in request.params:
            body["image_urls"] = list(request.params["image_urls"])
        return self.json_request("POST", self.url(base_url, "/api/v1/videos/generations"), key, body)

    def _body(self, response: httpx.Response) -> dict[str, Any]:
        body = self.read_json(response)
        if not isinstance(body, dict):
            raise self.unexpected(response, "expected a JSON object")
        error = body.get("error")
        # an error in a 2xx envelope; a body with a status is a (failed) task, not an error reply
        if isinstance(error, dict) and _status_of(body) is None:
            code = error.get("code")
            status = code if isinstance(code, int) and 400 <= code < 600 else 400
            raise self.http_error(response, body, status=status)
        return body

    def _data(self, response: httpx.Response) -> dict[str, Any]:
        body = self._body(response)
        data = body.get("data")
        return data if isinstance(data, dict) else body

    def parse_submit(self, response: httpx.Response) -> str:
        data = self._data(response)
        task_id = data.get("task_id") or data.get("taskId") or data.get("id")
        if not isinstance(task_id, str) or not task_id:
            raise self.unexpected(response, "no data.task_id in the submit reply")
        return task_id

    def build_poll(self, task_id: str, base_url: str, key: Secret) -> httpx.Request:
        return self.json_request("GET", self.url(base_url, f"/api/v1/tasks/{path_segment(task_id)}"), key)

    _STATES = {
        "in_progress": State.RUNNING, "processing": State.RUNNING, "running": State.RUNNING,
        "pending": State.QUEUED, "queued": State.QUEUED, "submitted": State.QUEUED,
        "completed": State.SUCCEEDED, "succeeded": State.SUCCEEDED, "success": State.SUCCEEDED,
        "failed": State.FAILED, "error": State.FAILED, "cancelled": State.FAILED,
    }

    def parse_poll(self, response: httpx.Response) -> TaskStatus:
        body = self._body(response)
        data: dict[str, Any] = body["data"] if isinstance(body.get("data"), dict) else body
        raw = _status_of(data)
        if raw is None and data is not body:
            raw, data = _status_of(body), body  # the task itself at the top level
        if raw is None:
            raise self.unexpected(response, "no status or state field found (looked in data and at top level)")
        state = self.map_state(raw, self._STATES, response)
        urls = tuple(dict.fromkeys(_video_urls(data)))
        if state is State.SUCCEEDED and not urls:
            raise self.unexpected(response, "status is completed but no video URL was found in the reply")
        code = message = None
        error = data.get("error")
        if isinstance(error, dict):
            code, message = error.get("code"), error.get("message")
        elif isinstance(error, str):
            message = error
        if state is State.FAILED and not message:
            message = data.get("message") or "generation failed"
        progress = data.get("progress")
        return TaskStatus(
            state=state,
            progress=number(progress),
            video_urls=urls,
            error_code=text(code),
            error_message=text(message),
            created_at=parse_time(data.get("created_at")),
            completed_at=parse_time(data.get("completed_at")),
            raw_status=str(raw),
        )


_VIDEO_SUFFIXES = (".mp4", ".webm", ".mov", ".m4v")
_RESULT_KEYS = ("output", "result", "results", "outputs", "video", "videos")


def _status_of(node: Mapping[str, Any]) -> Any:
    """The task status word of a reply object, if it has one."""
    raw = node.get("status")
    return raw if raw is not None else node.get("state")


def _video_urls(node: Any, under_result: bool = False, depth: int = 0,
                url_key: bool = False) -> Iterator[str]:
    """URL strings that look like results: in a *url* key (or a list under one) with a video
    suffix, or anywhere under an output/result object. Strings holding JSON (APIXO-style
    `resultJson`) are read as JSON."""
    if depth > 5:
        return
    if isinstance(node, Mapping):
        for key, value in node.items():
            key_l = str(key).lower()
            inside = under_result or key_l in _RESULT_KEYS or key_l.startswith("result")
            if isinstance(value, str) and value.lstrip().startswith(("{", "[")):
                try:
                    value = json.loads(value)
                except ValueError:
                    continue
            if isinstance(value, str):
                if _is_result_url(value, inside, "url" in key_l):
                    yield value
            else:
                yield from _video_urls(value, inside, depth + 1, "url" in key_l)
    elif isinstance(node, list):
        for item in node:
            if isinstance(item, str):
                if _is_result_url(item, under_result, url_key):
                    yield item
            else:
                yield from _video_urls(item, under_result, depth + 1, url_key)


def _is_result_url(text: str, under_result: bool, url_key: bool) -> bool:
    return _looks_like_url(text) and (
        under_result or (url_key and text.lower().split("?")[0].endswith(_VIDEO_SUFFIXES)))


def _looks_like_url(text: str) -> bool:
    return text.startswith(("https://", "http://"))
