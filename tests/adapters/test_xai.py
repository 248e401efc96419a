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

from .conftest import assert_unrecognised, check_malformed

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


def test_models_are_the_public_ones(xai):
    """Item 8: only ids public material describes; `-1.5`/`-1.5-lite` are gone."""
    assert list(xai.models) == ["grok-imagine-video", "grok-imagine-video-1.5-preview"]
    for gone in ("grok-imagine-video-1.5", "grok-imagine-video-1.5-lite"):
        with pytest.raises(E.ValidationError) as info:
            xai.validate("p", model=gone)
        assert info.value.parameter == "model"


def test_preview_is_image_to_video_only_with_its_prices(xai, key):
    preview = "grok-imagine-video-1.5-preview"
    assert list(xai.models[preview].modes) == ["image-to-video"]
    with pytest.raises(E.ValidationError) as info:
        xai.validate("p", model=preview)  # text-to-video implied
    assert info.value.parameter == "mode" and "image-to-video" in info.value.allowed
    request = xai.validate("p", model=preview, image_url="https://example.com/a.png", duration=5,
                           resolution="720p")
    spec = xai.mode_spec(preview, "image-to-video")
    assert spec.estimate(request.params) == pytest.approx(5 * 0.14 + 0.01)
    assert spec.estimate({**request.params, "resolution": "480p"}) == pytest.approx(5 * 0.08 + 0.01)
    assert json.loads(xai.build_submit(request, BASE, key).content)["model"] == preview


def test_reference_to_video_is_at_most_10_s(xai):
    """Item 1: "The maximum duration allowed when using reference images is 10 seconds"."""
    refs = ["https://example.com/a.png", "https://example.com/b.png"]
    assert xai.validate("p", image_urls=refs, mode="reference-to-video", duration=10).params["duration"] == 10
    for seconds in (11, 15):
        with pytest.raises(E.ValidationError) as info:
            xai.validate("p", image_urls=refs, mode="reference-to-video", duration=seconds)
        assert info.value.parameter == "duration" and "1-10 s" in info.value.allowed


def test_image_to_video_leaves_the_ratio_to_the_provider(xai, key):
    """Item 10: no aspect_ratio given -> none sent (a fixed 16:9 would crop portrait images)."""
    request = xai.validate("p", image_url="https://example.com/portrait.png")
    assert "aspect_ratio" not in json.loads(xai.build_submit(request, BASE, key).content)
    request = xai.validate("p", image_url="https://example.com/portrait.png", aspect_ratio="9:16")
    assert json.loads(xai.build_submit(request, BASE, key).content)["aspect_ratio"] == "9:16"


@pytest.mark.parametrize("mode", ["edit", "extend"])
def test_edit_and_extend_take_base64_videos(xai, key, mode):
    """Item 10: sources may be base64 data URIs (docs.x.ai)."""
    uri = "data:video/mp4;base64,AAAAIGZ0eXBpc29t"
    body = json.loads(xai.build_submit(xai.validate("p", mode=mode, video_url=uri), BASE, key).content)
    assert body["video"] == {"url": uri}
    for bad in ("data:image/png;base64,AAAA", "data:video/mp4;base64,%%%"):
        with pytest.raises(E.ValidationError) as info:
            xai.validate("p", mode=mode, video_url=bad)
        assert info.value.parameter == "video_url"


def test_done_without_url_and_moderation_flag_is_moderated(xai, reply):
    """Item 3: `done`, no URL, `respect_moderation: false` -> moderated, with its reported cost."""
    body = {"status": "done", "progress": 100, "usage": {"cost_in_usd_ticks": 3_000_000_000},
            "video": {"url": None, "duration": 6, "respect_moderation": False}}
    status = xai.parse_poll(reply(200, body))
    assert status.state is State.FAILED and status.error_code == "moderated"
    assert status.cost_usd == pytest.approx(0.30) and status.billing == "charged"
    assert status.unrecognised is None
    assert status.error_message == ("xAI's content moderation blocked the video (status done, no URL, "
                                    "respect_moderation false); xAI reported a cost of $0.3 for it")


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
    assert status.error_code == "moderated"
    assert status.error_message == ("xAI (direct)'s content moderation blocked the video: The prompt "
                                    "was rejected by content moderation [content_moderated]")


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
    check_malformed(xai, reply, generic_malformed)


def test_non_json_is_quoted(xai, reply):
    with pytest.raises(E.ProviderResponseError, match="upstream connect error"):
        xai.parse_poll(reply(200, text="upstream connect error or disconnect/reset"))


def test_unknown_status_is_quoted(xai, reply):
    status = xai.parse_poll(reply(200, {"status": "thinking_hard", "progress": 5}))
    # what came back, what is known, and the body quoted
    assert_unrecognised(status, State.UNKNOWN, "'thinking_hard'", "pending", "expired", '"progress":5')


def test_done_without_url(xai, reply):
    """Without `respect_moderation: false` the reason is unknown: unrecognised, not moderated."""
    status = xai.parse_poll(reply(200, {"status": "done", "video": {"duration": 6}}))
    assert_unrecognised(status, State.UNKNOWN, "status is done but video.url is missing")


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
