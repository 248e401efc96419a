"""Hostile or broken replies against every adapter's sans-IO parser (no sockets): JSON nested
10,000 deep, redirects, odd progress figures, odd Retry-After values, unsafe video URLs, status
words in odd case, duplicate keys, and task ids that try to leave the status path.

The engine's side of the same replies (what the job does with them) is in
tests/hostile/test_provider_replies.py."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
import pytest

from grokvid_nb import _exceptions as E
from grokvid_nb._types import State
from grokvid_nb.adapters import PROVIDER_NAMES, get_adapter
from tests.hostile.protocols import PROTOCOLS

from .conftest import KEY_TEXT

ADAPTERS = pytest.mark.parametrize("name", PROVIDER_NAMES)
#: the providers whose status replies carry a progress figure (APIXO and Pixazo report none)
PROGRESS_PROVIDERS = ("xai", "xingchao", "apiinone")
BASE = "https://provider.example/prefix"


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, content=json.dumps(body).encode(), headers={
        "content-type": "application/json", **(headers or {})})


def _text(text: str, status: int = 200, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, content=text.encode(), headers=headers)


# ---- JSON nested 10,000 deep ----------------------------------------------------------------
DEEP = {"array": "[" * 10_000 + "]" * 10_000,
        "object": '{"a": ' * 10_000 + "1" + "}" * 10_000,
        "in a field": '{"status": ' + "[" * 10_000 + "]" * 10_000 + "}"}


@ADAPTERS
@pytest.mark.parametrize("shape", list(DEEP))
def test_json_nested_10000_deep_is_an_unreadable_reply_not_a_crash(name: str, shape: str) -> None:
    """Python's JSON decoder raises RecursionError (not a ValueError) past ~1,000 levels: the
    parser must turn that into the provider's `ProviderResponseError`, quoting the reply."""
    adapter = get_adapter(name)
    for parse in (adapter.parse_submit, adapter.parse_poll):
        with pytest.raises(E.ProviderResponseError) as info:
            parse(_text(DEEP[shape]))
        assert info.value.provider == name and info.value.status_code == 200
        assert "JSON" in str(info.value)
        assert len(str(info.value)) < 600  # the quote is cut, not 20,000 characters


@ADAPTERS
def test_json_nested_10000_deep_in_an_error_reply_keeps_the_http_status(name: str) -> None:
    adapter = get_adapter(name)
    with pytest.raises(E.ProviderServerError) as info:
        adapter.parse_poll(_text(DEEP["array"], status=500))
    assert info.value.status_code == 500


# ---- redirects --------------------------------------------------------------------------------
@ADAPTERS
@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_an_unreadable_reply_that_names_where_it_pointed(name: str, status: int, key: Any) -> None:
    """The engine never follows a redirect with the key; the error says what came back (the
    status and the Location) instead of 'expected JSON, got: <empty body>'."""
    adapter = get_adapter(name)
    location = f"https://elsewhere.example/steal?key={KEY_TEXT}"
    for parse in (adapter.parse_submit, adapter.parse_poll):
        with pytest.raises(E.ProviderResponseError) as info:
            parse(_text("", status=status, headers={"Location": location}))
        message = str(info.value)
        assert info.value.status_code == status and f"HTTP {status}" in message
        assert "redirect" in message and "https://elsewhere.example/steal" in message
        assert "not followed" in message
        assert KEY_TEXT not in message


@ADAPTERS
def test_a_redirect_without_location_still_says_redirect(name: str) -> None:
    with pytest.raises(E.ProviderResponseError, match="redirect .*no Location"):
        get_adapter(name).parse_poll(_text("", status=302))


# ---- progress figures ------------------------------------------------------------------------
@pytest.mark.parametrize("name", PROGRESS_PROVIDERS)
@pytest.mark.parametrize("raw, expected", [
    ("NaN", None), ('"NaN"', None), ("-5", None), ("250", None), ('"50%"', None), ("true", None),
    ("Infinity", None), ("-Infinity", None), ("1e400", None), ("100.5", None), ("null", None),
    ("0", 0.0), ("50", 50.0), ("99.5", 99.5), ("100", 100.0),
])
def test_progress_is_a_percentage_or_nothing(name: str, raw: str, expected: float | None) -> None:
    """A progress figure outside 0-100 (or not a number) is not believed: `progress` is None
    ("not reported"), never -5 % or 250 % in job.progress, the ledger or the views."""
    proto = PROTOCOLS[name]
    text = json.dumps(proto.running(progress="__P__")).replace('"__P__"', raw)
    status = get_adapter(name).parse_poll(_text(text))
    assert status.state is State.RUNNING
    assert status.progress == expected and (expected is None or isinstance(status.progress, float))


@pytest.mark.parametrize("name", ["xai"])
def test_an_out_of_range_progress_on_a_finished_reply_is_dropped_too(name: str) -> None:
    body = PROTOCOLS[name].done("https://cdn.example/v.mp4")
    body["progress"] = 250
    status = get_adapter(name).parse_poll(_json(body))
    assert status.state is State.SUCCEEDED and status.progress is None


# ---- Retry-After ------------------------------------------------------------------------------
def _in(seconds: float) -> str:
    return format_datetime(datetime.now(UTC) + timedelta(seconds=seconds), usegmt=True)


