"""`FsspecUploader` on s3:// against a real S3-compatible server on 127.0.0.1 (moto's server).

moto 5.2 stores and serves objects but does not check presigned URLs: it neither verifies the
signature nor refuses an expired `X-Amz-Expires` (its source has no such check). Real S3 does
both. So the server here is moto behind a small WSGI front that applies S3's documented SigV4
query-authentication rules to presigned GETs (signature over the canonical request with the
secret key; `X-Amz-Date + X-Amz-Expires` in the past -> 403 AccessDenied "Request has expired").
Everything else goes straight to moto. Dummy credentials only; nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

import httpx
import pytest

pytest.importorskip("s3fs")
pytest.importorskip("moto")

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

from grokvid_nb._image_policy import resolve_image
from grokvid_nb._uploads import FsspecUploader, UploadError
from tests.images.conftest import make_png

KEY_ID = "AKIDGROKVIDTEST"
SECRET = "grokvid-dummy-secret-for-tests"
REGION = "us-east-1"
BUCKET = "grokvid-images"

Environ = dict[str, Any]
StartResponse = Callable[..., Any]


def _sign(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def _quote(text: str) -> str:
    return quote(text, safe="-_.~")


class PresignChecker:
    """S3's SigV4 query-auth rules in front of a WSGI app (see the module docstring)."""

    def __init__(self, app: Callable[[Environ, StartResponse], Iterable[bytes]]) -> None:
        self.app = app
        self.checked: list[str] = []

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        query = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        params = dict(query)
        if "X-Amz-Signature" not in params:
            return self.app(environ, start_response)
        refusal = self._refusal(environ, query, params)
        self.checked.append(refusal or "ok")
        if refusal is None:
            return self.app(environ, start_response)
        code, message = refusal.split(": ", 1)
        body = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code>"
                f"<Message>{message}</Message></Error>").encode()
        start_response("403 Forbidden", [("Content-Type", "application/xml"),
                                          ("Content-Length", str(len(body)))])
        return [body]

    @staticmethod
    def _refusal(environ: Environ, query: list[tuple[str, str]], params: dict[str, str]) -> str | None:
        if params.get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256":
            return "AuthorizationQueryParametersError: unsupported algorithm"
        key_id, date, region, service, terminal = params["X-Amz-Credential"].split("/")
        if key_id != KEY_ID or terminal != "aws4_request":
            return "InvalidAccessKeyId: unknown key"
        canonical_query = "&".join(f"{_quote(k)}={_quote(v)}" for k, v in sorted(query)
                                   if k != "X-Amz-Signature")
        signed = params["X-Amz-SignedHeaders"].split(";")
        headers = {"host": environ["HTTP_HOST"]}
        canonical_headers = "".join(f"{h}:{headers[h].strip()}\n" for h in signed)
        canonical = "\n".join([environ["REQUEST_METHOD"], quote(environ["PATH_INFO"], safe="/-_.~"),
                               canonical_query, canonical_headers, ";".join(signed),
                               "UNSIGNED-PAYLOAD"])
        amz_date = params["X-Amz-Date"]
        scope = f"{date}/{region}/{service}/aws4_request"
        to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                             hashlib.sha256(canonical.encode()).hexdigest()])
        key = _sign(_sign(_sign(_sign(("AWS4" + SECRET).encode(), date), region), service), "aws4_request")
        expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, params["X-Amz-Signature"]):
            return "SignatureDoesNotMatch: The request signature we calculated does not match"
        signed_at = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC).timestamp()
        if time.time() > signed_at + int(params["X-Amz-Expires"]):
            return "AccessDenied: Request has expired"
        return None


