"""An adversarial pass over `gv.form()` and the live display, driven in-process: controls that
follow every provider/model/mode when switched back and forth (the capability table is the
source of truth), the estimate equal to the engine's, nothing sent twice or sent invalid
(counted at the sandbox), no key in any widget state, hostile prompts in the live output."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime
from typing import Any

import ipywidgets as widgets
import pytest
from IPython.core.displaypub import CapturingDisplayPublisher
from traitlets import TraitError

import grokvid_nb as gv
from grokvid_nb._exceptions import ValidationError
from grokvid_nb._html import format_cost
from grokvid_nb.adapters import PROVIDER_NAMES, ModeSpec, get_adapter
from grokvid_nb.widgets import VideoForm

CASES = [(provider, model, mode)
         for provider in PROVIDER_NAMES
         for model, model_spec in get_adapter(provider).models.items()
         for mode in model_spec.modes]


def select(form: VideoForm, provider: str, model: str, mode: str) -> ModeSpec:
    form.provider.value = provider
    form.model.value = model
    form.mode.value = mode
    return get_adapter(provider).mode_spec(model, mode)


def shown(widget: widgets.DOMWidget) -> bool:
    return widget.layout.display != "none"


def assert_controls_follow(form: VideoForm, spec: ModeSpec, where: object) -> None:
    """Every visible control offers exactly the table's values and holds one of them; a knob
    the table lacks is hidden and not sent."""
    params = form.params()
    if spec.durations is None:
        assert not shown(form._duration_box) and "duration" not in params, where
    else:
        assert shown(form._duration_box), where
        if isinstance(spec.durations, range):
            slider = form.duration
            assert isinstance(slider, widgets.IntSlider), where
            assert (slider.min, slider.max, slider.step) == (
                spec.durations.start, spec.durations.stop - 1, spec.durations.step), where
        else:
            assert list(form.duration.options) == list(spec.durations), where
        assert params["duration"] in spec.durations, where
    for name, control, values in (("resolution", form.resolution, spec.resolutions),
                                  ("aspect_ratio", form.aspect_ratio, spec.aspect_ratios),
                                  ("style", form.video_style, spec.styles)):
        if values is None:
            assert not shown(control) and name not in params, (where, name)
        else:
            assert shown(control) and list(control.options) == list(values), (where, name)
            assert params[name] in values, (where, name, params[name])
    assert shown(form.image_urls) == (spec.images is not None), where
    assert shown(form.video_url) == spec.video_input, where
    assert shown(form._image_task_box) == spec.image_task_source, where


def fill_sources(form: VideoForm, spec: ModeSpec) -> None:
    """The minimal valid sources for `spec` (and none where it takes none)."""
    count = max(1, spec.images[0]) if spec.images is not None else 0
    form.image_urls.value = "\n".join(f"https://img.example/{i}.png" for i in range(count))
    form.video_url.value = "https://cdn.example/source.mp4" if spec.video_input else ""


def assert_estimate_is_the_engines(form: VideoForm, provider: str, where: object) -> None:
    request = form.validate()
    engine = gv.Client(provider).estimate_cost(request.prompt, model=request.model,
                                               mode=request.mode, **form.params())
    if engine is None:
        assert "Estimated cost: unknown" in form.cost.value, (where, form.cost.value)
        assert "<b>" not in form.cost.value, (where, form.cost.value)  # no figure, not $0
    else:
        assert f"<b>{format_cost(engine, None)}</b>" in form.cost.value, (where, form.cost.value, engine)


def test_switching_through_every_model_back_and_forth(sandbox: object) -> None:
    """Forward through every (provider, model, mode), back again, then zig-zagging between
    far-apart entries: each step the controls match the table, the request is valid and the
    estimate is the engine's for the same request (unknown, never $0, where unpriced)."""
    zigzag = [CASES[i] for pair in zip(range(len(CASES)), reversed(range(len(CASES))))
              for i in pair]
    form = gv.form(prompt="a lakeside at sunset")
    for step, (provider, model, mode) in enumerate([*CASES, *reversed(CASES), *zigzag]):
        where = (step, provider, model, mode)
        spec = select(form, provider, model, mode)
        assert (form.provider.value, form.model.value, form.mode.value) == (provider, model, mode)
        assert_controls_follow(form, spec, where)
        fill_sources(form, spec)
        assert not form.generate_button.disabled, (where, form.reason.value)
        assert_estimate_is_the_engines(form, provider, where)
    assert step == 4 * len(CASES) - 1
    assert len(sandbox.tasks()) == 0  # type: ignore[attr-defined]  # switching sends nothing


