"""What a notebook user sees, as markup: no math typesetting anywhere, theme-aware colours, the
card's next-check time, tables that fit and say "unknown", the form's first impression and
its saved state, reused results that do not look paid twice, and a readable sandbox handle."""

from __future__ import annotations

import dataclasses
import re
import time
from html import escape as html_escape
from typing import Any

import pandas as pd
import pytest
from IPython.core.displaypub import CapturingDisplayPublisher
from IPython.display import display

import grokvid_nb as gv
from grokvid_nb import _html
from grokvid_nb._compare.progress import Line, estimate_html, progress_html
from grokvid_nb._compare.views import cell_from_row, gallery_html
from grokvid_nb._result import Result
from grokvid_nb._types import JobSnapshot, State

NO_MATH = re.compile(r'class="[^"]*\bmathjax_ignore\b[^"]*\btex2jax_ignore\b')


def snapshot(**overrides: Any) -> JobSnapshot:
    snap = JobSnapshot(provider="xai", model="grok-imagine-video", mode="text-to-video",
                       prompt="costs $1 and $2", state=State.RUNNING, progress=8.0, elapsed_s=20.0,
                       polls=3, task_id="req-1", error_code=None, error_message=None,
                       done=False, reused=False)
    return dataclasses.replace(snap, **overrides)


def result(**overrides: Any) -> Result:
    fields: dict[str, Any] = dict(
        provider="xai", model="grok-imagine-video", mode="text-to-video", status=State.SUCCEEDED,
        task_id="req-1", prompt="a lakeside", params={"duration": 6},
        video_urls=("https://cdn.example/v.mp4",), cost_usd=0.09, cost_source="estimated",
        latency_s=41.2, polls=7, video_duration=6.0)
    fields.update(overrides)
    return Result(**fields)


def root_class(markup: str) -> str:
    match = re.match(r"\s*<(\w+)[^>]*?class=['\"]([^'\"]*)['\"]", markup)
    assert match, markup[:200]
    return match.group(2)


@pytest.mark.parametrize("markup", [
    _html.job_html(snapshot()),
    _html.error_html("xai", "m", "failed", "E1", "over $5.00 and $6.00"),
    _html.result_html(result()),
    _html.video_html("https://cdn.example/v.mp4", "$0.09 estimated"),
    _html.history_html([result()]),
    _html.history_html([]),
    _html.grid_html(["<p>$1</p>", "<p>$2</p>"]),
    _html.expired_html("$0.30 reported", "expired"),
    progress_html([Line("k", "xai #0", "running", 1.0, 8.0, "$0.30 estimated", "note")], "t"),
    estimate_html("estimated $1.48 for 10 new jobs ... limit $5.00", [("xai", "$0.30")]),
    gallery_html([cell_from_row({"provider": "xai", "model": "m", "status": "failed", "error": "$1"})]),
], ids=["job", "error", "result", "video", "history", "history-empty", "grid", "expired", "progress",
        "estimate", "gallery"])
def test_every_html_root_we_emit_turns_math_off(markup: str) -> None:
    classes = root_class(markup).split()
    assert "mathjax_ignore" in classes and "tex2jax_ignore" in classes, markup[:200]


def test_frames_we_return_render_without_math_and_fit_the_output(sandbox: object) -> None:
    providers = gv.providers()
    assert isinstance(providers, pd.DataFrame)
    html = providers._repr_html_()
    assert "$0.05/s" in html  # the price column, as text
    assert html.startswith('<div class="grokvid-table mathjax_ignore tex2jax_ignore" '
                           'style="overflow-x:auto;max-width:100%">')
    assert 'class="dataframe tex2jax_ignore mathjax_ignore"' in html
    for frame in (gv.history(), gv.spend()):  # the ledger's views too
        assert isinstance(frame, pd.DataFrame)
        assert frame._repr_html_().startswith('<div class="grokvid-table mathjax_ignore tex2jax_ignore"')
    # a slice is still one of ours (and still a DataFrame)
    assert "mathjax_ignore" in providers[providers.provider == "xai"]._repr_html_()


def test_short_cells_stay_on_one_line_and_long_text_wraps_in_full() -> None:
    providers = gv.providers()
    html = providers._repr_html_()
    assert len(re.findall(r'<td style="white-space:nowrap">', html)) == (len(providers.columns) - 3) * len(providers)
    wrapped = re.findall(r'<td style="white-space:normal;[^"]*">([^<]*)</td>', html)
    assert len(wrapped) == 3 * len(providers)  # price, failed_jobs and note: one each per row
    notes = {html_escape(note, quote=False) for note in providers["note"]} - {""}
    assert {text for text in wrapped if text in notes} == notes  # in full, not cut at 50
    assert "..." not in html
    # a column index is counted per row (the index <th> does not shift it)
    row = re.findall(r"<tr>.*?</tr>", html, re.S)[1]
    cells = re.findall(r"<td style=\"([^\"]*)\">", row)
    assert len(cells) == len(providers.columns)
    assert [i for i, style in enumerate(cells) if "normal" in style] == [
        list(providers.columns).index(c) for c in ("price", "failed_jobs", "note")]


