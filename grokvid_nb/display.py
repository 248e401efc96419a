"""The live display layer: where a result's video is loaded from, notebook bundles, and
the output that keeps a running job current.

The markup itself comes from the pure builders in `grokvid_nb._html` (re-exported here).
This module takes plain snapshots (`JobSnapshot`, `ResultData`) and, for live updates,
anything that looks like a job (`LiveJob`: `done()`, `_snapshot()`, listeners); it never
imports the engine.

Where the video comes from (`video_source`):

* the provider's URL while it is valid, with a note giving its expected expiry and where the
  kept local copy is (clips are kept by default: `Client(keep_local=...)`);
* once the URL has expired, the local copy, inlined as a `data:video/mp4;base64,` URI, with an
  "expired ... local copy at ..." note (or a note that the clip is gone). A data URI is
  what plays in an *untrusted* notebook, on nbviewer and after the notebook is moved or
  shared; a relative path only resolves when the file sits under the notebook's own folder
  on the Jupyter server (downloads live in `GROKVID_HOME`, usually outside it), and not at
  all on nbviewer/GitHub. Files above `EMBED_MAX_BYTES` keep the URL instead;
* an inlined copy when the URL cannot load in a browser (the in-process sandbox serves
  `http://<id>.sandbox.invalid/...`; `.invalid` never resolves) or when `embed=True`.

`display_job(job)` (what `Job._ipython_display_` calls) shows a job and keeps that one
output up to date from one display thread shared by all live outputs (at most 4 updates a
second each, a heartbeat for the elapsed time, always a final update), so the kernel stays free.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from . import _loop
from ._exceptions import ResultExpiredError
from ._expiry import expiry_text, url_expired
from ._html import (
    EMBED_MAX_BYTES,
    VideoSource,
    browser_can_load,
    caption_text,
    clean,
    data_uri,
    error_html,
    esc,
    format_cost,
    format_seconds,
    grid_html,
    history_html,
    job_html,
    job_text,
    result_html,
    result_text,
    safe_video_src,
    video_html,
)
from ._types import JobSnapshot, ResultData

__all__ = [
    "EMBED_MAX_BYTES",
    "JobSnapshot",
    "JobWatcher",
    "LiveJob",
    "VideoSource",
    "browser_can_load",
    "caption_text",
    "data_uri",
    "display_job",
    "error_html",
    "esc",
    "format_cost",
    "format_seconds",
    "display_group",
    "group_bundle",
    "history_html",
    "in_notebook",
    "job_bundle",
    "job_html",
    "job_text",
    "result_bundle",
    "result_html",
    "result_text",
    "safe_video_src",
    "video_html",
    "video_source",
]

log = logging.getLogger("grokvid_nb")


class Watchable(Protocol):
    """What the watcher needs: `done()` and change listeners (a job, or a group of jobs)."""

    def done(self) -> bool: ...

    def add_listener(self, callback: Callable[[Any], None]) -> None: ...

    def remove_listener(self, callback: Callable[[Any], None]) -> None: ...


class LiveJob(Watchable, Protocol):
    """What the live display needs of a job (`grokvid_nb.Job` is one)."""

    def _snapshot(self) -> JobSnapshot: ...


class LiveGroup(Watchable, Protocol):
    """What the live display needs of several jobs shown together (`JobGroup` is one)."""

    @property
    def jobs(self) -> Sequence[LiveJob]: ...


_J = TypeVar("_J", bound=Watchable)


def in_notebook() -> bool:
    """True inside a Jupyter kernel (where display handles can be updated in place)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


# ---- resolving the video source (the only I/O of this module) ----------------------------
_uri_cache: dict[tuple[str, int, int], str] = {}
_uri_lock = threading.Lock()


def _local_copy(result: ResultData) -> Path | None:
    link = result.link
    # the job's current copy first: a later download(dest) replaces the one kept at finish
    for path in (link.local_path() if link is not None else None, result.local_path):
        if path is not None and Path(path).is_file():
            return Path(path)
    return None


def _file_uri(path: Path) -> str | None:
    """The file as a data URI (cached per path, size and mtime), or None when too big."""
    stat = path.stat()
    if stat.st_size > EMBED_MAX_BYTES:
        return None
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    with _uri_lock:
        if key in _uri_cache:
            return _uri_cache[key]
    uri = data_uri(path.read_bytes(), "video/webm" if path.suffix.lower() == ".webm" else "video/mp4")
    with _uri_lock:
        if len(_uri_cache) > 32:
            _uri_cache.clear()
        _uri_cache[key] = uri
    return uri


