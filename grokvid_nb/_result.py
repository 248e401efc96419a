"""`Result`: what a finished job produced, `download()` for it, and its notebook display."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._types import ResultData

__all__ = ["Result"]


@dataclass(frozen=True)
class Result(ResultData):
    """The outcome of one job (fields: see `ResultData`). `ok` is True only for a succeeded
    job with a video URL; `download()` saves the video; in a notebook it shows as the video
    with its caption, or the error box."""

    def download(self, dest: str | Path | None = None) -> Path:
        """Save the MP4 (atomically) and return its path; see `Job.download`."""
        if self.link is None:
            raise RuntimeError("this Result is detached from its job; nothing to download with")
        return self.link.download(dest)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        from .display import result_bundle

        return result_bundle(self)
