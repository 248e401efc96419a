"""Fan-out at scale against the in-process sandbox: every job of a large burst succeeds,
and watching many jobs costs a bounded number of threads."""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest

import grokvid_nb as gv
from grokvid_nb.display import JobWatcher

PROVIDERS = ("xai", "apixo", "pixazo", "xingchao", "apiinone")


@pytest.mark.timeout(120)
def test_300_jobs_at_once_all_succeed_and_each_is_submitted_once() -> None:
    sb = gv.use_sandbox(time_scale=0.005, seed=3)
    try:
        clients = {p: gv.Client(p) for p in PROVIDERS}
        start = time.monotonic()
        jobs = [clients[PROVIDERS[i % 5]].start(f"burst {i} [sandbox:succeed]") for i in range(300)]
        results = [job.wait(timeout=90) for job in jobs]
        wall = time.monotonic() - start
    finally:
        gv.use_sandbox(False)
    assert Counter(r.status.value for r in results) == Counter({"succeeded": 300})
    assert len({job.task_id for job in jobs}) == 300
    assert Counter(t.provider for t in sb.stats.tasks) == Counter({p: 60 for p in PROVIDERS})
    assert wall < 60


@pytest.mark.timeout(60)
def test_200_watched_jobs_share_one_display_thread() -> None:
    gv.use_sandbox(time_scale=0.005, seed=4)
    try:
        client = gv.Client("apiinone")
        before = threading.active_count()
        finals: list[str] = []
        lock = threading.Lock()

        def final(job: gv.Job) -> None:
            with lock:
                finals.append(job.state.value)

        watchers = [JobWatcher(client.start(f"watched {i} [sandbox:latency=60]"), lambda j: None, final,
                    heartbeat=0.05).start() for i in range(200)]
        time.sleep(0.1)
        running = threading.active_count()
        names = Counter(t.name for t in threading.enumerate())
        for watcher in watchers:
            watcher.join(40)
    finally:
        gv.use_sandbox(False)
    assert finals == ["succeeded"] * 200
    assert names["grokvid-display"] == 1
    assert running - before < 20
