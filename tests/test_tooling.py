"""Project hygiene: the lint configuration passes, and the wheel ships the `py.typed` marker."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.timeout(120)
def test_ruff_check_passes() -> None:
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "."], cwd=ROOT,
                          capture_output=True, text=True, timeout=110)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.timeout(120)
def test_the_wheel_ships_py_typed(tmp_path: Path) -> None:
    code = ("import os, sys; from hatchling.build import build_wheel; "
            "print(build_wheel(sys.argv[1]))")
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=110)
    assert done.returncode == 0, done.stderr
    wheel = tmp_path / done.stdout.strip().splitlines()[-1]
    names = zipfile.ZipFile(wheel).namelist()
    assert "grokvid_nb/py.typed" in names
    assert "grokvid_nb/adapters/_spec.py" in names and "grokvid_nb/_compare/plan.py" in names
    assert not [n for n in names if n.startswith("grokvid_nb/providers/")]
