"""200 jobs across the five providers, with every fault kind the sandbox can inject, end in
the right terminal state, and no request is ever submitted twice."""

from __future__ import annotations

from collections import Counter

import pytest

import grokvid_nb as gv
from grokvid_nb._job import Job

PROVIDERS = ("xai", "apixo", "pixazo", "xingchao", "apiinone")
#: the reply proves no task exists: retried, and the job succeeds
RETRIED_SUBMIT_FAULTS = ("429", "429-date", "503")
#: the submit may have reached the provider: never resent, the job ends unknown
UNKNOWN_SUBMIT_FAULTS = ("500", "502", "non_json", "drop", "lost_reply")
POLL_FAULTS = ("429", "429-date", "500", "502", "503", "non_json", "drop")
WAVE = 20


def _wave(tag: str, prompts: list[str]) -> list[Job]:
    return [gv.Client(p).start(f"{tag} {p} #{i} {prompts[i]}")
            for p in PROVIDERS for i in range(WAVE)]


@pytest.mark.slow
def test_200_jobs_with_every_fault_end_right_with_zero_duplicate_submits() -> None:
    sb = gv.use_sandbox(time_scale=0.005, seed=11)
    try:
        for provider in PROVIDERS:
            for fault in RETRIED_SUBMIT_FAULTS + UNKNOWN_SUBMIT_FAULTS:
                sb.inject(provider, "submit", fault, retry_after=1)
            for fault in POLL_FAULTS:
                sb.inject(provider, "poll", fault, times=2, retry_after=1)

        # wave 1 consumes every submit fault
        first = _wave("w1", ["" for _ in range(WAVE)])
        for job in first:
            job._submitted.result(timeout=120)
        # wave 2: deterministic outcomes through the sandbox's magic words
        magic = ["[sandbox:fail]"] * 3 + ["[sandbox:expire]"] * 2 + [""] * (WAVE - 5)
        second = _wave("w2", magic)
        jobs = first + second
        assert len(jobs) == 200
        results = [job.wait(timeout=180) for job in jobs]
    finally:
        gv.use_sandbox(False)

    by_provider: dict[str, Counter[str]] = {p: Counter() for p in PROVIDERS}
    for res in results:
        by_provider[res.provider][res.status.value] += 1
    for provider, states in by_provider.items():
        expired = 2 if provider == "xai" else 0
        failed = 3 + (0 if provider == "xai" else 2)  # "expire" is a timeout failure elsewhere
        assert states == Counter({
            "succeeded": 2 * WAVE - len(UNKNOWN_SUBMIT_FAULTS) - failed - expired,
            "unknown": len(UNKNOWN_SUBMIT_FAULTS),
            "failed": failed,
            **({"expired": expired} if expired else {}),
        }), (provider, states)

    for res in results:
        if res.status == "unknown":
            assert res.task_id is None and "NOT resent" in (res.error_message or "")
        if res.ok:
            assert res.video_url is not None
            if res.cost_usd is None:
                assert res.cost_source is None
            else:
                assert res.cost_source in ("reported", "estimated")

    # zero duplicate submits: one sandbox task per prompt at most, and every job with a task
    # id owns exactly one of them
    tasks_per_prompt = Counter(task.spec.prompt for task in sb.stats.tasks)
    assert max(tasks_per_prompt.values()) == 1
    task_ids = {task.task_id for task in sb.stats.tasks}
    assert all(res.task_id in task_ids for res in results if res.task_id)
    fired = Counter((p, phase) for (p, phase, _f) in sb.stats.faults.elements())
    for provider in PROVIDERS:
        assert fired[(provider, "submit")] == len(RETRIED_SUBMIT_FAULTS + UNKNOWN_SUBMIT_FAULTS)
        assert fired[(provider, "poll")] == 2 * len(POLL_FAULTS)
