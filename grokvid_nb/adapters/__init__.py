"""The provider adapters (sans-IO) and their read-only registry.

One small module per provider builds `httpx.Request`s and parses replies into `TaskStatus`;
its capability and price tables are data (`_spec.py`), validation is `_validate.py`, reply
reading and error mapping `_reply.py`. Adapters are imported on first use, like fsspec's
registry; `get_adapter("xai")` returns the shared instance (they are stateless).
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from ._adapter import Adapter
from ._spec import USER_PARAMETERS, ModelSpec, ModeSpec, PollingPrior, Price

__all__ = ["PROVIDER_NAMES", "USER_PARAMETERS", "Adapter", "ModeSpec", "ModelSpec", "PollingPrior",
           "Price", "get_adapter", "registry"]

_KNOWN: Mapping[str, tuple[str, str]] = MappingProxyType({
    "xai": ("grokvid_nb.adapters.xai", "XAI"),
    "apixo": ("grokvid_nb.adapters.apixo", "Apixo"),
    "pixazo": ("grokvid_nb.adapters.pixazo", "Pixazo"),
    "xingchao": ("grokvid_nb.adapters.xingchao", "XingChao"),
    "apiinone": ("grokvid_nb.adapters.apiinone", "ApiInOne"),
})

#: Provider names in display order.
PROVIDER_NAMES: tuple[str, ...] = tuple(_KNOWN)
registry = _KNOWN
_instances: dict[str, Adapter] = {}


def get_adapter(name: str) -> Adapter:
    """The adapter for provider `name` (case-insensitive), or a ValueError listing the known names."""
    key = str(name).strip().lower()
    if key not in _KNOWN:
        raise ValueError(f"unknown provider {name!r}; known providers: {', '.join(PROVIDER_NAMES)}")
    if key not in _instances:
        module_name, class_name = _KNOWN[key]
        _instances[key] = getattr(importlib.import_module(module_name), class_name)()
    return _instances[key]


_DEPRECATED = {"Provider": ("Adapter", Adapter), "get_provider": ("get_adapter", get_adapter)}


def __getattr__(name: str) -> Any:
    if name in _DEPRECATED:
        new, value = _DEPRECATED[name]
        warnings.warn(f"grokvid_nb.adapters.{name} is deprecated; use {new}", DeprecationWarning,
                      stacklevel=2)
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
