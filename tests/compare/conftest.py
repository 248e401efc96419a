"""Fixtures for the comparison tests: a fast in-process sandbox and a private GROKVID_HOME."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

import grokvid_nb as gv
from grokvid_nb.adapters import PROVIDER_NAMES, get_adapter

TIME_SCALE = 0.01


@pytest.fixture
def home(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """GROKVID_HOME in a temporary directory; no real keys visible; fast built-in timings."""
    monkeypatch.setenv("GROKVID_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GROKVID_TIME_SCALE", str(TIME_SCALE))
    for name in PROVIDER_NAMES:
        monkeypatch.delenv(get_adapter(name).env_var, raising=False)
    monkeypatch.delenv("XINGCHAO_BASE_URL", raising=False)
    return tmp_path / "home"


@pytest.fixture
def make_sandbox(home: Any) -> Iterator[Callable[..., Any]]:
    """`make_sandbox(**SandboxConfig options)`: `gv.use_sandbox` at the tests' time scale
    (rate-limit windows scaled too); switched off after the test."""

    def start(**config: Any) -> Any:
        config.setdefault("seed", 7)
        return gv.use_sandbox(time_scale=TIME_SCALE, scale_rate_limits=True, **config)

    yield start
    gv.use_sandbox(False)


@pytest.fixture
def sandbox(make_sandbox: Callable[..., Any]) -> Any:
    """The in-process sandbox with its default (no failure) profiles."""
    return make_sandbox()
