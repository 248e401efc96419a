"""`gv.form()`: the controls follow the capability tables of every provider/model/mode, the
Generate button explains why it is disabled, and a click runs a job in the sandbox."""

from __future__ import annotations

import re
import time
from typing import Any

import ipywidgets as widgets
import pytest
from IPython.core.displaypub import CapturingDisplayPublisher
from IPython.display import display

import grokvid_nb as gv
from grokvid_nb._html import format_cost
from grokvid_nb.adapters import PROVIDER_NAMES, ModeSpec, get_adapter
from grokvid_nb.widgets import VideoForm

CASES = [(provider, model, mode)
         for provider in PROVIDER_NAMES
         for model, model_spec in get_adapter(provider).models.items()
         for mode in model_spec.modes]


def shown(widget: widgets.DOMWidget) -> bool:
    return widget.layout.display != "none"


def select(form: VideoForm, provider: str, model: str, mode: str) -> ModeSpec:
    form.provider.value = provider
    form.model.value = model
    form.mode.value = mode
    return get_adapter(provider).mode_spec(model, mode)


def fill_sources(form: VideoForm, spec: ModeSpec) -> None:
    if spec.images is not None:
        form.image_urls.value = "\n".join(
            f"https://img.example/{i}.png" for i in range(max(1, spec.images[0])))
    if spec.video_input:
        form.video_url.value = "https://cdn.example/source.mp4"


def wait_for(predicate: Any, timeout: float = 20.0) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError("condition not reached in time")
        time.sleep(0.02)


def test_case_list_covers_every_table_entry() -> None:
    assert {p for p, _, _ in CASES} == set(PROVIDER_NAMES)
    assert len(CASES) >= 20


def test_providers_models_and_modes_are_offered_from_the_tables() -> None:
    form = gv.form()
    assert [name for _, name in form.provider.options] == list(PROVIDER_NAMES)
    for provider in PROVIDER_NAMES:
        adapter = get_adapter(provider)
        form.provider.value = provider
        assert list(form.model.options) == list(adapter.models)
        assert form.model.value == adapter.default_model
        for model, model_spec in adapter.models.items():
            form.model.value = model
            assert list(form.mode.options) == list(model_spec.modes)


@pytest.mark.parametrize(("provider", "model", "mode"), CASES)
def test_controls_match_the_capability_table(provider: str, model: str, mode: str,
                                             sandbox: object) -> None:
    form = gv.form()
    spec = select(form, provider, model, mode)

    durations = spec.durations
    if durations is None:
        assert not shown(form._duration_box)
        assert "duration" not in form.params()
    elif isinstance(durations, range):
        assert shown(form._duration_box) and shown(form.duration_slider)
        assert not shown(form.duration_choice)
        assert isinstance(form.duration, widgets.IntSlider)
        assert (form.duration.min, form.duration.max) == (durations.start, durations.stop - 1)
        assert form.duration.value in durations
        assert not form.duration.disabled
    else:
        assert shown(form._duration_box) and shown(form.duration_choice)
        assert not shown(form.duration_slider)
        assert isinstance(form.duration, widgets.Dropdown)
        assert list(form.duration.options) == list(durations)
        assert form.duration.disabled == (len(durations) == 1)

    for control, values in ((form.resolution, spec.resolutions),
                            (form.aspect_ratio, spec.aspect_ratios),
                            (form.video_style, spec.styles)):
        assert shown(control) == (values is not None), control.description
        if values is not None:
            assert list(control.options) == list(values)
            assert control.value in values
            assert control.disabled == (len(values) == 1)

    assert shown(form.image_urls) == (spec.images is not None)
    assert shown(form._image_task_box) == spec.image_task_source
    assert shown(form.video_url) == spec.video_input

    # a valid request: the button is enabled and the cost is the table's estimate
    form.prompt.value = "a lakeside at sunset"
    fill_sources(form, spec)
    request = form.validate()
    assert not form.generate_button.disabled, form.reason.value
    assert form.reason.value == ""
    estimate = spec.estimate(request.params)
    if estimate is None:
        assert "unknown" in form.cost.value
    else:
        assert f"<b>{format_cost(estimate, None)}</b>" in form.cost.value

    # a missing source (image or video URL) disables it with the provider's reason
    if spec.video_input:
        form.video_url.value = ""
        assert form.generate_button.disabled and "video_url" in form.reason.value
        fill_sources(form, spec)
    if spec.images is not None and spec.images[0] > 0:
        form.image_urls.value = ""
        assert form.generate_button.disabled and "image_urls" in form.reason.value
        fill_sources(form, spec)
    if spec.images is not None and spec.images[1] is not None:
        form.image_urls.value = "\n".join(f"https://img.example/{i}.png"
                                          for i in range(spec.images[1] + 1))
        assert form.generate_button.disabled and f"at most {spec.images[1]}" in form.reason.value
        fill_sources(form, spec)

    # an invalid prompt disables it, with the ValidationError text as the reason
    if spec.prompt_max is not None:
        form.prompt.value = "x" * (spec.prompt_max + 1)
        assert f"{spec.prompt_max + 1} / {spec.prompt_max}" in form.prompt_count.value
        assert f"at most {spec.prompt_max} characters" in form.reason.value
    else:
        form.prompt.value = "   "
        assert "non-empty" in form.reason.value
    assert form.generate_button.disabled
    assert "not allowed" in form.generate_button.tooltip
    form.prompt.value = "ok again"
    assert not form.generate_button.disabled


