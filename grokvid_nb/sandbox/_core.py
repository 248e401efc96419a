"""Provider-neutral machinery: tasks and their timeline, magic words, faults, stats, limits.

A task's whole future is decided when it is created (latency and outcome drawn from
the sandbox's seeded ``random.Random``, or forced by magic words in the prompt); its
state at any moment is then a pure function of the injected clock. Nothing runs in
the background, so the emulation behaves the same under uvicorn and in-process.
"""

from __future__ import annotations

import math
import random
import re
import secrets
import time
import uuid
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any, Literal

from ._config import FAILURE_KINDS, PROVIDERS, ProviderProfile, RateLimit

__all__ = [
    "FAULTS",
    "PHASES",
    "Fault",
    "FaultPlan",
    "Invalid",
    "Magic",
    "RateLimiter",
    "SandboxDrop",
    "SandboxStats",
    "Task",
    "TaskSpec",
    "parse_magic",
    "sample_fate",
    "uuid7",
]

Phase = Literal["submit", "poll", "download"]
PHASES: tuple[str, ...] = ("submit", "poll", "download")
"""Where a fault can be injected."""

FAULTS: tuple[str, ...] = ("429", "429-date", "500", "502", "503", "non_json", "drop", "lost_reply")
"""Injectable faults; ``lost_reply`` exists for the submit phase only."""


class SandboxDrop(Exception):
    """Raised by the app when it drops a connection it cannot close itself.

    :meth:`Sandbox.transport` turns it into ``httpx.RemoteProtocolError``; under
    :meth:`Sandbox.serve` the socket is closed instead and this never escapes.
    """


