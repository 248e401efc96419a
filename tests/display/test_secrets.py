"""An API key never reaches widget state (what a saved notebook stores) nor any output bundle."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import ipywidgets as widgets
import pytest

import grokvid_nb as gv
from grokvid_nb.display import job_bundle, result_bundle

SECRET = "sk-test-SECRET-123"


def walk(widget: widgets.Widget) -> list[widgets.Widget]:
    """A widget and all its descendants."""
    return [widget, *[w for child in getattr(widget, "children", ()) for w in walk(child)]]


def all_widget_state(form: widgets.Widget) -> str:
    """Every live widget's state, as a notebook would save it, and each of the form's own."""
    state = widgets.Widget.get_manager_state(drop_defaults=False)
    per_widget = [w.get_state() for w in walk(form)]
    return json.dumps(state, default=str) + json.dumps(per_widget, default=str)


def wait_for(predicate: Any, timeout: float = 20.0) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, "condition not reached in time"
        time.sleep(0.02)


def test_keys_stay_out_of_widget_state_and_bundles(monkeypatch: pytest.MonkeyPatch,
                                                   sandbox: object) -> None:
    monkeypatch.setenv("XAI_API_KEY", SECRET)
    monkeypatch.setenv("APIXO_API_KEY", SECRET)
    client = gv.Client("xai", api_key=SECRET)
    form = gv.form("xai", prompt="a lakeside at sunset", clients=[client])
    assert "XAI_API_KEY" not in form.reason.value  # the client provides the key
    form.generate_button.click()
    wait_for(lambda: "<video" in form.result_html.value)
    form.provider.value = "apixo"  # env key: the form names the variable, never its value
    assert SECRET not in all_widget_state(form)
    for bundle in (job_bundle(form.job), result_bundle(form.job.result_nowait()),
                   result_bundle(form.job.result_nowait(), embed=False), form._repr_mimebundle_()):
        assert SECRET not in json.dumps(bundle)


def test_a_key_echoed_by_the_provider_is_redacted_from_the_error_box() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        key = request.headers["Authorization"].split()[-1]
        return httpx.Response(401, json={"code": "unauthorized",
                                         "error": f"invalid API key {key}"})

    client = gv.Client("xai", api_key=SECRET, transport=httpx.MockTransport(handler))
    job = client.start("a lakeside")
    result = job.wait(20)
    assert not result.ok
    for bundle in (job_bundle(job), result_bundle(result)):
        text = json.dumps(bundle)
        assert SECRET not in text
        assert "invalid API key" in text and "[REDACTED]" in text
    form = gv.form("xai", clients=[client])
    form.start_watching(job)
    wait_for(lambda: "grokvid-error" in form.result_html.value)
    assert SECRET not in all_widget_state(form)


def test_the_form_has_no_key_field() -> None:
    form = gv.form("xai")
    kinds = {type(w).__name__ for w in walk(form)}
    assert "Password" not in kinds
    descriptions = " ".join(str(getattr(w, "description", "")).lower() for w in walk(form))
    assert "key" not in descriptions
