"""Running a planned comparison: `run()` starts the jobs, feeds a progress reporter from the
caller's thread until every job has ended (or the caller interrupts), and builds the table."""

from __future__ import annotations

import asyncio
import collections
import logging
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from .. import display
from .._types import State
from .fit import Estimate
from .plan import Batch, Entry
from .progress import Line, Reporter
from .table import Snapshot, frame_of, make_row

if TYPE_CHECKING:
    import pandas as pd

    from .._job import Job

__all__ = ["run", "run_async", "announce", "recent_job"]

log = logging.getLogger("grokvid_nb")

_INTERRUPTED_NOTE = "interrupted while {state}; the job keeps running in the background and gv.resume() re-attaches"
# the last jobs compare() ran, kept alive so gallery() can still download sandbox clips
_recent: "collections.OrderedDict[str, Job]" = collections.OrderedDict()
_RECENT_MAX = 500


def announce(reporter: Reporter, estimate: Estimate, max_cost_usd: float | None) -> None:
    """Log the estimate and show it (stderr or the notebook) before the guard is checked."""
    summary = estimate.describe(max_cost_usd)
    log.info("grokvid_nb compare: %s", summary)
    reporter.estimate(summary, estimate.breakdown())


# ---- running ----------------------------------------------------------------------------

@dataclass
class _Slot:
    """One row to be: a job (or a skipped provider, or a job that could not start)."""

    entry: Entry
    sample: int | None
    job: "Job | None" = None
    error: str | None = None

    @property
    def label(self) -> str:
        base = f"{self.entry.provider}/{self.entry.model}"
        return base if self.sample is None else f"{base} #{self.sample}"

    @property
    def status(self) -> str:
        if self.job is not None:
            return State(self.job.state).value
        if self.entry.fit.skipped:
            return "skipped"
        return "error" if self.error else "not_started"


def _line(slot: _Slot) -> Line:
    job = slot.job
    cost, note = "", slot.entry.note
    result = job.result_nowait() if job is not None else None
    if result is not None:
        cost = display.format_cost(result.cost_usd, result.cost_source)
    if slot.error:
        note = slot.error
    return Line(key=f"{slot.label}|{id(slot)}", label=slot.label, status=slot.status,
                elapsed_s=job.elapsed_s if job is not None else None,
                progress=job.progress if job is not None else None, cost=cost, note=note)


def _row(slot: _Slot, interrupted: bool) -> dict[str, Any]:
    entry, job = slot.entry, slot.job
    request = entry.fit.request
    common: dict[str, Any] = dict(
        provider=entry.provider, model=entry.model, mode=request.mode if request else None,
        params=request.params if request else None, sample=slot.sample, note=entry.note,
        estimated=entry.per_video)
    if job is None:
        if interrupted and slot.status == "not_started":
            common["note"] = "; ".join(n for n in (entry.note, "interrupted before it was submitted") if n)
        return make_row(snapshot=Snapshot(slot.status, error=slot.error), **common)
    result = job.result_nowait()
    if result is not None:
        # a reused job may have finished (and built its Result) before it was reused
        return make_row(result=result, reused=job.reused, **common)
    note = entry.note
    if interrupted:
        note = "; ".join(n for n in (note, _INTERRUPTED_NOTE.format(state=slot.status)) if n)
    common["note"] = note
    return make_row(snapshot=Snapshot(slot.status, polls=job.polls, task_id=job.task_id,
                                      reused=job.reused, job_id=job.job_id), **common)


def _remember(job: "Job") -> None:
    _recent[job.job_id] = job
    _recent.move_to_end(job.job_id)
    while len(_recent) > _RECENT_MAX:
        _recent.popitem(last=False)


def _wait_for_change(changed: threading.Event, seconds: float) -> None:
    """Sleep until a job changes or `seconds` pass (interruptible by Ctrl-C)."""
    changed.wait(seconds)
    changed.clear()


def _make_slots(batch: Batch) -> list[_Slot]:
    slots: list[_Slot] = []
    for entry in batch.entries:
        if entry.fit.skipped:
            slots.append(_Slot(entry, None))
        else:
            slots.extend(_Slot(entry, i) for i in range(batch.repeats))
    return slots


