"""Pixazo Grok Imagine Video (seed 001): four routes, replies, errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from grokvid_nb import _exceptions as E
from grokvid_nb._types import State
from grokvid_nb.adapters import get_adapter

from .conftest import assert_unrecognised, check_malformed

BASE = "https://gateway.pixazo.ai"
REQUEST_ID = "grok-imagine-video-text-to-video_019dxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"
KNIGHT = ("Medieval knight in ornate armor walking through a mystical forest, bioluminescent plants, "
          "over-the-shoulder camera, dark fantasy aesthetic")
KNIGHT_IMAGE = "https://v3b.example.com/files/b/0a8b90e0/BFLE9VDlZqsryU-UA3BoD_image_004.png"


@pytest.fixture
def pixazo():
    return get_adapter("pixazo")


def _submit(pixazo, key, kind, prompt, **params):
    req = pixazo.build_submit(pixazo.validate(prompt, **params), BASE, key)
    assert req.method == "POST"
    assert str(req.url) == (f"https://gateway.pixazo.ai/grok-imagine-video-{kind}/v1/"
                            f"grok-imagine-video-{kind}-request")
    assert req.headers["Ocp-Apim-Subscription-Key"] == key.reveal()
    assert "Authorization" not in req.headers
    assert req.headers["Content-Type"] == "application/json"
    assert req.headers["Cache-Control"] == "no-cache"
    return json.loads(req.content)


# ---- submit: the four routes --------------------------------------------------------------

def test_text_to_video(pixazo, key):
    prompt = ("Anime schoolgirl bursting out of house door, cherry blossoms blowing, morning light, "
              "speed lines, vibrant colors")
    body = _submit(pixazo, key, "text-to-video", prompt, duration=6, aspect_ratio="16:9",
                   resolution="720p")
    assert body == {"prompt": prompt, "duration": 6, "aspect_ratio": "16:9", "resolution": "720p"}


def test_text_to_video_defaults(pixazo, key):
    """Defaults: 6 s, 16:9, 720p."""
    body = _submit(pixazo, key, "text-to-video", "p")
    assert body == {"prompt": "p", "duration": 6, "aspect_ratio": "16:9", "resolution": "720p"}


def test_image_to_video(pixazo, key):
    """The image route's example request, exactly (aspect defaults to `auto`)."""
    body = _submit(pixazo, key, "image-to-video", KNIGHT, image_url=KNIGHT_IMAGE)
    assert body == {"prompt": KNIGHT, "image_url": KNIGHT_IMAGE, "duration": 6,
                    "aspect_ratio": "auto", "resolution": "720p"}


def test_image_to_video_explicit(pixazo, key):
    body = _submit(pixazo, key, "image-to-video", KNIGHT, image_urls=[KNIGHT_IMAGE], duration=10,
                   aspect_ratio="9:16", resolution="480p")
    assert body == {"prompt": KNIGHT, "image_url": KNIGHT_IMAGE, "duration": 10,
                    "aspect_ratio": "9:16", "resolution": "480p"}


def test_reference_to_video(pixazo, key):
    """The reference route's example request, exactly (defaults 8 s, 16:9, 480p)."""
    prompt = "A @Image1 running through a sunlit meadow, cinematic slow motion"
    body = _submit(pixazo, key, "reference-to-video", prompt, mode="reference-to-video",
                   image_urls=[KNIGHT_IMAGE])
    assert body == {"prompt": prompt, "reference_image_urls": [KNIGHT_IMAGE], "duration": 8,
                    "aspect_ratio": "16:9", "resolution": "480p"}


def test_reference_to_video_seven_images_fifteen_seconds(pixazo, key):
    urls = [f"https://example.com/{i}.png" for i in range(7)]
    body = _submit(pixazo, key, "reference-to-video", "@Image1 meets @Image7",
                   mode="reference-to-video", image_urls=urls, duration=15, resolution="720p")
    assert body["reference_image_urls"] == urls and body["duration"] == 15


