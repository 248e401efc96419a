"""`gv.use_sandbox()`: route every provider to the built-in emulator."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx

from . import _args

if TYPE_CHECKING:
    from .sandbox import Sandbox

__all__ = ["use_sandbox", "sandbox_route", "sandbox_by_default", "is_in_process_sandbox",
           "SANDBOX_DOMAIN", "active_sandbox"]

#: In-process sandboxes live under this domain (`.invalid` never resolves, so nothing leaves).
#: Each one gets its own host, so the ledger never mixes up jobs of two sandboxes: a job of an
#: earlier process's sandbox (gone with that process) is never "reused" or resumed.
SANDBOX_DOMAIN = "sandbox.invalid"

_lock = threading.Lock()
_state: dict[str, Any] = {"sandbox": None, "url": None, "explicit": False, "base_url": None}


def use_sandbox(enabled: bool = True, *, url: str | None = None, **config: Any) -> "Sandbox | None":
    """Serve every provider from the built-in emulator, in-process (no port, no key, no network).

    `url="http://127.0.0.1:8765"` uses a sandbox already served by `python -m grokvid_nb.sandbox`
    instead. Keyword options go to `SandboxConfig` (e.g. `time_scale=0.02`, `seed=1`).
    `use_sandbox(False)` goes back to the real providers. Returns the in-process `Sandbox`.
    With the environment variable `GROKVID_SANDBOX=1` (set on Binder) the sandbox is on from the
    start, without this call.
    """
    if url is not None:
        url = _args.base_url("url", url)
    if "time_scale" in config:
        config["time_scale"] = _args.finite_positive("time_scale", config["time_scale"])
    with _lock:
        _state["explicit"] = True
        if not enabled:
            _state.update(sandbox=None, url=None)
            return None
        if url is not None:
            _state.update(sandbox=None, url=url)
            return None
        from .sandbox import Sandbox, SandboxConfig

        # the client scales its own rate limits with GROKVID_TIME_SCALE; the emulator matches
        config.setdefault("scale_rate_limits", True)
        sandbox = Sandbox(SandboxConfig(**config))
        _state.update(sandbox=sandbox, url=None,
                      base_url=f"http://s{uuid.uuid4().hex[:12]}.{SANDBOX_DOMAIN}")
        return sandbox


def is_in_process_sandbox(url: str) -> bool:
    """True for the base URL of an in-process sandbox (this process's or an earlier one's)."""
    host = httpx.URL(url).host
    return host == SANDBOX_DOMAIN or host.endswith("." + SANDBOX_DOMAIN)


def active_sandbox() -> "Sandbox | None":
    """The in-process sandbox, when `use_sandbox()` is on."""
    return _state["sandbox"]


def sandbox_by_default() -> bool:
    """True when `GROKVID_SANDBOX` asks for the sandbox without a call (Binder sets it)."""
    return os.environ.get("GROKVID_SANDBOX", "").strip().lower() in ("1", "true", "yes", "on")


def sandbox_route() -> tuple[str, Callable[[], httpx.AsyncBaseTransport] | None, float | None] | None:
    """(base_url, transport factory, the emulator's time scale) when the sandbox is on."""
    if _state["sandbox"] is None and _state["url"] is None and not _state["explicit"] and sandbox_by_default():
        use_sandbox()
    with _lock:
        if _state["url"] is not None:
            return _state["url"], None, None
        sandbox = _state["sandbox"]
        if sandbox is None:
            return None
        return _state["base_url"], sandbox.transport, sandbox.config.time_scale
