"""Uploader registry, hosted-URL checks, the sandbox uploader (MockTransport) and
`FsspecUploader` on fsspec's in-memory filesystem. S3 against a real server: test_s3_uploader.py."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import httpx
import pytest

from grokvid_nb._exceptions import ConfigurationError
from grokvid_nb._image_policy import resolve_image
from grokvid_nb._uploads import (
    FsspecUploader,
    SandboxUploader,
    UploadError,
    check_upload_url,
    get_uploader,
    set_uploader,
)
from tests.images.conftest import make_png

PNG = make_png()
DIGEST = hashlib.sha256(PNG).hexdigest()


@pytest.fixture(autouse=True)
def _no_global_uploader() -> Iterator[None]:
    previous = set_uploader(None)
    yield
    set_uploader(previous)


# ---- registry ----------------------------------------------------------------------------
def test_set_uploader_returns_the_previous_one() -> None:
    def first(data: bytes, filename: str, content_type: str) -> str:
        return "https://a.example/1"

    def second(data: bytes, filename: str, content_type: str) -> str:
        return "https://a.example/2"

    assert set_uploader(first) is None
    assert get_uploader() is first
    assert set_uploader(second) is first
    assert set_uploader(None) is second
    assert get_uploader() is None


def test_set_uploader_refuses_a_non_callable() -> None:
    with pytest.raises(TypeError, match=r"an uploader must be callable \(data, filename, content_type\) -> URL, not str"):
        set_uploader("s3://bucket")  # type: ignore[arg-type]
    assert get_uploader() is None


def test_public_names_are_exported() -> None:
    import grokvid_nb as gv

    assert gv.set_uploader is set_uploader
    assert gv.FsspecUploader is FsspecUploader
    assert gv.SandboxUploader is SandboxUploader


# ---- hosted URL check --------------------------------------------------------------------
@pytest.mark.parametrize("url", [
    "https://bucket.s3.amazonaws.com/k.png?X-Amz-Signature=abc",
    "http://127.0.0.1:5000/b/k.png", "http://localhost:8765/sandbox/uploads/1",
    "http://[::1]:9/x", "http://127.5.0.1/x", "http://s0123456789ab.sandbox.invalid/sandbox/uploads/k",
])
def test_usable_upload_urls(url: str) -> None:
    assert check_upload_url(f" {url} ") == url


@pytest.mark.parametrize(("url", "message"), [
    ("http://files.example.com/a.png", "the uploader returned 'http://files.example.com/a.png': "
                                       "providers need an https URL (http only for a loopback host, e.g. the sandbox)"),
    ("ftp://files.example.com/a.png", "the uploader returned 'ftp://files.example.com/a.png': "
                                      "providers need an https URL (http only for a loopback host, e.g. the sandbox)"),
    ("s3://bucket/a.png", "the uploader returned 's3://bucket/a.png': providers need an https URL "
                          "(http only for a loopback host, e.g. the sandbox)"),
    ("/local/a.png", "the uploader returned '/local/a.png', which has no host"),
    (None, "the uploader returned NoneType 'None', not a URL"),
    ("", "the uploader returned str '', not a URL"),
])
def test_unusable_upload_urls(url: object, message: str) -> None:
    with pytest.raises(UploadError) as info:
        check_upload_url(url)
    assert str(info.value) == message


# ---- sandbox uploader --------------------------------------------------------------------
class FakeSandbox:
    """The upload endpoint's contract: POST raw bytes with Content-Type, reply {"url": ...}."""

    def __init__(self, reply: httpx.Response | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self.reply = reply

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.reply is not None:
            return self.reply
        digest = hashlib.sha256(request.content).hexdigest()
        return httpx.Response(201, json={"url": f"http://127.0.0.1:8765/sandbox/uploads/{digest}"})


@pytest.mark.timeout(30)
def test_sandbox_uploader_posts_raw_bytes_with_content_type() -> None:
    fake = FakeSandbox()
    uploader = SandboxUploader("http://127.0.0.1:8765/", transport=httpx.MockTransport(fake))
    url = uploader(PNG, "cat.png", "image/png")
    assert url == f"http://127.0.0.1:8765/sandbox/uploads/{DIGEST}"
    (request,) = fake.requests
    assert request.method == "POST"
    assert str(request.url) == "http://127.0.0.1:8765/sandbox/uploads"
    assert request.headers["content-type"] == "image/png"
    assert request.content == PNG
    assert "authorization" not in request.headers  # no key ever goes with an upload


@pytest.mark.timeout(30)
async def test_sandbox_uploader_from_async_code() -> None:
    fake = FakeSandbox()
    uploader = SandboxUploader("http://127.0.0.1:8765", transport=httpx.MockTransport(fake))
    assert await uploader.upload(PNG, "cat.png", "image/png") == \
        f"http://127.0.0.1:8765/sandbox/uploads/{DIGEST}"


@pytest.mark.timeout(30)
def test_sandbox_uploader_feeds_resolve_for_a_url_only_provider() -> None:
    fake = FakeSandbox()
    out = resolve_image("apixo", "grok-video", "image-to-video", PNG,
                        uploader=SandboxUploader("http://127.0.0.1:8765", transport=httpx.MockTransport(fake)))
    assert out.how == "uploaded"
    assert out.sent == out.uploaded_url == f"http://127.0.0.1:8765/sandbox/uploads/{DIGEST}"
    assert out.fingerprint == f"sha256:{DIGEST}"
    assert len(fake.requests) == 1


@pytest.mark.timeout(30)
@pytest.mark.parametrize(("reply", "message"), [
    (httpx.Response(413, text="too large"),
     "the sandbox refused the upload of cat.png: HTTP 413 'too large'"),
    (httpx.Response(200, json={"id": "x"}), "the sandbox's upload reply has no 'url': '{\"id\":\"x\"}'"),
    (httpx.Response(200, text="<html>"), "the sandbox's upload reply has no 'url': '<html>'"),
    (httpx.Response(200, json={"url": "http://evil.example.com/x"}),
     "the sandbox returned 'http://evil.example.com/x': providers need an https URL "
     "(http only for a loopback host, e.g. the sandbox)"),
])
def test_sandbox_uploader_errors(reply: httpx.Response, message: str) -> None:
    uploader = SandboxUploader("http://127.0.0.1:8765", transport=httpx.MockTransport(FakeSandbox(reply)))
    with pytest.raises(UploadError) as info:
        uploader(PNG, "cat.png", "image/png")
    assert str(info.value) == message


@pytest.mark.timeout(30)
def test_sandbox_uploader_connection_refused() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    uploader = SandboxUploader("http://127.0.0.1:8765", transport=httpx.MockTransport(refuse))
    with pytest.raises(UploadError) as info:
        uploader(PNG, "cat.png", "image/png")
    assert str(info.value) == ("uploading cat.png to the sandbox at http://127.0.0.1:8765/sandbox/uploads "
                               "failed: ConnectError: connection refused")


# ---- fsspec (in-memory filesystem) --------------------------------------------------------
def test_memory_fs_cannot_sign_so_it_needs_a_public_base_url() -> None:
    with pytest.raises(ConfigurationError) as info:
        FsspecUploader("memory://grokvid-test/none")
    assert str(info.value) == ("FsspecUploader('memory://grokvid-test/none'): the MemoryFileSystem "
                               "filesystem cannot sign URLs; pass public_base_url= (where these files "
                               "are served over https), or use s3:// or gs://, which sign")


def test_memory_fs_with_public_base_url_writes_by_content_hash() -> None:
    uploader = FsspecUploader("memory://grokvid-test/prefix", public_base_url="https://cdn.example.com/imgs/")
    url = uploader(PNG, "cat.png", "image/png")
    assert url == f"https://cdn.example.com/imgs/{DIGEST}.png"
    assert uploader.fs.cat_file(f"/grokvid-test/prefix/{DIGEST}.png") == PNG
    assert uploader(PNG, "other-name.png", "image/png") == url  # same bytes, same object
    assert repr(uploader) == "FsspecUploader('memory://grokvid-test/prefix', public https://cdn.example.com/imgs)"


def test_public_base_url_must_be_https() -> None:
    with pytest.raises(UploadError, match=r"providers need an https URL"):
        FsspecUploader("memory://grokvid-test/p", public_base_url="http://cdn.example.com")


@pytest.mark.parametrize("expires_s", [0, -5, 604801, 1.5, True])
def test_expiry_must_be_whole_seconds_up_to_seven_days(expires_s: object) -> None:
    with pytest.raises(ValueError, match=r"must be whole seconds from 1 to 604800"):
        FsspecUploader("memory://grokvid-test/p", expires_s=expires_s,  # type: ignore[arg-type]
                       public_base_url="https://cdn.example.com")


def test_missing_backend_says_how_to_install() -> None:
    pytest.importorskip("fsspec")
    try:
        import gcsfs  # noqa: F401
        pytest.skip("gcsfs is installed here; the missing-backend path cannot be shown")
    except ImportError:
        pass
    with pytest.raises(ConfigurationError) as info:
        FsspecUploader("gs://bucket/prefix")
    text = str(info.value)
    assert text.startswith("FsspecUploader('gs://bucket/prefix'): ")
    assert "gcsfs" in text
    assert text.endswith("pip install 'grokvid_nb[upload]' (fsspec + s3fs; gcsfs for gs://)")



@pytest.mark.timeout(30)
def test_sandbox_uploader_accepts_a_transport_factory() -> None:
    fake = FakeSandbox()
    made: list[httpx.MockTransport] = []

    def factory() -> httpx.MockTransport:
        made.append(httpx.MockTransport(fake))
        return made[-1]

    uploader = SandboxUploader("http://127.0.0.1:8765", transport=factory)
    uploader(PNG, "a.png", "image/png")
    uploader(PNG, "a.png", "image/png")
    assert len(made) == 2 and len(fake.requests) == 2


@pytest.fixture()
def sandbox_off() -> Iterator[None]:
    import grokvid_nb as gv

    gv.use_sandbox(False)
    yield
    gv.use_sandbox(False)


def test_sandbox_uploader_follows_sandbox_mode(sandbox_off: None, monkeypatch: pytest.MonkeyPatch) -> None:
    import grokvid_nb as gv
    from grokvid_nb._uploads import sandbox_uploader

    monkeypatch.delenv("GROKVID_SANDBOX", raising=False)
    assert sandbox_uploader() is None
    gv.use_sandbox(url="http://127.0.0.1:8765/")
    served = sandbox_uploader()
    assert served is not None
    assert (served.base_url, served.transport) == ("http://127.0.0.1:8765", None)
    sandbox = gv.use_sandbox()
    assert sandbox is not None
    in_process = sandbox_uploader()
    assert in_process is not None
    assert httpx.URL(in_process.base_url).host.endswith(".sandbox.invalid")
    assert callable(in_process.transport)
    assert isinstance(in_process.transport(), httpx.AsyncBaseTransport)  # type: ignore[operator]
