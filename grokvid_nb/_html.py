"""Every pure HTML builder of the views, and the one colour palette.

Pure functions from plain data (`JobSnapshot`, `ResultData`, texts) to markup: the same input
always gives the same HTML. Every prompt, error text and URL is escaped with
`html.escape(..., quote=True)`. Only `http(s)://` URLs and `data:video/...;base64,` URIs are
ever put in a `src`; anything else (`javascript:`, `file:`, `data:text/html`, ...) is refused
and shown as escaped text (`safe_video_src`). The `<video>` carries `src` itself (JupyterLab 4
strips `src` from `<source>` children in untrusted notebooks). No script, no animation: a
saved notebook shows the last state as it was.
"""

from __future__ import annotations

import base64
import html
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from ._secrets import Secret, redact
from ._types import MODERATED, JobSnapshot, ResultData, State

__all__ = [
    "EMBED_MAX_BYTES", "STATE_COLORS", "VideoSource", "browser_can_load", "caption_text",
    "clean", "data_uri", "error_html", "esc", "format_cost", "format_seconds", "history_html",
    "job_html", "job_text", "result_html", "result_text", "safe_video_src", "video_html",
    "NO_MATH", "PROVIDER_COLORS", "GRID_GAP_PX", "GRID_MIN_COLUMN_PX", "grid_columns", "grid_html",
    "next_check_text", "no_math", "provider_color",
]

#: Largest local file inlined as a data URI (bigger ones keep the provider's URL).
EMBED_MAX_BYTES = 10 * 1024 * 1024

# ---- the one palette -------------------------------------------------------------------
#: Every colour the views use (job cards, the form, the comparison tables and the plot).
#: JupyterLab's theme variables first (so the light, dark and high-contrast themes all work),
#: with a fallback for renderers that do not define them (nbviewer, VS Code, Colab, exports).
MUTED_COLOR = "var(--jp-content-font-color2, #595959)"
BORDER_COLOR = "var(--jp-border-color1, #bdbdbd)"
ERROR_COLOR = "var(--jp-error-color1, #c62828)"
#: a translucent tint, so the box stays readable on a light and on a dark background alike
ERROR_BACKGROUND = "rgba(211, 47, 47, 0.08)"
WAITING_COLOR = "var(--jp-content-font-color2, #595959)"
RUNNING_COLOR = "var(--jp-brand-color1, #1565c0)"
SUCCESS_COLOR = "var(--jp-success-color0, #2e7d32)"
WARNING_COLOR = "var(--jp-warn-color0, #a15c00)"
#: A job's (or a comparison row's) state -> its colour.
STATE_COLORS = {
    "queued": WAITING_COLOR, "running": RUNNING_COLOR, "succeeded": SUCCESS_COLOR,
    "failed": ERROR_COLOR, "expired": ERROR_COLOR, "cancelled": WARNING_COLOR,
    "timed_out": WARNING_COLOR, "unknown": WARNING_COLOR,
    "skipped": WAITING_COLOR, "error": ERROR_COLOR,  # comparison rows that never became a job
}
#: One fixed colour per provider, the same in every plot (matplotlib needs plain hex).
PROVIDER_COLORS = {
    "xai": "#1f77b4", "apixo": "#ff7f0e", "pixazo": "#2ca02c", "xingchao": "#d62728",
    "apiinone": "#9467bd", "sandbox": "#7f7f7f",
}
_EXTRA_COLORS = ("#8c564b", "#e377c2", "#17becf", "#bcbd22")
#: The classes that keep MathJax (JupyterLab 4, Notebook 7: `mathjax_ignore`; older
#: front ends: `tex2jax_ignore`) from typesetting "$0.05 ... $0.07" as LaTeX.
NO_MATH = "mathjax_ignore tex2jax_ignore"


def provider_color(provider: str) -> str:
    """The fixed colour of a provider in every plot (an unknown name gets a stable extra one)."""
    known = PROVIDER_COLORS.get(provider)
    if known is not None:
        return known
    return _EXTRA_COLORS[sum(provider.encode()) % len(_EXTRA_COLORS)]


def no_math(markup: str) -> str:
    """`markup` inside a `<div class="mathjax_ignore tex2jax_ignore">`: no dollar sign in it
    is typeset as math."""
    return f'<div class="{NO_MATH}">{markup}</div>'


