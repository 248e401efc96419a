"""The data an adapter declares: capability tables (`ModelSpec`, `ModeSpec`), prices and
polling priors. Plain frozen dataclasses; nothing here sends, sleeps or keeps state."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Price", "UNPRICED", "ModeSpec", "ModelSpec", "PollingPrior", "USER_PARAMETERS",
           "allowed_list"]

#: Every request parameter a user may pass, across all providers.
USER_PARAMETERS = (
    "duration", "resolution", "aspect_ratio", "image_urls", "video_url", "style",
    "image_task_id", "image_index",
)


def allowed_list(values: Iterable[object]) -> str:
    """Allowed values as text for error messages: "a, b, c"."""
    return ", ".join(str(v) for v in values)


@dataclass(frozen=True)
class Price:
    """A published price rule: per second by resolution, or a flat price per call."""

    per_second: Mapping[str, float] | None = None
    per_call: float | None = None
    per_input_image: float = 0.0

    def estimate(self, duration: float | None, resolution: str | None, images: int = 0) -> float | None:
        """USD for one video made from `images` input images, or None when the rule cannot
        price these parameters."""
        if self.per_call is not None:
            return self.per_call
        if self.per_second is None or duration is None or resolution is None \
                or resolution not in self.per_second:
            return None
        return round(self.per_second[resolution] * float(duration) + self.per_input_image * images, 6)

    def describe(self) -> str:
        """Human-readable price rule."""
        if self.per_call is not None:
            return f"${self.per_call:g} per video"
        if self.per_second:
            text = ", ".join(f"${p:g}/s at {r}" for r, p in self.per_second.items())
            return text + (f", +${self.per_input_image:g} per input image" if self.per_input_image else "")
        return "not published"


UNPRICED = Price()



@dataclass(frozen=True)
class ModeSpec:
    """What one (model, mode) accepts. `None` for a parameter means the provider has no such knob.

    `durations` is either a `range` (inclusive of its last value: `range(6, 31)` is 6..30) or a
    tuple of allowed values. `images` is (min, max) count, max None for "no stated limit".
    """

    mode: str
    durations: range | tuple[int, ...] | None = None
    default_duration: int | None = None
    output_duration: float | None = None  # length of the clip when duration is not a parameter
    resolutions: tuple[str, ...] | None = None
    default_resolution: str | None = None
    aspect_ratios: tuple[str, ...] | None = None
    default_aspect_ratio: str | None = None
    prompt_max: int | None = None
    images: tuple[int, int | None] | None = None
    image_schemes: tuple[str, ...] = ("http", "https")
    video_input: bool = False
    video_schemes: tuple[str, ...] = ("http", "https")
    prompt_required: bool = True
    styles: tuple[str, ...] | None = None
    default_style: str | None = None
    image_task_source: bool = False
    price: Price = UNPRICED
    note: str = ""

    def describe_durations(self) -> str:
        """E.g. '6-30 s' or '6, 10 s'."""
        if self.durations is None:
            return "not settable"
        if isinstance(self.durations, range):
            return f"{self.durations.start}-{self.durations.stop - 1} s"
        return ", ".join(str(d) for d in self.durations) + " s"

    def clip_duration(self, params: Mapping[str, Any]) -> float | None:
        """The length of the video these parameters produce, when known before it is made."""
        if params.get("duration") is not None:
            return float(params["duration"])
        return self.output_duration

    def estimate(self, params: Mapping[str, Any]) -> float | None:
        """Estimated USD for one video with these (validated) parameters."""
        images = params.get("image_urls")
        count = len(images) if isinstance(images, (list, tuple)) else 0
        return self.price.estimate(self.clip_duration(params), params.get("resolution"), count)


@dataclass(frozen=True)
class ModelSpec:
    """A model id and the modes it offers."""

    name: str
    modes: Mapping[str, ModeSpec]
    per_call_billing: bool = False
    note: str = ""


@dataclass(frozen=True)
class PollingPrior:
    """What the provider documents about timing, for the polling schedule (unscaled seconds)."""

    first_poll: float
    typical: tuple[float, float]
    interval: float = 5.0
