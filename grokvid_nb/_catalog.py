"""The capability and price tables of every provider, as a DataFrame, and cost estimates."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from .adapters import PROVIDER_NAMES, Adapter, ModeSpec, Price, get_adapter
from .adapters._spec import UNPRICED

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["providers", "estimate_cost", "set_price", "priced_spec"]

#: Prices the user configured for models whose provider publishes none: (provider, model) ->
#: Price. Engine state, not adapter state: set by `set_price`, read through `priced_spec`.
_CONFIGURED_PRICES: dict[tuple[str, str], Price] = {}


def priced_spec(adapter: Adapter, model: str | None, mode: str) -> ModeSpec:
    """The spec of (model, mode) with the price the user configured when none is published."""
    spec = adapter.mode_spec(model, mode)
    configured = _CONFIGURED_PRICES.get((adapter.name, adapter.model_spec(model).name))
    if configured is not None and spec.price == UNPRICED:
        return replace(spec, price=configured)
    return spec


def providers() -> "pd.DataFrame":
    """One row per (provider, model, mode): durations, resolutions, ratios, image limits, price,
    what a failed job costs (`failed_jobs`: charged / not charged / unknown, from the docs), how
    long result URLs last, and a `note` (rules users need, and which source won where two
    public pages disagree)."""
    import pandas as pd

    from ._frame import table

    rows: list[dict[str, Any]] = []
    for name in PROVIDER_NAMES:
        adapter = get_adapter(name)
        for model in adapter.models.values():
            for mode in model.modes.values():
                images = "-" if mode.images is None else (
                    f"{mode.images[0]}-{mode.images[1]}" if mode.images[1] is not None
                    else f"{mode.images[0]}+")
                rows.append({
                    "provider": name,
                    "model": model.name,
                    "mode": mode.mode,
                    "durations": mode.describe_durations(),
                    "default_duration": mode.default_duration,
                    "default_aspect_ratio": mode.default_aspect_ratio or (
                        "provider decides" if mode.aspect_ratios else "-"),
                    "resolutions": ", ".join(mode.resolutions) if mode.resolutions else "-",
                    "aspect_ratios": ", ".join(mode.aspect_ratios) if mode.aspect_ratios else "-",
                    "images": images,
                    "image_schemes": ", ".join(mode.image_schemes) if mode.images else "-",
                    "video_input": mode.video_input,
                    "prompt_max": mode.prompt_max,
                    "price": priced_spec(adapter, model.name, mode.mode).price.describe(),
                    "reports_cost": adapter.reports_cost,
                    "failed_jobs": _failed_jobs(adapter),
                    "result_urls_last": _lifetime(adapter.url_ttl_s),
                    "note": "; ".join(n for n in (model.note, mode.note) if n),
                })
    return table(pd.DataFrame(rows))


def _failed_jobs(adapter: Adapter) -> str:
    """What a failed job costs per the provider's docs: "charged: ...", "unknown", ..."""
    note = adapter.failure_billing_note
    return adapter.failure_billing if note == "not documented" else f"{adapter.failure_billing}: {note}"


def _lifetime(seconds: float | None) -> str:
    if seconds is None:
        return "not stated"
    return f"{seconds / 86400:g} days" if seconds >= 2 * 86400 else f"{seconds / 3600:g} h"


def estimate_cost(provider: str, prompt: str = "x", *, model: str | None = None,
                  mode: str | None = None, **params: Any) -> float | None:
    """Estimated USD for one video, or None where the provider publishes no price.

    The parameters are validated first (an invalid request has no price), with the provider's
    defaults filled in: `estimate_cost("pixazo", duration=6, resolution="720p")` -> 0.42.
    """
    adapter = get_adapter(provider)
    request = adapter.validate(prompt, model=model, mode=mode, **params)
    return priced_spec(adapter, request.model, request.mode).estimate(request.params)


def set_price(provider: str, model: str | None = None, *, per_second: dict[str, float] | None = None,
              per_call: float | None = None) -> None:
    """Configure the price of a model whose provider publishes none (XingChaoYiQing), so
    estimates, budgets and comparisons can count it: per second by resolution, or per call.
    Published prices cannot be overridden. `set_price(p, m)` with no price removes it."""
    adapter = get_adapter(provider)
    spec = adapter.model_spec(model)
    if any(mode.price.describe() != "not published" for mode in spec.modes.values()):
        raise ValueError(f"{adapter.name}/{spec.name} has a published price; it cannot be overridden")
    if per_second is None and per_call is None:
        _CONFIGURED_PRICES.pop((adapter.name, spec.name), None)
        return
    if per_second is not None and per_call is not None:
        raise ValueError("give per_second or per_call, not both")
    if per_call is not None and not per_call >= 0:
        raise ValueError(f"per_call={per_call!r} must be a non-negative number of USD")
    for resolution, usd in (per_second or {}).items():
        if not usd >= 0:
            raise ValueError(f"per_second[{resolution!r}]={usd!r} must be a non-negative number of USD")
    _CONFIGURED_PRICES[(adapter.name, spec.name)] = Price(
        per_second=dict(per_second) if per_second else None, per_call=per_call)
