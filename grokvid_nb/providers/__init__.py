"""The provider registry: a read-only map from provider name to its sans-IO adapter.

Adapters are imported on first use, like fsspec's registry; `get_provider("xai")` returns the
shared adapter instance (they are stateless).
"""

from __future__ import annotations

import importlib
from types import MappingProxyType
from typing import Mapping

from ._base import ModelSpec, ModeSpec, PollingPrior, Price, Provider

__all__ = ["PROVIDER_NAMES", "registry", "get_provider", "Provider", "ModelSpec", "ModeSpec",
           "Price", "PollingPrior"]

_KNOWN: Mapping[str, tuple[str, str]] = MappingProxyType({
    "xai": ("grokvid_nb.providers.xai", "XAI"),
    "apixo": ("grokvid_nb.providers.apixo", "Apixo"),
    "pixazo": ("grokvid_nb.providers.pixazo", "Pixazo"),
    "xingchao": ("grokvid_nb.providers.xingchao", "XingChao"),
    "apiinone": ("grokvid_nb.providers.apiinone", "ApiInOne"),
})

#: Provider names in display order.
PROVIDER_NAMES: tuple[str, ...] = tuple(_KNOWN)
registry = _KNOWN
_instances: dict[str, Provider] = {}


def get_provider(name: str) -> Provider:
    """The adapter for `name` (case-insensitive), or a ValueError listing the known names."""
    key = str(name).strip().lower()
    if key not in _KNOWN:
        raise ValueError(f"unknown provider {name!r}; known providers: {', '.join(PROVIDER_NAMES)}")
    if key not in _instances:
        module_name, class_name = _KNOWN[key]
        _instances[key] = getattr(importlib.import_module(module_name), class_name)()
    return _instances[key]
