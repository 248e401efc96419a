"""API keys that cannot leak by accident.

A `Secret` prints as `Secret('[REDACTED]')`: it shows no character of the key. Code
that must send the key calls `reveal()` at the last moment, inside an adapter's request builder.
"""

from __future__ import annotations

import re
from typing import NoReturn

__all__ = ["Secret", "redact"]

_REDACTED = "[REDACTED]"


class Secret:
    """An API key wrapper whose repr/str never contain the key."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str) or not value.strip():
            raise ValueError("an API key must be a non-empty string")
        self._value = value.strip()

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


def redact(text: str, *secrets: Secret | None) -> str:
    """Remove every given key, and anything shaped like a bearer token or a named key, from `text`."""
    for secret in secrets:
        if secret is not None:
            text = text.replace(secret.reveal(), _REDACTED)
    text = _BEARER.sub(lambda m: m.group(1) + _REDACTED, text)
    return _NAMED_KEY.sub(lambda m: m.group(1) + _REDACTED, text)
