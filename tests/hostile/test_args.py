"""Argument checkers, table-driven: each value is either accepted (and normalised to an exact
result) or refused with the exact message naming the parameter, the value and what is allowed."""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from grokvid_nb import _args
from grokvid_nb._exceptions import ArgumentError, GrokVidError, ValidationError

NAN, INF = float("nan"), float("inf")


def _check(func: Callable[..., Any], value: object, expected: object, kw: dict[str, Any]) -> None:
    if isinstance(expected, Refused):
        with pytest.raises(ArgumentError) as info:
            func("x", value, **kw)
        assert str(info.value) == expected.message
        assert info.value.parameter == "x"
    else:
        got = func("x", value, **kw)
        assert got == expected and type(got) is type(expected)


class Refused:
    """The exact message expected for a refused value."""

    def __init__(self, message: str) -> None:
        self.message = message


POS = "a finite number > 0"
POSITIVE = [
    (1, {}, 1.0), (0.5, {}, 0.5), (Decimal("2.5"), {}, 2.5), (Fraction(1, 4), {}, 0.25),
    (10, {"high": 10}, 10.0),
    (0, {}, Refused(f"x=0 is not allowed; {POS}")),
    (-1, {}, Refused(f"x=-1 is not allowed; {POS}")),
    (NAN, {}, Refused(f"x=nan is not allowed; {POS}")),
    (INF, {}, Refused(f"x=inf is not allowed; {POS}")),
    (True, {}, Refused(f"x=True is not allowed; {POS}")),
    ("1", {}, Refused(f"x='1' is not allowed; {POS}")),
    (None, {}, Refused(f"x=None is not allowed; {POS}")),
    (10**400, {}, Refused(f"x={10**400!r}"[:79] + "... is not allowed; " + POS)),
    (10.5, {"high": 10}, Refused("x=10.5 is not allowed; a finite number > 0 and <= 10")),
    (2, {"low": 2, "high": 5}, Refused("x=2 is not allowed; a finite number > 2 and <= 5")),
]


@pytest.mark.parametrize("value,kw,expected", POSITIVE)
def test_finite_positive(value: object, kw: dict[str, Any], expected: object) -> None:
    _check(_args.finite_positive, value, expected, kw)


TIMEOUT_ALLOWED = "None or a number of seconds > 0 and <= 604800"
TIMEOUTS = [
    (None, {}, None), (3, {}, 3.0), (0.25, {}, 0.25), (0, {"allow_zero": True}, 0.0),
    (INF, {"inf_means_none": True}, None),
    (0, {}, Refused(f"x=0 is not allowed; {TIMEOUT_ALLOWED}")),
    (-1, {}, Refused(f"x=-1 is not allowed; {TIMEOUT_ALLOWED}")),
    (NAN, {}, Refused(f"x=nan is not allowed; {TIMEOUT_ALLOWED}")),
    (INF, {}, Refused(f"x=inf is not allowed; {TIMEOUT_ALLOWED}")),
    (-INF, {"inf_means_none": True},
     Refused(f"x=-inf is not allowed; {TIMEOUT_ALLOWED} (inf means no timeout)")),
    (NAN, {"inf_means_none": True},
     Refused(f"x=nan is not allowed; {TIMEOUT_ALLOWED} (inf means no timeout)")),
    ("x", {}, Refused(f"x='x' is not allowed; {TIMEOUT_ALLOWED}")),
    (False, {}, Refused(f"x=False is not allowed; {TIMEOUT_ALLOWED}")),
    (10**6, {}, Refused(f"x=1000000 is not allowed; {TIMEOUT_ALLOWED}")),
    (-1, {"allow_zero": True},
     Refused("x=-1 is not allowed; None or a number of seconds >= 0 and <= 604800")),
]


@pytest.mark.parametrize("value,kw,expected", TIMEOUTS)
def test_optional_timeout(value: object, kw: dict[str, Any], expected: object) -> None:
    _check(_args.optional_timeout, value, expected, kw)


DEADLINE_ALLOWED = "None (the default) or a number of seconds > 0 and <= 604800"
DEADLINES = [
    (None, {}, None), (60, {}, 60.0), (0.001, {}, 0.001), (5, {"high": 5}, 5.0),
    (0, {}, Refused(f"x=0 is not allowed; {DEADLINE_ALLOWED}")),
    (-5, {}, Refused(f"x=-5 is not allowed; {DEADLINE_ALLOWED}")),
    (NAN, {}, Refused(f"x=nan is not allowed; {DEADLINE_ALLOWED}")),
    (INF, {}, Refused(f"x=inf is not allowed; {DEADLINE_ALLOWED}")),
    ("60", {}, Refused(f"x='60' is not allowed; {DEADLINE_ALLOWED}")),
    (6, {"high": 5}, Refused("x=6 is not allowed; None (the default) or a number of seconds > 0 and <= 5")),
]


