"""xAI direct API emulation (``https://api.x.ai``), ``Authorization: Bearer``.

- ``POST /v1/videos/generations`` ``{model?, prompt, duration?, resolution?, aspect_ratio?,
  image?: {url}, reference_images?: [{url}]}`` -> ``{"request_id": uuid}``. Duration 1-15 s,
  at most 10 s with reference images (docs.x.ai reference-to-video page). Models:
  ``grok-imagine-video`` (default) and ``grok-imagine-video-1.5-preview`` (image-to-video
  only). Image and video sources are public http(s) URLs or base64 data URIs
  (``data:image/...`` / ``data:video/...``).
- ``POST /v1/videos/edits`` ``{model, prompt, video: {url}}`` (``video_url`` also accepted);
  the output keeps the source's length when the source is a sandbox clip (which must
  then be at most 8.7 s), else 6 s.
- ``POST /v1/videos/extensions`` ``{model, prompt, video: {url}, duration?}`` (also
  ``video_url``, or ``request_id`` of an earlier sandbox xAI task); extension 2-10 s
  (default 6), source 2-15 s when known; the result is source + extension long, and
  only the extension is billed.
- ``GET /v1/videos/{request_id}``: ``pending`` (progress 0) -> ``processing`` (progress
  1-99) -> ``done`` ``{video: {url, duration, respect_moderation}, model, progress: 100,
  usage: {cost_in_usd_ticks}}`` | ``failed`` (HTTP 200, ``error: {code, message}``) |
  ``expired``. A moderated job is ``done`` with ``url`` null (or absent) and
  ``respect_moderation: false``, and its cost is reported.

Errors: ``{"code": "<canonical status text>", "error": "<message>"}`` with 400, 401,
404, 429, 500, 503. Cost: $0.05/s at 480p, $0.07/s at 720p (preview: $0.08/$0.14), plus
$0.002 per input image ($0.01 for preview) and $0.01/s of input video; 1 USD = 10^10 ticks.
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ._base import Emulator, cdn_url
from ._core import Invalid, Task, TaskSpec
from ._validate import choice, integer, is_public_url, string

__all__ = ["XaiEmulator"]

MODELS = ("grok-imagine-video", "grok-imagine-video-1.5-preview")
"""Public model ids. ``grok-imagine-video-1.5-preview`` is image-to-video only (several independent
pages, 2026-06); nothing public describes a ``-1.5`` or ``-1.5-lite`` id, so both are refused
(PROVIDERS.md additions, 2026-11-30)."""
DEFAULT_MODEL = "grok-imagine-video"
PREVIEW_MODEL = "grok-imagine-video-1.5-preview"
ASPECT_RATIOS = ("16:9", "9:16", "1:1", "4:3", "3:4", "3:2", "2:3")
RESOLUTIONS = ("480p", "720p")
PRICE_PER_SECOND = {"480p": 0.05, "720p": 0.07}
PREVIEW_PRICE_PER_SECOND = {"480p": 0.08, "720p": 0.14}
INPUT_IMAGE_USD = {DEFAULT_MODEL: 0.002, PREVIEW_MODEL: 0.01}
"""Per input image; the finished reply's reported cost includes it (docs.x.ai pricing)."""
INPUT_VIDEO_USD_PER_SECOND = 0.01
MAX_REFERENCE_S = 10
"""docs.x.ai/developers/model-capabilities/video/reference-to-video: "The maximum duration
allowed when using reference images is 10 seconds" (newer than seed 003's 1-15 s for all modes)."""
TICKS_PER_USD = 10_000_000_000
MAX_EDIT_INPUT_S = 8.7

_STATUS_TEXT = {
    400: "Client specified an invalid argument",
    401: "The request does not have valid authentication credentials",
    403: "The caller does not have permission to execute the specified operation",
    404: "Some requested entity was not found",
    429: "Some resource has been exhausted",
    500: "Internal error",
    503: "The service is currently unavailable",
}


_DATA_URI = re.compile(r"data:(?P<mime>[\w.+-]+/[\w.+-]+);base64,(?P<data>.*)", re.S | re.I)


def _source_url(url: str, label: str, kind: str) -> str:
    """A public URL, or a base64 data URI of the right media ``kind`` ("image"/"video")."""
    if url.lower().startswith("data:"):
        match = _DATA_URI.fullmatch(url.strip())
        if match is None or not match["mime"].lower().startswith(kind + "/"):
            raise Invalid(f"{label} must be a base64 data URI of type {kind}/* (data:{kind}/...;base64,...)")
        try:
            decoded = base64.b64decode(match["data"], validate=True)
        except (binascii.Error, ValueError):
            raise Invalid(f"{label} is not valid base64") from None
        if not decoded:
            raise Invalid(f"{label} is empty")
        return url
    if not is_public_url(url):
        raise Invalid(f"{label} must be a public http(s) URL or a base64 data URI")
    return url