def _push_to_extremes(form: VideoForm) -> None:
    """Every visible knob moved to its last value: the choice least likely to be allowed
    elsewhere (and never the default unless the knob is fixed)."""
    if shown(form._duration_box):
        if isinstance(form.duration, widgets.IntSlider):
            form.duration.value = form.duration.max
        else:
            form.duration.value = form.duration.options[-1]
    for control in (form.resolution, form.aspect_ratio, form.video_style):
        if shown(control):
            control.value = control.options[-1]


def _expected(previous: Any, values: range | tuple[Any, ...], default: Any) -> Any:
    if previous in values:
        return previous
    return default if default in values else values[0]


SINGLE_STEPS = sorted(
    {(provider, a_model, a_mode, b_model, b_mode)
     for provider, a_model, a_mode in CASES
     for p2, b_model, b_mode in CASES
     if p2 == provider and (a_model, a_mode) != (b_model, b_mode)
     # one control changes: the mode, or the model (its mode kept)
     and (a_model == b_model or a_mode == b_mode)})


def test_a_choice_is_kept_where_allowed_and_reset_to_the_default_where_not() -> None:
    """One change of model or mode: every value the new entry allows is kept, every value it
    does not is replaced by its default; nothing stale remains (a duration, a resolution, an
    aspect ratio, a style)."""
    assert len(SINGLE_STEPS) > 10
    for provider, a_model, a_mode, b_model, b_mode in SINGLE_STEPS:
        where = (provider, a_model, a_mode, "->", b_model, b_mode)
        form = gv.form(provider)
        select(form, provider, a_model, a_mode)
        _push_to_extremes(form)
        before = form.params()
        if a_model != b_model:
            form.model.value = b_model
        else:
            form.mode.value = b_mode
        b = get_adapter(provider).mode_spec(b_model, b_mode)
        assert form.mode.value == b_mode, where
        assert_controls_follow(form, b, where)
        after = form.params()
        for name, values, default in (("duration", b.durations, b.default_duration),
                                      ("resolution", b.resolutions, b.default_resolution),
                                      ("aspect_ratio", b.aspect_ratios, b.default_aspect_ratio),
                                      ("style", b.styles, b.default_style)):
            if values is not None and name in before:
                assert after[name] == _expected(before[name], values, default), (where, name, before)


def test_a_now_too_long_image_list_disables_generate_with_the_engines_message(sandbox: Any) -> None:
    """Seven images are fine for reference-to-video; switched to image-to-video (one image) the
    list is not silently cut: Generate is off with the engine's own message, and neither a
    click nor a forced handler call sends anything."""
    form = gv.form("pixazo", prompt="a lakeside")
    form.mode.value = "reference-to-video"
    urls = [f"https://img.example/{i}.png" for i in range(7)]
    form.image_urls.value = "\n".join(urls)
    assert not form.generate_button.disabled, form.reason.value
    form.mode.value = "image-to-video"
    with pytest.raises(ValidationError) as engine:
        gv.Client("pixazo").validate("a lakeside", mode="image-to-video", image_urls=urls)
    assert form.generate_button.disabled
    assert form.generate_button.tooltip == str(engine.value)
    assert "image_urls" in form.reason.value and "at most 1 for image-to-video" in form.reason.value
    assert "unknown (fix the input first)" in form.cost.value
    form.generate_button.click()
    form._on_generate()  # a click message that raced the disabled state
    assert form.job is None
    assert sandbox.tasks() == [] and sandbox.stats.submits["pixazo"] == 0