@pytest.mark.parametrize("value,kw,expected", DEADLINES)
def test_optional_deadline(value: object, kw: dict[str, Any], expected: object) -> None:
    _check(_args.optional_deadline, value, expected, kw)


BUDGET_ALLOWED = "None (no cap) or a finite number of USD >= 0"
BUDGETS: list[tuple[object, dict[str, Any], object]] = [
    (None, {}, None), (0, {}, 0.0), (2.5, {}, 2.5), (Decimal("0.10"), {}, 0.1),
    (NAN, {}, Refused(f"x=nan is not allowed; {BUDGET_ALLOWED}")),
    (-0.01, {}, Refused(f"x=-0.01 is not allowed; {BUDGET_ALLOWED}")),
    (INF, {}, Refused(f"x=inf is not allowed; {BUDGET_ALLOWED}")),
    ("5", {}, Refused(f"x='5' is not allowed; {BUDGET_ALLOWED}")),
    (True, {}, Refused(f"x=True is not allowed; {BUDGET_ALLOWED}")),
]


@pytest.mark.parametrize("value,kw,expected", BUDGETS)
def test_budget(value: object, kw: dict[str, Any], expected: object) -> None:
    _check(_args.budget, value, expected, kw)


COUNTS = [
    (1, {"high": 100}, 1), (100, {"high": 100}, 100), (0, {"low": 0, "high": 3}, 0),
    (0, {"high": 100}, Refused("x=0 is not allowed; an integer from 1 to 100")),
    (10**9, {"high": 100}, Refused("x=1000000000 is not allowed; an integer from 1 to 100")),
    (2.0, {"high": 100}, Refused("x=2.0 is not allowed; an integer from 1 to 100")),
    (True, {"high": 100}, Refused("x=True is not allowed; an integer from 1 to 100")),
    ("3", {"high": 100}, Refused("x='3' is not allowed; an integer from 1 to 100")),
    (NAN, {"high": 100}, Refused("x=nan is not allowed; an integer from 1 to 100")),
]


@pytest.mark.parametrize("value,kw,expected", COUNTS)
def test_count(value: object, kw: dict[str, Any], expected: object) -> None:
    _check(_args.count, value, expected, kw)


KEY_RULE = "printable ASCII without spaces or line breaks, 1 to 4096 characters"
SECRET = "sk-live-VERYSECRET-0123456789"
KEYS = [
    (SECRET, SECRET), (f"  {SECRET}\n", SECRET), ("sandbox-key", "sandbox-key"),
    (f"{SECRET}\nX", Refused(f"x=<not shown> is not allowed; {KEY_RULE}; it has a line break at position 29")),
    (f"{SECRET} X", Refused(f"x=<not shown> is not allowed; {KEY_RULE}; it has whitespace at position 29")),
    (f"{SECRET}\x00", Refused(f"x=<not shown> is not allowed; {KEY_RULE}; it has a control character at position 29")),
    (f"{SECRET}é", Refused(f"x=<not shown> is not allowed; {KEY_RULE}; it has a non-ASCII character at position 29")),
    ("a" * 5000, Refused(f"x=<not shown> is not allowed; {KEY_RULE} (this one has 5000)")),
    ("", Refused(f"x='' is not allowed; a non-empty key: {KEY_RULE}")),
    (" \n", Refused(f"x=' \\n' is not allowed; a non-empty key: {KEY_RULE}")),
    (None, Refused(f"x='<NoneType>' is not allowed; a str: {KEY_RULE}")),
    (b"sk-bytes", Refused(f"x='<bytes>' is not allowed; a str: {KEY_RULE}")),
]


@pytest.mark.parametrize("value,expected", KEYS)
def test_api_key(value: object, expected: object) -> None:
    _check(_args.api_key, value, expected, {})


