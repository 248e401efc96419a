"""`gv.form()`: an ipywidgets form that offers exactly what each provider/model/mode allows.

The controls are derived from the capability tables (`ModeSpec`): an `IntSlider` for a
duration range, a `Dropdown` for a discrete set, a disabled control where the model fixes
the value, and no control at all where the provider has no such knob. Image and video URL
inputs appear only for the modes that take them. Every edit re-runs the provider's own
`validate()`, so the Generate button is disabled with the exact `ValidationError` text
while the input is invalid, and the cost estimate is the price table's figure.

Keys never enter widget state: the form has no key field. It reads the provider's
environment variable when Generate is clicked (and shows only *which* variable is needed),
or uses a `Client` handed to it (`gv.form(clients=[gv.Client("xai", api_key=...)])`).

A running job updates the progress bar and status from a `JobWatcher` thread (at most 4
updates a second) by setting widget values; the kernel stays free.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from ._catalog import priced_spec
from ._client import setup_problem
from ._exceptions import GrokVidError, ImageInputError, UploaderRequiredError, ValidationError
from ._html import ERROR_COLOR, MUTED_COLOR, NO_MATH
from ._prepare import prepare_request
from ._sandbox_mode import sandbox_route
from ._types import VideoRequest
from ._uploads import sandbox_uploader
from .adapters import PROVIDER_NAMES, Adapter, ModeSpec, get_adapter
from .display import (
    JobWatcher,
    caption_text,
    esc,
    format_cost,
    format_seconds,
    history_html,
    result_bundle,
)

if TYPE_CHECKING:
    from ._client import Client
    from ._job import Job
    from ._result import Result

__all__ = ["VideoForm", "form", "readiness", "key_info_html", "prompt_count_html", "cost_html",
           "reason_html"]

_LABEL = {"description_width": "110px"}
_HIDDEN = "none"


def form(provider: str = "xai", *, model: str | None = None, mode: str | None = None,
         prompt: str = "", clients: Iterable["Client"] = ()) -> "VideoForm":
    """An interactive form to generate one video at a time, with live status, the video
    inline and a history of this session's results. See `VideoForm`."""
    return VideoForm(provider, model=model, mode=mode, prompt=prompt, clients=clients)


def _show(widget: widgets.DOMWidget, visible: bool) -> None:
    widget.layout.display = "" if visible else _HIDDEN


def _is_shown(widget: widgets.DOMWidget) -> bool:
    return widget.layout.display != _HIDDEN


def _choose(current: Any, options: Sequence[Any], default: Any) -> Any:
    """Keep the user's choice when the new options allow it, else the default."""
    if current in options:
        return current
    return default if default in options else options[0]


def _set_options(dropdown: widgets.Dropdown, options: Sequence[Any], default: Any,
                 current: Any = None) -> None:
    if tuple(dropdown.options) != tuple(options):
        dropdown.options = tuple(options)
    dropdown.value = _choose(current, options, default)


def _set_range(slider: widgets.IntSlider, values: range, default: int | None,
               current: int | None = None) -> None:
    lo, hi = values.start, values.stop - 1
    # widen first: IntSlider refuses min > max at every intermediate step
    slider.min, slider.max = min(slider.min, lo), max(slider.max, hi)
    slider.min, slider.max = lo, hi
    slider.step = values.step
    slider.value = current if current in values else (default if default in values else lo)


def _field(width: str = "320px") -> dict[str, Any]:
    """Common keyword arguments of a labelled control (a fresh Layout each: a shared one
    would hide every control that shares it)."""
    return {"style": dict(_LABEL), "layout": widgets.Layout(width=width)}


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def readiness(adapter: Adapter, client: "Client | None" = None) -> str | None:
    """Why a job cannot be started for this provider right now (no key, no base URL), or
    None when it can. Only names the environment variables; never reads a key's value out."""
    if client is not None:
        return None
    problem = setup_problem(adapter)
    return None if problem is None else str(problem)


def key_info_html(adapter: Adapter, client: "Client | None" = None) -> str:
    """Where the key will come from, by name only."""
    if client is not None:
        where = "sandbox" if client.sandboxed else "the Client you passed"
        return f"<small>key: from {esc(where)}</small>"
    if sandbox_route() is not None:
        return "<small>sandbox: no key needed, nothing leaves this machine</small>"
    if os.environ.get(adapter.env_var, "").strip():
        return f"<small>key: from <code>${esc(adapter.env_var)}</code> ✓</small>"
    return f"<small>needs <code>${esc(adapter.env_var)}</code> in the environment</small>"