def video_source(result: ResultData, embed: bool | None = None) -> VideoSource:
    """Decide the `src` for a result's video, and say which in `note`.

    `embed=None` (default): the provider's URL while it is valid (the note gives its expected
    expiry and the kept local copy, so a saved notebook says where the clip lives after the
    URL dies), the local copy once the URL has expired (inlined; "expired, local copy at
    ..."), and an inlined copy for a URL no browser can load (the in-process sandbox).
    `embed=True`: always inline (downloading first if needed). `embed=False`: the URL.
    Downloads never run on the engine thread (they would deadlock it); the URL is kept then.
    An expired URL with no kept copy gives `src=None` and a note saying the clip is gone.
    """
    url = result.video_url
    if embed is False or not result.ok:
        return VideoSource(url)
    local = _local_copy(result)
    if url_expired(result.url_expires_at, result.url_gone_at):
        return _expired_source(result, local)
    must_inline = embed is True or not browser_can_load(url)
    if not must_inline:
        return VideoSource(url, note=_live_note(result, local))
    if local is None and result.link is not None and not _loop.in_engine_thread():
        try:
            local = result.link.download(None)
        except ResultExpiredError:
            return _expired_source(result, None)
        except Exception as exc:  # the video stays reachable by its URL, if at all
            return VideoSource(url, note=f"could not download the video to embed it: {exc}")
    if local is None:
        return VideoSource(url, note="this URL cannot be loaded by a browser; "
                                     "call result.download() to embed the video")
    uri = _file_uri(local)
    if uri is None:
        return VideoSource(url, note=f"local copy: {local} (too large to embed)")
    return VideoSource(uri, note=f"embedded from the local copy {local.name} "
                                 f"({expiry_text(result.url_expires_at, result.url_gone_at)})",
                       embedded=True)


def _live_note(result: ResultData, local: Path | None) -> str:
    if local is None:
        return (f"playing the provider's URL: {expiry_text(result.url_expires_at, result.url_gone_at)}; "
                "no local copy kept (result.download() keeps one)")
    return (f"playing the provider's URL: {expiry_text(result.url_expires_at, result.url_gone_at)}; "
            f"local copy at {local} (once the URL has expired, re-run this cell to embed it)")


def _expired_source(result: ResultData, local: Path | None) -> VideoSource:
    """The source once the provider's URL has expired: the kept copy, or a clear note."""
    gone = expiry_text(result.url_expires_at, result.url_gone_at)
    if local is None:
        return VideoSource(None, note=f"{gone}, and no local copy was kept: the clip is gone. "
                                      "Generate it again with reuse=False", expired=True)
    uri = _file_uri(local)
    if uri is None:
        return VideoSource(None, note=f"{gone}; local copy at {local} (too large to embed: open "
                                      "that file)", expired=True)
    return VideoSource(uri, note=f"{gone}; playing the local copy at {local}", embedded=True,
                       expired=True)


# ---- bundles ----------------------------------------------------------------------------
def result_bundle(result: ResultData, embed: bool | None = None) -> dict[str, str]:
    """`{"text/plain", "text/html"}` for a result: the video and caption, or the error box."""
    secrets = result.link.secrets if result.link is not None else ()
    source = video_source(result, embed) if result.ok else None
    text = result_text(result, source)
    markup = result_html(result, source)
    return {"text/plain": clean(text, secrets) or "", "text/html": clean(markup, secrets) or ""}


def job_bundle(job: LiveJob, embed: bool | None = None) -> dict[str, str]:
    """The current-state bundle of a job: a status card while it runs, the result once done."""
    snap = job._snapshot()
    if snap.result is not None:
        return result_bundle(snap.result, embed=embed)
    return {"text/plain": job_text(snap), "text/html": job_html(snap)}


