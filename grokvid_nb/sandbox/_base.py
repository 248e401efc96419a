"""The shared state of one sandbox and the request pipeline every provider emulation uses.

Submit pipeline: count -> injected fault -> auth (401) -> rate limit (429) -> JSON and
validation (400, provider's error shape) -> create task -> ``lost_reply`` fault -> reply.
Poll pipeline: count -> injected fault -> auth -> optional rate limit -> lookup (404) ->
status reply computed from the clock.
"""

from __future__ import annotations

import json
import math
import random
import re
import time
from collections.abc import Callable
from email.utils import formatdate
from typing import Any, ClassVar

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute

from ._config import SandboxConfig
from ._core import (
    SURGE_GAP,
    Fault,
    FaultPlan,
    Invalid,
    RateLimiter,
    SandboxDrop,
    SandboxStats,
    Task,
    TaskSpec,
    draw_fate,
)

__all__ = ["CTX_KEY", "Emulator", "RequestContext", "SandboxState", "cdn_url", "cover_url", "drop"]

CTX_KEY = "grokvid.sandbox"
"""Key of the per-request :class:`RequestContext` in the ASGI scope."""

_NGINX_502 = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)
_MAINTENANCE_PAGE = (
    "<!DOCTYPE html><html><head><title>Service maintenance</title></head>"
    "<body><h1>We'll be back soon</h1><p>The service is undergoing maintenance.</p></body></html>"
)
_CDN_PATH = re.compile(r"/cdn/(?P<provider>[a-z]+)/(?P<task_id>[^/?#.]+)(?:\.mp4)?(?:[?#].*)?$")


class RequestContext:
    """Per-request flags shared between a route and the app's outer wrapper."""

    def __init__(self) -> None:
        self.drop = False
        #: the request's last body message (``more_body`` false) or a disconnect has arrived
        self.request_read = False


def drop(request: Request) -> Response:
    """Make the outer wrapper drop the connection instead of replying."""
    ctx = request.scope.get(CTX_KEY)
    if not isinstance(ctx, RequestContext):
        raise SandboxDrop("connection dropped by an injected fault")
    ctx.drop = True
    return Response(status_code=500)  # never sent: the wrapper swallows it


def cdn_url(request: Request, task: Task) -> str:
    """The URL a finished task's clip is served at, on the request's own base URL."""
    suffix = "" if task.url_style == "noext" else ".mp4"
    return f"{str(request.base_url).rstrip('/')}/cdn/{task.provider}/{task.task_id}{suffix}"


def cover_url(request: Request, task: Task) -> str:
    """The URL of a finished task's JPEG cover (its clip's first frame)."""
    return f"{str(request.base_url).rstrip('/')}/cdn/{task.provider}/{task.task_id}.jpg"


