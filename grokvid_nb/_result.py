"""`Result`: what a finished job produced, and `download()` for it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from ._types import State

if TYPE_CHECKING:
    from ._job import Job

__all__ = ["Result"]


@dataclass(frozen=True)
class Result:
    """The outcome of one job. `ok` is True only for a succeeded job with a video URL.

    `cost_source` is "reported" (the provider said what it charged), "estimated" (from the price
    table) or None (unknown). `latency_s` runs from the submit to the moment the client learned
    the job was done; `queue_s`/`generation_s` come from provider timestamps where given.
    """

    provider: str
    model: str
    mode: str
    status: State
    task_id: str | None
    prompt: str
    params: Mapping[str, Any]
    video_urls: tuple[str, ...] = ()
    cost_usd: float | None = None
    cost_source: str | None = None
    latency_s: float | None = None
    polls: int = 0
    error_code: str | None = None
    error_message: str | None = None
    video_duration: float | None = None
    queue_s: float | None = None
    generation_s: float | None = None
    reused: bool = False
    job_id: str | None = None
    local_path: Path | None = None
    _job: "Job | None" = field(default=None, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        """True when the video was made."""
        return self.status is State.SUCCEEDED and bool(self.video_urls)

    @property
    def video_url(self) -> str | None:
        """The first result URL."""
        return self.video_urls[0] if self.video_urls else None

    def download(self, dest: str | Path | None = None) -> Path:
        """Save the MP4 (atomically) and return its path; see `Job.download`."""
        if self._job is None:
            raise RuntimeError("this Result is detached from its job; nothing to download with")
        return self._job.download(dest)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        from .display import result_bundle

        return result_bundle(self)