def test_every_control_forced_out_of_range_is_refused_before_sending(sandbox: Any) -> None:
    """A value the widget itself would refuse cannot be set; and a hidden stale control is
    never sent (xAI has no style: the apixo style left in the hidden dropdown is not a param)."""
    form = gv.form("xai", prompt="a lakeside")
    with pytest.raises(TraitError):
        form.resolution.value = "1080p"
    form.duration.value = 99  # an IntSlider clamps to its max: the table's limit
    assert form.duration.value == 15
    form.provider.value = "apixo"
    form.video_style.value = "spicy"
    form.provider.value = "xai"
    assert form.video_style.value == "spicy" and not shown(form.video_style)
    assert "style" not in form.params()
    form.reuse.value = False
    form.generate_button.click()
    assert form.job is not None and "style" not in form.job.request.params
    form.cancel_button.click()
    form.wait(30)


def test_a_form_argument_the_model_does_not_offer_is_an_error_naming_it() -> None:
    """`gv.form(mode=...)` is a parameter like any other: a mode the model lacks is refused
    with the parameter, the value and what is allowed (not silently replaced)."""
    with pytest.raises(ValidationError) as info:
        gv.form("xai", mode="bogus")
    message = str(info.value)
    assert "mode='bogus'" in message and "text-to-video" in message and "image-to-video" in message
    with pytest.raises(ValidationError, match="mode='edit'.*allowed for this model"):
        gv.form("xingchao", model="grok_video3_pro", mode="edit")
    with pytest.raises(ValidationError, match="model='bogus'"):
        gv.form("xai", model="bogus")
    form = gv.form("pixazo", mode="reference-to-video")  # an offered one is honoured
    assert form.mode.value == "reference-to-video"


def test_double_click_and_clicks_while_running_submit_once(sandbox: Any) -> None:
    form = gv.form("apiinone", prompt="a slow one [sandbox:latency=600]")
    form.reuse.value = False  # no reuse to hide a second submission
    form.generate_button.click()
    first = form.job
    form.generate_button.click()  # the double click
    form._on_generate()  # a click that arrived before the browser saw the disabled button
    form.prompt.value = "something else [sandbox:latency=600]"  # a new request: still one job at a time
    form.generate_button.click()
    assert form.job is first
    assert form.generate_button.disabled and "a job is running" in form.reason.value
    deadline = time.monotonic() + 20
    while sandbox.stats.submits["apiinone"] < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.1)
    assert sandbox.stats.submits["apiinone"] == 1 and len(sandbox.tasks()) == 1
    form.cancel_button.click()
    assert form.wait(30).status == "cancelled"
    assert not form.generate_button.disabled  # done: the next click is a deliberate new job


def test_rerunning_the_cell_attaches_to_the_running_job(sandbox: Any) -> None:
    """Re-running the form's cell makes a new form that knows nothing of the first one's job:
    with reuse on (the default), the same request attaches to the job in flight."""
    prompt = "a slow one [sandbox:latency=600]"
    first = gv.form("apiinone", prompt=prompt)
    first.generate_button.click()
    again = gv.form("apiinone", prompt=prompt)
    again.generate_button.click()
    assert again.job is not None and again.job.reused
    assert again.job.job_id == first.job.job_id  # one ledger row, one task at the provider
    first.cancel_button.click()
    first.wait(30)
    again.cancel_button.click()
    again.wait(30)
    assert sandbox.stats.submits["apiinone"] == 1


SECRETS = {name: f"sk-{name}-SECRET-{i}abcdef" for i, name in enumerate(PROVIDER_NAMES)}


def walk(widget: widgets.Widget) -> list[widgets.Widget]:
    return [widget, *[w for child in getattr(widget, "children", ()) for w in walk(child)]]


