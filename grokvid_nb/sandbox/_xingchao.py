"""XingChaoYiQing emulation (base URL is configuration), ``Authorization: Bearer``.

- ``POST /v1/grok/videos`` ``{model, prompt, duration?, aspect_ratio?, resolution?,
  image_urls?}`` -> ``{id: "video_<uuid>", object: "video", created, created_at, model,
  status: "queued", error: null}``.
- ``GET /v1/result/{id}`` -> ``{id, object: "video", created, model, status, video_url,
  error}`` with status ``queued`` -> ``processing`` -> ``completed`` (``video_url`` set,
  ``actualDuration`` seconds) | ``failed`` (``error`` is a message string). ``video_url``
  and ``error`` are null until then.

Model rules (seed table): ``grok_video3`` 6-30 s (default 10), 16:9 9:16 1:1 3:2 2:3,
480p/720p, up to 7 images (URLs or base64); ``grok_video3_pro`` fixed 10 s (any other
duration is refused), 16:9 only, 720p only, up to 7 images; ``grok_video3_max`` 6/10/12/
16/20/30 s, 16:9 9:16 1:1, up to 5 public http(s) URLs; ``grok_video3_stable`` a fixed
10 s at 720p (the provider's current page; the seed said 6 or 10 s at 480p/720p), 16:9 9:16
3:2 2:3 1:1, up to 7 public http(s) URLs. Defaults: 10 s, 16:9, 720p. Job times follow
the pages: :func:`documented_latency`.

Errors are OpenAI-style: ``{"error": {"message", "type", "code"}}``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ._base import Emulator, cdn_url
from ._core import Task, TaskSpec
from ._validate import choice, integer, string, string_list

__all__ = ["XingchaoEmulator"]


@dataclass(frozen=True)
class _ModelRule:
    durations: tuple[int, ...] | range
    ratios: tuple[str, ...]
    resolutions: tuple[str, ...]
    max_images: int
    public_urls_only: bool


MODELS: dict[str, _ModelRule] = {
    "grok_video3": _ModelRule(range(6, 31), ("16:9", "9:16", "1:1", "3:2", "2:3"), ("480p", "720p"), 7, False),
    "grok_video3_pro": _ModelRule((10,), ("16:9",), ("720p",), 7, False),
    "grok_video3_max": _ModelRule((6, 10, 12, 16, 20, 30), ("16:9", "9:16", "1:1"), ("480p", "720p"), 5, True),
    # The provider's current page (docs.xingchaoyiqing.com/api-reference/video/grok-create,
    # 2026-11) says grok_video3_stable is a fixed 10 s at 720p only; the older seed page said
    # 6 or 10 s at 480p/720p. The newer public page wins (PROVIDERS.md additions).
    "grok_video3_stable": _ModelRule((10,), ("16:9", "9:16", "3:2", "2:3", "1:1"), ("720p",), 7, True),
}


def documented_latency(model: str, duration: float) -> tuple[float, float]:
    """The provider's stated job time in seconds for a model and clip length.

    From grok-create/grok-query (PROVIDERS.md additions): grok_video3 6-10 s clips take
    2-4 min and 20-30 s clips 4-8 min (linear in between); pro 3-6 min. Nothing is stated
    for max and stable: max follows grok_video3 by length, stable (fixed 10 s) is a 10 s
    grok_video3 clip.
    """
    if model == "grok_video3_pro":
        return 180.0, 360.0
    share = min(1.0, max(0.0, (duration - 10.0) / 10.0))
    return 120.0 + 120.0 * share, 240.0 + 240.0 * share

_ERROR_TYPE = {
    400: ("invalid_request_error", "invalid_parameter"),
    401: ("authentication_error", "invalid_api_key"),
    404: ("invalid_request_error", "task_not_found"),
    429: ("rate_limit_error", "rate_limit_exceeded"),
    500: ("server_error", "internal_error"),
    503: ("server_error", "service_unavailable"),
}


class XingchaoEmulator(Emulator):
    """The XingChaoYiQing Grok video endpoints."""

    name = "xingchao"
    failure_catalog = {
        "moderation": ("content_policy_violation", "The prompt or reference images violate the content policy"),
        "timeout": ("timeout", "Video generation timed out, please retry"),
        "internal": ("internal_error", "Upstream service error, please retry later"),
        "charged": ("generation_failed", "Video generation failed"),
    }

    def routes(self) -> list[BaseRoute]:
        """Submit and poll routes."""
        return [
            Route("/v1/grok/videos", self.submit, methods=["POST"]),
            Route("/v1/result/{task_id}", self.poll, methods=["GET"]),
        ]

    def error(self, status: int, message: str, code: str | None = None) -> Response:
        """``{"error": {"message", "type", "code"}}``."""
        kind, default_code = _ERROR_TYPE.get(status, ("api_error", "error"))
        body = {"error": {"message": message, "type": kind, "code": code or default_code}}
        return JSONResponse(body, status_code=status)

    def unauthorized(self, missing: bool) -> Response:
        """401 for a missing or wrong key."""
        message = "Missing Authorization header" if missing else "Invalid API key"
        return self.error(401, message, "missing_api_key" if missing else "invalid_api_key")

    def not_found(self, task_id: str) -> Response:
        """404 for an unknown id."""
        return self.error(404, f"Task {task_id} does not exist")

    def _build(self, body: dict[str, Any]) -> TaskSpec:
        model = choice(body, "model", tuple(MODELS), required=True)
        assert model is not None
        rule = MODELS[model]
        prompt = string(body, "prompt")
        if len(rule.durations) == 1:
            label = f"duration ({model} is fixed at {rule.durations[0]} s)"
        else:
            label = f"duration for {model}"
        if isinstance(rule.durations, range):
            low, high = rule.durations.start, rule.durations.stop - 1
            duration = integer(body, "duration", label=label, default=10, low=low, high=high)
        else:
            duration = integer(body, "duration", label=label, default=10, allowed=rule.durations)
        aspect = choice(body, "aspect_ratio", rule.ratios, label=f"aspect_ratio for {model}", default="16:9")
        resolution = choice(body, "resolution", rule.resolutions, label=f"resolution for {model}", default="720p")
        images = string_list(
            body, "image_urls", label=f"image_urls for {model}",
            max_items=rule.max_images, public_urls=rule.public_urls_only,
        )  # fmt: skip
        mode = "image-to-video" if images else "text-to-video"
        assert prompt is not None and duration is not None and aspect and resolution
        spec = TaskSpec(model, mode, prompt, duration, aspect, resolution, None, {"image_urls": images or []})
        spec.latency_range = documented_latency(model, duration)
        return spec

    @staticmethod
    def _new_id(spec: TaskSpec) -> str:
        return f"video_{uuid.uuid4()}"

    def _reply(self, request: Request, task: Task) -> Response:
        body = {
            "id": task.task_id,
            "object": "video",
            "created": int(task.created_at),
            "created_at": int(task.created_at),
            "model": task.spec.model,
            "status": "queued",
            "error": None,
        }
        return JSONResponse(body)

    async def submit(self, request: Request) -> Response:
        """``POST /v1/grok/videos``."""
        return await self.handle_submit(request, self._build, self._new_id, self._reply)

    def _render(self, request: Request, task: Task, now: float) -> Response:
        phase = task.phase(now)
        body: dict[str, Any] = {
            "id": task.task_id,
            "object": "video",
            "created": int(task.created_at),
            "model": task.spec.model,
            "status": phase,
            "video_url": None,
            "error": None,
        }
        if phase == "finished":
            if task.outcome == "success":
                body.update(status="completed", video_url=cdn_url(request, task), actualDuration=task.spec.duration)
            else:
                body.update(status="failed", error=self.failure(task)[1])
        return JSONResponse(body)

    async def poll(self, request: Request) -> Response:
        """``GET /v1/result/{id}``."""
        return await self.handle_poll(request, request.path_params["task_id"], self._render)