_FONT = "font-family:sans-serif;font-size:13px;line-height:1.4"
_MUTED = f"color:{MUTED_COLOR}"
_BOX = f"border:1px solid {BORDER_COLOR};border-radius:6px;padding:8px 12px;margin:4px 0;max-width:680px"
_CELL = "padding:3px 10px;text-align:left;vertical-align:top"
_ERROR_BOX = (f"border:1px solid {ERROR_COLOR};border-left:6px solid {ERROR_COLOR};border-radius:6px;"
              f"padding:8px 12px;margin:4px 0;max-width:680px;background-color:{ERROR_BACKGROUND}")

# a URL we will put in src: http(s) with a host and no character that could end an
# attribute or hide a scheme; or a base64 data URI of a video type
_HTTP_URL = re.compile(r"https?://[^\s\"'<>\\^`{|}\x00-\x1f\x7f]+", re.IGNORECASE)
_DATA_VIDEO = re.compile(r"data:video/[a-z0-9][a-z0-9.+-]*(?:;[a-z0-9.+-]+=[a-z0-9.+-]+)*;base64,"
                         r"[a-z0-9+/]*={0,2}", re.IGNORECASE)


# ---- small pure helpers -----------------------------------------------------------------
def esc(value: object) -> str:
    """`html.escape(str(value), quote=True)`; None becomes an empty string."""
    return "" if value is None else html.escape(str(value), quote=True)


def safe_video_src(url: object) -> str | None:
    """`url` when it may be used as a video `src` (http(s) with a host, or a base64
    `data:video/...` URI), else None. Nothing is normalized: a URL is accepted as is or not
    at all."""
    if not isinstance(url, str):
        return None
    if _DATA_VIDEO.fullmatch(url):
        return url
    if _HTTP_URL.fullmatch(url):
        try:
            host = urlsplit(url).hostname
        except ValueError:
            return None
        return url if host else None
    return None


def browser_can_load(url: str | None) -> bool:
    """False for URLs a browser can never fetch: not http(s)/data:video, or a host under the
    reserved `.invalid` domain (the in-process sandbox)."""
    src = safe_video_src(url)
    if src is None:
        return False
    if src.lower().startswith("data:"):
        return True
    host = (urlsplit(src).hostname or "").rstrip(".").lower()
    return not (host == "invalid" or host.endswith(".invalid"))


def format_seconds(seconds: float | None) -> str:
    """'12.3 s', '2 min 05 s', or '?' when unknown."""
    if seconds is None or not math.isfinite(seconds):
        return "?"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(round(seconds)), 60)
    return f"{minutes} min {rest:02d} s"


def format_cost(cost_usd: float | None, cost_source: str | None) -> str:
    """'$0.30 reported', '$0.048 estimated', or 'cost unknown'."""
    if cost_usd is None:
        return "cost unknown"
    amount = f"${cost_usd:.2f}" if cost_usd >= 0.1 else f"${cost_usd:.3f}"
    return f"{amount} {cost_source}" if cost_source else amount


def outcome_label(state: str, error_code: str | None) -> str:
    """The word a view shows for a job's end: "moderated" when content moderation blocked it
    (a first-class outcome), else the state."""
    return MODERATED if error_code == MODERATED else state


