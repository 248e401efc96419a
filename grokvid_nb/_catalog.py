"""The capability and price tables of every provider, as a DataFrame, and cost estimates."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .providers import PROVIDER_NAMES, get_provider

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["providers", "estimate_cost"]


def providers() -> "pd.DataFrame":
    """One row per (provider, model, mode): durations, resolutions, ratios, image limits, price."""
    import pandas as pd

    rows: list[dict[str, Any]] = []
    for name in PROVIDER_NAMES:
        adapter = get_provider(name)
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
                    "resolutions": ", ".join(mode.resolutions) if mode.resolutions else "-",
                    "aspect_ratios": ", ".join(mode.aspect_ratios) if mode.aspect_ratios else "-",
                    "images": images,
                    "image_schemes": ", ".join(mode.image_schemes) if mode.images else "-",
                    "video_input": mode.video_input,
                    "prompt_max": mode.prompt_max,
                    "price": mode.price.describe(),
                    "reports_cost": adapter.reports_cost,
                    "note": "; ".join(n for n in (model.note, mode.note) if n),
                })
    return pd.DataFrame(rows)


def estimate_cost(provider: str, prompt: str = "x", *, model: str | None = None,
                  mode: str | None = None, **params: Any) -> float | None:
    """Estimated USD for one video, or None where the provider publishes no price.

    The parameters are validated first (an invalid request has no price), with the provider's
    defaults filled in: `estimate_cost("pixazo", duration=6, resolution="720p")` -> 0.42.
    """
    adapter = get_provider(provider)
    request = adapter.validate(prompt, model=model, mode=mode, **params)
    return adapter.mode_spec(request.model, request.mode).estimate(request.params)
