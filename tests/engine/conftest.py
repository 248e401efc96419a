"""Fixtures for engine tests: an isolated GROKVID_HOME and a fast time scale."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GROKVID_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GROKVID_TIME_SCALE", "0.01")
    # these tests count every request of mock providers that serve no video: no kept copies
    # (tests/spend/ covers keeping them, the default)
    monkeypatch.setenv("GROKVID_KEEP_LOCAL", "0")
    for var in ("XAI_API_KEY", "APIXO_API_KEY", "PIXAZO_API_KEY", "XINGCHAO_API_KEY",
                "APIINONE_API_KEY", "XINGCHAO_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path / "home"
