"""XingChaoYiQing (seed 002 + the GlobalAiOpc paths in PROVIDERS.md): four models, replies, errors."""

from __future__ import annotations

import json

import pytest

from grokvid_nb import _exceptions as E
from grokvid_nb._types import State
from grokvid_nb.adapters import get_adapter

from .conftest import assert_unrecognised, check_malformed

BASE = "https://gateway.example.test"  # xingchao publishes no base URL: always configured
TASK = "video_6f1c2a9e8b7d4c3a"
REFS = ["https://example.com/ref1.jpg", "https://example.com/ref2.jpg"]


@pytest.fixture
def xingchao():
    return get_adapter("xingchao")


def _submit(xingchao, key, prompt, base=BASE, **params):
    req = xingchao.build_submit(xingchao.validate(prompt, **params), base, key)
    assert req.method == "POST"
    assert str(req.url) == base.rstrip("/") + "/v1/grok/videos"
    assert req.headers["Authorization"] == f"Bearer {key.reveal()}"
    assert req.headers["Content-Type"] == "application/json"
    return json.loads(req.content)


def test_published_base_url(xingchao):
    """Item 7: the base URL is published now (docs.xingchaoyiqing.com grok-create)."""
    assert xingchao.default_base_url == "https://zcbservice.aizfw.cn/kyyReactApiServer"
    assert xingchao.base_url_env == "XINGCHAO_BASE_URL"


# ---- submit: each model's rules -----------------------------------------------------------

def test_grok_video3_text_defaults(xingchao, key):
    """grok_video3: default 10 s, 16:9, 720p."""
    body = _submit(xingchao, key, "A cat dancing in the rain, cinematic style")
    assert body == {"model": "grok_video3", "prompt": "A cat dancing in the rain, cinematic style",
                    "duration": 10, "aspect_ratio": "16:9", "resolution": "720p"}


def test_grok_video3_image_to_video(xingchao, key):
    body = _submit(xingchao, key, "p", model="grok_video3", image_urls=REFS, duration=30,
                   aspect_ratio="2:3", resolution="480p")
    assert body == {"model": "grok_video3", "prompt": "p", "duration": 30, "aspect_ratio": "2:3",
                    "resolution": "480p", "image_urls": REFS}


def test_grok_video3_accepts_base64_images(xingchao, key):
    data = "data:image/png;base64,iVBORw0KGgo="
    assert _submit(xingchao, key, "p", image_urls=[data])["image_urls"] == [data]


def test_grok_video3_pro_never_sends_duration(xingchao, key):
    """grok_video3_pro: fixed 10 s ('do not set the duration field'), 16:9, 720p."""
    body = _submit(xingchao, key, "p", model="grok_video3_pro")
    assert body == {"model": "grok_video3_pro", "prompt": "p", "aspect_ratio": "16:9",
                    "resolution": "720p"}
    body = _submit(xingchao, key, "p", model="grok_video3_pro", duration=10, image_urls=REFS)
    assert "duration" not in body and body["image_urls"] == REFS


@pytest.mark.parametrize("seconds", [6, 10, 12, 16, 20, 30])
def test_grok_video3_max_discrete_durations(xingchao, key, seconds):
    body = _submit(xingchao, key, "p", model="grok_video3_max", duration=seconds,
                   aspect_ratio="1:1", image_urls=REFS)
    assert body == {"model": "grok_video3_max", "prompt": "p", "duration": seconds,
                    "aspect_ratio": "1:1", "resolution": "720p", "image_urls": REFS}


def test_grok_video3_stable(xingchao, key):
    urls = [f"https://example.com/{i}.jpg" for i in range(7)]
    body = _submit(xingchao, key, "p", model="grok_video3_stable", duration=10,
                   aspect_ratio="3:2", resolution="720p", image_urls=urls)
    assert body == {"model": "grok_video3_stable", "prompt": "p", "duration": 10,
                    "aspect_ratio": "3:2", "resolution": "720p", "image_urls": urls}


@pytest.mark.parametrize("params, parameter", [({"duration": 6}, "duration"),
                                               ({"resolution": "480p"}, "resolution")])
def test_grok_video3_stable_is_fixed_10_s_720p(xingchao, params, parameter):
    """Item 10: the provider's current page says a fixed 10 s at 720p (newer page wins)."""
    with pytest.raises(E.ValidationError) as info:
        xingchao.validate("p", model="grok_video3_stable", **params)
    assert info.value.parameter == parameter
    note = xingchao.models["grok_video3_stable"].note
    assert "fixed 10 s at 720p" in note and "newer page wins" in note


def test_polling_prior_follows_the_published_times(xingchao):
    """Item 2: 2-8 min jobs, polls 30-60 s apart (grok-query page)."""
    assert (xingchao.polling.first_poll, xingchao.polling.typical, xingchao.polling.interval) == (
        120.0, (120.0, 480.0), 30.0)


def test_actual_duration_and_url_lifetime(xingchao, reply):
    """Item 7: `actualDuration` is read; result URLs last about 24 h."""
    status = xingchao.parse_poll(reply(200, {"id": TASK, "status": "completed", "actualDuration": 9.8,
                                             "video_url": "https://cdn.example/v.mp4", "error": None}))
    assert status.state is State.SUCCEEDED and status.video_duration == 9.8
    assert xingchao.url_ttl_s == 24 * 3600


def test_stable_default_duration(xingchao, key):
    assert _submit(xingchao, key, "p", model="grok_video3_stable")["duration"] == 10


