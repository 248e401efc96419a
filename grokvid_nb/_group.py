"""Many jobs at once: `as_completed` (sync and async iteration over jobs as they end) and
`JobGroup`, what `gv.generate(..., n=4)` returns.

Both rest on each `Job`'s own completion future, so nothing here polls or sleeps: the engine
thread finishes a job, and whoever iterates or waits wakes up.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
from collections.abc import AsyncIterator, Callable, Generator, Iterable, Iterator, Sequence
from typing import Any, overload

from ._job import Job
from ._result import Result

__all__ = ["as_completed", "AsCompleted", "JobGroup"]


class AsCompleted:
    """Jobs in the order they end. Iterate it (`for job in gv.as_completed(jobs)`) or, in
    async code, `async for job in gv.as_completed(jobs)`. With `timeout` (seconds, counted
    from the start of the iteration) `TimeoutError` is raised when jobs are still running
    then; those jobs keep running. Jobs that have already ended come first. A job given
    twice is yielded once."""

    def __init__(self, jobs: Iterable[Job], timeout: float | None = None) -> None:
        self.jobs: list[Job] = list(dict.fromkeys(jobs))
        self.timeout = timeout
        for job in self.jobs:
            if not isinstance(job, Job):
                raise TypeError(f"as_completed() takes Job objects, got {type(job).__name__}")

    def __iter__(self) -> Iterator[Job]:
        by_future = {job._done: job for job in self.jobs}
        try:
            for future in concurrent.futures.as_completed(by_future, timeout=self.timeout):
                yield by_future[future]
        except concurrent.futures.TimeoutError:
            left = sum(not job.done() for job in self.jobs)
            raise TimeoutError(f"as_completed(): {left} of {len(self.jobs)} job(s) still running "
                               f"after {self.timeout:g} s") from None

    async def _aiterate(self) -> AsyncIterator[Job]:
        pending = {asyncio.wrap_future(job._done): job for job in self.jobs}
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        try:
            while pending:
                remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
                done, _ = await asyncio.wait(pending, timeout=remaining,
                                             return_when=asyncio.FIRST_COMPLETED)
                if not done:
                    raise TimeoutError(f"as_completed(): {len(pending)} of {len(self.jobs)} job(s) "
                                       f"still running after {self.timeout:g} s")
                # ended jobs in the order given (several may end between two wake-ups)
                for future in [f for f in pending if f in done]:
                    yield pending.pop(future)
        finally:
            for future in pending:  # unhook the wrappers; the jobs themselves keep running
                future.cancel()

    def __aiter__(self) -> AsyncIterator[Job]:
        return self._aiterate()


def as_completed(jobs: Iterable[Job], timeout: float | None = None) -> AsCompleted:
    """Yield `jobs` as they end (succeeded, failed, ... any final state), like
    `concurrent.futures.as_completed`: `for job in gv.as_completed(jobs): print(job.result())`,
    or `async for job in gv.as_completed(jobs)` in async code. `timeout` (seconds) raises
    `TimeoutError` when jobs are still running by then (they keep running)."""
    return AsCompleted(jobs, timeout)


class JobGroup(Sequence[Job]):
    """Several jobs started together (`gv.generate(prompt, n=4)`): a sequence of `Job`s that
    shows itself in a notebook as one grid filling in as the clips arrive.

    `wait(timeout)` returns the list of `Result`s (in the order of the jobs), `await group`
    too; `as_completed()` yields the jobs as they end; `done()`, `cancel()`.
    """

    def __init__(self, jobs: Iterable[Job]) -> None:
        self.jobs: tuple[Job, ...] = tuple(jobs)
        self._listeners: dict[Callable[[Any], None], Callable[[Job], None]] = {}

    @overload
    def __getitem__(self, index: int) -> Job: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Job]: ...

    def __getitem__(self, index: int | slice) -> Job | Sequence[Job]:
        return self.jobs[index]

    def __len__(self) -> int:
        return len(self.jobs)

    def done(self) -> bool:
        """True once every job has ended."""
        return all(job.done() for job in self.jobs)

    def wait(self, timeout: float | None = None) -> list[Result]:
        """Block until every job ends and return their `Result`s in order. `timeout` is for
        the whole group: jobs still running then stop being polled and end `timed_out` (as
        `Job.wait(timeout)`; `gv.resume()` re-attaches)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        results = []
        for job in self.jobs:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            results.append(job.wait(left))
        return results

    def __await__(self) -> Generator[Any, None, list[Result]]:
        async def gather() -> list[Result]:
            return list(await asyncio.gather(*(asyncio.wrap_future(job._done) for job in self.jobs)))
        return gather().__await__()

    def as_completed(self, timeout: float | None = None) -> AsCompleted:
        """The jobs as they end (see `gv.as_completed`)."""
        return AsCompleted(self.jobs, timeout)

    def cancel(self) -> None:
        """Cancel every job still running (see `Job.cancel`)."""
        for job in self.jobs:
            if not job.done():
                job.cancel()

    # ---- what the live display needs (display.display_group) ----------------------------
    def add_listener(self, callback: Callable[[Any], None]) -> None:
        """Call `callback(group)` after any job of the group changes."""
        def relay(_job: Job) -> None:
            callback(self)
        self._listeners[callback] = relay
        for job in self.jobs:
            job.add_listener(relay)

    def remove_listener(self, callback: Callable[[Any], None]) -> None:
        """Stop calling `callback`."""
        relay = self._listeners.pop(callback, None)
        if relay is not None:
            for job in self.jobs:
                job.remove_listener(relay)

    def __repr__(self) -> str:
        states: dict[str, int] = {}
        for job in self.jobs:
            states[job.state.value] = states.get(job.state.value, 0) + 1
        detail = ", ".join(f"{n} {state}" for state, n in states.items())
        return f"JobGroup({len(self.jobs)} jobs: {detail})"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        from .display import group_bundle

        return group_bundle(self.jobs)

    def _ipython_display_(self) -> None:
        """Show the jobs as one grid in a notebook, kept live until the last one ends."""
        from .display import display_group

        display_group(self)
