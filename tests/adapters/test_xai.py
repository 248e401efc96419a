"""xAI direct (seed 003 + PROVIDERS.md): wire format of every mode, replies, errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from grokvid_nb import _exceptions as E
from grokvid_nb._types import State
from grokvid_nb.adapters import get_adapter

BASE = "https://api.x.ai"
PROMPT = "A coastal town at dawn, waves breaking gently on a rocky shore"
TASK = "d97415a1-5796-b7ec-379f-4e6819e08fdf"


@pytest.fixture
def xai():
    return get_adapter("xai")


def _check_request(req: httpx.Request, key, method: str, url: str) -> None:
    assert req.method == method
    assert str(req.url) == url
    assert req.headers["Authorization"] == f"Bearer {key.reveal()}"


# ---- submit: every mode -----------------------------------------------------------------

def test_text_to_video_full_request(xai, key):
    """The seed's 'full request with all parameters'."""
    request = xai.validate(PROMPT, duration=10, resolution="720p", aspect_ratio="16:9")
    req = xai.build_submit(request, BASE, key)
    _check_request(req, key, "POST", "https://api.x.ai/v1/videos/generations")
    assert req.headers["Content-Type"] == "application/json"
    assert json.loads(req.content) == {
        "model": "grok-imagine-video", "prompt": PROMPT,
        "duration": 10, "resolution": "720p", "aspect_ratio": "16:9",
    }


def test_text_to_video_defaults(xai, key):
    """Duration 6 s and 480p are the documented defaults."""
    request = xai.validate("a golden retriever")
    assert request.mode == "text-to-video"
    body = json.loads(xai.build_submit(request, BASE, key).content)
    assert body == {"model": "grok-imagine-video", "prompt": "a golden retriever",
                    "duration": 6, "resolution": "480p", "aspect_ratio": "16:9"}


@pytest.mark.parametrize("model", ["grok-imagine-video-1.5", "grok-imagine-video-1.5-lite"])
def test_newer_model_ids(xai, key, model):
    body = json.loads(xai.build_submit(xai.validate("p", model=model), BASE, key).content)
    assert body["model"] == model


@pytest.mark.parametrize("image", ["https://example.com/first-frame.jpg",
                                   "data:image/png;base64,iVBORw0KGgo="])
def test_image_to_video(xai, key, image):
    """Image-to-video: `"image": {"url": URL-or-data-URI}` on the generations route."""
    request = xai.validate("animate it", image_url=image, duration=5, aspect_ratio="9:16")
    assert request.mode == "image-to-video"
    req = xai.build_submit(request, BASE, key)
    _check_request(req, key, "POST", "https://api.x.ai/v1/videos/generations")
    assert json.loads(req.content) == {
        "model": "grok-imagine-video", "prompt": "animate it", "duration": 5,
        "resolution": "480p", "aspect_ratio": "9:16", "image": {"url": image},
    }


def test_reference_to_video(xai, key):
    """Reference images: `"reference_images": [{"url": ...}, ...]`, same route."""
    refs = ["https://example.com/my-style-reference.jpg",
            "https://example.com/color-palette-reference.jpg"]
    request = xai.validate("<IMAGE_1> walks in the style of <IMAGE_2>", mode="reference-to-video",
                           image_urls=refs)
    req = xai.build_submit(request, BASE, key)
    _check_request(req, key, "POST", "https://api.x.ai/v1/videos/generations")
    body = json.loads(req.content)
    assert body["reference_images"] == [{"url": refs[0]}, {"url": refs[1]}]
    assert "image" not in body


def test_reference_to_video_accepts_seven(xai, key):
    refs = [f"https://example.com/{i}.jpg" for i in range(7)]
    body = json.loads(xai.build_submit(
        xai.validate("p", mode="reference-to-video", image_urls=refs), BASE, key).content)
    assert len(body["reference_images"]) == 7


def test_edit(xai, key):
    """Edit: `POST /v1/videos/edits` with the source video; no duration/ratio/resolution."""
    request = xai.validate("make it snow", video_url="https://vidgen.x.ai/source.mp4")
    assert request.mode == "edit"
    req = xai.build_submit(request, BASE, key)
    _check_request(req, key, "POST", "https://api.x.ai/v1/videos/edits")
    assert json.loads(req.content) == {
        "model": "grok-imagine-video", "prompt": "make it snow",
        "video": {"url": "https://vidgen.x.ai/source.mp4"},
    }


def test_extend(xai, key):
    """Extend: `POST /v1/videos/extensions`, extension duration only (docs.x.ai: no
    aspect_ratio or resolution; the output keeps the input's)."""
    request = xai.validate("the camera pans left", mode="extend",
                           video_url="https://vidgen.x.ai/source.mp4", duration=10)
    req = xai.build_submit(request, BASE, key)
    _check_request(req, key, "POST", "https://api.x.ai/v1/videos/extensions")
    assert json.loads(req.content) == {
        "model": "grok-imagine-video", "prompt": "the camera pans left", "duration": 10,
        "video": {"url": "https://vidgen.x.ai/source.mp4"},
    }


