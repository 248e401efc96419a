"""When a result URL stops working, and whether to keep a local copy.

Each adapter declares `url_ttl_s`, how long its result URLs are documented to live (xAI and
XingChaoYiQing about 24 h, APIXO 15 days, the others unknown = None). A job records
`url_expires_at` (finish + lifetime, scaled by the time scale like every built-in timing, so a
sped-up sandbox stays faithful) and `url_gone_at` when a download saw the URL answer
403/404/410. `keep_local_default()` reads `GROKVID_KEEP_LOCAL` (default on).

`url_status` and `kept_copy` are the one rule for the `url_status` and `local_path` columns that
`gv.history()` and the `compare()`/`sweep()` tables share.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from pathlib import Path

__all__ = ["keep_local_default", "expires_at", "url_expired", "format_when", "expiry_text",
           "url_status", "kept_copy", "GONE_STATUSES"]

#: HTTP statuses a result URL answers once it has expired.
GONE_STATUSES = (403, 404, 410)


def keep_local_default() -> bool:
    """`GROKVID_KEEP_LOCAL` as a boolean: on unless set to 0, false, no or off."""
    value = os.environ.get("GROKVID_KEEP_LOCAL", "1").strip().lower()
    return value not in ("0", "false", "no", "off", "")


def expires_at(finished_at: float | None, ttl_s: float | None, time_scale: float = 1.0) -> float | None:
    """Epoch seconds at which a result URL is expected to expire (None when unknown)."""
    if finished_at is None or ttl_s is None:
        return None
    return finished_at + ttl_s * time_scale


def url_expired(expires: float | None, gone: float | None, now: float | None = None) -> bool:
    """True once the URL was seen gone or its expected expiry has passed."""
    if gone is not None:
        return True
    return expires is not None and (time.time() if now is None else now) >= expires


def url_status(has_url: bool, expires: float | None, gone: float | None, now: float | None = None) -> str:
    """A job's result URL in one word: `none` (no video URL), `expired`, `live`, or
    `live (expiry unknown)` where the provider documents no lifetime."""
    if not has_url:
        return "none"
    if url_expired(expires, gone, now):
        return "expired"
    return "live" if expires is not None else "live (expiry unknown)"


def kept_copy(path: str | os.PathLike[str] | None) -> str | None:
    """The kept local copy's path when that file still exists, else None."""
    return str(path) if path and Path(path).is_file() else None


def format_when(ts: float) -> str:
    """'2026-11-30 22:15 UTC'."""
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def expiry_text(expires: float | None, gone: float | None) -> str:
    """"the provider's URL expired on ..." for an expired URL, else when it will."""
    if gone is not None and (expires is None or gone < expires):
        return f"the provider's URL expired on {format_when(gone)} (it no longer answered)"
    if expires is not None and url_expired(expires, gone):
        return f"the provider's URL expired on {format_when(expires)}"
    if expires is not None:
        return f"the provider's URL is valid until about {format_when(expires)}"
    return "the provider does not document how long its URL stays valid"