# ---- live updates -----------------------------------------------------------------------
class _Hub:
    """The one display thread shared by every watched job (200 live outputs cost one
    thread, not 200). It runs while something is watched and ends when nothing is."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._watchers: list[JobWatcher[Any]] = []
        self._thread: threading.Thread | None = None

    def add(self, watcher: JobWatcher[Any]) -> None:
        with self._lock:
            self._watchers.append(watcher)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="grokvid-display", daemon=True)
                self._thread.start()
        self._wake.set()

    def poke(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        while True:
            with self._lock:
                watchers = list(self._watchers)
                if not watchers:
                    self._thread = None
                    return
            now = time.monotonic()
            for watcher in watchers:
                if watcher._step(now):
                    with self._lock:
                        self._watchers.remove(watcher)
            now = time.monotonic()
            with self._lock:
                due = min((w._due(now) for w in self._watchers), default=now)
            self._wake.wait(max(0.0, due - now))
            self._wake.clear()


_hub = _Hub()


class JobWatcher(Generic[_J]):
    """Calls `on_update(job)` while a job runs (at most once per `min_interval`, and every
    `heartbeat` seconds so the elapsed time moves) and `on_done(job)` once when it ends.

    Both callbacks run on the display thread that all watchers share, never on the engine
    thread, so they may block (e.g. download a clip to embed it) without stalling any
    polling; a slow callback delays the other outputs' updates, not the jobs.
    """

    def __init__(self, job: _J, on_update: Callable[[_J], None],
                 on_done: Callable[[_J], None], *, min_interval: float = 0.25,
                 heartbeat: float = 1.0) -> None:
        self.job = job
        self.on_update = on_update
        self.on_done = on_done
        self.min_interval = min_interval
        self.heartbeat = heartbeat
        self._dirty = False
        self._last = 0.0
        self._since = 0.0  # when the heartbeat was last reset
        self._finished = threading.Event()

    def start(self) -> JobWatcher[_J]:
        """Begin watching (returns self)."""
        self._since = time.monotonic()
        self.job.add_listener(self._changed)
        add_settler = getattr(self.job, "add_settler", None)
        if add_settler is not None:  # job.wait() returns after the final update is shown
            add_settler(self.join)
        _hub.add(self)
        return self

    def join(self, timeout: float | None = None) -> None:
        """Wait for the final update to have been made."""
        self._finished.wait(timeout)

    def _changed(self, job: Any) -> None:  # engine thread: only wake the display thread
        self._dirty = True
        _hub.poke()

    def _due(self, now: float) -> float:
        if self.job.done():
            return now
        wanted = now if self._dirty else self._since + self.heartbeat
        return max(wanted, self._last + self.min_interval)  # never more often than min_interval

    def _step(self, now: float) -> bool:
        """One turn on the display thread; True once the final update is made."""
        if self.job.done():
            self.job.remove_listener(self._changed)
            self._call(self.on_done)
            self._finished.set()
            return True
        if now >= self._due(now):
            self._dirty = False
            self._call(self.on_update)
            self._last = self._since = time.monotonic()
        return False

    def _call(self, callback: Callable[[_J], None]) -> None:
        try:
            callback(self.job)
        except Exception:  # a broken display must not end the watch
            log.exception("grokvid_nb display update failed")


def _live_widget(markup: str) -> Any:
    """An `ipywidgets.HTML` holding `markup`, or None where ipywidgets cannot make one. Its
    state lives in the kernel, so a reloaded page (or a second tab) shows the current card."""
    try:
        import ipywidgets
    except ImportError:  # pragma: no cover - a core dependency; kept for trimmed installs
        return None
    try:
        return ipywidgets.HTML(value=markup)
    except Exception:  # no comm machinery: fall back to display updates only
        log.debug("grokvid_nb: no live widget", exc_info=True)
        return None


def group_bundle(jobs: Sequence[LiveJob], embed: bool | None = None, columns: int = 2) -> dict[str, str]:
    """Several jobs as one grid: a card per running job, the video (or error) per finished one."""
    bundles = [job_bundle(job, embed=embed) for job in jobs]
    finished = sum(job.done() for job in jobs)
    title = f"{len(jobs)} jobs · {finished} finished"
    text = "\n\n".join([title, *(b["text/plain"] for b in bundles)])
    return {"text/plain": text,
            "text/html": grid_html([b["text/html"] for b in bundles], columns=columns, title=title)}


def _display_live(target: Watchable, make: Callable[[], dict[str, str]]) -> JobWatcher[Watchable] | None:
    """Show `make()` and keep it current while `target` runs (see `display_job`)."""
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.display import display

    bundle = make()
    if not InteractiveShell.initialized():  # plain Python: IPython would print the dict
        print(bundle["text/plain"])
        return None
    live = None if target.done() or not in_notebook() else _live_widget(bundle["text/html"])
    shown: dict[str, Any] = dict(bundle)
    if live is not None:
        view = live._repr_mimebundle_() or {}
        shown.update({k: v for k, v in view.items() if k != "text/plain"})
    handle = display(shown, raw=True, display_id=True)
    if handle is None or target.done() or not in_notebook():
        return None

    def update(_current: Watchable) -> None:
        fresh = make()
        if live is not None:
            live.value = fresh["text/html"]
        else:
            handle.update(fresh, raw=True)

    def finish(_current: Watchable) -> None:
        fresh = make()
        handle.update(fresh, raw=True)  # first: what the saved notebook keeps
        if live is not None:  # a page reloaded later still finds the final state in the widget
            live.value = fresh["text/html"]

    return JobWatcher(target, update, finish).start()


def display_job(job: LiveJob, embed: bool | None = None) -> JobWatcher[Watchable] | None:
    """Display `job` and keep that output current until it ends (in a Jupyter kernel).

    While the job runs the output is a small `ipywidgets.HTML` (plus the same card as
    `text/html` for renderers without widgets): its value is set by the watcher about once a
    second, so the card ticks ("next check in 4 s") and a page reloaded mid-job shows the
    current state from the kernel. The final update replaces it with plain HTML (the video
    or the error), which is what a saved notebook keeps. No script is ever sent.

    Returns the `JobWatcher` doing the updates, or None when nothing will change (the job
    has already ended, or this is not a kernel: a terminal shows one snapshot).
    """
    return _display_live(job, lambda: job_bundle(job, embed=embed))


def display_group(group: LiveGroup, embed: bool | None = None) -> JobWatcher[Watchable] | None:
    """Display several jobs as one grid that fills in as their clips arrive (as `display_job`)."""
    return _display_live(group, lambda: group_bundle(group.jobs, embed=embed))
