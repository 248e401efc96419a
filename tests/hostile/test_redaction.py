"""Registered keys are removed from any text (as is, URL-encoded, JSON-escaped, after Bearer)
and from every record of the library's logger, message, arguments and traceback included."""

from __future__ import annotations

import json
import logging
from urllib.parse import quote

import pytest

from grokvid_nb._secrets import (
    RedactingFilter,
    Secret,
    contains_secret,
    install_log_redaction,
    redact,
    registered_secrets,
)

KEY = "sk-live/REDACTME+0123456789=="  # '/', '+' and '=' change under URL and JSON encoding


@pytest.fixture(scope="module")
def secret() -> Secret:
    return Secret(KEY)


@pytest.mark.parametrize("text,expected", [
    (f"bad key {KEY}", "bad key [REDACTED]"),
    (f"Authorization: Bearer {KEY}", "Authorization: Bearer [REDACTED]"),
    (f"GET /v1?key={quote(KEY, safe='')}", "GET /v1?key=[REDACTED]"),
    (f"/v1/{quote(KEY)}/status", "/v1/[REDACTED]/status"),
    (json.dumps({"msg": f"{KEY} is wrong"}), '{"msg": "[REDACTED] is wrong"}'),
    (f"{KEY}{KEY}", "[REDACTED][REDACTED]"),
    ("nothing to hide", "nothing to hide"),
])
def test_redact_registered_key_in_every_form(secret: Secret, text: str, expected: str) -> None:
    assert redact(text) == expected  # no key passed: the registry knows it
    assert redact(text, secret) == expected


def test_json_escaped_slash_form(secret: Secret) -> None:
    escaped = KEY.replace("/", "\\/")  # how some JSON encoders write '/'
    assert redact(f'{{"error": "{escaped}"}}') == '{"error": "[REDACTED]"}'


def test_short_keys_only_when_passed() -> None:
    short = Secret("abc123")  # too short to blank everywhere
    assert redact("abc123 here") == "abc123 here"
    assert redact("abc123 here", short) == "[REDACTED] here"
    assert redact("xyz here", "xyz") == "[REDACTED] here"


def test_contains_secret(secret: Secret) -> None:
    assert contains_secret(f"task-{quote(KEY, safe='')}")
    assert contains_secret(f"task-{KEY}-1")
    assert not contains_secret("task-123")
    assert registered_secrets() >= 1


def test_filter_redacts_every_part_of_a_record(secret: Secret, caplog: pytest.LogCaptureFixture) -> None:
    log = logging.getLogger("grokvid_nb")
    assert sum(isinstance(f, RedactingFilter) for f in log.filters) == 1
    assert install_log_redaction() is install_log_redaction()  # idempotent
    with caplog.at_level(logging.DEBUG, logger="grokvid_nb"):
        log.info("provider said %s (%r)", f"bad key {KEY}", {"k": quote(KEY, safe="")})
        try:
            raise RuntimeError(f"echo {KEY}")
        except RuntimeError:
            log.exception("failed with %s", KEY)
        log.warning("stack", stack_info=True, extra={"unrelated": 1})
        log.info("broken %s %s", KEY)  # a bad format string must still not leak
    text = caplog.text + "".join(r.getMessage() for r in caplog.records)
    assert "REDACTME" not in text
    assert "provider said bad key [REDACTED] ({'k': '[REDACTED]'})" in text
    assert "RuntimeError: echo [REDACTED]" in text
    assert len(caplog.records) == 4


def test_filter_never_drops_records() -> None:
    record = logging.LogRecord("grokvid_nb", logging.INFO, __file__, 1, "plain %d", (3,), None)
    assert RedactingFilter().filter(record) is True
    assert record.getMessage() == "plain 3"
