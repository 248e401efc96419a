"""grokvid_nb: Grok video generation as a first-class citizen of Jupyter.

```python
import grokvid_nb as gv
gv.use_sandbox()                      # no key, no network: the built-in emulator
job = gv.generate("a lakeside at sunset", provider="apixo", duration=6)
job                                   # live status in a notebook, then an inline <video>
df = gv.compare("a lakeside at sunset")   # every provider, one table of latency and cost
group = gv.generate("a lakeside", provider="xai", n=4)   # four videos, one grid; group.wait()
for job in gv.as_completed(group): print(job.result())   # (async for ... in async code)
```
"""

from __future__ import annotations

import importlib as _importlib
import logging as _logging
import typing as _typing

from ._catalog import estimate_cost, providers, set_price
from ._exceptions import (
    ArgumentError,
    AuthenticationError,
    BudgetExceededError,
    ConfigurationError,
    DeadlineExceededError,
    DownloadError,
    GrokVidError,
    ImageInputError,
    InsufficientBalanceError,
    LedgerError,
    MissingAPIKeyError,
    MissingBaseURLError,
    ProviderError,
    ProviderResponseError,
    ProviderServerError,
    RateLimitedError,
    ReplyTooLargeError,
    RequestRejectedError,
    ResultExpiredError,
    TaskNotFoundError,
    TransportError,
    UnsafePathError,
    UploaderRequiredError,
    UploadError,
    ValidationError,
)
from ._types import State

if _typing.TYPE_CHECKING:
    from ._api import generate, resume
    from ._budget import set_budget
    from ._client import Client
    from ._compare import compare, compare_async, gallery, plot, summarize, sweep
    from ._group import JobGroup, as_completed
    from ._history import history, spend
    from ._job import Job
    from ._result import Result
    from ._sandbox_mode import use_sandbox
    from ._schedule import poll_policy
    from ._uploads import FsspecUploader, SandboxUploader, UploaderRequiredError, UploadError, set_uploader
    from .widgets import form

# a library logs, the application decides where it goes (retries are logged at INFO)
_logging.getLogger(__name__).addHandler(_logging.NullHandler())

__version__ = "0.1.0"

__all__ = [
    "ArgumentError",
    "AuthenticationError",
    "BudgetExceededError",
    "Client",
    "ConfigurationError",
    "DeadlineExceededError",
    "DownloadError",
    "FsspecUploader",
    "GrokVidError",
    "ImageInputError",
    "InsufficientBalanceError",
    "Job",
    "JobGroup",
    "LedgerError",
    "MissingAPIKeyError",
    "MissingBaseURLError",
    "ProviderError",
    "ProviderResponseError",
    "ProviderServerError",
    "RateLimitedError",
    "ReplyTooLargeError",
    "RequestRejectedError",
    "Result",
    "ResultExpiredError",
    "SandboxUploader",
    "State",
    "TaskNotFoundError",
    "TransportError",
    "UnsafePathError",
    "UploadError",
    "UploaderRequiredError",
    "ValidationError",
    "__version__",
    "as_completed",
    "compare",
    "compare_async",
    "estimate_cost",
    "form",
    "gallery",
    "generate",
    "history",
    "plot",
    "poll_policy",
    "providers",
    "resume",
    "set_budget",
    "set_price",
    "set_uploader",
    "spend",
    "summarize",
    "sweep",
    "use_sandbox",
]

# name -> module that defines it; imported on first access so `import grokvid_nb` stays light
# (no pandas, ipywidgets or event loop until used)
_LAZY = {
    "Client": "._client",
    "Job": "._job",
    "JobGroup": "._group",
    "as_completed": "._group",
    "compare_async": "._compare",
    "Result": "._result",
    "generate": "._api",
    "resume": "._api",
    "use_sandbox": "._sandbox_mode",
    "poll_policy": "._schedule",
    "form": ".widgets",
    "compare": "._compare",
    "summarize": "._compare",
    "gallery": "._compare",
    "plot": "._compare",
    "sweep": "._compare",
    "set_uploader": "._uploads",
    "FsspecUploader": "._uploads",
    "SandboxUploader": "._uploads",
    "set_budget": "._budget",
    "history": "._history",
    "spend": "._history",
}


def __getattr__(name: str) -> _typing.Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'grokvid_nb' has no attribute {name!r}")
    value = getattr(_importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return list(__all__)