class SandboxState:
    """Everything the emulations share: config, seeded RNG, tasks, stats, faults, limits."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.rng = random.Random(config.seed)
        # The newer latency families draw here, so the main sequence stays what it was.
        self.extra_rng = random.Random(None if config.seed is None else f"{config.seed}/families")
        self._bursts: dict[str, tuple[float, int]] = {}
        self._samples: dict[tuple[str, str], int] = {}
        self.tasks: dict[tuple[str, str], Task] = {}
        self.stats = SandboxStats()
        self.faults = FaultPlan()
        self.limiter = RateLimiter()

    def now(self) -> float:
        """The injected clock's current time."""
        return self.config.clock()

    def _burst_index(self, provider: str, now: float) -> int:
        """How many submits to ``provider`` came just before this one in the same burst."""
        last, index = self._bursts.get(provider, (-math.inf, -1))
        index = index + 1 if now - last <= SURGE_GAP * self.config.time_scale else 0
        self._bursts[provider] = (now, index)
        return index

    def create_task(self, provider: str, task_id: str, spec: TaskSpec, api_key: str | None) -> Task:
        """Create a task, deciding its latency and outcome now."""
        profile = self.config.profile(provider)
        now = self.now()
        fate = draw_fate(
            self.rng, profile, spec.prompt, self.config.time_scale, spec.duration, spec.resolution,
            extra_rng=self.extra_rng, burst_index=self._burst_index(provider, now),
            latency_range=spec.latency_range,
        )  # fmt: skip
        magic = fate.magic
        status_word = magic.status_word
        if status_word is None and profile.status_word and self.extra_rng.random() < profile.status_word_rate:
            status_word = profile.status_word
        ttl = magic.ttl if magic.ttl is not None else (
            profile.result_ttl if profile.result_ttl is not None else self.config.result_ttl)  # fmt: skip
        task = Task(
            provider=provider,
            task_id=task_id,
            spec=spec,
            created_at=now,
            latency=fate.latency,
            queue_time=fate.queue_time,
            outcome=fate.outcome,
            fail_kind=fate.fail,
            api_key=api_key,
            progress_model=magic.progress_model or profile.progress_model,
            status_word=status_word,
            thumbnail=magic.thumbnail or profile.thumbnails,
            url_style=magic.url_style or profile.url_style,
            result_ttl=None if ttl is None else ttl * self.config.time_scale,
            moderation_url=magic.moderation_url,
            sample=self._samples.get((provider, spec.prompt), 0),
        )
        self._samples[(provider, spec.prompt)] = task.sample + 1
        self.tasks[(provider, task_id)] = task
        self.stats.tasks_created[provider] += 1
        self.stats.tasks.append(task)
        return task

    def find(self, provider: str, task_id: str) -> Task | None:
        """The task with this id at this provider, if any."""
        return self.tasks.get((provider, task_id))

    def find_by_url(self, url: str) -> Task | None:
        """The task whose sandbox CDN URL this is (any host), if any."""
        match = _CDN_PATH.search(url or "")
        if match is None:
            return None
        return self.find(match["provider"], match["task_id"])

    def result_expired(self, task: Task, now: float) -> bool:
        """Whether the task's result URL has outlived its time to live."""
        return task.result_ttl is not None and now > task.finished_at + task.result_ttl