@ADAPTERS
@pytest.mark.parametrize("header, low, high", [
    ("-1", 0.0, 0.0), ("1e9", 1e9, 1e9), ("  12 ", 12.0, 12.0), ("1.5", 1.5, 1.5),
    ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0, 0.0), ("__in_60_s__", 50.0, 61.0),
    ("garbage", None, None), ("inf", None, None), ("nan", None, None), ("-inf", None, None),
    ("12, 13", None, None), ("Wed, 99 Foo 2015", None, None),
])
def test_retry_after_in_every_form(name: str, header: str, low: float | None, high: float | None) -> None:
    """Seconds (negative -> 0), an HTTP date (past -> 0), anything else -> no hint. A huge
    value is kept as the provider said it: the job's deadline bounds the wait (the engine test)."""
    value = _in(60) if header == "__in_60_s__" else header
    adapter = get_adapter(name)
    for parse in (adapter.parse_submit, adapter.parse_poll):
        with pytest.raises(E.RateLimitedError) as info:
            parse(_json({"error": "slow down"}, status=429, headers={"Retry-After": value}))
        if low is None:
            assert info.value.retry_after is None
        else:
            assert info.value.retry_after is not None and low <= info.value.retry_after <= high


# ---- video URLs ----------------------------------------------------------------------------
@ADAPTERS
@pytest.mark.parametrize("url", ["javascript:alert(1)", " JavaScript:alert(1)",
                                 "data:video/mp4;base64,AAAAGGZ0eXBpc29t", "file:///etc/passwd",
                                 "ftp://cdn.example/v.mp4", "//cdn.example/v.mp4", "/v.mp4"])
def test_a_finished_reply_whose_url_is_not_http_is_not_a_success(name: str, url: str) -> None:
    status = get_adapter(name).parse_poll(_json(PROTOCOLS[name].done(url)))
    assert status.state is State.UNKNOWN and status.video_urls == ()
    assert status.unrecognised is not None and status.error_code == "unrecognised_reply"


# ---- status words ---------------------------------------------------------------------------
DONE_WORDS = {"xai": "done", "apixo": "success", "pixazo": "COMPLETED", "xingchao": "completed",
              "apiinone": "completed"}


@ADAPTERS
@pytest.mark.parametrize("spell", [str.upper, str.lower, str.title, lambda w: f" \t{w.swapcase()}\n"],
                         ids=["upper", "lower", "title", "padded-swapcase"])
def test_status_words_in_any_case_or_padding_are_read(name: str, spell: Any) -> None:
    word = spell(DONE_WORDS[name])
    status = get_adapter(name).parse_poll(_json(PROTOCOLS[name].done("https://cdn.example/v.mp4", word=word)))
    assert status.state is State.SUCCEEDED and status.unrecognised is None


# ---- duplicate keys --------------------------------------------------------------------------
@ADAPTERS
def test_duplicate_keys_the_last_one_wins(name: str) -> None:
    """RFC 8259 leaves duplicate names undefined; Python's json and every browser's JSON.parse
    keep the last, so the provider's own web clients read what we read. Pinned here so a change
    of policy is deliberate."""
    proto = PROTOCOLS[name]
    done = json.dumps(proto.done("https://cdn.example/v.mp4"))
    failed = json.dumps(proto.running(word="failed" if name not in ("pixazo",) else "FAILED"))
    # the failed body's fields first, then the done body's fields: the done ones come last
    text = failed[:-1] + ", " + done[1:]
    assert get_adapter(name).parse_poll(_text(text)).state is State.SUCCEEDED
    text = done[:-1] + ", " + failed[1:]
    assert get_adapter(name).parse_poll(_text(text)).state is State.FAILED


# ---- task ids in the status request ---------------------------------------------------------
HOSTILE_IDS = ["..", ".", "../../v1/videos/generations", "a/../../b", "%2e%2e", "x\x00y",
               "é ?#&=;", "\r\nHost: evil.example", "x" * 10_000]


@ADAPTERS
@pytest.mark.parametrize("task_id", HOSTILE_IDS, ids=lambda t: repr(t)[:24])
def test_a_task_id_is_one_segment_of_the_status_path(name: str, task_id: str, key: Any) -> None:
    """Whatever the id, the poll goes to the provider's own origin, on its status path, with
    the id as exactly one path segment (or as the `taskId` value): '..' must not climb out."""
    proto = PROTOCOLS[name]
    request = get_adapter(name).build_poll(task_id, BASE, key)
    url = request.url
    assert (url.scheme, url.host) == ("https", "provider.example")
    raw_path = url.raw_path.decode("ascii")
    path, _, query = raw_path.partition("?")
    if proto.id_in_query:
        assert path == "/prefix" + proto.poll_prefix
        assert parse_qs(query, keep_blank_values=True) == {"taskId": [task_id]}
    else:
        assert path.startswith("/prefix" + proto.poll_prefix)
        segment = path[len("/prefix" + proto.poll_prefix):]
        assert "/" not in segment and segment not in (".", "..")
        assert unquote(segment) == task_id
    assert "\n" not in raw_path and "\x00" not in raw_path and " " not in raw_path
    assert urlsplit(str(url)).hostname == "provider.example"