def test_edit_video(pixazo, key):
    """The edit route's example request, exactly (route kind `edit-video`)."""
    video = "https://v3b.example.com/files/b/0a8b9112/V5Z_NIPE3ppMDWivNo6_q_video_019.mp4"
    body = _submit(pixazo, key, "edit-video", "Colorize the video", video_url=video)
    assert body == {"prompt": "Colorize the video", "video_url": video, "resolution": "auto"}
    body = _submit(pixazo, key, "edit-video", "Colorize the video", mode="edit", video_url=video,
                   resolution="720P")
    assert body["resolution"] == "720p"


def test_base_url_prefix(pixazo, key):
    req = pixazo.build_submit(pixazo.validate("p"), "http://127.0.0.1:9/pfx", key)
    assert str(req.url) == ("http://127.0.0.1:9/pfx/grok-imagine-video-text-to-video/v1/"
                            "grok-imagine-video-text-to-video-request")


def test_poll_request(pixazo, key):
    req = pixazo.build_poll(REQUEST_ID, BASE, key)
    assert req.method == "GET"
    assert str(req.url) == f"https://gateway.pixazo.ai/v2/requests/status/{REQUEST_ID}"
    assert req.headers["Ocp-Apim-Subscription-Key"] == key.reveal()


# ---- replies ----------------------------------------------------------------------------

def test_parse_submit(pixazo, fixture, reply):
    assert pixazo.parse_submit(reply(202, fixture("pixazo_submit"))) == REQUEST_ID


@pytest.mark.parametrize("name", ["pixazo_completed", "pixazo_callback_completed"])
def test_completed(pixazo, fixture, reply, name):
    body = fixture(name)
    status = pixazo.parse_poll(reply(200, body))
    assert status.state is State.SUCCEEDED
    assert status.video_urls == tuple(body["output"]["media_url"])
    assert status.error_code is None and status.cost_usd is None
    assert status.completed_at > status.created_at


def test_error_is_not_charged(pixazo, fixture, reply):
    """ERROR is a system error and is not charged: billed "not charged", and no cost is
    *reported* (Pixazo reports none; the engine turns this into 0.0 "not charged")."""
    status = pixazo.parse_poll(reply(200, fixture("pixazo_error")))
    assert status.state is State.FAILED
    assert status.error_code == "ERROR"
    assert status.error_message == "Description of the error (ERROR: not charged)"
    assert status.cost_usd is None and status.billing == "not charged"
    assert status.created_at is None  # "..." is not a time, and that is not an error


def test_failed_is_charged(pixazo, reply):
    status = pixazo.parse_poll(reply(200, {"request_id": "r", "status": "FAILED",
                                           "error": "upstream render crashed", "output": None}))
    assert status.state is State.FAILED
    assert status.error_code == "FAILED"
    assert status.error_message == "upstream render crashed (FAILED: charged)"
    assert status.cost_usd is None and status.billing == "charged"


def test_failed_by_moderation_is_moderated_and_charged(pixazo, reply):
    status = pixazo.parse_poll(reply(200, {"request_id": "r", "status": "FAILED",
                                           "error": "moderation", "output": None}))
    assert status.state is State.FAILED and status.error_code == "moderated"
    assert status.error_message == ("Pixazo's content moderation blocked the video: moderation "
                                    "[FAILED] (FAILED: charged)")
    assert status.billing == "charged"


@pytest.mark.parametrize("word, state", [
    ("QUEUED", State.QUEUED), ("PROCESSING", State.RUNNING), ("COMPLETED", State.SUCCEEDED),
    ("FAILED", State.FAILED), ("ERROR", State.FAILED), ("queued", State.QUEUED),
])
def test_status_vocabulary(pixazo, reply, word, state):
    body = {"request_id": "r", "status": word, "error": None, "output": None}
    if state is State.SUCCEEDED:
        body["output"] = {"media_url": ["https://pub.r2.dev/out.mp4"], "media_type": "video/mp4"}
    status = pixazo.parse_poll(reply(200, body))
    assert status.state is state and status.raw_status == word