class Emulator:
    """Base of one provider's emulation: its routes, error shape and auth scheme."""

    name: ClassVar[str]
    failure_catalog: ClassVar[dict[str, tuple[str, str]]] = {}
    """Failure kind -> (provider code, message)."""
    status_path: ClassVar[tuple[str, ...]] = ("status",)
    """Where the status word sits in a poll reply (for ``[sandbox:status=WORD]``)."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state

    # -- to provide per provider -----------------------------------------------------

    def routes(self) -> list[BaseRoute]:
        """Starlette routes of this provider."""
        raise NotImplementedError

    def error(self, status: int, message: str, code: str | None = None) -> Response:
        """An error reply in the provider's own shape."""
        raise NotImplementedError

    def credentials(self, request: Request) -> str | None:
        """The API key carried by the request, or ``None``; Bearer by default."""
        match = re.fullmatch(r"\s*bearer\s+(\S+)\s*", request.headers.get("authorization", ""), re.I)
        return match.group(1) if match else None

    def unauthorized(self, missing: bool) -> Response:
        """The 401 reply for a missing (``missing=True``) or wrong key."""
        return self.error(401, "Missing API key" if missing else "Invalid API key")

    def not_found(self, task_id: str) -> Response:
        """The reply for an unknown task id."""
        return self.error(404, f"Task {task_id} not found")

    def charged(self, task: Task) -> bool:
        """Whether the provider bills this finished task (success by default)."""
        return task.outcome == "success"

    # -- shared helpers ---------------------------------------------------------------

    def with_status_word(self, response: Response, task: Task, now: float) -> Response:
        """Swap the terminal status word for ``task.status_word`` (an unknown word)."""
        if task.status_word is None or task.phase(now) != "finished" or not isinstance(response, JSONResponse):
            return response
        body = json.loads(bytes(response.body))
        node = body
        for key in self.status_path[:-1]:
            node = node[key]
        node[self.status_path[-1]] = task.status_word
        return JSONResponse(body, status_code=response.status_code)

    def failure(self, task: Task) -> tuple[str, str]:
        """``(code, message)`` of a failed task; a literal code passes through."""
        # Only xAI has an "expired" state; elsewhere an expiry surfaces as a timeout.
        fail = task.fail_kind or ("timeout" if task.outcome == "expired" else "moderation")
        if fail in self.failure_catalog:
            return self.failure_catalog[fail]
        return fail, f"Generation failed ({fail})"

    def fault_response(self, request: Request, fault: Fault, provider: str | None = None) -> Response:
        """The reply that realises an injected fault (counted under ``provider``)."""
        self.state.stats.faults[(provider or self.name, fault.phase, fault.kind)] += 1
        kind = fault.kind
        if kind in ("drop", "lost_reply"):
            return drop(request)
        if kind == "429":
            response = self.error(429, "Too many requests, please slow down")
            response.headers["Retry-After"] = str(fault.retry_after)
            return response
        if kind == "429-date":
            response = self.error(429, "Too many requests, please slow down")
            # HTTP-dates have whole-second resolution: round up so the wait is never short.
            when = math.ceil(time.time()) + fault.retry_after
            response.headers["Retry-After"] = formatdate(when, usegmt=True)
            return response
        if kind == "502":
            return HTMLResponse(_NGINX_502, status_code=502)
        if kind == "non_json":
            return HTMLResponse(_MAINTENANCE_PAGE, status_code=200)
        status = int(kind)
        message = "Internal server error" if status == 500 else "Service temporarily unavailable"
        return self.error(status, message)

    def authenticate(self, request: Request) -> tuple[str, None] | tuple[None, Response]:
        """``(key, None)`` when the request may proceed, else ``(None, 401 reply)``."""
        key = self.credentials(request)
        if key is None:
            return None, self.unauthorized(missing=True)
        expected = self.state.config.api_keys.get(self.name)
        if expected is not None and key != expected:
            return None, self.unauthorized(missing=False)
        return key, None

    def rate_limit(self, key: str, is_poll: bool) -> Response | None:
        """A 429 reply when the provider's rate limit refuses this request."""
        limit = self.state.config.profile(self.name).rate_limit
        if limit is None or (is_poll and not limit.count_polls):
            return None
        scale = self.state.config.time_scale if self.state.config.scale_rate_limits else 1.0
        wait = self.state.limiter.check(self.name, key, limit, self.state.now(), scale)
        if wait is None:
            return None
        self.state.stats.rate_limited[self.name] += 1
        seconds = max(1, math.ceil(wait))
        response = self.error(429, f"Rate limit exceeded, retry in {seconds} s")
        response.headers["Retry-After"] = str(seconds)
        return response

    async def read_json(self, request: Request) -> dict[str, Any]:
        """The body as a JSON object, or :class:`Invalid`."""
        raw = await request.body()
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise Invalid("Request body is not valid JSON") from None
        if not isinstance(body, dict):
            raise Invalid("Request body must be a JSON object")
        return body

    async def handle_submit(
        self,
        request: Request,
        build: Callable[[dict[str, Any]], TaskSpec],
        new_id: Callable[[TaskSpec], str],
        reply: Callable[[Request, Task], Response],
    ) -> Response:
        """Run the submit pipeline (see the module docstring)."""
        state = self.state
        state.stats.submits[self.name] += 1
        fault = state.faults.take(self.name, "submit")
        if fault is not None:
            return self.fault_response(request, fault)
        key, denied = self.authenticate(request)
        if key is None:
            state.stats.rejected[self.name] += 1
            return denied or self.unauthorized(missing=True)
        limited = self.rate_limit(key, is_poll=False)
        if limited is not None:
            return limited
        try:
            spec = build(await self.read_json(request))
        except Invalid as exc:
            state.stats.rejected[self.name] += 1
            return self.error(exc.status, exc.message, exc.code)
        task = state.create_task(self.name, new_id(spec), spec, key)
        response = reply(request, task)
        lost = state.faults.take(self.name, "submit", lost_reply=True)
        if lost is not None:
            task.reply_lost = True
            return self.fault_response(request, lost)
        return response

    async def handle_poll(
        self,
        request: Request,
        task_id: str | None,
        render: Callable[[Request, Task, float], Response],
    ) -> Response:
        """Run the poll pipeline (see the module docstring)."""
        state = self.state
        state.stats.polls[self.name] += 1
        fault = state.faults.take(self.name, "poll")
        if fault is not None:
            return self.fault_response(request, fault)
        key, denied = self.authenticate(request)
        if key is None:
            return denied or self.unauthorized(missing=True)
        limited = self.rate_limit(key, is_poll=True)
        if limited is not None:
            return limited
        if not task_id:
            return self.error(400, "Missing task id")
        task = state.find(self.name, task_id)
        # Another key's task looks exactly like an unknown one, as at a real provider.
        if task is None or task.api_key != key:
            return self.not_found(task_id)
        now = state.now()
        return self.with_status_word(render(request, task, now), task, now)
