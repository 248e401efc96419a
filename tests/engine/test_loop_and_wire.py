"""The engine's private loop and its wire are settings with clear errors: uvloop and aiohttp by
default, asyncio's loop and httpx's own transport on request, and nothing else."""

from __future__ import annotations

import sys

import pytest

import grokvid_nb as gv
from grokvid_nb import _loop
from grokvid_nb._aiohttp_transport import AiohttpTransport
from grokvid_nb._client import http_backend, wire_transport
from grokvid_nb._exceptions import ConfigurationError


@pytest.mark.parametrize(("raw", "kind"), [("", "uvloop"), ("uvloop", "uvloop"), (" UVLOOP ", "uvloop"),
                                           ("asyncio", "asyncio"), ("Asyncio", "asyncio")])
def test_event_loop_kind(monkeypatch: pytest.MonkeyPatch, raw: str, kind: str) -> None:
    monkeypatch.setenv("GROKVID_EVENT_LOOP", raw)
    assert _loop.event_loop_kind() == kind


def test_event_loop_kind_refuses_what_it_does_not_know(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROKVID_EVENT_LOOP", "trio")
    with pytest.raises(ConfigurationError) as info:
        _loop.event_loop_kind()
    assert str(info.value) == "GROKVID_EVENT_LOOP='trio' is not one of: uvloop, asyncio"


def test_without_uvloop_the_default_is_asyncio_and_asking_for_it_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)  # as on Windows: the import fails
    monkeypatch.delenv("GROKVID_EVENT_LOOP", raising=False)
    assert _loop.event_loop_kind() == "asyncio"
    monkeypatch.setenv("GROKVID_EVENT_LOOP", "uvloop")
    with pytest.raises(ConfigurationError, match="uvloop is not installed"):
        _loop.event_loop_kind()


def test_the_engine_runs_on_uvloop_by_default() -> None:
    import uvloop

    assert isinstance(_loop.engine_loop(), uvloop.Loop)


@pytest.mark.parametrize(("raw", "backend"), [("", "aiohttp"), ("aiohttp", "aiohttp"), ("HTTPCORE", "httpcore")])
def test_http_backend(monkeypatch: pytest.MonkeyPatch, raw: str, backend: str) -> None:
    monkeypatch.setenv("GROKVID_HTTP_BACKEND", raw)
    assert http_backend() == backend
    transport = wire_transport(backend, 3)
    assert (type(transport) if transport is not None else None) is (AiohttpTransport if backend == "aiohttp" else None)


def test_an_unknown_http_backend_stops_the_client_before_anything_is_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROKVID_HTTP_BACKEND", "requests")
    with pytest.raises(ConfigurationError) as info:
        gv.Client("apixo", api_key="k", base_url="http://127.0.0.1:9")
    assert str(info.value) == "GROKVID_HTTP_BACKEND='requests' is not one of: aiohttp, httpcore"
