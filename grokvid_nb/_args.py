"""Argument checkers: typed, finite, range-checked values, checked before any request leaves.

Every checker takes the parameter's public name and the value, returns the normalised value,
or raises `ArgumentError` naming the parameter, the value (never a secret) and what is allowed.
They are pure: no I/O, no globals, so a batch can check all its arguments up front.
"""

from __future__ import annotations

import math
import operator
import os
from pathlib import Path
from urllib.parse import urlsplit

from ._exceptions import ArgumentError

__all__ = [
    "finite_number",
    "finite_positive",
    "optional_timeout",
    "optional_deadline",
    "budget",
    "count",
    "api_key",
    "base_url",
    "prompt",
    "output_path",
]

#: Longest deadline or timeout accepted (a week): longer is almost surely a unit mistake.
MAX_SECONDS = 7 * 24 * 3600.0
#: API keys are sent in a header; anything longer than this is not a key.
MAX_KEY_LENGTH = 4096


def _real(name: str, value: object, allowed: str) -> float:
    """A real number as float; bool, str, None and other types are refused."""
    # numpy scalars, Decimal and Fraction are numbers too; text and truth values are not
    if isinstance(value, (bool, str, bytes)) or not hasattr(value, "__float__"):
        raise ArgumentError(name, value, allowed)
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):
        raise ArgumentError(name, value, allowed) from None


def finite_number(name: str, value: object, *, low: float = -math.inf, high: float = math.inf,
                  low_inclusive: bool = True, high_inclusive: bool = True) -> float:
    """A finite real number within [low, high] (ends exclusive when asked); returned as float."""
    bounds = []
    if low > -math.inf:
        bounds.append(f"{'>=' if low_inclusive else '>'} {low:g}")
    if high < math.inf:
        bounds.append(f"{'<=' if high_inclusive else '<'} {high:g}")
    allowed = "a finite number" + (" " + " and ".join(bounds) if bounds else "")
    number = _real(name, value, allowed)
    if not math.isfinite(number):
        raise ArgumentError(name, value, allowed)
    if number < low or (number == low and not low_inclusive):
        raise ArgumentError(name, value, allowed)
    if number > high or (number == high and not high_inclusive):
        raise ArgumentError(name, value, allowed)
    return number


def finite_positive(name: str, value: object, *, low: float = 0.0, high: float = math.inf) -> float:
    """A finite number with low < value <= high (so positive by default)."""
    return finite_number(name, value, low=low, high=high, low_inclusive=False)


def optional_timeout(name: str, value: object, *, inf_means_none: bool = False,
                     allow_zero: bool = False, high: float = MAX_SECONDS) -> float | None:
    """None (no timeout) or a number of seconds: finite, > 0 (or >= 0 with `allow_zero`), <= high.

    `inf_means_none` is for arguments whose contract says infinity means "no timeout".
    """
    if value is None:
        return None
    low_text = ">= 0" if allow_zero else "> 0"
    allowed = (f"None or a number of seconds {low_text} and <= {high:g}"
               + (" (inf means no timeout)" if inf_means_none else ""))
    number = _real(name, value, allowed)
    if math.isinf(number) and number > 0 and inf_means_none:
        return None
    if not math.isfinite(number) or number < 0 or (number == 0 and not allow_zero) or number > high:
        raise ArgumentError(name, value, allowed)
    return number


def optional_deadline(name: str, value: object, *, high: float = MAX_SECONDS) -> float | None:
    """None (use the default) or a job deadline in seconds: finite, > 0, <= high."""
    if value is None:
        return None
    allowed = f"None (the default) or a number of seconds > 0 and <= {high:g}"
    number = _real(name, value, allowed)
    if not math.isfinite(number) or number <= 0 or number > high:
        raise ArgumentError(name, value, allowed)
    return number


def budget(name: str, value: object) -> float | None:
    """None (no cap) or a USD amount: finite and >= 0. NaN would turn every comparison off."""
    if value is None:
        return None
    allowed = "None (no cap) or a finite number of USD >= 0"
    number = _real(name, value, allowed)
    if not math.isfinite(number) or number < 0:
        raise ArgumentError(name, value, allowed)
    return number


def count(name: str, value: object, *, low: int = 1, high: int) -> int:
    """An integer in [low, high]; bool and float are refused (even 2.0)."""
    allowed = f"an integer from {low} to {high}"
    if isinstance(value, bool):
        raise ArgumentError(name, value, allowed)
    try:
        number = operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise ArgumentError(name, value, allowed) from None
    if not low <= number <= high:
        raise ArgumentError(name, value, allowed)
    return number


