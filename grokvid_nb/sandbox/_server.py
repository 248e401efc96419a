"""Running the sandbox under uvicorn in a background thread, with real connection drops.

Uvicorn answers 500 when an app raises before replying, so an injected ``drop`` cannot
be a plain exception. Instead the sandbox's HTTP protocol class records each
connection's transport under (server address, client address) — the same pair the
ASGI scope carries — and the app closes that transport to drop the connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator, MutableMapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # uvicorn loads when a server starts, not with the sandbox
    from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["ConnKey", "TransportRegistry", "protocol_class", "serve_in_thread"]

ConnKey = tuple[tuple[str, int], tuple[str, int]]
TransportRegistry = MutableMapping[ConnKey, asyncio.Transport]


def _addr(value: Any) -> tuple[str, int] | None:
    if isinstance(value, (tuple, list)) and len(value) >= 2 and isinstance(value[1], int):
        return str(value[0]), value[1]
    return None


def conn_key(server: Any, client: Any) -> ConnKey | None:
    """The registry key for an ASGI scope's ``server`` and ``client`` values."""
    s, c = _addr(server), _addr(client)
    return (s, c) if s and c else None


def protocol_class(registry: TransportRegistry) -> type[H11Protocol]:
    """An h11 protocol class that records live transports in ``registry``."""
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class _RecordingH11Protocol(H11Protocol):
        _key: ConnKey | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._key = conn_key(transport.get_extra_info("sockname"), transport.get_extra_info("peername"))
            if self._key is not None:
                registry[self._key] = transport

        def connection_lost(self, exc: Exception | None) -> None:
            if self._key is not None:
                registry.pop(self._key, None)
            super().connection_lost(exc)

    return _RecordingH11Protocol


@contextlib.contextmanager
def serve_in_thread(app: Any, registry: TransportRegistry, host: str, port: int) -> Iterator[str]:
    """Serve ``app`` on ``host:port`` (0 picks a free port) and yield its base URL."""
    import uvicorn
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        http=protocol_class(registry),
        lifespan="off",
        log_level="warning",
        access_log=False,
        ws="none",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"grokvid-sandbox-{host}:{port}", daemon=True)
    thread.start()
    try:
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError(f"the sandbox server failed to start on {host}:{port}")
            thread.join(0.01)
        sockname = server.servers[0].sockets[0].getsockname()
        shown = f"[{host}]" if ":" in host else host
        yield f"http://{shown}:{sockname[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
