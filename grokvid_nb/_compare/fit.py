"""Planning a comparison before anything is sent: which providers, what each one is sent
(honouring the caller's parameters, or adapting them), and what the batch may cost.

Everything here is pure: adapters are sans-IO and only their capability tables are read.
Images go through the same preparation as `generate` (`_prepare.prepare_request`): a local
image becomes a data URI where the provider takes one and an upload where it needs a public
URL; a URL-only provider with no uploader is skipped, its note saying what `generate` says.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .._catalog import priced_spec
from .._exceptions import BudgetExceededError, ConfigurationError, UploaderRequiredError, ValidationError
from .._prepare import Prepared, prepare_request
from .._types import VideoRequest
from .._uploads import Uploader
from ..adapters import PROVIDER_NAMES, Adapter, ModeSpec, get_adapter

__all__ = [
    "Target",
    "Fit",
    "Estimate",
    "parse_targets",
    "default_targets",
    "fit_request",
    "estimate_total",
    "check_budget",
    "check_session_budget",
]

#: Anything `compare(providers=...)` accepts.
ProvidersSpec = str | Iterable[str | tuple[str, str | None]] | Mapping[str, str | None] | None


@dataclass(frozen=True)
class Target:
    """One provider (and optionally one of its models) to compare."""

    provider: str
    model: str | None = None

    @property
    def label(self) -> str:
        """'provider' or 'provider/model'."""
        return f"{self.provider}/{self.model}" if self.model else self.provider


def _target(name: str, model: str | None = None) -> Target:
    name = str(name).strip()
    if model is None and ":" in name:  # "xingchao:grok_video3_pro", as the command line takes it
        name, model = (part.strip() for part in name.split(":", 1))
    return Target(get_adapter(name).name, model or None)


def parse_targets(providers: ProvidersSpec) -> list[Target] | None:
    """Normalize `providers`: names ("xai", "xai,apixo", "xingchao:grok_video3_pro"),
    `(name, model)` tuples, or a dict name -> model. None stays None (the default set)."""
    if providers is None:
        return None
    if isinstance(providers, str):
        items: list[Any] = [p for p in providers.split(",") if p.strip()]
    elif isinstance(providers, Mapping):
        items = list(providers.items())
    else:
        items = list(providers)
    targets: list[Target] = []
    for item in items:
        if isinstance(item, str):
            target = _target(item)
        elif isinstance(item, (tuple, list)) and len(item) == 2:
            target = _target(item[0], item[1])
        else:
            raise TypeError(f"providers: expected a name or a (name, model) pair, got {item!r}")
        if target not in targets:
            targets.append(target)
    if not targets:
        raise ValueError("providers: the list is empty")
    return targets


def default_targets(sandboxed: bool, environ: Mapping[str, str]) -> list[Target]:
    """All five providers under the sandbox, else every provider whose key is set."""
    if sandboxed:
        return [Target(name) for name in PROVIDER_NAMES]
    targets = [Target(name) for name in PROVIDER_NAMES
               if environ.get(get_adapter(name).env_var, "").strip()]
    if not targets:
        names = ", ".join(get_adapter(n).env_var for n in PROVIDER_NAMES)
        raise ConfigurationError(
            f"no provider has an API key: set one of {names}, pass providers=[...], "
            "or call gv.use_sandbox() to compare against the built-in emulator")
    return targets


# ---- fairness: honour the caller's parameters, or adapt them ----------------------------

@dataclass(frozen=True)
class Fit:
    """How one provider takes the caller's request: the validated request, or None when the
    provider is skipped. `note` says what was adapted, or why it was skipped.

    `request` shows images as their fingerprints (`sha256:<hex>`, or the URL), as the ledger and
    the reuse check see them; `send` is what `Client.start` is given: the same parameters with
    the image inputs themselves (it uploads or inlines them only if the job is really sent)."""

    request: VideoRequest | None
    note: str = ""
    changes: tuple[str, ...] = field(default=())
    send: Mapping[str, Any] | None = None

    @property
    def skipped(self) -> bool:
        """True when this provider cannot take the request."""
        return self.request is None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)) and math.isfinite(value):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def _pixels(resolution: Any) -> float | None:
    match = re.fullmatch(r"\s*(\d+)\s*[pP]?\s*", str(resolution))
    return float(match.group(1)) if match else None


def _ratio(aspect: Any) -> float | None:
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*:\s*(\d+(?:\.\d+)?)\s*", str(aspect))
    if not match or float(match.group(2)) == 0 or float(match.group(1)) == 0:
        return None
    return float(match.group(1)) / float(match.group(2))


def _nearest(options: Sequence[Any], asked: float | None, measure: Any) -> Any:
    """The option closest to `asked` by `measure` (ties go to the earlier option)."""
    scored = [(abs(m - asked), i) for i, m in enumerate(measure(o) for o in options)
              if m is not None and asked is not None]
    if not scored:
        return None
    return options[min(scored)[1]]


def _mode_spec(adapter: Adapter, model: str | None, mode: str | None,
               params: Mapping[str, Any]) -> ModeSpec | None:
    try:
        spec = adapter.model_spec(model)
        if mode is None:
            probe = {k: v for k, v in params.items() if v is not None}
            if probe.get("image_url") is not None:
                probe["image_urls"] = [probe.pop("image_url")]
            mode = adapter.infer_mode(spec, probe)
        return priced_spec(adapter, spec.name, mode)
    except ValidationError:
        return None


def _adapt_one(m: ModeSpec, params: dict[str, Any], parameter: str) -> str | None:
    """Change `params[parameter]` to what mode spec `m` allows, in place; return a note, or
    None when this parameter cannot be adapted (images, source video, prompt, ...)."""
    if parameter not in params:
        return None
    value = params[parameter]
    if parameter == "duration":
        if m.durations is None:
            del params["duration"]
            made = f"; its clips are {m.output_duration:g} s" if m.output_duration else ""
            return f"duration={value} dropped (no duration parameter{made})"
        asked = _number(value)
        if asked is None:
            return None
        # ties go to the shorter (cheaper) clip
        nearest = min(m.durations, key=lambda d: (abs(d - asked), d))
        if nearest == value:
            return None
        params["duration"] = nearest
        return f"duration {value}->{nearest} s (allowed: {m.describe_durations()})"
    if parameter in ("resolution", "aspect_ratio", "style"):
        options = {"resolution": m.resolutions, "aspect_ratio": m.aspect_ratios, "style": m.styles}[parameter]
        label = parameter.replace("_", " ")
        if options is None:
            del params[parameter]
            return f"{parameter}={value} dropped (no {label} parameter)"
        concrete = [o for o in options if o != "auto"] or list(options)
        if parameter == "resolution":
            choice = _nearest(concrete, _pixels(value), _pixels)
        elif parameter == "aspect_ratio":
            asked = _ratio(value)
            choice = _nearest(concrete, math.log(asked) if asked else None,
                              lambda o: math.log(r) if (r := _ratio(o)) else None)
        else:
            choice = None
        if choice is None:
            default = {"resolution": m.default_resolution, "aspect_ratio": m.default_aspect_ratio,
                       "style": m.default_style}[parameter]
            choice = default if default in concrete else concrete[0]
        if choice == value:
            return None
        params[parameter] = choice
        allowed = "only" if len(options) == 1 else "allowed:"
        return f"{parameter} {value}->{choice} ({allowed} {', '.join(options)})"
    return None


def _to_send(prepared: Prepared, params: Mapping[str, Any]) -> dict[str, Any]:
    """The validated parameters, with the caller's image inputs in place of their fingerprints."""
    out = dict(prepared.request.params)
    if prepared.plan is not None:
        out.pop("image_urls", None)
        key = "image_url" if params.get("image_url") is not None else "image_urls"
        out[key] = params[key]
    return out


