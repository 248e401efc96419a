"""Fixtures of the display tests: an isolated GROKVID_HOME and the in-process sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from IPython.core.displaypub import CapturingDisplayPublisher
from IPython.core.interactiveshell import InteractiveShell

import grokvid_nb as gv
from grokvid_nb import display as gv_display
from grokvid_nb.adapters import PROVIDER_NAMES, get_adapter

#: Every key environment variable, so no test sees a developer's real key.
KEY_VARS = tuple(get_adapter(name).env_var for name in PROVIDER_NAMES)


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own ledger and downloads, and no key from the environment."""
    home = tmp_path / "grokvid-home"
    monkeypatch.setenv("GROKVID_HOME", str(home))
    for var in (*KEY_VARS, "XINGCHAO_BASE_URL", "GROKVID_TIME_SCALE"):
        monkeypatch.delenv(var, raising=False)
    gv.use_sandbox(False)  # whatever an earlier test left on
    return home


@pytest.fixture
def sandbox() -> Iterator[object]:
    """The in-process sandbox at 1/100 of real time, switched off afterwards."""
    sb = gv.use_sandbox(time_scale=0.01, seed=7)
    try:
        yield sb
    finally:
        gv.use_sandbox(False)


@pytest.fixture
def shell(monkeypatch: pytest.MonkeyPatch) -> Iterator[CapturingDisplayPublisher]:
    """An IPython shell whose display messages are captured, posing as a kernel."""
    ip = InteractiveShell.instance()
    publisher = CapturingDisplayPublisher(shell=ip)
    monkeypatch.setattr(ip, "display_pub", publisher)
    monkeypatch.setattr(gv_display, "in_notebook", lambda: True)
    yield publisher
