"""Uploaders: host a local image so that a URL-only provider can fetch it.

An uploader is any callable `(data: bytes, filename: str, content_type: str) -> str` returning
an https URL the provider can GET (http only for a loopback host or the in-process sandbox).
One is set globally with `set_uploader(fn)` (which returns the previous one) or per client
(`Client(..., uploader=fn)`); a per-client uploader wins over the global one.

Two ship here:

- `FsspecUploader("s3://bucket/prefix", expires_s=3600, **storage_options)` writes the image under
  the prefix with its content hash as the file name and returns a signed, expiring URL where the
  filesystem can sign (S3 via s3fs, GCS via gcsfs), else `public_base_url + name`.
  `pip install 'grokvid_nb[upload]'` brings fsspec and s3fs.
- `SandboxUploader(base_url)` POSTs the bytes to the sandbox's `POST /sandbox/uploads` (raw body,
  `Content-Type` header; reply `{"url": ...}`). In sandbox mode it is the default uploader
  (`sandbox_uploader()` builds it for the active sandbox), so image-to-video works for every
  provider with a local file and no cloud account.

`SharedUploads` lets the clients of one batch (`compare`, `sweep`) share their uploads: an image
is hosted once per batch, however many providers and repeats need it.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import threading
from collections.abc import Callable
from typing import Any, Protocol

import httpx

from . import _loop
from ._exceptions import ConfigurationError, UploaderRequiredError, UploadError
from ._images import IMAGE_TYPES, human_size
from ._sandbox_mode import is_in_process_sandbox, sandbox_route

__all__ = [
    "Uploader",
    "UploadError",
    "UploaderRequiredError",
    "set_uploader",
    "get_uploader",
    "check_upload_url",
    "FsspecUploader",
    "SandboxUploader",
    "sandbox_uploader",
    "SharedUploads",
    "MAX_SIGNED_EXPIRY_S",
]

#: S3's limit for a SigV4 presigned URL (7 days); GCS V4 signing has the same.
MAX_SIGNED_EXPIRY_S = 7 * 24 * 3600


class Uploader(Protocol):
    """Turns image bytes into a URL a provider can fetch."""

    def __call__(self, data: bytes, filename: str, content_type: str) -> str: ...


_lock = threading.Lock()
_global: dict[str, Uploader | None] = {"uploader": None}


def set_uploader(uploader: Uploader | None) -> Uploader | None:
    """Use `uploader` for every client that has none of its own; returns the previous one.

    `set_uploader(None)` removes it. The callable gets `(data, filename, content_type)` and returns
    an https URL, e.g. `gv.set_uploader(gv.FsspecUploader("s3://my-bucket/grokvid"))`.
    """
    if uploader is not None and not callable(uploader):
        raise TypeError(f"an uploader must be callable (data, filename, content_type) -> URL, "
                        f"not {type(uploader).__name__}")
    with _lock:
        previous, _global["uploader"] = _global["uploader"], uploader
    return previous


def get_uploader() -> Uploader | None:
    """The uploader set with `set_uploader`, or None."""
    return _global["uploader"]


def check_upload_url(url: object, *, source: str = "the uploader") -> str:
    """`url` when it is usable as a hosted image: https, or http on a loopback host or the
    in-process sandbox (which never leaves this machine); otherwise `UploadError`."""
    if not isinstance(url, str) or not url.strip():
        raise UploadError(f"{source} returned {type(url).__name__} {str(url)[:60]!r}, not a URL")
    text = url.strip()
    try:
        parsed = httpx.URL(text)
    except (httpx.InvalidURL, ValueError):
        raise UploadError(f"{source} returned an invalid URL {text[:80]!r}") from None
    if not parsed.host:
        raise UploadError(f"{source} returned {text[:80]!r}, which has no host")
    if parsed.scheme == "https":
        return text
    if parsed.scheme == "http" and (_is_loopback(parsed.host) or is_in_process_sandbox(text)):
        return text
    raise UploadError(f"{source} returned {text[:80]!r}: providers need an https URL "
                      "(http only for a loopback host, e.g. the sandbox)")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


# ---- fsspec -------------------------------------------------------------------------------
_INSTALL_HINT = "pip install 'grokvid_nb[upload]' (fsspec + s3fs; gcsfs for gs://)"


class FsspecUploader:
    """Writes images under an fsspec prefix (`s3://bucket/prefix`, `gs://...`, `memory://...`)
    named by content hash, and returns a signed URL valid for `expires_s` seconds where the
    filesystem can sign (S3, GCS). `public_base_url` is used only where it cannot: the URL is
    `public_base_url + "/" + name`. `storage_options` go to fsspec (e.g. `endpoint_url=`,
    `key=`, `secret=`, `anon=`); they never appear in a repr or an error.
    """

    def __init__(self, base: str, *, expires_s: int = 3600, public_base_url: str | None = None,
                 **storage_options: Any) -> None:
        if isinstance(expires_s, bool) or not isinstance(expires_s, int) or \
                not 1 <= expires_s <= MAX_SIGNED_EXPIRY_S:
            raise ValueError(f"expires_s={expires_s!r} must be whole seconds from 1 to "
                             f"{MAX_SIGNED_EXPIRY_S} (7 days, the longest a signed URL may live)")
        try:
            import fsspec
            from fsspec.core import url_to_fs
        except ImportError:
            raise ConfigurationError(f"FsspecUploader needs fsspec: {_INSTALL_HINT}") from None
        if fsspec.utils.get_protocol(base) in ("s3", "s3a"):
            # botocore may presign with the deprecated SigV2 in us-east-1; SigV4 is what S3
            # requires for new regions and what allows up to 7 days
            config = dict(storage_options.get("config_kwargs") or {})
            config.setdefault("signature_version", "s3v4")
            storage_options = {**storage_options, "config_kwargs": config}
        try:
            fs, root = url_to_fs(base, **storage_options)
        except ImportError as exc:  # fsspec's own message names the missing package
            raise ConfigurationError(f"FsspecUploader({base!r}): {exc}. {_INSTALL_HINT}") from None
        self.base = base
        self.fs = fs
        self.root = str(root).rstrip("/")
        self.expires_s = expires_s
        self.public_base_url = public_base_url.rstrip("/") if public_base_url else None
        self.can_sign = type(fs).sign is not fsspec.AbstractFileSystem.sign
        if not self.can_sign and self.public_base_url is None:
            raise ConfigurationError(
                f"FsspecUploader({base!r}): the {type(fs).__name__} filesystem cannot sign URLs; "
                "pass public_base_url= (where these files are served over https), or use s3:// "
                "or gs://, which sign")
        if self.public_base_url is not None:
            check_upload_url(self.public_base_url + "/x", source="public_base_url")

    def __repr__(self) -> str:
        how = f"signed, {self.expires_s} s" if self.can_sign else f"public {self.public_base_url}"
        return f"FsspecUploader({self.base!r}, {how})"

    def name_for(self, data: bytes, content_type: str) -> str:
        """The object name: the SHA-256 of the bytes and the type's extension."""
        return hashlib.sha256(data).hexdigest() + IMAGE_TYPES.get(content_type, "")

    def __call__(self, data: bytes, filename: str, content_type: str) -> str:
        """Write the image (same bytes, same name) and return a URL for it."""
        name = self.name_for(data, content_type)
        path = f"{self.root}/{name}"
        try:
            self.fs.pipe_file(path, bytes(data), **self._put_options(content_type))
        except Exception as exc:
            raise UploadError(f"writing {filename} ({human_size(len(data))}) to {self.base} failed: "
                              f"{type(exc).__name__}: {exc}") from None
        url: str
        if self.can_sign:
            try:
                url = self.fs.sign(path, expiration=self.expires_s)
            except NotImplementedError:
                if self.public_base_url is None:
                    raise UploadError(f"{type(self.fs).__name__} cannot sign {self.base}; pass "
                                      "public_base_url=") from None
                url = f"{self.public_base_url}/{name}"
        else:
            url = f"{self.public_base_url}/{name}"
        return check_upload_url(url, source=repr(self))

    def _put_options(self, content_type: str) -> dict[str, str]:
        # so the provider's fetch gets the right Content-Type back (keyword differs per backend)
        protocols = self.fs.protocol if isinstance(self.fs.protocol, tuple) else (self.fs.protocol,)
        if "s3" in protocols:
            return {"ContentType": content_type}
        if "gs" in protocols or "gcs" in protocols:
            return {"content_type": content_type}
        return {}


