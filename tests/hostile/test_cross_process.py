"""Issue 14 items 6 and 7: four real processes send the same N requests at once, sharing one
ledger, against a sandbox served over HTTP whose submits are slowed by 503 faults. Exactly one
task is created per request; every other process attaches to it (waiting for its task id while
the submit is in flight) and gets the same finished video, never a fake "finished" queued row."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from grokvid_nb.sandbox import Sandbox, SandboxConfig

pytestmark = [pytest.mark.timeout(120), pytest.mark.slow]
PROCESSES, N = 4, 12

WORKER = textwrap.dedent("""
    import json, sys, time, grokvid_nb as gv
    url, n, go = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    client = gv.Client("xai", api_key="sk-cross-process-0123456789", base_url=url)
    time.sleep(max(0.0, go - time.time()))  # every process starts at the same instant
    jobs = [client.start("one lake at dawn [sandbox:latency=2]", sample_index=i) for i in range(n)]
    out = []
    for i, job in enumerate(jobs):
        r = job.wait(90)
        out.append({"i": i, "status": r.status.value, "task_id": r.task_id, "ok": r.ok,
                    "code": r.error_code, "reused": bool(r.reused or job.reused)})
    print(json.dumps(out), flush=True)
""")


def test_identical_requests_from_four_processes_create_one_task_each(tmp_path: Path) -> None:
    sandbox = Sandbox(SandboxConfig(time_scale=0.05, seed=3, scale_rate_limits=True))
    sandbox.inject("xai", "submit", "503", times=6)  # the first submits are refused: slow owners
    env = {**os.environ, "GROKVID_HOME": str(tmp_path / "home"), "GROKVID_TIME_SCALE": "0.05"}
    with sandbox.serve(host="127.0.0.1", port=0) as url:
        go = time.time() + 4.0
        children = [subprocess.Popen([sys.executable, "-c", WORKER, url, str(N), str(go)], env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                    for _ in range(PROCESSES)]
        outputs = []
        try:
            for child in children:
                out, err = child.communicate(timeout=100)
                assert child.returncode == 0, err
                outputs.append(json.loads(out.strip().splitlines()[-1]))
        finally:
            for child in children:
                if child.poll() is None:
                    child.kill()
        assert sandbox.stats.tasks_created["xai"] == N
    by_index: dict[int, set[str | None]] = {}
    for rows in outputs:
        assert len(rows) == N
        for row in rows:
            assert (row["status"], row["ok"]) == ("succeeded", True), row
            by_index.setdefault(row["i"], set()).add(row["task_id"])
    assert all(len(ids) == 1 and None not in ids for ids in by_index.values()), by_index
    assert len({next(iter(ids)) for ids in by_index.values()}) == N
    reused = sum(row["reused"] for rows in outputs for row in rows)
    assert reused == (PROCESSES - 1) * N
