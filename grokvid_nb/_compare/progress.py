"""Live progress of a comparison: a line per finished job (and a bar on a terminal) on stderr,
or, in a notebook, an HTML table with one row per job updated in place.

The text and HTML are pure functions of a list of `Line`s; the reporters only decide when to
redraw. Reporters are called from the caller's thread (compare's wait loop), never from the
engine thread, so display handles are only touched by the kernel's main thread.
"""

from __future__ import annotations

import html
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from .. import display
from .._html import MUTED_COLOR, NO_MATH, RUNNING_COLOR, STATE_COLORS
from .._types import TERMINAL_STATES

__all__ = ["Line", "progress_text", "finished_text", "progress_html", "estimate_html",
           "Reporter", "NullReporter", "TerminalReporter", "NotebookReporter", "make_reporter"]

#: A row's status once it will not change: a job's end state, or a row that never became a job.
_TERMINAL = (*(state.value for state in TERMINAL_STATES), "skipped", "error")


@dataclass(frozen=True)
class Line:
    """One job as the progress display shows it."""

    key: str
    label: str
    status: str
    elapsed_s: float | None = None
    progress: float | None = None
    cost: str = ""
    note: str = ""

    @property
    def done(self) -> bool:
        """True once the job will not change any more."""
        return self.status in _TERMINAL


def _seconds(value: float | None) -> str:
    return "" if value is None else f"{value:.1f} s"


def progress_text(lines: Sequence[Line], elapsed_s: float, width: int = 24) -> str:
    """'[######------] 3/8 done: 2 succeeded, 1 failed | 12.3 s'."""
    total = len(lines) or 1
    done = sum(line.done for line in lines)
    filled = round(width * done / total)
    counts: dict[str, int] = {}
    for line in lines:
        if line.done:
            counts[line.status] = counts.get(line.status, 0) + 1
    detail = ", ".join(f"{n} {status}" for status, n in counts.items())
    return (f"[{'#' * filled}{'-' * (width - filled)}] {done}/{len(lines)} done"
            + (f": {detail}" if detail else "") + f" | {elapsed_s:.1f} s")


def finished_text(line: Line, index: int, total: int) -> str:
    """'compare [3/8] apixo/grok-video #0: succeeded in 45.2 s, $0.09 (estimated)'."""
    bits = [line.status]
    if line.elapsed_s is not None and line.status not in ("skipped", "error"):
        bits[0] += f" in {line.elapsed_s:.1f} s"
    if line.cost:
        bits.append(line.cost)
    text = f"compare [{index}/{total}] {line.label}: {', '.join(bits)}"
    if line.note:
        text += f" ({line.note})"
    return text