# ---- the sandbox --------------------------------------------------------------------------
class SandboxUploader:
    """POSTs the image to a sandbox's `{base_url}/sandbox/uploads` and returns the URL it
    answers with. `transport` is for the in-process sandbox (its ASGI transport) and tests;
    without it the sandbox is reached over the network (`python -m grokvid_nb.sandbox`).
    """

    def __init__(self, base_url: str, *,
                 transport: httpx.AsyncBaseTransport | Callable[[], httpx.AsyncBaseTransport] | None = None,
                 timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.transport = transport  # a transport, or a factory making one per upload
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"SandboxUploader({self.base_url!r})"

    def __call__(self, data: bytes, filename: str, content_type: str) -> str:
        """Upload and return the sandbox's URL for the image."""
        return _loop.run_sync(self.upload(data, filename, content_type))

    async def upload(self, data: bytes, filename: str, content_type: str) -> str:
        """The same as calling the uploader, from async code."""
        url = f"{self.base_url}/sandbox/uploads"
        try:
            transport = self.transport
            if transport is not None and not isinstance(transport, httpx.AsyncBaseTransport):
                transport = transport()
            async with httpx.AsyncClient(transport=transport, timeout=self.timeout,
                                         follow_redirects=False) as client:
                response = await client.post(url, content=bytes(data),
                                             headers={"Content-Type": content_type})
        except httpx.HTTPError as exc:
            raise UploadError(f"uploading {filename} to the sandbox at {url} failed: "
                              f"{type(exc).__name__}: {exc}") from None
        if response.status_code // 100 != 2:
            raise UploadError(f"the sandbox refused the upload of {filename}: HTTP "
                              f"{response.status_code} {response.text[:200]!r}")
        try:
            body = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None
        if not isinstance(body, dict) or "url" not in body:
            raise UploadError(f"the sandbox's upload reply has no 'url': {response.text[:200]!r}")
        return check_upload_url(body["url"], source="the sandbox")


def sandbox_uploader() -> SandboxUploader | None:
    """The sandbox's uploader when sandbox mode is on (in-process or `use_sandbox(url=...)`),
    else None. In sandbox mode this is the default when neither the client nor
    `set_uploader` gives one."""
    route = sandbox_route()
    if route is None:
        return None
    base_url, transport_factory, _ = route
    return SandboxUploader(base_url, transport=transport_factory)


# ---- one upload per batch -----------------------------------------------------------------
class SharedUploads:
    """The uploads of one batch (a `compare` or a whole `sweep`), shared by its clients: the same
    bytes given to the same uploader are hosted once and the URL is handed to every provider
    that needs it. `uploads` counts the real uploads made.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._hosted: dict[tuple[int, str, str], str] = {}
        self._inner: list[Uploader] = []  # kept alive, so their ids stay theirs
        self._sandbox: Uploader | None = None
        self.uploads = 0

    def for_client(self, own: Uploader | None, *, sandboxed: bool) -> Uploader | None:
        """The uploader a client would use (its own, else `set_uploader`'s, else the sandbox's
        in sandbox mode), wrapped so that this batch uploads each image once; None when the
        client would have none (then the provider is refused exactly as `generate` refuses)."""
        inner = own if own is not None else get_uploader()
        if inner is None and sandboxed:
            with self._lock:
                if self._sandbox is None:
                    self._sandbox = sandbox_uploader()
            inner = self._sandbox
        if inner is None:
            return None
        with self._lock:
            if not any(u is inner for u in self._inner):
                self._inner.append(inner)
        return _Once(self, inner)

    def host(self, inner: Uploader, data: bytes, filename: str, content_type: str) -> str:
        """The URL of these bytes from `inner`, uploading them only the first time."""
        key = (id(inner), hashlib.sha256(data).hexdigest(), content_type)
        with self._lock:  # held during the upload: a second caller waits for the first one's URL
            url = self._hosted.get(key)
            if url is None:
                url = inner(data, filename, content_type)
                self._hosted[key] = url
                self.uploads += 1
        return url


class _Once:
    """An uploader of a `SharedUploads` batch (shows itself as the uploader it wraps)."""

    def __init__(self, shared: SharedUploads, inner: Uploader) -> None:
        self.shared = shared
        self.inner = inner

    def __repr__(self) -> str:
        return repr(self.inner)

    def __call__(self, data: bytes, filename: str, content_type: str) -> str:
        return self.shared.host(self.inner, data, filename, content_type)
