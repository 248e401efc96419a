"""grokvid_nb: Grok video generation as a first-class citizen of Jupyter.

```python
import grokvid_nb as gv
gv.use_sandbox()                      # no key, no network: the built-in emulator
job = gv.generate("a lakeside at sunset", provider="apixo", duration=6)
job                                   # live status in a notebook, then an inline <video>
df = gv.compare("a lakeside at sunset")   # every provider, one table of latency and cost
```
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

# a library logs, the application decides where it goes (retries are logged at INFO)
logging.getLogger(__name__).addHandler(logging.NullHandler())

__version__ = "0.1.0"

# name -> module that defines it; imported on first access so `import grokvid_nb` stays light
_EXPORTS = {
    "Client": "._client",
    "Job": "._job",
    "Result": "._result",
    "State": "._types",
    "providers": "._catalog",
    "estimate_cost": "._catalog",
    "set_price": "._catalog",
    "generate": "._api",
    "resume": "._api",
    "use_sandbox": "._sandbox_mode",
    "poll_policy": "._schedule",
    "form": ".widgets",
    "compare": ".compare",
    "summarize": ".compare",
    "gallery": ".compare",
    "plot": ".compare",
    "sweep": ".compare",
}
_EXCEPTIONS = "._exceptions"

__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        exceptions = importlib.import_module(_EXCEPTIONS, __name__)
        if name in exceptions.__all__:
            return getattr(exceptions, name)
        raise AttributeError(f"module 'grokvid_nb' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS) | set(importlib.import_module(_EXCEPTIONS, __name__).__all__))


# `providers` names both the catalog function and the adapter subpackage. Importing the
# subpackage (any `from .providers import ...`, e.g. by `gv.Client`) sets the package attribute
# `grokvid_nb.providers` to that module, hiding the lazy function (`gv.providers()` then raised
# "'module' object is not callable"). Load the subpackage now and bind the function over it:
# a module already in sys.modules is never re-assigned to its parent.
from . import providers as _registry  # noqa: E402,F401
from ._catalog import estimate_cost, providers  # noqa: E402