@pytest.fixture(scope="module")
def s3_server() -> Iterator[tuple[str, PresignChecker]]:
    checker = PresignChecker(DomainDispatcherApplication(create_backend_app))
    server = make_server("127.0.0.1", 0, checker, threaded=True, request_handler=MotoRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", checker
    finally:
        server.shutdown()
        thread.join(10)


@pytest.fixture()
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """No credentials or config of this machine are used; dummy ones are set."""
    import os

    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture()
def bucket(s3_server: tuple[str, PresignChecker], aws_env: None) -> str:
    import boto3

    endpoint, _ = s3_server
    client = boto3.client("s3", endpoint_url=endpoint, region_name=REGION,
                          aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET)
    try:
        client.create_bucket(Bucket=BUCKET)
    except client.exceptions.BucketAlreadyOwnedByYou:
        pass
    return endpoint


def _uploader(endpoint: str, expires_s: int = 3600) -> FsspecUploader:
    return FsspecUploader(f"s3://{BUCKET}/grokvid/inputs", expires_s=expires_s, endpoint_url=endpoint,
                          key=KEY_ID, secret=SECRET, client_kwargs={"region_name": REGION},
                          skip_instance_cache=True)


@pytest.mark.timeout(60)
def test_upload_then_get_the_signed_url_returns_the_same_bytes(
        bucket: str, s3_server: tuple[str, PresignChecker]) -> None:
    _, checker = s3_server
    png = make_png(7, 5, (3, 140, 60))
    digest = hashlib.sha256(png).hexdigest()
    uploader = _uploader(bucket)
    assert uploader.can_sign
    url = uploader(png, "leaf.png", "image/png")
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == bucket  # the loopback server, nothing else
    assert parts.path == f"/{BUCKET}/grokvid/inputs/{digest}.png"
    query = dict(parse_qsl(parts.query))
    assert query["X-Amz-Expires"] == "3600"
    assert query["X-Amz-Credential"].startswith(f"{KEY_ID}/")
    before = len(checker.checked)
    response = httpx.get(url, timeout=10)
    assert response.status_code == 200
    assert response.content == png
    assert response.headers["content-type"] == "image/png"
    assert checker.checked[before:] == ["ok"]  # the signature was verified, not waved through


@pytest.mark.timeout(60)
def test_a_tampered_signature_is_refused(bucket: str) -> None:
    url = _uploader(bucket)(make_png(2, 2), "a.png", "image/png")
    parts = urlsplit(url)
    query = [(k, ("0" * 64 if k == "X-Amz-Signature" else v)) for k, v in parse_qsl(parts.query)]
    forged = urlunsplit(parts._replace(query="&".join(f"{k}={_quote(v)}" for k, v in query)))
    response = httpx.get(forged, timeout=10)
    assert response.status_code == 403
    assert "<Code>SignatureDoesNotMatch</Code>" in response.text


@pytest.mark.timeout(60)
def test_an_expired_signature_is_refused(bucket: str) -> None:
    png = make_png(3, 3, (250, 250, 0))
    url = _uploader(bucket, expires_s=1)(png, "sun.png", "image/png")
    assert dict(parse_qsl(urlsplit(url).query))["X-Amz-Expires"] == "1"
    time.sleep(2.2)
    response = httpx.get(url, timeout=10)
    assert response.status_code == 403
    assert "<Message>Request has expired</Message>" in response.text


@pytest.mark.timeout(60)
def test_same_bytes_same_object_and_resolve_uses_it(bucket: str) -> None:
    import boto3

    png = make_png(6, 6, (1, 2, 3))
    digest = hashlib.sha256(png).hexdigest()
    uploader = _uploader(bucket)
    out = resolve_image("pixazo", "grok-imagine-video", "image-to-video", png, uploader=uploader)
    again = resolve_image("pixazo", "grok-imagine-video", "image-to-video", png, uploader=uploader)
    assert out.how == again.how == "uploaded"
    assert out.fingerprint == again.fingerprint == f"sha256:{digest}"
    assert httpx.get(out.sent, timeout=10).content == png
    client = boto3.client("s3", endpoint_url=bucket, region_name=REGION,
                          aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET)
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=BUCKET, Prefix="grokvid/inputs/")["Contents"]]
    assert keys.count(f"grokvid/inputs/{digest}.png") == 1


@pytest.mark.timeout(60)
def test_credentials_never_show_in_repr_or_errors(bucket: str) -> None:
    uploader = FsspecUploader("s3://no-such-bucket-here/x", endpoint_url=bucket, key=KEY_ID,
                              secret=SECRET, client_kwargs={"region_name": REGION},
                              skip_instance_cache=True)
    assert repr(uploader) == "FsspecUploader('s3://no-such-bucket-here/x', signed, 3600 s)"
    with pytest.raises(UploadError) as info:
        uploader(make_png(), "cat.png", "image/png")
    text = str(info.value)
    assert text.startswith("writing cat.png (")
    assert " to s3://no-such-bucket-here/x failed: " in text
    assert SECRET not in text and SECRET not in repr(uploader)
