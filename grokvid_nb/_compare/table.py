"""The comparison table: its columns, one row per job, and `summarize()`.

`cost_usd` is the job's cost (the contract: `Result.cost_usd`), also on a row that reuses an
earlier job from the ledger; such a row says `reused` and `note` says nothing was paid again,
and `spent_usd` is what this call paid for the row (0.0 when reused or nothing was sent), so
summing `spent_usd` over a re-run does not pay twice. `summarize()` counts each job once.

The URL columns (`url_expires_at`, `url_gone_at`, `url_status`, `local_path`) follow
`gv.history()`'s rule (`_expiry.url_status`, `_expiry.kept_copy`), so a live table and the ledger's view of the same
jobs agree, and `gallery()` of a table saved in an earlier kernel knows when its URLs die.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._expiry import kept_copy, url_status
from .._types import ResultData, State

if TYPE_CHECKING:
    import pandas as pd

    from .._result import Result

__all__ = ["COLUMNS", "TIME_COLUMNS", "Snapshot", "make_row", "frame_of", "result_from_row",
           "summarize_table", "SUMMARY_COLUMNS", "NOT_SENT", "REUSED_NOTE", "paid_here", "spent_now"]

#: Columns of `compare()`'s table, in order: the contract's ten first.
COLUMNS: tuple[str, ...] = (
    "provider", "model", "status", "latency_s", "polls", "cost_usd", "cost_source", "video_url",
    "error", "task_id",
    "mode", "sample", "duration", "resolution", "aspect_ratio", "request",
    "queue_s", "generation_s", "video_duration", "cost_per_video_s", "estimated_cost_usd",
    "reused", "spent_usd", "note", "job_id", "url_expires_at", "url_gone_at", "url_status", "local_path",
)
#: Columns holding UTC times (epoch seconds in `make_row`, datetimes in the DataFrame).
TIME_COLUMNS: tuple[str, ...] = ("url_expires_at", "url_gone_at")

SUMMARY_COLUMNS: tuple[str, ...] = (
    "provider", "model", "n", "succeeded", "success_rate", "median_latency_s", "p95_latency_s",
    "mean_cost_usd", "cost_per_video_s", "cost_source", "skipped", "reused", "spent_usd",
)
#: Statuses of a row whose request was never sent (skipped, not started, could not start).
NOT_SENT: tuple[str, ...] = ("skipped", "not_started", "error")
#: What a reused row's `note` says.
REUSED_NOTE = "reused an earlier job from the ledger: nothing was paid again (spent_usd 0)"


@dataclass(frozen=True)
class Snapshot:
    """What a row shows of a job without a `Result` yet (or of a provider never started)."""

    status: str
    polls: int = 0
    task_id: str | None = None
    reused: bool = False
    job_id: str | None = None
    error: str | None = None


def _error(code: str | None, message: str | None) -> str | None:
    if code and message:
        return f"{code}: {message}"
    return code or message or None


def _per_second(cost: float | None, seconds: float | None) -> float | None:
    if cost is None or not seconds:
        return None
    return round(cost / seconds, 6)


def paid_here(status: Any, reused: Any) -> bool:
    """Whether the call that made a row submitted (and so pays for) its job: not when the
    row reused an earlier job from the ledger, nor when its request was never sent."""
    return not _truthy(reused) and status not in NOT_SENT


def spent_now(status: Any, reused: Any, cost: Any) -> float | None:
    """What the call that made a row paid for it: the job's cost when it submitted the job
    (None while unknown: an unknown cost is never counted as zero), else 0.0."""
    return _finite(cost) if paid_here(status, reused) else 0.0


def _truthy(value: Any) -> bool:
    """A `reused` cell as a bool (a table read back from CSV may hold "True"/"False" text)."""
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return False if value is None or (isinstance(value, float) and math.isnan(value)) else bool(value)


def make_row(*, provider: str, model: str | None, mode: str | None,
             params: Mapping[str, Any] | None, sample: int | None, note: str,
             estimated: float | None, result: "Result | None" = None,
             snapshot: Snapshot | None = None, reused: bool = False) -> dict[str, Any]:
    """One row of the table from a finished job's `Result`, or from a `Snapshot` of an
    unfinished or skipped one. `params` is the request as sent (None: nothing was sent);
    `reused` marks a job taken from the ledger (as do the result's and snapshot's own flags)."""
    row: dict[str, Any] = dict.fromkeys(COLUMNS)
    row.update(
        provider=provider, model=model, mode=mode, sample=sample, note=note or "",
        estimated_cost_usd=estimated, reused=False, polls=0, url_status="none",
        request=json.dumps(dict(params), sort_keys=True, default=str) if params is not None else None,
    )
    if params is not None:
        row.update(duration=params.get("duration"), resolution=params.get("resolution"),
                   aspect_ratio=params.get("aspect_ratio"))
    if result is not None:
        row.update(
            model=result.model, mode=result.mode, status=result.status.value,
            latency_s=None if result.latency_s is None else round(result.latency_s, 3),
            polls=result.polls, cost_usd=result.cost_usd,
            # as in summarize(): a finished video whose cost nobody knows says so
            cost_source=result.cost_source or ("unknown" if result.ok and result.cost_usd is None else None),
            video_url=result.video_url, error=_error(result.error_code, result.error_message),
            task_id=result.task_id, queue_s=result.queue_s, generation_s=result.generation_s,
            video_duration=result.video_duration,
            # a failed job made no video (its video_duration is the length asked for)
            cost_per_video_s=_per_second(result.cost_usd, result.video_duration) if result.ok else None,
            reused=bool(result.reused or reused), job_id=result.job_id,
            url_expires_at=result.url_expires_at, url_gone_at=result.url_gone_at,
            url_status=url_status(bool(result.video_urls), result.url_expires_at, result.url_gone_at),
            local_path=kept_copy(_local(result)),
        )
        if params is None:
            row["request"] = json.dumps(dict(result.params), sort_keys=True, default=str)
    elif snapshot is not None:
        row.update(status=snapshot.status, polls=snapshot.polls, task_id=snapshot.task_id,
                   reused=bool(snapshot.reused or reused), job_id=snapshot.job_id, error=snapshot.error)
    if row["reused"]:
        row["note"] = "; ".join(n for n in (row["note"], REUSED_NOTE) if n)
    row["spent_usd"] = spent_now(row["status"], row["reused"], row["cost_usd"])
    return row


def _local(result: "Result") -> Any:
    """The job's current copy first (a later `download(dest)` replaces the one kept at finish)."""
    current = result.link.local_path() if result.link is not None else None
    return current if kept_copy(current) else result.local_path


