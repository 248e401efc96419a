"""Looking back: `history()` (one row per job in the ledger) and `spend()` (what it cost).

Both read the ledger only (no request leaves) and return pandas DataFrames; `to="x.csv"` or
`to="x.parquet"` also writes the table (the DataFrame's own `to_csv`/`to_parquet` work too).
Costs are split the way they are known: `reported` (the provider said: the cost it reported, or
0.0 for a failure its docs say is not charged), `estimated` (from the price table, for a
finished job), `possibly_charged` (the estimate of a job that may have been
charged without a result: unknown, timed out, cancelled or still running) and `unknown_price`
(a count of such jobs whose price is not published: never counted as zero).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._budget import MAYBE_CHARGED, committed_cost
from ._expiry import kept_copy, url_status
from ._ledger import Ledger, LedgerRow, default_ledger

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["history", "spend", "HISTORY_COLUMNS", "SPEND_COLUMNS", "KNOWN_SOURCES", "write_table", "parse_since", "utc_times"]

#: The columns of `history()`, in order.
HISTORY_COLUMNS = (
    "created_at", "provider", "model", "mode", "state", "cost_usd", "cost_source", "task_id",
    "prompt", "duration", "resolution", "submitted_at", "finished_at", "latency_s", "polls",
    "video_url", "url_expires_at", "url_gone_at", "url_status", "local_path", "error_code", "error_message",
    "images", "job_id", "sample_index", "endpoint",
)
#: The columns of `spend()`, in order.
SPEND_COLUMNS = ("day", "provider", "jobs", "reported_usd", "estimated_usd", "possibly_charged_usd",
                 "unknown_price_jobs", "known_usd")


def parse_since(since: Any) -> float | None:
    """`since` as epoch seconds: a datetime (naive = local time), a date (its local midnight), an
    ISO text ("2026-11-30", "2026-11-30T12:00"), a `timedelta` (that long ago) or epoch seconds."""
    if since is None:
        return None
    if isinstance(since, timedelta):
        return time.time() - since.total_seconds()
    if isinstance(since, datetime):
        return since.timestamp()
    if isinstance(since, date):
        return datetime(since.year, since.month, since.day).timestamp()
    if isinstance(since, str):
        return datetime.fromisoformat(since.strip()).timestamp()
    if isinstance(since, (int, float)) and not isinstance(since, bool):
        return float(since)
    raise TypeError(f"since={since!r}: give a datetime, date, ISO text, timedelta or epoch seconds")


def _as_set(value: str | Iterable[str] | None) -> set[str] | None:
    if value is None:
        return None
    return {value} if isinstance(value, str) else set(value)


def _rows(ledger: Ledger | None, provider: Any, state: Any, since: Any, prompt: str | None) -> list[LedgerRow]:
    providers, states, start = _as_set(provider), _as_set(state), parse_since(since)
    needle = prompt.lower() if prompt else None
    out = []
    for row in (ledger or default_ledger()).all():
        if providers is not None and row.provider not in providers:
            continue
        if states is not None and row.state not in states:
            continue
        if start is not None and row.created_at < start:
            continue
        if needle is not None and needle not in row.prompt.lower():
            continue
        out.append(row)
    return out


def _record(row: LedgerRow) -> dict[str, Any]:
    latency = (row.finished_at - row.submitted_at
               if row.finished_at is not None and row.submitted_at is not None else None)
    images = row.params.get("image_inputs") or []
    return {
        "created_at": row.created_at, "provider": row.provider, "model": row.model, "mode": row.mode,
        "state": row.state, "cost_usd": row.cost_usd, "cost_source": row.cost_source,
        "task_id": row.task_id, "prompt": row.prompt, "duration": row.params.get("duration"),
        "resolution": row.params.get("resolution"), "submitted_at": row.submitted_at,
        "finished_at": row.finished_at, "latency_s": latency, "polls": row.polls,
        "video_url": row.video_urls[0] if row.video_urls else None,
        "url_expires_at": row.url_expires_at, "url_gone_at": row.url_gone_at,
        "url_status": url_status(bool(row.video_urls), row.url_expires_at, row.url_gone_at),
        "local_path": kept_copy(row.local_path),
        "error_code": row.error_code, "error_message": row.error_message,
        "images": ", ".join(str(i.get("fingerprint")) for i in images) or None,
        "job_id": row.job_id, "sample_index": row.sample_index, "endpoint": row.endpoint,
    }


def write_table(df: pd.DataFrame, to: str | Path) -> Path:
    """Write `df` to `to` by its suffix: .csv, .csv.gz, .parquet or .pq."""
    path = Path(to).expanduser()
    name = path.name.lower()
    if name.endswith((".parquet", ".pq")):
        df.to_parquet(path, index=False)
    elif name.endswith((".csv", ".csv.gz")):
        df.to_csv(path, index=False)
    else:
        raise ValueError(f"to={str(to)!r}: use a .csv, .csv.gz, .parquet or .pq suffix")
    return path


def utc_times(df: pd.DataFrame, columns: Iterable[str]) -> None:
    """Epoch-second columns of `df` as UTC datetimes, in place; always `datetime64[ns, UTC]`,
    an all-empty column too (shared with the `compare()` table)."""
    import pandas as pd

    for column in columns:
        values = pd.to_numeric(df[column], errors="coerce").astype("float64")
        df[column] = pd.to_datetime(values, unit="s", utc=True).astype("datetime64[ns, UTC]")


def history(provider: str | Iterable[str] | None = None, state: str | Iterable[str] | None = None,
            since: Any = None, prompt: str | None = None, *, ledger: Ledger | None = None,
            to: str | Path | None = None) -> pd.DataFrame:
    """Every job in the ledger, oldest first, as a DataFrame (columns `HISTORY_COLUMNS`):
    provider, model, mode, state, cost and its source, task id, timings (UTC datetimes and
    `latency_s`), the video URL with its expected expiry, when it was seen gone (a download got
    403/404/410) and its status (`live`, `expired`), the
    kept local file, errors. Filters: `provider` and `state` (a name or several), `since`
    (datetime, date, ISO text, timedelta or epoch seconds), `prompt` (case-insensitive text
    it contains). `to=` also writes it (.csv or .parquet). Reads the ledger only."""
    import pandas as pd

    from ._frame import table

    rows = [_record(row) for row in _rows(ledger, provider, state, since, prompt)]
    df = pd.DataFrame(rows, columns=list(HISTORY_COLUMNS))
    df["cost_usd"] = df["cost_usd"].astype("float64")
    utc_times(df, ("created_at", "submitted_at", "finished_at", "url_expires_at", "url_gone_at"))
    if to is not None:
        df.attrs["path"] = str(write_table(df, to))
    return table(df)  # shown without MathJax: prompts and prices keep their "$"


#: `cost_source` values whose amount is known, not estimated: what the provider reported, and
#: the 0.0 of a failure its docs say is not charged (Pixazo's ERROR).
KNOWN_SOURCES = ("reported", "not charged")


def _classify(row: LedgerRow) -> tuple[str, float]:
    """(bucket, USD) of one job: reported, estimated, possibly_charged, unknown_price or none."""
    if row.cost_usd is not None:
        return ("reported" if row.cost_source in KNOWN_SOURCES else "estimated"), row.cost_usd
    if row.state == "succeeded":
        return "unknown_price", 0.0
    if row.state in MAYBE_CHARGED:
        cost = committed_cost(row)
        return ("unknown_price", 0.0) if cost is None else ("possibly_charged", cost)
    return "none", 0.0


def spend(provider: str | Iterable[str] | None = None, since: Any = None, *,
          ledger: Ledger | None = None, to: str | Path | None = None) -> pd.DataFrame:
    """What the ledger's jobs cost, one row per (day, provider) (columns `SPEND_COLUMNS`; day
    is the local calendar day of the request): `reported_usd` (known amounts: what the provider
    reported, and the 0.0 of a failure it documents as not charged), `estimated_usd`,
    `possibly_charged_usd` (jobs whose outcome is unknown or unfinished: they may have been
    charged), `unknown_price_jobs` (jobs that may have cost something at an unpublished price,
    counted, never as zero) and `known_usd` (the sum of the three amounts). `df.attrs["totals"]`
    holds the same split over all rows. Filters and `to=` as in `history()`."""
    import pandas as pd

    from ._frame import table as no_math_table

    table: dict[tuple[str, str], dict[str, Any]] = {}
    for row in _rows(ledger, provider, None, since, None):
        day = datetime.fromtimestamp(row.created_at).date().isoformat()
        entry = table.setdefault((day, row.provider), {
            "day": day, "provider": row.provider, "jobs": 0, "reported_usd": 0.0, "estimated_usd": 0.0,
            "possibly_charged_usd": 0.0, "unknown_price_jobs": 0})
        entry["jobs"] += 1
        bucket, usd = _classify(row)
        if bucket == "unknown_price":
            entry["unknown_price_jobs"] += 1
        elif bucket != "none":
            entry[f"{bucket}_usd"] += usd
    records = [table[key] for key in sorted(table)]
    for entry in records:
        for name in ("reported_usd", "estimated_usd", "possibly_charged_usd"):
            entry[name] = round(entry[name], 6)
        entry["known_usd"] = round(entry["reported_usd"] + entry["estimated_usd"]
                                   + entry["possibly_charged_usd"], 6)
    df = pd.DataFrame(records, columns=list(SPEND_COLUMNS))
    df.attrs["totals"] = {name: (int(df[name].sum()) if name.endswith("jobs")
                                 else round(float(df[name].sum()), 6)) for name in SPEND_COLUMNS[2:]}
    if to is not None:
        df.attrs["path"] = str(write_table(df, to))
    return no_math_table(df)  # shown without MathJax: prompts and prices keep their "$"
