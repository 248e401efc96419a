"""API in One emulation (``https://apiin.one``), ``Authorization: Bearer``.

- ``POST /api/v1/videos/generations`` ``{model, prompt, image_urls?}`` with model
  ``grok-imagine/text-to-video`` (the default when omitted) or
  ``grok-imagine/image-to-video``; the page's bare ``grok-video`` is accepted too and
  means image-to-video when ``image_urls`` is non-empty. Prompt: required for
  text-to-video, at most 5000 characters; image-to-video needs at least one URL.
  Reply: ``{"code": 200, "message": "success", "data": {"task_id": "n<...>_grokvid",
  "status": "IN_PROGRESS"}}``. Clips are 6 s, 16:9 (no duration/resolution parameters).
- ``GET /api/v1/tasks/{task_id}`` -> ``{"code": 200, "message": "success", "data": {...}}``.

The real page does not show a finished task, so the sandbox uses this shape (an
assumption, documented here and in the package docstring)::

    in progress: data = {task_id, model, status: "IN_PROGRESS", progress: 0-99,
                         created_at: <unix s>}
    completed:   data = {task_id, model, status: "completed", progress: 100,
                         created_at, completed_at: <unix s>, credits_used: 24,
                         output: {video_url: <url>, video_urls: [<url>]}}
    failed:      data = {task_id, model, status: "failed", progress: 100,
                         created_at, completed_at,
                         error: {code: <str>, message: <str>}}
    with a cover ([sandbox:thumbnail] / thumbnails=True):
                 output = {cover_url: <.jpg url>, video_url, video_urls}

``[sandbox:status=SUCCESS]`` etc. swap the status word for the common gateway vocabulary
(``SUCCESS``/``FAILURE``) or any other word.

Errors: ``{"error": {"code": <HTTP status int>, "message", "type"}}``.
"""

from __future__ import annotations

import secrets
import string as _string
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ._base import Emulator, cdn_url, cover_url
from ._core import Invalid, Task, TaskSpec
from ._validate import choice, string, string_list

__all__ = ["ApiInOneEmulator"]

TEXT_MODEL = "grok-imagine/text-to-video"
IMAGE_MODEL = "grok-imagine/image-to-video"
MODELS = (TEXT_MODEL, IMAGE_MODEL, "grok-video")
CLIP_SECONDS = 6
CREDITS_PER_VIDEO = 24
USD_PER_VIDEO = 0.048
_ERROR_TYPE = {
    400: "invalid_request",
    401: "authentication_error",
    402: "insufficient_credits",
    404: "not_found",
    429: "rate_limit_exceeded",
    500: "server_error",
    503: "service_unavailable",
}
_ID_CHARS = _string.ascii_lowercase + _string.digits


class ApiInOneEmulator(Emulator):
    """The API in One Grok Video endpoints."""

    name = "apiinone"
    failure_catalog = {
        "moderation": ("content_policy_violation", "Your request was rejected by the content safety system"),
        "timeout": ("generation_timeout", "The generation did not finish in time"),
        "internal": ("upstream_error", "The upstream provider returned an error"),
        "charged": ("generation_failed", "Video generation failed"),
    }
    status_path = ("data", "status")

    def routes(self) -> list[BaseRoute]:
        """Submit and poll routes."""
        return [
            Route("/api/v1/videos/generations", self.submit, methods=["POST"]),
            Route("/api/v1/tasks/{task_id}", self.poll, methods=["GET"]),
        ]

    def error(self, status: int, message: str, code: str | None = None) -> Response:
        """``{"error": {"code": <status>, "message", "type"}}``."""
        body = {"error": {"code": status, "message": message, "type": _ERROR_TYPE.get(status, "api_error")}}
        return JSONResponse(body, status_code=status)

    def unauthorized(self, missing: bool) -> Response:
        """401 for a missing or wrong key."""
        return self.error(401, "Missing API key" if missing else "Invalid API key")

    def not_found(self, task_id: str) -> Response:
        """404 for an unknown task id."""
        return self.error(404, f"Task not found: {task_id}")

    def _build(self, body: dict[str, Any]) -> TaskSpec:
        model = choice(body, "model", MODELS, default=TEXT_MODEL)
        images = string_list(body, "image_urls")
        if model == "grok-video":
            model = IMAGE_MODEL if images else TEXT_MODEL
        if model == IMAGE_MODEL:
            if not images:
                raise Invalid("image_urls is required for grok-imagine/image-to-video")
            prompt = string(body, "prompt", required=False, max_len=5000, default="")
        else:
            prompt = string(body, "prompt", max_len=5000)
        assert model is not None and prompt is not None
        mode = model.split("/", 1)[1]
        params = {"image_urls": images or []}
        return TaskSpec(model, mode, prompt, CLIP_SECONDS, "16:9", "720p", USD_PER_VIDEO, params)

    @staticmethod
    def _new_id(spec: TaskSpec) -> str:
        return "n" + "".join(secrets.choice(_ID_CHARS) for _ in range(12)) + "_grokvid"

    def _reply(self, request: Request, task: Task) -> Response:
        data = {"task_id": task.task_id, "status": "IN_PROGRESS"}
        return JSONResponse({"code": 200, "message": "success", "data": data})

    async def submit(self, request: Request) -> Response:
        """``POST /api/v1/videos/generations``."""
        return await self.handle_submit(request, self._build, self._new_id, self._reply)

    def _render(self, request: Request, task: Task, now: float) -> Response:
        data: dict[str, Any] = {
            "task_id": task.task_id,
            "model": task.spec.model,
            "status": "IN_PROGRESS",
            "progress": task.progress(now),
            "created_at": int(task.created_at),
        }
        if task.phase(now) == "finished":
            data["completed_at"] = int(task.finished_at)
            if task.outcome == "success":
                url = cdn_url(request, task)
                output: dict[str, Any] = {}
                if task.thumbnail:  # cover first: a reader taking the first URL gets the JPEG
                    output["cover_url"] = cover_url(request, task)
                output.update(video_url=url, video_urls=[url])
                data.update(status="completed", credits_used=CREDITS_PER_VIDEO, output=output)
            else:
                code, message = self.failure(task)
                data.update(status="failed", error={"code": code, "message": message})
        return JSONResponse({"code": 200, "message": "success", "data": data})

    async def poll(self, request: Request) -> Response:
        """``GET /api/v1/tasks/{task_id}``."""
        return await self.handle_poll(request, request.path_params["task_id"], self._render)
