"""Reading provider replies: JSON decoding, the HTTP-error -> exception mapping, and the small
field readers every adapter uses (numbers, timestamps, URL lists). Pure functions of a reply."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote as url_quote
from urllib.parse import urlsplit

import httpx

from .._exceptions import (
    AuthenticationError,
    InsufficientBalanceError,
    ProviderError,
    ProviderResponseError,
    ProviderServerError,
    RateLimitedError,
    RequestRejectedError,
    TaskNotFoundError,
)
from .._secrets import redact
from .._types import State, TaskStatus

__all__ = [
    "quote", "clip_text", "MAX_TEXT_CHARS", "error_details", "decode_json", "http_error", "unexpected", "redirect_error",
    "retry_after", "path_segment", "parse_time", "number", "percent", "text", "mapping",
    "field_list", "url_scheme",
    "UNRECOGNISED_LIMIT", "is_moderation", "word_meaning", "unrecognised_status", "ends_job", "billing_sentence",
]

#: Unrecognised replies in a row after which a job ends (`ends_job`).
UNRECOGNISED_LIMIT = 3

#: Fragments of status words whose meaning is clear even outside a provider's vocabulary.
_FAILURE_WORDS = ("fail", "error", "cancel", "reject", "abort", "refus", "denied", "blocked",
                  "violat", "moderated", "expired", "timeout", "timed_out")


def url_scheme(url: str) -> str:
    """The lower-cased scheme of `url` ("" when it has none)."""
    return urlsplit(url).scheme.lower()


def quote(response: httpx.Response, limit: int = 300) -> str:
    """The reply body as short, key-free text, for error messages."""
    try:
        body = response.text
    except Exception:  # undecodable bytes
        body = repr(response.content[:limit])
    # redact before cutting, so a key cut in half cannot slip past the patterns
    body = redact(" ".join(body.split()))
    if len(body) > limit:
        body = body[:limit] + "..."
    return body or "<empty body>"


#: longest provider text (an error message, a code, a status word) kept from a reply; the
#: reply itself may be up to the size cap, and this text reaches the ledger, tables and HTML
MAX_TEXT_CHARS = 2000


def clip_text(value: str, limit: int = MAX_TEXT_CHARS) -> str:
    """`value` cut to about `limit` characters, at a space and with a note of what was left out.

    Cut only between words: a word cut in half could be the start of an API key the provider
    echoed, which the engine's redaction (by the whole key) would then miss. Text with no space
    in its first `limit` characters is not shown at all (nor is the rest: it starts mid-word)."""
    if len(value) <= limit:
        return value
    cut = max(value.rfind(space, 0, limit + 1) for space in " \n\t\r")
    if cut <= 0:
        return f"<{len(value)} characters without a space, not shown>"
    return f"{value[:cut]} ... ({len(value) - cut} more characters)"


def _as_text(value: Any) -> str | None:
    return None if value is None else clip_text(str(value))


def error_details(body: Any) -> tuple[str | None, str | None]:
    """(code, message) from the common error body shapes."""
    if isinstance(body, Mapping):
        err = body.get("error")
        if isinstance(err, Mapping):
            return _as_text(err.get("code") or err.get("type")), _as_text(err.get("message"))
        if isinstance(err, str):
            # {"error": "Insufficient Balance", "message": "..."}: the label is the code
            message = _as_text(body.get("message"))
            return (err, message) if message else (None, err)
        return _as_text(body.get("code")), _as_text(body.get("message") or body.get("msg"))
    return None, None


def decode_json(response: httpx.Response) -> Any:
    """The reply's JSON body, or None when it is not JSON (nested too deep included: Python's
    decoder raises RecursionError, not ValueError, past about a thousand levels)."""
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError, RecursionError):
        return None


def http_error(provider: str, env_var: str, response: httpx.Response,
               details: tuple[str | None, str | None], status: int | None = None) -> ProviderError:
    """Map an HTTP error reply to the exception tree, quoting the provider's (code, message).

    `status` overrides the HTTP status for providers that put errors in a 200 envelope.
    """
    status = status or response.status_code
    code, message = details
    message = redact(message) if message else quote(response)
    kw: dict[str, Any] = {"status_code": status, "code": redact(code) if code else None}
    if status == 429:
        return RateLimitedError(provider, message, retry_after=retry_after(response), **kw)
    if status in (401, 403):
        return AuthenticationError(
            provider, f"{message} (check {env_var} or the api_key argument)", **kw)
    if status == 402:
        return InsufficientBalanceError(provider, message, **kw)
    if status == 404:
        return TaskNotFoundError(provider, message, **kw)
    if status >= 500:
        return ProviderServerError(provider, message, **kw)
    return RequestRejectedError(provider, message, **kw)


def unexpected(provider: str, response: httpx.Response, what: str) -> ProviderResponseError:
    """A `ProviderResponseError` saying what was missing and quoting the reply."""
    return ProviderResponseError(
        provider, f"{redact(what)}; the reply was: {quote(response)}",
        status_code=response.status_code)


def redirect_error(provider: str, response: httpx.Response) -> ProviderResponseError:
    """A `ProviderResponseError` for a 3xx reply without a JSON body: API requests never follow
    a redirect (the key would go along), so the message names where it pointed."""
    location = response.headers.get("location")
    where = f"to {redact(location)[:200]!r}" if location else "with no Location"
    return ProviderResponseError(
        provider, f"the reply is a redirect {where}; redirects of API requests are not followed "
        "(the request carries the API key). Check base_url", status_code=response.status_code)


def retry_after(response: httpx.Response) -> float | None:
    """Seconds from a Retry-After header in either form (delta-seconds or HTTP-date)."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
        return max(0.0, seconds) if math.isfinite(seconds) else None
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    # the one clock read in the adapters: an HTTP-date means "until then"
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def path_segment(task_id: str) -> str:
    """A provider's task id made safe to put in a URL path: one segment, always (a '/' or '?'
    cannot escape it, and an id of '.' or '..' is encoded so no URL normalization removes it
    or climbs out of the status path)."""
    segment = url_quote(str(task_id), safe="")
    return segment.replace(".", "%2E") if segment in (".", "..") else segment


