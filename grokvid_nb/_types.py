"""The normalized vocabulary shared by every provider: states, statuses and requests."""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Mapping

__all__ = ["State", "TaskStatus", "VideoRequest", "TERMINAL_STATES", "MODES"]

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


TERMINAL_STATES = frozenset(
    {State.SUCCEEDED, State.FAILED, State.EXPIRED, State.CANCELLED, State.TIMED_OUT, State.UNKNOWN}
)


@dataclass(frozen=True)
class TaskStatus:
    """One provider status reply, normalized.

    `cost_usd` is only what the provider *reported*; estimates live elsewhere. Timestamps are the
    provider's own (aware datetimes) when it gives them.
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