def test_extend_default_duration(xai, key):
    body = json.loads(xai.build_submit(
        xai.validate("more", mode="extend", video_url="https://v/x.mp4"), BASE, key).content)
    assert body["duration"] == 6 and "resolution" not in body and "aspect_ratio" not in body


@pytest.mark.parametrize("base", ["http://127.0.0.1:9/pfx", "http://127.0.0.1:9/pfx/"])
def test_base_url_prefix_is_kept(xai, key, base):
    req = xai.build_submit(xai.validate("p"), base, key)
    assert str(req.url) == "http://127.0.0.1:9/pfx/v1/videos/generations"
    poll = xai.build_poll(TASK, base, key)
    assert str(poll.url) == f"http://127.0.0.1:9/pfx/v1/videos/{TASK}"


def test_poll_request(xai, key):
    req = xai.build_poll(TASK, BASE, key)
    _check_request(req, key, "GET", f"https://api.x.ai/v1/videos/{TASK}")
    assert req.content == b""


# ---- replies ----------------------------------------------------------------------------

def test_parse_submit(xai, fixture, reply):
    assert xai.parse_submit(reply(200, fixture("xai_submit"))) == TASK


def test_processing(xai, fixture, reply):
    status = xai.parse_poll(reply(200, fixture("xai_processing")))
    assert status.state is State.RUNNING
    assert status.progress == 45
    assert status.video_urls == () and status.cost_usd is None


@pytest.mark.parametrize("word, state", [
    ("pending", State.QUEUED), ("queued", State.QUEUED), ("processing", State.RUNNING),
    ("done", State.SUCCEEDED), ("failed", State.FAILED), ("expired", State.EXPIRED),
    ("PENDING", State.QUEUED), ("Done", State.SUCCEEDED),
])
def test_status_vocabulary(xai, reply, word, state):
    body = {"status": word, "progress": 10}
    if state is State.SUCCEEDED:
        body["video"] = {"url": "https://vidgen.x.ai/a.mp4"}
    status = xai.parse_poll(reply(200, body))
    assert status.state is state
    assert status.raw_status == word
    assert status.state.terminal == (state in (State.SUCCEEDED, State.FAILED, State.EXPIRED))


def test_done_reports_cost_in_ticks(xai, fixture, reply):
    """1 USD = 10**10 ticks: 500,000,000 ticks is $0.05 (the seed's $0.50 is wrong)."""
    status = xai.parse_poll(reply(200, fixture("xai_done")))
    assert status.state is State.SUCCEEDED
    assert status.video_urls == ("https://vidgen.x.ai/....mp4",)
    assert status.video_url == "https://vidgen.x.ai/....mp4"
    assert status.cost_usd == pytest.approx(0.05)
    assert status.progress == 100
    assert status.video_duration == 8
    assert status.error_message is None


@pytest.mark.parametrize("ticks, usd", [(400_000_000, 0.04), (7_000_000_000, 0.70), (0, 0.0)])
def test_tick_conversion(xai, reply, ticks, usd):
    status = xai.parse_poll(reply(200, {"status": "done", "video": {"url": "https://v/a.mp4"},
                                        "usage": {"cost_in_usd_ticks": ticks}}))
    assert status.cost_usd == pytest.approx(usd)


def test_done_without_usage_has_no_reported_cost(xai, reply):
    status = xai.parse_poll(reply(200, {"status": "done", "video": {"url": "https://v/a.mp4"}}))
    assert status.cost_usd is None


def test_failed_with_error_object(xai, fixture, reply):
    """A failed job is HTTP 200 with `status: failed` and `error: {code, message}`."""
    status = xai.parse_poll(reply(200, fixture("xai_failed_error")))
    assert status.state is State.FAILED
    assert status.error_code == "content_moderated"
    assert status.error_message == "The prompt was rejected by content moderation"


def test_failed_without_details(xai, fixture, reply):
    """The seed's bare failure body still ends the job with a message."""
    status = xai.parse_poll(reply(200, fixture("xai_failed")))
    assert status.state is State.FAILED
    assert status.error_message


def test_expired(xai, reply):
    status = xai.parse_poll(reply(200, {"status": "expired"}))
    assert status.state is State.EXPIRED
    assert "expired" in status.error_message


# ---- malformed replies --------------------------------------------------------------------

def test_generic_malformed_submit_and_poll(xai, reply, generic_malformed):
    for parse in (xai.parse_submit, xai.parse_poll):
        with pytest.raises(E.ProviderResponseError) as info:
            parse(reply(200, text=generic_malformed))
        assert info.value.provider == "xai"
        try:
            parsed = json.loads(generic_malformed)
        except (ValueError, TypeError):
            parsed = None
        expected = "expected JSON, got:" if parsed is None else "; the reply was:"
        assert expected in str(info.value)


