"""A user who already called `nest_asyncio.apply()` in their first cell (common advice in the
wild): `generate` + `wait`, `await job`, `compare` and the form still work, in a real kernel,
under both kinds of Run All (nbclient's one-cell-at-a-time, and JupyterLab's every cell queued
at once), on the installed ipykernel and on the other major version (6 or 7) in a venv this
test builds (about 30 s with pip's cache; measured in the report of issue 13).

Why it matters: nest_asyncio patches asyncio process-wide (pure-Python Task/Future, re-entrant
run_until_complete). grokvid_nb runs its jobs on a private loop in a daemon thread, which must
keep working under those patches, and must not trip ipykernel 7's dispatcher the way a nested
`run_until_complete` on the kernel's own loop does (docs/kernel-matrix.md).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from .kernels import CellRun, kernel_env, run_nbclient, run_queued

pytestmark = [pytest.mark.kernel, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]

CELLS = [
    # 1: what the user did first, before grokvid_nb
    "import nest_asyncio\n"
    "nest_asyncio.apply()\n"
    "import asyncio, sys, ipykernel\n"
    "patched = getattr(asyncio.get_event_loop(), '_nest_patched', False)\n"
    "print('CELL1', ipykernel.__version__.split('.')[0], patched)",
    # 2: generate (shown live, updated from the engine's thread) + wait
    "import grokvid_nb as gv\n"
    "from IPython.display import display\n"
    "sb = gv.use_sandbox(time_scale=0.02, seed=5)\n"
    "job = gv.generate('a lakeside at sunset', provider='apixo', duration=6, resolution='480p')\n"
    "display(job)\n"
    "res = job.wait(timeout=120)\n"
    "print('CELL2', res.status.value, res.ok, res.video_url is not None)",
    # 3: top-level await of a job (IPython autoawait on the kernel's, now patched, loop)
    "res2 = await gv.generate('a red kite over green hills', provider='xai', duration=4)\n"
    "print('CELL3', res2.status.value, res2.cost_source)",
    # 4: compare, with its live table
    "df = gv.compare('a lighthouse in a storm', providers=['apixo', 'pixazo'], duration=6,\n"
    "                resolution='480p', reuse=False)\n"
    "print('CELL4', len(df), sorted(set(df.status)))",
    # 5: the form, driven from code as 03_form does
    "f = gv.form('apixo')\n"
    "f.prompt.value = 'a paper boat drifting down a rainy street'\n"
    "ready = not f.generate_button.disabled\n"
    "f.generate_button.click()\n"
    "r5 = f.job.wait(timeout=120)\n"
    "print('CELL5', ready, r5.status.value, r5.ok)",
    # 6: the kernel is still answering after all of that
    "print('CELL6', sum(range(10)))",
]


def expected(major: str) -> list[list[str]]:
    return [["CELL1", major, "True"],
            ["CELL2", "succeeded", "True", "True"],
            ["CELL3", "succeeded", "reported"],
            ["CELL4", "2", "['succeeded']"],
            ["CELL5", "True", "succeeded", "True"],
            ["CELL6", "45"]]


def check(runs: list[CellRun], major: str) -> None:
    """Every cell replied ok, without an error, and printed exactly what it should."""
    lines = [[ln for ln in r.text.splitlines() if ln.startswith("CELL")] for r in runs]
    assert [r.errors for r in runs] == [[]] * len(CELLS), [r.errors for r in runs]
    assert [r.replied for r in runs] == [True] * len(CELLS), lines
    assert [r.status for r in runs] == ["ok"] * len(CELLS), lines
    assert [ln[0].split() if ln else [] for ln in lines] == expected(major), lines


def _installed_major() -> str:
    import ipykernel

    return ipykernel.__version__.split(".")[0]


def _other_spec() -> tuple[str, str]:
    """The other ipykernel major's pip spec and the major."""
    return ("ipykernel>=6.29,<7", "6") if _installed_major() == "7" else ("ipykernel>=7,<8", "7")


@pytest.fixture(scope="module")
def other_kernel(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str, dict[str, str]]:
    """A fresh venv with this checkout, nest_asyncio and the other ipykernel major, and a
    kernel spec for it on JUPYTER_PATH: (kernel name, major, environment)."""
    spec, major = _other_spec()
    venv = tmp_path_factory.mktemp("ipykernel-other") / "venv"
    t0 = time.monotonic()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    vpy = str(venv / "bin" / "python")
    pip = subprocess.run([vpy, "-m", "pip", "install", "-q", "--no-compile", "-e", str(ROOT),
                          spec, "nest_asyncio>=1.5"], capture_output=True, text=True, timeout=600)
    assert pip.returncode == 0, pip.stderr[-3000:]
    name = f"grokvid-ipykernel{major}"
    subprocess.run([vpy, "-m", "ipykernel", "install", "--prefix", str(venv), "--name", name],
                   check=True, capture_output=True, timeout=120)
    print(f"\n[nest_asyncio] venv with {spec} built in {time.monotonic() - t0:.1f} s")
    env = kernel_env(JUPYTER_PATH=str(venv / "share" / "jupyter"))
    return name, major, env


@pytest.mark.timeout(240)
@pytest.mark.parametrize("mode", ["nbclient", "queued"])
def test_nest_asyncio_installed_kernel(mode: str, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROKVID_HOME", str(tmp_path / "home"))
    run = run_nbclient if mode == "nbclient" else run_queued
    check(run(CELLS, tmp_path, env=kernel_env()), _installed_major())


@pytest.mark.timeout(600)
@pytest.mark.longrun  # builds a venv with the other ipykernel major: ~50 s
@pytest.mark.parametrize("mode", ["nbclient", "queued"])
def test_nest_asyncio_other_ipykernel_major(mode: str, tmp_path: Path,
                                            other_kernel: tuple[str, str, dict[str, str]],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    name, major, env = other_kernel
    # the kernel spec is looked up by this process: JUPYTER_PATH must be set here too
    monkeypatch.setenv("JUPYTER_PATH", env["JUPYTER_PATH"])
    env = {**env, "GROKVID_HOME": str(tmp_path / "home")}
    run = run_nbclient if mode == "nbclient" else run_queued
    check(run(CELLS, tmp_path, kernel_name=name, env=env), major)
