"""The normalized vocabulary: states (and every set of them), provider statuses, requests,
and the plain snapshots the views render (`ResultData`, `JobSnapshot`).

Everything here is data: the engine produces it, the adapters and the views read it, and
this module imports nothing else of the package but `_secrets`."""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ._secrets import Secret

__all__ = [
    "MODES", "PENDING_STATES", "RESUMABLE_STATES", "REUSABLE_STATES", "TERMINAL_STATES",
    "BILLING_WORDS", "MODERATED", "JobSnapshot", "ResultData", "ResultLink", "State", "TaskStatus",
    "VideoRequest",
]

#: The error code of a job the provider's content moderation blocked (a first-class outcome:
#: the views say "moderated", and the cost is the provider's when it reports one).
MODERATED = "moderated"
#: What a finished job cost, as far as the provider documents it.
BILLING_WORDS = ("charged", "not charged", "unknown")

#: Every generation mode any provider offers.
MODES = ("text-to-video", "image-to-video", "reference-to-video", "edit", "extend")


class State(str, enum.Enum):
    """A job's normalized state; `str` so it compares equal to its value."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"
    UNKNOWN = "unknown"

    @property
    def terminal(self) -> bool:
        """True once the job will not change any more without being resumed."""
        return self in TERMINAL_STATES

    def __str__(self) -> str:
        return self.value


#: States a job leaves on its own: it is waiting for, or being made by, the provider.
PENDING_STATES = (State.QUEUED, State.RUNNING)
#: States a job ends in (it changes again only when resumed).
TERMINAL_STATES = (State.SUCCEEDED, State.FAILED, State.EXPIRED, State.CANCELLED, State.TIMED_OUT,
                   State.UNKNOWN)
#: States whose job is still worth re-attaching to (`gv.resume()`).
# (cancelled too: cancel() only stops the local polling, the provider may still finish it)
RESUMABLE_STATES = (*PENDING_STATES, State.TIMED_OUT, State.UNKNOWN, State.CANCELLED)
#: States that a repeated identical request reuses instead of paying again.
REUSABLE_STATES = (*PENDING_STATES, State.SUCCEEDED, State.TIMED_OUT, State.CANCELLED, State.UNKNOWN)


@dataclass(frozen=True)
class TaskStatus:
    """One provider status reply, normalized.

    `cost_usd` is only what the provider *reported*; estimates live elsewhere. Timestamps are the
    provider's own (aware datetimes) when it gives them. `billing` is what the provider's docs
    say this outcome costs ("charged", "not charged"; None when they say nothing).
    `unrecognised` is set when the reply was not in the provider's documented vocabulary (a
    status word it never documented, or a finished reply without a usable URL): it says what
    was wrong, and `state` is FAILED where the meaning is clear, else UNKNOWN (the engine ends
    the job after a few such replies in a row; see `adapters._reply.ends_job`).
    """

    state: State
    progress: float | None = None
    video_urls: tuple[str, ...] = ()
    cost_usd: float | None = None
    error_code: str | None = None
    error_message: str | None = None
    created_at: datetime | None = None
    completed_at: datetime | None = None
    video_duration: float | None = None
    raw_status: str | None = None
    processing_s: float | None = None  # generation time the provider reports (APIXO costTime)
    billing: str | None = None
    unrecognised: str | None = None

    @property
    def video_url(self) -> str | None:
        """The first result URL, if any."""
        return self.video_urls[0] if self.video_urls else None


@dataclass(frozen=True)
class VideoRequest:
    """A validated, provider-specific request: what will be sent, before any I/O.

    `params` holds the normalized user parameters (duration, resolution, ...), with the
    provider's defaults filled in, so the same request always hashes the same way.
    """

    provider: str
    model: str
    mode: str
    prompt: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def fingerprint(self) -> str:
        """A stable text identifying this request (used to detect identical re-submits)."""
        return json.dumps(
            {"provider": self.provider, "model": self.model, "mode": self.mode,
             "prompt": self.prompt, "params": dict(self.params)},
            sort_keys=True, separators=(",", ":"), default=str,
        )

    @property
    def duration(self) -> float | None:
        """The requested duration in seconds, if the request has one."""
        value = self.params.get("duration")
        return float(value) if value is not None else None


@dataclass(frozen=True)
class ResultLink:
    """How a result reaches what produced it, as plain callables (so neither `Result` nor the
    views import the engine): download the video, the local copy if any, the keys to redact."""

    download: Callable[[str | Path | None], Path]
    local_path: Callable[[], Path | None]
    secrets: tuple[Secret | None, ...] = ()


@dataclass(frozen=True)
class ResultData:
    """The outcome of one job, as data (`Result` adds `download()` and the notebook display).
    `ok` is True only for a succeeded job with a video URL.

    `cost_source` is "reported" (the provider said what it charged), "estimated" (from the price
    table: a success, or a failure the provider documents as charged), "not charged" (a failure
    the provider documents as free; `cost_usd` is 0.0) or None (unknown). `latency_s` runs from the submit to the moment the client learned
    the job was done; `queue_s`/`generation_s` come from provider timestamps where given.
    `url_expires_at` is when the provider's URL is expected to expire (None: not documented),
    `url_gone_at` when it was seen expired; `local_path` the kept copy, if any.
    """

    provider: str
    model: str
    mode: str
    status: State
    task_id: str | None
    prompt: str
    params: Mapping[str, Any]
    video_urls: tuple[str, ...] = ()
    cost_usd: float | None = None
    cost_source: str | None = None
    latency_s: float | None = None
    polls: int = 0
    error_code: str | None = None
    error_message: str | None = None
    video_duration: float | None = None
    queue_s: float | None = None
    generation_s: float | None = None
    reused: bool = False
    job_id: str | None = None
    local_path: Path | None = None
    link: ResultLink | None = field(default=None, repr=False, compare=False)
    url_expires_at: float | None = None  # epoch s; when the provider's URL is expected to expire
    url_gone_at: float | None = None  # epoch s; when a download saw the URL gone (403/404/410)

    @property
    def ok(self) -> bool:
        """True when the video was made."""
        return self.status is State.SUCCEEDED and bool(self.video_urls)

    @property
    def moderated(self) -> bool:
        """True when the provider's content moderation blocked the video."""
        return self.error_code == MODERATED

    @property
    def video_url(self) -> str | None:
        """The first result URL."""
        return self.video_urls[0] if self.video_urls else None


@dataclass(frozen=True)
class JobSnapshot:
    """A job's state at one moment, texts already cleaned of its key: everything the views need
    to draw it. `result` is set once the job has ended."""

    provider: str
    model: str
    mode: str
    prompt: str
    state: State
    progress: float | None
    elapsed_s: float | None
    polls: int
    task_id: str | None
    error_code: str | None
    error_message: str | None
    done: bool
    reused: bool
    result: ResultData | None = None
    #: seconds until the next status check (None: none scheduled, or the job has ended)
    next_check_s: float | None = None
