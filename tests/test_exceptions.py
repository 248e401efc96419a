"""The exception tree is honest: the docstring's tree is the real one, and every concrete class
is raised (or returned to be raised) somewhere in the package."""

from __future__ import annotations

import re
from pathlib import Path

import grokvid_nb as gv
from grokvid_nb import _exceptions

PACKAGE = Path(gv.__file__).resolve().parent
#: Classes that only group others: they are caught, never raised themselves.
GROUPS = {"GrokVidError", "ConfigurationError", "ProviderError"}


def _tree() -> dict[str, str | None]:
    """class -> its parent, read from the module docstring's drawing."""
    doc = _exceptions.__doc__ or ""
    drawing = doc.split("```")[1]
    parents: dict[str, str | None] = {}
    stack: list[tuple[int, str]] = []
    for line in drawing.strip().splitlines():
        match = re.match(r"^([│ ├└─]*)(\w+)", line)
        assert match, line
        depth, name = len(match.group(1)), match.group(2)
        while stack and stack[-1][0] >= depth:
            stack.pop()
        parents[name] = stack[-1][1] if stack else None
        stack.append((depth, name))
    return parents


def test_the_docstring_tree_is_the_class_tree() -> None:
    tree = _tree()
    assert set(tree) == set(_exceptions.__all__)
    for name, parent in tree.items():
        cls = getattr(_exceptions, name)
        if parent is None:
            assert cls.__bases__ == (Exception,)
        else:
            assert cls.__bases__[0] is getattr(_exceptions, parent), name


def test_every_concrete_exception_is_raised_somewhere() -> None:
    source = "\n".join(p.read_text(encoding="utf-8") for p in PACKAGE.rglob("*.py")
                       if p.name != "_exceptions.py" and "sandbox" not in p.parts)
    for name in _exceptions.__all__:
        if name in GROUPS:
            continue
        assert re.search(rf"\b(raise|return)\s+{name}\(", source), f"nothing raises {name}"


def test_no_unraised_classes_are_left() -> None:
    for gone in ("JobError", "SubmitOutcomeUnknownError", "WaitTimeoutError"):
        assert not hasattr(_exceptions, gone)
        assert gone not in gv.__all__


def test_download_error_is_not_a_transport_error() -> None:
    err = gv.DownloadError("download failed with HTTP 404", url="https://cdn.example/v.mp4",
                           status_code=404)
    assert isinstance(err, gv.GrokVidError) and not isinstance(err, gv.TransportError)
    assert (err.url, err.status_code, str(err)) == ("https://cdn.example/v.mp4", 404,
                                                    "download failed with HTTP 404")
