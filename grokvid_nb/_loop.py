"""One private event loop in a daemon thread, where every job polls.

Why not nest_asyncio: the design card named it, but nest_asyncio 1.6.0 is archived, and under
ipykernel 7.4 `nest_asyncio.apply()` then `asyncio.run(...)` during Run All raised "cannot enter
context ... is already entered" and the queued cells never ran. It also patches the process.
jupyter_core's `run_sync`, nbclient, fsspec and ipyparallel instead run coroutines on a private
loop in a background thread when a loop is already running, and that is what we do: it works the
same in a plain script, in pytest, and in a kernel whose own loop is running (ipykernel 6 and 7),
and jobs keep polling between cells because this loop never stops. Nothing is patched.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["engine_loop", "run_coroutine", "run_sync", "in_engine_thread"]

T = TypeVar("T")

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_thread: threading.Thread | None = None


def _serve(loop: asyncio.AbstractEventLoop, ready: threading.Event) -> None:
    asyncio.set_event_loop(loop)
    ready.set()
    loop.run_forever()


def engine_loop() -> asyncio.AbstractEventLoop:
    """The engine's loop, started on first use."""
    global _loop, _thread
    with _lock:
        if _loop is None or _thread is None or not _thread.is_alive():
            _loop = asyncio.new_event_loop()
            ready = threading.Event()
            _thread = threading.Thread(target=_serve, args=(_loop, ready), name="grokvid-engine",
                                       daemon=True)
            _thread.start()
            ready.wait()
        return _loop


def in_engine_thread() -> bool:
    """True when called from the engine's own thread (where blocking would deadlock)."""
    return _thread is not None and threading.current_thread() is _thread


def run_coroutine(coro: Coroutine[Any, Any, T]) -> "concurrent.futures.Future[T]":
    """Schedule `coro` on the engine loop; returns a thread-safe future."""
    return asyncio.run_coroutine_threadsafe(coro, engine_loop())


def run_sync(coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
    """Run `coro` on the engine loop and block this thread for its result."""
    if in_engine_thread():
        coro.close()
        raise RuntimeError("run_sync() called from the engine thread; await the coroutine instead")
    return run_coroutine(coro).result(timeout)


async def wrap(future: "concurrent.futures.Future[T]") -> T:
    """Await a thread-safe future from any event loop."""
    return await asyncio.wrap_future(future)


def _after_fork() -> None:
    global _loop, _thread
    _loop = None
    _thread = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)


