"""Issue 10, end to end: what the real providers do that the sandbox never did before.

Against the in-process sandbox (its magic words: `[sandbox:moderate]`, `[sandbox:status=WORD]`,
`[sandbox:thumbnail]`, `[sandbox:url=noext]`, `[sandbox:fail=charged]`, ...) and, for exact poll
counts, against scripted replies. Every job ends in a clear state within a few polls: never a
silent poll to the deadline.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pandas as pd
import pytest

import grokvid_nb as gv
from grokvid_nb._compare.table import make_row
from grokvid_nb._html import history_html, result_html, result_text
from grokvid_nb.adapters._reply import UNRECOGNISED_LIMIT

KEY = "test-key-0123456789"
IMAGE = "https://example.com/portrait.png"


@pytest.fixture
def sandbox() -> Iterator[Any]:
    sb = gv.use_sandbox(time_scale=0.002, seed=3)
    try:
        yield sb
    finally:
        gv.use_sandbox(False)


def _scripted(provider: str, polls: list[Any], submit: Any) -> tuple[gv.Client, list[int]]:
    count: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(200, json=submit)
        count.append(1)
        return httpx.Response(200, json=polls[min(len(count), len(polls)) - 1])

    client = gv.Client(provider, api_key=KEY, base_url=f"http://{provider}-reality.invalid",
                       transport=httpx.MockTransport(handler), poll_interval=0.01, deadline_s=60)
    return client, count


# ---- the rule for unrecognised replies ---------------------------------------------------------

@pytest.mark.timeout(60)
def test_an_unknown_word_ends_the_job_after_a_few_polls_with_a_warning(caplog) -> None:
    """Item 4: never a silent poll to the deadline; the log gets a WARNING per reply."""
    client, polls = _scripted("apiinone", [{"code": 200, "data": {"status": "done", "output": {}}}],
                              {"code": 200, "data": {"task_id": "t-1"}})
    with caplog.at_level(logging.WARNING, logger="grokvid_nb"):
        result = client.submit("p").wait(30)
    assert result.status is gv.State.UNKNOWN and result.error_code == "unrecognised_reply"
    assert len(polls) == UNRECOGNISED_LIMIT == result.polls
    assert "'done'" in result.error_message and "Whether API in One charged it is unknown" in result.error_message
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "unrecognised" in r.message]
    assert len(warnings) == UNRECOGNISED_LIMIT
    assert result.cost_usd is None and result.cost_source is None
    client.close()


@pytest.mark.timeout(60)
def test_a_recognised_reply_resets_the_count() -> None:
    weird, running = {"status": "paused"}, {"status": "processing", "progress": 40}
    client, polls = _scripted("xai", [weird, weird, running, weird, weird, weird],
                              {"request_id": "r-1"})
    result = client.submit("p").wait(30)
    assert result.status is gv.State.UNKNOWN and len(polls) == 6
    client.close()


@pytest.mark.timeout(60)
def test_a_clear_failure_word_ends_at_once() -> None:
    client, polls = _scripted("xingchao", [{"id": "v", "status": "rejected"}], {"id": "v", "status": "queued"})
    result = client.submit("p").wait(30)
    assert result.status is gv.State.FAILED and len(polls) == 1
    assert "'rejected'" in result.error_message
    client.close()


# ---- moderation, a first-class outcome ------------------------------------------------------------

@pytest.mark.timeout(60)
@pytest.mark.parametrize("word", ["[sandbox:moderate]", "[sandbox:moderate=absent]"])
def test_xai_moderated_done_without_url_is_moderated_not_a_timeout(sandbox: Any, word: str) -> None:
    """Item 3: `done` + no URL + `respect_moderation: false` ends at once as moderated, with the
    cost xAI reported (the sandbox bills it, like the reseller says)."""
    result = gv.Client("xai").submit(f"a cat {word}", duration=6).wait(30)
    assert result.status is gv.State.FAILED and result.moderated and result.error_code == "moderated"
    assert result.cost_source == "reported"
    assert result.cost_usd == pytest.approx(sandbox.charged_usd("xai")) == pytest.approx(0.30)
    assert result.latency_s is not None and result.latency_s < 10  # not the 2+ min deadline
    # shown plainly: card, text, history and the compare row all say "moderated"
    assert "moderated" in result_html(result) and "$0.30 reported" in result_html(result)
    assert result_text(result).startswith("Result moderated")
    assert re.search(r"<td style=\"[^\"]*\">moderated</td>", history_html([result]))
    row = make_row(provider="xai", model=result.model, mode=result.mode, params=result.params,
                   sample=0, note="", estimated=None, result=result)
    assert row["error"].startswith("moderated: ") and row["status"] == "failed"


@pytest.mark.timeout(60)
@pytest.mark.parametrize("provider", ["apixo", "pixazo", "xingchao", "apiinone"])
def test_moderation_elsewhere_is_the_same_outcome(sandbox: Any, provider: str) -> None:
    result = gv.Client(provider).submit("a cat [sandbox:moderate]").wait(60)
    assert result.status is gv.State.FAILED and result.error_code == "moderated"
    assert "content moderation blocked the video" in result.error_message


@pytest.mark.timeout(120)
def test_compare_rows_say_moderated_and_count_the_spend(sandbox: Any) -> None:
    """compare(): the error column says moderated; Pixazo's charged FAILED is counted."""
    df = gv.compare("a storm [sandbox:moderate]", providers=["xai", "pixazo", "apixo"], progress=False,
                    duration=6)
    rows = {row["provider"]: row for _, row in df.iterrows()}
    assert all(str(row["error"]).startswith("moderated: ") for row in rows.values())
    assert (rows["xai"]["cost_usd"], rows["xai"]["cost_source"]) == (pytest.approx(0.30), "reported")
    assert rows["pixazo"]["cost_source"] == "estimated"  # Pixazo bills FAILED
    assert pd.isna(rows["apixo"]["cost_source"]) and pd.isna(rows["apixo"]["cost_usd"])  # unknown