def fit_request(adapter: Adapter, prompt: str, params: Mapping[str, Any], *,
                model: str | None = None, mode: str | None = None, adapt: bool = False,
                uploader: Uploader | None = None) -> Fit:
    """Validate the caller's parameters for one provider/model, images included (any input
    kind, checked by `prepare_request` exactly as `generate` checks them; nothing uploaded).

    If the provider refuses one, it is skipped (a note says why); with `adapt=True` the
    parameter is moved to the provider's nearest allowed value (nearest duration in its range
    or set, nearest resolution or aspect ratio, or dropped when the provider has no such knob),
    and every change is listed in the note. A URL-only provider given a local image with no
    `uploader` (nor `gv.set_uploader`) is skipped with `UploaderRequiredError`'s message. An
    input that is not an image raises `ImageInputError`: it is wrong for every provider.
    """
    current = dict(params)
    changes: list[str] = []
    for _ in range(len(current) + 4):  # each round fixes one parameter or gives up
        try:
            prepared = prepare_request(adapter, prompt, model=model, mode=mode, params=current,
                                       uploader=uploader)
        except UploaderRequiredError as exc:  # no nearer value to adapt to: configure one
            return Fit(None, f"skipped: {exc}", tuple(changes))
        except ValidationError as exc:
            if not adapt:
                hint = "" if exc.parameter.startswith("image_url") else "; adapt=True uses the nearest allowed value"
                return Fit(None, f"skipped: {exc}{hint}")
            m = _mode_spec(adapter, model, mode, current)
            change = _adapt_one(m, current, exc.parameter) if m is not None else None
            if change is None:
                return Fit(None, f"skipped: {exc}", tuple(changes))
            changes.append(change)
            continue
        note = ("adapted: " + "; ".join(changes)) if changes else ""
        return Fit(prepared.request, note, tuple(changes), _to_send(prepared, current))
    return Fit(None, "skipped: the parameters could not be adapted", tuple(changes))


