"""`Table`: the DataFrame our functions return, shown in a notebook without math typesetting.

JupyterLab and Notebook 7 run MathJax over HTML outputs, so "$0.05/s at 480p, $0.07/s at
720p" in a price column becomes LaTeX italics. `Table` is a plain `pandas.DataFrame` whose
notebook HTML is rendered with `display.html.use_mathjax=False` (pandas then marks the table
`tex2jax_ignore mathjax_ignore`) inside a `mathjax_ignore` wrapper that scrolls sideways
instead of overflowing the output, with "unknown" where a cost is unknown and an empty cell
(not NaN or None) where a value does not apply. Short values stay on one line (a narrow window
scrolls the table rather than wrapping "6, 10, 15 s" a word per line); columns of long text
(notes, prices, URLs) wrap within a readable width, in full. Everything else
(slicing, `to_csv`, `attrs`, ...) is pandas' own.

Imported only where pandas is already needed.
"""

from __future__ import annotations

import math
import re
from typing import Any

import pandas as pd

from ._html import NO_MATH

__all__ = ["Table", "table", "cell_styles", "shown_frame", "UNKNOWN_COLUMNS", "LONG_TEXT"]

#: Columns where an empty cell means "not known" (shown as "unknown", not NaN).
UNKNOWN_COLUMNS = ("cost_usd", "cost_source", "cost_per_video_s", "estimated_cost_usd", "mean_cost_usd",
                   "spent_usd")

#: A column whose longest value is longer than this wraps; the others never do.
LONG_TEXT = 48
_NO_WRAP = "white-space:nowrap"
_WRAP = "white-space:normal;overflow-wrap:anywhere;min-width:18em;max-width:32em"
_ROW = re.compile(r"<tr\b[^>]*>.*?</tr>", re.S)
_CELL = re.compile(r"<td>")


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def _shown(value: Any, empty: str) -> Any:
    if _missing(value):
        return empty
    if isinstance(value, float):
        return f"{value:.6g}"
    return value


class Table(pd.DataFrame):
    """A `pandas.DataFrame` whose notebook view is never typeset as math (see the module)."""

    @property
    def _constructor(self) -> type[Table]:
        return Table

    def _repr_html_(self) -> str | None:
        shown = shown_frame(self)
        with pd.option_context("display.html.use_mathjax", False, "display.max_colwidth", None):
            markup = shown._repr_html_()
        if markup is None:
            return None
        wrapping = {i for i, column in enumerate(shown.columns)
                    if shown[column].astype(str).str.len().max() > LONG_TEXT}
        return (f'<div class="grokvid-table {NO_MATH}" style="overflow-x:auto;max-width:100%">'
                f"{cell_styles(markup, wrapping)}</div>")


def shown_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of `df` as people read it: a missing cost is "unknown", anything else missing does
    not apply (an empty cell). The notebook view and the command line both show this."""
    shown = pd.DataFrame(df, copy=True)
    for column in shown.columns:
        empty = "unknown" if column in UNKNOWN_COLUMNS else ""
        if shown[column].isna().any():
            shown[column] = shown[column].astype(object).map(lambda v, e=empty: _shown(v, e))
    return shown


def cell_styles(markup: str, wrapping: set[int]) -> str:
    """pandas' table HTML with one-line cells, except the data columns numbered in `wrapping`
    (0-based, index column not counted), which wrap within 18-32em. Inline styles on each cell
    (JupyterLab's own CSS sets `white-space` on cells, so nothing inherited from the table
    holds), not a <style> block, which a reopened untrusted notebook would drop."""

    def row(match: re.Match[str]) -> str:
        index = iter(range(1 << 30))
        return _CELL.sub(lambda _: f'<td style="{_WRAP if next(index) in wrapping else _NO_WRAP}">',
                         match.group(0))

    return _ROW.sub(row, markup)


def table(df: pd.DataFrame) -> Table:
    """`df` as a `Table` (same data, same `attrs`; no copy of the values is made by pandas
    beyond what the constructor needs)."""
    out = Table(df)
    out.attrs.update(df.attrs)
    return out
