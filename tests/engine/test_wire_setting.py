"""The engine's wire is a setting with a clear error: aiohttp by default, httpx's own transport
on request, and nothing else."""

from __future__ import annotations

import pytest

import grokvid_nb as gv
from grokvid_nb._aiohttp_transport import AiohttpTransport
from grokvid_nb._client import http_backend, wire_transport
from grokvid_nb._exceptions import ConfigurationError


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
