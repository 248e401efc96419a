"""Validation of a request against a capability table, before anything is sent.

Pure functions of (`ModeSpec`, parameters): each returns normalized values (trimmed,
lower-cased, "10" -> 10, the way the providers themselves normalize) or raises a
`ValidationError` naming the provider, model, parameter, value and what is allowed.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from .._exceptions import ValidationError
from ._reply import url_scheme
from ._spec import USER_PARAMETERS, ModelSpec, ModeSpec, allowed_list

__all__ = ["infer_mode", "normalize_sources", "check_mode_params"]


class _Rejector:
    """Builds the `ValidationError`s of one (provider, model)."""

    def __init__(self, provider: str, model: str) -> None:
        self.provider, self.model = provider, model

    def __call__(self, parameter: str, value: object, allowed: str) -> ValidationError:
        return ValidationError(self.provider, self.model, parameter, value, allowed)


def infer_mode(spec: ModelSpec, params: Mapping[str, Any]) -> str:
    """The mode the parameters imply when none is named: a source video means edit,
    images (or an image task) mean image-to-video, otherwise text-to-video."""
    if params.get("video_url") is not None:
        return "edit"
    if params.get("image_urls") or params.get("image_task_id") is not None:
        return "image-to-video"
    return "text-to-video"


def normalize_sources(provider: str, model: str, params: dict[str, Any]) -> dict[str, Any]:
    """`image_url` folded into `image_urls`, unknown names refused, None values dropped."""
    bad = _Rejector(provider, model)
    if "image_url" in params:  # convenience: one URL
        single = params.pop("image_url")
        if single is not None:
            if params.get("image_urls"):
                raise bad("image_url", single, "give image_url or image_urls, not both")
            params["image_urls"] = [single]
    for name in params:
        if name not in USER_PARAMETERS:
            raise bad(name, params[name], f"unknown parameter; known: {allowed_list(USER_PARAMETERS)}")
    return {k: v for k, v in params.items() if v is not None}


def missing_mode_error(provider: str, spec: ModelSpec, mode: str,
                       params: Mapping[str, Any]) -> ValidationError:
    """The error for an implied mode the model lacks: it names the parameter the user passed
    (`mode` when none implied it: text-to-video on an image-only model)."""
    if mode == "text-to-video":
        return ValidationError(provider, spec.name, "mode", mode,
                               f"no {mode} on this model; modes: {allowed_list(spec.modes)}")
    source = "video_url" if mode == "edit" else (
        "image_urls" if "image_urls" in params else "image_task_id")
    return ValidationError(provider, spec.name, source, params.get(source),
                           f"no {mode} mode on this model; modes: {allowed_list(spec.modes)}")


def check_mode_params(provider: str, model: str, m: ModeSpec, prompt: str,
                      params: Mapping[str, Any]) -> dict[str, Any]:
    """Every parameter checked against mode spec `m`; the normalized values with defaults."""
    bad = _Rejector(provider, model)
    mode = m.mode
    if not isinstance(prompt, str) or (m.prompt_required and not prompt.strip()):
        raise bad("prompt", prompt, "a non-empty text is required" if m.prompt_required else "a text")
    if "\x00" in prompt:  # providers truncate at NUL or refuse it after the charge
        raise bad("prompt", f"<{len(prompt)} characters with NUL at {prompt.index(chr(0))}>",
                  "a text without NUL (\\x00) characters")
    if m.prompt_max is not None and len(prompt) > m.prompt_max:
        raise bad("prompt", f"<{len(prompt)} characters>", f"at most {m.prompt_max} characters")
    out: dict[str, Any] = {}
    if "duration" in params:
        if m.durations is None:
            raise bad("duration", params["duration"], f"{mode} on this model takes no duration")
        out["duration"] = _duration(params["duration"], m, bad)
    elif m.default_duration is not None:
        out["duration"] = m.default_duration
    no_knob = f"{mode} on this model takes no"
    _choose("resolution", params, m.resolutions, m.default_resolution, out, bad,
            f"{no_knob} resolution")
    _choose("aspect_ratio", params, m.aspect_ratios, m.default_aspect_ratio, out, bad,
            f"{no_knob} aspect ratio")
    _choose("style", params, m.styles, m.default_style, out, bad,
            "this provider has no style parameter")
    _images(params, m, bad, out)
    _image_task(params, m, bad, out)
    if m.images is not None and m.images[0] > 0 and "image_urls" not in out and "image_task_id" not in out:
        needed = "image_urls" + (" or image_task_id+image_index" if m.image_task_source else "")
        raise bad("image_urls", None, f"{mode} requires {m.images[0]}+ image(s): pass {needed}")
    _video(params, m, bad, out)
    return out


def _choose(name: str, params: Mapping[str, Any], allowed: tuple[str, ...] | None,
            default: str | None, out: dict[str, Any], bad: _Rejector, absent: str) -> None:
    """One value from a discrete set, trimmed and lower-cased as the providers do."""
    if name in params:
        value = params[name]
        norm = value.strip().lower() if isinstance(value, str) else value
        if allowed is None:
            raise bad(name, value, absent)
        if norm not in allowed:
            raise bad(name, value, f"allowed: {allowed_list(allowed)}")
        out[name] = norm
    elif default is not None:
        out[name] = default


def _duration(value: Any, m: ModeSpec, bad: _Rejector) -> int:
    number: int | None = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and value.strip().lstrip("-").isdigit():
        number = int(value.strip())
    assert m.durations is not None
    if number is None or number not in m.durations:
        raise bad("duration", value, f"allowed: whole seconds, {m.describe_durations()}")
    return number


def _images(params: Mapping[str, Any], m: ModeSpec, bad: _Rejector, out: dict[str, Any]) -> None:
    images = params.get("image_urls")
    if images is None:
        return
    mode = m.mode
    if isinstance(images, str):
        images = [images]
    if m.images is None:
        raise bad("image_urls", images, f"{mode} takes no images")
    if not isinstance(images, (list, tuple)) or not all(isinstance(u, str) and u.strip() for u in images):
        raise bad("image_urls", images, "a list of non-empty URL strings")
    lo, hi = m.images
    if len(images) < lo:
        raise bad("image_urls", images, f"at least {lo} for {mode}")
    if hi is not None and len(images) > hi:
        raise bad("image_urls", f"<{len(images)} URLs>", f"at most {hi} for {mode}")
    for url in images:
        if url_scheme(url) not in m.image_schemes:
            raise bad("image_urls", url, f"URL schemes allowed here: {allowed_list(m.image_schemes)}")
    out["image_urls"] = [u.strip() for u in images]


def _image_task(params: Mapping[str, Any], m: ModeSpec, bad: _Rejector, out: dict[str, Any]) -> None:
    task_id, index = params.get("image_task_id"), params.get("image_index")
    if task_id is None and index is None:
        return
    if not m.image_task_source:
        raise bad("image_task_id", task_id, f"{m.mode} on this provider takes no image task")
    if params.get("image_urls") is not None:
        raise bad("image_task_id", task_id, "give either image_urls or image_task_id+image_index, not both")
    if not isinstance(task_id, str) or not task_id.strip():
        raise bad("image_task_id", task_id, "a completed grok-image task id is required with image_index")
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index <= 5:
        raise bad("image_index", index, "an integer from 0 to 5 is required with image_task_id")
    out["image_task_id"] = task_id.strip()
    out["image_index"] = index


def _video(params: Mapping[str, Any], m: ModeSpec, bad: _Rejector, out: dict[str, Any]) -> None:
    video = params.get("video_url")
    if video is not None:
        if not m.video_input:
            raise bad("video_url", video, f"{m.mode} takes no source video")
        if not isinstance(video, str) or url_scheme(video.strip()) not in m.video_schemes:
            allowed = ("an http(s) URL or a base64 data:video/... URI of the source video"
                       if "data" in m.video_schemes else "an http(s) URL of the source video")
            raise bad("video_url", video, allowed)
        if url_scheme(video.strip()) == "data" and not _is_video_data_uri(video.strip()):
            raise bad("video_url", f"<data URI, {len(video)} characters>",
                      "a base64 data URI of a video: data:video/<type>;base64,<data>")
        out["video_url"] = video.strip()
    elif m.video_input:
        raise bad("video_url", None, f"{m.mode} requires video_url")


def _is_video_data_uri(uri: str) -> bool:
    """`data:video/<type>;base64,<non-empty base64>` (what xAI accepts as a source video)."""
    head, _, data = uri.partition(",")
    return (head.lower().startswith("data:video/") and head.lower().endswith(";base64")
            and bool(data.strip()) and _is_base64(data.strip()))


def _is_base64(data: str) -> bool:
    try:
        base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True
