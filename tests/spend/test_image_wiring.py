"""Every image input kind reaches every sandbox provider, as a data URI or an upload as the
provider needs; the ledger keeps hashes and hosted URLs, never base64; reuse compares hashes."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

import grokvid_nb as gv
from grokvid_nb.adapters import PROVIDER_NAMES

from .conftest import created, png
from .image_inputs import HOW, KINDS, bytes_behind, image_input, sent_image


@pytest.mark.timeout(60)
@pytest.mark.parametrize("provider", PROVIDER_NAMES)
def test_each_input_kind_reaches_the_provider(provider: str, sandbox: Any, tmp_path: Path) -> None:
    data = png()
    path = tmp_path / "cat.png"
    path.write_bytes(data)
    client = gv.Client(provider, keep_local=False)
    for i, kind in enumerate(KINDS):
        value = image_input(kind, path, data)
        if kind == "FileUpload":
            job = client.submit(f"a red card {i}", mode="image-to-video", image_urls=value)
        else:
            job = client.submit(f"a red card {i}", image_url=value)
        assert job.wait(30).ok, (kind, job.error_message)
        sent = sent_image(sandbox, provider)
        if HOW[provider] == "data-uri":
            assert sent.startswith("data:image/png;base64,"), kind
        else:
            assert sent.startswith(client.endpoint + "/sandbox/files/"), kind
        received = bytes_behind(sandbox, sent)
        row = client.ledger.get(job.job_id)
        assert row is not None
        record = row.params["image_inputs"][0]
        assert record["how"] == HOW[provider]
        assert record["fingerprint"] == "sha256:" + hashlib.sha256(received).hexdigest()
        assert row.params["image_urls"] == [record["fingerprint"]]
        if HOW[provider] == "uploaded":
            assert record["url"] == sent
        assert "base64" not in repr(row.params) and "base64" not in row.fingerprint
        assert "base64" not in repr(job.request.params)
    assert created(sandbox) == len(KINDS)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("provider", ["xai", "apixo"])
def test_the_same_file_is_reused_however_it_is_passed(provider: str, sandbox: Any, tmp_path: Path) -> None:
    data = png((10, 200, 10))
    path = tmp_path / "green.png"
    path.write_bytes(data)
    client = gv.Client(provider, keep_local=False)
    first = client.submit("a green card", image_url=path)
    assert first.wait(30).ok
    uploads = len(sandbox.uploads.files)
    for again in (str(path), data, "data:image/png;base64," + base64.b64encode(data).decode()):
        job = client.submit("a green card", image_url=again)
        assert job.reused is True and job.job_id == first.job_id
    assert created(sandbox) == 1
    assert len(sandbox.uploads.files) == uploads  # a reused request uploads nothing
    other = client.submit("a green card", image_url=png((10, 10, 200)))
    assert other.reused is False and other.job_id != first.job_id


@pytest.mark.timeout(30)
def test_a_client_uploader_wins_over_the_sandbox(sandbox: Any) -> None:
    seen: list[tuple[str, str]] = []
    fallback = gv.SandboxUploader  # the sandbox's own one, to host the bytes for real

    def mine(data: bytes, filename: str, content_type: str) -> str:
        seen.append((filename, content_type))
        from grokvid_nb._uploads import sandbox_uploader

        uploader = sandbox_uploader()
        assert isinstance(uploader, fallback)
        return uploader(data, filename, content_type)

    job = gv.Client("pixazo", uploader=mine, keep_local=False).submit("a card", image_url=png())
    assert job.wait(30).ok
    assert len(seen) == 1 and seen[0][1] == "image/png"


@pytest.mark.timeout(30)
def test_url_only_provider_without_uploader_refuses_before_sending(tmp_path: Path) -> None:
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(500)

    client = gv.Client("apixo", api_key="k", base_url="https://apixo.test",
                       transport=httpx.MockTransport(handler))
    with pytest.raises(gv.UploaderRequiredError, match="apixo.*image_url.*set_uploader"):
        client.submit("a card", image_url=png())
    assert requests == []
    assert client.ledger.all() == []


@pytest.mark.timeout(30)
def test_validation_comes_before_any_upload(sandbox: Any) -> None:
    calls: list[str] = []

    def counting(data: bytes, filename: str, content_type: str) -> str:
        calls.append(filename)
        return "https://images.example/x.png"

    client = gv.Client("apixo", uploader=counting)
    with pytest.raises(gv.ValidationError, match="duration"):
        client.submit("a card", image_url=png(), duration=999)
    with pytest.raises(gv.ImageInputError):
        client.submit("a card", image_url=b"not an image")
    assert calls == [] and created(sandbox) == 0


@pytest.mark.timeout(30)
def test_generate_takes_a_local_file(sandbox: Any, tmp_path: Path) -> None:
    path = tmp_path / "c.png"
    path.write_bytes(png())
    result = gv.generate("a card", provider="apiinone", image_url=path).wait(30)
    assert result.ok and result.params["image_urls"][0].startswith("sha256:")


@pytest.mark.timeout(30)
def test_the_form_sends_a_file_upload(sandbox: Any) -> None:
    data = png((1, 2, 250))
    form = gv.form("pixazo")
    form.mode.value = "image-to-video"
    form.prompt.value = "a blue card"
    assert form.generate_button.disabled is True  # no image yet
    form.image_file.value = ({"name": "blue.png", "type": "image/png", "size": len(data),
                              "content": memoryview(data), "last_modified": datetime.now(UTC)},)
    assert form.generate_button.disabled is False, form.reason.value
    form._on_generate()
    assert form.job is not None
    result = form.job.wait(30)
    assert result.ok
    sent = sent_image(sandbox, "pixazo")
    assert sandbox.uploads.files[sent.rsplit("/", 1)[1]].data == data
