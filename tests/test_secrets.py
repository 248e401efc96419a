"""API keys never leak, and `Client` finds its key and base URL where the docs say.

Checked: repr/str of Secret, Client, Job and Result; every adapter exception (a 401 whose body
echoes the key); `str(httpx.Request)`; log records (caplog, DEBUG) while jobs run against
`httpx.MockTransport`; the ledger file. Secret is not picklable. Nothing touches the network.
"""

from __future__ import annotations

import copy
import json
import logging
import pickle
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

import grokvid_nb as gv
from grokvid_nb import _sandbox_mode
from grokvid_nb._secrets import Secret, redact
from grokvid_nb.adapters import PROVIDER_NAMES, get_adapter

KEY = "sk-live-TOPSECRET-0123456789abcdefGHIJ"
ENV_VARS = {"xai": "XAI_API_KEY", "apixo": "APIXO_API_KEY", "pixazo": "PIXAZO_API_KEY",
            "xingchao": "XINGCHAO_API_KEY", "apiinone": "APIINONE_API_KEY"}
SUBMIT_PATHS = {
    "xai": "/v1/videos/generations",
    "apixo": "/api/v1/generateTask/grok-video",
    "pixazo": "/grok-imagine-video-text-to-video/v1/grok-imagine-video-text-to-video-request",
    "xingchao": "/v1/grok/videos",
    "apiinone": "/api/v1/videos/generations",
}


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No ledger in ~, fast timings, no keys from the real environment, sandbox off."""
    monkeypatch.setenv("GROKVID_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GROKVID_TIME_SCALE", "0.01")
    for var in (*ENV_VARS.values(), "XINGCHAO_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setitem(_sandbox_mode._state, "sandbox", None)
    monkeypatch.setitem(_sandbox_mode._state, "url", None)


def _no_key(*texts: object) -> None:
    for text in texts:
        assert KEY not in str(text)
        assert KEY[8:20] not in str(text)  # not even a fragment


# ---- Secret ---------------------------------------------------------------------------------

def test_secret_hides_the_key():
    secret = Secret(KEY)
    _no_key(repr(secret), str(secret), f"{secret}", "%s" % secret, "%r" % (secret,), [secret],
            {"key": secret})
    assert "REDACTED" in repr(secret)
    assert secret.reveal() == KEY


def test_secret_strips_and_compares():
    assert Secret(f"  {KEY}\n").reveal() == KEY
    assert Secret(KEY) == Secret(KEY) and Secret(KEY) != Secret(KEY + "x") and Secret(KEY) != KEY


@pytest.mark.parametrize("bad", ["", "   ", None, 123])
def test_secret_rejects_empty_or_non_text(bad):
    with pytest.raises(ValueError):
        Secret(bad)


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_secret_is_not_picklable(protocol):
    with pytest.raises(TypeError, match="not picklable"):
        pickle.dumps(Secret(KEY), protocol=protocol)


def test_secret_cannot_be_copied_into_something_picklable():
    with pytest.raises(TypeError):
        copy.deepcopy(Secret(KEY))
    with pytest.raises(TypeError):
        pickle.dumps({"nested": [Secret(KEY)]})


@pytest.mark.parametrize("text", [
    f"Authorization: Bearer {KEY}",
    f'{{"error": "invalid token Bearer {KEY}"}}',
    f"Ocp-Apim-Subscription-Key: {KEY}",
    f'{{"api_key": "{KEY}"}}',
    f"x-api-key={KEY}",
])
def test_redact_patterns(text):
    _no_key(redact(text))
    assert "[REDACTED]" in redact(text)


def test_redact_given_secret_anywhere():
    _no_key(redact(f"your key {KEY} is wrong", Secret(KEY)))


# ---- Client: key and base URL ---------------------------------------------------------------

@pytest.mark.parametrize("provider", PROVIDER_NAMES)
def test_key_from_env_var(provider, monkeypatch):
    monkeypatch.setenv(ENV_VARS[provider], KEY)
    monkeypatch.setenv("XINGCHAO_BASE_URL", "https://xingchao.example.test")
    client = gv.Client(provider)
    assert client.key.reveal() == KEY
    _no_key(repr(client), str(client), repr(client.key), repr(vars(client)))


@pytest.mark.parametrize("provider", PROVIDER_NAMES)
def test_argument_wins_over_env_var(provider, monkeypatch):
    monkeypatch.setenv(ENV_VARS[provider], "from-the-environment-000")
    client = gv.Client(provider, api_key=KEY, base_url="http://127.0.0.1:9")
    assert client.key.reveal() == KEY


@pytest.mark.parametrize("provider", PROVIDER_NAMES)
def test_missing_key_names_the_variable(provider):
    with pytest.raises(gv.MissingAPIKeyError) as info:
        gv.Client(provider, base_url="http://127.0.0.1:9")
    assert ENV_VARS[provider] in str(info.value)
    assert isinstance(info.value, gv.ConfigurationError)


def test_empty_env_var_counts_as_missing(monkeypatch):
    monkeypatch.setenv("APIXO_API_KEY", "   ")
    with pytest.raises(gv.MissingAPIKeyError, match="APIXO_API_KEY"):
        gv.Client("apixo")


def test_xingchao_base_url_is_published():
    """Issue 10 item 7: the default is the published one; the error no longer says otherwise."""
    assert gv.Client("xingchao", api_key=KEY).endpoint == "https://zcbservice.aizfw.cn/kyyReactApiServer"


def test_an_adapter_without_a_default_base_url_needs_one(monkeypatch):
    from grokvid_nb.adapters.xingchao import XingChao

    monkeypatch.setattr(XingChao, "default_base_url", None)
    with pytest.raises(gv.MissingBaseURLError) as info:
        gv.Client("xingchao", api_key=KEY)
    assert str(info.value) == ("xingchao has no default base URL: pass base_url=... or set "
                               "XINGCHAO_BASE_URL (or call gv.use_sandbox() to try it offline)")
    _no_key(info.value)


def test_xingchao_base_url_from_env(monkeypatch):
    monkeypatch.setenv("XINGCHAO_BASE_URL", "https://xingchao.example.test/gw/")
    client = gv.Client("xingchao", api_key=KEY)
    assert client.endpoint == "https://xingchao.example.test/gw"
    # the argument wins over the variable
    assert gv.Client("xingchao", api_key=KEY, base_url="http://127.0.0.1:9").endpoint == "http://127.0.0.1:9"


@pytest.mark.parametrize("provider, default", [
    ("xai", "https://api.x.ai"), ("apixo", "https://api.apixo.ai"),
    ("pixazo", "https://gateway.pixazo.ai"), ("apiinone", "https://apiin.one"),
])
def test_default_base_urls(provider, default):
    client = gv.Client(provider, api_key=KEY)
    request = client.adapter.build_submit(client.validate("p"), client.endpoint, client.key)
    assert str(request.url) == default + SUBMIT_PATHS[provider]


@pytest.mark.parametrize("provider", PROVIDER_NAMES)
@pytest.mark.parametrize("base", ["http://127.0.0.1:9/pfx", "http://127.0.0.1:9/pfx/"])
def test_base_url_replaces_scheme_host_and_prefix(provider, base):
    """The documented path is appended unchanged to the base URL, prefix included."""
    client = gv.Client(provider, api_key=KEY, base_url=base)
    request = client.adapter.build_submit(client.validate("p"), client.endpoint, client.key)
    assert str(request.url) == "http://127.0.0.1:9/pfx" + SUBMIT_PATHS[provider]


@pytest.mark.parametrize("bad", ["ftp://example.com", "example.com", "http://"])
def test_bad_base_url(bad):
    with pytest.raises(ValueError):
        gv.Client("xai", api_key=KEY, base_url=bad)


# ---- adapter exceptions and requests ---------------------------------------------------------

def _echo_bodies(provider: str) -> list[httpx.Response]:
    """401 replies that echo the key back in every shape we could think of."""
    header = "Ocp-Apim-Subscription-Key" if provider == "pixazo" else "Authorization"
    sent = KEY if provider == "pixazo" else f"Bearer {KEY}"
    return [
        httpx.Response(401, text=f"401 Unauthorized: bad credentials {header}: {sent}"),
        httpx.Response(401, json={"error": f"invalid key; got {header}: {sent}"}),
        httpx.Response(401, json={"code": 401, "message": f"Invalid token: Bearer {KEY}"}),
        httpx.Response(401, json={"error": {"code": f"Bearer {KEY}", "message": f"Bearer {KEY}"}}),
        httpx.Response(401, json={"statusCode": 401, "message": f"{header}: {sent} is not valid"}),
        httpx.Response(401, text="x" * 285 + f" Bearer {KEY}"),  # the key right at the cut
    ]


@pytest.mark.parametrize("provider", PROVIDER_NAMES)
def test_401_echoing_the_key_never_shows_it(provider):
    adapter = get_adapter(provider)
    for response in _echo_bodies(provider):
        for parse in (adapter.parse_submit, adapter.parse_poll):
            with pytest.raises(gv.AuthenticationError) as info:
                parse(response)
            exc = info.value
            _no_key(str(exc), repr(exc), exc.message, exc.code, exc.args)
            assert ENV_VARS[provider] in str(exc)


@pytest.mark.parametrize("provider", PROVIDER_NAMES)
def test_unreadable_reply_echoing_the_key_never_shows_it(provider):
    adapter = get_adapter(provider)
    replies = [
        httpx.Response(200, text=f"<html>debug: Authorization: Bearer {KEY}</html>"),
        httpx.Response(200, json={"status": f"Bearer {KEY}", "data": {"state": f"Bearer {KEY}"}}),
    ]
    for response in replies:
        with pytest.raises(gv.ProviderResponseError) as info:
            adapter.parse_submit(response)
        _no_key(str(info.value), repr(info.value), info.value.args)
    with pytest.raises(gv.ProviderResponseError) as info:
        adapter.parse_poll(replies[0])
    _no_key(str(info.value), repr(info.value), info.value.args)
    # a status word outside the vocabulary is an unrecognised status, quoted without the key
    status = adapter.parse_poll(replies[1])
    assert status.unrecognised is not None
    _no_key(repr(status), status.error_message, status.unrecognised, status.raw_status)


@pytest.mark.parametrize("provider", PROVIDER_NAMES)
def test_requests_do_not_show_the_key(provider):
    adapter = get_adapter(provider)
    key = Secret(KEY)
    submit = adapter.build_submit(adapter.validate("p"), "http://127.0.0.1:9", key)
    poll = adapter.build_poll("task-1", "http://127.0.0.1:9", key)
    for request in (submit, poll):
        _no_key(str(request), repr(request), str(request.url))
        assert any(KEY in v for v in request.headers.values())  # sent, just never shown


def test_validation_errors_do_not_need_the_key():
    with pytest.raises(gv.ValidationError) as info:
        gv.Client("xai", api_key=KEY, base_url="http://127.0.0.1:9").validate("p", duration=99)
    _no_key(str(info.value), repr(info.value))


# ---- jobs against httpx.MockTransport --------------------------------------------------------

def _mock_provider(provider: str, script: list[Callable[[httpx.Request], httpx.Response]]):
    """A MockTransport that answers with `script` in order, checking the key arrives."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if provider == "pixazo":
            assert request.headers["Ocp-Apim-Subscription-Key"] == KEY
        else:
            assert request.headers["Authorization"] == f"Bearer {KEY}"
        seen.append(request)
        step = script[min(len(seen), len(script)) - 1]
        return step(request)

    return httpx.MockTransport(handler), seen


