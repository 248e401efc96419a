"""The job ledger: an SQLite file (WAL) that survives crashes and kernel restarts.

The intent is written before a submit leaves, the task id as soon as it returns, then every
state change, the result URLs and the cost, each in its own transaction before the call
returns. Only progress readings and poll counts (`update_soon`), which nothing depends on for
money, are batched: a writer thread commits all pending ones in one transaction every
`FLUSH_INTERVAL_S`, so polling jobs do not each wait on a disk commit on the event loop. Keys are never stored: a row holds the provider
name, the endpoint and the request, which is all `gv.resume()` needs (keys come from the
environment again).
"""

from __future__ import annotations

import atexit
import json
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._types import RESUMABLE_STATES, REUSABLE_STATES

__all__ = ["Ledger", "LedgerRow", "default_home", "default_ledger", "FLUSH_INTERVAL_S", "DEFERRABLE"]

#: how often batched progress/poll-count updates are committed
FLUSH_INTERVAL_S = 0.5
#: the only columns `update_soon` accepts: nothing money-related waits in memory
DEFERRABLE = frozenset({"progress", "polls"})

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    job_id        TEXT PRIMARY KEY,
    provider      TEXT NOT NULL,
    model         TEXT NOT NULL,
    mode          TEXT NOT NULL,
    prompt        TEXT NOT NULL,
    params        TEXT NOT NULL,
    endpoint      TEXT NOT NULL,
    fingerprint   TEXT NOT NULL,
    sample_index  INTEGER NOT NULL DEFAULT 0,
    state         TEXT NOT NULL,
    task_id       TEXT,
    progress      REAL,
    polls         INTEGER NOT NULL DEFAULT 0,
    created_at    REAL NOT NULL,
    submitted_at  REAL,
    accepted_at   REAL,
    finished_at   REAL,
    video_urls    TEXT,
    cost_usd      REAL,
    cost_source   TEXT,
    error_code    TEXT,
    error_message TEXT,
    local_path    TEXT,
    provider_created_at   REAL,
    provider_completed_at REAL,
    updated_at    REAL NOT NULL,
    url_expires_at REAL,
    url_gone_at    REAL
);
CREATE INDEX IF NOT EXISTS jobs_fingerprint ON jobs (fingerprint, sample_index);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs (state);
"""

_COLUMNS = (
    "job_id", "provider", "model", "mode", "prompt", "params", "endpoint", "fingerprint",
    "sample_index", "state", "task_id", "progress", "polls", "created_at", "submitted_at",
    "accepted_at", "finished_at", "video_urls", "cost_usd", "cost_source", "error_code",
    "error_message", "local_path", "provider_created_at", "provider_completed_at", "updated_at",
    "url_expires_at", "url_gone_at",
)
#: Columns added after the first release: (name, SQL type), added to older files on open.
_ADDED_COLUMNS = (("url_expires_at", "REAL"), ("url_gone_at", "REAL"))

#: State values whose job is still worth re-attaching to.
RESUMABLE = tuple(s.value for s in RESUMABLE_STATES)
#: State values that a repeated identical request reuses instead of paying again.
REUSABLE = tuple(s.value for s in REUSABLE_STATES)


def default_home() -> Path:
    """`GROKVID_HOME`, else `~/.grokvid`."""
    return Path(os.environ.get("GROKVID_HOME") or Path.home() / ".grokvid").expanduser()


@dataclass(frozen=True)
class LedgerRow:
    """One job as recorded."""

    job_id: str
    provider: str
    model: str
    mode: str
    prompt: str
    params: dict[str, Any]
    endpoint: str
    fingerprint: str
    sample_index: int
    state: str
    task_id: str | None
    progress: float | None
    polls: int
    created_at: float
    submitted_at: float | None
    accepted_at: float | None
    finished_at: float | None
    video_urls: list[str]
    cost_usd: float | None
    cost_source: str | None
    error_code: str | None
    error_message: str | None
    local_path: str | None
    provider_created_at: float | None
    provider_completed_at: float | None
    updated_at: float
    url_expires_at: float | None = None  # when the result URL is expected to expire
    url_gone_at: float | None = None  # when a download saw it gone (403/404/410)


class Ledger:
    """Thread-safe access to the ledger file; one short transaction per call."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        db = self._connection()
        db.executescript(_SCHEMA)
        present = {info[1] for info in db.execute("PRAGMA table_info(jobs)").fetchall()}
        for name, kind in _ADDED_COLUMNS:  # a ledger written by an older version
            if name not in present:
                try:
                    db.execute(f"ALTER TABLE jobs ADD COLUMN {name} {kind}")
                except sqlite3.OperationalError:  # another process added it meanwhile
                    pass
        self._pending: dict[str, dict[str, Any]] = {}
        self._pending_lock = threading.Lock()
        self._write_lock = threading.Lock()  # a batch and a direct update never interleave
        self._writer: threading.Thread | None = None
        self._exit_hooked = False

    def __repr__(self) -> str:
        return f"Ledger({str(self.path)!r})"

    def _connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None or getattr(self._local, "pid", None) != os.getpid():
            conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
            self._local.pid = os.getpid()
        return conn

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        db = self._connection()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def record_intent(self, *, provider: str, model: str, mode: str, prompt: str,
                      params: dict[str, Any], endpoint: str, fingerprint: str,
                      sample_index: int) -> str:
        """Write a new job before its submit leaves; returns its job id."""
        job_id = uuid.uuid4().hex
        now = time.time()
        with self._tx() as db:
            db.execute(
                "INSERT INTO jobs (job_id, provider, model, mode, prompt, params, endpoint, "
                "fingerprint, sample_index, state, created_at, updated_at) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (job_id, provider, model, mode, prompt, json.dumps(params, sort_keys=True),
                 endpoint, fingerprint, sample_index, "queued", now, now),
            )
        return job_id

    def update(self, job_id: str, **fields: Any) -> None:
        """Set some columns of one job (lists are stored as JSON)."""
        unknown = set(fields) - set(_COLUMNS)
        if unknown:
            raise KeyError(f"unknown ledger columns: {sorted(unknown)}")
        if "video_urls" in fields and fields["video_urls"] is not None:
            fields["video_urls"] = json.dumps(list(fields["video_urls"]))
        with self._write_lock:
            with self._pending_lock:  # batched fields of this job go with it, never after it
                fields = {**self._pending.pop(job_id, {}), **fields}
            fields["updated_at"] = time.time()
            names = ", ".join(f"{name} = ?" for name in fields)
            with self._tx() as db:
                db.execute(f"UPDATE jobs SET {names} WHERE job_id = ?", (*fields.values(), job_id))

    def update_soon(self, job_id: str, **fields: Any) -> None:
        """Record progress/poll counts (`DEFERRABLE` columns only) without waiting for the disk:
        a writer thread commits every pending update in one transaction within
        `FLUSH_INTERVAL_S`; a later `update` of the same job carries them along."""
        extra = set(fields) - DEFERRABLE
        if extra:
            raise KeyError(f"only {sorted(DEFERRABLE)} may be deferred, not {sorted(extra)}")
        with self._pending_lock:
            self._pending.setdefault(job_id, {}).update(fields)
            if self._writer is None:
                if not self._exit_hooked:
                    atexit.register(self._flush_quietly)
                    self._exit_hooked = True
                self._writer = threading.Thread(target=self._write_loop, name="grokvid-ledger", daemon=True)
                self._writer.start()

    def flush(self) -> None:
        """Commit every pending `update_soon` now (one transaction)."""
        with self._write_lock:
            with self._pending_lock:
                pending, self._pending = self._pending, {}
            if not pending:
                return
            now = time.time()
            with self._tx() as db:
                for job_id, fields in pending.items():
                    names = ", ".join(f"{name} = ?" for name in fields)
                    db.execute(f"UPDATE jobs SET {names}, updated_at = ? WHERE job_id = ?",
                               (*fields.values(), now, job_id))

    def _flush_quietly(self) -> None:
        try:
            self.flush()
        except (sqlite3.Error, OSError):  # at exit, e.g. the file's folder is gone
            pass

    def _write_loop(self) -> None:
        while True:
            time.sleep(FLUSH_INTERVAL_S)  # let a tick's worth of updates gather
            with self._pending_lock:
                if not self._pending:  # idle: the thread ends, the next update starts one
                    self._writer = None
                    return
            self._flush_quietly()  # progress is advisory: a failed batch is not retried

    def _rows(self, where: str, args: tuple[Any, ...]) -> list[LedgerRow]:
        self.flush()  # a reader sees every update made before it asked
        db = self._connection()
        cur = db.execute(f"SELECT {', '.join(_COLUMNS)} FROM jobs WHERE {where} ORDER BY created_at", args)
        return [self._row(values) for values in cur.fetchall()]

    @staticmethod
    def _row(values: tuple[Any, ...]) -> LedgerRow:
        data = dict(zip(_COLUMNS, values))
        data["params"] = json.loads(data["params"])
        data["video_urls"] = json.loads(data["video_urls"]) if data["video_urls"] else []
        return LedgerRow(**data)

    def get(self, job_id: str) -> LedgerRow | None:
        """One job by id."""
        rows = self._rows("job_id = ?", (job_id,))
        return rows[0] if rows else None

    def find_reusable(self, fingerprint: str, sample_index: int) -> LedgerRow | None:
        """The newest job of an identical request that is not failed or expired."""
        marks = ",".join("?" for _ in REUSABLE)
        rows = self._rows(f"fingerprint = ? AND sample_index = ? AND state IN ({marks})",
                          (fingerprint, sample_index, *REUSABLE))
        return rows[-1] if rows else None

    def count_reusable(self, fingerprint: str, below: int) -> int:
        """How many distinct sample indexes under `below` have a reusable job of this request."""
        marks = ",".join("?" for _ in REUSABLE)
        cur = self._connection().execute(
            f"SELECT COUNT(DISTINCT sample_index) FROM jobs WHERE fingerprint = ? AND sample_index < ? "
            f"AND sample_index >= 0 AND state IN ({marks})", (fingerprint, min(below, 2**62), *REUSABLE))
        return int(cur.fetchone()[0])

    def unfinished(self) -> list[LedgerRow]:
        """Every job that may still finish at its provider."""
        marks = ",".join("?" for _ in RESUMABLE)
        return self._rows(f"state IN ({marks})", RESUMABLE)

    def all(self) -> list[LedgerRow]:
        """Every recorded job, oldest first."""
        return self._rows("1 = 1", ())


_default: dict[Path, Ledger] = {}


def default_ledger() -> Ledger:
    """The ledger under `GROKVID_HOME` (one instance per path in this process)."""
    path = default_home() / "ledger.sqlite3"
    if path not in _default:
        _default[path] = Ledger(path)
    return _default[path]