def prompt_count_html(length: int, limit: int | None) -> str:
    """'12 / 5000 characters' (red when over), or '12 characters (no documented limit)'."""
    if limit is None:
        return f"<small>{length} characters (no documented limit)</small>"
    color = ERROR_COLOR if length > limit else MUTED_COLOR
    return f'<small style="color:{color}">{length} / {limit} characters</small>'


def reason_html(problem: str | None, *, empty_prompt: bool = False) -> str:
    """Why Generate is disabled: a neutral hint while nothing is typed yet (a new form opens
    without a red error), the exact problem in red otherwise, nothing when it can run."""
    if problem is None:
        return ""
    if empty_prompt:
        return f'<small style="color:{MUTED_COLOR}">Type a prompt to generate a video.</small>'
    return f'<small style="color:{ERROR_COLOR}">{esc(problem)}</small>'


def cost_html(estimate: float | None, spec: ModeSpec | None, reports_cost: bool) -> str:
    """'Estimated cost: $0.30 ($0.05/s at 480p, ...)' or 'unknown' with the reason."""
    if spec is None:
        return "<small>Estimated cost: unknown (fix the input first)</small>"
    rule = esc(spec.price.describe())
    if estimate is None:
        reported = "; the provider reports the cost when done" if reports_cost else ""
        return f"<small>Estimated cost: unknown (price {rule}{reported})</small>"
    return f"<small>Estimated cost: <b>{esc(format_cost(estimate, None))}</b> ({rule})</small>"


