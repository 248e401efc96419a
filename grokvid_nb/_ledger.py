"""The job ledger: an SQLite file (WAL) that survives crashes and kernel restarts.

The intent is written before a submit leaves, the task id as soon as it returns, then every
state change, the result URLs and the cost, each in its own transaction before the call
returns. Only progress readings and poll counts (`update_soon`), which nothing depends on for
money, are batched: a writer thread commits all pending ones in one transaction every
`FLUSH_INTERVAL_S`, so polling jobs do not each wait on a disk commit on the event loop. Keys are never stored: a row holds the provider
name, the endpoint and the request, which is all `gv.resume()` needs (keys come from the
environment again).

A write the file cannot take (disk full, read-only, locked) raises `LedgerError` naming the
file, and the update is kept in memory and retried by the same writer thread until it is
written: a task id once returned by a provider is never lost.
"""

from __future__ import annotations

import atexit
import functools
import json
import logging
import os
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from ._exceptions import LedgerError
from ._types import RESUMABLE_STATES, REUSABLE_STATES

log = logging.getLogger("grokvid_nb")
_P = ParamSpec("_P")
_R = TypeVar("_R")

__all__ = ["Ledger", "LedgerRow", "default_home", "default_ledger", "FLUSH_INTERVAL_S", "DEFERRABLE"]

#: how often batched progress/poll-count updates (and updates the file refused) are written
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
    "url_expires_at", "url_gone_at", "owner",
)
_COLUMN_SET = frozenset(_COLUMNS)
#: Columns added after the first release: (name, SQL type), added to older files on open.
_ADDED_COLUMNS = (("url_expires_at", "REAL"), ("url_gone_at", "REAL"), ("owner", "TEXT"))


#: this process's id (`os.getpid()` is a system call; a fork resets it below)
_pid = os.getpid()


def _forked() -> None:
    global _pid
    _pid = os.getpid()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forked)


def process_tag() -> str:
    """`pid@host` of this process: who is submitting a job (so another process can tell a
    submit in flight from one abandoned by a crash)."""
    return f"{os.getpid()}@{socket.gethostname()}"


def owner_alive(owner: str | None) -> bool:
    """True when `owner` (a `process_tag`) is a live process on this host other than a
    finished one; False for None, another host's tag, or a process that is gone."""
    if not owner:
        return False
    pid_text, _, host = owner.partition("@")
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return _not_zombie(pid)


def _not_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            return stat.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return True


def _hint(path: Path, exc: BaseException) -> str:
    text = str(exc).lower()
    if "full" in text:
        return "Free some disk space; nothing else is needed."
    if "readonly" in text or "read-only" in text or "permission" in text or "unable to open" in text:
        return (f"Make {path} and its folder writable, or point GROKVID_HOME at a writable folder "
                "(jobs recorded in this file are only resumable from it).")
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return (f"The file is damaged: move it aside (mv {path} {path}.damaged) and a fresh ledger "
                "is created on next use; the damaged copy keeps its task ids for a manual look "
                "(sqlite3 .recover).")
    if "locked" in text or "busy" in text:
        return "Another process holds the ledger locked for too long; try again."
    return "Check the file and its folder."


def _guarded(method: Callable[_P, _R]) -> Callable[_P, _R]:
    """Turn every sqlite3 error of a ledger method into a `LedgerError` naming the file."""
    @functools.wraps(method)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return method(*args, **kwargs)
        except sqlite3.Error as exc:
            ledger = args[0]
            assert isinstance(ledger, Ledger)
            raise ledger.error(exc) from exc
    return wrapper


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
    owner: str | None = None


