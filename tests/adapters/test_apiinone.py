"""API in One Grok Video (seed 004): wire format, tolerant status reading, errors."""

from __future__ import annotations

import json

import pytest

from grokvid_nb import _exceptions as E
from grokvid_nb._types import State
from grokvid_nb.adapters import get_adapter

BASE = "https://apiin.one"
TASK = "n31xxxx_grokvid"


@pytest.fixture
def apiinone():
    return get_adapter("apiinone")


def _submit(apiinone, key, prompt, **params):
    req = apiinone.build_submit(apiinone.validate(prompt, **params), BASE, key)
    assert req.method == "POST"
    assert str(req.url) == "https://apiin.one/api/v1/videos/generations"
    assert req.headers["Authorization"] == f"Bearer {key.reveal()}"
    assert req.headers["Content-Type"] == "application/json"
    return json.loads(req.content)


# ---- submit -----------------------------------------------------------------------------

def test_text_to_video(apiinone, key):
    """The page's example request, exactly: no duration or resolution knobs."""
    prompt = "A cat walking across a piano keyboard, cinematic lighting"
    assert _submit(apiinone, key, prompt) == {"model": "grok-imagine/text-to-video", "prompt": prompt}


def test_image_to_video(apiinone, key):
    urls = ["https://example.com/a.jpg", "https://example.com/b.jpg"]
    body = _submit(apiinone, key, "animate", image_urls=urls)
    assert body == {"model": "grok-imagine/image-to-video", "prompt": "animate", "image_urls": urls}
    body = _submit(apiinone, key, "animate", image_url=urls[0])
    assert body["image_urls"] == urls[:1]


def test_base_url_prefix_and_poll(apiinone, key):
    req = apiinone.build_submit(apiinone.validate("p"), "http://127.0.0.1:9/pfx/", key)
    assert str(req.url) == "http://127.0.0.1:9/pfx/api/v1/videos/generations"
    poll = apiinone.build_poll(TASK, BASE, key)
    assert poll.method == "GET"
    assert str(poll.url) == f"https://apiin.one/api/v1/tasks/{TASK}"
    assert poll.headers["Authorization"] == f"Bearer {key.reveal()}"


# ---- replies ----------------------------------------------------------------------------

def test_parse_submit(apiinone, fixture, reply):
    assert apiinone.parse_submit(reply(200, fixture("apiinone_submit"))) == TASK


def test_in_progress(apiinone, fixture, reply):
    status = apiinone.parse_poll(reply(200, fixture("apiinone_in_progress")))
    assert status.state is State.RUNNING
    assert status.raw_status == "IN_PROGRESS" and status.progress == 30


def test_completed(apiinone, fixture, reply):
    status = apiinone.parse_poll(reply(200, fixture("apiinone_completed")))
    assert status.state is State.SUCCEEDED
    assert status.video_urls == ("https://cdn.apiin.one/n31xxxx_grokvid.mp4",)
    assert status.cost_usd is None
    assert (status.completed_at - status.created_at).total_seconds() == 50


def test_failed(apiinone, fixture, reply):
    status = apiinone.parse_poll(reply(200, fixture("apiinone_failed")))
    assert status.state is State.FAILED
    assert status.error_code == "content_policy_violation"
    assert "content safety" in status.error_message


@pytest.mark.parametrize("word, state", [
    ("IN_PROGRESS", State.RUNNING), ("in_progress", State.RUNNING), ("completed", State.SUCCEEDED),
    ("COMPLETED", State.SUCCEEDED), ("failed", State.FAILED), ("FAILED", State.FAILED),
])
def test_status_vocabulary(apiinone, reply, word, state):
    data = {"task_id": TASK, "status": word}
    if state is State.SUCCEEDED:
        data["output"] = {"video_url": "https://cdn.apiin.one/x.mp4"}
    assert apiinone.parse_poll(reply(200, {"code": 200, "data": data})).state is state


# The page never shows a finished task: these are shapes a tolerant reader must handle.
FINISHED_SHAPES = [
    pytest.param({"code": 200, "data": {"status": "completed", "video_url": "https://c.io/a.mp4"}},
                 id="flat-video_url"),
    pytest.param({"code": 200, "data": {"status": "completed",
                                        "output": {"video_urls": ["https://c.io/a.mp4"]}}},
                 id="output-list"),
    pytest.param({"status": "completed", "video_urls": ["https://c.io/a.mp4"]}, id="top-level-list"),
    pytest.param({"code": 200, "status": "completed", "data": {"output": {"url": "https://c.io/a"}}},
                 id="status-outside-data"),
    pytest.param({"code": 200, "data": {"status": "completed", "result": {"videos": [
        {"url": "https://c.io/a.mp4", "cover_url": "https://c.io/a.jpg"}]}}}, id="result-objects"),
    pytest.param({"code": 200, "data": {"state": "success", "resultJson":
                  json.dumps({"resultUrls": ["https://c.io/a.mp4"]})}}, id="resultJson-string"),
]


