"""Pixazo emulation (``https://gateway.pixazo.ai``), header ``Ocp-Apim-Subscription-Key``.

Five submit routes, ``POST /grok-imagine-video-{kind}/v1/grok-imagine-video-{kind}-request``
for ``kind`` in text-to-video, image-to-video, edit-video, reference-to-video and
v1-5-image-to-video (same parameters as image-to-video; no published price); each
answers HTTP 202 ``{request_id: "grok-imagine-video-{kind}_<uuid7>", status: "QUEUED",
polling_url: "<base>/v2/requests/status/<request_id>"}``.

Per-route parameters (seed tables):

- text-to-video: prompt; duration 3-10 (default 6); aspect_ratio 16:9 4:3 3:2 1:1 2:3
  3:4 9:16 (default 16:9); resolution 480p/720p (default 720p).
- image-to-video: prompt; image_url (required, http(s)); duration 3-10 (default 6);
  aspect_ratio adds ``auto`` (the default); resolution default 720p.
- edit-video: prompt; video_url (required); resolution auto/480p/720p (default auto).
  Output length: the source's when it is a sandbox clip, else 6 s.
- reference-to-video: prompt; reference_image_urls (1-7 http(s) URLs); duration 3-15
  (default 8); resolution default 480p.

``GET /v2/requests/status/{request_id}``: ``QUEUED`` -> ``PROCESSING`` -> ``COMPLETED``
(``output: {media_url: [url], media_type: "video/mp4"}``) | ``FAILED`` (moderation or a
charged failure; billed) | ``ERROR`` (system error: timeout, internal; not billed;
``error`` string, ``output`` null), with
``created_at`` in ISO-8601 (``...000Z``) and ``updated_at``/``completed_at`` as
``YYYY-MM-DD HH:MM:SS`` (UTC), mirroring the mixed formats in Pixazo's own samples.

Errors: ``{"error": "...", "message": "..."}``. The API-management gateway's own
401/429 replies also carry ``statusCode``. The key may also come as the
``subscription-key`` query parameter, as Azure API Management allows. An
``X-Webhook-URL`` header must be https (validated, never called).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ._base import Emulator, cdn_url
from ._core import Invalid, Task, TaskSpec, uuid7
from ._validate import choice, integer, is_public_url, string, string_list

__all__ = ["PixazoEmulator"]

KINDS = ("text-to-video", "image-to-video", "edit-video", "reference-to-video", "v1-5-image-to-video")
"""Route kinds; ``v1-5-image-to-video`` is the newer v1.5 route (PROVIDERS.md additions),
with the image-to-video parameters and no published price."""
ASPECT_RATIOS = ("16:9", "4:3", "3:2", "1:1", "2:3", "3:4", "9:16")
RESOLUTIONS = ("480p", "720p")
PRICE_PER_SECOND = {
    "edit-video": {"480p": 0.06, "720p": 0.08},
    "default": {"480p": 0.05, "720p": 0.07},
}
_HTTP_REASON = {
    400: "Bad Request",
    401: "Unauthorized",
    402: "Insufficient Balance",
    403: "Forbidden",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def _iso_ms(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _plain(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")


class PixazoEmulator(Emulator):
    """The Pixazo Grok Imagine Video routes and the universal status endpoint."""

    name = "pixazo"
    failure_catalog = {
        "moderation": ("FAILED", "Content moderation: the prompt or input was flagged by the safety system"),
        "timeout": ("ERROR", "Upstream model timed out"),
        "internal": ("ERROR", "Internal error while processing the request"),
        "charged": ("FAILED", "Video generation failed"),
    }

    def charged(self, task: Task) -> bool:
        """Only ``ERROR`` is "not charged" (PROVIDERS.md additions): ``FAILED`` is billed."""
        if task.outcome == "success":
            return True
        return task.outcome in ("failed", "moderated") and self._failed_status(task) == "FAILED"

    def _failed_status(self, task: Task) -> str:
        status = self.failure(task)[0]
        return status if status in ("FAILED", "ERROR") else "FAILED"

    def routes(self) -> list[BaseRoute]:
        """Four submit routes and the status route."""
        routes: list[BaseRoute] = [
            Route(
                f"/grok-imagine-video-{kind}/v1/grok-imagine-video-{kind}-request",
                self._submit_for(kind),
                methods=["POST"],
            )
            for kind in KINDS
        ]
        routes.append(Route("/v2/requests/status/{request_id}", self.poll, methods=["GET"]))
        return routes

    def error(self, status: int, message: str, code: str | None = None) -> Response:
        """``{"error": <reason>, "message": ...}``."""
        return JSONResponse({"error": code or _HTTP_REASON.get(status, "Error"), "message": message}, status)

    def _gateway_error(self, status: int, message: str) -> Response:
        body = {"statusCode": status, "error": _HTTP_REASON[status], "message": message}
        return JSONResponse(body, status_code=status)

    def credentials(self, request: Request) -> str | None:
        """``Ocp-Apim-Subscription-Key`` header, else ``subscription-key`` query parameter."""
        key = request.headers.get("ocp-apim-subscription-key") or request.query_params.get("subscription-key")
        return key.strip() if key and key.strip() else None

    def unauthorized(self, missing: bool) -> Response:
        """The API gateway's 401."""
        if missing:
            return self._gateway_error(
                401,
                "Access denied due to missing subscription key. "
                "Make sure to include subscription key when making requests to an API.",
            )
        return self._gateway_error(
            401,
            "Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription.",
        )

    def rate_limit(self, key: str, is_poll: bool) -> Response | None:
        """The gateway's 429 shape on top of the shared limiter."""
        response = super().rate_limit(key, is_poll)
        if response is None:
            return None
        retry = response.headers["Retry-After"]
        limited = self._gateway_error(429, f"Rate limit is exceeded. Try again in {retry} seconds.")
        limited.headers["Retry-After"] = retry
        return limited

    def not_found(self, task_id: str) -> Response:
        """404 for an unknown request id."""
        return self.error(404, f"Request '{task_id}' not found")

    # -- submit -------------------------------------------------------------------------

    def _build(self, kind: str, body: dict[str, Any]) -> TaskSpec:
        prompt = string(body, "prompt")
        params: dict[str, Any] = {}
        aspect: str | None
        duration: float | None
        if kind == "edit-video":
            video_url = string(body, "video_url")
            assert video_url is not None
            resolution = choice(body, "resolution", ("auto", *RESOLUTIONS), default="auto")
            source = self.state.find_by_url(video_url)
            duration = source.spec.duration if source else 6.0
            aspect = source.spec.aspect_ratio if source else "16:9"
            params["video_url"] = video_url
        else:
            if kind == "reference-to-video":
                duration = integer(body, "duration", default=8, low=3, high=15)
                params["reference_image_urls"] = string_list(
                    body, "reference_image_urls", min_items=1, max_items=7, public_urls=True
                )
            else:
                duration = integer(body, "duration", default=6, low=3, high=10)
            if kind in ("image-to-video", "v1-5-image-to-video"):
                image_url = string(body, "image_url")
                assert image_url is not None
                if not is_public_url(image_url):
                    raise Invalid("image_url must be a valid HTTP/HTTPS URL")
                params["image_url"] = image_url
                aspect = choice(body, "aspect_ratio", ("auto", *ASPECT_RATIOS), default="auto")
            else:
                aspect = choice(body, "aspect_ratio", ASPECT_RATIOS, default="16:9")
            default_res = "480p" if kind == "reference-to-video" else "720p"
            resolution = choice(body, "resolution", RESOLUTIONS, default=default_res)
        assert prompt is not None and duration is not None and resolution is not None and aspect is not None
        prices = PRICE_PER_SECOND.get(kind, PRICE_PER_SECOND["default"])
        # "auto" resolution is priced like 720p: the dearer of the two, so never under-estimated.
        cost: float | None = duration * prices.get(resolution, prices["720p"])
        mode = kind
        if kind == "v1-5-image-to-video":
            cost, mode = None, "image-to-video"
        return TaskSpec(f"grok-imagine-video-{kind}", mode, prompt, duration, aspect, resolution, cost, params)

    def _submit_for(self, kind: str) -> Callable[[Request], Awaitable[Response]]:
        async def submit(request: Request) -> Response:
            webhook = request.headers.get("x-webhook-url")
            if webhook is not None and not webhook.lower().startswith("https://"):
                self.state.stats.submits[self.name] += 1
                self.state.stats.rejected[self.name] += 1
                return self.error(400, "X-Webhook-URL must be an HTTPS URL")
            return await self.handle_submit(request, lambda body: self._build(kind, body), self._new_id, self._reply)

        submit.__name__ = f"submit_{kind.replace('-', '_')}"
        return submit

    @staticmethod
    def _new_id(spec: TaskSpec) -> str:
        return f"{spec.model}_{uuid7()}"

    def _reply(self, request: Request, task: Task) -> Response:
        base = str(request.base_url).rstrip("/")
        body = {
            "request_id": task.task_id,
            "status": "QUEUED",
            "polling_url": f"{base}/v2/requests/status/{task.task_id}",
        }
        return JSONResponse(body, status_code=202)

    # -- poll ---------------------------------------------------------------------------

    def _render(self, request: Request, task: Task, now: float) -> Response:
        phase = task.phase(now)
        body: dict[str, Any] = {
            "request_id": task.task_id,
            "status": "QUEUED",
            "model_id": task.spec.model,
            "error": None,
            "output": None,
            "created_at": _iso_ms(task.created_at),
            "updated_at": _plain(task.created_at),
            "completed_at": None,
        }
        if phase == "processing":
            body.update(status="PROCESSING", updated_at=_plain(task.created_at + task.queue_time))
        elif phase == "finished":
            done = _plain(task.finished_at)
            body.update(updated_at=done, completed_at=done)
            if task.outcome == "success":
                body["status"] = "COMPLETED"
                body["output"] = {"media_url": [cdn_url(request, task)], "media_type": "video/mp4"}
            else:
                # a literal code from [sandbox:fail=CODE] shows as FAILED
                body.update(status=self._failed_status(task), error=self.failure(task)[1])
        return JSONResponse(body)

    async def poll(self, request: Request) -> Response:
        """``GET /v2/requests/status/{request_id}``."""
        return await self.handle_poll(request, request.path_params["request_id"], self._render)
