"""Shared fixtures for the sans-IO provider adapter tests.

`fixtures/*.json` hold reply bodies. Copied verbatim from the provider pages in
/work/shared/reference/seeds/: xai_submit, xai_processing (the page's "loading" mock),
xai_done, xai_failed; every apixo_*; pixazo_submit, pixazo_completed,
pixazo_callback_completed, pixazo_error, pixazo_insufficient_balance, pixazo_model_not_found;
apiinone_submit, apiinone_error. Built from the shapes PROVIDERS.md describes because the pages
show no example: xai_failed_error (`error: {code, message}`), every xingchao_* (the GlobalAiOpc
shape) and apiinone_in_progress/completed/failed (the page never shows a finished task).

Nothing here opens a socket: replies are constructed `httpx.Response` objects.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from grokvid_nb._exceptions import ProviderResponseError
from grokvid_nb._secrets import Secret
from grokvid_nb._types import State

FIXTURES = Path(__file__).parent / "fixtures"

#: A realistic-looking key; tests assert it never shows up where it must not.
KEY_TEXT = "gvtest-SECRET-0123456789abcdefXYZ"

#: Reply texts (HTTP 200) no provider should send, for the "never KeyError/TypeError" tests.
GENERIC_MALFORMED: list[tuple[str, str]] = [
    ("empty", ""),
    ("html", "<html><body>502 Bad Gateway</body></html>"),
    ("truncated_json", '{"status": "done", "video": {"url": "https://cdn'),
    ("null", "null"),
    ("list", "[]"),
    ("list_of_objects", json.dumps([{"status": "done", "request_id": "x"}])),
    ("string", '"ok"'),
    ("number", "42"),
    ("empty_object", "{}"),
    ("data_null", json.dumps({"code": 200, "data": None})),
    ("data_list", json.dumps({"code": 200, "data": []})),
    ("data_string", json.dumps({"code": 200, "data": "task_1"})),
    ("status_null", json.dumps({"status": None})),
    ("status_number", json.dumps({"status": 3, "data": {"state": 3}})),
    ("status_list", json.dumps({"status": ["done"], "data": {"state": ["success"]}})),
    ("status_object", json.dumps({"status": {"value": "done"}, "data": {"state": {"v": 1}}})),
    ("ids_wrong_type", json.dumps({"request_id": 7, "id": ["x"], "data": {"taskId": 1, "task_id": None}})),
    ("unknown_status", json.dumps({"status": "weird_status_word", "data": {"state": "weird_status_word"}})),
]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize any test taking `generic_malformed` over GENERIC_MALFORMED."""
    if "generic_malformed" in metafunc.fixturenames:
        metafunc.parametrize("generic_malformed", [body for _, body in GENERIC_MALFORMED],
                             ids=[name for name, _ in GENERIC_MALFORMED])


@pytest.fixture
def key() -> Secret:
    """The test key, wrapped."""
    return Secret(KEY_TEXT)


@pytest.fixture
def fixture() -> Callable[[str], Any]:
    """`fixture("xai_done")` -> the parsed JSON body of fixtures/xai_done.json."""
    def load(name: str) -> Any:
        return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return load


@pytest.fixture
def reply() -> Callable[..., httpx.Response]:
    """`reply(status, body)` -> an `httpx.Response` with a JSON body (or `text=` raw text)."""
    def make(status: int = 200, body: Any = None, *, text: str | None = None,
             headers: dict[str, str] | None = None) -> httpx.Response:
        if text is not None:
            return httpx.Response(status, text=text, headers=headers)
        return httpx.Response(status, json=body, headers=headers)
    return make


#: The one generic body whose status is a word outside every vocabulary: read as unrecognised.
UNKNOWN_WORD_BODY = dict(GENERIC_MALFORMED)["unknown_status"]


def check_malformed(adapter: Any, reply: Callable[..., httpx.Response], body: str) -> None:
    """Submit replies that are not the documented shape raise `ProviderResponseError`; so do
    poll replies, except a status *word* outside the vocabulary, which is an unrecognised
    status (UNKNOWN, quoting the word), never another exception."""
    with pytest.raises(ProviderResponseError) as info:
        adapter.parse_submit(reply(200, text=body))
    assert info.value.provider == adapter.name
    if body == UNKNOWN_WORD_BODY:
        status = adapter.parse_poll(reply(200, text=body))
        assert status.state is State.UNKNOWN and status.error_code == "unrecognised_reply"
        assert "weird_status_word" in (status.unrecognised or "")
        return
    with pytest.raises(ProviderResponseError) as info:
        adapter.parse_poll(reply(200, text=body))
    assert info.value.provider == adapter.name


def assert_unrecognised(status: Any, state: State, *fragments: str) -> None:
    """An unrecognised reply: the marker, the state, and the message quoting `fragments` and
    answering the money question."""
    assert status.state is state
    assert status.error_code == "unrecognised_reply"
    assert status.unrecognised is not None and status.error_message is not None
    for fragment in fragments:
        assert fragment in status.unrecognised, fragment
    assert status.error_message.startswith(status.unrecognised)
    assert "charged it is unknown" in status.error_message