def frame_of(rows: list[dict[str, Any]]) -> "pd.DataFrame":
    """The table's DataFrame from `make_row` rows: `COLUMNS` in order, times as UTC datetimes
    (as in `gv.history()`)."""
    import pandas as pd

    from .._history import utc_times

    df = pd.DataFrame(rows, columns=list(COLUMNS))
    utc_times(df, TIME_COLUMNS)
    return df


def _epoch(value: Any) -> float | None:
    """A time cell as epoch seconds: a datetime or Timestamp, ISO text (a table read back from
    CSV), epoch seconds; None for an empty cell."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    import pandas as pd

    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError):
        return None
    if pd.isna(stamp):
        return None
    return float((stamp if stamp.tzinfo is not None else stamp.tz_localize("UTC")).timestamp())


def result_from_row(row: Mapping[str, Any]) -> ResultData | None:
    """A succeeded row's video as `ResultData` (URL, its expected expiry, the kept copy), for a
    row whose job is gone (a table from an earlier kernel, or read back from a file); None for
    a row without a video."""
    url = row.get("video_url")
    if row.get("status") != "succeeded" or not isinstance(url, str) or not url:
        return None
    local = kept_copy(row.get("local_path") if isinstance(row.get("local_path"), str) else None)
    return ResultData(
        provider=str(row.get("provider") or "?"), model=str(row.get("model") or "?"),
        mode=str(row.get("mode") or ""), status=State.SUCCEEDED, task_id=None, prompt="", params={},
        video_urls=(url,), local_path=Path(local) if local else None,
        url_expires_at=_epoch(row.get("url_expires_at")), url_gone_at=_epoch(row.get("url_gone_at")))


def _p95(values: "pd.Series") -> float | None:
    return float(values.quantile(0.95)) if len(values) else None


def _finite(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _one_row_per_job(rows: "pd.DataFrame") -> "pd.DataFrame":
    """`rows` with each job once: a job shown by several rows (a sweep whose grid points ask
    the same request, tables of several runs concatenated) keeps its last row, its latest
    state. Rows without a `job_id` (never sent, or a table without the column) all stay."""
    if "job_id" not in rows.columns or not len(rows):
        return rows
    ids = rows["job_id"]
    return rows[ids.isna() | ~ids.duplicated(keep="last")]


def _spent(rows: "pd.DataFrame") -> float | None:
    """What the calls that made `rows` paid: each job once, its latest known cost if one of
    its rows submitted it, 0.0 if every row reused it or sent nothing; None when a job paid
    here has an unknown cost."""
    jobs: dict[Any, tuple[bool, float | None]] = {}  # job -> (paid by these calls, latest cost)
    for i, row in enumerate(rows.to_dict("records")):
        job = row.get("job_id")
        key = job if isinstance(job, str) else ("row", i)
        paid, cost = jobs.get(key, (False, None))
        known = _finite(row.get("cost_usd"))
        jobs[key] = (paid or paid_here(row.get("status"), row.get("reused")),
                     known if known is not None else cost)
    amounts = [cost if paid else 0.0 for paid, cost in jobs.values()]
    if any(amount is None for amount in amounts):
        return None
    return round(sum(amount for amount in amounts if amount is not None), 6)


def summarize_table(df: "pd.DataFrame") -> "pd.DataFrame":
    """Per provider and model: jobs run (`n`, skipped rows not counted), successes, success
    rate, median and p95 latency of the successful jobs, mean known cost (a job of unknown cost
    is left out, never counted as zero), cost per second of video (the known costs
    of the succeeded jobs / the seconds of their videos; unknown when no video was made), where
    the costs came from,
    `reused` (rows that reused an earlier job from the ledger) and `spent_usd` (what the calls
    that made the table paid: reused rows count 0.0; unknown when a new job's cost is).
    Each job counts once, however many rows show it."""
    import pandas as pd

    missing = {"provider", "model", "status"} - set(df.columns)
    if missing:
        raise ValueError(f"summarize(): not a compare() table (missing columns {sorted(missing)})")
    rows: list[dict[str, Any]] = []
    for (provider, model), group in df.groupby(["provider", "model"], sort=False, dropna=False):
        ran = _one_row_per_job(group[group["status"] != "skipped"])
        succeeded = ran["status"] == "succeeded"
        ok = ran[succeeded]
        latency = pd.to_numeric(ok.get("latency_s"), errors="coerce").dropna() if len(ok) else pd.Series(dtype=float)
        costs = pd.to_numeric(ran.get("cost_usd"), errors="coerce") if len(ran) else pd.Series(dtype=float)
        seconds = pd.to_numeric(ran.get("video_duration"), errors="coerce") if len(ran) else pd.Series(dtype=float)
        # seconds of video made: a failed row's duration is only what was asked for
        both = costs.notna() & seconds.notna() & (seconds > 0) & succeeded
        sources = sorted({str(s) for s in ran.get("cost_source", pd.Series(dtype=object)).dropna()})
        reused = [_truthy(v) for v in group["reused"]] if "reused" in group.columns else []
        rows.append({
            "provider": provider,
            "model": model,
            "n": len(ran),
            "succeeded": len(ok),
            "success_rate": round(len(ok) / len(ran), 4) if len(ran) else None,
            "median_latency_s": _finite(latency.median()) if len(latency) else None,
            "p95_latency_s": _p95(latency),
            "mean_cost_usd": _finite(costs.dropna().mean()) if costs.notna().any() else None,
            "cost_per_video_s": (round(float(costs[both].sum() / seconds[both].sum()), 6)
                                 if both.any() else None),
            "cost_source": ", ".join(sources) if sources else ("unknown" if len(ok) else None),
            "skipped": int((group["status"] == "skipped").sum()),
            "reused": sum(reused),
            "spent_usd": _spent(group),
        })
    from .._frame import table

    return table(pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS)))