def _duration_text(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    return f"{seconds:g} s clip"


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def clean(text: str | None, secrets: Iterable[Secret | None] = ()) -> str | None:
    """Text that may be shown: keys and bearer tokens removed."""
    return None if text is None else redact(str(text), *secrets)


def data_uri(data: bytes, mime: str = "video/mp4") -> str:
    """A base64 `data:` URI of `data`."""
    return f"data:{mime};base64," + base64.b64encode(data).decode("ascii")


# ---- jobs in progress -------------------------------------------------------------------
def _progress_percent(progress: float | None) -> int | None:
    if progress is None or not math.isfinite(progress):
        return None
    return max(0, min(100, int(round(progress))))


def _status_details(snap: JobSnapshot) -> list[str]:
    bits: list[str] = []
    percent = _progress_percent(snap.progress)
    if percent is not None:
        bits.append(f"{percent}%")
    elif not snap.done:
        bits.append("progress not reported")
    if snap.elapsed_s is not None:
        bits.append(f"{format_seconds(snap.elapsed_s)} elapsed")
    polls = snap.polls or 0
    bits.append(f"{polls} poll{'s' if polls != 1 else ''}")
    if not snap.done and snap.next_check_s is not None and math.isfinite(snap.next_check_s):
        bits.append(next_check_text(snap.next_check_s))
    return bits


def next_check_text(seconds: float) -> str:
    """'next check in 4 s' ('next check now' under half a second)."""
    if seconds < 0.5:
        return "next check now"
    return f"next check in {format_seconds(seconds) if seconds >= 60 else f'{seconds:.0f} s'}"


def _status_line(snap: JobSnapshot) -> str:
    return " · ".join([outcome_label(str(snap.state), snap.error_code), *_status_details(snap)])


def job_text(snap: JobSnapshot) -> str:
    """The `text/plain` form of a job snapshot."""
    lines = [f"Job {snap.provider} · {snap.model} · {snap.mode}: {_status_line(snap)}"]
    if snap.task_id:
        lines.append(f"task: {snap.task_id}")
    if snap.error_message or snap.error_code:
        code = f"[{snap.error_code}] " if snap.error_code else ""
        lines.append(f"error: {code}{snap.error_message or ''}")
    lines.append(f"prompt: {_shorten(snap.prompt or '', 200)}")
    return "\n".join(lines)


def _header_html(provider: str, model: str, mode: str | None) -> str:
    extra = f" · {esc(mode)}" if mode else ""
    return f"<div><b>{esc(provider)}</b> · {esc(model)}{extra}</div>"


def _prompt_html(prompt: str | None) -> str:
    if not prompt:
        return ""
    return (f'<div style="{_MUTED}" title="{esc(prompt)}">prompt: '
            f"{esc(_shorten(prompt, 300))}</div>")


def job_html(snap: JobSnapshot) -> str:
    """A status card for a job that is queued or running (an error box once it failed).

    Pure: the same snapshot always gives the same HTML. No script and no animation (an
    unknown progress shows no bar), so a saved notebook shows the last state as it was.
    """
    state = str(snap.state)
    if snap.done and state != State.SUCCEEDED.value:
        cost = (format_cost(snap.result.cost_usd, snap.result.cost_source)
                if snap.result is not None else None)
        return error_html(snap.provider, snap.model, state, snap.error_code,
                          snap.error_message, prompt=snap.prompt, task_id=snap.task_id, cost=cost)
    color = STATE_COLORS.get(state, WAITING_COLOR)
    percent = _progress_percent(snap.progress)
    # no indeterminate (animated) bar when the provider reports no progress: a saved
    # notebook must never show something that looks alive but is not
    bar = (f'<progress max="100" value="{percent}" style="width:100%">{percent}%</progress>'
           if percent is not None else "")
    task = (f'<div style="{_MUTED}">task <code>{esc(snap.task_id)}</code></div>'
            if snap.task_id else "")
    return (f'<div class="grokvid-job {NO_MATH}" style="{_BOX};{_FONT}">'
            f'{_header_html(snap.provider, snap.model, snap.mode)}'
            f'<div><span style="color:{color};font-weight:bold">{esc(state)}</span>'
            f'{esc("".join(" · " + bit for bit in _status_details(snap)))}</div>'
            f"{bar}{task}{_prompt_html(snap.prompt)}</div>")


# ---- finished jobs ----------------------------------------------------------------------
def error_html(provider: str, model: str, state: str, code: str | None, message: str | None, *,
               prompt: str | None = None, task_id: str | None = None, cost: str | None = None) -> str:
    """A readable error box with the provider's code and message, all escaped. A moderated job
    says so plainly ("moderated: blocked by content moderation"); `cost` (e.g. "$0.30
    reported", "$0.000 not charged") says what the failure cost, when known."""
    label = outcome_label(state, code)
    if label == MODERATED:
        code_html = esc(f" · {state}: blocked by the provider's content moderation")
    else:
        code_html = f" <code>{esc(code)}</code>" if code else ""
    text = message or "no message from the provider"
    task = f'<div style="{_MUTED}">task <code>{esc(task_id)}</code></div>' if task_id else ""
    cost_html = f'<div style="{_MUTED}">cost: {esc(cost)}</div>' if cost else ""
    return (f'<div class="grokvid-error {NO_MATH}" style="{_ERROR_BOX};{_FONT}">'
            f"{_header_html(provider, model, None)}"
            f'<div><b style="color:{ERROR_COLOR}">{esc(label)}</b>{code_html}</div>'
            f'<div style="white-space:pre-wrap">{esc(text)}</div>'
            f"{cost_html}{task}{_prompt_html(prompt)}</div>")


def caption_text(result: ResultData) -> str:
    """'xai · grok-imagine-video · 6 s clip · latency 12.3 s · $0.30 estimated'."""
    bits = [result.provider, result.model]
    duration = _duration_text(result.video_duration)
    if duration:
        bits.append(duration)
    bits.append(f"latency {format_seconds(result.latency_s)}")
    if result.reused:  # no second charge: say so instead of repeating the first job's cost
        bits.append(f"reused earlier result, no new charge (it cost {format_cost(result.cost_usd, result.cost_source)})")
    else:
        bits.append(format_cost(result.cost_usd, result.cost_source))
    return " · ".join(bits)


def video_html(src: str | None, caption: str = "", *, note: str | None = None,
               max_width: int = 640) -> str:
    """A `<figure>` with `<video controls src=...>` and a caption (plain text, escaped).

    A `src` that is not http(s) or a base64 `data:video/` URI is refused: the figure then
    shows the refused value as escaped text instead of a player.
    """
    caption_html = esc(caption)
    # one line, cut with an ellipsis (the whole note in the tooltip): long file names fit a tile
    note_html = (f'<div class="grokvid-note" style="{_MUTED};white-space:nowrap;overflow:hidden;'
                 f'text-overflow:ellipsis;max-width:100%" title="{esc(note)}">{esc(note)}</div>'
                 if note else "")
    safe = safe_video_src(src)
    if safe is None:
        shown = _shorten(str(src), 200) if src is not None else "no URL"
        return (f'<figure class="grokvid-video {NO_MATH}" style="margin:4px 0;{_FONT}">'
                f'<div style="{_ERROR_BOX}">refused to play this video: only http(s) and '
                f"data:video/ URLs are embedded; got <code>{esc(shown)}</code></div>"
                f"<figcaption>{caption_html}</figcaption>{note_html}</figure>")
    src_attr = esc(safe)
    is_http = not safe.lower().startswith("data:")
    fallback = (f'<a href="{src_attr}" target="_blank" rel="noopener">open the video</a>'
                if is_http else "This browser cannot play MP4 video.")
    link = (f' · <a href="{src_attr}" target="_blank" rel="noopener">open ↗</a>'
            if is_http else "")
    return (f'<figure class="grokvid-video {NO_MATH}" style="margin:4px 0;{_FONT}">'
            f'<video src="{src_attr}" controls preload="metadata" playsinline '
            f'style="max-width:100%;width:{int(max_width)}px">{fallback}</video>'
            f'<figcaption style="{_MUTED}">{caption_html}{link}</figcaption>'
            f"{note_html}</figure>")


@dataclass(frozen=True)
class VideoSource:
    """Where a result's video will be loaded from: `src` (None if there is none) and a
    `note` for the reader (why the URL was kept, where the local copy is, ...)."""

    src: str | None
    note: str | None = None
    embedded: bool = False
    expired: bool = False  # the provider's URL has expired (the note says what plays instead)


def result_html(result: ResultData, source: VideoSource | None = None) -> str:
    """The video with its caption for a succeeded result, else the error box. Pure: the
    caller resolves `source` (`video_source`); by default the provider's URL is used."""
    if not result.ok:
        return error_html(result.provider, result.model, result.status.value, result.error_code,
                          result.error_message or _no_video_reason(result), prompt=result.prompt,
                          task_id=result.task_id, cost=_failure_cost(result))
    source = source or VideoSource(result.video_url)
    if source.src is None and source.expired:
        return expired_html(caption_text(result), source.note or "the provider's URL expired")
    return video_html(source.src, caption_text(result), note=source.note)


def expired_html(caption: str, note: str) -> str:
    """The box shown instead of a player when the URL expired and no copy can be shown."""
    return (f'<figure class="grokvid-video grokvid-expired {NO_MATH}" style="margin:4px 0;{_FONT}">'
            f'<div style="{_ERROR_BOX}"><b>Video URL expired.</b> {esc(note)}</div>'
            f'<figcaption style="{_MUTED}">{esc(caption)}</figcaption></figure>')


def _failure_cost(result: ResultData) -> str | None:
    """What an unsuccessful job cost, when known (reported, estimated as charged, not charged)."""
    if result.cost_usd is None:
        return None
    return format_cost(result.cost_usd, result.cost_source)


def _no_video_reason(result: ResultData) -> str | None:
    if result.status is State.SUCCEEDED and not result.video_urls:
        return "the provider reported success but returned no video URL"
    return None


def result_text(result: ResultData, source: VideoSource | None = None) -> str:
    """The `text/plain` form of a result (never contains a data URI)."""
    if not result.ok:
        code = f" [{result.error_code}]" if result.error_code else ""
        message = result.error_message or _no_video_reason(result) or ""
        cost = _failure_cost(result)
        return (f"Result {outcome_label(result.status.value, result.error_code)} · {result.provider} · "
                f"{result.model}" + (f" · {cost}" if cost else "") + "\n"
                f"error{code}: {message}\nprompt: {_shorten(result.prompt, 200)}")
    lines = [f"Result {result.status.value} · {caption_text(result)}"]
    if result.video_url:
        lines.append(f"video: {result.video_url}")
    if source is not None and source.note:
        lines.append(source.note)
    lines.append(f"prompt: {_shorten(result.prompt, 200)}")
    return "\n".join(lines)


def history_html(results: Iterable[ResultData]) -> str:
    """An HTML table of results (newest first as given): provider, model, mode, state,
    clip length, latency, cost and a link to the video where it is an http(s) URL."""
    rows = []
    for result in results:
        url = result.video_url
        link = (f'<a href="{esc(url)}" target="_blank" rel="noopener">video</a>'
                if url and safe_video_src(url) and browser_can_load(url) else "—")
        if not result.ok:
            link = esc(result.error_code or result.status.value)
        cost = ("reused, no charge" if result.reused
                else format_cost(result.cost_usd, result.cost_source))
        cells = [result.provider, result.model, result.mode,
                 outcome_label(result.status.value, result.error_code),
                 _duration_text(result.video_duration) or "", format_seconds(result.latency_s), cost]
        rows.append("<tr>" + "".join(f'<td style="{_CELL}">{esc(c)}</td>' for c in cells)
                    + f'<td style="{_CELL}">{link}</td>'
                    + f'<td style="{_CELL}" title="{esc(result.prompt)}">'
                    f"{esc(_shorten(result.prompt, 60))}</td></tr>")
    if not rows:
        return (f'<div class="{NO_MATH}" style="{_MUTED};{_FONT}">No videos generated in this '
                "session yet.</div>")
    head = "".join(f'<th style="{_CELL};border-bottom:1px solid {BORDER_COLOR}">{h}</th>' for h in
                   ("provider", "model", "mode", "state", "length", "latency", "cost", "video",
                    "prompt"))
    return (f'<table class="grokvid-history {NO_MATH}" style="{_FONT};border-collapse:collapse">'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>")


# ---- several jobs at once ---------------------------------------------------------------
#: narrowest column of a grid of cards or videos: below it a grid has fewer columns
GRID_MIN_COLUMN_PX = 160
GRID_GAP_PX = 8


def grid_columns(columns: int) -> str:
    """CSS `grid-template-columns`: `columns` equal columns, or fewer where each would be
    narrower than `GRID_MIN_COLUMN_PX` (a narrow notebook: a card squeezed to a word per line,
    its words spilling over its border), and one column never wider than the output."""
    n = max(1, int(columns))
    # a hair (1 px) under the exact share, so rounding never drops a column at full width
    share = f"calc((100% - {(n - 1) * GRID_GAP_PX}px) / {n} - 1px)"
    return f"repeat(auto-fill,minmax(min(100%,max({GRID_MIN_COLUMN_PX}px,{share})),1fr))"


def grid_html(cells: Iterable[str], *, columns: int = 2, title: str = "") -> str:
    """Already-built cards/videos (`job_html`, `result_html`, ...) side by side in a grid."""
    items = "".join(f'<div class="grokvid-grid-cell" style="min-width:0">{cell}</div>' for cell in cells)
    heading = f'<div style="{_FONT};{_MUTED}">{esc(title)}</div>' if title else ""
    return (f'<div class="grokvid-grid {NO_MATH}">{heading}<div style="display:grid;gap:{GRID_GAP_PX}px;'
            f'grid-template-columns:{grid_columns(columns)}">{items}</div></div>')
