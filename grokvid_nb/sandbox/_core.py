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

from ._config import (
    DEFAULT_FAILURE_KINDS,
    LATENCY_MODELS,
    PROGRESS_MODELS,
    PROVIDERS,
    URL_STYLES,
    ProviderProfile,
    RateLimit,
)

__all__ = [
    "FAULTS",
    "PHASES",
    "Fault",
    "FaultPlan",
    "Invalid",
    "Fate",
    "Magic",
    "draw_fate",
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


Outcome = Literal["success", "failed", "expired", "moderated"]


@dataclass(frozen=True)
class Magic:
    """Outcome overrides parsed from ``[sandbox:...]`` words in a prompt."""

    outcome: Outcome | None = None
    fail: str | None = None
    """A failure kind (moderation/timeout/internal/charged) or a literal provider code."""
    latency: float | None = None
    latency_model: str | None = None
    moderation_url: Literal["null", "absent"] = "null"
    status_word: str | None = None
    thumbnail: bool = False
    url_style: str | None = None
    ttl: float | None = None
    queue: float | None = None
    progress_model: str | None = None


def _number(value: str | None, low: float = 0.0, high: float = math.inf) -> float | None:
    try:
        number = float(value) if value is not None else math.nan
    except ValueError:
        return None
    return number if low <= number <= high and math.isfinite(number) else None


def parse_magic(prompt: str) -> Magic:
    """Read the magic words of a prompt; unknown words are ignored, later ones win."""
    found: dict[str, Any] = {}
    for match in _MAGIC.finditer(prompt or ""):
        word, value = match.group(1).lower(), match.group(2)
        text = value.strip() if value is not None else ""
        if word == "fail":
            found.update(outcome="failed", fail=text or "moderation")
        elif word == "expire":
            found.update(outcome="expired", fail=None)
        elif word == "succeed":
            found.update(outcome="success", fail=None)
        elif word == "moderate":
            found.update(outcome="moderated", fail="moderation",
                         moderation_url="absent" if text.lower() == "absent" else "null")  # fmt: skip
        elif word == "latency" and value is not None:
            if text.lower() in LATENCY_MODELS:
                found["latency_model"] = text.lower()
            elif (seconds := _number(text)) is not None:
                found["latency"] = seconds
        elif word == "status" and text:
            found["status_word"] = text
        elif word == "thumbnail":
            found["thumbnail"] = True
        elif word == "url" and text.lower() in URL_STYLES:
            found["url_style"] = text.lower()
        elif word == "ttl" and (seconds := _number(text)) is not None:
            found["ttl"] = seconds
        elif word == "queue" and (share := _number(text, 0.0, 0.99)) is not None:
            found["queue"] = share
        elif word == "progress" and text.lower() in PROGRESS_MODELS:
            found["progress_model"] = text.lower()
    return Magic(**found)


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
    latency_range: tuple[float, float] | None = None
    """The provider's documented (min, max) seconds for this very request, when it states one
    per model or length; used instead of the profile's range when the profile allows it."""


@dataclass
class Task:
    """One emulated generation job and its predetermined timeline."""

    provider: str
    task_id: str
    spec: TaskSpec
    created_at: float
    latency: float
    queue_time: float
    outcome: Outcome
    fail_kind: str | None = None
    fail_code: str | None = None
    api_key: str | None = None
    reply_lost: bool = False
    progress_model: str = "linear"
    status_word: str | None = None
    """A status word outside the provider's vocabulary, sent instead of the terminal one."""
    thumbnail: bool = False
    url_style: str = "ext"
    result_ttl: float | None = None
    """Scaled seconds the result URL stays valid after the task finished (``None``: forever)."""
    moderation_url: Literal["null", "absent"] = "null"
    sample: int = 0
    """How many earlier tasks at this provider had the same prompt (the clip's ``#n``)."""

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
        elapsed = now - self.created_at
        if self.progress_model == "from_submit":
            share = elapsed / max(self.latency, 1e-9)
        else:
            share = (elapsed - self.queue_time) / max(self.latency - self.queue_time, 1e-9)
            if self.progress_model == "fast_then_slow":
                share = math.sqrt(max(share, 0.0))
            elif self.progress_model == "stall":
                share = share / 0.6
        return min(99, max(1, int(100 * share)))

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


@dataclass(frozen=True)
class Fate:
    """Everything decided about a task when it is created (times in scaled seconds)."""

    latency: float
    queue_time: float
    outcome: Outcome
    fail: str | None
    magic: Magic


SURGE_JOBS = 8
"""Under ``latency_model="surge"`` the first this-many jobs of a burst wait extra."""
SURGE_GAP = 10.0
"""Unscaled seconds between submits that still count as one burst."""


def _family_latency(
    family: str, rng: random.Random, low: float, high: float, typical: float, burst_index: int, jitter: float
) -> tuple[float, float]:
    """``(latency, extra queued wait)`` in unscaled seconds for the heavier families."""
    span = high - low
    if family == "lognormal":
        median = low + 0.3 * span
        value = rng.lognormvariate(math.log(max(median, 1e-6)), 0.5)
        return min(max(value, 0.5 * low), 4.0 * high), 0.0
    if family == "bimodal":
        if rng.random() < 0.7:
            return rng.uniform(low, low + 0.25 * span), 0.0
        return rng.uniform(high, 1.5 * high), 0.0
    # surge: a by-request latency after an extra wait in the queue for a burst's first jobs
    extra = high * max(0.0, 1.0 - burst_index / SURGE_JOBS)
    return typical * (1 + rng.uniform(-jitter, jitter)) + extra, extra


def sample_fate(
    rng: random.Random, profile: ProviderProfile, prompt: str, time_scale: float,
    duration: float = 6.0, resolution: str = "480p", *,
    extra_rng: random.Random | None = None, burst_index: int = 0,
    latency_range: tuple[float, float] | None = None,
) -> tuple[float, float, Outcome, str | None]:
    """Draw ``(latency, queue_time, outcome, fail)`` for a new task (see :func:`draw_fate`)."""
    fate = draw_fate(rng, profile, prompt, time_scale, duration, resolution,
                     extra_rng=extra_rng, burst_index=burst_index, latency_range=latency_range)  # fmt: skip
    return fate.latency, fate.queue_time, fate.outcome, fate.fail


def draw_fate(
    rng: random.Random, profile: ProviderProfile, prompt: str, time_scale: float,
    duration: float = 6.0, resolution: str = "480p", *,
    extra_rng: random.Random | None = None, burst_index: int = 0,
    latency_range: tuple[float, float] | None = None,
) -> Fate:
    """Draw a new task's :class:`Fate`, all times in scaled seconds.

    ``rng`` always gives the same number of values per task, so magic words and the newer
    latency families never shift its sequence; those families draw from ``extra_rng``.
    """
    low, high = latency_range if (latency_range and profile.per_request_latency) else profile.latency
    typical = typical_latency(profile, duration, resolution)
    if profile.latency_model == "uniform" or low == high:
        raw_latency = rng.uniform(low, high)
    elif latency_range and profile.per_request_latency:
        rng.uniform(-profile.jitter, profile.jitter)  # keep the draw count
        typical = (low + high) / 2
        raw_latency = rng.uniform(low, high)
    else:
        noise = rng.uniform(-profile.jitter, profile.jitter)
        # the noise may reach a little past the documented range ("about 40-60 s")
        raw_latency = min(max(typical * (1 + noise), low * (1 - profile.jitter)), high * (1 + profile.jitter))
    roll = rng.random()
    kind_roll = rng.random()
    magic = parse_magic(prompt)
    family = magic.latency_model or profile.latency_model
    extra_wait = 0.0
    if family in ("lognormal", "bimodal", "surge") and low < high:
        raw_latency, extra_wait = _family_latency(
            family, extra_rng or rng, low, high, typical, burst_index, profile.jitter)
    elif family == "uniform" and magic.latency_model and low < high:
        raw_latency = (extra_rng or rng).uniform(low, high)
    latency = (magic.latency if magic.latency is not None else raw_latency) * time_scale
    outcome: Outcome
    fail: str | None = None
    moderation = profile.failure_rate + profile.expire_rate + profile.moderation_rate
    if magic.outcome is not None:
        outcome, fail = magic.outcome, magic.fail
    elif roll < profile.failure_rate:
        outcome = "failed"
        kinds = profile.failure_kinds or DEFAULT_FAILURE_KINDS
        fail = kinds[min(len(kinds) - 1, int(kind_roll * len(kinds)))]
    elif roll < profile.failure_rate + profile.expire_rate:
        outcome = "expired"
    elif roll < moderation:
        outcome, fail = "moderated", "moderation"
    else:
        outcome = "success"
    share = magic.queue if magic.queue is not None else profile.queue_fraction
    queue_time = latency * share
    if magic.latency is None and extra_wait:
        queue_time = min(latency, queue_time + extra_wait * time_scale)
    return Fate(latency, queue_time, outcome, fail, magic)


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
