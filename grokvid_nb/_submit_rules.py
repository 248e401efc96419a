"""The money-safety rules of a submit, as one pure decision table.

A submit costs money once the provider has created a task, and a task may exist even when
its reply never arrived. So what one failed submit attempt means decides what happens next:

| what happened                                      | decision | why                                  |
| -------------------------------------------------- | -------- | ------------------------------------ |
| could not connect (refused, connect/pool timeout)  | retry    | the request never left: nothing made |
| 429 rate limited                                   | retry    | refused before any work (and wait)   |
| 503 service unavailable                            | retry    | refused before any work              |
| any other transport error (reply lost)             | unknown  | a task may exist and be charged      |
| other 5xx                                          | unknown  | it failed *while* handling the submit|
| a reply that cannot be read                        | unknown  | accepted, but the task id is lost    |
| any other provider error (400, 401, 402, 404, ...) | failed   | refused: nothing was created         |

"unknown" is never resent: the job ends `unknown` with a message saying what to check.
Pure: no I/O, no time, no state; `_job.py` acts on the decision (`tests/engine/test_submit_rules.py`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import httpx

from ._exceptions import ProviderError, ProviderResponseError, ProviderServerError, RateLimitedError

__all__ = ["NOT_SENT", "SubmitAction", "SubmitDecision", "after_failed_submit"]

#: Errors raised before the request could have reached the server.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


class SubmitAction(enum.Enum):
    """What the engine does after a submit attempt that did not return a task id."""

    RETRY = "retry"  # nothing was created: try again after a backoff
    UNKNOWN = "unknown"  # a task may exist and be charged: never resend, end the job `unknown`
    FAILED = "failed"  # the provider refused: nothing was created, end the job `failed`


@dataclass(frozen=True)
class SubmitDecision:
    """A decision and what goes with it: for RETRY the reason logged, the server's wait hint
    and how long to hold the provider's rate limit; otherwise the job's error code and message."""

    action: SubmitAction
    message: str
    code: str | None = None
    retry_after: float | None = None
    penalty_s: float | None = None


def after_failed_submit(provider: str, exc: httpx.TransportError | ProviderError) -> SubmitDecision:
    """The decision for one submit attempt that raised `exc` (sending it or reading its reply)."""
    if isinstance(exc, NOT_SENT):
        return SubmitDecision(SubmitAction.RETRY, f"could not connect ({type(exc).__name__})")
    if isinstance(exc, httpx.TransportError):
        return SubmitDecision(SubmitAction.UNKNOWN, code="submit_reply_lost", message=(
            f"the submit reached {provider} but its reply was lost ({type(exc).__name__}); "
            "a task may have been created and charged. It was NOT resent. Check the "
            f"provider's dashboard or task list before retrying with reuse=False."))
    if isinstance(exc, RateLimitedError):
        return SubmitDecision(SubmitAction.RETRY, str(exc), retry_after=exc.retry_after,
                              penalty_s=exc.retry_after or 0.0)
    if isinstance(exc, ProviderServerError):
        if exc.status_code == 503:
            return SubmitDecision(SubmitAction.RETRY, str(exc))
        return SubmitDecision(SubmitAction.UNKNOWN, code=f"http_{exc.status_code}", message=(
            f"{exc}. The provider failed while handling the submit, so a task may "
            "exist and be charged; it was NOT resent. Check the provider's dashboard "
            "before retrying with reuse=False."))
    if isinstance(exc, ProviderResponseError):
        return SubmitDecision(SubmitAction.UNKNOWN, code="unreadable_submit_reply", message=(
            f"{exc}. The provider accepted the submit but its reply could not be read; "
            "a task may have been created and charged. It was NOT resent."))
    return SubmitDecision(SubmitAction.FAILED, str(exc), code=exc.code or f"http_{exc.status_code}")
