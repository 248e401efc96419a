"""The submit's money-safety rules, as a table: what each failed attempt means."""

from __future__ import annotations

import httpx
import pytest

from grokvid_nb import _exceptions as E
from grokvid_nb._submit_rules import SubmitAction, after_failed_submit

RETRY, UNKNOWN, FAILED = SubmitAction.RETRY, SubmitAction.UNKNOWN, SubmitAction.FAILED

TABLE = [
    # (what happened, decision, job error code)
    (httpx.ConnectError("refused"), RETRY, None),
    (httpx.ConnectTimeout("slow connect"), RETRY, None),
    (httpx.PoolTimeout("no connection free"), RETRY, None),
    (httpx.UnsupportedProtocol("ftp"), RETRY, None),
    (E.RateLimitedError("xai", "slow down", status_code=429, retry_after=2.0), RETRY, None),
    (E.ProviderServerError("xai", "unavailable", status_code=503), RETRY, None),
    (httpx.ReadTimeout("no reply"), UNKNOWN, "submit_reply_lost"),
    (httpx.ReadError("reset"), UNKNOWN, "submit_reply_lost"),
    (httpx.RemoteProtocolError("closed mid-reply"), UNKNOWN, "submit_reply_lost"),
    (httpx.WriteError("broken pipe"), UNKNOWN, "submit_reply_lost"),
    (E.ProviderServerError("xai", "boom", status_code=500), UNKNOWN, "http_500"),
    (E.ProviderServerError("xai", "bad gateway", status_code=502), UNKNOWN, "http_502"),
    (E.ProviderResponseError("xai", "no request_id", status_code=200), UNKNOWN, "unreadable_submit_reply"),
    (E.RequestRejectedError("xai", "bad duration", status_code=400, code="invalid"), FAILED, "invalid"),
    (E.RequestRejectedError("xai", "bad duration", status_code=422), FAILED, "http_422"),
    (E.AuthenticationError("xai", "bad key", status_code=401), FAILED, "http_401"),
    (E.InsufficientBalanceError("xai", "no credit", status_code=402), FAILED, "http_402"),
    (E.TaskNotFoundError("xai", "no route", status_code=404), FAILED, "http_404"),
]


@pytest.mark.parametrize(("exc", "action", "code"), TABLE, ids=[f"{type(e).__name__}-{a.value}" for e, a, _ in TABLE])
def test_decision_table(exc: Exception, action: SubmitAction, code: str | None) -> None:
    decision = after_failed_submit("xai", exc)  # type: ignore[arg-type]
    assert decision.action is action
    assert decision.code == code
    if action is UNKNOWN:
        assert "NOT resent" in decision.message
    if action is FAILED:
        assert decision.message == str(exc)


def test_a_rate_limit_waits_and_holds_the_limit_for_the_servers_hint() -> None:
    decision = after_failed_submit("xai", E.RateLimitedError("xai", "slow", status_code=429, retry_after=2.5))
    assert (decision.retry_after, decision.penalty_s) == (2.5, 2.5)
    bare = after_failed_submit("xai", E.RateLimitedError("xai", "slow", status_code=429))
    assert (bare.retry_after, bare.penalty_s) == (None, 0.0)


def test_a_lost_reply_names_the_provider_and_the_error() -> None:
    decision = after_failed_submit("apixo", httpx.ReadTimeout("t"))
    assert decision.message.startswith("the submit reached apixo but its reply was lost (ReadTimeout)")
    assert "charged" in decision.message


def test_connect_failures_are_retried_with_their_kind_as_reason() -> None:
    assert after_failed_submit("xai", httpx.ConnectError("x")).message == "could not connect (ConnectError)"
