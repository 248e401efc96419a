"""How each provider takes an image, and turning coerced images into what is sent.

`decide_image` is pure: for a provider, model, mode and a coerced image it answers
`SendURL` (a URL goes as given), `SendDataURI` (the provider accepts base64 and the image is
within its size limit) or `NeedsUpload` (public URLs only: the bytes must be hosted first).
`plan_images` coerces and decides every image of a request and refuses before anything is sent
or uploaded (a URL-only provider given local content with no uploader configured, a size over
the limit); its `fingerprints` feed the reuse check before any upload; `execute()` then uploads
and returns what to send. `resolve_images` is both steps at once.

Wiring into `Client.start` (once the adapters/ layout lands): pop `image_url`/`image_urls`,
`plan = plan_images(provider, model, mode, value, parameter=..., uploader=client.uploader,
fallback=sandbox_uploader() if client.sandboxed else None)`,
put `plan.fingerprints` in the request's fingerprint, check reuse, then `plan.execute()`:
each `ResolvedImage.sent` goes to the adapter, each `ledger_record()` to the ledger.

What the providers document (PROVIDERS.md and its seed pages):

| provider | base64 data URI | size limit | types |
|---|---|---|---|
| xai | yes (URL or data URI, docs.x.ai) | 10 MiB per image (xAI's image-input limit) | any |
| xingchao grok_video3, _pro | yes (seed 002 restricts only _max/_stable) | none published: 10 MiB cap of ours | any |
| xingchao grok_video3_max, _stable | no: "publicly accessible URLs, base64 not supported" | - | any |
| apixo | no: public image URLs | - | JPG, PNG, WebP (seed 000) |
| pixazo | no: public HTTP/HTTPS URLs | - | JPEG, PNG, WebP (seed 001) |
| apiinone | no: `image_urls` | - | any |
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ._exceptions import ValidationError
from ._images import DataURI, Image, ImageBytes, coerce_image, coerce_images, human_size
from ._uploads import Uploader, UploaderRequiredError, UploadError, check_upload_url, get_uploader

__all__ = [
    "ImagePolicy",
    "POLICIES",
    "IMAGE_MODES",
    "image_policy",
    "SendURL",
    "SendDataURI",
    "NeedsUpload",
    "Decision",
    "decide_image",
    "ResolvedImage",
    "ImagePlan",
    "plan_images",
    "resolve_image",
    "resolve_images",
]

#: The modes whose inputs are images.
IMAGE_MODES = ("image-to-video", "reference-to-video")
_MIB = 1024 * 1024
_WEB_TYPES = ("image/jpeg", "image/png", "image/webp")


@dataclass(frozen=True)
class ImagePolicy:
    """How a provider (and model) takes images.

    `data_uri`: base64 data URIs are accepted; `max_bytes` bounds the image sent that way, and
    `limit_source` says where that number comes from. `content_types`: the documented image
    types (None: any PNG, JPEG, WebP or GIF). `rule` is the documented rule, for messages.
    """

    data_uri: bool
    rule: str
    max_bytes: int | None = None
    limit_source: str = ""
    content_types: tuple[str, ...] | None = None


_URL_ONLY_XC = ImagePolicy(False, "takes publicly accessible image URLs only (no base64)")
_BASE64_XC = ImagePolicy(True, "takes image URLs or base64 data URIs", 10 * _MIB,
                         "XingChaoYiQing publishes no size limit; grokvid_nb caps base64 images at 10 MiB")

#: provider -> model (None: every other model) -> policy.
POLICIES: Mapping[str, Mapping[str | None, ImagePolicy]] = {
    "xai": {None: ImagePolicy(True, "takes an image URL or a base64 data URI", 10 * _MIB,
                              "xAI's documented image-input limit")},
    "xingchao": {"grok_video3": _BASE64_XC, "grok_video3_pro": _BASE64_XC,
                 "grok_video3_max": _URL_ONLY_XC, "grok_video3_stable": _URL_ONLY_XC,
                 None: _URL_ONLY_XC},  # an unlisted model: assume the stricter rule
    "apixo": {None: ImagePolicy(False, "takes public image URLs only (JPG, PNG or WebP)",
                                content_types=_WEB_TYPES)},
    "pixazo": {None: ImagePolicy(False, "takes public HTTP/HTTPS image URLs only (JPEG, PNG or WebP)",
                                 content_types=_WEB_TYPES)},
    "apiinone": {None: ImagePolicy(False, "takes public image URLs only")},
}


def image_policy(provider: str, model: str) -> ImagePolicy:
    """The policy of `provider`/`model`; ValueError for an unknown provider."""
    try:
        models = POLICIES[provider]
    except KeyError:
        raise ValueError(f"no image policy for provider {provider!r}; known: "
                         f"{', '.join(sorted(POLICIES))}") from None
    return models.get(model) or models[None]


@dataclass(frozen=True)
class SendURL:
    """Send this URL as it is."""

    url: str


@dataclass(frozen=True)
class SendDataURI:
    """Send the image inline as this base64 data URI."""

    uri: str = field(repr=False)
    image: ImageBytes


@dataclass(frozen=True)
class NeedsUpload:
    """The provider takes URLs only: host these bytes first."""

    image: ImageBytes


#: What to do with one image.
Decision = SendURL | SendDataURI | NeedsUpload


def decide_image(provider: str, model: str, mode: str, image: Image, *,
                 parameter: str = "image_url") -> Decision:
    """Pure decision for one coerced image (see the module docstring); a `ValidationError`
    names provider, model, parameter, the image's size and the limit when it cannot be sent."""
    if mode not in IMAGE_MODES:
        raise ValidationError(provider, model, parameter, _shown(image),
                              f"{mode} takes no images (image modes: {', '.join(IMAGE_MODES)})")
    if isinstance(image, str):
        return SendURL(image)
    content = image.image if isinstance(image, DataURI) else image
    policy = image_policy(provider, model)
    if policy.content_types is not None and content.content_type not in policy.content_types:
        raise ValidationError(provider, model, parameter, _shown(image),
                              f"{provider} {policy.rule}; convert the image")
    if not policy.data_uri:
        return NeedsUpload(content)
    if policy.max_bytes is not None and content.size > policy.max_bytes:
        raise ValidationError(
            provider, model, parameter, _shown(image),
            f"a base64 image may be at most {human_size(policy.max_bytes)} "
            f"({policy.limit_source}) and this one is {human_size(content.size)}; "
            "pass a smaller image, or host it and pass its https URL")
    return SendDataURI(image.uri if isinstance(image, DataURI) else content.data_uri(), content)