# ---- malformed replies --------------------------------------------------------------------

def test_generic_malformed_submit_and_poll(pixazo, reply, generic_malformed):
    check_malformed(pixazo, reply, generic_malformed)


@pytest.mark.parametrize("output", [None, {}, {"media_url": []}, {"media_url": "not a url"},
                                    {"media_url": [None, 3]}, ["https://pub.r2.dev/out.mp4"]])
def test_completed_without_media(pixazo, reply, output):
    status = pixazo.parse_poll(reply(200, {"request_id": "r", "status": "COMPLETED", "output": output}))
    assert_unrecognised(status, State.UNKNOWN, "status is COMPLETED but output.media_url is empty")


def test_unknown_status_is_quoted(pixazo, reply):
    """An undocumented word whose meaning is clear ends the job at once as failed."""
    status = pixazo.parse_poll(reply(200, {"request_id": "r", "status": "CANCELLED"}))
    assert_unrecognised(status, State.FAILED, "'CANCELLED'", '"request_id":"r"')


# ---- HTTP errors --------------------------------------------------------------------------

def test_insufficient_balance(pixazo, fixture, reply):
    with pytest.raises(E.InsufficientBalanceError) as info:
        pixazo.parse_submit(reply(402, fixture("pixazo_insufficient_balance")))
    assert info.value.code == "Insufficient Balance"
    assert info.value.message == "Your wallet does not have enough balance."


def test_model_not_found_is_a_rejected_request(pixazo, fixture, reply):
    with pytest.raises(E.RequestRejectedError) as info:
        pixazo.parse_submit(reply(400, fixture("pixazo_model_not_found")))
    assert info.value.code == "Model not found"
    assert "not found or is disabled" in info.value.message


ERROR_CASES = [
    (400, E.RequestRejectedError), (401, E.AuthenticationError), (402, E.InsufficientBalanceError),
    (403, E.AuthenticationError), (404, E.TaskNotFoundError), (429, E.RateLimitedError),
    (500, E.ProviderServerError),
]


@pytest.mark.parametrize("status, cls", ERROR_CASES)
def test_http_errors(pixazo, reply, status, cls):
    body = {"error": f"Label {status}", "message": f"pixazo says {status}"}
    for parse in (pixazo.parse_submit, pixazo.parse_poll):
        with pytest.raises(cls) as info:
            parse(reply(status, body))
        assert info.value.status_code == status
        assert info.value.code == f"Label {status}"
        assert info.value.message.startswith(f"pixazo says {status}")
        if status in (401, 403):
            assert "PIXAZO_API_KEY" in str(info.value)


def test_azure_style_401(pixazo, reply):
    """The gateway is Azure API Management: its 401 body is `{statusCode, message}`."""
    body = {"statusCode": 401, "message": "Access denied due to invalid subscription key. "
                                          "Make sure to provide a valid key for an active subscription."}
    with pytest.raises(E.AuthenticationError, match="invalid subscription key"):
        pixazo.parse_submit(reply(401, body))


def test_error_with_only_a_label(pixazo, reply):
    with pytest.raises(E.RequestRejectedError) as info:
        pixazo.parse_submit(reply(400, {"error": "Bad prompt"}))
    assert info.value.message == "Bad prompt"


def test_retry_after(pixazo, reply):
    with pytest.raises(E.RateLimitedError) as info:
        pixazo.parse_submit(reply(429, {"error": "Too Many Requests", "message": "slow down"},
                                  headers={"Retry-After": "3"}))
    assert info.value.retry_after == 3.0
    when = datetime.now(UTC) + timedelta(seconds=30)
    with pytest.raises(E.RateLimitedError) as info:
        pixazo.parse_poll(reply(429, text="Too Many Requests",
                                headers={"Retry-After": format_datetime(when, usegmt=True)}))
    assert 10 <= info.value.retry_after <= 31
    assert "Too Many Requests" in str(info.value)
