"""A request's images, checked before anything leaves: `prepare_request`.

Image inputs of every kind (`_images.coerce_image`) are coerced and decided per provider
(`_image_policy.plan_images`) and the rest of the request is validated by the adapter, all
before any upload or submit. The result has two forms of the request:

* `request`: what the reuse check and the ledger see, with each image replaced by its
  fingerprint (`sha256:<hex>` of local content, the URL for URLs): the same file gives the same
  fingerprint however it is passed, and no base64 is ever stored;
* `wire(resolved)`: what the adapter sends, once `plan.execute()` has uploaded what needs it.

`coerce_inputs(params)` reads, checks and hashes a request's images once, so that a batch sending
the same images to several providers (`compare`, `sweep`) does it once, not once per job.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from ._image_policy import IMAGE_MODES, ImagePlan, NeedsUpload, ResolvedImage, SendDataURI, plan_images
from ._images import coerce_image, coerce_images
from ._types import VideoRequest
from ._uploads import Uploader
from .adapters import Adapter

__all__ = ["Prepared", "prepare_request", "image_records", "coerce_inputs"]

_STAND_IN_HOST = "https://upload.pending.invalid/"


@dataclass(frozen=True)
class Prepared:
    """A validated request (`request`, images as fingerprints) and its image `plan` (None when
    the request has no images)."""

    request: VideoRequest
    plan: ImagePlan | None = None

    def execute(self) -> tuple[VideoRequest, list[ResolvedImage]]:
        """Upload what needs hosting; (the request to send, the resolved images)."""
        if self.plan is None:
            return self.request, []
        resolved = self.plan.execute()
        params = dict(self.request.params)
        params["image_urls"] = [image.sent for image in resolved]
        return replace(self.request, params=params), resolved


def image_records(resolved: list[ResolvedImage]) -> list[dict[str, Any]]:
    """What the ledger keeps of each image: hash, how it was sent and the hosted URL."""
    return [image.ledger_record() for image in resolved]


def coerce_inputs(params: dict[str, Any]) -> dict[str, Any]:
    """`params` with `image_url` (one image) or `image_urls` (a list, a FileUpload, or one input)
    coerced by `_images` to URLs, data URIs and checked local content, which `prepare_request`
    takes as they are. Raises `ImageInputError` for an input that is not an image (for every
    provider alike). When both are given they are left alone: the adapter refuses that."""
    out = dict(params)
    single, many = out.get("image_url"), out.get("image_urls")
    if single is not None and many is None:
        out["image_url"] = coerce_image(single, "image_url")
    elif many is not None and single is None:
        out["image_urls"] = coerce_images(many, "image_urls")
    return out


def _stand_in(plan: ImagePlan) -> list[str]:
    """Strings the adapter's validation accepts in place of each image (never sent): the URL
    itself, a `data:` URI stand-in where base64 goes, an https stand-in where an upload goes."""
    out = []
    for _, decision, _ in plan.items:
        if isinstance(decision, SendDataURI):
            out.append(f"data:{decision.image.content_type};base64,")
        elif isinstance(decision, NeedsUpload):
            out.append(f"{_STAND_IN_HOST}{decision.image.sha256}{decision.image.extension}")
        else:
            out.append(decision.url)
    return out


def prepare_request(adapter: Adapter, prompt: str, *, model: str | None, mode: str | None,
                    params: dict[str, Any], uploader: Uploader | None = None,
                    fallback: Uploader | None = None) -> Prepared:
    """Validate `params` (which may hold `image_url`/`image_urls` of any input kind) for
    `adapter`, refusing before any upload or submit: a bad image, a size over the provider's
    limit, a URL-only provider given local content without an uploader, any other parameter."""
    params = dict(params)
    single = params.pop("image_url", None)
    many = params.pop("image_urls", None)
    if single is None and (many is None or (isinstance(many, (list, tuple)) and not many)):
        return Prepared(adapter.validate(prompt, model=model, mode=mode, **params))
    if single is not None and many is not None:
        return Prepared(adapter.validate(prompt, model=model, mode=mode, image_url=single,
                                         image_urls=many, **params))  # the adapter's own refusal
    spec = adapter.model_spec(model)
    chosen = mode or adapter.infer_mode(spec, {**params, "image_urls": ["x"]})
    if chosen not in IMAGE_MODES:  # the adapter names what this mode takes
        return Prepared(adapter.validate(prompt, model=spec.name, mode=chosen,
                                         image_urls=["https://image.invalid/"], **params))
    parameter, value = ("image_url", single) if single is not None else ("image_urls", many)
    plan = plan_images(adapter.name, spec.name, chosen, value, parameter=parameter,
                       uploader=uploader, fallback=fallback)
    checked = adapter.validate(prompt, model=spec.name, mode=mode, image_urls=_stand_in(plan), **params)
    out = dict(checked.params)
    out["image_urls"] = plan.fingerprints
    return Prepared(replace(checked, params=out), plan)