def _client(provider: str, transport: httpx.MockTransport, tmp_path: Path) -> gv.Client:
    base = f"http://{provider}-{uuid.uuid4().hex[:8]}.invalid/pfx"
    return gv.Client(provider, api_key=KEY, base_url=base, transport=transport, poll_interval=0.01,
                     deadline_s=10, home=tmp_path / "home")


SUCCESS_SCRIPTS = {
    "xai": [{"request_id": "req-1"}, {"status": "pending"}, {"status": "processing", "progress": 50},
            {"status": "done", "video": {"url": "https://vidgen.x.ai/a.mp4", "duration": 6},
             "progress": 100, "usage": {"cost_in_usd_ticks": 500_000_000}}],
    "apixo": [{"code": 200, "message": "success", "data": {"taskId": "task_1"}},
              {"code": 200, "data": {"taskId": "task_1", "state": "processing"}},
              {"code": 200, "data": {"taskId": "task_1", "state": "success",
                                     "resultJson": '{"resultUrls":["https://file.apixo.ai/a.mp4"]}'}}],
    "pixazo": [{"request_id": "r-1", "status": "QUEUED", "polling_url": "x"},
               {"request_id": "r-1", "status": "PROCESSING"},
               {"request_id": "r-1", "status": "COMPLETED",
                "output": {"media_url": ["https://pub.r2.dev/a.mp4"], "media_type": "video/mp4"}}],
    "xingchao": [{"id": "v-1", "object": "video", "status": "queued", "error": None},
                 {"id": "v-1", "status": "processing"},
                 {"id": "v-1", "status": "completed", "video_url": "https://cdn.example/a.mp4"}],
    "apiinone": [{"code": 200, "data": {"task_id": "n1_grokvid", "status": "IN_PROGRESS"}},
                 {"code": 200, "data": {"task_id": "n1_grokvid", "status": "IN_PROGRESS"}},
                 {"code": 200, "data": {"task_id": "n1_grokvid", "status": "completed",
                                        "output": {"video_url": "https://cdn.apiin.one/a.mp4"}}}],
}


