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
- CDN (no auth): ``GET /cdn/{provider}/{task_id}.mp4`` (also without ``.mp4`` for
  ``url=noext`` tasks) and ``/cdn/{provider}/{task_id}.jpg`` (the cover, first frame);
  URLs use the request's own base URL, so they are fetchable wherever the sandbox is
  reached from. 404 before the task succeeded, 403 ``AccessDenied: Request has expired``
  after its result time to live.
- Uploads (no auth; the sandbox as image host for URL-only providers):
  ``POST /sandbox/uploads`` with the image as the raw body (any ``Content-Type``) or as
  ``multipart/form-data`` (first file part). The bytes are sniffed (PNG, JPEG, GIF, WebP;
  else 415), capped at ``SandboxConfig.upload_max_bytes`` (20 MB; larger is 413), kept in
  memory. Reply 201 ``{"id", "url": "<base>/sandbox/files/<id>.<ext>", "content_type",
  "bytes"}``; ``GET /sandbox/files/<id>.<ext>`` serves them back with their content type.
  Ids are random and made by the sandbox, never taken from the client's file name.

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
    with a cover: output = {"cover_url": ".../<id>.jpg", "video_url", "video_urls"}

Where the seed pages and newer public pages disagree the newer page wins (PROVIDERS.md
additions, 2026-11-30): xAI reference-to-video is 1-10 s; xAI models are
``grok-imagine-video`` and ``grok-imagine-video-1.5-preview`` (image-to-video only, $0.08/s
480p, $0.14/s 720p, $0.01 per input image), ``model`` is optional, image/video sources
may be base64 data URIs, and input images ($0.002) and input video ($0.01/s) are in the
reported cost; XingChaoYiQing takes 2-4 min for 6-10 s clips and 4-8 min for 20-30 s
(pro 3-6 min), ``grok_video3_stable`` is a fixed 10 s at 720p, the submit reply carries
``created``; Pixazo has a v1.5 image-to-video route and bills ``FAILED`` (not ``ERROR``).
Clips are labelled ``sandbox · <provider> · #<n>`` (n counts earlier tasks with the
same prompt at that provider) in the provider's colours, at half the requested resolution.

Time
----
Every task's latency and outcome are drawn when it is created (seeded
``random.Random``), scaled by ``time_scale`` (``GROKVID_TIME_SCALE`` by default), and
its state is computed from the injected clock on each poll: no background work, so
the app behaves the same under uvicorn and under ``httpx.ASGITransport``.

Magic words (in the prompt; deterministic, for tests)
-----------------------------------------------------
Each has a configuration twin in ``ProviderProfile`` (``SandboxConfig(providers=...)``):

========================================  =============================================
magic word                                configuration
========================================  =============================================
``[sandbox:fail]`` (moderation code)       ``failure_rate``, ``failure_kinds``
``[sandbox:fail=timeout|internal]``        ``failure_kinds=("timeout", ...)``
``[sandbox:fail=charged]``                 ``failure_kinds=("charged",)``
``[sandbox:fail=CODE]`` (verbatim code)    --
``[sandbox:expire]``                       ``expire_rate``
``[sandbox:succeed]``                      --
``[sandbox:moderate]`` / ``=absent``       ``moderation_rate``
``[sandbox:status=WORD]``                  ``status_word``, ``status_word_rate``
``[sandbox:thumbnail]``                    ``thumbnails=True``
``[sandbox:url=noext]``                    ``url_style="noext"``
``[sandbox:ttl=30]``                       ``result_ttl`` (also ``SandboxConfig.result_ttl``)
``[sandbox:queue=0.5]``                    ``queue_fraction``
``[sandbox:progress=MODEL]``               ``progress_model``
``[sandbox:latency=2.5]``                  ``latency=(2.5, 2.5)``
``[sandbox:latency=FAMILY]``               ``latency_model``
========================================  =============================================

- ``fail``: fail with the provider's content-moderation code; ``=timeout``/``=internal``
  use that kind's code (Pixazo ``ERROR``, not billed); ``=charged`` is a failure the
  provider bills (Pixazo ``FAILED``); any other value is used verbatim as the code.
- ``expire``: xAI answers ``expired``; elsewhere it is a timeout failure.
- ``succeed``: succeed whatever the configured rates.
- ``moderate``: xAI answers ``status: done``, ``video: {url: null, duration,
  respect_moderation: false}`` (``=absent``: no ``url`` key) with ``usage`` (billed);
  the others answer their failed shape with their moderation code and message.
- ``status=WORD``: the terminal status word becomes WORD (outside the vocabulary, e.g.
  xAI ``paused``, API in One ``SUCCESS``/``FAILURE``/``done``); the rest of the body is
  the outcome's (add ``[sandbox:fail]`` for a failure body).
- ``thumbnail``: API in One's ``output`` gains ``cover_url`` (a JPEG, listed first).
- ``url=noext``: the video URL has no file extension (served as ``video/mp4``).
- ``ttl=30``: the result URL answers 403 30 s (times ``time_scale``) after the finish.
- ``queue=0.5``: half the job is spent queued at progress 0 (xAI ``pending``).
- ``progress=linear|from_submit|fast_then_slow|stall``: the progress curve (``from_submit``
  counts from the submit, so it jumps when the queue ends; ``stall`` reaches 99 % at 60 %
  of processing and stays there).
- ``latency=2.5``: reach the terminal state after 2.5 s (before ``time_scale``).
- ``latency=uniform|by_request|lognormal|bimodal|surge``: the latency family
  (see :class:`ProviderProfile`). The default stays ``by_request`` within the documented
  range (uniform within the per-model range for XingChaoYiQing).

``sb.charged_usd(provider)`` sums what the providers would have billed for finished
tasks (success; xAI moderation; Pixazo ``FAILED``).

Faults (``sb.inject(provider, phase, fault, times=1, retry_after=1)``)
-----------------------------------------------------------------------
``phase`` is ``submit``, ``poll`` or ``download``; ``provider`` may be ``"*"``.
``"429"`` (``Retry-After: <seconds>``), ``"429-date"`` (``Retry-After: <HTTP-date>``),
``"500"`` and ``"503"`` (provider error shape), ``"502"`` (an nginx HTML page),
``"non_json"`` (200 with an HTML page), ``"drop"`` (connection closed before any reply;
no task created) and ``"lost_reply"`` (submit only: the task IS created, then the
connection is dropped). In-process, drops surface as ``httpx.RemoteProtocolError``
through ``sb.transport()``; under ``sb.serve()`` the socket is really closed, once the
request has been read to its end (else the kernel's RST would make it a "connection reset",
depending on scheduling), so a client sees ``httpx.RemoteProtocolError`` there too.

Rate limits: xAI allows 1 submit/s and 60/min per key (``RateLimit`` in its
``ProviderProfile``; windows in real seconds unless ``scale_rate_limits``), others are
off by default; a refusal is 429 with ``Retry-After``. Any API key is accepted unless
``SandboxConfig.api_keys`` names one; a missing key is always 401.
"""

from __future__ import annotations

from typing import Any

from ._config import PROVIDERS, ManualClock, ProviderProfile, RateLimit, SandboxConfig, default_profiles
from ._core import FAULTS, PHASES, Fault, SandboxDrop, SandboxStats, Task, TaskSpec, parse_magic
from .app import Sandbox, SandboxTransport, SyncSandboxTransport

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


def __getattr__(name: str) -> Any:
    # the clip maker needs PyAV and numpy: loaded when a clip is first made, not with the sandbox
    if name == "make_clip":
        from .clips import make_clip

        return make_clip
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
