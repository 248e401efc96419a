"""Fixtures of the issue-12 tests: an isolated GROKVID_HOME, no budget, the in-process sandbox."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

import grokvid_nb as gv
from grokvid_nb.adapters import PROVIDER_NAMES, get_adapter

KEY_VARS = tuple(get_adapter(name).env_var for name in PROVIDER_NAMES)


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Own ledger and downloads, no key, no budget, no uploader, clips kept (the default)."""
    home = tmp_path / "grokvid-home"
    monkeypatch.setenv("GROKVID_HOME", str(home))
    for var in (*KEY_VARS, "XINGCHAO_BASE_URL", "GROKVID_TIME_SCALE", "GROKVID_KEEP_LOCAL"):
        monkeypatch.delenv(var, raising=False)
    gv.use_sandbox(False)
    gv.set_budget()
    previous = gv.set_uploader(None)
    yield home
    gv.set_budget()
    gv.set_uploader(previous)
    gv.use_sandbox(False)


@pytest.fixture
def sandbox() -> Iterator[object]:
    """The in-process sandbox at 1/1000 of real time."""
    sb = gv.use_sandbox(time_scale=0.001, seed=3)
    try:
        yield sb
    finally:
        gv.use_sandbox(False)


def png(color: tuple[int, int, int] = (200, 30, 30), size: tuple[int, int] = (32, 24)) -> bytes:
    """A real PNG made by Pillow."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


def created(sb: object) -> int:
    """How many tasks the sandbox has created, over every provider."""
    return sum(sb.stats.tasks_created.values())  # type: ignore[attr-defined]