class Ledger:
    """Thread-safe access to the ledger file; one short transaction per call."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._local = threading.local()
        # per job, merged oldest first: batched progress (`update_soon`) and updates the file
        # could not take; the writer thread writes them, a later `update` carries them along
        self._pending: dict[str, dict[str, Any]] = {}
        self._pending_lock = threading.Lock()
        self._write_lock = threading.Lock()  # a batch and a direct update never interleave
        self._writer: threading.Thread | None = None
        self._exit_hooked = False
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._open()
        except (sqlite3.Error, OSError) as exc:
            raise self.error(exc) from exc

    def _open(self) -> None:
        db = self._connection()
        db.executescript(_SCHEMA)
        present = {row[1] for row in db.execute("PRAGMA table_info(jobs)")}
        for name, kind in _ADDED_COLUMNS:
            if name not in present:
                try:
                    db.execute(f"ALTER TABLE jobs ADD COLUMN {name} {kind}")
                except sqlite3.OperationalError as exc:  # another process added it meanwhile
                    if "duplicate column" not in str(exc):
                        raise

    def error(self, exc: BaseException, task_ids: tuple[str, ...] = ()) -> LedgerError:
        """The `LedgerError` for a failure of this file: its path, the problem and a hint."""
        return LedgerError(str(self.path), f"{type(exc).__name__}: {exc}", _hint(self.path, exc),
                           task_ids=task_ids)

    def __repr__(self) -> str:
        return f"Ledger({str(self.path)!r})"

    def _connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None or getattr(self._local, "pid", None) != _pid:
            conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
            self._local.pid = _pid
        return conn

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        db = self._connection()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                try:
                    db.execute("ROLLBACK")
                except sqlite3.Error:  # the original error is the one worth raising
                    pass
            raise

    @staticmethod
    def _insert(db: sqlite3.Connection, *, provider: str, model: str, mode: str, prompt: str,
                params: dict[str, Any], endpoint: str, fingerprint: str, sample_index: int) -> str:
        job_id = uuid.uuid4().hex
        now = time.time()
        db.execute(
            "INSERT INTO jobs (job_id, provider, model, mode, prompt, params, endpoint, "
            "fingerprint, sample_index, state, created_at, updated_at, owner) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (job_id, provider, model, mode, prompt, json.dumps(params, sort_keys=True),
             endpoint, fingerprint, sample_index, "queued", now, now, process_tag()),
        )
        return job_id

    @_guarded
    def record_intent(self, *, provider: str, model: str, mode: str, prompt: str,
                      params: dict[str, Any], endpoint: str, fingerprint: str,
                      sample_index: int) -> str:
        """Write a new job before its submit leaves; returns its job id."""
        with self._tx() as db:
            return self._insert(db, provider=provider, model=model, mode=mode, prompt=prompt,
                                params=params, endpoint=endpoint, fingerprint=fingerprint,
                                sample_index=sample_index)

    @_guarded
    def claim(self, *, provider: str, model: str, mode: str, prompt: str, params: dict[str, Any],
              endpoint: str, fingerprint: str, sample_index: int) -> tuple[str, LedgerRow | None]:
        """Atomically, across processes: the reusable job of an identical request if there is
        one (`(its id, row)`), else a new intent (`(new id, None)`). One `BEGIN IMMEDIATE`
        transaction holds the file's write lock from the lookup to the insert, so of several
        processes asking at once exactly one records (and pays for) the job."""
        with self._tx() as db:
            found = self._find_reusable(db, fingerprint, sample_index)
            while found is not None and found.task_id is None and found.state == "queued" \
                    and not owner_alive(found.owner):
                # its process died before the submit's reply was recorded: settle it, look again
                self._settle(db, found)
                found = self._find_reusable(db, fingerprint, sample_index)
            if found is not None:
                return found.job_id, found
            return self._insert(db, provider=provider, model=model, mode=mode, prompt=prompt,
                                params=params, endpoint=endpoint, fingerprint=fingerprint,
                                sample_index=sample_index), None

    #: What an abandoned intent (its process gone, no task id) becomes: never sent -> failed.
    NEVER_SENT = ("failed", "never_sent", "the process ended before the submit was sent; nothing "
                  "was sent and nothing was charged")
    REPLY_LOST = ("unknown", "submit_reply_lost", "the process ended before the submit's reply was "
                  "recorded; a task may have been created and charged. It was NOT resent: check "
                  "the provider's dashboard.")

    def _settle(self, db: sqlite3.Connection, row: LedgerRow) -> tuple[str, str, str]:
        state, code, message = self.NEVER_SENT if row.submitted_at is None else self.REPLY_LOST
        db.execute("UPDATE jobs SET state = ?, error_code = ?, error_message = ?, finished_at = ?, "
                   "updated_at = ? WHERE job_id = ? AND task_id IS NULL AND state = 'queued'",
                   (state, code, message, time.time(), time.time(), row.job_id))
        return state, code, message

    @_guarded
    def settle_abandoned(self, row: LedgerRow) -> tuple[str, str, str]:
        """Mark an intent whose process is gone without a task id: `failed` (never_sent) when
        its submit never left (no `submitted_at`), else `unknown` (submit_reply_lost, may have
        been charged, never resent). Returns (state, code, message)."""
        with self._tx() as db:
            return self._settle(db, row)

    @staticmethod
    def _encode(fields: dict[str, Any]) -> dict[str, Any]:
        unknown = fields.keys() - _COLUMN_SET
        if unknown:
            raise KeyError(f"unknown ledger columns: {sorted(unknown)}")
        if "video_urls" in fields and fields["video_urls"] is not None:
            fields["video_urls"] = json.dumps(list(fields["video_urls"]))
        fields["updated_at"] = time.time()
        return fields

    def update(self, job_id: str, **fields: Any) -> None:
        """Set some columns of one job (lists are stored as JSON), in its own transaction. When
        the file cannot take it (disk full, read-only, locked, ...) the update is kept in memory
        and retried until written, and a `LedgerError` naming the file (and any task id kept)
        is raised."""
        fields = self._encode(fields)
        with self._write_lock:
            with self._pending_lock:  # batched or unsaved fields of this job go with it, first
                fields = {**self._pending.pop(job_id, {}), **fields}
            try:
                self._write(job_id, fields)
            except sqlite3.Error as exc:
                self._keep(job_id, fields)
                raise self.error(exc, self.unsaved_task_ids()) from exc

    def update_soon(self, job_id: str, **fields: Any) -> None:
        """Record progress/poll counts (`DEFERRABLE` columns only) without waiting for the disk:
        a writer thread commits every pending update in one transaction within
        `FLUSH_INTERVAL_S`; a later `update` of the same job carries them along."""
        extra = set(fields) - DEFERRABLE
        if extra:
            raise KeyError(f"only {sorted(DEFERRABLE)} may be deferred, not {sorted(extra)}")
        self._keep(job_id, fields)

    def _write(self, job_id: str, fields: dict[str, Any]) -> None:
        names = ", ".join(f"{name} = ?" for name in fields)
        with self._tx() as db:
            db.execute(f"UPDATE jobs SET {names} WHERE job_id = ?", (*fields.values(), job_id))

    def _keep(self, job_id: str, fields: dict[str, Any], *, older: bool = False) -> None:
        """Hold `fields` for the writer thread (under newer pending ones when `older`)."""
        with self._pending_lock:
            held = self._pending.get(job_id, {})
            self._pending[job_id] = {**fields, **held} if older else {**held, **fields}
            if self._writer is None:
                if not self._exit_hooked:
                    atexit.register(self._flush_quietly)
                    self._exit_hooked = True
                self._writer = threading.Thread(target=self._write_loop, name="grokvid-ledger",
                                                daemon=True)
                self._writer.start()

    def unsaved_task_ids(self) -> tuple[str, ...]:
        """Task ids held in memory because the file could not take them yet."""
        with self._pending_lock:
            return tuple(f["task_id"] for f in self._pending.values() if f.get("task_id"))

    def pending(self) -> int:
        """How many jobs have updates waiting to be written."""
        with self._pending_lock:
            return len(self._pending)

    def flush(self, *, quiet: bool = False) -> bool:
        """Write every held update now (one transaction); True when none is left. When the
        file refuses, they stay held (the writer thread retries every `FLUSH_INTERVAL_S`) and,
        unless `quiet`, a `LedgerError` is raised."""
        with self._write_lock:
            with self._pending_lock:
                pending, self._pending = self._pending, {}
            if not pending:
                return True
            now = time.time()
            try:
                with self._tx() as db:
                    for job_id, fields in pending.items():
                        fields = {**fields, "updated_at": now}
                        names = ", ".join(f"{name} = ?" for name in fields)
                        db.execute(f"UPDATE jobs SET {names} WHERE job_id = ?",
                                   (*fields.values(), job_id))
            except sqlite3.Error as exc:
                for job_id, fields in pending.items():
                    self._keep(job_id, fields, older=True)
                if quiet:
                    return False
                raise self.error(exc, self.unsaved_task_ids()) from exc
        for fields in pending.values():
            if fields.get("task_id"):
                log.warning("grokvid_nb: task id %s written to the ledger %s after an earlier failure",
                            fields["task_id"], self.path)
        return True

    def _flush_quietly(self) -> None:
        try:
            self.flush(quiet=True)
        except OSError:  # at exit, e.g. the file's folder is gone
            pass

    def _write_loop(self) -> None:
        while True:
            time.sleep(FLUSH_INTERVAL_S)  # let a tick's worth of updates gather
            with self._pending_lock:
                if not self._pending:  # idle: the thread ends, the next update starts one
                    self._writer = None
                    return
            self._flush_quietly()  # what the file refused stays held and is tried again

    @_guarded
    def _rows(self, where: str, args: tuple[Any, ...]) -> list[LedgerRow]:
        self.flush(quiet=True)  # a reader sees every update made before it asked (if writable)
        return self._select(self._connection(), where, args)

    def _select(self, db: sqlite3.Connection, where: str, args: tuple[Any, ...]) -> list[LedgerRow]:
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

    def _find_reusable(self, db: sqlite3.Connection, fingerprint: str, sample_index: int) -> LedgerRow | None:
        marks = ",".join("?" for _ in REUSABLE)
        rows = self._select(db, f"fingerprint = ? AND sample_index = ? AND state IN ({marks})",
                            (fingerprint, sample_index, *REUSABLE))
        return rows[-1] if rows else None

    @_guarded
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
