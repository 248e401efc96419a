"""Property-based tests (hypothesis) of every adapter, with a bounded budget.

1. Reply parsers (submit and poll): any JSON value, any bytes, any status word gives a
   normalized result (a task id, a `TaskStatus` obeying the invariants) or a clear
   `ProviderError` for this provider, never another exception.
2. Validation: every generated request is either accepted by the in-process sandbox (which
   imports nothing of the adapters) or refused locally with a `ValidationError` naming the
   parameter. Nothing is refused by both sides' disagreement.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grokvid_nb._exceptions import ProviderError, ValidationError
from grokvid_nb._secrets import Secret
from grokvid_nb._types import MODES, State, TaskStatus
from grokvid_nb.adapters import PROVIDER_NAMES, USER_PARAMETERS, get_adapter
from grokvid_nb.adapters._reply import url_scheme
from grokvid_nb.sandbox import Sandbox, SandboxConfig, default_profiles

pytestmark = pytest.mark.timeout(120)

ADAPTERS = [get_adapter(name) for name in PROVIDER_NAMES]
KEY = Secret("gvtest-property-key-0123456789")
#: small budgets: the whole module runs in a few seconds in the normal test command
PARSER = settings(max_examples=60, deadline=None, database=None,
                  suppress_health_check=[HealthCheck.too_slow])
REQUESTS = settings(max_examples=200, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=20,
)
#: status words: the documented ones of every provider, their cases, and anything at all
WORDS = st.sampled_from([
    "pending", "queued", "processing", "done", "failed", "expired", "success", "completed",
    "COMPLETED", "FAILED", "ERROR", "QUEUED", "PROCESSING", "IN_PROGRESS", "SUCCESS", "FAILURE",
    "NOT_START", "paused", "rejected", "moderating", " Done ", "",
]) | st.text(max_size=20)
URLS = st.sampled_from([
    "https://cdn.example/v.mp4", "https://cdn.example/v", "https://cdn.example/cover.jpg",
    "http://cdn.example/a.webm?sig=1", "ftp://x/y.mp4", "not a url", "",
])


def _check_status(adapter: Any, status: TaskStatus) -> None:
    assert isinstance(status, TaskStatus) and isinstance(status.state, State)
    assert all(isinstance(u, str) and url_scheme(u) in ("http", "https") for u in status.video_urls)
    for number in (status.progress, status.cost_usd, status.video_duration, status.processing_s):
        assert number is None or (isinstance(number, float | int) and math.isfinite(number))
    assert status.progress is None or 0 <= status.progress <= 100  # a percentage or nothing
    if status.state is State.SUCCEEDED:
        assert status.video_urls and status.unrecognised is None
    if status.unrecognised is not None:
        assert status.state in (State.UNKNOWN, State.FAILED)
        assert status.error_message and "charged" in status.error_message
    for text in (status.error_code, status.error_message, status.raw_status):
        assert text is None or isinstance(text, str)


def _parse_both(adapter: Any, response: httpx.Response) -> None:
    try:
        task_id = adapter.parse_submit(response)
    except ProviderError as exc:
        assert exc.provider == adapter.name and str(exc)
    else:
        assert isinstance(task_id, str) and task_id
    try:
        status = adapter.parse_poll(response)
    except ProviderError as exc:
        assert exc.provider == adapter.name and str(exc)
    else:
        _check_status(adapter, status)


@pytest.mark.parametrize("adapter", ADAPTERS, ids=PROVIDER_NAMES)
@PARSER
@given(body=JSON, code=st.sampled_from([200, 200, 200, 201, 202, 400, 401, 402, 404, 429, 500, 503]))
def test_any_json_value(adapter: Any, body: Any, code: int) -> None:
    # json.dumps writes NaN/Infinity as Python's json reads them back: non-standard, but sent
    _parse_both(adapter, httpx.Response(code, content=json.dumps(body).encode(),
                                        headers={"content-type": "application/json"}))


@pytest.mark.parametrize("adapter", ADAPTERS, ids=PROVIDER_NAMES)
@PARSER
@given(content=st.binary(max_size=200))
def test_any_bytes(adapter: Any, content: bytes) -> None:
    _parse_both(adapter, httpx.Response(200, content=content))


def _shaped(provider: str, word: Any, url: Any, extra: dict[str, Any]) -> Any:
    """A reply in the provider's documented shape with `word` as its status."""
    if provider == "xai":
        return {"status": word, "video": {"url": url, **extra}, "usage": {"cost_in_usd_ticks": 10**9}}
    if provider == "apixo":
        return {"code": 200, "data": {"taskId": "t", "state": word,
                                      "resultJson": json.dumps({"resultUrls": [url]}), **extra}}
    if provider == "pixazo":
        return {"request_id": "r", "status": word, "output": {"media_url": [url]}, **extra}
    if provider == "xingchao":
        return {"id": "v", "status": word, "video_url": url, **extra}
    return {"code": 200, "data": {"task_id": "t", "status": word, "output": {"video_url": url}, **extra}}