def _shown(image: Image) -> str:
    if isinstance(image, str):
        return image
    content = image.image if isinstance(image, DataURI) else image
    return f"<{content.describe()}>"


@dataclass(frozen=True)
class ResolvedImage:
    """One image, ready to send: `sent` goes on the wire; `fingerprint` is what the reuse check
    compares (the content hash for local content, the URL for URLs); `how` is `url`, `data-uri`
    or `uploaded`; `uploaded_url` is set for `uploaded`."""

    sent: str = field(repr=False)
    fingerprint: str
    how: Literal["url", "data-uri", "uploaded"]
    uploaded_url: str | None = None
    content_type: str | None = None
    size: int | None = None

    def ledger_record(self) -> dict[str, Any]:
        """What the ledger keeps for this image: hash and hosted URL, never the base64."""
        record: dict[str, Any] = {"fingerprint": self.fingerprint, "how": self.how}
        if self.how == "url":
            record["url"] = self.sent
        if self.uploaded_url is not None:
            record["url"] = self.uploaded_url
        if self.content_type is not None:
            record["content_type"] = self.content_type
            record["size"] = self.size
        return record


@dataclass(frozen=True)
class ImagePlan:
    """Every image of one request, coerced and decided; nothing sent or uploaded yet.

    Made by `plan_images`, which has already refused what cannot go (a bad input, a size over
    the limit, local content for a URL-only provider with no uploader). `fingerprints` is what
    the reuse check compares (computable before any upload, so a reused request uploads
    nothing); `execute()` uploads what needs hosting and returns what to send.
    """

    provider: str
    model: str
    items: tuple[tuple[Image, Decision, str], ...]
    uploader: Uploader | None = field(default=None, repr=False)

    @property
    def fingerprints(self) -> list[str]:
        """One per image: `sha256:<hex>` for local content and data URIs, the URL for URLs."""
        return [decision.url if isinstance(decision, SendURL) else f"sha256:{decision.image.sha256}"
                for _, decision, _ in self.items]

    @property
    def needs_upload(self) -> bool:
        """True when at least one image must be hosted first."""
        return any(isinstance(d, NeedsUpload) for _, d, _ in self.items)

    def execute(self) -> list[ResolvedImage]:
        """Upload what needs it (identical bytes once) and return what to send, in order."""
        hosted: dict[str, str] = {}
        out: list[ResolvedImage] = []
        for _, decision, name in self.items:
            if isinstance(decision, SendURL):
                out.append(ResolvedImage(decision.url, decision.url, "url"))
                continue
            content = decision.image
            fingerprint = f"sha256:{content.sha256}"
            if isinstance(decision, SendDataURI):
                out.append(ResolvedImage(decision.uri, fingerprint, "data-uri",
                                         content_type=content.content_type, size=content.size))
                continue
            assert self.uploader is not None  # plan_images refused otherwise
            if content.sha256 not in hosted:
                hosted[content.sha256] = _upload(self.uploader, content, self.provider, name)
            url = hosted[content.sha256]
            out.append(ResolvedImage(url, fingerprint, "uploaded", uploaded_url=url,
                                     content_type=content.content_type, size=content.size))
        return out