@pytest.mark.parametrize("provider", PROVIDER_NAMES)
def test_a_new_form_starts_at_the_defaults(provider: str) -> None:
    form = gv.form(provider)
    adapter = get_adapter(provider)
    spec = adapter.mode_spec(adapter.default_model, "text-to-video")
    assert (form.model.value, form.mode.value) == (adapter.default_model, "text-to-video")
    if spec.durations is not None:
        expected = spec.default_duration if spec.default_duration is not None else spec.durations[0]
        assert form.duration.value == expected
    for control, default in ((form.resolution, spec.default_resolution),
                             (form.aspect_ratio, spec.default_aspect_ratio),
                             (form.video_style, spec.default_style)):
        if default is not None:
            assert control.value == default


def test_choices_survive_a_change_of_model_when_still_allowed() -> None:
    form = gv.form("xingchao")
    form.duration.value = 20
    form.resolution.value = "480p"
    form.model.value = "grok_video3_max"      # discrete set that includes 20 and 480p
    assert isinstance(form.duration, widgets.Dropdown) and form.duration.value == 20
    assert form.resolution.value == "480p"
    form.model.value = "grok_video3_pro"      # fixed: 10 s, 720p
    assert form.duration.value == 10 and form.duration.disabled
    assert form.resolution.value == "720p" and form.resolution.disabled


def test_without_a_key_the_button_names_the_environment_variable() -> None:
    form = gv.form("apixo", prompt="a lakeside")
    assert form.generate_button.disabled
    assert "APIXO_API_KEY" in form.reason.value
    assert "APIXO_API_KEY" in form.key_info.value
    form.provider.value = "xingchao"
    assert "XINGCHAO_API_KEY" in form.reason.value


def test_without_a_base_url_xingchao_says_which_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    from grokvid_nb.adapters.xingchao import XingChao

    # XingChaoYiQing publishes its base URL now; an adapter without a default still says what to set
    monkeypatch.setattr(XingChao, "default_base_url", None)
    monkeypatch.setenv("XINGCHAO_API_KEY", "k-123456")
    form = gv.form("xingchao", prompt="a lakeside")
    assert "XINGCHAO_BASE_URL" in form.reason.value and form.generate_button.disabled
    monkeypatch.setenv("XINGCHAO_BASE_URL", "https://xingchao.example")
    form.prompt.value = "a lakeside again"
    assert not form.generate_button.disabled


def test_generate_runs_a_job_to_the_video(sandbox: object) -> None:
    form = gv.form("apixo", prompt="a lakeside at sunset")
    form.duration.value = 8
    assert not form.generate_button.disabled, form.reason.value
    form.generate_button.click()
    job = form.job
    assert job is not None and job.provider == "apixo" and job.request.params["duration"] == 8
    assert shown(form.progress) and shown(form.cancel_button)
    assert form.wait(30).ok  # the job, then the form's last update (video, history row)
    assert "<video" in form.result_html.value
    assert job.state == "succeeded"
    assert form.progress.value == 100 and form.progress.bar_style == "success"
    assert 'src="data:video/mp4;base64,' in form.result_html.value  # the sandbox is inlined
    assert "apixo · grok-video · 8 s clip" in form.result_html.value
    assert "estimated" in form.result_html.value
    assert not shown(form.cancel_button)
    assert "<table" in form.history.value and form.history.value.count("<tr>") == 2
    assert form.results[0].ok
    assert not form.generate_button.disabled  # ready for the next one


def test_a_failure_ends_as_an_error_box_and_a_history_row(sandbox: object) -> None:
    form = gv.form("pixazo", prompt="something [sandbox:fail]")
    form.generate_button.click()
    assert form.wait(30).status == "failed"  # the job, then the form's last update
    assert "grokvid-error" in form.result_html.value
    assert form.progress.bar_style == "danger"
    assert "failed" in form.result_html.value and "<video" not in form.result_html.value
    assert form.job.error_code and form.job.error_code in form.result_html.value
    assert form.history.value.count("<tr>") == 2
    # moderation is its own outcome, said plainly in the card and the history (issue 10); Pixazo
    # bills FAILED, so the card says what it cost
    assert form.job.error_code == "moderated"
    assert "blocked by the provider&#x27;s content moderation" in form.result_html.value
    assert "cost: $0.42 estimated" in form.result_html.value
    assert re.search(r"<td style=\"[^\"]*\">moderated</td>", form.history.value)


def test_cancel_stops_the_job(sandbox: object) -> None:
    form = gv.form("apiinone", prompt="slow one [sandbox:latency=600]")
    form.generate_button.click()
    assert form.generate_button.disabled and "running" in form.reason.value
    form.cancel_button.click()
    result = form.wait(30)
    assert result.status == "cancelled" and not shown(form.cancel_button)
    assert "cancelled" in form.result_html.value and form.progress.bar_style == "danger"


def test_the_saved_output_has_static_fallbacks_that_follow_the_results(
        shell: CapturingDisplayPublisher, sandbox: object) -> None:
    form = gv.form("apiinone", prompt="a lakeside")
    display(form)
    first = shell.outputs[0]
    display_id = first["transient"]["display_id"]
    assert first["data"]["application/vnd.jupyter.widget-view+json"]["model_id"] == form.model_id
    assert "No videos" in first["data"]["text/html"]
    assert first["data"]["text/plain"].startswith("gv.form() · 0 result(s)")
    form.generate_button.click()
    wait_for(lambda: len(shell.outputs) > 1)
    update = shell.outputs[-1]
    assert update["update"] and update["transient"]["display_id"] == display_id
    assert "<video" in update["data"]["text/html"] and "<table" in update["data"]["text/html"]
    assert "succeeded: apiinone · grok-imagine" in update["data"]["text/plain"]
    assert update["data"]["application/vnd.jupyter.widget-view+json"]["model_id"] == form.model_id
