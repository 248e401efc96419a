"""APIXO grok-video (seed 000): wire format of every mode, replies, errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from grokvid_nb import _exceptions as E
from grokvid_nb._types import State
from grokvid_nb.adapters import get_adapter

from .conftest import assert_unrecognised, check_malformed

BASE = "https://api.apixo.ai"
SUBMIT_URL = "https://api.apixo.ai/api/v1/generateTask/grok-video"


@pytest.fixture
def apixo():
    return get_adapter("apixo")


def _submit(apixo, key, prompt, **params):
    req = apixo.build_submit(apixo.validate(prompt, **params), BASE, key)
    assert req.method == "POST"
    assert str(req.url) == SUBMIT_URL
    assert req.headers["Authorization"] == f"Bearer {key.reveal()}"
    assert req.headers["Content-Type"] == "application/json"
    return json.loads(req.content)


# ---- submit: every mode and source --------------------------------------------------------

def test_text_to_video_quickstart(apixo, key):
    """The page's copy-paste quickstart body, exactly."""
    body = _submit(apixo, key, "a peaceful lakeside at sunset with gentle waves",
                   duration=6, resolution="480p", aspect_ratio="3:2", style="normal")
    assert body == {
        "request_type": "async",
        "input": {
            "mode": "text-to-video",
            "prompt": "a peaceful lakeside at sunset with gentle waves",
            "duration": 6,
            "resolution": "480p",
            "aspect_ratio": "3:2",
            "style": "normal",
        },
    }


def test_text_to_video_defaults(apixo, key):
    """Defaults: 6 s, 480p, aspect 3:2 for text, style normal."""
    body = _submit(apixo, key, "a cinematic city street after rain")
    assert body["input"] == {"mode": "text-to-video", "prompt": "a cinematic city street after rain",
                             "duration": 6, "resolution": "480p", "aspect_ratio": "3:2",
                             "style": "normal"}


def test_image_to_video_with_url(apixo, key):
    """'Image-to-video with an image URL', exactly."""
    body = _submit(apixo, key, "make this scene into a short cinematic pan",
                   image_urls=["https://example.com/ref.jpg"], duration=10, resolution="720p",
                   aspect_ratio="16:9", style="fun")
    assert body == {
        "request_type": "async",
        "input": {
            "mode": "image-to-video",
            "prompt": "make this scene into a short cinematic pan",
            "image_urls": ["https://example.com/ref.jpg"],
            "duration": 10,
            "resolution": "720p",
            "aspect_ratio": "16:9",
            "style": "fun",
        },
    }


def test_image_to_video_from_grok_image_task(apixo, key):
    """'Image-to-video from a Grok Image task' (task_id + index), exactly."""
    body = _submit(apixo, key, "turn this character into a walking animation",
                   image_task_id="task_previous_grok_image", image_index=0, duration=10,
                   resolution="720p", aspect_ratio="16:9", style="spicy")
    assert body == {
        "request_type": "async",
        "input": {
            "mode": "image-to-video",
            "prompt": "turn this character into a walking animation",
            "task_id": "task_previous_grok_image",
            "index": 0,
            "duration": 10,
            "resolution": "720p",
            "aspect_ratio": "16:9",
            "style": "spicy",
        },
    }


def test_image_to_video_default_ratio_is_16_9(apixo, key):
    body = _submit(apixo, key, "p", image_url="https://example.com/ref.jpg")
    assert body["input"]["mode"] == "image-to-video"
    assert body["input"]["aspect_ratio"] == "16:9"
    body = _submit(apixo, key, "p", image_task_id="t1", image_index=5)
    assert body["input"]["aspect_ratio"] == "16:9" and body["input"]["index"] == 5


def test_normalizes_like_the_backend(apixo, key):
    """Duration may be an integer string; resolution is trimmed and lower-cased."""
    body = _submit(apixo, key, "p", duration="10", resolution=" 720P ", style=" Fun ")
    assert body["input"]["duration"] == 10
    assert body["input"]["resolution"] == "720p"
    assert body["input"]["style"] == "fun"