def _url_object(value: Any, label: str, kind: str = "image") -> str:
    """The ``url`` of an ``{"url": ...}`` object (a public URL or a base64 data URI)."""
    if not isinstance(value, dict) or not isinstance(value.get("url"), str) or not value["url"].strip():
        raise Invalid(f'{label} must be an object like {{"url": "https://..."}}')
    return _source_url(str(value["url"]), label, kind)


class XaiEmulator(Emulator):
    """The xAI video endpoints."""

    name = "xai"
    failure_catalog = {
        "moderation": ("content_moderated", "The request was rejected by content moderation."),
        "timeout": ("deadline_exceeded", "Video generation timed out."),
        "internal": ("internal_error", "An internal error occurred while generating the video."),
        "charged": ("internal_error", "Video generation failed."),
    }

    def charged(self, task: Task) -> bool:
        """Success and moderation are billed (the done reply reports the cost); failures not."""
        return task.outcome in ("success", "moderated")

    def routes(self) -> list[BaseRoute]:
        """Submit (three kinds) and poll routes."""
        return [
            Route("/v1/videos/generations", self.generations, methods=["POST"]),
            Route("/v1/videos/edits", self.edits, methods=["POST"]),
            Route("/v1/videos/extensions", self.extensions, methods=["POST"]),
            Route("/v1/videos/{request_id}", self.poll, methods=["GET"]),
        ]

    def error(self, status: int, message: str, code: str | None = None) -> Response:
        """``{"code": <status text>, "error": <message>}``."""
        text = code or _STATUS_TEXT.get(status, "Unknown error")
        return JSONResponse({"code": text, "error": message}, status_code=status)

    def unauthorized(self, missing: bool) -> Response:
        """401 for a missing or wrong key."""
        if missing:
            return self.error(401, "No API key provided. Send it as 'Authorization: Bearer <XAI_API_KEY>'.")
        return self.error(401, "Incorrect API key provided. You can obtain an API key from the xAI console.")

    def not_found(self, task_id: str) -> Response:
        """404 for an unknown request id."""
        return self.error(404, f"No video generation request found with id {task_id}")

    # -- submit -------------------------------------------------------------------------

    def _common(self, body: dict[str, Any], mode: str) -> tuple[str, str]:
        # ``model`` is optional on submit (docs.x.ai); it defaults to the base model.
        model = choice(body, "model", MODELS, default=DEFAULT_MODEL)
        prompt = string(body, "prompt")
        assert model is not None and prompt is not None
        if model == PREVIEW_MODEL and mode != "image-to-video":
            raise Invalid(f"Model {PREVIEW_MODEL} supports image-to-video only (send an image); got {mode}")
        return model, prompt

    def _build_generation(self, body: dict[str, Any]) -> TaskSpec:
        refs = body.get("reference_images")
        mode = "reference-to-video" if refs is not None else (
            "image-to-video" if body.get("image") is not None else "text-to-video")  # fmt: skip
        model, prompt = self._common(body, mode)
        high = MAX_REFERENCE_S if mode == "reference-to-video" else 15
        label = "duration (at most 10 s with reference images)" if mode == "reference-to-video" else "duration"
        duration = integer(body, "duration", label=label, default=6, low=1, high=high)
        resolution = choice(body, "resolution", RESOLUTIONS, default="480p")
        aspect = choice(body, "aspect_ratio", ASPECT_RATIOS, default="16:9")
        params: dict[str, Any] = {}
        images = 0
        if body.get("image") is not None:
            params["image_url"] = _url_object(body["image"], "image")
            images = 1
        if refs is not None:
            if not isinstance(refs, list) or not refs:
                raise Invalid("reference_images must be a non-empty array of {url} objects")
            if len(refs) > 7:
                raise Invalid(f"reference_images supports at most 7 images (got {len(refs)})")
            params["reference_image_urls"] = [_url_object(r, "reference_images[]") for r in refs]
            images = len(refs)
        assert duration is not None and resolution is not None and aspect is not None
        prices = PREVIEW_PRICE_PER_SECOND if model == PREVIEW_MODEL else PRICE_PER_SECOND
        cost = duration * prices[resolution] + images * INPUT_IMAGE_USD[model]
        return TaskSpec(model, mode, prompt, duration, aspect, resolution, cost_usd=cost, params=params)

    def _source(self, body: dict[str, Any], allow_request_id: bool) -> tuple[str, Task | None]:
        """The source video URL (or request id) and the sandbox task behind it, if any."""
        if body.get("video") is not None:
            url = _url_object(body["video"], "video", "video")
        elif body.get("video_url") is not None:
            if not isinstance(body["video_url"], str) or not body["video_url"].strip():
                raise Invalid("video_url must be a non-empty string")
            url = _source_url(body["video_url"], "video_url", "video")
        elif allow_request_id and isinstance(body.get("request_id"), str):
            task = self.state.find(self.name, body["request_id"])
            if task is None:
                raise Invalid(f"request_id {body['request_id']} does not name a finished video")
            return body["request_id"], task
        else:
            raise Invalid('video is required, as {"url": "https://..."}')
        return url, self.state.find_by_url(url)

    def _build_edit(self, body: dict[str, Any]) -> TaskSpec:
        model, prompt = self._common(body, "edit-video")
        url, source = self._source(body, allow_request_id=False)
        duration, aspect, resolution = 6.0, "16:9", "480p"
        if source is not None:
            duration = source.spec.duration
            aspect, resolution = source.spec.aspect_ratio, source.spec.resolution
            if duration > MAX_EDIT_INPUT_S:
                raise Invalid(f"Input video is {duration:g} s long; edits accept at most {MAX_EDIT_INPUT_S} s")
        return TaskSpec(
            model, "edit-video", prompt, duration, aspect, resolution,
            cost_usd=duration * (PRICE_PER_SECOND[resolution] + INPUT_VIDEO_USD_PER_SECOND),
            params={"video_url": url},
        )  # fmt: skip

    def _build_extension(self, body: dict[str, Any]) -> TaskSpec:
        model, prompt = self._common(body, "extend-video")
        extension = integer(body, "duration", default=6, low=2, high=10)
        assert extension is not None
        url, source = self._source(body, allow_request_id=True)
        total, aspect, resolution = float(extension), "16:9", "480p"
        input_seconds = 0.0
        if source is not None:
            input_seconds = source.spec.duration
            if not 2 <= source.spec.duration <= 15:
                raise Invalid(f"Input video is {source.spec.duration:g} s long; extensions need 2-15 s")
            total = source.spec.duration + extension
            aspect, resolution = source.spec.aspect_ratio, source.spec.resolution
        return TaskSpec(
            model, "extend-video", prompt, total, aspect, resolution,
            cost_usd=extension * PRICE_PER_SECOND[resolution] + input_seconds * INPUT_VIDEO_USD_PER_SECOND,
            params={"video": url, "extension": extension},
        )  # fmt: skip

    def _reply(self, request: Request, task: Task) -> Response:
        return JSONResponse({"request_id": task.task_id})

    @staticmethod
    def _new_id(spec: TaskSpec) -> str:
        return str(uuid.uuid4())

    async def generations(self, request: Request) -> Response:
        """``POST /v1/videos/generations``."""
        return await self.handle_submit(request, self._build_generation, self._new_id, self._reply)

    async def edits(self, request: Request) -> Response:
        """``POST /v1/videos/edits``."""
        return await self.handle_submit(request, self._build_edit, self._new_id, self._reply)

    async def extensions(self, request: Request) -> Response:
        """``POST /v1/videos/extensions``."""
        return await self.handle_submit(request, self._build_extension, self._new_id, self._reply)

    # -- poll -----------------------------------------------------------------------------

    def _render(self, request: Request, task: Task, now: float) -> Response:
        spec = task.spec
        phase = task.phase(now)
        if phase == "queued":
            return JSONResponse({"status": "pending", "model": spec.model, "progress": 0})
        if phase == "processing":
            return JSONResponse({"status": "processing", "model": spec.model, "progress": task.progress(now)})
        if task.outcome == "expired":
            return JSONResponse({"status": "expired", "model": spec.model})
        duration: int | float = int(spec.duration) if float(spec.duration).is_integer() else spec.duration
        ticks = round((spec.cost_usd or 0.0) * TICKS_PER_USD)
        if task.outcome == "moderated":
            # docs.x.ai / xai-sdk: moderation blocks the result but the job is "done";
            # the reply carries no URL and respect_moderation false. Billed (one reseller).
            video: dict[str, Any] = {"duration": duration, "respect_moderation": False}
            if task.moderation_url == "null":
                video = {"url": None, **video}
            return JSONResponse(
                {"status": "done", "video": video, "model": spec.model, "progress": 100,
                 "usage": {"cost_in_usd_ticks": ticks}}
            )  # fmt: skip
        if task.outcome == "failed":
            code, message = self.failure(task)
            return JSONResponse(
                {
                    "status": "failed",
                    "video": {"duration": 0, "respect_moderation": True},
                    "model": spec.model,
                    "progress": 100,
                    "error": {"code": code, "message": message},
                }
            )
        return JSONResponse(
            {
                "status": "done",
                "video": {"url": cdn_url(request, task), "duration": duration, "respect_moderation": True},
                "model": spec.model,
                "progress": 100,
                "usage": {"cost_in_usd_ticks": ticks},
            }
        )

    async def poll(self, request: Request) -> Response:
        """``GET /v1/videos/{request_id}``."""
        return await self.handle_poll(request, request.path_params["request_id"], self._render)
