"""API in One (https://apiin.one): `grok-imagine/text-to-video` and `.../image-to-video`.

Submit `POST /api/v1/videos/generations` `{model, prompt, image_urls?}`; reply
`{"code": 200, "data": {"task_id", "status": "IN_PROGRESS"}}`. Poll `GET /api/v1/tasks/{task_id}`
until `completed` or `failed`. The provider's page does not show a finished task's body, so
`parse_poll` looks for the status and video URLs tolerantly (top level or under `data`, URLs in
any `*url*` field ending in a video extension or under an output/result object) and says plainly
what it could not find. No duration, resolution or aspect ratio; a flat 24 credits (~$0.048).
The prompt is optional for image-to-video (the page: "required for text-to-video").

Picking the video: a finished body may carry a cover image beside the video
(`output: {cover_url: ....jpg, video_url: ....mp4}`), so image URLs (by extension, or under a
cover/thumbnail/poster/image key) are never taken as the video; a URL without an extension is
accepted under a video-ish key (`video_url`, `media`, ...) or inside an output/result object.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx

from .._secrets import Secret
from .._types import State, TaskStatus, VideoRequest
from ._adapter import Adapter
from ._reply import parse_time, path_segment, percent, text
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
                                       output_duration=_CLIP_SECONDS, price=_PRICE,
                                       prompt_required=False, note="prompt optional"),
        }, per_call_billing=True, note="24 credits (~$0.048) per video; no duration/resolution knobs"),
    }

    def build_submit(self, request: VideoRequest, base_url: str, key: Secret) -> httpx.Request:
        body: dict[str, Any] = {"model": f"grok-imagine/{request.mode}"}
        if request.prompt.strip() or request.mode == "text-to-video":
            body["prompt"] = request.prompt
        if "image_urls" in request.params:
            body["image_urls"] = list(request.params["image_urls"])
        return self.json_request("POST", self.url(base_url, "/api/v1/videos/generations"), key, body)

    def _body(self, response: httpx.Response) -> dict[str, Any]:
        body = self.read_object(response)
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

    # `IN_PROGRESS` belongs to a common gateway vocabulary (NOT_START, SUBMITTED, QUEUED,
    # IN_PROGRESS, SUCCESS, FAILURE; PROVIDERS.md additions), so those words are read too
    _STATES = {
        "in_progress": State.RUNNING, "processing": State.RUNNING, "running": State.RUNNING,
        "pending": State.QUEUED, "queued": State.QUEUED, "submitted": State.QUEUED,
        "not_start": State.QUEUED,
        "completed": State.SUCCEEDED, "succeeded": State.SUCCEEDED, "success": State.SUCCEEDED,
        "failed": State.FAILED, "failure": State.FAILED, "error": State.FAILED,
        "cancelled": State.FAILED,
    }
    failure_billing_note = "not documented; a video costs 24 credits (~$0.048)"

    def parse_poll(self, response: httpx.Response) -> TaskStatus:
        body = self._body(response)
        data: dict[str, Any] = body["data"] if isinstance(body.get("data"), dict) else body
        raw = _status_of(data)
        if raw is None and data is not body:
            raw, data = _status_of(body), body  # the task itself at the top level
        if raw is None:
            raise self.unexpected(response, "no status or state field found (looked in data and at top level)")
        urls = video_urls(data)
        state = self.state_of(raw, self._STATES)
        if state is None:
            status = self.unknown_word(response, raw, self._STATES)
            return replace(status, video_urls=urls) if urls else status
        if state is State.SUCCEEDED and not urls:
            return self.unrecognised(response, "status is completed but no video URL was found in the reply",
                                     raw, state=State.UNKNOWN)
        code = message = None
        error = data.get("error")
        if isinstance(error, dict):
            code, message = text(error.get("code")), text(error.get("message"))
        elif isinstance(error, str):
            message = error
        if state is State.FAILED:
            code, message = self.failure(code, message or text(data.get("message")) or "generation failed")
        progress = data.get("progress")
        return TaskStatus(
            state=state,
            progress=percent(progress),
            video_urls=urls,
            error_code=text(code),
            error_message=text(message),
            created_at=parse_time(data.get("created_at")),
            completed_at=parse_time(data.get("completed_at")),
            raw_status=text(raw),
        )


_VIDEO_SUFFIXES = (".mp4", ".webm", ".mov", ".m4v")
_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".avif", ".heic")
_RESULT_KEYS = ("output", "result", "results", "outputs", "video", "videos")
_IMAGE_KEYS = ("cover", "thumb", "poster", "image", "preview", "snapshot", "frame")
_VIDEO_KEYS = ("video", "media", "mp4")


def _status_of(node: Mapping[str, Any]) -> Any:
    """The task status word of a reply object, if it has one."""
    raw = node.get("status")
    return raw if raw is not None else node.get("state")


def video_urls(node: Any) -> tuple[str, ...]:
    """The video URLs of a finished reply, surest first: a video extension or a video-ish key
    (a URL without extension is accepted there), then URLs under an output/result object.
    Image URLs (by extension or by a cover/thumbnail/... key) are never taken. Pure."""
    strong: list[str] = []
    weak: list[str] = []
    for url, keys in _url_strings(node, ()):
        path = urlsplit(url).path.lower()
        if path.endswith(_IMAGE_SUFFIXES) or any(bit in k for k in keys for bit in _IMAGE_KEYS):
            continue
        if path.endswith(_VIDEO_SUFFIXES) or any(bit in k for k in keys for bit in _VIDEO_KEYS):
            strong.append(url)
        elif _under_result(keys):
            weak.append(url)
    return tuple(dict.fromkeys(strong + weak))


def _under_result(keys: tuple[str, ...]) -> bool:
    return any(k in _RESULT_KEYS or k.startswith("result") for k in keys)


def _url_strings(node: Any, keys: tuple[str, ...], depth: int = 0) -> Iterator[tuple[str, tuple[str, ...]]]:
    """Every http(s) URL string in `node` with the (lower-cased) keys on its path. Strings
    holding JSON (APIXO-style `resultJson`) are read as JSON."""
    if depth > 6:
        return
    if isinstance(node, str):
        value = node.strip()
        if value.startswith(("{", "[")):
            try:
                parsed = json.loads(value)
            except (ValueError, RecursionError):
                return
            yield from _url_strings(parsed, keys, depth + 1)
        elif value.lower().startswith(("https://", "http://")):
            yield value, keys
    elif isinstance(node, Mapping):
        for key, value in node.items():
            yield from _url_strings(value, (*keys, str(key).lower()), depth + 1)
    elif isinstance(node, list):
        for item in node:
            yield from _url_strings(item, keys, depth + 1)