@pytest.mark.parametrize("body", FINISHED_SHAPES)
def test_finished_shapes(apiinone, reply, body):
    status = apiinone.parse_poll(reply(200, body))
    assert status.state is State.SUCCEEDED
    assert status.video_url in ("https://c.io/a.mp4", "https://c.io/a")


def test_input_images_are_not_results(apiinone, reply):
    body = {"code": 200, "data": {"status": "completed",
                                  "image_urls": ["https://example.com/in.jpg"],
                                  "output": {"video_url": "https://c.io/out.mp4"}}}
    assert apiinone.parse_poll(reply(200, body)).video_urls == ("https://c.io/out.mp4",)


def test_failed_task_at_top_level_is_a_failure_not_an_http_error(apiinone, reply):
    body = {"task_id": TASK, "status": "failed", "error": {"code": "generation_timeout",
                                                           "message": "did not finish in time"}}
    status = apiinone.parse_poll(reply(200, body))
    assert status.state is State.FAILED
    assert status.error_code == "generation_timeout"


# ---- malformed replies --------------------------------------------------------------------

def test_generic_malformed_submit_and_poll(apiinone, reply, generic_malformed):
    for parse in (apiinone.parse_submit, apiinone.parse_poll):
        with pytest.raises(E.ProviderResponseError) as info:
            parse(reply(200, text=generic_malformed))
        assert info.value.provider == "apiinone"


def test_completed_without_url_says_so(apiinone, reply):
    body = {"code": 200, "data": {"task_id": TASK, "status": "completed", "credits_used": 24}}
    with pytest.raises(E.ProviderResponseError) as info:
        apiinone.parse_poll(reply(200, body))
    assert "no video URL" in str(info.value) and '"credits_used":24' in str(info.value)


def test_missing_status_says_where_it_looked(apiinone, reply):
    with pytest.raises(E.ProviderResponseError, match="no status or state field.*top level"):
        apiinone.parse_poll(reply(200, {"code": 200, "message": "success", "data": {"task_id": TASK}}))


def test_unknown_status_is_quoted(apiinone, reply):
    with pytest.raises(E.ProviderResponseError) as info:
        apiinone.parse_poll(reply(200, {"code": 200, "data": {"task_id": TASK, "status": "SLEEPING"}}))
    assert "'SLEEPING'" in str(info.value) and TASK in str(info.value)


def test_submit_without_task_id(apiinone, reply):
    with pytest.raises(E.ProviderResponseError, match="task_id"):
        apiinone.parse_submit(reply(200, {"code": 200, "message": "success", "data": {"status": "IN_PROGRESS"}}))


# ---- HTTP errors --------------------------------------------------------------------------

def test_documented_error_body(apiinone, fixture, reply):
    with pytest.raises(E.RequestRejectedError) as info:
        apiinone.parse_submit(reply(400, fixture("apiinone_error")))
    assert info.value.message == "Invalid parameters"
    assert info.value.code == "400"


ERROR_CASES = [
    (400, E.RequestRejectedError), (401, E.AuthenticationError), (402, E.InsufficientBalanceError),
    (404, E.TaskNotFoundError), (429, E.RateLimitedError), (500, E.ProviderServerError),
]


@pytest.mark.parametrize("status, cls", ERROR_CASES)
def test_http_errors(apiinone, reply, status, cls):
    body = {"error": {"code": status, "message": f"apiinone says {status}", "type": "t"}}
    for parse in (apiinone.parse_submit, apiinone.parse_poll):
        with pytest.raises(cls) as info:
            parse(reply(status, body))
        assert info.value.status_code == status
        assert info.value.code == str(status)
        assert info.value.message.startswith(f"apiinone says {status}")
        if status == 401:
            assert "APIINONE_API_KEY" in str(info.value)


@pytest.mark.parametrize("status, cls", ERROR_CASES)
def test_errors_in_a_200_envelope(apiinone, reply, status, cls):
    body = {"error": {"code": status, "message": "wrapped", "type": "t"}}
    with pytest.raises(cls) as info:
        apiinone.parse_poll(reply(200, body))
    assert info.value.status_code == status and info.value.message.startswith("wrapped")


def test_retry_after(apiinone, reply):
    with pytest.raises(E.RateLimitedError) as info:
        apiinone.parse_submit(reply(429, {"error": {"code": 429, "message": "slow"}},
                                    headers={"Retry-After": "9"}))
    assert info.value.retry_after == 9.0