def test_base_url_prefix(apixo, key):
    req = apixo.build_submit(apixo.validate("p"), "http://127.0.0.1:9/pfx", key)
    assert str(req.url) == "http://127.0.0.1:9/pfx/api/v1/generateTask/grok-video"


def test_poll_request(apixo, key):
    req = apixo.build_poll("task_12345678", BASE, key)
    assert req.method == "GET"
    assert str(req.url) == "https://api.apixo.ai/api/v1/statusTask/grok-video?taskId=task_12345678"
    assert req.headers["Authorization"] == f"Bearer {key.reveal()}"


def test_poll_request_quotes_the_task_id(apixo, key):
    req = apixo.build_poll("a b&c", "http://127.0.0.1:9/pfx", key)
    assert req.url.path == "/pfx/api/v1/statusTask/grok-video"
    assert req.url.params["taskId"] == "a b&c"


# ---- replies ----------------------------------------------------------------------------

def test_parse_submit(apixo, fixture, reply):
    assert apixo.parse_submit(reply(200, fixture("apixo_submit"))) == "task_12345678"


def test_processing(apixo, fixture, reply):
    status = apixo.parse_poll(reply(200, fixture("apixo_processing")))
    assert status.state is State.RUNNING
    assert status.raw_status == "processing"
    assert status.created_at == datetime.fromtimestamp(1767965610.929, tz=UTC)


def test_success(apixo, fixture, reply):
    status = apixo.parse_poll(reply(200, fixture("apixo_success")))
    assert status.state is State.SUCCEEDED
    assert status.video_urls == ("https://file.apixo.ai/xxx.mp4",)
    assert status.cost_usd is None  # APIXO does not report cost
    assert (status.completed_at - status.created_at).total_seconds() == pytest.approx(45.0)


def test_success_with_several_urls(apixo, reply):
    body = {"code": 200, "data": {"state": "success", "resultJson": json.dumps(
        {"resultUrls": ["https://file.apixo.ai/a.mp4", "https://file.apixo.ai/b.mp4"]})}}
    status = apixo.parse_poll(reply(200, body))
    assert status.video_urls == ("https://file.apixo.ai/a.mp4", "https://file.apixo.ai/b.mp4")


def test_failed(apixo, fixture, reply):
    status = apixo.parse_poll(reply(200, fixture("apixo_failed")))
    assert status.state is State.FAILED
    assert status.error_code == "moderated"
    assert status.error_message == ("APIXO's content moderation blocked the video: Content violates "
                                    "provider policy, please adjust the prompt [SensitiveContent]")


def test_failure_fields_of_other_types_become_text(apixo, reply):
    body = {"code": 200, "data": {"state": "failed", "failCode": 5001,
                                  "failMsg": {"reason": "blocked"}, "createTime": 10**40}}
    status = apixo.parse_poll(reply(200, body))
    assert status.error_code == "5001"
    assert status.error_message == '{"reason": "blocked"}'
    assert status.created_at is None


@pytest.mark.parametrize("word, state", [
    ("processing", State.RUNNING), ("success", State.SUCCEEDED), ("failed", State.FAILED),
    ("SUCCESS", State.SUCCEEDED),
])
def test_status_vocabulary(apixo, reply, word, state):
    data = {"taskId": "t", "state": word}
    if state is State.SUCCEEDED:
        data["resultJson"] = '{"resultUrls":["https://file.apixo.ai/x.mp4"]}'
    assert apixo.parse_poll(reply(200, {"code": 200, "data": data})).state is state


# ---- malformed replies --------------------------------------------------------------------

def test_generic_malformed_submit_and_poll(apixo, reply, generic_malformed):
    check_malformed(apixo, reply, generic_malformed)


