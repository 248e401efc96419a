"""Module-level helpers: `generate()` and `resume()`."""

from __future__ import annotations

import warnings
from typing import Any, Literal, overload

from ._budget import check_budget
from ._catalog import priced_spec
from ._client import Client, live_owner
from ._exceptions import ArgumentError
from ._group import JobGroup
from ._job import Job
from ._ledger import Ledger, default_ledger
from ._sandbox_mode import is_in_process_sandbox, sandbox_route

__all__ = ["generate", "resume"]


@overload
def generate(prompt: str, provider: str = ..., *, api_key: str | None = ...,
             base_url: str | None = ..., n: Literal[1] = ..., **params: Any) -> Job: ...


@overload
def generate(prompt: str, provider: str = ..., *, api_key: str | None = ...,
             base_url: str | None = ..., n: int, **params: Any) -> Job | JobGroup: ...


def generate(prompt: str, provider: str = "xai", *, api_key: str | None = None,
             base_url: str | None = None, n: int = 1, **params: Any) -> Job | JobGroup:
    """Submit one video and return its `Job`. As the last expression of a notebook cell it
    shows live status and ends as an inline `<video>`.

    With `n > 1`, `n` distinct videos of the same request (samples 0..n-1, each its own
    job and charge) are started at once and a `JobGroup` is returned: it shows as one grid
    that fills in as the clips arrive, and `group.wait()` returns the list of `Result`s.
    Every parameter is validated before the first request leaves.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ArgumentError("n", n, "the number of videos is a whole number >= 1")
    client = Client(provider, api_key=api_key, base_url=base_url)
    if n == 1:
        return client.start(prompt, **params)
    # nothing is sent unless the request is valid and the whole group fits the budget
    request = client.validate(prompt, **params)
    reuse = params.get("reuse", True)
    new = sum(not (reuse and client.can_reuse(request, i)) for i in range(n))
    if new:
        each = priced_spec(client.adapter, request.model, request.mode).estimate(request.params)
        check_budget(None if each is None else each * new, client.ledger,
                     what=f"{n} x {client.provider}/{request.model} {request.mode} ({new} new)")
    return JobGroup([client.start(prompt, sample_index=i, **params) for i in range(n)])


def resume(ledger: Ledger | None = None) -> list[Job]:
    """Re-attach to every unfinished job in the ledger (after a crash or kernel restart).

    Jobs whose submit may have been sent but whose task id never came back are marked
    `unknown` (they may have been charged; they are never resent); intents whose submit never
    left are marked `failed` (never_sent, nothing charged); a job another live process is still
    submitting is left alone. A `cancelled` job with a task id is re-attached (cancel only stops
    the local polling; the provider may still finish and charge it). Jobs of an in-process
    sandbox from an earlier process cannot be resumed (that sandbox is gone) and are marked
    `unknown` with that reason.
    """
    ledger = ledger or default_ledger()
    route = sandbox_route()
    clients: dict[tuple[str, str], Client] = {}
    jobs: list[Job] = []
    for row in ledger.unfinished():
        if row.task_id is None:
            if row.state == "queued" and live_owner(row):
                continue  # still being submitted (here or by another process): leave it be
            if row.state == "queued":
                ledger.settle_abandoned(row)
            continue
        in_process = is_in_process_sandbox(row.endpoint)
        if in_process and (route is None or route[0] != row.endpoint):
            ledger.update(row.job_id, state="unknown", error_code="sandbox_gone",
                          error_message="this job ran on an in-process sandbox that no longer exists")
            continue
        key = (row.provider, row.endpoint)
        try:
            if key not in clients:
                base = None if in_process else row.endpoint
                clients[key] = Client(row.provider, base_url=base, ledger=ledger)
            jobs.append(clients[key]._attach(row, None, reused=False))
        except Exception as exc:  # e.g. a key that is no longer set: keep the row, say why
            warnings.warn(f"cannot resume {row.provider} task {row.task_id}: {exc}", stacklevel=2)
    return jobs
