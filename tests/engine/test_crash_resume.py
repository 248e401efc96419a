"""A process with 50 jobs in flight is killed with SIGKILL; a new process calls gv.resume()
and obtains all 50 results without a single new submit."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from grokvid_nb.sandbox import Sandbox, SandboxConfig

CHILD = textwrap.dedent("""
    import sys, time, grokvid_nb as gv
    url = sys.argv[1]
    providers = ["xai", "apixo", "pixazo", "xingchao", "apiinone"]
    jobs = [gv.Client(providers[i % 5], api_key="k", base_url=url)
              .start(f"crash test clip {i} [sandbox:latency=60]") for i in range(50)]
    for job in jobs:
        job._submitted.result(timeout=60)
    assert all(job.task_id for job in jobs), [j for j in jobs if not j.task_id]
    print("READY", flush=True)
    time.sleep(600)
""")

RESUMER = textwrap.dedent("""
    import json, grokvid_nb as gv
    jobs = gv.resume()
    results = [job.wait(timeout=120) for job in jobs]
    print(json.dumps({"n": len(jobs), "ok": sum(r.ok for r in results),
                      "tasks": sorted(r.task_id for r in results)}))
""")


@pytest.mark.slow
def test_sigkill_then_resume_recovers_all_50_without_resubmitting(tmp_path: Path) -> None:
    sandbox = Sandbox(SandboxConfig(time_scale=0.05, seed=5, scale_rate_limits=True))
    env = {**os.environ, "GROKVID_HOME": str(tmp_path / "home"), "GROKVID_TIME_SCALE": "0.05"}
    with sandbox.serve(host="127.0.0.1", port=0) as url:
        child = subprocess.Popen([sys.executable, "-c", CHILD, url], env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert child.stdout is not None
            line = child.stdout.readline()
            assert line.strip() == "READY", child.stderr.read() if child.stderr else line
            submits_before = sum(sandbox.stats.submits.values())
            # a 429 proves no task was made, so submits may exceed 50; tasks may not
            assert sum(sandbox.stats.tasks_created.values()) == 50
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=10)
        finally:
            if child.poll() is None:
                child.kill()
        assert child.returncode == -signal.SIGKILL
        tasks_before = {t.task_id for t in sandbox.stats.tasks}
        assert len(tasks_before) == 50
        assert not any(t.succeeded(t.finished_at - 1) for t in sandbox.stats.tasks)

        # keys are never stored: the new process finds them in the environment again
        keys = {f"{p.upper()}_API_KEY": "k" for p in ("xai", "apixo", "pixazo", "xingchao", "apiinone")}
        done = subprocess.run([sys.executable, "-c", RESUMER], env={**env, **keys}, capture_output=True,
                              text=True, timeout=180)
        assert done.returncode == 0, done.stderr
        summary = json.loads(done.stdout.strip().splitlines()[-1])
        assert summary["n"] == 50 and summary["ok"] == 50
        assert set(summary["tasks"]) == tasks_before
        assert sum(sandbox.stats.submits.values()) == submits_before  # no new submit
        assert sum(sandbox.stats.tasks_created.values()) == 50