# ---- the budget guard ------------------------------------------------------------------

@dataclass(frozen=True)
class EstimateLine:
    """One provider/model's share: `jobs` new videos at `per_video` USD (None: unpriced)."""

    label: str
    jobs: int
    per_video: float | None
    reused: int = 0

    @property
    def total(self) -> float | None:
        """USD for this line's new jobs (None when unpriced and there are any)."""
        if self.jobs == 0:
            return 0.0
        return None if self.per_video is None else self.per_video * self.jobs


@dataclass(frozen=True)
class Estimate:
    """The estimated cost of a batch, before anything is sent. Unpriced providers are listed
    in `unknown`, never counted as zero."""

    lines: tuple[EstimateLine, ...]

    @property
    def known_usd(self) -> float:
        """Sum of the priced lines."""
        return round(sum(line.total or 0.0 for line in self.lines), 6)

    @property
    def unknown(self) -> tuple[str, ...]:
        """Labels of the lines whose price is not published."""
        return tuple(dict.fromkeys(line.label for line in self.lines if line.total is None))

    @property
    def jobs(self) -> int:
        """New (paid) jobs in the batch."""
        return sum(line.jobs for line in self.lines)

    def describe(self, max_cost_usd: float | None = None) -> str:
        """One line of text: 'estimated $0.93 for 5 new jobs (+ unknown: xingchao); limit $5.00'."""
        text = f"estimated ${self.known_usd:.2f} for {self.jobs} new job{'s' if self.jobs != 1 else ''}"
        if self.unknown:
            text += f" + unknown price for {', '.join(self.unknown)}"
        reused = sum(line.reused for line in self.lines)
        if reused:
            text += f" ({reused} reused from the ledger, free)"
        if max_cost_usd is not None:
            text += f"; limit ${max_cost_usd:.2f}"
        return text

    def breakdown(self) -> list[tuple[str, str]]:
        """(label, 'n x $p = $t' or 'n x unknown') per provider/model, lines of the same
        label (a sweep's combinations) merged, for display."""
        merged: dict[str, list[EstimateLine]] = {}
        for line in self.lines:
            merged.setdefault(line.label, []).append(line)
        out = []
        for label, lines in merged.items():
            jobs = sum(line.jobs for line in lines)
            reused = sum(line.reused for line in lines)
            prices = {line.per_video for line in lines if line.jobs}
            totals = [line.total for line in lines]
            total = "unknown" if any(t is None for t in totals) else f"${sum(t or 0.0 for t in totals):.2f}"
            if len(prices) > 1:
                each = "varying prices"
            else:
                price = next(iter(prices), lines[0].per_video)
                each = "unknown" if price is None else f"${price:.3f}"
            extra = f" (+{reused} reused)" if reused else ""
            out.append((label, f"{jobs} x {each} = {total}{extra}"))
        return out


def estimate_total(lines: Iterable[EstimateLine]) -> Estimate:
    """An `Estimate` from its lines (lines of several batches may be concatenated)."""
    return Estimate(tuple(lines))


def check_budget(estimate: Estimate, max_cost_usd: float | None) -> None:
    """Raise `BudgetExceededError` when the known estimated total is above `max_cost_usd`
    (None disables the guard). Unpriced providers cannot be counted and do not trip it."""
    if max_cost_usd is None:
        return
    if estimate.known_usd > max_cost_usd + 1e-9:
        parts = "; ".join(f"{label}: {text}" for label, text in estimate.breakdown())
        raise BudgetExceededError(
            f"{estimate.describe(max_cost_usd)}: nothing was sent. ({parts}) "
            f"Pass max_cost_usd={math.ceil(estimate.known_usd * 100) / 100:.2f} or more to allow it, "
            "or lower repeats/duration/resolution.")


def check_session_budget(estimate: Estimate) -> None:
    """The `gv.set_budget` limits for a whole batch, before any of it is sent (each job's
    `Client.start` checks again, so a long sweep stops at the limit too)."""
    from .._budget import check_budget as check_limits
    from .._ledger import default_ledger

    if estimate.jobs == 0:
        return
    check_limits(estimate.known_usd, default_ledger(), what=estimate.describe(),
                 unknown_labels=estimate.unknown)