# ---- cost truth for failures ------------------------------------------------------------------------

@pytest.mark.timeout(60)
def test_pixazo_failed_is_charged_and_estimated(sandbox: Any) -> None:
    """Item 6: FAILED is charged: the price table's estimate, labelled "estimated"."""
    result = gv.Client("pixazo").submit("a cat [sandbox:fail=charged]", duration=6,
                                        resolution="720p").wait(60)
    assert result.status is gv.State.FAILED and result.error_code == "FAILED"
    assert (result.cost_usd, result.cost_source) == (pytest.approx(0.42), "estimated")
    assert sandbox.charged_usd("pixazo") == pytest.approx(0.42)


@pytest.mark.timeout(60)
def test_pixazo_error_is_not_charged(sandbox: Any) -> None:
    """Item 6: ERROR costs 0.0, labelled "not charged" (Pixazo reports nothing)."""
    result = gv.Client("pixazo").submit("a cat [sandbox:fail=internal]").wait(60)
    assert result.status is gv.State.FAILED and result.error_code == "ERROR"
    assert (result.cost_usd, result.cost_source) == (0.0, "not charged")
    assert sandbox.charged_usd("pixazo") == 0.0



@pytest.mark.timeout(60)
def test_not_charged_survives_a_reload_from_the_ledger(sandbox: Any) -> None:
    """The "not charged" 0.0 is kept in the ledger, not re-derived: history shows it, and a job
    attached to the finished row (as resume or another process does) gives the same Result."""
    job = gv.Client("pixazo").submit("a cat [sandbox:fail=internal]")
    assert job.wait(60).cost_source == "not charged"
    row = job.client.ledger.get(job.job_id)
    assert row is not None and (row.state, row.cost_usd, row.cost_source) == ("failed", 0.0, "not charged")
    history = gv.history(provider="pixazo")
    assert history[["cost_usd", "cost_source"]].values.tolist() == [[0.0, "not charged"]]
    reloaded = gv.Client("pixazo")._attach(row, None, reused=False)  # a fresh Client: no live job
    assert reloaded is not job
    result = reloaded.wait(5)
    assert (result.status, result.error_code) == (gv.State.FAILED, "ERROR")
    assert (result.cost_usd, result.cost_source) == (0.0, "not charged")
    assert sandbox.charged_usd("pixazo") == 0.0

# ---- API in One's finished bodies -----------------------------------------------------------------

@pytest.mark.timeout(60)
@pytest.mark.parametrize("magic", ["[sandbox:thumbnail]", "[sandbox:url=noext]",
                                   "[sandbox:thumbnail] [sandbox:url=noext]"])
def test_apiinone_picks_the_video(sandbox: Any, magic: str) -> None:
    """Item 5: the cover JPEG listed first is not the video; a URL without extension is."""
    result = gv.Client("apiinone").submit(f"a cat {magic}").wait(60)
    assert result.ok and not result.video_url.endswith(".jpg")
    assert result.download().read_bytes()[4:8] == b"ftyp"


@pytest.mark.timeout(60)
@pytest.mark.parametrize("word, state", [("SUCCESS", gv.State.SUCCEEDED), ("done", gv.State.UNKNOWN)])
def test_apiinone_finished_words(sandbox: Any, word: str, state: gv.State) -> None:
    """Item 4: SUCCESS is the gateway vocabulary; `done` is not, and ends unknown quickly."""
    result = gv.Client("apiinone").submit(f"a cat [sandbox:status={word}]").wait(60)
    assert result.status is state
    if state is gv.State.UNKNOWN:
        assert f"'{word}'" in result.error_message and "/cdn/apiinone/" in result.error_message


@pytest.mark.timeout(60)
def test_apiinone_failure_word_fails(sandbox: Any) -> None:
    result = gv.Client("apiinone").submit("a cat [sandbox:fail] [sandbox:status=FAILURE]").wait(60)
    assert result.status is gv.State.FAILED and result.error_code == "moderated"


@pytest.mark.timeout(60)
def test_apiinone_image_prompt_is_optional(sandbox: Any) -> None:
    """Item 10: the sandbox accepts an image-to-video request without a prompt."""
    result = gv.Client("apiinone").submit("", image_url=IMAGE).wait(60)
    assert result.ok


# ---- xAI limits --------------------------------------------------------------------------------------

@pytest.mark.timeout(60)
def test_xai_reference_over_10_s_is_refused_before_sending(sandbox: Any) -> None:
    """Item 1: refused locally; the sandbox refuses it too (no task, nothing charged)."""
    with pytest.raises(gv.ValidationError) as info:
        gv.Client("xai").submit("<IMAGE_1> walks", mode="reference-to-video", image_urls=[IMAGE],
                                duration=15)
    assert info.value.parameter == "duration"
    assert sandbox.stats.submits["xai"] == 0


@pytest.mark.timeout(60)
def test_xai_preview_and_portrait_image(sandbox: Any) -> None:
    """Items 8 and 10: the preview id is accepted for image-to-video; no ratio is sent."""
    job = gv.Client("xai", model="grok-imagine-video-1.5-preview").submit("p", image_url=IMAGE)
    result = job.wait(60)
    assert result.ok and "aspect_ratio" not in result.params
    assert result.cost_source == "reported"
    assert result.cost_usd == pytest.approx(6 * 0.08 + 0.01)
