"""Small field validators shared by the emulations; each raises :class:`Invalid` (400)."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any

from ._core import Invalid

__all__ = ["choice", "integer", "is_int", "is_public_url", "string", "string_list"]

_MISSING = object()


def is_int(value: object) -> bool:
    """True for real integers (``True``/``False`` are not durations)."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_public_url(value: str) -> bool:
    """True for an ``http(s)://`` URL (not base64 or a ``data:`` URI)."""
    return re.match(r"^https?://[^\s/]+", value, re.I) is not None


def string(
    body: Mapping[str, Any],
    key: str,
    *,
    label: str | None = None,
    required: bool = True,
    max_len: int | None = None,
    default: str | None = None,
) -> str | None:
    """A non-blank string field (``None``/absent gives ``default`` unless required)."""
    label = label or key
    value = body.get(key)
    if value is None:
        if required:
            raise Invalid(f"{label} is required")
        return default
    if not isinstance(value, str):
        raise Invalid(f"{label} must be a string")
    if not value.strip():
        raise Invalid(f"{label} must not be empty")
    if max_len is not None and len(value) > max_len:
        raise Invalid(f"{label} must be at most {max_len} characters (got {len(value)})")
    return value


def integer(
    body: Mapping[str, Any],
    key: str,
    *,
    label: str | None = None,
    default: int | None = None,
    low: int | None = None,
    high: int | None = None,
    allowed: Collection[int] | None = None,
    int_strings: bool = False,
    required: bool = False,
) -> int | None:
    """An integer field within ``[low, high]`` or ``allowed``; strings only if ``int_strings``."""
    label = label or key
    value = body.get(key, _MISSING)
    if value is _MISSING or value is None:
        if required:
            raise Invalid(f"{label} is required")
        return default
    if int_strings and isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d+\s*", value):
        value = int(value)
    if not is_int(value):
        kind = "an integer or an integer string" if int_strings else "an integer"
        raise Invalid(f"{label} must be {kind}")
    if allowed is not None and value not in allowed:
        options = ", ".join(str(v) for v in sorted(allowed))
        raise Invalid(f"{label} must be one of {options} (got {value})")
    if (low is not None and value < low) or (high is not None and value > high):
        raise Invalid(f"{label} must be from {low} through {high} (got {value})")
    return int(value)


def choice(
    body: Mapping[str, Any],
    key: str,
    options: Collection[str],
    *,
    label: str | None = None,
    default: str | None = None,
    required: bool = False,
    normalize: bool = False,
) -> str | None:
    """A string field from ``options``; ``normalize`` trims and lower-cases it first."""
    label = label or key
    value = body.get(key)
    if value is None:
        if required:
            raise Invalid(f"{label} is required")
        return default
    if not isinstance(value, str):
        raise Invalid(f"{label} must be a string")
    if normalize:
        value = value.strip().lower()
    if value not in options:
        raise Invalid(f"{label} must be one of {', '.join(options)} (got {value!r})")
    return value


def string_list(
    body: Mapping[str, Any],
    key: str,
    *,
    label: str | None = None,
    min_items: int = 0,
    max_items: int | None = None,
    public_urls: bool = False,
) -> list[str] | None:
    """A list of non-empty strings (``None`` when absent); optionally http(s) URLs only."""
    label = label or key
    value = body.get(key)
    if value is None:
        if min_items:
            raise Invalid(f"{label} is required")
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
        raise Invalid(f"{label} must be an array of non-empty strings")
    if len(value) < min_items:
        raise Invalid(f"{label} must contain at least {min_items} item(s)")
    if max_items is not None and len(value) > max_items:
        raise Invalid(f"{label} cannot contain more than {max_items} item(s) (got {len(value)})")
    if public_urls and not all(is_public_url(item) for item in value):
        raise Invalid(f"{label} must be publicly accessible http(s) URLs (base64 is not supported)")
    return value