@pytest.mark.parametrize("adapter", ADAPTERS, ids=PROVIDER_NAMES)
@PARSER
@given(word=WORDS, url=URLS, extra=st.dictionaries(
    st.sampled_from(["respect_moderation", "error", "progress", "failCode", "failMsg", "duration",
                     "actualDuration", "cover_url"]), JSON, max_size=3))
def test_any_status_word(adapter: Any, word: str, url: str, extra: dict[str, Any]) -> None:
    """A word in a documented shape never raises unless there is no word at all."""
    response = httpx.Response(200, content=json.dumps(_shaped(adapter.name, word, url, extra)).encode(),
                              headers={"content-type": "application/json"})
    try:
        status = adapter.parse_poll(response)
    except ProviderError as exc:
        assert exc.provider == adapter.name
        assert not word.strip() or "error" in extra or "failCode" in extra  # blank word / error envelope
        return
    _check_status(adapter, status)
    if adapter.state_of(word, adapter._STATES) is None:
        assert status.unrecognised is not None and repr(word)[:20] in status.unrecognised


# ---- validation against the sandbox ------------------------------------------------------------

def _sandbox() -> Sandbox:
    # no rate limits: hypothesis submits in a burst
    profiles = {name: replace(profile, rate_limit=None) for name, profile in default_profiles().items()}
    return Sandbox(SandboxConfig(time_scale=0.001, seed=0, providers=profiles))


SANDBOX = _sandbox()
#: one blocking client for the module (closing it would stop the transport's loop thread)
HTTP = httpx.Client(transport=SANDBOX.sync_transport())
IMAGE = "https://example.com/img{}.png"
OPTIONAL = st.none()


def _near(draw: st.DrawFn, allowed: Any, wide: st.SearchStrategy[Any]) -> Any:
    """Mostly a documented value (so both outcomes are common), sometimes anything in a wide range."""
    if allowed and draw(st.integers(0, 4)):
        return draw(st.sampled_from(list(allowed)))
    return draw(wide)


@st.composite
def requests(draw: st.DrawFn) -> tuple[str, str | None, str | None, str, dict[str, Any]]:
    provider = draw(st.sampled_from(PROVIDER_NAMES))
    adapter = get_adapter(provider)
    model = _near(draw, [*adapter.models, None], st.sampled_from(["grok-imagine-video-1.5", "nope"]))
    spec = adapter.models.get(model or adapter.default_model)
    mode = _near(draw, [*(spec.modes if spec else ()), None, None], st.sampled_from(MODES))
    m = spec.modes.get(mode or "text-to-video") if spec else None
    prompt = _near(draw, ["a cat on a piano", "<IMAGE_1> @Image1 runs"],
                   st.sampled_from(["", "  ", "x" * 5001]))
    params: dict[str, Any] = {}
    if draw(st.booleans()):
        params["duration"] = _near(draw, m.durations if m else None,
                                   st.integers(-2, 40) | st.sampled_from(["10", "6 ", 6.0, 6.5, True]))
    if draw(st.booleans()):
        params["resolution"] = _near(draw, m.resolutions if m else None,
                                     st.sampled_from(["480p", "720p", "720P ", "1080p", "auto", ""]))
    if draw(st.booleans()):
        params["aspect_ratio"] = _near(draw, m.aspect_ratios if m else None,
                                       st.sampled_from(["16:9", "9:16", "1:1", "4:3", "3:2", "21:9", "auto"]))
    low, high = (m.images if m and m.images else (0, 0))
    count = _near(draw, range(low, (high or 9) + 1) if m and m.images else None, st.integers(0, 9))
    if count:
        params["image_urls"] = [IMAGE.format(i) for i in range(count)]
    if (m is not None and m.video_input) or draw(st.integers(0, 5)) == 0:
        params["video_url"] = draw(st.sampled_from(["https://example.com/source.mp4",
                                                    "data:video/mp4;base64,AAAAGGZ0eXBpc29t"]))
    if provider == "apixo" and draw(st.booleans()):
        params["style"] = draw(st.sampled_from(["fun", "normal", "spicy", "weird"]))
    return provider, model, mode, prompt, params


@REQUESTS
@given(case=requests())
def test_every_request_is_accepted_by_the_sandbox_or_refused_locally(case: Any) -> None:
    provider, model, mode, prompt, params = case
    adapter = get_adapter(provider)
    try:
        request = adapter.validate(prompt, model=model, mode=mode, **dict(params))
    except ValidationError as exc:
        assert exc.parameter in (*USER_PARAMETERS, "prompt", "model", "mode"), exc.parameter
        assert f"{exc.parameter}=" in str(exc)  # the message names the parameter
        return
    outgoing = adapter.build_submit(request, "http://sandbox", KEY)
    response = HTTP.send(outgoing)
    assert response.status_code < 400, (provider, request, response.text)
    assert adapter.parse_submit(response)
