"""API keys that cannot leak by accident.

A `Secret` prints as `Secret('[REDACTED]')`: it shows no character of the key. Code
that must send the key calls `reveal()` at the last moment, inside an adapter's request builder.

Every `Secret` is also registered for this process, so `redact(text)` removes every key in use
(the key itself, URL-encoded, JSON-escaped, after `Bearer`) even where no key was passed, and
`RedactingFilter` on the `grokvid_nb` logger removes them from every log record.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from typing import NoReturn
from urllib.parse import quote, quote_plus

__all__ = ["Secret", "redact", "contains_secret", "registered_secrets", "RedactingFilter",
           "install_log_redaction"]

_REDACTED = "[REDACTED]"


class Secret:
    """An API key wrapper whose repr/str never contain the key."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str) or not value.strip():
            raise ValueError("an API key must be a non-empty string")
        self._value = value.strip()
        _register(self._value)

    def reveal(self) -> str:
        """Return the key itself; only request builders should call this."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('[REDACTED]')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __reduce__(self) -> NoReturn:
        raise TypeError("Secret objects are not picklable: keys must not be written anywhere")


_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._\-~+/=]{6,}")
# a key echoed after the name of the header or field that carried it, e.g. Pixazo's
# `Ocp-Apim-Subscription-Key: <key>` or `"api_key": "<key>"`
_NAMED_KEY = re.compile(
    r"(?i)((?:ocp-apim-subscription-key|subscription[_-]?key|x-api-key|api[_-]?key|access[_-]?token)"
    r"[\"']?\s*[:=]\s*[\"']?)[A-Za-z0-9._\-~+/=]{6,}")


#: keys shorter than this are not redacted by the registry (they would blank ordinary words);
#: an explicit `redact(text, secret)` still removes them
_MIN_REGISTERED = 8
_registry: set[str] = set()
_registry_lock = threading.Lock()


def _register(value: str) -> None:
    if len(value) >= _MIN_REGISTERED:
        with _registry_lock:
            _registry.add(value)


def registered_secrets() -> int:
    """How many keys this process redacts everywhere (the keys themselves are not returned)."""
    with _registry_lock:
        return len(_registry)


def _variants(value: str) -> set[str]:
    """The forms a key takes when echoed: as is, URL-encoded (path or query style), JSON-escaped
    (also with an escaped '/', as PHP and some Java encoders write it)."""
    escaped = json.dumps(value)[1:-1]
    return {value, quote(value, safe=""), quote(value), quote_plus(value, safe=""), escaped,
            escaped.replace("/", "\\/")}


def _forms(secrets: tuple[Secret | str | None, ...]) -> list[str]:
    values = {s.reveal() if isinstance(s, Secret) else s for s in secrets if s}
    with _registry_lock:
        values |= _registry
    forms = set().union(*(_variants(v) for v in values)) if values else set()
    return sorted(forms, key=len, reverse=True)  # a key containing another goes first


def redact(text: str, *secrets: Secret | str | None) -> str:
    """Remove the given keys, every key registered in this process (each as is, URL-encoded or
    JSON-escaped), and anything shaped like a bearer token or a named key, from `text`."""
    for form in _forms(secrets):
        text = text.replace(form, _REDACTED)
    text = _BEARER.sub(lambda m: m.group(1) + _REDACTED, text)
    return _NAMED_KEY.sub(lambda m: m.group(1) + _REDACTED, text)


def contains_secret(text: str, *secrets: Secret | str | None) -> bool:
    """True when `text` holds a given or registered key in any of the forms `redact` removes;
    for values that cannot be redacted without breaking them (a task id used in a URL)."""
    return any(form in text for form in _forms(secrets))


class RedactingFilter(logging.Filter):
    """A `logging.Filter` that rewrites each record with every registered key redacted: the
    message with its arguments, the exception text and the stack text. It never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: keep the raw parts, redacted
            message = f"{record.msg!r} % {record.args!r}"
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def install_log_redaction(logger: logging.Logger | str = "grokvid_nb") -> RedactingFilter:
    """Attach one `RedactingFilter` to `logger` (idempotent) and return it. Records the library
    logs through that logger are redacted before any handler, here or on the root, sees them."""
    target = logging.getLogger(logger) if isinstance(logger, str) else logger
    for existing in target.filters:
        if isinstance(existing, RedactingFilter):
            return existing
    new = RedactingFilter()
    target.addFilter(new)
    return new


# the library logs through this one logger: every record it emits is redacted
install_log_redaction()
