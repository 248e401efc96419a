"""`job.wait()` in a cell of a real, running ipykernel, and 100 jobs polling in the background
while later cells run (nbclient drives the kernel exactly as Run All does)."""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

pytestmark = pytest.mark.kernel

CELLS = [
    # 1: set up, in-process sandbox
    "import time, grokvid_nb as gv\n"
    "sb = gv.use_sandbox(time_scale=0.02, seed=3)\n"
    "job = gv.Client('apixo').submit('a lakeside at sunset', duration=6)\n"
    "res = job.wait(timeout=120)\n"
    "print('WAIT', res.status, res.ok, res.video_url is not None)",
    # 2: start 100 jobs and return at once
    "t0 = time.monotonic()\n"
    "providers = ['xai', 'apixo', 'pixazo', 'xingchao', 'apiinone']\n"
    "jobs = [gv.Client(providers[i % 5]).start(f'clip {i} [sandbox:latency=200]') for i in range(100)]\n"
    "print('STARTED', len(jobs), round(time.monotonic() - t0, 2))",
    # 3: runs while they poll: the kernel is free (each job takes 4 s here, long enough that a
    # loaded machine cannot finish them all before this cell gets its turn)
    "busy = sum(not j.done() for j in jobs)\n"
    "print('FREE', busy, sum(range(1000)))",
    # 4: all of them finish, in the background
    "results = [j.wait(timeout=240) for j in jobs]\n"
    "print('DONE', sum(r.ok for r in results), max(j.polls for j in jobs) > 0)",
]


def test_wait_in_a_running_kernel_and_background_polling(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in CELLS]
    env_home = tmp_path / "home"
    monkeypatch.setenv("GROKVID_HOME", str(env_home))  # inherited by the kernel process
    client = NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    out = ["".join(o.get("text", "") for o in cell.outputs) for cell in nb.cells]
    assert out[0].split() == ["WAIT", "succeeded", "True", "True"], out[0]
    started = out[1].split()
    assert started[:2] == ["STARTED", "100"] and float(started[2]) < 10, out[1]
    free = out[2].split()
    assert free[0] == "FREE" and int(free[1]) > 0, "cell 3 should run while jobs still poll"
    assert out[3].split() == ["DONE", "100", "True"], out[3]
    assert sys.executable  # the kernel spec comes from scripts/test.sh (ipykernel --sys-prefix)
