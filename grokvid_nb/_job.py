"""`Job`: one paid request, from submit to a terminal state, polled on the engine loop.

The runner is safe with money. A submit is retried only when the reply proves no task was
created (connection refused, 429, 503). When a submit may have reached the provider but its
reply was lost, the job ends `unknown` and is never resent silently. Status polls retry on
429, 5xx, timeouts and dropped connections, honouring Retry-After; a reply that cannot be read
(not JSON, over the size cap, a redirect, no status word) is retried too, but a few in a row
(`UNRECOGNISED_LIMIT`, as for status words outside the vocabulary) end the job `unknown`,
quoting the last one: never a silent poll until the deadline. Every job has a deadline and
ends in a clear state.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import random
import threading
import time
import warnings
from collections.abc import Callable, Generator
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

import httpx

from . import _args, _loop
from ._bounded_http import download_timeout_s
from ._catalog import priced_spec
from ._download import default_name, download_target, fetch_video
from ._exceptions import (
    DeadlineExceededError,
    DownloadError,
    LedgerError,
    ProviderError,
    ProviderResponseError,
    ProviderServerError,
    RateLimitedError,
    ResultExpiredError,
    TaskNotFoundError,
    TransportError,
)
from ._expiry import GONE_STATUSES, expires_at, expiry_text, url_expired
from ._files import AtomicWriter, trusted_copy
from ._ledger import DEFERRABLE, LedgerRow
from ._ratelimit import POLL, SUBMIT
from ._result import Result
from ._schedule import MemoryKey, PollSchedule, end_ratios, memory, queue_words
from ._secrets import contains_secret, redact
from ._submit_rules import SubmitAction, after_failed_submit
from ._types import JobSnapshot, ResultLink, State, TaskStatus, VideoRequest
from .adapters._reply import UNRECOGNISED_LIMIT, ends_job

if TYPE_CHECKING:
    from ._inflight import InflightGate
    from ._ledger import Ledger
    from ._ratelimit import RateLimiter
    from ._secrets import Secret
    from .adapters import Adapter

__all__ = ["Job"]

log = logging.getLogger("grokvid_nb")

_SUBMIT_ATTEMPTS = 6


#: A reported cost above this for one clip is not believed (a unit mistake or a hostile reply).
MAX_PLAUSIBLE_COST_USD = 1000.0


def _plausible_cost(provider: str, cost: float | None) -> float | None:
    """A provider's reported cost if it is a finite amount in [0, MAX_PLAUSIBLE_COST_USD];
    anything else is treated as unknown, with a warning (never stored as a price paid)."""
    if cost is None:
        return None
    if isinstance(cost, (int, float)) and not isinstance(cost, bool) and 0.0 <= cost <= MAX_PLAUSIBLE_COST_USD:
        return float(cost)
    log.warning("grokvid_nb: %s reported an implausible cost (%r USD); it is treated as unknown",
                provider, cost)
    return None


class JobHost(Protocol):
    """What a job needs of the `Client` that started it (a Protocol, so this module never
    imports `_client`): the adapter, endpoint, key, ledger, limiter, timings and HTTP."""

    adapter: Adapter
    endpoint: str
    key: Secret
    ledger: Ledger
    limiter: RateLimiter
    poll_interval: float | None
    time_scale: float
    home: Path
    download_dir: Path | None
    keep_local: bool

    def http(self) -> httpx.AsyncClient: ...

    def download_http(self) -> httpx.AsyncClient: ...

    def download_gate(self) -> InflightGate: ...

    async def send(self, request: httpx.Request, *, deadline: float | None = None,
                   priority: float = ..., kind: str = ...,
                   on_send: Callable[[], None] | None = None) -> httpx.Response: ...


class Job:
    """A video generation job, shaped like a `concurrent.futures.Future`: `state` and
    `progress` while it runs, `done()`, `result(timeout)` (blocks), `wait(timeout)` (blocks,
    then stops polling), `await job`, `cancel()`.
    """

    def __init__(self, client: JobHost, request: VideoRequest, job_id: str, *,
                 sample_index: int = 0, reused: bool = False, deadline_s: float,
                 wire: VideoRequest | None = None) -> None:
        self.client = client
        self.request = request  # as recorded: images as fingerprints, never base64
        self._wire = wire or request  # as sent: data URIs or hosted URLs
        self.job_id = job_id
        self.sample_index = sample_index
        self.reused = reused
        self.deadline_s = deadline_s
        self.state: State = State.QUEUED
        self.task_id: str | None = None
        self.progress: float | None = None
        self.polls = 0
        self.error_code: str | None = None
        self.error_message: str | None = None
        self.last_status: TaskStatus | None = None
        self.submitted_at: float | None = None  # wall clock
        self.finished_at: float | None = None
        self.local_path: Path | None = None
        self.url_expires_at: float | None = None
        self.url_gone_at: float | None = None
        self._started_mono: float | None = None
        self._latency: float | None = None
        self._last_pending_s: float | None = None  # submit -> last reply that was not terminal
        self._first_running_s: float | None = None  # submit -> first "running" reply
        self._listeners: list[Callable[["Job"], None]] = []
        self._settlers: list[Callable[[float], None]] = []
        self._lock = threading.RLock()
        self._done: concurrent.futures.Future[Result] = concurrent.futures.Future()
        self._submitted: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._task: asyncio.Task[None] | None = None
        self._cancel_requested = False
        self._submit_in_flight = False
        self._ledger_error: LedgerError | None = None  # a write the ledger file could not take
        # attached to another process's job whose submit is in flight: until its task id shows
        # up in the ledger this job must not write the shared row (the other process owns it)
        self._follower = False
        self._deadline = 0.0  # time.monotonic() instant, set when the runner starts
        self._next_check_mono: float | None = None  # when the next status poll is due

    # ---- public surface -----------------------------------------------------------------
    @property
    def provider(self) -> str:
        """The provider's name."""
        return self.request.provider

    @property
    def model(self) -> str:
        """The model id."""
        return self.request.model

    @property
    def prompt(self) -> str:
        """The prompt as sent."""
        return self.request.prompt

    @property
    def status(self) -> State:
        """Deprecated alias of `state` (queued, running, succeeded, failed, expired, cancelled,
        timed_out or unknown); `TaskStatus` is a provider's reply, not a job's state."""
        warnings.warn("Job.status is deprecated; use Job.state", DeprecationWarning, stacklevel=2)
        return self.state

    def done(self) -> bool:
        """True once the job is in a terminal state (a method, as on `Future`)."""
        return self._done.done()

    @property
    def elapsed_s(self) -> float | None:
        """Seconds since the submit (frozen once finished)."""
        if self.submitted_at is None:
            return None
        end = self.finished_at if self.finished_at is not None else time.time()
        return max(0.0, end - self.submitted_at)

    def wait(self, timeout: float | None = None) -> Result:
        """Block until the job ends and return its `Result`.

        If `timeout` seconds pass first, the job stops being polled and ends `timed_out`; it
        keeps its task id and `gv.resume()` can re-attach to it later. Safe in a notebook cell:
        the polling runs on the engine's own thread, not the kernel's loop.
        """
        if _loop.in_engine_thread():
            raise RuntimeError("wait() would block the engine loop; use `await job` there")
        timeout = _args.optional_timeout("timeout", timeout, inf_means_none=True, allow_zero=True)
        try:
            result = self._done.result(timeout)
        except concurrent.futures.TimeoutError:
            self.stop_polling(f"stopped waiting after {timeout:g} s")
            result = self._done.result(30)
        with self._lock:
            settlers = list(self._settlers)
        for settle in settlers:
            settle(5.0)
        return result

    def stop_polling(self, reason: str = "stopped waiting") -> None:
        """Stop polling and end the job `timed_out` (the provider may still finish it). It
        keeps its task id (recorded even if its submit is still in flight), and `gv.resume()`
        re-attaches to it later."""
        self._stop(State.TIMED_OUT, f"{reason}; the task may still finish: gv.resume() re-attaches")

    def stop_waiting(self, reason: str = "stopped waiting") -> None:
        """Deprecated name of `stop_polling` (it ends the job, it does not only stop a wait)."""
        warnings.warn("Job.stop_waiting() is deprecated; use Job.stop_polling()", DeprecationWarning,
                      stacklevel=2)
        self.stop_polling(reason)

    def __await__(self) -> Generator[Any, None, Result]:
        return asyncio.wrap_future(self._done).__await__()

    def result(self, timeout: float | None = None) -> Result:
        """Block until the job ends and return its `Result`, like `Future.result`: after
        `timeout` seconds raise `TimeoutError` and leave the job running (`wait(timeout)`
        stops polling instead)."""
        if _loop.in_engine_thread() and not self._done.done():
            raise RuntimeError("result() would block the engine loop; use `await job` there")
        timeout = _args.optional_timeout("timeout", timeout, inf_means_none=True, allow_zero=True)
        return self._done.result(timeout)

    def result_nowait(self) -> Result | None:
        """The `Result` if the job has ended, else None (never blocks)."""
        return self._done.result() if self._done.done() else None

    def _snapshot(self) -> JobSnapshot:
        """The job's state now, as plain data with texts cleaned of its key (what the views
        draw)."""
        secrets = (self.client.key,)
        return JobSnapshot(
            provider=self.provider, model=self.model, mode=self.request.mode,
            prompt=redact(self.prompt, *secrets), state=self.state, progress=self.progress,
            elapsed_s=self.elapsed_s, polls=self.polls,
            task_id=redact(self.task_id, *secrets) if self.task_id is not None else None,
            error_code=redact(self.error_code, *secrets) if self.error_code is not None else None,
            error_message=(redact(self.error_message, *secrets)
                           if self.error_message is not None else None),
            done=self.done(), reused=self.reused, result=self.result_nowait(),
            next_check_s=self.next_check_s)

    @property
    def next_check_s(self) -> float | None:
        """Seconds until the next status check (None before the first is scheduled or once
        the job has ended)."""
        due = self._next_check_mono
        if due is None or self.done():
            return None
        return max(0.0, due - time.monotonic())

    def cancel(self) -> None:
        """Stop polling and mark the job `cancelled` (no provider offers a cancel endpoint, so
        the provider may still finish and charge it)."""
        self._stop(State.CANCELLED, "cancelled by the user; the provider may still finish the task")

    def add_settler(self, settle: Callable[[float], None]) -> None:
        """Call `settle(seconds)` when `wait()` returns, so a view can finish its last update
        first (a saved notebook then keeps the final state, not a race with the watcher)."""
        with self._lock:
            self._settlers.append(settle)

    def add_listener(self, callback: Callable[["Job"], None]) -> None:
        """Call `callback(job)` after every change (from the engine thread)."""
        with self._lock:
            self._listeners.append(callback)
        if self.done():
            self._safe_call(callback)

    def remove_listener(self, callback: Callable[["Job"], None]) -> None:
        """Stop calling `callback`."""
        with self._lock:
            if callback in self._listeners:
                self._listeners.remove(callback)

    def download(self, dest: str | Path | None = None) -> Path:
        """Stream the video to `dest` (a file or directory; default `GROKVID_HOME/downloads`),
        atomically, and return the path. No credentials are sent with it. Ctrl-C (a notebook
        interrupt) stops the download: nothing is left behind, not even a partial file."""
        if _loop.in_engine_thread():
            raise RuntimeError("download() would block the engine loop; use download_async() there")
        finished = threading.Event()

        async def guarded() -> Path:
            try:
                return await self._download(dest)
            finally:
                finished.set()

        future = _loop.run_coroutine(guarded())
        try:
            # sleep-polled, not a blocking Condition.wait: a Ctrl-C arriving inside the latter can
            # leave this thread stuck re-acquiring the future's lock
            while not future.done():
                time.sleep(0.02)
            return future.result()
        except KeyboardInterrupt:
            future.cancel()  # cancels the task on the engine loop; its temporary file is removed
            finished.wait(10)  # ...before control returns to the user
            raise

    async def download_async(self, dest: str | Path | None = None) -> Path:
        """`download()` for async code (runs on the engine loop)."""
        return await _loop.wrap(_loop.run_coroutine(self._download(dest)))

    def __repr__(self) -> str:
        bits = [f"provider={self.provider!r}", f"model={self.model!r}", f"status={self.state.value!r}"]
        if self.task_id:
            bits.append(f"task_id={self.task_id!r}")
        if self.reused:
            bits.append("reused=True")
        return f"Job({', '.join(bits)})"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        from .display import job_bundle

        return job_bundle(self)

    def _ipython_display_(self) -> None:
        """Show the job in a notebook and keep that output live until it ends: status,
        progress and elapsed time, then the inline video or the error (see `display`)."""
        from .display import display_job

        display_job(self)

    # ---- state changes ------------------------------------------------------------------
    def _safe_call(self, callback: Callable[["Job"], None]) -> None:
        try:
            callback(self)
        except Exception:  # a broken display must not break the job
            log.exception("grokvid_nb job listener failed")

    def _notify(self) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for callback in listeners:
            self._safe_call(callback)

    def _set(self, **fields: Any) -> None:
        with self._lock:
            if self._done.done():  # cancelled or timed out meanwhile: the end state stands
                return
            self._set_locked(fields)
        self._notify()
        self._end_for_ledger()

    def _set_locked(self, fields: dict[str, Any]) -> None:
        for name, value in fields.items():
            setattr(self, name, value)
        ledger_fields = {k: (v.value if isinstance(v, State) else v) for k, v in fields.items()
                         if k in ("state", "task_id", "progress", "polls", "error_code", "error_message")}
        if ledger_fields.keys() <= DEFERRABLE:  # progress only: batched off the event loop
            if ledger_fields and not self._follower:
                self.client.ledger.update_soon(self.job_id, **ledger_fields)
        else:
            self._record(**ledger_fields)

    def _record(self, **fields: Any) -> bool:
        """Write to the ledger; on failure remember the `LedgerError` (the ledger keeps the
        update in memory and retries it) and return False. Never raises: a full disk must end
        the job clearly, not hang it."""
        if self._follower:
            return True
        try:
            self.client.ledger.update(self.job_id, **fields)
            return True
        except LedgerError as exc:
            self._ledger_error = exc
            log.warning("grokvid_nb: %s", exc)
            return False

    def _end_for_ledger(self) -> bool:
        """End the job `unknown` if a ledger write failed (the task id stays on the job and in
        the ledger's retry queue); True when it did."""
        if self._ledger_error is None:
            return False
        self._finish(State.UNKNOWN, code="ledger_error", message=(
            f"{self._ledger_error} The job stopped here because its progress could not be "
            f"recorded{'' if self.task_id is None else f'; its task id is {self.task_id}'}"))
        return True

    def _finish(self, state: State, status: TaskStatus | None = None,
                code: str | None = None, message: str | None = None) -> None:
        with self._lock:
            if self._done.done():
                return
            self._finish_locked(state, status, code, message)
        self._notify()

    def _finish_locked(self, state: State, status: TaskStatus | None,
                       code: str | None, message: str | None) -> None:
        self.finished_at = time.time()
        if self._started_mono is not None and self._latency is None:
            self._latency = time.monotonic() - self._started_mono
        if status is not None:
            self.last_status = status
            code = code or status.error_code
            message = message or status.error_message
        self.state = state
        if message:  # provider text may echo the request, key included
            message = redact(message, self.client.key)
        if code:  # so may an error code
            code = redact(code, self.client.key)
        self.error_code, self.error_message = code, message
        if state is State.SUCCEEDED and self.url_expires_at is None:
            self.url_expires_at = expires_at(self.finished_at, self.client.adapter.url_ttl_s,
                                             self.client.time_scale)
        result = self._build_result()
        saved = self._record(
            state=state.value, url_expires_at=self.url_expires_at, task_id=self.task_id, progress=self.progress,
            polls=self.polls, finished_at=self.finished_at, video_urls=list(result.video_urls),
            cost_usd=result.cost_usd, cost_source=result.cost_source, error_code=code,
            error_message=message,
            provider_created_at=status.created_at.timestamp() if status and status.created_at else None,
            provider_completed_at=status.completed_at.timestamp() if status and status.completed_at else None,
        )
        if not saved and self._ledger_error is not None and code != "ledger_error":
            # the end state stands (a finished video stays usable); the error says the ledger
            # did not take it yet, and where the task id is kept
            self.error_code = "ledger_error"
            self.error_message = "; ".join(m for m in (message, str(self._ledger_error)) if m)
            result = self._build_result()
        if state is State.SUCCEEDED and self._latency is not None and not self.reused:
            # the task finished somewhere between the last "not done" reply and this one
            seen_pending = self._last_pending_s if self._last_pending_s is not None else 0.0
            memory.add(self._memory_key(), (seen_pending + self._latency) / 2,
                       (self._latency - seen_pending) / 2)
        self._done.set_result(result)

    def _memory_key(self) -> MemoryKey:
        return (self.provider, self.client.endpoint, self.model, self.request.duration,
                self.request.params.get("resolution"))

    def _stop(self, state: State, message: str) -> None:
        if self._done.done():
            return
        self._cancel_requested = True
        task = self._task
        # never cut a submit off mid-flight: its reply may carry the id of a paid task. The
        # runner sees the job has ended as soon as the reply is in, records the id, and stops.
        if task is not None and not self._submit_in_flight:
            loop = _loop.engine_loop()
            loop.call_soon_threadsafe(task.cancel)
        # finish from here as well, so wait() returns even if the loop is busy
        self._finish(state, message=message)
        if not self._submitted.done():
            self._submitted.set_result(None)

    def _timings(self, status: TaskStatus | None) -> tuple[float | None, float | None]:
        """(queue_s, generation_s): from the provider's own figures where it gives them, else
        queue time as first seen by polling (submit -> first "running" reply)."""
        generation = queue = None
        if status is not None and status.processing_s is not None:
            generation = status.processing_s
        if status is not None and status.created_at and status.completed_at:
            total = max(0.0, (status.completed_at - status.created_at).total_seconds())
            if generation is None:
                generation = total
            else:
                queue = max(0.0, total - generation)
        if queue is None and self._first_running_s is not None:
            queue = self._first_running_s
        return queue, generation

    def _cost(self, status: TaskStatus | None, estimate: float | None) -> tuple[float | None, str | None]:
        """(cost_usd, cost_source): the reported cost; else the estimate for a success or a
        failure the provider documents as charged; 0.0 "not charged" for one it documents as
        free; else unknown (None, None)."""
        reported = _plausible_cost(self.provider, status.cost_usd if status is not None else None)
        if reported is not None:
            return reported, "reported"
        billing = status.billing if status is not None else None
        if billing is None and self.state is State.FAILED and status is not None \
                and status.state is State.FAILED and status.unrecognised is None:
            billing = self.client.adapter.failure_billing
        if self.state is State.SUCCEEDED or (billing == "charged" and self.state is State.FAILED):
            return (estimate, "estimated") if estimate is not None else (None, None)
        if billing == "not charged" and self.state is State.FAILED:
            return 0.0, "not charged"
        return None, None

    def _build_result(self) -> Result:
        status = self.last_status
        urls = status.video_urls if status else ()
        mode_spec = priced_spec(self.client.adapter, self.model, self.request.mode)
        cost, source = self._cost(status, mode_spec.estimate(self.request.params))
        queue_s, generation_s = self._timings(status)
        duration = (status.video_duration if status and status.video_duration
                    else mode_spec.clip_duration(self.request.params))
        return Result(
            provider=self.provider, model=self.model, mode=self.request.mode, status=self.state,
            task_id=self.task_id, prompt=self.prompt, params=dict(self.request.params),
            video_urls=tuple(urls), cost_usd=cost, cost_source=source, latency_s=self._latency,
            polls=self.polls, error_code=self.error_code, error_message=self.error_message,
            video_duration=duration, queue_s=queue_s, generation_s=generation_s,
            reused=self.reused, job_id=self.job_id, local_path=self.local_path,
            link=ResultLink(download=self.download, local_path=lambda: self.local_path,
                            secrets=(self.client.key,)),
            url_expires_at=self.url_expires_at, url_gone_at=self.url_gone_at,
        )

    # ---- the runner (engine loop) -------------------------------------------------------
    def _start(self, *, follow: bool = False) -> None:
        self._follower = follow

        async def launch() -> None:
            self._task = asyncio.current_task()
            try:
                if follow and not await self._await_task_id():
                    return
                await self._run()
            except asyncio.CancelledError:
                pass
            except Exception as exc:  # a bug must still end the job clearly
                log.exception("grokvid_nb job runner crashed")
                self._finish(State.UNKNOWN, message=f"internal error while polling: {exc!r}; "
                             "the task id is kept and gv.resume() can re-attach")
            finally:
                if not self._submitted.done():
                    self._submitted.set_result(None)

        _loop.run_coroutine(launch())

    async def _await_task_id(self) -> bool:
        """Wait (bounded by the deadline) for the process submitting this job to record its
        task id; True once it has, and this job polls the same task. If that process ends the
        job, or dies before the id is recorded, this job ends as the ledger says."""
        from ._ledger import owner_alive

        self._deadline = time.monotonic() + self.deadline_s
        step = min(1.0, max(0.2, 2.0 * self.client.time_scale))  # a ledger read per step
        while True:
            row = self.client.ledger.get(self.job_id)
            if row is None or row.task_id is not None or row.state != "queued" \
                    or not owner_alive(row.owner):
                break
            if not await self._sleep_until(step):
                self._finish(State.TIMED_OUT, message=(
                    "another process was still submitting this identical request when the "
                    "deadline passed; it was not sent again, and gv.resume() re-attaches once "
                    "its task id is recorded"))
                return False
        self._follower = False
        if row is not None and row.task_id is not None and row.state not in ("succeeded", "failed",
                                                                                "expired"):
            self._load(row)
            self.state = State.QUEUED if row.state in ("timed_out", "unknown", "cancelled") else State(row.state)
            self._notify()
            return True
        if row is not None and row.task_id is None and row.state == "queued":
            self._adopt_abandoned(row)
        elif row is not None:
            self._load(row)
            self._adopt_finished(row)
        else:
            self._finish(State.UNKNOWN, code="ledger_row_gone", message="the job's ledger row vanished")
        return False

    async def _run(self) -> None:
        if not self._deadline:  # a follower's wait for the task id already counts
            self._deadline = time.monotonic() + self.deadline_s
        if self.task_id is None and not await self._submit():
            return
        if not self._submitted.done():
            self._submitted.set_result(None)
        await self._poll_until_done()

    async def _keep_local_copy(self, url: str, attempts: int = 4) -> None:
        """Download the finished clip while its URL is alive (before the job reports done, so
        its `Result` already has `local_path`), retrying transient errors (dropped connections,
        timeouts, 429 and 5xx); never raises: the URL stays usable while it lives."""
        for attempt in range(attempts):
            try:
                await self._fetch(url, None, mark_gone=False)
                return
            except (TransportError, httpx.TransportError) as exc:
                reason: Exception = exc
            except DownloadError as exc:
                if exc.status_code is None or not (exc.status_code == 429 or exc.status_code >= 500):
                    log.warning("grokvid_nb: keeping a local copy failed: %s", exc)
                    return
                reason = exc
            except Exception as exc:
                log.warning("grokvid_nb: keeping a local copy failed: %s", exc)
                return
            if time.monotonic() >= self._deadline:  # the job's deadline bounds the retries too
                break
            log.info("grokvid_nb: download of the clip failed (%s); retrying", reason)
            await asyncio.sleep(self._backoff(attempt))
        log.warning("grokvid_nb: keeping a local copy failed after %d attempts", attempts)

    def _backoff(self, attempt: int, hint: float | None = None) -> float:
        scale = self.client.time_scale
        delay = min(30.0 * scale, (1.0 * scale) * (2 ** attempt)) * (0.5 + random.random() / 2)
        return max(delay, hint or 0.0)

    async def _sleep_until(self, delay: float) -> bool:
        """Sleep `delay` seconds unless the deadline comes first; False when it did."""
        remaining = self._deadline - time.monotonic()
        if delay >= remaining:
            await asyncio.sleep(max(0.0, remaining))
            return False
        await asyncio.sleep(delay)
        return True

    async def _submit(self) -> bool:
        client, adapter = self.client, self.client.adapter
        self.submitted_at = time.time()
        self._started_mono = time.monotonic()
        recorded = False

        def mark_sent() -> None:
            # written to the ledger at the last moment before the submit leaves (after any wait
            # for the rate limit): resume() tells "may have been sent" from "never sent"
            nonlocal recorded
            if not recorded:
                if not self._record(submitted_at=self.submitted_at):
                    assert self._ledger_error is not None
                    raise self._ledger_error
                recorded = True
        for attempt in range(_SUBMIT_ATTEMPTS):
            request = adapter.build_submit(self._wire, client.endpoint, client.key)
            self._submit_in_flight = True
            try:
                response = await client.send(request, deadline=self._deadline, on_send=mark_sent)
                self.task_id = adapter.parse_submit(response)
            except LedgerError:
                self._submit_in_flight = False
                self._finish(State.FAILED, code="ledger_error", message=(
                    f"{self._ledger_error} Nothing was sent: a submit is never made that the "
                    "ledger could not record"))
                return False
            except DeadlineExceededError as exc:
                if exc.maybe_sent:
                    self._finish(State.UNKNOWN, code="submit_reply_lost", message=(
                        f"{exc}. The submit may have reached {self.provider}, so a task may have been "
                        "created and charged. It was NOT resent."))
                else:
                    self._finish(State.TIMED_OUT, message=f"{exc}; no task was created")
                return False
            except (httpx.TransportError, ProviderError) as exc:
                decision = after_failed_submit(self.provider, exc)
                if decision.action is not SubmitAction.RETRY:
                    state = State.UNKNOWN if decision.action is SubmitAction.UNKNOWN else State.FAILED
                    self._finish(state, code=decision.code, message=decision.message)
                    return False
                reason, hint = decision.message, decision.retry_after
                if isinstance(exc, RateLimitedError):
                    # Retry-After is in provider seconds: scaled like every other timing
                    hint = None if hint is None else hint * client.time_scale
                    client.limiter.refused_with(hint, SUBMIT)
            else:
                self._submit_in_flight = False
                key = client.key.reveal()  # a very short test key is in every id: not a leak
                if contains_secret(self.task_id, key if len(key) >= 8 else None):
                    # a task id carrying the key would reach the ledger, the table and the
                    # gallery: it is not kept, and the job says why (item 8 of issue 14)
                    self.task_id = None
                    self._finish(State.UNKNOWN, code="task_id_echoes_key", message=(
                        f"{self.provider} returned a task id containing the API key; it was not "
                        "recorded nor polled. A task may have been created and charged: check the "
                        "provider's dashboard. It was NOT resent."))
                    return False
                with self._lock:
                    if self._done.done():
                        # stopped while the submit was in flight: keep the paid task's id
                        # (gv.resume() or an identical request re-attaches), poll no more
                        self._record(task_id=self.task_id, accepted_at=time.time())
                        return False
                    saved = self._record(task_id=self.task_id, accepted_at=time.time(),
                                         state=State.QUEUED.value)
                    if saved:  # the state went to the ledger with the id: no second write
                        self.state = State.QUEUED
                if not saved:  # the id is on this job and in the ledger's retry queue
                    self._end_for_ledger()
                    return False
                self._notify()
                return not self._done.done()
            self._submit_in_flight = False
            log.info("grokvid_nb: submit to %s not accepted (%s); retrying", self.provider, reason)
            if self._cancel_requested or not await self._sleep_until(self._backoff(attempt, hint)):
                break
        if not self._done.done():
            if time.monotonic() >= self._deadline:
                self._finish(State.TIMED_OUT, message="the deadline passed before the provider accepted "
                             "the submit; no task was created")
            else:
                self._finish(State.FAILED, code="submit_not_accepted", message=(
                    f"{self.provider} did not accept the submit after {_SUBMIT_ATTEMPTS} attempts "
                    f"(last: {reason}); no task was created"))
        return False

    async def _poll_until_done(self) -> None:
        client, adapter = self.client, self.client.adapter
        assert self.task_id is not None
        key = self._memory_key()
        schedule = PollSchedule(adapter.polling, scale=client.time_scale, fixed=client.poll_interval,
                                learned=memory.window(key, precision=2 * client.time_scale),
                                provider=self.provider, duration=self.request.duration,
                                ratios=lambda: end_ratios.window(key))
        start = self._started_mono if self._started_mono is not None else time.monotonic()
        attached = self._started_mono is None  # re-attached to a task submitted elsewhere
        if self._started_mono is None:
            self._started_mono = start
        hint: float | None = None
        # `unrecognised`: replies in a row that could not be read or were outside the vocabulary
        errors = not_found = unrecognised = 0
        last_error = ""  # what the last failed poll got, for the message if the deadline comes
        said_queued = False  # the last status reply's own word said "queued" (not the submit's)
        while True:
            elapsed = time.monotonic() - start
            delay = (self._backoff(errors, hint) if errors else
                     schedule.next_delay(elapsed, self.progress, hint,
                                         queued=said_queued and queue_words.trusted(self.provider)))
            self._next_check_mono = time.monotonic() + delay
            if not await self._sleep_until(delay):
                self._finish(State.TIMED_OUT, message=(
                    f"no result within the deadline of {self.deadline_s:g} s"
                    + (f" (the last status poll got: {last_error})" if errors else "")
                    + "; the task id is kept and gv.resume() can re-attach"))
                return
            hint = None
            self.polls += 1
            try:
                response = await client.send(adapter.build_poll(self.task_id, client.endpoint, client.key),
                                             deadline=self._deadline, priority=schedule.priority, kind=POLL)
                status = adapter.parse_poll(response)
            except RateLimitedError as exc:
                hint = None if exc.retry_after is None else exc.retry_after * client.time_scale
                errors += 1
                last_error = str(exc) + ("" if exc.retry_after is None else f" (Retry-After {exc.retry_after:g} s)")
                client.limiter.refused_with(hint, POLL)
                continue
            except ProviderResponseError as exc:  # not JSON, too large, a redirect, no status word
                errors += 1
                unrecognised += 1
                last_error = str(exc)
                if self._after_unreadable(exc, unrecognised):
                    return
                continue
            except (ProviderServerError, httpx.TransportError, TransportError) as exc:
                errors += 1
                last_error = str(exc) if isinstance(exc, ProviderError) else f"{type(exc).__name__}: {exc}"
                log.info("grokvid_nb: status poll of %s failed (%s); retrying", self.provider, exc)
                continue
            except TaskNotFoundError as exc:
                not_found += 1
                if not_found >= 3:
                    self._finish(State.FAILED, code="task_not_found", message=str(exc))
                    return
                errors += 1
                continue
            except ProviderError as exc:
                self._finish(State.UNKNOWN, code=exc.code or f"http_{exc.status_code}", message=(
                    f"could not read the task's status: {exc}. The task id is kept; fix the "
                    "cause and gv.resume() re-attaches"))
                return
            errors = not_found = 0
            if self._done.done():  # cancelled while this poll was in flight
                return
            unrecognised = unrecognised + 1 if status.unrecognised is not None else 0
            if unrecognised:
                if self._after_unrecognised(status, unrecognised):
                    return
                continue
            if said_queued and status.state is State.SUCCEEDED and queue_words.contradicted(self.provider):
                log.info("grokvid_nb: a %s job went from 'queued' straight to done: its queue word is "
                         "ignored from now on in this session", self.provider)
            said_queued = status.state is State.QUEUED
            if not status.state.terminal:
                self._last_pending_s = time.monotonic() - start
            if status.state is State.RUNNING and self._first_running_s is None:
                self._first_running_s = time.monotonic() - start
            self.last_status = status
            changed = status.state is not self.state or status.progress != self.progress
            if status.state.terminal:
                if status.state is State.SUCCEEDED and not self.reused and not attached:
                    # how this end related to what the progress predicted, for later jobs (not
                    # for a re-attached task: its readings start mid-run, on another clock)
                    learned = schedule.end_ratio(self._last_pending_s or 0.0, time.monotonic() - start)
                    if learned is not None:
                        end_ratios.add(key, *learned)
                self.progress = status.progress
                if status.state is State.SUCCEEDED and status.video_urls and (
                        self.client.download_dir is not None or self.client.keep_local):
                    await self._keep_local_copy(status.video_urls[0])
                self._finish(status.state, status)
                return
            if changed:
                fields: dict[str, Any] = {"progress": status.progress, "polls": self.polls}
                if status.state is not self.state:  # a state change is written at once
                    fields["state"] = status.state
                self._set(**fields)
            else:
                client.ledger.update_soon(self.job_id, polls=self.polls)

    def _after_unreadable(self, error: ProviderResponseError, in_a_row: int) -> bool:
        """Log a status reply that could not be read (not JSON, over the size cap, a redirect,
        no status word) and end the job `unknown` once `UNRECOGNISED_LIMIT` replies in a row
        were unreadable or unrecognised (a flaky gateway page now and then is retried; a
        provider that never answers readably is not polled silently until the deadline)."""
        said = redact(str(error), self.client.key)
        log.warning("grokvid_nb: %s task %s: unreadable status reply %d in a row: %s", self.provider,
                    redact(self.task_id or "", self.client.key), in_a_row, said)
        if in_a_row < UNRECOGNISED_LIMIT:
            return False
        self._finish(State.UNKNOWN, code="unreadable_reply", message=(
            f"could not read the task's status: {in_a_row} replies in a row were unreadable, the "
            f"last: {said}. The task id is kept; gv.resume() re-attaches once {self.provider} "
            "answers normally"))
        return True

    def _after_unrecognised(self, status: TaskStatus, in_a_row: int) -> bool:
        """Log a reply outside the provider's vocabulary and end the job when the rule says so
        (`adapters._reply.ends_job`: at once if clear, else after a few in a row)."""
        log.warning("grokvid_nb: %s task %s: unrecognised reply %d in a row: %s", self.provider,
                    redact(self.task_id or "", self.client.key), in_a_row,
                    redact(status.unrecognised or "", self.client.key))
        if not ends_job(status, in_a_row):
            return False
        self.progress = status.progress if status.progress is not None else self.progress
        self._finish(status.state, status)
        return True

    async def _download(self, dest: str | Path | None) -> Path:
        result = self._done.result() if self._done.done() else None
        if result is None or not result.ok:
            raise RuntimeError(f"nothing to download: the job is {self.state.value}")
        kept = self.local_path if self.local_path is not None and trusted_copy(self.local_path) else None
        if dest is None and kept is not None:
            return kept
        url = result.video_urls[0]
        target = download_target(dest, self.client.download_dir or self.client.home / "downloads",
                                 default_name(self.provider, self.task_id, self.job_id))
        if url_expired(self.url_expires_at, self.url_gone_at):
            if kept is not None:  # the clip lives on in the kept copy
                return _copy_file(kept, target)
            raise ResultExpiredError(
                f"{expiry_text(self.url_expires_at, self.url_gone_at)} and no local copy was kept; "
                "nothing was written. Generate it again with reuse=False", url=url,
                expired_at=self.url_gone_at or self.url_expires_at)
        return await self._fetch(url, target)

    async def _fetch(self, url: str, target: Path | None, *, mark_gone: bool = True) -> Path:
        """Stream `url` to `target` (default: the download folder) and remember it as the
        kept copy; an answer of 403/404/410 marks the URL gone (`ResultExpiredError`) unless
        `mark_gone` is False (the copy made at the finish: a CDN may lag a moment)."""
        if target is None:
            target = download_target(None, self.client.download_dir or self.client.home / "downloads",
                                     default_name(self.provider, self.task_id, self.job_id))
        try:
            deadline = time.monotonic() + download_timeout_s()  # the wait for a turn counts too
            async with self.client.download_gate().slot(deadline, what=urlsplit(url).hostname or "the result host"):
                await fetch_video(self.client.download_http(), url, target, deadline=deadline)
        except DownloadError as exc:
            if exc.status_code not in GONE_STATUSES or not mark_gone:
                raise
            self.url_gone_at = time.time()
            self._record(url_gone_at=self.url_gone_at)
            raise ResultExpiredError(
                f"HTTP {exc.status_code} from {url}: {expiry_text(self.url_expires_at, self.url_gone_at)}; "
                "no local copy was kept and nothing was written. Generate it again with reuse=False",
                url=url, expired_at=self.url_gone_at, status_code=exc.status_code) from None
        self.local_path = target
        self._record(local_path=str(target))  # the file is complete either way; a failure is logged
        if self._done.done():
            self._notify()
        return target

    # ---- re-attaching -------------------------------------------------------------------
    def _load(self, row: LedgerRow) -> None:
        """Copy a ledger row's progress into this job (for reuse and resume)."""
        self.state = State(row.state)
        self.task_id = row.task_id
        self.progress = row.progress
        self.polls = row.polls
        self.submitted_at = row.submitted_at
        self.error_code, self.error_message = row.error_code, row.error_message
        self.local_path = Path(row.local_path) if row.local_path else None
        self.url_expires_at, self.url_gone_at = row.url_expires_at, row.url_gone_at
        if row.finished_at and row.submitted_at:
            self._latency = row.finished_at - row.submitted_at

    def _adopt_abandoned(self, row: LedgerRow) -> None:
        """An intent whose process is gone without a task id: settled in the ledger (never
        sent -> failed, maybe sent -> unknown, never resent) and this job ends that way."""
        try:
            state, code, message = self.client.ledger.settle_abandoned(row)
        except LedgerError as exc:
            self._ledger_error = exc
            state, code, message = "unknown", "ledger_error", str(exc)
        with self._lock:
            if self._done.done():
                return
            self.state, self.error_code, self.error_message = State(state), code, message
            self.finished_at = time.time()
            self._done.set_result(self._build_result())
        if not self._submitted.done():
            self._submitted.set_result(None)
        self._notify()

    def _adopt_finished(self, row: LedgerRow) -> None:
        """Mark a job that the ledger says is over as finished, without any request."""
        from datetime import datetime

        def when(ts: float | None) -> datetime | None:
            return datetime.fromtimestamp(ts, tz=UTC) if ts else None

        status = TaskStatus(
            state=State(row.state), video_urls=tuple(row.video_urls),
            cost_usd=row.cost_usd if row.cost_source == "reported" else None,
            billing={"estimated": "charged", "not charged": "not charged"}.get(row.cost_source or ""),
            error_code=row.error_code, error_message=row.error_message,
            created_at=when(row.provider_created_at), completed_at=when(row.provider_completed_at))
        self.last_status = status
        self.finished_at = row.finished_at
        self._done.set_result(self._build_result())
        self._submitted.set_result(None)


def _copy_file(source: Path, target: Path) -> Path:
    """Copy a kept clip to `target` atomically."""
    with AtomicWriter(target) as out, source.open("rb") as src:
        while piece := src.read(1 << 20):
            out.write(piece)
    return target