def progress_html(lines: Sequence[Line], title: str = "") -> str:
    """An HTML table, one row per job, everything escaped."""
    e = html.escape
    head = "".join(f"<th style='text-align:left;padding:2px 8px'>{e(h)}</th>"
                   for h in ("job", "status", "progress", "elapsed", "cost", "note"))
    body = []
    for line in lines:
        colour = STATE_COLORS.get(line.status, RUNNING_COLOR)
        pct = "" if line.progress is None else f"{line.progress:.0f}%"
        body.append(
            "<tr>"
            f"<td style='padding:2px 8px;white-space:nowrap'>{e(line.label)}</td>"
            f"<td style='padding:2px 8px;white-space:nowrap;color:{colour}'>{e(line.status)}</td>"
            f"<td style='padding:2px 8px;white-space:nowrap'>{e(pct)}</td>"
            f"<td style='padding:2px 8px;white-space:nowrap'>{e(_seconds(line.elapsed_s))}</td>"
            f"<td style='padding:2px 8px;white-space:nowrap'>{e(line.cost)}</td>"
            # a note is a sentence: wrap it at word breaks, never one word per line
            f"<td style='padding:2px 8px;color:{MUTED_COLOR};min-width:16em;max-width:40em;"
            f"white-space:normal;overflow-wrap:break-word'>{e(line.note)}</td>"
            "</tr>")
    caption = f"<caption style='text-align:left'>{e(title)}</caption>" if title else ""
    return (f"<div class='grokvid-compare-progress-box {NO_MATH}' style='overflow-x:auto;max-width:100%'>"
            f"<table class='grokvid-compare-progress {NO_MATH}' style='border-collapse:collapse;"
            f"font-family:sans-serif;font-size:13px'>{caption}"
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>")


def estimate_html(summary: str, breakdown: Sequence[tuple[str, str]]) -> str:
    """The pre-flight cost estimate as a small HTML block."""
    e = html.escape
    items = "".join(f"<li><code>{e(label)}</code>: {e(text)}</li>" for label, text in breakdown)
    return (f"<div class='grokvid-compare-estimate {NO_MATH}'><b>compare:</b> {e(summary)}"
            f"<ul style='margin:2px 0'>{items}</ul></div>")


class Reporter:
    """Shows a comparison's estimate and progress; the base class shows nothing."""

    def estimate(self, summary: str, breakdown: Sequence[tuple[str, str]]) -> None:
        """Show the pre-flight cost estimate."""

    def update(self, lines: Sequence[Line], force: bool = False) -> None:
        """Show the current state (reporters throttle unless `force`)."""

    def end(self, lines: Sequence[Line], interrupted: bool = False) -> None:
        """Show the final state."""


class NullReporter(Reporter):
    """No output (progress=False)."""


class TerminalReporter(Reporter):
    """A line per finished job on `stream` (stderr), plus a redrawn bar when it is a TTY."""

    def __init__(self, stream: TextIO | None = None, interval: float = 0.2) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.interval = interval
        self._started = time.monotonic()
        self._shown: set[str] = set()
        self._last = 0.0
        self._bar = False

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # a closed stream must not break the comparison
            pass

    def estimate(self, summary: str, breakdown: Sequence[tuple[str, str]]) -> None:
        lines = [f"compare: {summary}"] + [f"  {label}: {text}" for label, text in breakdown]
        self._write("\n".join(lines) + "\n")

    def update(self, lines: Sequence[Line], force: bool = False) -> None:
        fresh = [line for line in lines if line.done and line.key not in self._shown]
        if fresh and self._bar:
            self._write("\r\x1b[2K")
            self._bar = False
        for line in fresh:
            self._shown.add(line.key)
            self._write(finished_text(line, len(self._shown), len(lines)) + "\n")
        now = time.monotonic()
        if self.tty and (force or fresh or now - self._last >= self.interval):
            self._last = now
            self._write("\r\x1b[2K" + progress_text(lines, now - self._started))
            self._bar = True

    def end(self, lines: Sequence[Line], interrupted: bool = False) -> None:
        self.update(lines, force=True)
        if self._bar:
            self._write("\n")
            self._bar = False
        elif not self.tty:
            self._write(progress_text(lines, time.monotonic() - self._started) + "\n")
        if interrupted:
            waiting = sum(not line.done for line in lines)
            self._write(f"compare: interrupted; {waiting} unfinished job(s) keep running in the "
                        "background and gv.resume() re-attaches to them\n")


class NotebookReporter(Reporter):
    """An HTML table in the cell output, one row per job, updated in place (throttled)."""

    def __init__(self, interval: float = 0.5, title: str = "grokvid compare") -> None:
        from IPython.display import display

        self._display = display
        self.interval = interval
        self.title = title
        self._handle: Any = None
        self._last = 0.0
        self._started = time.monotonic()

    def estimate(self, summary: str, breakdown: Sequence[tuple[str, str]]) -> None:
        from IPython.display import HTML

        self._display(HTML(estimate_html(summary, breakdown)))

    def _html(self, lines: Sequence[Line]) -> Any:
        from IPython.display import HTML

        return HTML(progress_html(lines, f"{self.title}: {progress_text(lines, time.monotonic() - self._started)}"))

    def update(self, lines: Sequence[Line], force: bool = False) -> None:
        now = time.monotonic()
        if self._handle is None:
            self._handle = self._display(self._html(lines), display_id=True)
            self._last = now
        elif force or now - self._last >= self.interval:
            self._handle.update(self._html(lines))
            self._last = now

    def end(self, lines: Sequence[Line], interrupted: bool = False) -> None:
        self.update(lines, force=True)


def make_reporter(progress: bool | str | Reporter) -> Reporter:
    """`True`: a notebook table inside Jupyter, else the terminal reporter; `False`: nothing;
    "terminal"/"notebook" force one; a `Reporter` instance is used as is."""
    if isinstance(progress, Reporter):
        return progress
    if progress is False or progress is None:
        return NullReporter()
    if progress == "notebook" or (progress is True and display.in_notebook()):
        return NotebookReporter()
    if progress in (True, "terminal"):
        return TerminalReporter()
    raise ValueError(f"progress={progress!r}: expected True, False, 'terminal' or 'notebook'")
