"""`Client`: one provider, its key and endpoint, and the jobs submitted through it."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from weakref import WeakValueDictionary

import httpx

from . import _args, _loop
from ._bounded_http import read_reply
from ._budget import check_budget
from ._catalog import priced_spec
from ._exceptions import (
    ConfigurationError,
    DeadlineExceededError,
    MissingAPIKeyError,
    MissingBaseURLError,
    ResultExpiredError,
)
from ._expiry import expiry_text, keep_local_default, url_expired
from ._inflight import InflightGate, max_in_flight
from ._job import Job
from ._ledger import Ledger, LedgerRow, default_home, default_ledger, owner_alive, process_tag
from ._prepare import Prepared, image_records, prepare_request
from ._ratelimit import SUBMIT, URGENT, RateLimiter, limiter_for
from ._sandbox_mode import sandbox_route
from ._schedule import time_scale
from ._secrets import Secret
from ._types import State, VideoRequest
from ._uploads import Uploader, sandbox_uploader
from .adapters import Adapter, get_adapter

__all__ = ["Client", "DEFAULT_DEADLINE_S", "live_job", "setup_problem"]

#: A job's default deadline before `GROKVID_TIME_SCALE` (30 minutes).
DEFAULT_DEADLINE_S = 1800.0
#: The scaled default never drops below this: Retry-After waits are real seconds.
MIN_DEFAULT_DEADLINE_S = 120.0
_SANDBOX_KEY = "sandbox-key"
#: result downloads one client runs at once, on connections of their own
_DOWNLOAD_CONNECTIONS = 4

# one Job object per ledger row in this process, so reuse returns the live job
_live_jobs: "WeakValueDictionary[str, Job]" = WeakValueDictionary()
_live_lock = threading.Lock()


#: `GROKVID_HTTP_BACKEND` values: who carries the engine's requests to a real endpoint
HTTP_BACKENDS = ("aiohttp", "httpcore")


def http_backend() -> str:
    """`GROKVID_HTTP_BACKEND`: `aiohttp` (the default; see `_aiohttp_transport` for why) or
    `httpcore` (httpx's own transport)."""
    backend = os.environ.get("GROKVID_HTTP_BACKEND", "").strip().lower() or HTTP_BACKENDS[0]
    if backend not in HTTP_BACKENDS:
        raise ConfigurationError(f"GROKVID_HTTP_BACKEND={backend!r} is not one of: {', '.join(HTTP_BACKENDS)}")
    return backend


def wire_transport(backend: str, size: int) -> httpx.AsyncBaseTransport | None:
    """The transport of a pool of `size` connections to a real endpoint (None: httpx's own)."""
    if backend == "httpcore":
        return None
    from ._aiohttp_transport import AiohttpTransport  # aiohttp loads only once a real request goes

    return AiohttpTransport(max_connections=size)


class _NoCookies(httpx.Cookies):
    """A cookie jar that keeps nothing."""

    def extract_cookies(self, response: httpx.Response) -> None:
        """Keep nothing from `response`."""


class ApiHttp(httpx.AsyncClient):
    """httpx's client for provider APIs, without cookies: every call authenticates with the
    key alone, so a cookie a provider (or its CDN) sets is never carried into later calls, and
    no reply pays for httpx's cookie parsing (about 5 % of a status poll's CPU)."""

    @property
    def cookies(self) -> httpx.Cookies:
        """Always empty."""
        return _NoCookies()

    @cookies.setter
    def cookies(self, value: Any) -> None:
        raise TypeError("grokvid_nb's API clients keep no cookies")


def live_job(job_id: str) -> Job | None:
    """The `Job` object this process holds for a ledger job id, if it is still referenced."""
    with _live_lock:
        return _live_jobs.get(job_id)


def live_owner(row: LedgerRow) -> bool:
    """True while the process that recorded `row` may still be submitting it: another live
    process, or this one with its `Job` still running."""
    if row.owner == process_tag():
        job = live_job(row.job_id)
        return job is not None and not job.done()
    return owner_alive(row.owner)


def _missing_key(adapter: Adapter) -> MissingAPIKeyError:
    return MissingAPIKeyError(
        f"no API key for {adapter.name}: set the environment variable {adapter.env_var}, "
        "pass api_key=..., or call gv.use_sandbox()")


def _missing_base_url(adapter: Adapter) -> MissingBaseURLError:
    return MissingBaseURLError(
        f"{adapter.name} has no default base URL: pass base_url=... or set "
        f"{adapter.base_url_env} (or call gv.use_sandbox() to try it offline)")


def setup_problem(adapter: Adapter) -> ConfigurationError | None:
    """The error `Client(provider)` would raise for lack of configuration (no key in the
    environment, no base URL), or None when it can be made. Outside the sandbox only; never
    reads a key's value out. The one check behind `Client` and the form's readiness line."""
    if sandbox_route() is not None:
        return None
    if not os.environ.get(adapter.env_var, "").strip():
        return _missing_key(adapter)
    if adapter.default_base_url is None and adapter.base_url_env and not os.environ.get(adapter.base_url_env):
        return _missing_base_url(adapter)
    return None


class Client:
    """Submit and track jobs at one provider.

    The key comes from `api_key` or the provider's environment variable (`XAI_API_KEY`, ...).
    `base_url` replaces the scheme, host and optional path prefix of the provider's endpoint;
    the documented paths are appended unchanged. `poll_interval=None` polls adaptively, a
    number polls every that many seconds (+-5 % jitter; never more often than the provider's
    politeness minimum, see `gv.poll_policy`). `deadline_s` bounds every job (default 30 min,
    scaled by `GROKVID_TIME_SCALE` but never under 2 min). Result URLs expire (xAI and
    XingChaoYiQing after about 24 h): with `keep_local=True` (the default; `GROKVID_KEEP_LOCAL=0`
    turns it off) every finished clip is downloaded into `download_dir` (default
    `$GROKVID_HOME/downloads`) as soon as it is ready. `uploader` hosts local images for
    URL-only providers (see `gv.set_uploader`); under `gv.use_sandbox()` the sandbox hosts them
    by default and the emulator serves the requests.
    """

    def __init__(self, provider: str, api_key: str | None = None, base_url: str | None = None,
                 poll_interval: float | None = None, *, model: str | None = None,
                 deadline_s: float | None = None, download_dir: str | Path | None = None,
                 transport: httpx.AsyncBaseTransport | None = None, home: str | Path | None = None,
                 ledger: Ledger | None = None, uploader: Uploader | None = None,
                 keep_local: bool | None = None) -> None:
        # every argument is checked before anything is sent or recorded (issue 14 items 8, 10, 11)
        if poll_interval is not None:
            poll_interval = _args.finite_positive("poll_interval", poll_interval, high=_args.MAX_SECONDS)
        deadline_s = _args.optional_deadline("deadline_s", deadline_s)
        if api_key is not None and (not isinstance(api_key, str) or api_key.strip()):
            api_key = _args.api_key("api_key", api_key)
        self.adapter: Adapter = get_adapter(provider)
        self.provider = self.adapter.name
        self.model = self.adapter.model_spec(model).name
        route = sandbox_route() if base_url is None and transport is None else None
        self.sandboxed = route is not None
        self._transport_factory: Callable[[], httpx.AsyncBaseTransport] | None = None
        scale: float | None = None
        if route is not None:
            base_url, self._transport_factory, scale = route
        elif transport is not None:
            self._transport_factory = lambda: transport
        self.endpoint = self._resolve_base_url(base_url)
        self.key = self._resolve_key(api_key)
        self._backend = http_backend()
        self.poll_interval = poll_interval
        # in-process sandbox: poll on the emulator's clock, so a sped-up demo stays quick
        self.time_scale = scale if scale is not None else time_scale()
        self.deadline_s = deadline_s if deadline_s is not None else max(
            DEFAULT_DEADLINE_S * self.time_scale, MIN_DEFAULT_DEADLINE_S)
        self.home = Path(home) if home is not None else default_home()
        self.ledger = ledger or (Ledger(self.home / "ledger.sqlite3") if home is not None else default_ledger())
        self.download_dir = Path(download_dir) if download_dir is not None else None
        if uploader is not None and not callable(uploader):
            raise TypeError(f"uploader must be callable (data, filename, content_type) -> URL, "
                            f"not {type(uploader).__name__}")
        self.uploader = uploader
        self.keep_local = keep_local_default() if keep_local is None else bool(keep_local)
        # limits are scaled with the rest of the built-in timings, so a sped-up sandbox stays faithful
        limits = tuple((count, period * self.time_scale) for count, period in self.adapter.rate_limits)
        self.limiter: RateLimiter = limiter_for(self.provider, self.endpoint, limits, self.key, self.time_scale)
        self._http: httpx.AsyncClient | None = None
        self._gate: InflightGate | None = None
        self._download_http: httpx.AsyncClient | None = None
        self._download_gate: InflightGate | None = None

    def _resolve_base_url(self, base_url: str | None) -> str:
        if base_url is None and self.adapter.base_url_env:
            base_url = os.environ.get(self.adapter.base_url_env) or None
        if base_url is None:
            base_url = self.adapter.default_base_url
        if base_url is None:
            raise _missing_base_url(self.adapter)
        return _args.base_url("base_url", base_url)

    def _resolve_key(self, api_key: str | None) -> Secret:
        if api_key is not None and api_key.strip():
            return Secret(api_key)
        if self.sandboxed:  # real keys are never sent to the emulator
            return Secret(_SANDBOX_KEY)
        value = os.environ.get(self.adapter.env_var, "").strip()
        if not value:
            raise _missing_key(self.adapter)
        return Secret(_args.api_key(self.adapter.env_var, value))

    def __repr__(self) -> str:
        where = "sandbox" if self.sandboxed else self.endpoint
        return f"Client({self.provider!r}, model={self.model!r}, endpoint={where!r})"

    # ---- HTTP (engine loop only) --------------------------------------------------------
    def _new_http(self, size: int) -> httpx.AsyncClient:
        transport = self._transport_factory() if self._transport_factory else wire_transport(self._backend, size)
        # Keep-alive equals the maximum (for GROKVID_HTTP_BACKEND=httpcore): httpcore closes idle
        # connections whenever the pool holds more than the keep-alive count, busy ones
        # included, which made hundreds of reconnects under load
        return ApiHttp(
            transport=transport, timeout=httpx.Timeout(30.0, connect=10.0),
            limits=httpx.Limits(max_connections=size, max_keepalive_connections=size),
            follow_redirects=False,  # API calls never follow a redirect with our key
            headers={"User-Agent": "grokvid_nb/0.1"})

    def http(self) -> httpx.AsyncClient:
        """The client's `httpx.AsyncClient` for API requests (created on the engine loop on
        first use): as many connections as the in-flight cap, since every API request holds a
        gate slot."""
        if self._http is None:
            self._http = self._new_http(self.gate().cap)
        return self._http

    def download_http(self) -> httpx.AsyncClient:
        """The `httpx.AsyncClient` for result downloads: a pool of its own, so a burst of
        finished clips never holds a connection a submit or a status poll is waiting for."""
        if self._download_http is None:
            self._download_http = self._new_http(_DOWNLOAD_CONNECTIONS)
        return self._download_http

    def download_gate(self) -> InflightGate:
        """The cap on this client's downloads at once (`_DOWNLOAD_CONNECTIONS`): the rest wait
        here in order, within their own deadline, rather than in the connection pool (whose
        30 s pool timeout would fail them)."""
        if self._download_gate is None:
            self._download_gate = InflightGate(_DOWNLOAD_CONNECTIONS)
        return self._download_gate

    def gate(self) -> InflightGate:
        """The cap on this client's API requests in flight (`GROKVID_MAX_IN_FLIGHT`, default
        20), first come first served (`_inflight`)."""
        if self._gate is None:
            self._gate = InflightGate(max_in_flight())
        return self._gate

    async def send(self, request: httpx.Request, *, deadline: float | None = None,
                   priority: float = URGENT, kind: str = SUBMIT,
                   on_send: Callable[[], None] | None = None) -> httpx.Response:
        """Send one API request within the account's rate limits (`_ratelimit`, best `priority`
        first); the body is read whole, by `deadline` (a `time.monotonic()` instant) and within
        `GROKVID_MAX_REPLY_BYTES`. At most `gate().cap` requests are in flight at once;
        the wait for a slot counts against `deadline` too. `on_send()` runs just before the
        request leaves (after both waits); an exception from it means nothing is sent."""
        # the common case, a free budget and a free slot, costs no timer and no await
        if not self.limiter.try_acquire(kind):
            try:  # a wait for the rate limit counts against the deadline too
                async with asyncio.timeout(None if deadline is None else max(0.0, deadline - time.monotonic())):
                    await self.limiter.acquire(priority, kind)
            except TimeoutError:
                raise DeadlineExceededError(f"the deadline passed while waiting for {self.provider}'s "
                                            "rate limit; nothing was sent", maybe_sent=False) from None
        gate = self.gate()
        if not gate.try_acquire():
            await gate.acquire(deadline, what=self.provider)
        try:
            if on_send is not None:  # the last moment before the bytes leave
                on_send()
            return await read_reply(self.http(), request, deadline=deadline, source=self.provider)
        finally:
            gate.release()

    def close(self) -> None:
        """Close the HTTP connections (jobs still polling keep their own reference)."""
        for name in ("_http", "_download_http"):
            http = getattr(self, name)
            if http is not None:
                setattr(self, name, None)
                _loop.run_coroutine(http.aclose())

    # ---- jobs ---------------------------------------------------------------------------
    def validate(self, prompt: str, *, model: str | None = None, mode: str | None = None,
                 **params: Any) -> VideoRequest:
        """Check a request against this provider/model without sending or uploading anything.
        Images of any input kind appear as their fingerprints (`sha256:<hex>` or the URL)."""
        return self._prepare(prompt, model=model, mode=mode, **params).request

    def _prepare(self, prompt: str, *, model: str | None = None, mode: str | None = None,
                **params: Any) -> Prepared:
        """`validate()` plus the image plan: images coerced and decided, nothing uploaded."""
        return prepare_request(self.adapter, prompt, model=model or self.model, mode=mode,
                               params=params, uploader=self.uploader,
                               fallback=sandbox_uploader() if self.sandboxed else None)

    def estimate_cost(self, prompt: str = "x", **params: Any) -> float | None:
        """Estimated USD for one video with these parameters (None when unpriced)."""
        request = self.validate(prompt, **params)
        return priced_spec(self.adapter, request.model, request.mode).estimate(request.params)

    def _fingerprint(self, request: VideoRequest) -> str:
        return request.fingerprint() + "@" + self.endpoint

    def _reusable_row(self, request: VideoRequest, sample_index: int) -> LedgerRow | None:
        return self.ledger.find_reusable(self._fingerprint(request), sample_index)

    def can_reuse(self, request: VideoRequest, sample_index: int = 0) -> bool:
        """True when an identical earlier request (same `sample_index`) is in the ledger, so
        `start(..., reuse=True)` would reuse it instead of paying again."""
        return self._reusable_row(request, sample_index) is not None

    def count_reusable(self, request: VideoRequest, repeats: int) -> int:
        """How many of sample indexes 0..repeats-1 an identical earlier request covers (one
        ledger query, whatever `repeats` is)."""
        return self.ledger.count_reusable(self._fingerprint(request), repeats)

    def start(self, prompt: str, *, model: str | None = None, mode: str | None = None,
              reuse: bool = True, sample_index: int = 0, deadline_s: float | None = None,
              **params: Any) -> Job:
        """Validate, record the intent, and start the job in the background without waiting
        for the submit reply. An identical earlier request (same sample_index) is reused
        unless `reuse=False`; one whose URL expired is reused only through its kept local copy
        (else `ResultExpiredError`, nothing sent). A request that would cross `gv.set_budget`
        raises `BudgetExceededError` before anything is uploaded or sent."""
        prepared = self._prepare(prompt, model=model, mode=mode, **params)
        request = prepared.request
        fingerprint = self._fingerprint(request)
        deadline_s = _args.optional_deadline("deadline_s", deadline_s)
        deadline = deadline_s if deadline_s is not None else self.deadline_s
        if reuse:
            row = self._reusable_row(request, sample_index)
            if row is not None and not (row.task_id is None and row.state == "queued"
                                        and not live_owner(row)):  # abandoned: claim() settles it
                self._check_not_gone(row)
                return self._attach(row, request, reused=True, deadline_s=deadline)
        estimate = priced_spec(self.adapter, request.model, request.mode).estimate(request.params)
        check_budget(estimate, self.ledger, what=f"{self.provider}/{request.model} {request.mode}")
        wire, images = prepared.execute()  # uploads, only now that the request may go
        ledger_params = dict(request.params)
        if images:
            ledger_params["image_inputs"] = image_records(images)
        intent: dict[str, Any] = dict(
            provider=self.provider, model=request.model, mode=request.mode, prompt=request.prompt,
            params=ledger_params, endpoint=self.endpoint, fingerprint=fingerprint,
            sample_index=sample_index)
        if reuse:
            # lookup and insert again in one write transaction: of several processes sending the
            # same request at once, one records (and pays for) it and the others attach to its job
            job_id, row = self.ledger.claim(**intent)
            if row is not None:
                self._check_not_gone(row)
                return self._attach(row, request, reused=True, deadline_s=deadline)
        else:
            job_id = self.ledger.record_intent(**intent)
        job = Job(self, request, job_id, sample_index=sample_index, deadline_s=deadline, wire=wire)
        with _live_lock:
            _live_jobs[job_id] = job
        job._start()
        return job

    def submit(self, prompt: str, *, model: str | None = None, mode: str | None = None,
               reuse: bool = True, sample_index: int = 0, deadline_s: float | None = None,
               **params: Any) -> Job:
        """Validate every parameter, then submit and return the `Job` once the provider has
        answered the submit (so `job.task_id` is set, or the job has already failed)."""
        job = self.start(prompt, model=model, mode=mode, reuse=reuse, sample_index=sample_index,
                         deadline_s=deadline_s, **params)
        job._submitted.result()
        return job

    async def submit_async(self, prompt: str, **kw: Any) -> Job:
        """`submit()` for async code."""
        job = self.start(prompt, **kw)
        await _loop.wrap(job._submitted)
        return job

    def _check_not_gone(self, row: LedgerRow) -> None:
        """Refuse to reuse a finished job whose URL expired and whose clip was not kept."""
        if row.state != "succeeded" or not url_expired(row.url_expires_at, row.url_gone_at):
            return
        if row.local_path and Path(row.local_path).is_file():
            return
        url = row.video_urls[0] if row.video_urls else ""
        raise ResultExpiredError(
            f"an identical earlier {self.provider} job made this clip, but {expiry_text(row.url_expires_at, row.url_gone_at)} "
            "and no local copy was kept: the clip is gone. Nothing was sent; pass reuse=False to "
            "generate (and pay for) it again", url=url,
            expired_at=row.url_gone_at or row.url_expires_at)

    def _attach(self, row: LedgerRow, request: VideoRequest | None, *, reused: bool,
                deadline_s: float | None = None) -> Job:
        with _live_lock:
            live = _live_jobs.get(row.job_id)
            if live is not None and not live.done():
                live.reused = live.reused or reused  # still polling: share it, never poll twice
                return live
            if request is None:
                request = VideoRequest(row.provider, row.model, row.mode, row.prompt, row.params)
            job = Job(self, request, row.job_id, sample_index=row.sample_index, reused=reused,
                      deadline_s=deadline_s if deadline_s is not None else self.deadline_s)
            job._load(row)
            _live_jobs[row.job_id] = job
        if reused and row.task_id is None and row.state == "queued" and owner_alive(row.owner) \
                and row.owner != process_tag():
            job._start(follow=True)  # another process is submitting it: wait for its task id
        elif row.task_id is None and row.state == "queued" and not live_owner(row):
            job._adopt_abandoned(row)
        elif row.task_id is None or row.state in ("succeeded", "failed", "expired") or (
                reused and row.state == "unknown"):
            job._adopt_finished(row)
        else:
            job.state = (State.QUEUED if row.state in ("timed_out", "unknown", "cancelled")
                         else State(row.state))
            job._start()
        return job

    def resume(self) -> list[Job]:
        """Re-attach to this provider's unfinished jobs at this endpoint."""
        return [self._attach(row, None, reused=False) for row in self.ledger.unfinished()
                if row.provider == self.provider and row.endpoint == self.endpoint and row.task_id]