def test_no_key_in_any_widget_state_repr_or_html_across_every_provider(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Real keys in every provider's variable (no sandbox: the form reads them), one passed
    in a Client: after visiting every provider/model/mode, no child's state (what a saved
    notebook stores), no repr and no HTML holds any of them, nor a fragment."""
    for name, secret in SECRETS.items():
        monkeypatch.setenv(get_adapter(name).env_var, secret)
    client = gv.Client("pixazo", api_key="sk-passed-CLIENT-SECRET-42")
    form = gv.form("xai", prompt="a lakeside", clients=[client])
    secrets = [*SECRETS.values(), "sk-passed-CLIENT-SECRET-42"]
    for provider, model, mode in CASES:
        select(form, provider, model, mode)
        ready = form.key_info.value
        if provider == "pixazo":
            assert "the Client you passed" in ready
        else:
            assert get_adapter(provider).env_var in ready  # the name, never the value
        dumped = json.dumps([w.get_state() for w in walk(form)], default=str)
        dumped += repr(form) + repr(client) + json.dumps(form._repr_mimebundle_(), default=str)
        for secret in secrets:
            assert secret not in dumped and secret[-12:] not in dumped, (provider, model, mode)
    manager = json.dumps(widgets.Widget.get_manager_state(drop_defaults=False), default=str)
    assert not any(secret[-12:] in manager for secret in secrets)


HOSTILE = '<script>alert("x")</script> costs $5 and $6 & <b>more</b> '


def test_a_hostile_long_prompt_in_the_live_display_and_the_form(
        shell: CapturingDisplayPublisher, sandbox: Any) -> None:
    """A 5,000-character prompt with a script tag and dollar signs: every live update, the
    final card and the form's result and history hold it as escaped text in no-math roots,
    shortened where shown, never a tag; and the provider accepts the full prompt."""
    prompt = (HOSTILE * 200)[:5000]
    assert len(prompt) == 5000
    job = gv.Client("apiinone").start(prompt)
    job._ipython_display_()
    job.wait(30)
    deadline = time.monotonic() + 20
    while "<video" not in shell.outputs[-1]["data"]["text/html"] and time.monotonic() < deadline:
        time.sleep(0.02)
    htmls = [out["data"]["text/html"] for out in shell.outputs]
    texts = [out["data"]["text/plain"] for out in shell.outputs]
    assert "<video" in htmls[-1]
    form = gv.form("apiinone", prompt=prompt)
    assert not form.generate_button.disabled, form.reason.value  # exactly at the limit
    form.generate_button.click()
    assert form.wait(30).ok
    htmls += [form.result_html.value, form.history.value, form.static_html()]
    for markup in [*htmls, form.status.value]:
        assert "<script" not in markup.lower() and "<b>more" not in markup
    for markup in htmls:  # every root we emit turns math typesetting off ($5 ... $6)
        root = re.match(r"<\w+ class=\"([^\"]*)\"", markup)
        assert root and {"tex2jax_ignore", "mathjax_ignore"} <= set(root.group(1).split()), markup[:120]
    for markup in htmls[:-3]:  # the job's cards: prompt in full only in the title attribute
        if "prompt:" in markup:
            assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; costs $5" in markup
            body = re.sub(r'title="[^"]*"', "", markup)
            assert body.count("costs $5") <= 300 // len(HOSTILE) + 1
    for text in texts:
        assert len(text) < 1500  # the prompt is shortened in text/plain too
    assert {"mathjax_ignore", "tex2jax_ignore"} <= set(form._dom_classes)
    # a hostile uploaded file name in the refusal is text too (reason HTML and tooltip)
    form.mode.value = "image-to-video"
    form.image_file.value = ({"name": '<img src=x onerror=alert(1)>.png', "type": "image/png",
                              "size": 5, "content": memoryview(b"hello"),
                              "last_modified": datetime.now(UTC)},)
    assert form.generate_button.disabled
    assert "&lt;img src=x onerror=alert(1)&gt;.png" in form.reason.value
    assert "<img" not in form.reason.value and "not an image" in form.reason.value
