"""The pure rule for replies outside a provider's vocabulary (`_reply.ends_job`, `word_meaning`)."""

from __future__ import annotations

import httpx
import pytest

from grokvid_nb._types import State, TaskStatus
from grokvid_nb.adapters._reply import (
    MAX_TEXT_CHARS,
    UNRECOGNISED_LIMIT,
    clip_text,
    ends_job,
    error_details,
    is_moderation,
    unrecognised_status,
    word_meaning,
)


@pytest.mark.parametrize("word, meaning", [
    ("FAILURE", State.FAILED), ("rejected", State.FAILED), ("Cancelled", State.FAILED),
    ("timed_out", State.FAILED), ("moderated", State.FAILED), ("content_violation", State.FAILED),
    ("done", State.UNKNOWN), ("SUCCESS", State.UNKNOWN), ("paused", State.UNKNOWN),
    ("moderating", State.UNKNOWN), ("", State.UNKNOWN), (3, State.UNKNOWN), (None, State.UNKNOWN),
])
def test_word_meaning(word, meaning):
    assert word_meaning(word) is meaning


def _status(state: State, unrecognised: str | None = "odd") -> TaskStatus:
    return TaskStatus(state=state, unrecognised=unrecognised)


@pytest.mark.parametrize("status, in_a_row, ends", [
    (_status(State.UNKNOWN), 1, False),
    (_status(State.UNKNOWN), UNRECOGNISED_LIMIT - 1, False),
    (_status(State.UNKNOWN), UNRECOGNISED_LIMIT, True),
    (_status(State.UNKNOWN), UNRECOGNISED_LIMIT + 5, True),
    (_status(State.FAILED), 1, True),  # the meaning is clear: at once
    (_status(State.RUNNING, None), 99, False),  # a recognised reply never ends the job here
    (_status(State.SUCCEEDED, None), 1, False),
])
def test_ends_job(status, in_a_row, ends):
    assert ends_job(status, in_a_row) is ends


def test_unrecognised_status_quotes_redacts_and_answers_the_money_question():
    key = "sk-" + "A" * 40
    response = httpx.Response(200, json={"status": "warping", "echo": f"Bearer {key}"})
    status = unrecognised_status("xai", response, "status 'warping' is odd", raw_status="warping",
                                 money="Whether xAI charged it is unknown.")
    assert status.state is State.UNKNOWN and status.error_code == "unrecognised_reply"
    assert status.raw_status == "warping"
    assert key not in status.error_message and '"status":"warping"' in status.error_message
    assert status.error_message.endswith("Whether xAI charged it is unknown.")


@pytest.mark.parametrize("code, message, moderated", [
    ("content_moderated", None, True), ("SensitiveContent", "Content violates provider policy", True),
    (None, "rejected by the safety system", True), ("FAILED", "moderation", True),
    ("internal_error", "Upstream model timed out", False), (None, None, False),
])
def test_is_moderation(code, message, moderated):
    assert is_moderation(code, message) is moderated


KEY = "xai-SECRETSECRETSECRET0123456789"


@pytest.mark.parametrize("value, expected", [
    ("short msg", "short msg"),
    ("a" * 10, "a" * 10),  # at the limit: unchanged
    ("word " * 3, "word word ... (6 more characters)"),  # cut at the last space within the limit
    ("line\nnextline", "line ... (9 more characters)"),  # any whitespace is a place to cut
    ("x" * 11, "<11 characters without a space, not shown>"),
    ("abcdefgh " + KEY, "abcdefgh ... (33 more characters)"),  # a key across the limit is left out whole
])
def test_clip_text_cuts_between_words_only(value, expected):
    assert clip_text(value, limit=10) == expected


def test_every_reply_text_is_clipped(reply):
    from grokvid_nb.adapters import get_adapter

    huge = "blocked " * 50_000  # 400 kB of error message, well under the reply's size cap
    body = {"code": 200, "data": {"state": "failed", "failCode": "x" * 5000, "failMsg": huge}}
    status = get_adapter("apixo").parse_poll(reply(200, body))
    assert status.state is State.FAILED
    assert len(status.error_message or "") <= MAX_TEXT_CHARS + 200
    assert status.error_message.endswith("more characters)")
    assert status.error_code == "<5000 characters without a space, not shown>"
    assert error_details({"error": {"message": huge, "code": "c"}})[1].endswith("more characters)")