def test_base_url_prefix(xingchao, key):
    _submit(xingchao, key, "p", base="http://127.0.0.1:9/pfx")
    _submit(xingchao, key, "p", base="http://127.0.0.1:9/pfx/")
    req = xingchao.build_poll(TASK, "http://127.0.0.1:9/pfx", key)
    assert str(req.url) == f"http://127.0.0.1:9/pfx/v1/result/{TASK}"


def test_poll_request(xingchao, key):
    req = xingchao.build_poll(TASK, BASE, key)
    assert req.method == "GET"
    assert str(req.url) == f"{BASE}/v1/result/{TASK}"
    assert req.headers["Authorization"] == f"Bearer {key.reveal()}"


# ---- replies ----------------------------------------------------------------------------

def test_parse_submit(xingchao, fixture, reply):
    assert xingchao.parse_submit(reply(200, fixture("xingchao_submit"))) == TASK


def test_submit_with_an_error_is_refused(xingchao, reply):
    body = {"id": TASK, "object": "video", "status": "failed",
            "error": {"code": "bad_request", "message": "prompt rejected"}}
    with pytest.raises(E.ProviderResponseError, match="prompt rejected"):
        xingchao.parse_submit(reply(200, body))


def test_processing(xingchao, fixture, reply):
    status = xingchao.parse_poll(reply(200, fixture("xingchao_processing")))
    assert status.state is State.RUNNING and status.progress == 40


def test_completed(xingchao, fixture, reply):
    status = xingchao.parse_poll(reply(200, fixture("xingchao_completed")))
    assert status.state is State.SUCCEEDED
    assert status.video_urls == ("https://cdn.example.com/grok/video_6f1c2a9e8b7d4c3a.mp4",)
    assert status.cost_usd is None  # no price is published or reported
    assert (status.completed_at - status.created_at).total_seconds() == 90


def test_failed(xingchao, fixture, reply):
    status = xingchao.parse_poll(reply(200, fixture("xingchao_failed")))
    assert status.state is State.FAILED
    assert status.error_code == "moderated"
    assert status.error_message == ("XingChaoYiQing's content moderation blocked the video: The prompt "
                                    "was rejected by the safety system [content_policy_violation]")


def test_failed_with_string_error(xingchao, reply):
    status = xingchao.parse_poll(reply(200, {"id": TASK, "status": "failed", "error": "timeout"}))
    assert status.state is State.FAILED and status.error_message == "timeout"


def test_failed_without_error(xingchao, reply):
    status = xingchao.parse_poll(reply(200, {"id": TASK, "status": "failed", "error": None}))
    assert status.state is State.FAILED and status.error_message


@pytest.mark.parametrize("word, state", [
    ("queued", State.QUEUED), ("processing", State.RUNNING), ("completed", State.SUCCEEDED),
    ("failed", State.FAILED), ("QUEUED", State.QUEUED),
])
def test_status_vocabulary(xingchao, reply, word, state):
    body = {"id": TASK, "status": word, "error": None}
    if state is State.SUCCEEDED:
        body["video_url"] = "https://cdn.example.com/a.mp4"
    assert xingchao.parse_poll(reply(200, body)).state is state


# ---- malformed replies --------------------------------------------------------------------

def test_generic_malformed_submit_and_poll(xingchao, reply, generic_malformed):
    check_malformed(xingchao, reply, generic_malformed)


@pytest.mark.parametrize("video_url", [None, "", [], "not-a-url", 7])
def test_completed_without_video_url(xingchao, reply, video_url):
    status = xingchao.parse_poll(reply(200, {"id": TASK, "status": "completed", "video_url": video_url}))
    assert_unrecognised(status, State.UNKNOWN, "status is completed but video_url is missing")


def test_unknown_status_is_quoted(xingchao, reply):
    """"moderating" may be a passing phase: not clear, so unknown (ended after a few in a row)."""
    status = xingchao.parse_poll(reply(200, {"id": TASK, "status": "moderating"}))
    assert_unrecognised(status, State.UNKNOWN, "'moderating'", TASK)


def test_submit_without_id(xingchao, reply):
    with pytest.raises(E.ProviderResponseError, match="no id"):
        xingchao.parse_submit(reply(200, {"object": "video", "status": "queued"}))


# ---- HTTP errors --------------------------------------------------------------------------

ERROR_CASES = [
    (400, E.RequestRejectedError), (401, E.AuthenticationError), (402, E.InsufficientBalanceError),
    (404, E.TaskNotFoundError), (429, E.RateLimitedError), (500, E.ProviderServerError),
]


@pytest.mark.parametrize("status, cls", ERROR_CASES)
def test_http_errors(xingchao, reply, status, cls):
    """OpenAI-style gateway errors: `{"error": {"code", "message", "type"}}`."""
    body = {"error": {"code": f"code_{status}", "message": f"gateway says {status}",
                      "type": "invalid_request_error"}}
    for parse in (xingchao.parse_submit, xingchao.parse_poll):
        with pytest.raises(cls) as info:
            parse(reply(status, body))
        assert info.value.status_code == status
        assert info.value.code == f"code_{status}"
        assert info.value.message.startswith(f"gateway says {status}")
        if status == 401:
            assert "XINGCHAO_API_KEY" in str(info.value)


def test_error_type_used_when_no_code(xingchao, reply):
    with pytest.raises(E.RequestRejectedError) as info:
        xingchao.parse_submit(reply(400, {"error": {"message": "bad", "type": "invalid_request_error"}}))
    assert info.value.code == "invalid_request_error"


def test_retry_after(xingchao, reply):
    with pytest.raises(E.RateLimitedError) as info:
        xingchao.parse_submit(reply(429, {"error": {"message": "slow"}}, headers={"Retry-After": "2.5"}))
    assert info.value.retry_after == 2.5
