"""The pure rule for replies outside a provider's vocabulary (`_reply.ends_job`, `word_meaning`)."""

from __future__ import annotations

import httpx
import pytest

from grokvid_nb._types import State, TaskStatus
from grokvid_nb.adapters._reply import (
    UNRECOGNISED_LIMIT,
    ends_job,
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
