"""API in One Grok Video (seed 004): wire format, tolerant status reading, errors."""

from __future__ import annotations

import json

import pytest

from grokvid_nb import _exceptions as E
from grokvid_nb._types import State
from grokvid_nb.adapters import get_adapter

from .conftest import assert_unrecognised, check_malformed

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
    # moderation is its own outcome; the provider's code stays in the message
    assert status.error_code == "moderated"
    assert status.error_message == ("API in One's content moderation blocked the video: Your request "
                                    "was rejected by the content safety system [content_policy_violation]")


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
    check_malformed(apiinone, reply, generic_malformed)


def test_completed_without_url_says_so(apiinone, reply):
    body = {"code": 200, "data": {"task_id": TASK, "status": "completed", "credits_used": 24}}
    status = apiinone.parse_poll(reply(200, body))
    assert_unrecognised(status, State.UNKNOWN, "no video URL", '"credits_used":24')


def test_missing_status_says_where_it_looked(apiinone, reply):
    with pytest.raises(E.ProviderResponseError, match="no status or state field.*top level"):
        apiinone.parse_poll(reply(200, {"code": 200, "message": "success", "data": {"task_id": TASK}}))


def test_unknown_status_is_quoted(apiinone, reply):
    status = apiinone.parse_poll(reply(200, {"code": 200, "data": {"task_id": TASK, "status": "SLEEPING"}}))
    assert_unrecognised(status, State.UNKNOWN, "'SLEEPING'", TASK)


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


# ---- issue 10: reality beyond the sandbox ----------------------------------------------------

@pytest.mark.parametrize("word, state", [("SUCCESS", State.SUCCEEDED), ("FAILURE", State.FAILED),
                                         ("NOT_START", State.QUEUED), ("SUBMITTED", State.QUEUED)])
def test_gateway_vocabulary(apiinone, reply, word, state):
    """Item 4: IN_PROGRESS belongs to a gateway vocabulary whose terminal words are SUCCESS/FAILURE."""
    data = {"task_id": TASK, "status": word, "output": {"video_url": "https://cdn.example/v.mp4"}}
    status = apiinone.parse_poll(reply(200, {"code": 200, "data": data}))
    assert status.state is state and status.unrecognised is None


def test_unrecognised_finished_word_keeps_what_came_back(apiinone, reply):
    """Item 4: `done` is not in the vocabulary: unknown, quoting the reply, URLs kept."""
    data = {"task_id": TASK, "status": "done", "output": {"video_url": "https://cdn.example/v.mp4"}}
    status = apiinone.parse_poll(reply(200, {"code": 200, "data": data}))
    assert_unrecognised(status, State.UNKNOWN, "'done'", "https://cdn.example/v.mp4")
    assert status.video_urls == ("https://cdn.example/v.mp4",)
    assert "24 credits" in (status.error_message or "")  # the money question, as documented


@pytest.mark.parametrize("output, expected", [
    ({"cover_url": "https://cdn.example/t.jpg", "video_url": "https://cdn.example/t.mp4"},
     ("https://cdn.example/t.mp4",)),
    ({"cover_url": "https://cdn.example/t.jpg", "video_url": "https://cdn.example/t.mp4",
      "video_urls": ["https://cdn.example/t.mp4"]}, ("https://cdn.example/t.mp4",)),
    ({"thumbnail_url": "https://cdn.example/abc", "video_url": "https://cdn.example/def"},
     ("https://cdn.example/def",)),
    ({"cover_url": "https://cdn.example/t.png"}, ()),
    ({"url": "https://cdn.example/plain"}, ("https://cdn.example/plain",)),
])
def test_the_video_is_picked_not_the_cover(apiinone, reply, output, expected):
    """Item 5: a cover image beside the video is never taken as the video; a URL without an
    extension under a video-ish key (or inside output) is accepted."""
    data = {"task_id": TASK, "status": "completed", "output": output}
    status = apiinone.parse_poll(reply(200, {"code": 200, "data": data}))
    assert status.video_urls == expected
    assert status.state is (State.SUCCEEDED if expected else State.UNKNOWN)


def test_image_to_video_prompt_is_optional(apiinone, key):
    """Item 10: the page says the prompt is required only for text-to-video."""
    request = apiinone.validate("", image_url="https://example.com/a.png")
    body = json.loads(apiinone.build_submit(request, "https://apiin.one", key).content)
    assert body == {"model": "grok-imagine/image-to-video", "image_urls": ["https://example.com/a.png"]}
    with pytest.raises(E.ValidationError) as info:
        apiinone.validate("  ")
    assert info.value.parameter == "prompt"
