"""Views of a comparison table: the gallery (pure HTML from rows) and the latency/cost plot."""

from __future__ import annotations

import functools
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .. import display
from .._html import GRID_GAP_PX, NO_MATH, grid_columns, provider_color

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

__all__ = ["GalleryCell", "Gallery", "cell_from_row", "gallery_html", "latency_cost_figure"]


@dataclass(frozen=True)
class GalleryCell:
    """One video of the gallery: where it plays from (`src`), its caption, or why it is absent."""

    provider: str
    model: str
    status: str
    src: str | None = None
    caption: str = ""
    note: str | None = None
    error: str | None = None


def _value(row: Mapping[str, Any], key: str) -> Any:
    value = row.get(key)
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def caption_for(row: Mapping[str, Any]) -> str:
    """'xai · grok-imagine-video · #0 · 6 s 480p 16:9 · latency 0.4 s · $0.30 reported'."""
    bits = [str(_value(row, "provider") or "?"), str(_value(row, "model") or "?")]
    if _value(row, "sample") is not None:
        bits.append(f"#{int(row['sample'])}")
    shape = " ".join(str(v) for v in (
        f"{_value(row, 'duration'):g} s" if isinstance(_value(row, "duration"), (int, float)) else None,
        _value(row, "resolution"), _value(row, "aspect_ratio")) if v)
    if shape:
        bits.append(shape)
    bits.append(f"latency {display.format_seconds(_value(row, 'latency_s'))}")
    bits.append(display.format_cost(_value(row, "cost_usd"), _value(row, "cost_source")))
    if _value(row, "reused"):
        bits.append("reused")
    return " · ".join(bits)


def cell_from_row(row: Mapping[str, Any], src: str | None = None, source_note: str | None = None) -> GalleryCell:
    """A gallery cell from one table row; `src` overrides the row's `video_url` (e.g. an
    inlined copy). Pure."""
    status = str(_value(row, "status") or "?")
    notes = [n for n in (_value(row, "note"), source_note) if n]
    return GalleryCell(
        provider=str(_value(row, "provider") or "?"), model=str(_value(row, "model") or "?"),
        status=status, src=src if src is not None else _value(row, "video_url"),
        caption=caption_for(row), note="; ".join(notes) or None, error=_value(row, "error"))


def _cell_html(cell: GalleryCell, width: int) -> str:
    if cell.status == "succeeded" and cell.src:
        return display.video_html(cell.src, cell.caption, note=cell.note, max_width=width)
    if cell.status == "succeeded":  # a video was made, but there is nothing here to play
        return display.error_html(cell.provider, cell.model, "succeeded · no video to show", None,
                                  cell.note or "the row has no video URL")
    message = cell.error or cell.note or ("still running" if cell.status in ("queued", "running") else None)
    return display.error_html(cell.provider, cell.model, cell.status, None, message)


def gallery_html(cells: Sequence[GalleryCell], columns: int = 3, width: int = 320) -> str:
    """The videos side by side in a grid, with captions; every text and URL escaped, only
    http(s) and data:video sources played (`display.video_html`)."""
    if not cells:
        return f'<div class="grokvid-gallery {NO_MATH}">No rows to show.</div>'
    items = "".join(f'<div class="grokvid-gallery-cell" style="min-width:0">{_cell_html(c, width)}</div>'
                    for c in cells)
    return (f'<div class="grokvid-gallery {NO_MATH}" style="display:grid;gap:{GRID_GAP_PX}px;'
            f'grid-template-columns:{grid_columns(columns)}">{items}</div>')


@dataclass(frozen=True)
class Gallery:
    """The result of `gv.gallery(df)`: shows as HTML in a notebook (`_repr_html_`), as a short
    text elsewhere. `html` is the markup, `cells` the videos it shows."""

    cells: tuple[GalleryCell, ...]
    html: str

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        ok = sum(c.status == "succeeded" and bool(c.src) for c in self.cells)
        return f"<Gallery: {ok} of {len(self.cells)} videos>"


# ---- the plot ---------------------------------------------------------------------------

@functools.cache
def _figure_class() -> type:
    from matplotlib.figure import Figure

    class NotebookFigure(Figure):
        """A Figure that shows itself as a PNG in a notebook without pyplot's inline backend
        (and so survives in a saved notebook)."""

        def _repr_png_(self) -> bytes:
            buffer = io.BytesIO()
            self.savefig(buffer, format="png", dpi=100)
            return buffer.getvalue()

    return NotebookFigure


def latency_cost_figure(rows: Iterable[Mapping[str, Any]], title: str | None = None) -> "Figure":
    """A scatter of latency (x) against cost per video (y), one colour per provider (and
    model). Succeeded jobs only; a job whose cost is unknown is drawn as an `x` on the
    x axis and labelled as such. Built without pyplot, so it is safe under any backend."""
    _NotebookFigure = _figure_class()
    groups: dict[str, dict[str, list[float]]] = {}
    for row in rows:
        if _value(row, "status") != "succeeded":
            continue
        latency = _value(row, "latency_s")
        if latency is None:
            continue
        label = str(_value(row, "provider"))
        model = _value(row, "model")
        group = groups.setdefault(label if not model else f"{label} · {model}",
                                  {"x": [], "y": [], "ux": []})
        cost = _value(row, "cost_usd")
        if cost is None:
            group["ux"].append(float(latency))
        else:
            group["x"].append(float(latency))
            group["y"].append(float(cost))
    fig = _NotebookFigure(figsize=(7, 4.5), layout="constrained")
    ax = fig.add_subplot()
    markers = "os^Dv<>p"
    seen_models: dict[str, int] = {}
    # no labels next to the points (they collide when providers are close): a legend below
    # the axes names each one, in the provider's fixed colour from the one palette
    for label, pts in groups.items():
        provider = label.split(" · ")[0]
        colour = provider_color(provider)
        marker = markers[seen_models.setdefault(provider, 0) % len(markers)]
        seen_models[provider] += 1
        if pts["x"]:
            ax.scatter(pts["x"], pts["y"], color=colour, marker=marker, label=label, alpha=0.85)
        if pts["ux"]:
            ax.scatter(pts["ux"], [0.0] * len(pts["ux"]), color=colour, marker="x", clip_on=False,
                       label=f"{label} (cost unknown, drawn at 0)")
    ax.margins(x=0.08, y=0.08)  # markers at the largest latency stay inside the axes
    ax.set_xlabel("latency (s)")
    ax.set_ylabel("cost per video (USD)")
    n = sum(len(p["x"]) + len(p["ux"]) for p in groups.values())
    # parse_math off: a "$" in a title, provider or model name is text, not mathtext (which
    # would italicise "$5 and $6" or fail to draw "$\\x" at all)
    ax.set_title(title or f"latency vs cost ({n} succeeded job{'s' if n != 1 else ''})", parse_math=False)
    ax.grid(True, alpha=0.3)
    if groups:
        legend = fig.legend(fontsize=8, loc="outside lower center", ncols=2, frameon=False)
        for text in legend.get_texts():
            text.set_parse_math(False)
    else:
        ax.text(0.5, 0.5, "no succeeded jobs to plot", ha="center", va="center", transform=ax.transAxes)
    top = ax.get_ylim()[1]
    ax.set_ylim(-0.03 * top, top)  # a little room below 0 for the unknown-cost markers
    ax.set_xlim(left=0)
    return fig


def rows_of(df: "pd.DataFrame") -> list[dict[str, Any]]:
    """The table's rows as plain dicts (NaN stays NaN; `_value` reads it as None)."""
    return df.to_dict("records")
