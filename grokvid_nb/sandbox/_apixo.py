"""APIXO emulation (``https://api.apixo.ai``), ``Authorization: Bearer``.

- ``POST /api/v1/generateTask/grok-video`` ``{"request_type": "async"|"callback",
  "callback_url"?, "input": {mode, prompt, duration, resolution, aspect_ratio?, style?,
  image_urls? | task_id + index?}}`` -> ``{"code": 200, "message": "success",
  "data": {"taskId": "task_..."}}``. Callback mode is validated (public https URL) but
  no callback is delivered: the sandbox never calls out.
- ``GET /api/v1/statusTask/grok-video?taskId=...`` -> ``data.state`` ``processing`` |
  ``success`` (``resultJson`` is a JSON *string* ``{"resultUrls": [...]}``, ``completeTime``,
  ``costTime``) | ``failed`` (``failCode``, ``failMsg``, ``completeTime``); times in ms.

Validation follows the seed's table: mode text-to-video|image-to-video; prompt 1-5000
characters; duration an integer or integer string, 6-30; resolution 480p/720p after
trimming and lower-casing; aspect_ratio 1:1 3:2 2:3 16:9 9:16 (default 3:2 for text,
16:9 for image); style fun/normal/spicy (default normal); image-to-video needs exactly
one source: ``image_urls`` (an array of at most 1 non-empty string) or ``task_id`` with
``index`` 0-5 (any non-empty ``task_id`` is taken as a finished grok-image task).

Errors: HTTP status + ``{"code": <same int>, "message": "..."}`` (400, 401, 404, 429,
500, 503). Unknown ``taskId`` -> 404.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ._base import Emulator, cdn_url
from ._core import Invalid, Task, TaskSpec
from ._validate import choice, integer, is_public_url, string, string_list

__all__ = ["ApixoEmulator"]

MODES = ("text-to-video", "image-to-video")
ASPECT_RATIOS = ("1:1", "3:2", "2:3", "16:9", "9:16")
RESOLUTIONS = ("480p", "720p")
STYLES = ("fun", "normal", "spicy")
PRICE_PER_SECOND = {"480p": 0.015, "720p": 0.03}


class ApixoEmulator(Emulator):
    """The APIXO grok-video endpoints."""

    name = "apixo"
    failure_catalog = {
        "moderation": ("SensitiveContent", "Content violates provider policy, please adjust the prompt"),
        "timeout": ("Timeout", "Provider timeout, please retry later"),
        "internal": ("InternalError", "Provider or APIXO service was temporarily unavailable"),
        "charged": ("GenerationFailed", "Generation failed"),
    }
    status_path = ("data", "state")

    def routes(self) -> list[BaseRoute]:
        """Submit and poll routes."""
        return [
            Route("/api/v1/generateTask/grok-video", self.submit, methods=["POST"]),
            Route("/api/v1/statusTask/grok-video", self.poll, methods=["GET"]),
        ]

    def error(self, status: int, message: str, code: str | None = None) -> Response:
        """``{"code": <status>, "message": ...}`` with the same HTTP status."""
        return JSONResponse({"code": status, "message": message}, status_code=status)

    def unauthorized(self, missing: bool) -> Response:
        """401 for a missing or wrong key."""
        return self.error(401, "Missing API key" if missing else "Invalid API key")

    def not_found(self, task_id: str) -> Response:
        """404 for an unknown taskId."""
        return self.error(404, f"Task not found: {task_id}")

    def _build(self, body: dict[str, Any]) -> TaskSpec:
        request_type = choice(body, "request_type", ("async", "callback"), default="async")
        if request_type == "callback":
            url = body.get("callback_url")
            if not isinstance(url, str) or not url.lower().startswith("https://") or not is_public_url(url):
                raise Invalid("callback_url must be a public HTTPS URL when request_type is callback")
        data = body.get("input")
        if not isinstance(data, dict):
            raise Invalid("input is required and must be an object")
        mode = choice(data, "mode", MODES, label="input.mode", required=True)
        prompt = string(data, "prompt", label="input.prompt", max_len=5000)
        duration = integer(data, "duration", label="input.duration", low=6, high=30, int_strings=True, required=True)
        resolution = choice(data, "resolution", RESOLUTIONS, label="input.resolution", required=True, normalize=True)
        aspect = choice(
            data, "aspect_ratio", ASPECT_RATIOS, label="input.aspect_ratio",
            default="3:2" if mode == "text-to-video" else "16:9",
        )  # fmt: skip
        style = choice(data, "style", STYLES, label="input.style", default="normal")
        params: dict[str, Any] = {"style": style, "request_type": request_type}
        if mode == "image-to-video":
            urls = string_list(data, "image_urls", label="input.image_urls", max_items=1)
            has_task = data.get("task_id") is not None
            if urls and has_task:
                raise Invalid("Use exactly one image source: input.image_urls or input.task_id with input.index")
            if has_task:
                params["task_id"] = string(data, "task_id", label="input.task_id")
                params["index"] = integer(data, "index", label="input.index", low=0, high=5, required=True)
            elif urls:
                params["image_urls"] = urls
            else:
                raise Invalid("image-to-video needs input.image_urls or input.task_id with input.index")
        assert mode and prompt and duration is not None and resolution and aspect
        return TaskSpec(
            "grok-video", mode, prompt, duration, aspect, resolution,
            cost_usd=duration * PRICE_PER_SECOND[resolution], params=params,
        )  # fmt: skip

    @staticmethod
    def _new_id(spec: TaskSpec) -> str:
        return f"task_{secrets.token_hex(12)}"

    def _reply(self, request: Request, task: Task) -> Response:
        return JSONResponse({"code": 200, "message": "success", "data": {"taskId": task.task_id}})

    async def submit(self, request: Request) -> Response:
        """``POST /api/v1/generateTask/grok-video``."""
        return await self.handle_submit(request, self._build, self._new_id, self._reply)

    def _render(self, request: Request, task: Task, now: float) -> Response:
        data: dict[str, Any] = {"taskId": task.task_id, "createTime": int(task.created_at * 1000)}
        if task.phase(now) != "finished":
            data["state"] = "processing"
        elif task.outcome == "success":
            urls = [cdn_url(request, task)]
            data["state"] = "success"
            data["resultJson"] = json.dumps({"resultUrls": urls}, separators=(",", ":"))
            data["completeTime"] = int(task.finished_at * 1000)
            data["costTime"] = int(round(task.latency * 1000))
        else:  # APIXO has no "expired": anything else is a failure
            code, message = self.failure(task)
            data.update(state="failed", failCode=code, failMsg=message, completeTime=int(task.finished_at * 1000))
        return JSONResponse({"code": 200, "message": "success", "data": data})

    async def poll(self, request: Request) -> Response:
        """``GET /api/v1/statusTask/grok-video?taskId=...``."""
        return await self.handle_poll(request, request.query_params.get("taskId"), self._render)