def test_non_json_is_quoted(xai, reply):
    with pytest.raises(E.ProviderResponseError, match="upstream connect error"):
        xai.parse_poll(reply(200, text="upstream connect error or disconnect/reset"))


def test_unknown_status_is_quoted(xai, reply):
    with pytest.raises(E.ProviderResponseError) as info:
        xai.parse_poll(reply(200, {"status": "thinking_hard", "progress": 5}))
    message = str(info.value)
    assert "'thinking_hard'" in message
    assert "pending" in message and "expired" in message  # what is known
    assert '"progress":5' in message  # the body is quoted


def test_done_without_url(xai, reply):
    with pytest.raises(E.ProviderResponseError, match="video.url"):
        xai.parse_poll(reply(200, {"status": "done", "video": {"duration": 6}}))


def test_submit_without_request_id(xai, reply):
    with pytest.raises(E.ProviderResponseError, match="request_id.*queued"):
        xai.parse_submit(reply(200, {"id": "x", "status": "queued"}))


def test_odd_field_types_do_not_crash(xai, reply):
    status = xai.parse_poll(reply(200, {"status": "done", "video": {"url": "https://v/a.mp4",
                                                                     "duration": "eight"},
                                        "usage": "n/a", "progress": "100%", "error": 5}))
    assert status.state is State.SUCCEEDED and status.cost_usd is None
    assert status.progress is None and status.video_duration is None


@pytest.mark.parametrize("field, raw", [
    ("created_at", "1" + "0" * 30), ("created_at", "-" + "1" + "0" * 20), ("completed_at", "1e308"),
    ("progress", "1e400"), ("progress", "1" + "0" * 400),
])
def test_out_of_range_numbers_are_dropped(xai, reply, field, raw):
    """Epochs out of the platform's range and overflowing numbers become None, not OverflowError."""
    status = xai.parse_poll(reply(200, text=f'{{"status": "processing", "{field}": {raw}}}'))
    assert status.state is State.RUNNING
    assert getattr(status, field) is None


def test_non_finite_progress_and_cost(xai, reply):
    text = ('{"status": "done", "video": {"url": "https://v/a.mp4", "duration": NaN}, '
            '"progress": NaN, "usage": {"cost_in_usd_ticks": Infinity}}')
    status = xai.parse_poll(reply(200, text=text))
    assert status.progress is None and status.cost_usd is None and status.video_duration is None


# ---- HTTP errors --------------------------------------------------------------------------

ERROR_CASES = [
    (400, E.RequestRejectedError), (401, E.AuthenticationError), (402, E.InsufficientBalanceError),
    (403, E.AuthenticationError), (404, E.TaskNotFoundError), (422, E.RequestRejectedError),
    (429, E.RateLimitedError), (500, E.ProviderServerError), (503, E.ProviderServerError),
]


@pytest.mark.parametrize("status, cls", ERROR_CASES)
def test_http_errors(xai, reply, status, cls):
    """xAI errors are `{"code": "<status text>", "error": "<message>"}`."""
    body = {"code": "Client specified an invalid argument", "error": f"problem number {status}"}
    for parse in (xai.parse_submit, xai.parse_poll):
        with pytest.raises(cls) as info:
            parse(reply(status, body))
        exc = info.value
        assert exc.status_code == status
        assert exc.code == "Client specified an invalid argument"
        assert exc.message.startswith(f"problem number {status}")
        assert f"HTTP {status}" in str(exc)
        if status in (401, 403):
            assert "XAI_API_KEY" in str(exc)


def test_http_error_without_json_quotes_text(xai, reply):
    with pytest.raises(E.ProviderServerError, match="Service Unavailable"):
        xai.parse_poll(reply(502, text="<h1>502 Service Unavailable</h1>"))


def test_retry_after_seconds(xai, reply):
    with pytest.raises(E.RateLimitedError) as info:
        xai.parse_submit(reply(429, {"code": "Some resource has been exhausted", "error": "slow down"},
                               headers={"Retry-After": "7"}))
    assert info.value.retry_after == 7.0


def test_retry_after_http_date(xai, reply):
    when = datetime.now(UTC) + timedelta(seconds=120)
    with pytest.raises(E.RateLimitedError) as info:
        xai.parse_poll(reply(429, {"error": "slow down"},
                             headers={"Retry-After": format_datetime(when, usegmt=True)}))
    assert 100 <= info.value.retry_after <= 121


@pytest.mark.parametrize("header", [None, "soon", "Wed, 21 Oct 2015 07:28:00 GMT"])
def test_retry_after_absent_bad_or_past(xai, reply, header):
    headers = {"Retry-After": header} if header else None
    with pytest.raises(E.RateLimitedError) as info:
        xai.parse_poll(reply(429, {"error": "slow down"}, headers=headers))
    assert info.value.retry_after in (None, 0.0)
    if header and header.startswith("Wed"):
        assert info.value.retry_after == 0.0