class VideoForm(widgets.VBox):
    """The `gv.form()` widget. Attributes tests and users can drive:

    `provider`, `model`, `mode` (Dropdowns); `prompt` (Textarea) and `prompt_count`;
    `duration` (the active control: an IntSlider or a Dropdown), `resolution`,
    `aspect_ratio`, `video_style` (Dropdowns); `image_urls` (Textarea, one URL, path or data
    URI a line) and `image_file` (a FileUpload: local images, hosted or inlined as the provider needs),
    `image_task_id`/`image_index`, `video_url` (Text); `reuse` (Checkbox); `cost`, `reason`,
    `status`, `result_html`, `history`, `key_info` (HTML); `generate_button`,
    `cancel_button`; `progress` (IntProgress); `job` (the last Job) and `results`.
    """

    def __init__(self, provider: str = "xai", *, model: str | None = None, mode: str | None = None,
                 prompt: str = "", clients: Iterable["Client"] = ()) -> None:
        self._clients: dict[str, "Client"] = {c.provider: c for c in clients}
        self._syncing = False
        self._keep = False  # keep the user's choices across changes, once there are any
        self._lock = threading.RLock()
        self.job: "Job | None" = None
        self.results: list["Result"] = []
        self._handles: list[Any] = []  # this form's outputs, to refresh their static fallback
        self.watcher: JobWatcher | None = None
        self._spec: ModeSpec | None = None
        self._request: VideoRequest | None = None

        self.provider = widgets.Dropdown(
            description="Provider", value=get_adapter(provider).name,
            options=[(f"{name} ({get_adapter(name).title})", name) for name in PROVIDER_NAMES],
            **_field())
        self.model = widgets.Dropdown(description="Model", options=(), **_field())
        self.mode = widgets.Dropdown(description="Mode", options=(), **_field())
        self.key_info = widgets.HTML()
        self.spec_info = widgets.HTML()
        self.prompt = widgets.Textarea(
            value=prompt, description="Prompt", placeholder="Describe the video",
            style=_LABEL, layout=widgets.Layout(width="98%", height="80px"))
        self.prompt_count = widgets.HTML()
        self.duration_slider = widgets.IntSlider(description="Duration (s)", min=1, max=30,
                                                 value=6, style=_LABEL)
        self.duration_choice = widgets.Dropdown(description="Duration (s)", options=(6,), **_field())
        self.resolution = widgets.Dropdown(description="Resolution", options=(), **_field())
        self.aspect_ratio = widgets.Dropdown(description="Aspect ratio", options=(), **_field())
        self.video_style = widgets.Dropdown(description="Style", options=(), **_field())
        self.image_urls = widgets.Textarea(
            description="Image URLs", style=_LABEL, layout=widgets.Layout(width="98%", height="60px"))
        self.image_file = widgets.FileUpload(accept="image/*", multiple=True,
                                             description="Image file(s)")
        self.image_task_id = widgets.Text(
            description="or image task", placeholder="a finished grok-image task id", **_field())
        self.image_index = widgets.BoundedIntText(description="image index", min=0, max=5, value=0,
                                                  style=_LABEL, layout=widgets.Layout(width="200px"))
        self.video_url = widgets.Text(description="Video URL", placeholder="https://... source video",
                                      style=_LABEL, layout=widgets.Layout(width="98%"))
        self.reuse = widgets.Checkbox(value=True, description="Reuse an identical earlier result "
                                      "(no new charge)", indent=False, style={"description_width": "initial"},
                                      layout=widgets.Layout(width="auto"))  # the whole label shows
        self.cost = widgets.HTML()
        self.generate_button = widgets.Button(description="Generate", button_style="primary",
                                              icon="play")
        self.cancel_button = widgets.Button(description="Cancel", button_style="warning", icon="stop")
        self.reason = widgets.HTML()
        self.progress = widgets.IntProgress(min=0, max=100, value=0, description="",
                                            layout=widgets.Layout(width="320px"))
        self.status = widgets.HTML()
        self.result_html = widgets.HTML()
        self.history = widgets.HTML(history_html([]))

        _show(self.cancel_button, False)
        _show(self.progress, False)
        self._duration_box = widgets.HBox([self.duration_slider, self.duration_choice])
        self._image_task_box = widgets.HBox([self.image_task_id, self.image_index])
        super().__init__([
            widgets.HBox([self.provider, self.model, self.mode]),
            self.key_info,
            self.spec_info,
            self.prompt,
            self.prompt_count,
            widgets.HBox([self._duration_box, self.resolution]),
            widgets.HBox([self.aspect_ratio, self.video_style]),
            self.image_urls,
            self.image_file,
            self._image_task_box,
            self.video_url,
            self.reuse,
            self.cost,
            widgets.HBox([self.generate_button, self.cancel_button, self.progress]),
            self.reason,
            self.status,
            self.result_html,
            widgets.HTML("<b>This session</b>"),
            self.history,
        ])

        for name in NO_MATH.split():  # the prices in its HTML parts are not LaTeX either
            self.add_class(name)
        for control in (self.provider, self.model, self.mode):
            control.observe(self._sync, names="value")
        for control in (self.prompt, self.duration_slider, self.duration_choice, self.resolution,
                        self.aspect_ratio, self.video_style, self.image_urls, self.image_file,
                        self.image_task_id,
                        self.image_index, self.video_url):
            control.observe(self._refresh, names="value")
        self.generate_button.on_click(self._on_generate)
        self.cancel_button.on_click(self._on_cancel)

        if model is not None:
            self.model.options = tuple(self.adapter.models)
            self.model.value = self.adapter.model_spec(model).name
        if mode is not None:  # refused like any parameter, never silently replaced by another
            mode = self.adapter.mode_spec(self.model.value or None, mode).mode
            self.mode.options = (mode,)
            self.mode.value = mode
        self._sync()
        self._keep = True

    # ---- display: the widget, plus static fallbacks kept current --------------------------
    def static_html(self) -> str:
        """What a renderer without widgets (GitHub, nbviewer, an export) shows: the latest
        video or error and the history table."""
        return (f'<div class="grokvid-form {NO_MATH}"><div style="color:{MUTED_COLOR};font-family:sans-serif;'
                'font-size:13px">gv.form(): the interactive controls need a running kernel '
                f"with ipywidgets.</div>{self.result_html.value}{self.history.value}</div>")

    def static_text(self) -> str:
        """The `text/plain` fallback: one line per result of this session."""
        lines = [f"gv.form() · {len(self.results)} result(s) this session"]
        lines += [f"- {r.status.value}: {caption_text(r)}" for r in self.results]
        return "\n".join(lines)

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any] | None:
        bundle = super()._repr_mimebundle_(**kwargs)
        if bundle is None:
            return None
        return {**bundle, "text/plain": self.static_text(), "text/html": self.static_html()}

    def _ipython_display_(self) -> None:
        """Display the form with an id, so each finished job also refreshes the static
        fallback a saved notebook keeps (the widget itself renders where widgets do)."""
        from IPython.display import display

        bundle = self._repr_mimebundle_() if self._repr_mimebundle_ is not None else None
        if bundle is None:  # closed: nothing to show
            return
        handle = display(bundle, raw=True, display_id=True)
        if handle is not None:
            self._handles.append(handle)

    def _refresh_outputs(self) -> None:
        bundle = self._repr_mimebundle_() if self._repr_mimebundle_ is not None else None
        if bundle is None:
            return
        for handle in list(self._handles):
            handle.update(bundle, raw=True)

    # ---- what the form currently asks for ------------------------------------------------
    @property
    def adapter(self) -> Adapter:
        """The chosen provider's adapter."""
        return get_adapter(self.provider.value)

    @property
    def mode_spec(self) -> ModeSpec:
        """The capability table of the chosen (model, mode)."""
        return priced_spec(self.adapter, self.model.value, self.mode.value)

    @property
    def duration(self) -> widgets.ValueWidget:
        """The duration control in use: an IntSlider for a range of whole seconds, a
        Dropdown for a discrete set (disabled when the model fixes it)."""
        return self.duration_choice if _is_shown(self.duration_choice) else self.duration_slider

    def params(self) -> dict[str, Any]:
        """The request parameters from the visible controls."""
        spec = self.mode_spec
        out: dict[str, Any] = {}
        if spec.durations is not None:
            out["duration"] = self.duration.value
        if spec.resolutions is not None:
            out["resolution"] = self.resolution.value
        if spec.aspect_ratios is not None:
            out["aspect_ratio"] = self.aspect_ratio.value
        if spec.styles is not None:
            out["style"] = self.video_style.value
        if spec.images is not None:
            images: list[Any] = [*self.image_file.value, *_lines(self.image_urls.value)]
            if images:  # uploaded files first, then the typed URLs/paths
                out["image_urls"] = images
        if spec.image_task_source and self.image_task_id.value.strip() and "image_urls" not in out:
            out["image_task_id"] = self.image_task_id.value.strip()
            out["image_index"] = self.image_index.value
        if spec.video_input and self.video_url.value.strip():
            out["video_url"] = self.video_url.value.strip()
        return out

    def validate(self) -> VideoRequest:
        """The provider's validation of the current input, images included (raises
        `ValidationError`, `ImageInputError` or `UploaderRequiredError`); nothing is uploaded.
        Images appear as their fingerprints."""
        client = self._clients.get(self.adapter.name)
        return prepare_request(
            self.adapter, self.prompt.value, model=self.model.value, mode=self.mode.value,
            params=self.params(), uploader=client.uploader if client is not None else None,
            fallback=sandbox_uploader()).request

    # ---- keeping the controls in step with the capability table -----------------------
    def _sync(self, change: Any = None) -> None:
        if self._syncing:
            return
        self._syncing = True
        try:
            adapter = self.adapter
            _set_options(self.model, list(adapter.models), adapter.default_model, self.model.value)
            modes = list(adapter.model_spec(self.model.value).modes)
            _set_options(self.mode, modes, "text-to-video", self.mode.value)
            self._configure(self.mode_spec)
        finally:
            self._syncing = False
        self._refresh()

    def _configure(self, spec: ModeSpec) -> None:
        durations = spec.durations
        # one chosen duration, whichever control showed it (slider or dropdown)
        chosen = self.duration.value if self._keep and _is_shown(self._duration_box) else None
        _show(self._duration_box, durations is not None)
        _show(self.duration_slider, isinstance(durations, range))
        _show(self.duration_choice, isinstance(durations, tuple))
        if isinstance(durations, range):
            _set_range(self.duration_slider, durations, spec.default_duration, chosen)
        elif isinstance(durations, tuple):
            _set_options(self.duration_choice, list(durations), spec.default_duration, chosen)
            self.duration_choice.disabled = len(durations) == 1
        for control, values, default in (
                (self.resolution, spec.resolutions, spec.default_resolution),
                (self.aspect_ratio, spec.aspect_ratios, spec.default_aspect_ratio),
                (self.video_style, spec.styles, spec.default_style)):
            _show(control, values is not None)
            if values is not None:
                _set_options(control, list(values), default, control.value if self._keep else None)
                control.disabled = len(values) == 1
        _show(self.image_urls, spec.images is not None)
        _show(self.image_file, spec.images is not None)
        if spec.images is not None:
            lo, hi = spec.images
            count = f"{lo}" if lo == hi else (f"{lo}-{hi}" if hi is not None else f"{lo} or more")
            self.image_urls.placeholder = f"{count} image URL(s) or file path(s), one per line"
        _show(self._image_task_box, spec.image_task_source)
        _show(self.video_url, spec.video_input)
        self.spec_info.value = self._spec_info(spec)

    def _spec_info(self, spec: ModeSpec) -> str:
        notes = []
        if spec.durations is None and spec.output_duration is not None:
            notes.append(f"makes {spec.output_duration:g} s clips (not settable)")
        elif spec.durations is None:
            notes.append("no duration parameter")
        model_note = self.adapter.model_spec(self.model.value).note
        notes.extend(n for n in (spec.note, model_note) if n)
        return f"<small>{esc('; '.join(notes))}</small>" if notes else ""

    def _refresh(self, change: Any = None) -> None:
        if self._syncing:
            return
        with self._lock:
            adapter, spec = self.adapter, self.mode_spec
            client = self._clients.get(adapter.name)
            self.key_info.value = key_info_html(adapter, client)
            self.prompt_count.value = prompt_count_html(len(self.prompt.value), spec.prompt_max)
            problem: str | None
            try:
                request = self.validate()
            except (ValidationError, ImageInputError, UploaderRequiredError) as exc:
                self._request, problem = None, str(exc)
                self.cost.value = cost_html(None, None, adapter.reports_cost)
            else:
                self._request, problem = request, readiness(adapter, client)
                estimate = spec.estimate(request.params)
                self.cost.value = cost_html(estimate, spec, adapter.reports_cost)
            running = self.job is not None and not self.job.done()
            if problem is None and running:
                problem = "a job is running: wait for it or cancel it"
            self.generate_button.disabled = problem is not None
            self.generate_button.tooltip = problem or "Submit this request"
            self.reason.value = reason_html(problem, empty_prompt=not self.prompt.value)

    # ---- running a job ------------------------------------------------------------------
    def _client(self) -> "Client":
        from ._client import Client

        name = self.provider.value
        return self._clients.get(name) or Client(name, model=self.model.value)

    def _on_generate(self, _button: Any = None) -> None:
        self._refresh()
        request = self._request
        if request is None or self.generate_button.disabled:
            return
        try:
            # the inputs themselves (not the validated fingerprints): start() uploads or inlines
            job = self._client().start(request.prompt, model=request.model, mode=request.mode,
                                       reuse=self.reuse.value, **self.params())
        except GrokVidError as exc:
            self.status.value = f'<span style="color:{ERROR_COLOR}">{esc(exc)}</span>'
            return
        self.start_watching(job)

    def start_watching(self, job: "Job") -> None:
        """Show `job`'s progress in this form (used by Generate; also for a job made elsewhere)."""
        with self._lock:
            self.job = job
            self.progress.value = 0
            self.progress.bar_style = "info"
            _show(self.progress, True)
            _show(self.cancel_button, True)
            self.result_html.value = ""
            self._show_progress(job)
        self._refresh()
        self.watcher = JobWatcher(job, self._show_progress, self._show_result).start()

    def wait(self, timeout: float | None = None) -> "Result":
        """Wait for the current job (as `Job.wait`) and for the form to have shown its result:
        the video, the history row and the saved output's static fallback. Use this rather
        than `f.job.wait()` in a notebook run headless, so the saved form is up to date."""
        if self.job is None:
            raise RuntimeError("no job yet: click Generate (or call generate_button.click()) first")
        result = self.job.wait(timeout)
        if self.watcher is not None:
            self.watcher.join(60)
        return result

    def _on_cancel(self, _button: Any = None) -> None:
        if self.job is not None and not self.job.done():
            self.job.cancel()

    def _show_progress(self, job: "Job") -> None:
        if job is not self.job:
            return
        if job.progress is not None:
            self.progress.value = max(0, min(100, int(round(job.progress))))
        shown = f"{int(round(job.progress))}%" if job.progress is not None else "progress not reported"
        self.status.value = (f"<small>{esc(job.provider)} · {esc(job.model)}: "
                             f"<b>{esc(job.state.value)}</b> · {esc(shown)} · "
                             f"{esc(format_seconds(job.elapsed_s))} elapsed · {job.polls} polls</small>")

    def _show_result(self, job: "Job") -> None:
        result = job.result_nowait()
        if result is None or job is not self.job:
            return
        markup = result_bundle(result)["text/html"]  # may download a sandbox clip: not the engine thread
        with self._lock:
            if result.ok:
                self.progress.value = 100
                self.progress.bar_style = "success"
                self.status.value = f"<small>{esc(caption_text(result))}</small>"
            else:
                self.progress.bar_style = "danger"
                code = f" [{result.error_code}]" if result.error_code else ""
                self.status.value = (f'<small style="color:{ERROR_COLOR}">{esc(result.status.value)}'
                                     f"{esc(code)}</small>")
            _show(self.cancel_button, False)
            self.result_html.value = markup
            self.results.insert(0, result)
            self.history.value = history_html(self.results)
        self._refresh()
        self._refresh_outputs()