def test_unknown_costs_say_unknown_not_nan(sandbox: object) -> None:
    gv.set_price("xingchao", "grok_video3_pro")  # make sure no price is configured
    df = gv.compare("a lakeside", providers=["xingchao", "apixo"], duration=6, adapt=True, progress=False)
    row = df[df.provider == "xingchao"].iloc[0]
    assert row["status"] == "succeeded" and pd.isna(row["cost_usd"])
    assert row["cost_source"] == "unknown"
    summary = gv.summarize(df)
    assert summary.set_index("provider").loc["xingchao", "cost_source"] == "unknown"
    for frame in (df, summary):
        cells = re.findall(r"<td[^>]*>([^<]*)</td>", frame._repr_html_())
        assert "unknown" in cells and "NaN" not in cells and "None" not in cells


def test_palette_uses_jupyterlab_variables_with_fallbacks() -> None:
    for colour in (_html.MUTED_COLOR, _html.ERROR_COLOR, _html.RUNNING_COLOR, _html.SUCCESS_COLOR,
                   _html.WARNING_COLOR, _html.BORDER_COLOR):
        assert re.fullmatch(r"var\(--jp-[a-z0-9-]+, #[0-9a-f]{6}\)", colour), colour
    box = _html.error_html("xai", "m", "failed", None, "boom")
    assert "#fdf3f3" not in box and "#666" not in box
    assert f"background-color:{_html.ERROR_BACKGROUND}" in box
    assert re.fullmatch(r"rgba\(\d+, \d+, \d+, 0\.\d+\)", _html.ERROR_BACKGROUND)  # a tint, any theme


def test_the_card_says_when_the_next_check_is() -> None:
    assert "next check in 4 s" in _html.job_html(snapshot(next_check_s=4.2))
    assert "next check now" in _html.job_html(snapshot(next_check_s=0.1))
    assert "next check in 2 min 05 s" in _html.job_html(snapshot(next_check_s=125))
    assert "next check" not in _html.job_html(snapshot())


@pytest.mark.timeout(60)
def test_a_running_job_reports_its_next_check(sandbox: object) -> None:
    job = gv.Client("apixo").start("a lakeside [sandbox:latency=300]", duration=6)
    deadline = time.monotonic() + 20
    while job.next_check_s is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert job.next_check_s is not None and job.next_check_s >= 0
    assert "next check" in job._repr_mimebundle_()["text/html"]
    job.wait(30)
    assert job.next_check_s is None


def test_progress_table_notes_wrap_by_words_not_letters() -> None:
    markup = progress_html([Line("k", "xingchao/grok_video3_pro #0", "skipped", None, None, "",
                                 "resolution 1080p is not offered; allowed: 720p")])
    note_cell = re.findall(r"<td style='([^']*)'>resolution", markup)[0]
    assert "min-width:16em" in note_cell and "white-space:normal" in note_cell
    assert "overflow-x:auto" in markup.split("<table")[0]
    assert markup.count("white-space:nowrap") == 5  # label, status, progress, elapsed, cost


def test_long_notes_fit_their_tile_with_an_ellipsis() -> None:
    name = "a" * 120 + ".mp4"
    markup = _html.video_html("https://cdn.example/v.mp4", "c", note=f"embedded from the local copy {name}")
    note = re.findall(r'<div class="grokvid-note" style="([^"]*)" title="([^"]*)"', markup)
    assert note and "text-overflow:ellipsis" in note[0][0] and "white-space:nowrap" in note[0][0]
    assert note[0][1] == f"embedded from the local copy {name}"


def test_a_reused_result_is_marked_no_charge() -> None:
    paid, reused = result(), result(reused=True)
    history = _html.history_html([reused, paid])
    assert history.count("$0.090 estimated") == 1
    assert "reused, no charge" in history
    assert "padding:3px 10px" in history
    assert "no new charge" in _html.caption_text(reused)


def test_the_sandbox_handle_has_a_readable_repr() -> None:
    sb = gv.use_sandbox(time_scale=0.05, seed=1)
    try:
        text = repr(sb)
    finally:
        gv.use_sandbox(False)
    assert text == ("Sandbox(5 providers: xai, apixo, pixazo, xingchao, apiinone; time_scale=0.05, "
                    "seed=1; 0 tasks so far)")
    assert " at 0x" not in text


def test_a_new_form_has_no_red_error_and_a_whole_reuse_label() -> None:
    form = gv.form("apiinone")
    assert form.generate_button.disabled
    assert _html.ERROR_COLOR not in form.reason.value
    assert "Type a prompt" in form.reason.value
    form.prompt.value = "x" * 100_000  # over the limit: now the real problem, in red
    assert _html.ERROR_COLOR in form.reason.value
    assert form.reuse.layout.width == "auto" and form.reuse.style.description_width == "initial"
    assert {"mathjax_ignore", "tex2jax_ignore"} <= set(form._dom_classes)


@pytest.mark.timeout(60)
def test_form_wait_leaves_the_saved_state_current(shell: CapturingDisplayPublisher,
                                                  sandbox: object) -> None:
    form = gv.form("apiinone", prompt="a lakeside")
    display(form)
    form.generate_button.click()
    res = form.wait(30)
    assert res.ok
    # no waiting after form.wait(): the saved output already counts the result
    assert shell.outputs[-1]["data"]["text/plain"].startswith("gv.form() · 1 result(s)")
    assert "<video" in shell.outputs[-1]["data"]["text/html"]
    form.generate_button.click()  # identical request: reused, no second charge row
    form.wait(30)
    history = form.history.value
    assert history.count("reused, no charge") == 1
    assert len(re.findall(r"\$0\.\d+ (?:estimated|reported)</td>", history)) == 1