def api_key(name: str, value: object) -> str:
    """An API key: text, surrounding whitespace stripped, then non-empty printable ASCII with no
    space inside. The error never contains the key, not even a fragment."""
    allowed = f"printable ASCII without spaces or line breaks, 1 to {MAX_KEY_LENGTH} characters"
    if not isinstance(value, str):
        raise ArgumentError(name, f"<{type(value).__name__}>", "a str: " + allowed)
    key = value.strip()
    if not key:
        raise ArgumentError(name, value, "a non-empty key: " + allowed)
    if len(key) > MAX_KEY_LENGTH:
        raise ArgumentError(name, None, f"{allowed} (this one has {len(key)})", secret=True)
    for position, char in enumerate(key):
        if not "!" <= char <= "~":
            what = ("a line break" if char in "\r\n" else "whitespace" if char.isspace()
                    else "a control character" if ord(char) < 32 or ord(char) == 127
                    else "a non-ASCII character")
            raise ArgumentError(name, None, f"{allowed}; it has {what} at position {position}",
                                secret=True)
    return key


def _without_userinfo(text: str) -> str:
    scheme, _, rest = text.partition("://")
    authority, slash, path = rest.partition("/")
    host = authority.rpartition("@")[2]
    return f"{scheme}://***@{host}{slash}{path}"


def base_url(name: str, value: object) -> str:
    """An http(s) URL with a host and no credentials, query or fragment; trailing '/' dropped.

    A URL carrying `user:password@` is refused, and the message shows it with the credentials
    replaced by `***`: keys go in `api_key`, never in a URL that ends up in logs.
    """
    allowed = "an http(s) URL with a host, like https://api.example.com or http://127.0.0.1:8765"
    if not isinstance(value, str):
        raise ArgumentError(name, value, allowed)
    text = value.strip()
    if any(ord(c) < 33 or ord(c) == 127 for c in text):
        raise ArgumentError(name, value, allowed + " (no spaces or control characters)")
    try:
        parts = urlsplit(text)
        port = parts.port
        has_userinfo = "@" in parts.netloc
        host = parts.hostname
    except ValueError:
        if "@" in text.partition("://")[2].partition("/")[0]:
            raise ArgumentError(name, _without_userinfo(text), "no credentials in the URL: pass "
                                "the key as api_key=...") from None
        raise ArgumentError(name, value, allowed) from None
    if has_userinfo:
        raise ArgumentError(name, _without_userinfo(text), "no credentials in the URL: pass the "
                            "key as api_key=...")
    if parts.scheme.lower() not in ("http", "https") or not host:
        raise ArgumentError(name, value, allowed)
    if port == 0:
        raise ArgumentError(name, value, allowed + " (port 1-65535)")
    if parts.query or parts.fragment or text.endswith(("?", "#")):
        raise ArgumentError(name, value, allowed + " (no ?query or #fragment)")
    return text.rstrip("/")


def prompt(name: str, value: object) -> str:
    """A non-empty text prompt without NUL characters (which providers truncate or refuse)."""
    if not isinstance(value, str) or not value.strip():
        raise ArgumentError(name, value, "a non-empty text")
    where = value.find("\x00")
    if where >= 0:
        shown = f"<{len(value)} characters with NUL at {where}>" if len(value) > 60 else value
        raise ArgumentError(name, shown, "a text without NUL (\\x00) characters")
    return value


def output_path(name: str, value: object, *, suffixes: tuple[str, ...] = ()) -> Path:
    """A file path we will be able to write later: its folder exists and is writable, and the
    path is not a directory. Checked before a batch is paid for, so its table is never lost."""
    if not isinstance(value, (str, os.PathLike)) or not str(value).strip() or "\x00" in str(value):
        raise ArgumentError(name, value, "a file path (str or pathlib.Path)")
    path = Path(value).expanduser()
    if path.is_dir():
        raise ArgumentError(name, value, "a file path, not a directory")
    if suffixes and path.suffix.lower() not in suffixes:
        raise ArgumentError(name, value, "a file ending in " + " or ".join(suffixes))
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ArgumentError(name, value, f"a path in an existing folder ({str(folder)!r} is missing)")
    if not os.access(folder, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise ArgumentError(name, value, "a path this process may write")
    return path
