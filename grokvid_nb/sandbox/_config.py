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
    "DEFAULT_FAILURE_KINDS",
    "LATENCY_MODELS",
    "PROGRESS_MODELS",
    "URL_STYLES",
    "default_profiles",
]

PROVIDERS: tuple[str, ...] = ("xai", "apixo", "pixazo", "xingchao", "apiinone")
"""The five emulated providers, by the names the rest of grokvid_nb uses."""

FAILURE_KINDS: tuple[str, ...] = ("moderation", "timeout", "internal", "charged")
"""Kinds of task failure; each provider maps a kind to its own code and message.
``charged`` is a failure the provider bills (Pixazo ``FAILED``); it is never drawn unless
named in ``ProviderProfile.failure_kinds`` or asked for with ``[sandbox:fail=charged]``."""

DEFAULT_FAILURE_KINDS: tuple[str, ...] = ("moderation", "timeout", "internal")
"""Kinds drawn by default when ``failure_rate`` > 0."""

LATENCY_MODELS: tuple[str, ...] = ("by_request", "uniform", "lognormal", "bimodal", "surge")
"""Latency families (``ProviderProfile.latency_model`` or ``[sandbox:latency=<family>]``)."""

PROGRESS_MODELS: tuple[str, ...] = ("linear", "from_submit", "fast_then_slow", "stall")
"""Progress curves (``ProviderProfile.progress_model`` or ``[sandbox:progress=<model>]``)."""

URL_STYLES: tuple[str, ...] = ("ext", "noext")
"""Result URL shapes: ``.../<task_id>.mp4`` or ``.../<task_id>`` (no extension)."""

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
    Other families (for benchmarks that must not be tuned to one shape): ``"lognormal"``
    (median at 30 % of the range, sigma 0.5: a heavy tail past ``max``), ``"bimodal"`` (70 % in
    the fastest quarter of the range, 30 % from ``max`` to 1.5 x ``max``) and ``"surge"`` (a
    burst's first jobs wait long: the k-th job submitted within 10 scaled seconds of the
    previous one waits an extra ``max * (1 - k/8)`` queued, then runs a by-request latency).
    ``per_request_latency`` uses the range a provider documents per model and length
    (XingChaoYiQing) instead of ``latency``; a profile you build yourself has it off.

    Outcomes besides success/failure/expiry: ``moderation_rate`` (xAI answers ``done`` with
    no URL and ``respect_moderation: false``; others fail with their moderation code);
    ``status_word`` replaces the terminal status word with one outside the provider's
    vocabulary for a ``status_word_rate`` share of tasks. Results: ``thumbnails`` adds a JPEG
    cover beside the video (API in One ``output.cover_url``); ``url_style="noext"`` serves the
    video at a URL without ``.mp4``; ``result_ttl`` (scaled seconds, overrides
    ``SandboxConfig.result_ttl``) makes the CDN answer 403 after that long. Progress:
    ``progress_model`` is ``"linear"`` (1-99 across processing), ``"from_submit"`` (counts from
    the submit, so it jumps when the queue ends), ``"fast_then_slow"`` (square root of time)
    or ``"stall"`` (99 % after 60 % of processing, then stuck until done); ``queue_fraction``
    of the latency is spent queued at progress 0.
    """

    latency: tuple[float, float]
    durations: tuple[float, float] = (6.0, 30.0)
    latency_model: str = "by_request"
    jitter: float = 0.08
    failure_rate: float = 0.0
    expire_rate: float = 0.0
    failure_kinds: tuple[str, ...] = DEFAULT_FAILURE_KINDS
    queue_fraction: float = 0.15
    rate_limit: RateLimit | None = None
    per_request_latency: bool = False
    moderation_rate: float = 0.0
    status_word: str | None = None
    status_word_rate: float = 1.0
    thumbnails: bool = False
    url_style: str = "ext"
    result_ttl: float | None = None
    progress_model: str = "linear"


def default_profiles() -> dict[str, ProviderProfile]:
    """Profiles with each provider's documented typical latency and limits, no failures."""
    return {
        "xai": ProviderProfile(latency=(20.0, 60.0), durations=(1.0, 15.0),
                               rate_limit=RateLimit(per_second=1, per_minute=60)),
        "apixo": ProviderProfile(latency=(40.0, 60.0), durations=(6.0, 30.0)),
        "pixazo": ProviderProfile(latency=(15.0, 110.0), durations=(3.0, 15.0)),
        # docs.xingchaoyiqing.com grok-create/grok-query: 2-4 min (6-10 s clips) to 4-8 min
        # (20-30 s), pro 3-6 min; the per-request range comes from the model and length.
        "xingchao": ProviderProfile(latency=(120.0, 480.0), durations=(6.0, 30.0), per_request_latency=True),
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
    - ``result_ttl`` makes the CDN answer 403 (expired) that many seconds (scaled by
      ``time_scale``) after a task finished; a profile's own ``result_ttl`` wins.
    - ``scale_rate_limits`` shrinks rate-limit windows by ``time_scale`` too.
    - ``upload_max_bytes`` caps ``POST /sandbox/uploads`` (larger bodies get 413).
    """

    time_scale: float = field(default_factory=_env_time_scale)
    seed: int | None = None
    clock: Callable[[], float] = time.time
    api_keys: Mapping[str, str] = field(default_factory=dict)
    providers: dict[str, ProviderProfile] = field(default_factory=default_profiles)
    clip_dir: Path | None = None
    result_ttl: float | None = None
    scale_rate_limits: bool = False
    upload_max_bytes: int = 20 * 1024 * 1024

    def __post_init__(self) -> None:
        if self.upload_max_bytes < 1:
            raise ValueError("upload_max_bytes must be positive")
        if not (isinstance(self.time_scale, (int, float)) and 0 < self.time_scale < float("inf")):
            raise ValueError(f"time_scale must be a finite positive number, got {self.time_scale!r}")
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
            rates = (profile.failure_rate, profile.expire_rate, profile.moderation_rate, profile.status_word_rate)
            if min(rates) < 0 or not 0 <= profile.failure_rate + profile.expire_rate + profile.moderation_rate <= 1:
                raise ValueError(f"{name}: failure_rate + expire_rate + moderation_rate must be within [0, 1]")
            if profile.status_word_rate > 1:
                raise ValueError(f"{name}: status_word_rate must be within [0, 1]")
            if profile.latency_model not in LATENCY_MODELS:
                raise ValueError(f"{name}: latency_model must be one of {LATENCY_MODELS}")
            if profile.progress_model not in PROGRESS_MODELS:
                raise ValueError(f"{name}: progress_model must be one of {PROGRESS_MODELS}")
            if profile.url_style not in URL_STYLES:
                raise ValueError(f"{name}: url_style must be one of {URL_STYLES}")
            if not 0 <= profile.queue_fraction < 1:
                raise ValueError(f"{name}: queue_fraction must be within [0, 1)")
            if profile.result_ttl is not None and profile.result_ttl < 0:
                raise ValueError(f"{name}: result_ttl must not be negative")
            if not 0 <= profile.jitter < 1:
                raise ValueError(f"{name}: jitter must be within [0, 1)")
            bad = set(profile.failure_kinds) - set(FAILURE_KINDS)
            if bad or not profile.failure_kinds:
                raise ValueError(f"{name}: failure_kinds must be a non-empty subset of {FAILURE_KINDS}")

    def profile(self, provider: str) -> ProviderProfile:
        """The profile in force for ``provider``."""
        return self.providers[provider]
