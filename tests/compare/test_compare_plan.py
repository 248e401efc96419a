"""The pure planning layer: provider specs, fairness (skip or adapt), the cost estimate."""

from __future__ import annotations

import base64
import io

import pytest

from grokvid_nb._compare.fit import (
    Estimate,
    EstimateLine,
    Target,
    check_budget,
    default_targets,
    fit_request,
    parse_targets,
)
from grokvid_nb._exceptions import BudgetExceededError, ConfigurationError, ImageInputError
from grokvid_nb.adapters import PROVIDER_NAMES, get_adapter


def test_parse_targets_forms() -> None:
    assert parse_targets(None) is None
    assert parse_targets("xai, apixo") == [Target("xai"), Target("apixo")]
    assert parse_targets(["XAI", "xai"]) == [Target("xai")]
    assert parse_targets([("xingchao", "grok_video3_pro"), "apixo"]) == [
        Target("xingchao", "grok_video3_pro"), Target("apixo")]
    assert parse_targets({"xingchao": "grok_video3_max", "xai": None}) == [
        Target("xingchao", "grok_video3_max"), Target("xai")]
    assert parse_targets("xingchao:grok_video3_pro") == [Target("xingchao", "grok_video3_pro")]
    with pytest.raises(ValueError, match="unknown provider"):
        parse_targets(["grok"])
    with pytest.raises(TypeError):
        parse_targets([42])


def test_default_targets() -> None:
    assert [t.provider for t in default_targets(True, {})] == list(PROVIDER_NAMES)
    assert default_targets(False, {"APIXO_API_KEY": "k", "XAI_API_KEY": " "}) == [Target("apixo")]
    with pytest.raises(ConfigurationError, match="XAI_API_KEY"):
        default_targets(False, {})


@pytest.mark.parametrize("provider, model, params, note_part", [
    ("pixazo", None, {"duration": 12}, "3-10 s"),                   # text route stops at 10 s
    ("apiinone", None, {"duration": 6}, "takes no duration"),       # no duration knob at all
    ("apiinone", None, {"resolution": "480p"}, "takes no resolution"),
    ("xingchao", "grok_video3_pro", {"duration": 6}, "10 s"),        # fixed 10 s
    ("apixo", None, {"duration": 4}, "6-30 s"),                     # starts at 6 s
    ("xai", None, {"aspect_ratio": "21:9"}, "16:9"),
])
def test_skipped_by_default(provider: str, model: str | None, params: dict, note_part: str) -> None:
    fit = fit_request(get_adapter(provider), "a prompt", params, model=model)
    assert fit.skipped and fit.note.startswith("skipped:") and note_part in fit.note
    assert "adapt=True" in fit.note


@pytest.mark.parametrize("provider, model, params, sent, note_part", [
    ("pixazo", None, {"duration": 12}, {"duration": 10}, "duration 12->10 s"),
    ("apiinone", None, {"duration": 12, "resolution": "480p"}, {}, "duration=12 dropped"),
    ("xingchao", "grok_video3_pro", {"duration": 6, "resolution": "480p"},
     {"duration": 10, "resolution": "720p"}, "resolution 480p->720p (only 720p)"),
    ("xingchao", "grok_video3_max", {"duration": 8}, {"duration": 6}, "duration 8->6 s"),  # tie: shorter
    ("xingchao", "grok_video3_max", {"duration": 25}, {"duration": 20}, "allowed: 6, 10, 12, 16, 20, 30 s"),
    ("apixo", None, {"duration": 4}, {"duration": 6}, "duration 4->6 s"),
    ("xai", None, {"aspect_ratio": "21:9"}, {"aspect_ratio": "16:9"}, "aspect_ratio 21:9->16:9"),
    ("xai", None, {"resolution": "1080p"}, {"resolution": "720p"}, "resolution 1080p->720p"),
])
def test_adapted(provider: str, model: str | None, params: dict, sent: dict, note_part: str) -> None:
    fit = fit_request(get_adapter(provider), "a prompt", params, model=model, adapt=True)
    assert not fit.skipped and fit.request is not None
    for key, value in sent.items():
        assert fit.request.params.get(key) == value
    for key in set(params) - set(sent):
        assert key not in fit.request.params
    assert fit.note.startswith("adapted:") and note_part in fit.note


def test_valid_requests_are_untouched() -> None:
    fit = fit_request(get_adapter("apixo"), "x", {"duration": "10", "resolution": "720P "}, adapt=True)
    assert fit.note == "" and fit.request is not None
    assert fit.request.params["duration"] == 10 and fit.request.params["resolution"] == "720p"


def _png_uri(size: tuple[int, int] = (8, 8)) -> str:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, (9, 9, 9)).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def test_what_cannot_be_adapted_is_skipped() -> None:
    # a data: URI image where only public URLs are allowed, and no uploader: nothing nearby to
    # adapt to; the note is generate()'s refusal (provider, parameter, how to configure one)
    fit = fit_request(get_adapter("apixo"), "x", {"image_urls": [_png_uri()]}, adapt=True)
    assert fit.skipped and fit.send is None
    assert fit.note.startswith("skipped: apixo/grok-video takes public image URLs only")
    assert "image_urls[0]=<" in fit.note and "gv.set_uploader(fn)" in fit.note
    assert "nothing was sent" in fit.note


def test_images_are_fingerprinted_in_the_request_and_kept_to_send() -> None:
    uri = _png_uri()
    fit = fit_request(get_adapter("xai"), "x", {"image_url": uri})
    assert fit.request is not None and fit.send is not None
    fingerprint = fit.request.params["image_urls"][0]
    assert fingerprint.startswith("sha256:") and "base64" not in repr(fit.request.params)
    assert fit.send["image_url"] == uri and "image_urls" not in fit.send
    assert fit.request.mode == "image-to-video"


def test_an_input_that_is_no_image_raises_for_every_provider() -> None:
    with pytest.raises(ImageInputError, match="image_urls\\[0\\].*not an image"):
        fit_request(get_adapter("xai"), "x", {"image_urls": ["data:image/png;base64,AAAA"]}, adapt=True)


def test_estimate_and_budget() -> None:
    est = Estimate((EstimateLine("xai/grok-imagine-video", 3, 0.30),
                    EstimateLine("xingchao/grok_video3", 3, None),
                    EstimateLine("apixo/grok-video", 0, 0.09, reused=3)))
    assert est.known_usd == pytest.approx(0.90)
    assert est.unknown == ("xingchao/grok_video3",)
    text = est.describe(5.0)
    assert "$0.90 for 6 new jobs" in text and "unknown price for xingchao/grok_video3" in text
    assert "3 reused" in text and "limit $5.00" in text
    assert dict(est.breakdown())["xingchao/grok_video3"] == "3 x unknown = unknown"
    check_budget(est, 0.90)
    check_budget(est, None)
    with pytest.raises(BudgetExceededError, match="max_cost_usd=0.90"):
        check_budget(est, 0.5)
    # unpriced work alone never trips the guard: it is unknown, not zero, and not guessed
    check_budget(Estimate((EstimateLine("xingchao/grok_video3", 10, None),)), 0.0)


def test_breakdown_merges_a_sweeps_lines() -> None:
    est = Estimate((EstimateLine("apixo/grok-video", 1, 0.09), EstimateLine("apixo/grok-video", 1, 0.18)))
    assert est.breakdown() == [("apixo/grok-video", "2 x varying prices = $0.27")]