@pytest.mark.parametrize("value", [f"{SECRET}\nX", f"{SECRET} X", f"{SECRET}é", SECRET * 200])
def test_api_key_error_never_shows_the_key(value: str) -> None:
    with pytest.raises(ArgumentError) as info:
        _args.api_key("api_key", value)
    for text in (str(info.value), repr(info.value), repr(info.value.args), repr(vars(info.value))):
        assert "VERYSECRET" not in text
    assert info.value.value is None


URL_RULE = "an http(s) URL with a host, like https://api.example.com or http://127.0.0.1:8765"
URLS = [
    ("https://api.x.ai", "https://api.x.ai"), ("http://127.0.0.1:8765/", "http://127.0.0.1:8765"),
    ("https://proxy.example/prefix/", "https://proxy.example/prefix"),
    ("http://[::1]:80", "http://[::1]:80"),
    ("https://user:hunter2@api.x.ai/v1", Refused(
        "x='https://***@api.x.ai/v1' is not allowed; no credentials in the URL: pass the key as api_key=...")),
    ("http://sk-abc@h", Refused(
        "x='http://***@h' is not allowed; no credentials in the URL: pass the key as api_key=...")),
    ("https://u:p@host:99999", Refused(
        "x='https://***@host:99999' is not allowed; no credentials in the URL: pass the key as api_key=...")),
    ("http://", Refused(f"x='http://' is not allowed; {URL_RULE}")),
    ("https:///path", Refused(f"x='https:///path' is not allowed; {URL_RULE}")),
    ("ftp://host", Refused(f"x='ftp://host' is not allowed; {URL_RULE}")),
    ("api.x.ai", Refused(f"x='api.x.ai' is not allowed; {URL_RULE}")),
    ("http://host:0", Refused(f"x='http://host:0' is not allowed; {URL_RULE} (port 1-65535)")),
    ("http://host:99999", Refused(f"x='http://host:99999' is not allowed; {URL_RULE}")),
    ("http://host/?a=1", Refused(f"x='http://host/?a=1' is not allowed; {URL_RULE} (no ?query or #fragment)")),
    ("http://ho st", Refused(f"x='http://ho st' is not allowed; {URL_RULE} (no spaces or control characters)")),
    ("http://host\x00", Refused(f"x='http://host\\x00' is not allowed; {URL_RULE} (no spaces or control characters)")),
    (None, Refused(f"x=None is not allowed; {URL_RULE}")),
]


@pytest.mark.parametrize("value,expected", URLS)
def test_base_url(value: object, expected: object) -> None:
    _check(_args.base_url, value, expected, {})


PROMPTS = [
    ("a cat", "a cat"), ("line\nbreaks\tand tabs", "line\nbreaks\tand tabs"),
    ("a\x00b", Refused("x='a\\x00b' is not allowed; a text without NUL (\\x00) characters")),
    ("y" * 70 + "\x00", Refused("x='<71 characters with NUL at 70>' is not allowed; a text without NUL (\\x00) characters")),
    ("  ", Refused("x='  ' is not allowed; a non-empty text")),
    (None, Refused("x=None is not allowed; a non-empty text")),
    (5, Refused("x=5 is not allowed; a non-empty text")),
]


@pytest.mark.parametrize("value,expected", PROMPTS)
def test_prompt(value: object, expected: object) -> None:
    _check(_args.prompt, value, expected, {})


def test_output_path(tmp_path: Path) -> None:
    assert _args.output_path("out", tmp_path / "t.csv", suffixes=(".csv",)) == tmp_path / "t.csv"
    cases = {
        str(tmp_path): "a file path, not a directory",
        str(tmp_path / "missing" / "t.csv"): f"a path in an existing folder ({str(tmp_path / 'missing')!r} is missing)",
        str(tmp_path / "t.txt"): "a file ending in .csv",
    }
    for value, allowed in cases.items():
        with pytest.raises(ArgumentError) as info:
            _args.output_path("out", value, suffixes=(".csv",))
        assert str(info.value) == f"out={value!r} is not allowed; {allowed}"
    if os.geteuid() != 0:  # root may write anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        with pytest.raises(ArgumentError, match="a path this process may write"):
            _args.output_path("out", locked / "t.csv")


def test_argument_error_is_in_the_tree() -> None:
    error = ArgumentError("timeout", "x", "a number")
    assert isinstance(error, ValidationError) and isinstance(error, GrokVidError)
    assert isinstance(error, ValueError) and isinstance(error, TypeError)
    assert (error.parameter, error.value, error.allowed) == ("timeout", "x", "a number")
    assert math.isnan(_args._real("x", NAN, "any"))
