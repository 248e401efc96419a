"""The display layer: pure functions from a job's state to HTML, and live notebook output.

Everything shown in a notebook is built here by small pure functions (`job_html`,
`video_html`, `error_html`, `result_html`, `caption_text`, ...) that escape every prompt,
error text and URL with `html.escape(..., quote=True)`. Only `http(s)://` URLs and
`data:video/...;base64,` URIs are ever put in a `src`; anything else (`javascript:`,
`file:`, `data:text/html`, ...) is refused and shown as escaped text (`safe_video_src`).

Every bundle carries `text/html` and a `text/plain` fallback, so a saved notebook reads
well where HTML is stripped. The `<video>` carries `src` itself (JupyterLab 4 strips `src`
from `<source>` children in untrusted notebooks).

Where the video comes from (`video_source`):

* the provider's URL by default;
* a local copy after `download()`, inlined as a `data:video/mp4;base64,` URI. A data URI is
  what plays in an *untrusted* notebook, on nbviewer and after the notebook is moved or
  shared; a relative path only resolves when the file sits under the notebook's own folder
  on the Jupyter server (downloads live in `GROKVID_HOME`, usually outside it), and not at
  all on nbviewer/GitHub. Files above `EMBED_MAX_BYTES` keep the URL instead;
* an inlined copy when the URL cannot load in a browser (the in-process sandbox serves
  `http://<id>.sandbox.invalid/...`; `.invalid` never resolves) or when `embed=True`.

`display_job(job)` (what `Job._ipython_display_` calls) shows a job and keeps that one
output up to date from a small watcher thread (at most 4 updates a second, a heartbeat for
the elapsed time, always a final update), so the kernel stays free.
"""

from __future__ import annotations

import base64
import html
import logging
import math
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, TypedDict
from urllib.parse import urlsplit

from . import _loop
from ._secrets import Secret, redact
from ._types import State

if TYPE_CHECKING:
    from ._job import Job
    from ._result import Result

__all__ = [
    "EMBED_MAX_BYTES",
    "JobSnapshot",
    "JobWatcher",
    "VideoSource",
    "browser_can_load",
    "caption_text",
    "data_uri",
    "display_job",
    "error_html",
    "esc",
    "format_cost",
    "format_seconds",
    "history_html",
    "job_bundle",
    "job_html",
    "job_snapshot",
    "job_text",
    "result_bundle",
    "result_html",
    "result_text",
    "safe_video_src",
    "video_html",
    "video_source",
]

log = logging.getLogger("grokvid_nb")

#: Largest local file inlined as a data URI (bigger ones keep the provider's URL).
EMBED_MAX_BYTES = 10 * 1024 * 1024

_FONT = "font-family:sans-serif;font-size:13px;line-height:1.4"
_MUTED = "color:#666666"
_BOX = "border:1px solid #cccccc;border-radius:6px;padding:8px 12px;margin:4px 0;max-width:680px"
_ERROR_BOX = ("border:1px solid #d9534f;border-left:6px solid #d9534f;border-radius:6px;"
              "padding:8px 12px;margin:4px 0;max-width:680px;background-color:#fdf3f3")
_STATE_COLORS = {
    "queued": "#6c757d", "running": "#0d6efd", "succeeded": "#198754", "failed": "#d9534f",
    "expired": "#d9534f", "cancelled": "#b8860b", "timed_out": "#b8860b", "unknown": "#b8860b",
}

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