def parse_time(value: Any) -> datetime | None:
    """Provider timestamps: epoch seconds or ms, ISO 8601, or 'YYYY-MM-DD HH:MM:SS' (UTC)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        seconds = number(value)
        if seconds is None:
            return None
        seconds = seconds / 1000.0 if seconds > 1e11 else seconds
        try:
            return datetime.fromtimestamp(seconds, tz=UTC)
        except (OverflowError, OSError, ValueError):  # out of the platform's range
            return None
    if isinstance(value, str) and value.strip():
        iso = value.strip().replace("Z", "+00:00")
        try:
            when = datetime.fromisoformat(iso)
        except ValueError:
            return None
        return when if when.tzinfo else when.replace(tzinfo=UTC)
    return None


def number(value: Any) -> float | None:
    """A finite number from a reply field; None for text, bools, NaN, infinities and overflow."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        result = float(value)
    except OverflowError:
        return None
    return result if math.isfinite(result) else None


def percent(value: Any) -> float | None:
    """A progress figure: a finite number in [0, 100]; None for anything else (-5, 250, "50%",
    NaN, true: not a percentage we can believe, shown as "progress not reported")."""
    result = number(value)
    return result if result is not None and 0.0 <= result <= 100.0 else None


def text(value: Any) -> str | None:
    """A reply field as text for messages and codes, at most about `MAX_TEXT_CHARS` (`clip_text`);
    None when absent or empty."""
    if value is None or value == "":
        return None
    return clip_text(value if isinstance(value, str) else json.dumps(value, default=str))


def mapping(value: Any) -> dict[str, Any]:
    """`value` if it is a JSON object, else an empty one (for optional nested objects)."""
    return value if isinstance(value, dict) else {}


def field_list(value: Any) -> tuple[str, ...]:
    """A URL or list of URLs as a tuple of http(s) URL strings (anything else is dropped, so
    "status done but no URL" is detected instead of a later download of garbage)."""
    items = [value] if isinstance(value, str) else value if isinstance(value, (list, tuple)) else []
    return tuple(v.strip() for v in items
                 if isinstance(v, str) and url_scheme(v.strip()) in ("http", "https"))


_MODERATION_WORDS = ("moderat", "content_policy", "content policy", "sensitive", "violat", "safety",
                     "nsfw")


def is_moderation(code: Any, message: Any) -> bool:
    """True when a failure's code or message says content moderation blocked it."""
    joined = f"{code or ''} {message or ''}".lower()
    return any(bit in joined for bit in _MODERATION_WORDS)


def word_meaning(word: Any) -> State:
    """What an undocumented status word clearly means: FAILED for failure words ("FAILURE",
    "rejected", "cancelled", ...), else UNKNOWN (not "done": a success needs a URL we can read)."""
    if not isinstance(word, str):
        return State.UNKNOWN
    low = word.strip().lower()
    return State.FAILED if any(bit in low for bit in _FAILURE_WORDS) else State.UNKNOWN


def billing_sentence(title: str, note: str = "") -> str:
    """The money answer for an unrecognised reply: nothing documents what it cost, so it is
    unknown; `note` is what the provider does document about failed tasks."""
    detail = f" ({title} on failed tasks: {note})" if note else ""
    return f"Whether {title} charged it is unknown{detail}."


def unrecognised_status(provider: str, response: httpx.Response, what: str, *, raw_status: Any,
                        money: str, urls: tuple[str, ...] = (), state: State | None = None,
                        cost_usd: float | None = None) -> TaskStatus:
    """A normalized status for a reply outside the provider's vocabulary: FAILED when the
    word clearly means failure, else UNKNOWN; the message says what was wrong, quotes the
    reply (redacted, truncated) and answers the money question."""
    final = state if state is not None else word_meaning(raw_status)
    reason = f"{redact(what)}; the reply was: {quote(response, 300)}"
    return TaskStatus(
        state=final, video_urls=urls, cost_usd=cost_usd,
        error_code="unrecognised_reply",
        error_message=f"{reason}. {money}",
        raw_status=_redacted(text(raw_status)), unrecognised=reason)


def _redacted(value: str | None) -> str | None:
    return None if value is None else redact(value)[:200]


def ends_job(status: TaskStatus, in_a_row: int) -> bool:
    """Whether an unrecognised reply ends the job now: at once when its meaning is clear
    (a failure word), else after `UNRECOGNISED_LIMIT` such replies in a row. Pure."""
    if status.unrecognised is None:
        return False
    return status.state is not State.UNKNOWN or in_a_row >= UNRECOGNISED_LIMIT