def _start(batch: Batch, slots: list[_Slot], on_change: "Callable[[Job], None]") -> None:
    for slot in slots:
        if slot.entry.fit.skipped or slot.entry.client is None:
            continue
        request, send = slot.entry.fit.request, slot.entry.fit.send
        assert request is not None and send is not None
        try:  # the image inputs themselves: start() inlines or uploads them (once per batch)
            slot.job = slot.entry.client.start(
                batch.prompt, model=request.model, mode=request.mode, reuse=batch.reuse,
                sample_index=slot.sample or 0, **dict(send))
        except Exception as exc:  # one provider's problem must not lose the other rows
            slot.error = f"could not start: {exc}"
            continue
        _remember(slot.job)
        slot.job.add_listener(on_change)


def _pending(slots: list[_Slot], started: float, timeout: float | None) -> bool:
    """True while a job runs; past `timeout` the running ones stop being polled."""
    pending = [s.job for s in slots if s.job is not None and not s.job.done()]
    if pending and timeout is not None and time.monotonic() - started >= timeout:
        for job in pending:
            job.stop_polling(f"compare(timeout={timeout:g}) ran out")
    return bool(pending)


def _finish(slots: list[_Slot], reporter: Reporter, on_change: "Callable[[Job], None]",
            interrupted: bool) -> "pd.DataFrame":
    from .._frame import table

    for slot in slots:
        if slot.job is not None:
            slot.job.remove_listener(on_change)
    if interrupted:  # a second Ctrl-C while cleaning up must not lose the table
        _shielded(lambda: reporter.end([_line(s) for s in slots], interrupted=True), required=False)
        shown = _shielded(lambda: table(frame_of([_row(s, True) for s in slots])))
        assert shown is not None  # a required step returns its value
        df = shown
    else:
        reporter.end([_line(s) for s in slots], interrupted=False)
        df = table(frame_of([_row(s, False) for s in slots]))
    df.attrs["interrupted"] = interrupted
    if interrupted:
        waiting = sum(s.job is not None and not s.job.done() for s in slots)
        warnings.warn(f"compare() was interrupted: {len(slots) - waiting} row(s) finished; {waiting} "
                      "job(s) keep running in the background (gv.resume() re-attaches)",
                      RuntimeWarning, stacklevel=4)
    return df


def run(batch: Batch, reporter: Reporter, timeout: float | None) -> "pd.DataFrame":
    """Start every job of a planned batch, show progress until all end, return the table."""
    slots = _make_slots(batch)
    changed = threading.Event()

    def on_change(_job: "Job") -> None:
        changed.set()

    interrupted = False
    started = time.monotonic()
    try:
        _start(batch, slots, on_change)
        while True:
            reporter.update([_line(s) for s in slots])
            if not _pending(slots, started, timeout):
                break
            _wait_for_change(changed, 0.25)
    except KeyboardInterrupt:
        interrupted = True
    return _finish(slots, reporter, on_change, interrupted)


async def run_async(batch: Batch, reporter: Reporter, timeout: float | None) -> "pd.DataFrame":
    """`run()` for async code: the same jobs, progress and table, awaiting instead of
    blocking (the progress is drawn from the caller's event loop). Cancelling the awaiting
    task counts as an interrupt: the table so far is built, then the cancellation goes on."""
    loop = asyncio.get_running_loop()
    slots = _make_slots(batch)
    changed = asyncio.Event()

    def on_change(_job: "Job") -> None:  # engine thread: hand over to the caller's loop
        try:
            loop.call_soon_threadsafe(changed.set)
        except RuntimeError:  # that loop has closed: nobody is waiting any more
            pass

    started = time.monotonic()
    try:
        _start(batch, slots, on_change)
        while True:
            reporter.update([_line(s) for s in slots])
            if not _pending(slots, started, timeout):
                break
            try:
                await asyncio.wait_for(changed.wait(), 0.25)
            except TimeoutError:
                pass
            changed.clear()
    except asyncio.CancelledError:
        _finish(slots, reporter, on_change, interrupted=True)
        raise
    return _finish(slots, reporter, on_change, interrupted=False)


_T = TypeVar("_T")


def _shielded(step: Callable[[], _T], *, required: bool = True) -> _T | None:
    """Run a cleanup step after an interrupt; further Ctrl-Cs are noted and the step is done
    again (a required one, like the table) or skipped (the progress display)."""
    for _ in range(20):
        try:
            return step()
        except KeyboardInterrupt:
            log.warning("grokvid_nb compare: interrupted again while saving the table; finishing it")
            if not required:
                return None
    return step()


def recent_job(job_id: str) -> "Job | None":
    """A job one of the last compare() runs started (kept alive for `gallery()`)."""
    from .._client import live_job

    return _recent.get(job_id) or live_job(job_id)