def _duration_text(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    return f"{seconds:g} s clip"


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _clean(text: str | None, secrets: Iterable[Secret | None] = ()) -> str | None:
    """Text that may be shown: keys and bearer tokens removed."""
    return None if text is None else redact(str(text), *secrets)


def data_uri(data: bytes, mime: str = "video/mp4") -> str:
    """A base64 `data:` URI of `data`."""
    return f"data:{mime};base64," + base64.b64encode(data).decode("ascii")


# ---- jobs in progress -------------------------------------------------------------------
class JobSnapshot(TypedDict):
    """A job's state at one moment: everything `job_html`/`job_text` need, as plain data."""

    provider: str
    model: str
    mode: str
    prompt: str
    state: str
    progress: float | None
    elapsed_s: float | None
    polls: int
    task_id: str | None
    error_code: str | None
    error_message: str | None
    done: bool
    reused: bool


def job_snapshot(job: "Job") -> JobSnapshot:
    """Read a job's display state (texts cleaned of the job's key)."""
    secrets = [getattr(job.client, "key", None)]
    return JobSnapshot(
        provider=job.provider, model=job.model, mode=job.request.mode,
        prompt=_clean(job.prompt, secrets) or "", state=State(job.state).value,
        progress=job.progress, elapsed_s=job.elapsed_s, polls=job.polls,
        task_id=_clean(job.task_id, secrets), error_code=_clean(job.error_code, secrets),
        error_message=_clean(job.error_message, secrets), done=job.done, reused=job.reused)


def _progress_percent(progress: float | None) -> int | None:
    if progress is None or not math.isfinite(progress):
        return None
    return max(0, min(100, int(round(progress))))


def _status_details(snap: Mapping[str, Any]) -> list[str]:
    bits: list[str] = []
    percent = _progress_percent(snap.get("progress"))
    if percent is not None:
        bits.append(f"{percent}%")
    elif not snap.get("done"):
        bits.append("progress not reported")
    if snap.get("elapsed_s") is not None:
        bits.append(f"{format_seconds(snap['elapsed_s'])} elapsed")
    polls = snap.get("polls") or 0
    bits.append(f"{polls} poll{'s' if polls != 1 else ''}")
    return bits


def _status_line(snap: Mapping[str, Any]) -> str:
    return " · ".join([snap["state"], *_status_details(snap)])


def job_text(snap: Mapping[str, Any]) -> str:
    """The `text/plain` form of a job snapshot."""
    lines = [f"Job {snap['provider']} · {snap['model']} · {snap['mode']}: {_status_line(snap)}"]
    if snap.get("task_id"):
        lines.append(f"task: {snap['task_id']}")
    if snap.get("error_message") or snap.get("error_code"):
        code = f"[{snap['error_code']}] " if snap.get("error_code") else ""
        lines.append(f"error: {code}{snap.get('error_message') or ''}")
    lines.append(f"prompt: {_shorten(snap.get('prompt') or '', 200)}")
    return "\n".join(lines)


def _header_html(provider: str, model: str, mode: str | None) -> str:
    extra = f" · {esc(mode)}" if mode else ""
    return f"<div><b>{esc(provider)}</b> · {esc(model)}{extra}</div>"


def _prompt_html(prompt: str | None) -> str:
    if not prompt:
        return ""
    return (f'<div style="{_MUTED}" title="{esc(prompt)}">prompt: '
            f"{esc(_shorten(prompt, 300))}</div>")


def job_html(snap: Mapping[str, Any]) -> str:
    """A status card for a job that is queued or running (an error box once it failed).

    Pure: the same snapshot always gives the same HTML. No script and no animation (an
    unknown progress shows no bar), so a saved notebook shows the last state as it was.
    """
    state = snap["state"]
    if snap.get("done") and state != State.SUCCEEDED.value:
        return error_html(snap["provider"], snap["model"], state, snap.get("error_code"),
                          snap.get("error_message"), prompt=snap.get("prompt"),
                          task_id=snap.get("task_id"))
    color = _STATE_COLORS.get(state, "#6c757d")
    percent = _progress_percent(snap.get("progress"))
    # no indeterminate (animated) bar when the provider reports no progress: a saved
    # notebook must never show something that looks alive but is not
    bar = (f'<progress max="100" value="{percent}" style="width:100%">{percent}%</progress>'
           if percent is not None else "")
    task = (f'<div style="{_MUTED}">task <code>{esc(snap["task_id"])}</code></div>'
            if snap.get("task_id") else "")
    return (f'<div class="grokvid-job" style="{_BOX};{_FONT}">'
            f'{_header_html(snap["provider"], snap["model"], snap.get("mode"))}'
            f'<div><span style="color:{color};font-weight:bold">{esc(state)}</span>'
            f'{esc("".join(" · " + bit for bit in _status_details(snap)))}</div>'
            f"{bar}{task}{_prompt_html(snap.get('prompt'))}</div>")


# ---- finished jobs ----------------------------------------------------------------------
def error_html(provider: str, model: str, state: str, code: str | None, message: str | None, *,
               prompt: str | None = None, task_id: str | None = None) -> str:
    """A readable error box with the provider's code and message, all escaped."""
    code_html = f" <code>{esc(code)}</code>" if code else ""
    text = message or "no message from the provider"
    task = f'<div style="{_MUTED}">task <code>{esc(task_id)}</code></div>' if task_id else ""
    return (f'<div class="grokvid-error" style="{_ERROR_BOX};{_FONT}">'
            f"{_header_html(provider, model, None)}"
            f'<div><b style="color:#d9534f">{esc(state)}</b>{code_html}</div>'
            f'<div style="white-space:pre-wrap">{esc(text)}</div>'
            f"{task}{_prompt_html(prompt)}</div>")


def caption_text(result: "Result") -> str:
    """'xai · grok-imagine-video · 6 s clip · latency 12.3 s · $0.30 estimated'."""
    bits = [result.provider, result.model]
    duration = _duration_text(result.video_duration)
    if duration:
        bits.append(duration)
    bits.append(f"latency {format_seconds(result.latency_s)}")
    bits.append(format_cost(result.cost_usd, result.cost_source))
    if result.reused:
        bits.append("reused earlier result")
    return " · ".join(bits)


def video_html(src: str | None, caption: str = "", *, note: str | None = None,
               max_width: int = 640) -> str:
    """A `<figure>` with `<video controls src=...>` and a caption (plain text, escaped).

    A `src` that is not http(s) or a base64 `data:video/` URI is refused: the figure then
    shows the refused value as escaped text instead of a player.
    """
    caption_html = esc(caption)
    note_html = f'<div style="{_MUTED}">{esc(note)}</div>' if note else ""
    safe = safe_video_src(src)
    if safe is None:
        shown = _shorten(str(src), 200) if src is not None else "no URL"
        return (f'<figure class="grokvid-video" style="margin:4px 0;{_FONT}">'
                f'<div style="{_ERROR_BOX}">refused to play this video: only http(s) and '
                f"data:video/ URLs are embedded; got <code>{esc(shown)}</code></div>"
                f"<figcaption>{caption_html}</figcaption>{note_html}</figure>")
    src_attr = esc(safe)
    is_http = not safe.lower().startswith("data:")
    fallback = (f'<a href="{src_attr}" target="_blank" rel="noopener">open the video</a>'
                if is_http else "This browser cannot play MP4 video.")
    link = (f' · <a href="{src_attr}" target="_blank" rel="noopener">open ↗</a>'
            if is_http else "")
    return (f'<figure class="grokvid-video" style="margin:4px 0;{_FONT}">'
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


def result_html(result: "Result", source: VideoSource | None = None) -> str:
    """The video with its caption for a succeeded result, else the error box. Pure: the
    caller resolves `source` (`video_source`); by default the provider's URL is used."""
    if not result.ok:
        return error_html(result.provider, result.model, result.status.value, result.error_code,
                          result.error_message or _no_video_reason(result), prompt=result.prompt,
                          task_id=result.task_id)
    source = source or VideoSource(result.video_url)
    return video_html(source.src, caption_text(result), note=source.note)


def _no_video_reason(result: "Result") -> str | None:
    if result.status is State.SUCCEEDED and not result.video_urls:
        return "the provider reported success but returned no video URL"
    return None


def result_text(result: "Result", source: VideoSource | None = None) -> str:
    """The `text/plain` form of a result (never contains a data URI)."""
    if not result.ok:
        code = f" [{result.error_code}]" if result.error_code else ""
        message = result.error_message or _no_video_reason(result) or ""
        return (f"Result {result.status.value} · {result.provider} · {result.model}\n"
                f"error{code}: {message}\nprompt: {_shorten(result.prompt, 200)}")
    lines = [f"Result {result.status.value} · {caption_text(result)}"]
    if result.video_url:
        lines.append(f"video: {result.video_url}")
    if source is not None and source.note:
        lines.append(source.note)
    lines.append(f"prompt: {_shorten(result.prompt, 200)}")
    return "\n".join(lines)


def history_html(results: Iterable["Result"]) -> str:
    """An HTML table of results (newest first as given): provider, model, mode, state,
    clip length, latency, cost and a link to the video where it is an http(s) URL."""
    rows = []
    for result in results:
        url = result.video_url
        link = (f'<a href="{esc(url)}" target="_blank" rel="noopener">video</a>'
                if url and safe_video_src(url) and browser_can_load(url) else "—")
        if not result.ok:
            link = esc(result.error_code or result.status.value)
        cells = [result.provider, result.model, result.mode, result.status.value,
                 _duration_text(result.video_duration) or "", format_seconds(result.latency_s),
                 format_cost(result.cost_usd, result.cost_source)]
        rows.append("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in cells) + f"<td>{link}</td>"
                    + f'<td title="{esc(result.prompt)}">{esc(_shorten(result.prompt, 60))}</td></tr>')
    if not rows:
        return f'<div style="{_MUTED};{_FONT}">No videos generated in this session yet.</div>'
    head = "".join(f"<th>{h}</th>" for h in
                   ("provider", "model", "mode", "state", "length", "latency", "cost", "video",
                    "prompt"))
    return (f'<table class="grokvid-history" style="{_FONT};border-collapse:collapse">'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>")


# ---- resolving the video source (the only I/O of this module) ----------------------------
_uri_cache: dict[tuple[str, int, int], str] = {}
_uri_lock = threading.Lock()


def _local_copy(result: "Result") -> Path | None:
    job = result._job
    for path in (result.local_path, job.local_path if job is not None else None):
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


def video_source(result: "Result", embed: bool | None = None) -> VideoSource:
    """Decide the `src` for a result's video.

    `embed=None` (default): a local copy if there is one, else the provider's URL, except
    that a URL no browser can load (the in-process sandbox) is downloaded and inlined.
    `embed=True`: always inline (downloading first if needed). `embed=False`: the URL.
    Downloads never run on the engine thread (they would deadlock it); the URL is kept then.
    """
    url = result.video_url
    if embed is False or not result.ok:
        return VideoSource(url)
    local = _local_copy(result)
    must_inline = embed is True or not browser_can_load(url)
    if local is None and must_inline and result._job is not None and not _loop.in_engine_thread():
        try:
            local = result.download()
        except Exception as exc:  # the video stays reachable by its URL, if at all
            return VideoSource(url, note=f"could not download the video to embed it: {exc}")
    if local is None:
        if must_inline:
            return VideoSource(url, note="this URL cannot be loaded by a browser; "
                                         "call result.download() to embed the video")
        return VideoSource(url)
    uri = _file_uri(local)
    if uri is None:
        return VideoSource(url, note=f"local copy: {local} (too large to embed)")
    return VideoSource(uri, note=f"embedded from the local copy {local.name}", embedded=True)


# ---- bundles ----------------------------------------------------------------------------
def result_bundle(result: "Result", embed: bool | None = None) -> dict[str, str]:
    """`{"text/plain", "text/html"}` for a result: the video and caption, or the error box."""
    job = result._job
    secrets = [getattr(job.client, "key", None)] if job is not None else []
    source = video_source(result, embed) if result.ok else None
    text = result_text(result, source)
    markup = result_html(result, source)
    return {"text/plain": _clean(text, secrets) or "", "text/html": _clean(markup, secrets) or ""}


def job_bundle(job: "Job", embed: bool | None = None) -> dict[str, str]:
    """The current-state bundle of a job: a status card while it runs, the result once done."""
    result = job.result()
    if result is not None:
        return result_bundle(result, embed=embed)
    snap = job_snapshot(job)
    return {"text/plain": job_text(snap), "text/html": job_html(snap)}


# ---- live updates -----------------------------------------------------------------------
class JobWatcher:
    """Calls `on_update(job)` while a job runs (at most once per `min_interval`, and every
    `heartbeat` seconds so the elapsed time moves) and `on_done(job)` once when it ends.

    Both callbacks run on the watcher's own daemon thread, never on the engine thread, so
    they may block (e.g. download a clip to embed it) without stalling any polling.
    """

    def __init__(self, job: "Job", on_update: Callable[["Job"], None],
                 on_done: Callable[["Job"], None], *, min_interval: float = 0.25,
                 heartbeat: float = 1.0) -> None:
        self.job = job
        self.on_update = on_update
        self.on_done = on_done
        self.min_interval = min_interval
        self.heartbeat = heartbeat
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="grokvid-display", daemon=True)

    def start(self) -> "JobWatcher":
        """Begin watching (returns self)."""
        self.job.add_listener(self._changed)
        self._thread.start()
        return self

    def join(self, timeout: float | None = None) -> None:
        """Wait for the final update to have been made."""
        self._thread.join(timeout)

    def _changed(self, job: "Job") -> None:  # engine thread: only wake the watcher
        self._wake.set()

    def _run(self) -> None:
        last = 0.0
        try:
            while not self.job.done:
                self._wake.wait(self.heartbeat)
                self._wake.clear()
                if self.job.done:
                    break
                wait = last + self.min_interval - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                    if self.job.done:
                        break
                self._call(self.on_update)
                last = time.monotonic()
        finally:
            self.job.remove_listener(self._changed)
            self._call(self.on_done)

    def _call(self, callback: Callable[["Job"], None]) -> None:
        try:
            callback(self.job)
        except Exception:  # a broken display must not end the watch
            log.exception("grokvid_nb display update failed")


def _in_kernel() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def display_job(job: "Job", embed: bool | None = None) -> JobWatcher | None:
    """Display `job` and keep that output current until it ends (in a Jupyter kernel).

    Returns the `JobWatcher` doing the updates, or None when nothing will change (the job
    has already ended, or this is not a kernel: a terminal shows one snapshot).
    """
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.display import display

    bundle = job_bundle(job, embed=embed)
    if not InteractiveShell.initialized():  # plain Python: IPython would print the dict
        print(bundle["text/plain"])
        return None
    handle = display(bundle, raw=True, display_id=True)
    if handle is None or job.done or not _in_kernel():
        return None

    def update(current: "Job") -> None:
        handle.update(job_bundle(current, embed=embed), raw=True)

    return JobWatcher(job, update, update).start()