def plan_images(provider: str, model: str, mode: str, value: Any, *, parameter: str = "image_urls",
                uploader: Uploader | None = None, fallback: Uploader | None = None) -> ImagePlan:
    """Coerce and decide every image of `parameter` (`image_url`: one image; `image_urls`: a
    list, or one input) without sending or uploading anything.

    `uploader` (a client's own) wins over the global `set_uploader` one, which wins over
    `fallback` (in sandbox mode: `sandbox_uploader()`). Raises
    `ImageInputError`, `ValidationError`, or `UploaderRequiredError` when a URL-only provider
    gets local content and there is no uploader.
    """
    if parameter == "image_url":
        images = [(coerce_image(value, parameter), parameter)]
    else:
        images = [(image, f"{parameter}[{i}]") for i, image in enumerate(coerce_images(value, parameter))]
    items = tuple((image, decide_image(provider, model, mode, image, parameter=name), name)
                  for image, name in images)
    chosen = next((u for u in (uploader, get_uploader(), fallback) if u is not None), None)
    pending = [(d, name) for _, d, name in items if isinstance(d, NeedsUpload)]
    if pending and chosen is None:
        first, name = pending[0]
        rule = image_policy(provider, model).rule
        raise UploaderRequiredError(
            provider, name,
            f"{provider}/{model} {rule}, so {name}=<{first.image.describe()}> must be hosted "
            "first, and no uploader is configured; nothing was sent. Pass an https URL instead, "
            "or configure an uploader: gv.set_uploader(fn) for every client, or "
            f"gv.Client({provider!r}, uploader=fn) for one, where fn(data, filename, content_type) "
            "returns an https URL (for example gv.FsspecUploader('s3://bucket/prefix') after "
            "pip install 'grokvid_nb[upload]'); under gv.use_sandbox() the sandbox hosts it")
    return ImagePlan(provider, model, items, chosen)


def resolve_image(provider: str, model: str, mode: str, value: Any, *,
                  parameter: str = "image_url", uploader: Uploader | None = None) -> ResolvedImage:
    """`resolve_images` for a single image (`image_url=`)."""
    return plan_images(provider, model, mode, value, parameter=parameter, uploader=uploader).execute()[0]


def resolve_images(provider: str, model: str, mode: str, values: Any, *,
                   parameter: str = "image_urls", uploader: Uploader | None = None) -> list[ResolvedImage]:
    """`plan_images(...).execute()`: every image is coerced and decided before anything is
    uploaded, so a bad item or a missing uploader refuses the whole request with nothing sent."""
    return plan_images(provider, model, mode, values, parameter=parameter, uploader=uploader).execute()


def _upload(uploader: Uploader, content: ImageBytes, provider: str, parameter: str) -> str:
    try:
        url = uploader(content.data, content.filename, content.content_type)
    except UploadError:
        raise
    except Exception as exc:
        raise UploadError(f"uploading {parameter}=<{content.describe()}> for {provider} failed: "
                          f"{type(exc).__name__}: {exc}") from exc
    return check_upload_url(url, source=f"the uploader {uploader!r}")
