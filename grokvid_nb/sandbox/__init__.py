"""The sandbox: all five Grok video providers emulated on one server, with real clips.

An independent implementation of each provider's documented wire format (it imports
nothing from the adapters, so it can catch their mistakes)::

    from grokvid_nb.sandbox import Sandbox, SandboxConfig
    sb = Sandbox(SandboxConfig(time_scale=0.01, seed=0))
    async with httpx.AsyncClient(transport=sb.transport(), base_url="http://sandbox") as c: ...
    with sb.serve(host="127.0.0.1", port=0) as base_url: ...     # uvicorn in a thread

or from a shell: ``python -m grokvid_nb.sandbox --host 127.0.0.1 --port 8765
[--time-scale 0.02] [--seed N]``.

Endpoints (root-relative; none collide)
---------------------------------------
- xai (Bearer): ``POST /v1/videos/generations``, ``/v1/videos/edits``,
  ``/v1/videos/extensions``; ``GET /v1/videos/{request_id}``.
- apixo (Bearer): ``POST /api/v1/generateTask/grok-video``;
  ``GET /api/v1/statusTask/grok-video?taskId=``.
- pixazo (``Ocp-Apim-Subscription-Key``): ``POST /grok-imagine-video-{kind}/v1/
  grok-imagine-video-{kind}-request``; ``GET /v2/requests/status/{request_id}``.
- xingchao (Bearer): ``POST /v1/grok/videos``; ``GET /v1/result/{id}``.
- apiinone (Bearer): ``POST /api/v1/videos/generations``; ``GET /api/v1/tasks/{task_id}``.
- CDN (no auth): ``GET /cdn/{provider}/{task_id}.mp4``; URLs use the request's own
  base URL, so they are fetchable wherever the sandbox is reached from.

Each provider module (``_xai``, ``_apixo``, ``_pixazo``, ``_xingchao``, ``_apiinone``)
documents its shapes in its docstring. Error bodies:

- xai: ``{"code": "<status text>", "error": "<message>"}``
- apixo: ``{"code": <HTTP status>, "message": "..."}``
- pixazo: ``{"error": "<reason>", "message": "..."}`` (gateway 401/429 add ``statusCode``)
- xingchao: ``{"error": {"message", "type", "code"}}``
- apiinone: ``{"error": {"code": <HTTP status>, "message", "type"}}``
- CDN: plain text.

API in One's finished task (not shown by the provider; the sandbox's choice)::

    {"code": 200, "message": "success", "data": {"task_id", "model", "status": "completed",
     "progress": 100, "created_at", "completed_at", "credits_used": 24,
     "output": {"video_url": URL, "video_urls": [URL]}}}
    failed: data.status = "failed", data.error = {"code", "message"}

Time
----
Every task's latency and outcome are drawn when it is created (seeded
``random.Random``), scaled by ``time_scale`` (``GROKVID_TIME_SCALE`` by default), and
its state is computed from the injected clock on each poll: no background work, so
the app behaves the same under uvicorn and under ``httpx.ASGITransport``.

Magic words (in the prompt; deterministic, for tests)
-----------------------------------------------------
- ``[sandbox:fail]``: fail with the provider's content-moderation code.
- ``[sandbox:fail=timeout]`` / ``[sandbox:fail=internal]``: fail with that kind's code;
  any other value is used verbatim as the failure code.
- ``[sandbox:expire]``: xAI answers ``expired``; elsewhere it is a timeout failure.
- ``[sandbox:succeed]``: succeed whatever the configured failure rate.
- ``[sandbox:latency=2.5]``: reach the terminal state after 2.5 s (before ``time_scale``).

Faults (``sb.inject(provider, phase, fault, times=1, retry_after=1)``)
-----------------------------------------------------------------------
``phase`` is ``submit``, ``poll`` or ``download``; ``provider`` may be ``"*"``.
``"429"`` (``Retry-After: <seconds>``), ``"429-date"`` (``Retry-After: <HTTP-date>``),
``"500"`` and ``"503"`` (provider error shape), ``"502"`` (an nginx HTML page),
``"non_json"`` (200 with an HTML page), ``"drop"`` (connection closed before any reply;
no task created) and ``"lost_reply"`` (submit only: the task IS created, then the
connection is dropped). In-process, drops surface as ``httpx.RemoteProtocolError``
through ``sb.transport()``; under ``sb.serve()`` the socket is really closed.

Rate limits: xAI allows 1 submit/s and 60/min per key (``RateLimit`` in its
``ProviderProfile``; windows in real seconds unless ``scale_rate_limits``), others are
off by default; a refusal is 429 with ``Retry-After``. Any API key is accepted unless
``SandboxConfig.api_keys`` names one; a missing key is always 401.
"""

from __future__ import annotations

from ._config import PROVIDERS, ManualClock, ProviderProfile, RateLimit, SandboxConfig, default_profiles
from ._core import FAULTS, PHASES, Fault, SandboxDrop, SandboxStats, Task, TaskSpec, parse_magic
from .app import Sandbox, SandboxTransport, SyncSandboxTransport
from .clips import make_clip

__all__ = [
    "FAULTS",
    "PHASES",
    "PROVIDERS",
    "Fault",
    "ManualClock",
    "ProviderProfile",
    "RateLimit",
    "Sandbox",
    "SandboxConfig",
    "SandboxDrop",
    "SandboxStats",
    "SandboxTransport",
    "SyncSandboxTransport",
    "Task",
    "TaskSpec",
    "default_profiles",
    "make_clip",
    "parse_magic",
]