class Invalid(Exception):
    """A request the provider would refuse; carries the HTTP status and message."""

    def __init__(self, message: str, status: int = 400, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code


# --- magic words ------------------------------------------------------------------

_MAGIC = re.compile(r"\[sandbox:([a-z_]+)(?:=([^\]]*))?\]", re.IGNORECASE)


@dataclass(frozen=True)
class Magic:
    """Outcome overrides parsed from ``[sandbox:...]`` words in a prompt."""

    outcome: Literal["success", "failed", "expired"] | None = None
    fail: str | None = None
    """A failure kind (moderation/timeout/internal) or a literal provider code."""
    latency: float | None = None


def parse_magic(prompt: str) -> Magic:
    """Read the magic words of a prompt; unknown words are ignored, later ones win."""
    outcome: Literal["success", "failed", "expired"] | None = None
    fail: str | None = None
    latency: float | None = None
    for match in _MAGIC.finditer(prompt or ""):
        word, value = match.group(1).lower(), match.group(2)
        if word == "fail":
            outcome, fail = "failed", (value.strip() if value and value.strip() else "moderation")
        elif word == "expire":
            outcome, fail = "expired", None
        elif word == "succeed":
            outcome, fail = "success", None
        elif word == "latency" and value is not None:
            try:
                seconds = float(value)
            except ValueError:
                continue
            if seconds >= 0 and math.isfinite(seconds):
                latency = seconds
    return Magic(outcome=outcome, fail=fail, latency=latency)


# --- tasks ----------------------------------------------------------------------


@dataclass
class TaskSpec:
    """What a provider emulation decided from a valid submit body."""

    model: str
    mode: str
    prompt: str
    duration: float
    aspect_ratio: str = "16:9"
    resolution: str = "720p"
    cost_usd: float | None = None
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class Task:
    """One emulated generation job and its predetermined timeline."""

    provider: str
    task_id: str
    spec: TaskSpec
    created_at: float
    latency: float
    queue_time: float
    outcome: Literal["success", "failed", "expired"]
    fail_kind: str | None = None
    fail_code: str | None = None
    api_key: str | None = None
    reply_lost: bool = False

    @property
    def finished_at(self) -> float:
        """Clock time at which the task reaches its terminal state."""
        return self.created_at + self.latency

    def phase(self, now: float) -> Literal["queued", "processing", "finished"]:
        """Where the task is at clock time ``now``."""
        elapsed = now - self.created_at
        if elapsed >= self.latency:
            return "finished"
        if elapsed < self.queue_time:
            return "queued"
        return "processing"

    def progress(self, now: float) -> int:
        """Percent done: 0 while queued, 1-99 while processing, 100 when finished."""
        phase = self.phase(now)
        if phase == "finished":
            return 100
        if phase == "queued":
            return 0
        span = max(self.latency - self.queue_time, 1e-9)
        return min(99, max(1, int(100 * (now - self.created_at - self.queue_time) / span)))

    def succeeded(self, now: float) -> bool:
        """Whether the task has finished successfully by ``now``."""
        return self.outcome == "success" and self.phase(now) == "finished"


def typical_latency(profile: ProviderProfile, duration: float, resolution: str) -> float:
    """Unscaled latency of a request before noise, under ``latency_model="by_request"``."""
    low, high = profile.latency
    d_low, d_high = profile.durations
    share = 0.5 if d_high <= d_low else min(1.0, max(0.0, (duration - d_low) / (d_high - d_low)))
    base = low + (high - low) * share
    return base * (1.1 if str(resolution).lower() == "720p" else 1.0)


def sample_fate(
    rng: random.Random, profile: ProviderProfile, prompt: str, time_scale: float,
    duration: float = 6.0, resolution: str = "480p",
) -> tuple[float, float, Literal["success", "failed", "expired"], str | None]:
    """Draw ``(latency, queue_time, outcome, fail)`` for a new task, all in scaled seconds.

    Always draws the same number of values so magic words never shift the sequence
    of the seeded generator for later tasks.
    """
    if profile.latency_model == "uniform" or profile.latency[0] == profile.latency[1]:
        raw_latency = rng.uniform(*profile.latency)
    else:
        noise = rng.uniform(-profile.jitter, profile.jitter)
        # the noise may reach a little past the documented range ("about 40-60 s")
        low, high = profile.latency
        raw_latency = min(max(typical_latency(profile, duration, resolution) * (1 + noise),
                              low * (1 - profile.jitter)), high * (1 + profile.jitter))
    roll = rng.random()
    kind_roll = rng.random()
    magic = parse_magic(prompt)
    latency = (magic.latency if magic.latency is not None else raw_latency) * time_scale
    outcome: Literal["success", "failed", "expired"]
    fail: str | None = None
    if magic.outcome is not None:
        outcome, fail = magic.outcome, magic.fail
    elif roll < profile.failure_rate:
        outcome = "failed"
        kinds = profile.failure_kinds or FAILURE_KINDS
        fail = kinds[min(len(kinds) - 1, int(kind_roll * len(kinds)))]
    elif roll < profile.failure_rate + profile.expire_rate:
        outcome = "expired"
    else:
        outcome = "success"
    return latency, latency * profile.queue_fraction, outcome, fail


def uuid7() -> uuid.UUID:
    """A time-ordered UUID (version 7), as Pixazo's request ids are."""
    value = (time.time_ns() // 1_000_000) << 80 | secrets.randbits(80)
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 4122 variant
    return uuid.UUID(int=value)


# --- faults ---------------------------------------------------------------------


@dataclass
class Fault:
    """One injected fault waiting to fire ``remaining`` more times."""

    provider: str
    phase: str
    kind: str
    remaining: int
    retry_after: int = 1


class FaultPlan:
    """Faults queued per (provider, phase), consumed in order of injection."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def add(self, provider: str, phase: str, fault: str, times: int = 1, retry_after: int = 1) -> Fault:
        """Queue a fault; ``provider`` may be ``"*"`` for any provider."""
        if provider != "*" and provider not in PROVIDERS:
            raise ValueError(f"unknown provider {provider!r}; expected one of {PROVIDERS} or '*'")
        if phase not in PHASES:
            raise ValueError(f"unknown phase {phase!r}; expected one of {PHASES}")
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; expected one of {FAULTS}")
        if fault == "lost_reply" and phase != "submit":
            raise ValueError("'lost_reply' only applies to the submit phase")
        if times < 1:
            raise ValueError("times must be at least 1")
        if retry_after < 0:
            raise ValueError("retry_after must not be negative")
        entry = Fault(provider, phase, fault, times, retry_after)
        self._faults.append(entry)
        return entry

    def take(self, provider: str, phase: str, *, lost_reply: bool = False) -> Fault | None:
        """Consume one firing of the first matching fault, if any.

        ``lost_reply=False`` matches every kind except ``lost_reply``; ``True`` matches
        only ``lost_reply`` (it fires after the task has been created).
        """
        for entry in self._faults:
            if entry.phase != phase or entry.provider not in (provider, "*"):
                continue
            if (entry.kind == "lost_reply") != lost_reply:
                continue
            entry.remaining -= 1
            if entry.remaining <= 0:
                self._faults.remove(entry)
            return entry
        return None

    def pending(self) -> list[Fault]:
        """Faults not yet used up."""
        return list(self._faults)

    def clear(self) -> None:
        """Forget every queued fault."""
        self._faults.clear()


# --- stats ----------------------------------------------------------------------


@dataclass
class SandboxStats:
    """Counters per provider, for tests: what the sandbox received and did.

    Each counter maps a provider name to a count (0 when never seen).
    ``faults`` counts fired faults by ``(provider, phase, fault)``.
    """

    submits: Counter[str] = field(default_factory=Counter)
    tasks_created: Counter[str] = field(default_factory=Counter)
    polls: Counter[str] = field(default_factory=Counter)
    downloads: Counter[str] = field(default_factory=Counter)
    rate_limited: Counter[str] = field(default_factory=Counter)
    rejected: Counter[str] = field(default_factory=Counter)
    faults: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    tasks: list[Task] = field(default_factory=list)

    def for_provider(self, provider: str) -> dict[str, int]:
        """All counters of one provider as a plain dict."""
        return {
            "submits": self.submits[provider],
            "tasks_created": self.tasks_created[provider],
            "polls": self.polls[provider],
            "downloads": self.downloads[provider],
            "rate_limited": self.rate_limited[provider],
            "rejected": self.rejected[provider],
        }

    def reset(self) -> None:
        """Zero every counter and forget the task list (tasks stay pollable)."""
        for counter in (self.submits, self.tasks_created, self.polls, self.downloads):
            counter.clear()
        self.rate_limited.clear()
        self.rejected.clear()
        self.faults.clear()
        self.tasks.clear()


# --- rate limits ------------------------------------------------------------------


class RateLimiter:
    """Sliding-window limiter keyed by (provider, api key); refused requests don't count."""

    def __init__(self) -> None:
        self._hits: dict[tuple[str, str], deque[float]] = {}

    def check(self, provider: str, key: str, limit: RateLimit, now: float, scale: float = 1.0) -> float | None:
        """Record a request and return ``None``, or return the seconds to wait if refused."""
        windows = [(n, 1.0 * scale) for n in (limit.per_second,) if n] + [
            (n, 60.0 * scale) for n in (limit.per_minute,) if n
        ]
        if not windows:
            return None
        hits = self._hits.setdefault((provider, key), deque())
        longest = max(span for _, span in windows)
        while hits and hits[0] <= now - longest:
            hits.popleft()
        wait = 0.0
        for allowed, span in windows:
            recent = [t for t in hits if t > now - span]
            if len(recent) >= allowed:
                wait = max(wait, recent[-allowed] + span - now)
        if wait > 0:
            return wait
        hits.append(now)
        return None