def _ok(body: object) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: httpx.Response(200, json=body)


@pytest.mark.parametrize("provider", PROVIDER_NAMES)
def test_successful_job_logs_no_key(provider, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    transport, seen = _mock_provider(provider, [_ok(b) for b in SUCCESS_SCRIPTS[provider]])
    client = _client(provider, transport, tmp_path)
    job = client.submit("a lakeside at sunset")
    result = job.wait(timeout=15)
    assert result.ok, (result.status, result.error_message)
    assert seen[0].url.path.startswith("/pfx" + SUBMIT_PATHS[provider])
    assert len(seen) == len(SUCCESS_SCRIPTS[provider])
    _no_key(repr(job), str(job), repr(result), str(result), repr(client), caplog.text,
            [r.getMessage() for r in caplog.records], [r.args for r in caplog.records])
    client.close()


@pytest.mark.parametrize("provider", PROVIDER_NAMES)
def test_rejected_job_with_echoed_key(provider, tmp_path, caplog):
    """A 401 that echoes the key ends the job failed; the key is nowhere to be seen."""
    caplog.set_level(logging.DEBUG)
    echo = (lambda request: httpx.Response(
        401, json={"error": {"code": "invalid_api_key",
                             "message": f"Bad credentials: Bearer {KEY} / "
                                        f"Ocp-Apim-Subscription-Key: {KEY}"}}))
    transport, _ = _mock_provider(provider, [echo])
    client = _client(provider, transport, tmp_path)
    job = client.submit("a lakeside at sunset")
    result = job.wait(timeout=15)
    assert result.status == gv.State.FAILED
    assert ENV_VARS[provider] in (result.error_message or "")
    ledger_bytes = b"".join(p.read_bytes() for p in (tmp_path / "home").glob("ledger.sqlite3*"))
    assert KEY.encode() not in ledger_bytes
    _no_key(repr(job), job.error_message, job.error_code, repr(result), result.error_message,
            caplog.text, [r.getMessage() for r in caplog.records])
    client.close()


def test_poll_errors_echoing_the_key_are_not_logged(tmp_path, caplog):
    """Retried poll failures are logged; their messages are redacted."""
    caplog.set_level(logging.DEBUG)
    script = [
        _ok({"request_id": "req-1"}),
        lambda r: httpx.Response(503, text=f"upstream rejected Authorization: Bearer {KEY}"),
        lambda r: httpx.Response(200, text=f"<pre>Bearer {KEY}</pre>"),
        _ok({"status": "done", "video": {"url": "https://vidgen.x.ai/a.mp4"},
             "usage": {"cost_in_usd_ticks": 500_000_000}}),
    ]
    transport, seen = _mock_provider("xai", script)
    client = _client("xai", transport, tmp_path)
    result = client.submit("p").wait(timeout=15)
    assert result.ok and len(seen) == 4
    assert "REDACTED" in caplog.text  # the retries were logged, redacted
    _no_key(caplog.text, [r.getMessage() for r in caplog.records])
    client.close()


def test_ledger_never_holds_the_key(tmp_path):
    transport, _ = _mock_provider("xai", [_ok(b) for b in SUCCESS_SCRIPTS["xai"]])
    client = _client("xai", transport, tmp_path)
    assert client.submit("p").wait(timeout=15).ok
    files = list((tmp_path / "home").glob("ledger.sqlite3*"))
    assert files
    assert not any(KEY.encode() in p.read_bytes() for p in files)
    assert not any(json.dumps(KEY).encode() in p.read_bytes() for p in files)
    client.close()
