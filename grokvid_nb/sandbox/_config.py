"""Configuration of the sandbox: per-provider profiles, time scale, seed, clock, keys."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "PROVIDERS",
    "FAILURE_KINDS",
    "ManualClock",
    "ProviderProfile",
    "RateLimit",
    "SandboxConfig",
    "default_profiles",
]

PROVIDERS: tuple[str, ...] = ("xai", "apixo", "pixazo", "xingchao", "apiinone")
"""The five emulated providers, by the names the rest of grokvid_nb uses."""

FAILURE_KINDS: tuple[str, ...] = ("moderation", "timeout", "internal")
"""Kinds of sampled task failure; each provider maps a kind to its own code and message."""

TIME_SCALE_ENV = "GROKVID_TIME_SCALE"


def _env_time_scale() -> float:
    """``GROKVID_TIME_SCALE`` as a positive float, else 1.0."""
    raw = os.environ.get(TIME_SCALE_ENV, "").strip()
    if not raw:
        return 1.0
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{TIME_SCALE_ENV} must be a number, got {raw!r}") from None
    if value <= 0:
        raise ValueError(f"{TIME_SCALE_ENV} must be positive, got {raw!r}")
    return value


@dataclass(frozen=True)
class RateLimit:
    """Sliding-window request limits per API key; ``None`` disables a window.

    Windows are real seconds unless ``SandboxConfig.scale_rate_limits`` is set, in
    which case they shrink with ``time_scale`` like everything else.
    """

    per_second: int | None = None
    per_minute: int | None = None
    count_polls: bool = False
    """Whether status polls count (and can be refused), not only submits."""


@dataclass(frozen=True)
class ProviderProfile:
    """How one emulated provider behaves: latency, failures, limits.

    ``latency`` is the (min, max) seconds from submit to a terminal state before
    ``time_scale`` is applied; ``queue_fraction`` of it is spent queued/pending.
    A task fails with probability ``failure_rate`` (kind drawn from ``failure_kinds``)
    and, for xAI, expires with probability ``expire_rate``.

    With ``latency_model="by_request"`` (the default) latency grows with the clip's length
    within ``durations`` (the provider's duration range) and is 10 % longer at 720p, as the
    providers say ("longer durations and 720p take longer"), with +-``jitter`` noise (so a
    task may end a little outside ``latency``, as "about 40-60 s" allows). A range with equal
    ends is exact: ``latency=(1, 1)`` always takes 1 s. ``latency_model="uniform"`` draws uniformly from ``latency`` instead.
    """

    latency: tuple[float, float]
    durations: tuple[float, float] = (6.0, 30.0)
    latency_model: str = "by_request"
    jitter: float = 0.08
    failure_rate: float = 0.0
    expire_rate: float = 0.0
    failure_kinds: tuple[str, ...] = FAILURE_KINDS
    queue_fraction: float = 0.15
    rate_limit: RateLimit | None = None


def default_profiles() -> dict[str, ProviderProfile]:
    """Profiles with each provider's documented typical latency and limits, no failures."""
    return {
        "xai": ProviderProfile(latency=(20.0, 60.0), durations=(1.0, 15.0),
                               rate_limit=RateLimit(per_second=1, per_minute=60)),
        "apixo": ProviderProfile(latency=(40.0, 60.0), durations=(6.0, 30.0)),
        "pixazo": ProviderProfile(latency=(15.0, 110.0), durations=(3.0, 15.0)),
        "xingchao": ProviderProfile(latency=(60.0, 120.0), durations=(6.0, 30.0)),
        "apiinone": ProviderProfile(latency=(30.0, 60.0), durations=(0.0, 12.0)),
    }


class ManualClock:
    """A clock for tests: ``clock()`` returns the time, ``advance(s)`` moves it on.

    Starts at the current wall-clock time so timestamps in replies look real.
    """

    def __init__(self, start: float | None = None) -> None:
        self.now = time.time() if start is None else float(start)

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        """Move the clock forward and return the new time."""
        self.now += seconds
        return self.now


@dataclass
class SandboxConfig:
    """Everything that shapes a :class:`~grokvid_nb.sandbox.Sandbox`; all fields optional.

    - ``time_scale`` multiplies every latency (default: ``GROKVID_TIME_SCALE`` or 1.0).
    - ``seed`` seeds the ``random.Random`` that samples each task's latency and outcome.
    - ``clock`` returns epoch seconds; inject a :class:`ManualClock` to drive time by hand.
    - ``api_keys`` maps a provider to the only key it accepts; others accept any key.
    - ``providers`` maps a provider to its :class:`ProviderProfile`; missing ones get the
      defaults from :func:`default_profiles`.
    - ``clip_dir`` caches generated clips (default: a temporary directory per sandbox).
    - ``result_ttl`` makes result URLs 404 that many (scaled) seconds after completion.
    - ``scale_rate_limits`` shrinks rate-limit windows by ``time_scale`` too.
    """

    time_scale: float = field(default_factory=_env_time_scale)
    seed: int | None = None
    clock: Callable[[], float] = time.time
    api_keys: Mapping[str, str] = field(default_factory=dict)
    providers: dict[str, ProviderProfile] = field(default_factory=default_profiles)
    clip_dir: Path | None = None
    result_ttl: float | None = None
    scale_rate_limits: bool = False

    def __post_init__(self) -> None:
        if self.time_scale <= 0:
            raise ValueError(f"time_scale must be positive, got {self.time_scale!r}")
        unknown = (set(self.providers) | set(self.api_keys)) - set(PROVIDERS)
        if unknown:
            raise ValueError(f"unknown provider(s) {sorted(unknown)}; expected some of {PROVIDERS}")
        merged = default_profiles()
        merged.update(self.providers)
        self.providers = merged
        for name, profile in self.providers.items():
            low, high = profile.latency
            if low < 0 or high < low:
                raise ValueError(f"{name}: latency must be (min, max) with 0 <= min <= max")
            if not 0 <= profile.failure_rate + profile.expire_rate <= 1:
                raise ValueError(f"{name}: failure_rate + expire_rate must be within [0, 1]")
            if profile.latency_model not in ("by_request", "uniform"):
                raise ValueError(f"{name}: latency_model must be 'by_request' or 'uniform'")
            if not 0 <= profile.jitter < 1:
                raise ValueError(f"{name}: jitter must be within [0, 1)")
            bad = set(profile.failure_kinds) - set(FAILURE_KINDS)
            if bad or not profile.failure_kinds:
                raise ValueError(f"{name}: failure_kinds must be a non-empty subset of {FAILURE_KINDS}")

    def profile(self, provider: str) -> ProviderProfile:
        """The profile in force for ``provider``."""
        return self.providers[provider]
