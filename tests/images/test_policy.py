"""Per-provider image decisions (table-tested) and `resolve_images` with and without uploaders."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

import grokvid_nb as gv
from grokvid_nb._exceptions import ValidationError
from grokvid_nb._image_policy import (
    NeedsUpload,
    SendDataURI,
    SendURL,
    decide_image,
    image_policy,
    plan_images,
    resolve_image,
    resolve_images,
)
from grokvid_nb._images import DataURI, ImageBytes, coerce_image
from grokvid_nb._uploads import UploaderRequiredError, UploadError, set_uploader
from tests.images.conftest import encode, make_png

PNG = make_png()
IMAGE = ImageBytes.from_data(PNG, parameter="image_url", filename="cat.png")
URL = "https://cdn.example.com/cat.png"


@pytest.fixture(autouse=True)
def _no_global_uploader() -> Iterator[None]:
    previous = set_uploader(None)
    yield
    set_uploader(previous)


# (provider, model, mode) -> decision kind for local content
TABLE = [
    ("xai", "grok-imagine-video", "image-to-video", SendDataURI),
    ("xai", "grok-imagine-video", "reference-to-video", SendDataURI),
    ("xai", "grok-imagine-video-1.5", "image-to-video", SendDataURI),
    ("xai", "some-future-model", "image-to-video", SendDataURI),
    ("xingchao", "grok_video3", "image-to-video", SendDataURI),
    ("xingchao", "grok_video3_pro", "image-to-video", SendDataURI),
    ("xingchao", "grok_video3_max", "image-to-video", NeedsUpload),
    ("xingchao", "grok_video3_stable", "image-to-video", NeedsUpload),
    ("xingchao", "grok_video4_unlisted", "image-to-video", NeedsUpload),
    ("apixo", "grok-video", "image-to-video", NeedsUpload),
    ("pixazo", "grok-imagine-video", "image-to-video", NeedsUpload),
    ("pixazo", "grok-imagine-video", "reference-to-video", NeedsUpload),
    ("apiinone", "grok-imagine", "image-to-video", NeedsUpload),
]


@pytest.mark.parametrize(("provider", "model", "mode", "kind"), TABLE)
def test_decision_table(provider: str, model: str, mode: str, kind: type) -> None:
    decision = decide_image(provider, model, mode, IMAGE)
    assert type(decision) is kind
    if isinstance(decision, SendDataURI):
        assert decision.uri == "data:image/png;base64," + base64.b64encode(PNG).decode()
        assert decision.image is IMAGE
    else:
        assert isinstance(decision, NeedsUpload) and decision.image is IMAGE
    # a URL always goes as given
    assert decide_image(provider, model, mode, URL) == SendURL(URL)


def test_table_agrees_with_the_catalog() -> None:
    """The catalog's image_schemes column (the adapters' validation) and the policy say the same."""
    catalog = gv.providers()
    rows = catalog[catalog["mode"].isin(["image-to-video", "reference-to-video"])]
    assert set(rows["provider"]) == {"xai", "apixo", "pixazo", "xingchao", "apiinone"}
    for row in rows.itertuples():
        accepts_data = "data" in row.image_schemes.split(", ")
        assert image_policy(row.provider, row.model).data_uri is accepts_data, (row.provider, row.model)


def test_data_uri_given_is_sent_unchanged_or_uploaded() -> None:
    uri = "data:image/png;base64," + base64.b64encode(PNG).decode()
    given = coerce_image(uri)
    assert isinstance(given, DataURI)
    sent = decide_image("xai", "grok-imagine-video", "image-to-video", given)
    assert isinstance(sent, SendDataURI) and sent.uri == uri
    hosted = decide_image("apixo", "grok-video", "image-to-video", given)
    assert isinstance(hosted, NeedsUpload) and hosted.image.data == PNG


@pytest.mark.parametrize(("provider", "model", "limit_text"), [
    ("xai", "grok-imagine-video", "at most 10.0 MiB (xAI's documented image-input limit)"),
    ("xingchao", "grok_video3", "at most 10.0 MiB (XingChaoYiQing publishes no size limit; grokvid_nb "
                                "caps base64 images at 10 MiB)"),
])
def test_size_limit_names_provider_parameter_size_and_limit(provider: str, model: str, limit_text: str) -> None:
    big = ImageBytes(b"\x89PNG\r\n\x1a\n" + bytes(10 * 1024 * 1024), "image/png", "big.png", "0" * 64)
    with pytest.raises(ValidationError) as info:
        decide_image(provider, model, "image-to-video", big, parameter="image_urls[0]")
    err = info.value
    assert (err.provider, err.model, err.parameter) == (provider, model, "image_urls[0]")
    assert str(err) == (f"{provider}/{model}: image_urls[0]='<big.png (image/png, 10.0 MiB)>' is not "
                        f"allowed; a base64 image may be {limit_text} and this one is 10.0 MiB; pass a "
                        "smaller image, or host it and pass its https URL")


def test_exactly_at_the_limit_is_sent() -> None:
    edge = ImageBytes(b"\x89PNG\r\n\x1a\n" + bytes(10 * 1024 * 1024 - 8), "image/png", "e.png", "0" * 64)
    assert isinstance(decide_image("xai", "grok-imagine-video", "image-to-video", edge), SendDataURI)


@pytest.mark.parametrize("provider", ["apixo", "pixazo"])
def test_gif_is_refused_where_only_jpeg_png_webp_are_documented(provider: str) -> None:
    gif = coerce_image(encode("GIF"))
    with pytest.raises(ValidationError, match=r"only \(JPE?G, PNG or WebP\); convert the image$"):
        decide_image(provider, "m", "image-to-video", gif)
    webp = coerce_image(encode("WEBP"))
    assert isinstance(decide_image(provider, "m", "image-to-video", webp), NeedsUpload)


def test_modes_without_images_are_refused() -> None:
    with pytest.raises(ValidationError, match=r"edit takes no images"):
        decide_image("xai", "grok-imagine-video", "edit", IMAGE)


def test_unknown_provider() -> None:
    with pytest.raises(ValueError, match=r"no image policy for provider 'nope'"):
        image_policy("nope", "m")


# ---- resolve -----------------------------------------------------------------------------
class RecordingUploader:
    """A real callable uploader that keeps what it was given and answers a loopback URL."""

    def __init__(self) -> None:
        self.calls: list[tuple[bytes, str, str]] = []

    def __call__(self, data: bytes, filename: str, content_type: str) -> str:
        self.calls.append((data, filename, content_type))
        return f"http://127.0.0.1:9/u/{hashlib.sha256(data).hexdigest()}"


@pytest.mark.parametrize(("provider", "model"), [
    ("apixo", "grok-video"), ("pixazo", "grok-imagine-video"), ("apiinone", "grok-imagine"),
    ("xingchao", "grok_video3_max"),
])
def test_url_only_provider_without_uploader_refuses_before_anything(provider: str, model: str,
                                                                      png_file: Path) -> None:
    with pytest.raises(UploaderRequiredError) as info:
        resolve_image(provider, model, "image-to-video", png_file)
    err = info.value
    assert (err.provider, err.parameter) == (provider, "image_url")
    text = str(err)
    assert text.startswith(f"{provider}/{model} ")
    assert "image_url=<cat.png (image/png, " in text
    assert "nothing was sent" in text
    assert f"gv.set_uploader(fn) for every client, or gv.Client({provider!r}, uploader=fn)" in text


def test_missing_uploader_refuses_the_whole_list_before_any_upload(png_file: Path) -> None:
    # the first item would be fine (a URL); the refusal still comes before anything happens
    with pytest.raises(UploaderRequiredError) as info:
        resolve_images("pixazo", "grok-imagine-video", "reference-to-video", [URL, png_file])
    assert info.value.parameter == "image_urls[1]"


def test_bad_item_refuses_before_any_upload(png_file: Path) -> None:
    uploader = RecordingUploader()
    with pytest.raises(ValidationError):
        resolve_images("pixazo", "grok-imagine-video", "reference-to-video",
                       [png_file, encode("GIF")], uploader=uploader)
    assert uploader.calls == []


def test_client_uploader_wins_over_global_and_identical_bytes_upload_once(png_file: Path) -> None:
    global_uploader, own = RecordingUploader(), RecordingUploader()
    set_uploader(global_uploader)
    out = resolve_images("pixazo", "grok-imagine-video", "reference-to-video",
                         [png_file, PNG, URL], uploader=own)
    digest = hashlib.sha256(PNG).hexdigest()
    assert own.calls == [(PNG, "cat.png", "image/png")]
    assert global_uploader.calls == []
    assert [r.how for r in out] == ["uploaded", "uploaded", "url"]
    assert [r.sent for r in out] == [f"http://127.0.0.1:9/u/{digest}"] * 2 + [URL]
    assert [r.fingerprint for r in out] == [f"sha256:{digest}"] * 2 + [URL]
    assert out[0].ledger_record() == {"fingerprint": f"sha256:{digest}", "how": "uploaded",
                                      "url": f"http://127.0.0.1:9/u/{digest}",
                                      "content_type": "image/png", "size": len(PNG)}
    assert out[2].ledger_record() == {"fingerprint": URL, "how": "url", "url": URL}


def test_global_uploader_is_used(png_file: Path) -> None:
    uploader = RecordingUploader()
    assert set_uploader(uploader) is None
    out = resolve_image("apiinone", "grok-imagine", "image-to-video", png_file)
    assert out.how == "uploaded" and len(uploader.calls) == 1
    assert set_uploader(None) is uploader


def test_data_uri_providers_never_upload_and_ledger_has_no_base64(png_file: Path) -> None:
    uploader = RecordingUploader()
    out = resolve_image("xai", "grok-imagine-video", "image-to-video", png_file, uploader=uploader)
    assert uploader.calls == []
    assert out.how == "data-uri"
    assert out.sent == "data:image/png;base64," + base64.b64encode(PNG).decode()
    record = out.ledger_record()
    assert record == {"fingerprint": "sha256:" + hashlib.sha256(PNG).hexdigest(), "how": "data-uri",
                      "content_type": "image/png", "size": len(PNG)}
    assert "base64" not in repr(out) and "base64" not in repr(record)


def test_uploader_returning_a_plain_http_url_is_refused(png_file: Path) -> None:
    with pytest.raises(UploadError, match=r"providers need an https URL \(http only for a loopback host"):
        resolve_image("apixo", "grok-video", "image-to-video", png_file,
                      uploader=lambda data, name, ct: "http://files.example.com/x.png")


def test_uploader_failure_is_wrapped_with_context(png_file: Path) -> None:
    def broken(data: bytes, filename: str, content_type: str) -> str:
        raise OSError("disk full")

    with pytest.raises(UploadError) as info:
        resolve_image("apixo", "grok-video", "image-to-video", png_file, uploader=broken)
    assert str(info.value).startswith("uploading image_url=<cat.png (image/png, ")
    assert str(info.value).endswith(" for apixo failed: OSError: disk full")


def test_plan_refuses_or_fingerprints_before_any_upload(png_file: Path) -> None:
    uploader = RecordingUploader()
    plan = plan_images("apixo", "grok-video", "image-to-video", png_file, parameter="image_url",
                       uploader=uploader)
    digest = hashlib.sha256(PNG).hexdigest()
    assert plan.fingerprints == [f"sha256:{digest}"]
    assert plan.needs_upload
    assert uploader.calls == []  # a reused request would stop here, having uploaded nothing
    (out,) = plan.execute()
    assert out.sent == f"http://127.0.0.1:9/u/{digest}"
    assert len(uploader.calls) == 1


def test_plan_for_data_uri_provider_needs_no_uploader(png_file: Path) -> None:
    plan = plan_images("xingchao", "grok_video3", "image-to-video", [png_file, URL])
    assert not plan.needs_upload
    assert plan.fingerprints == ["sha256:" + hashlib.sha256(PNG).hexdigest(), URL]
    assert [r.how for r in plan.execute()] == ["data-uri", "url"]


def test_uploader_precedence_client_then_global_then_fallback(png_file: Path) -> None:
    own, global_uploader, fallback = RecordingUploader(), RecordingUploader(), RecordingUploader()
    args = ("apiinone", "grok-imagine", "image-to-video", png_file)
    plan_images(*args, uploader=own, fallback=fallback).execute()
    assert (len(own.calls), len(fallback.calls)) == (1, 0)
    plan_images(*args, fallback=fallback).execute()
    assert len(fallback.calls) == 1
    set_uploader(global_uploader)
    plan_images(*args, fallback=fallback).execute()
    assert (len(global_uploader.calls), len(fallback.calls)) == (1, 1)