@pytest.mark.parametrize("result_json", ["not json at all", '{"resultUrls": [', "{'resultUrls': []}"])
def test_result_json_not_json(apixo, reply, result_json):
    body = {"code": 200, "data": {"taskId": "t", "state": "success", "resultJson": result_json}}
    status = apixo.parse_poll(reply(200, body))
    assert_unrecognised(status, State.UNKNOWN, "resultJson has no resultUrls", '"taskId":"t"')


@pytest.mark.parametrize("result_json", [None, '{"resultUrls": []}', '{"urls": ["https://x/a.mp4"]}',
                                         '["https://x/a.mp4"]', "42", '{"resultUrls": "nope"}'])
def test_success_without_result_urls(apixo, reply, result_json):
    data = {"taskId": "t", "state": "success"}
    if result_json is not None:
        data["resultJson"] = result_json
    status = apixo.parse_poll(reply(200, {"code": 200, "data": data}))
    assert_unrecognised(status, State.UNKNOWN, "state is success but resultJson has no resultUrls")


def test_unknown_state_is_quoted(apixo, reply):
    status = apixo.parse_poll(reply(200, {"code": 200, "data": {"taskId": "t", "state": "rendering"}}))
    assert_unrecognised(status, State.UNKNOWN, "'rendering'", '"state":"rendering"')


def test_submit_without_task_id(apixo, reply):
    with pytest.raises(E.ProviderResponseError, match="data.taskId"):
        apixo.parse_submit(reply(200, {"code": 200, "message": "success", "data": {}}))


# ---- HTTP errors --------------------------------------------------------------------------

ERROR_CASES = [
    (400, E.RequestRejectedError), (401, E.AuthenticationError), (402, E.InsufficientBalanceError),
    (404, E.TaskNotFoundError), (429, E.RateLimitedError), (500, E.ProviderServerError),
    (502, E.ProviderServerError), (503, E.ProviderServerError), (504, E.ProviderServerError),
]


@pytest.mark.parametrize("status, cls", ERROR_CASES)
def test_http_errors(apixo, reply, status, cls):
    body = {"code": status, "message": f"apixo says {status}"}
    for parse in (apixo.parse_submit, apixo.parse_poll):
        with pytest.raises(cls) as info:
            parse(reply(status, body))
        assert info.value.status_code == status
        assert info.value.code == str(status)
        assert info.value.message.startswith(f"apixo says {status}")
        if status == 401:
            assert "APIXO_API_KEY" in str(info.value)


@pytest.mark.parametrize("status, cls", ERROR_CASES)
def test_errors_in_a_200_envelope(apixo, reply, status, cls):
    """An error code inside an HTTP 200 envelope maps the same way."""
    with pytest.raises(cls) as info:
        apixo.parse_submit(reply(200, {"code": status, "message": "Insufficient balance", "data": None}))
    assert info.value.status_code == status
    assert "Insufficient balance" in str(info.value)


def test_retry_after_seconds_and_date(apixo, reply):
    with pytest.raises(E.RateLimitedError) as info:
        apixo.parse_submit(reply(429, {"code": 429, "message": "rate limited"},
                                 headers={"Retry-After": "12"}))
    assert info.value.retry_after == 12.0
    when = datetime.now(UTC) + timedelta(seconds=60)
    with pytest.raises(E.RateLimitedError) as info:
        apixo.parse_poll(reply(429, {"code": 429, "message": "rate limited"},
                               headers={"Retry-After": format_datetime(when, usegmt=True)}))
    assert 40 <= info.value.retry_after <= 61


def test_http_error_with_html_body(apixo, reply):
    with pytest.raises(E.ProviderServerError, match="Gateway Time-out"):
        apixo.parse_poll(reply(504, text="<html><h1>504 Gateway Time-out</h1></html>"))


def test_non_json_success_reply(apixo):
    with pytest.raises(E.ProviderResponseError, match="expected JSON.*maintenance"):
        apixo.parse_submit(httpx.Response(200, text="down for maintenance"))
