"""What every provider adapter shares: capability tables, prices, validation, reply reading.

Adapters are sans-IO. They turn a validated `VideoRequest` into an `httpx.Request` and an
`httpx.Response` into a task id or a `TaskStatus`. They never sleep, open sockets or keep state.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar, Iterable, Mapping
from urllib.parse import quote, urlsplit

import httpx

from .._exceptions import (
    AuthenticationError,
    InsufficientBalanceError,
    ProviderError,
    ProviderResponseError,
    ProviderServerError,
    RateLimitedError,
    RequestRejectedError,
    TaskNotFoundError,
    ValidationError,
)
from .._secrets import Secret, redact
from .._types import State, TaskStatus, VideoRequest

__all__ = [
    "Price",
    "ModeSpec",
    "ModelSpec",
    "PollingPrior",
    "Provider",
    "USER_PARAMETERS",
]

#: Every request parameter a user may pass, across all providers.
USER_PARAMETERS = (
    "duration", "resolution", "aspect_ratio", "image_urls", "video_url", "style",
    "image_task_id", "image_index",
)

@dataclass(frozen=True)
class Price:
    """A published price rule: per second by resolution, or a flat price per call."""

    per_second: Mapping[str, float] | None = None
    per_call: float | None = None

    def estimate(self, duration: float | None, resolution: str | None) -> float | None:
        """USD for one video, or None when the rule cannot price these parameters."""
        if self.per_call is not None:
            return self.per_call
        if self.per_second is None or duration is None or resolution is None \
                or resolution not in self.per_second:
            return None
        return round(self.per_second[resolution] * float(duration), 6)

    def describe(self) -> str:
        """Human-readable price rule."""
        if self.per_call is not None:
            return f"${self.per_call:g} per video"
        if self.per_second:
            return ", ".join(f"${p:g}/s at {r}" for r, p in self.per_second.items())
        return "not published"

UNPRICED = Price()

#: Prices the user configured for providers that publish none: (provider, model) -> Price.
#: Set through `grokvid_nb.set_price`; read by `Provider.mode_spec`.
CONFIGURED_PRICES: dict[tuple[str, str], Price] = {}

@dataclass(frozen=True)
class ModeSpec:
    """What one (model, mode) accepts. `None` for a parameter means the provider has no such knob.

    `durations` is either a `range` (inclusive of its last value: `range(6, 31)` is 6..30) or a
    tuple of allowed values. `images` is (min, max) count, max None for "no stated limit".
    """

    mode: str
    durations: range | tuple[int, ...] | None = None
    default_duration: int | None = None
    output_duration: float | None = None  # length of the clip when duration is not a parameter
    resolutions: tuple[str, ...] | None = None
    default_resolution: str | None = None
    aspect_ratios: tuple[str, ...] | None = None
    default_aspect_ratio: str | None = None
    prompt_max: int | None = None
    images: tuple[int, int | None] | None = None
    image_schemes: tuple[str, ...] = ("http", "https")
    video_input: bool = False
    styles: tuple[str, ...] | None = None
    default_style: str | None = None
    image_task_source: bool = False
    price: Price = UNPRICED
    note: str = ""

    def describe_durations(self) -> str:
        """E.g. '6-30 s' or '6, 10 s'."""
        if self.durations is None:
            return "not settable"
        if isinstance(self.durations, range):
            return f"{self.durations.start}-{self.durations.stop - 1} s"
        return ", ".join(str(d) for d in self.durations) + " s"

    def clip_duration(self, params: Mapping[str, Any]) -> float | None:
        """The length of the video these parameters produce, when known before it is made."""
        if params.get("duration") is not None:
            return float(params["duration"])
        return self.output_duration

    def estimate(self, params: Mapping[str, Any]) -> float | None:
        """Estimated USD for one video with these (validated) parameters."""
        return self.price.estimate(self.clip_duration(params), params.get("resolution"))

@dataclass(frozen=True)
class ModelSpec:
    """A model id and the modes it offers."""

    name: str
    modes: Mapping[str, ModeSpec]
    per_call_billing: bool = False
    note: str = ""

@dataclass(frozen=True)
class PollingPrior:
    """What the provider documents about timing, for the polling schedule (unscaled seconds)."""

    first_poll: float
    typical: tuple[float, float]
    interval: float = 5.0

def _allowed_list(values: Iterable[object]) -> str:
    return ", ".join(str(v) for v in values)

def _url_scheme(url: str) -> str:
    return urlsplit(url).scheme.lower()

class Provider:
    """Base class of the five adapters. Subclasses fill in the class attributes and four methods."""

    name: ClassVar[str]
    title: ClassVar[str]
    env_var: ClassVar[str]
    default_base_url: ClassVar[str | None]
    base_url_env: ClassVar[str | None] = None
    models: ClassVar[Mapping[str, ModelSpec]]
    default_model: ClassVar[str]
    reports_cost: ClassVar[bool] = False
    polling: ClassVar[PollingPrior]
    #: client-side limits as (requests, per seconds), shared by every job of the provider
    rate_limits: ClassVar[tuple[tuple[int, float], ...]] = ()

    # ---- the four sans-IO methods -------------------------------------------------------
    def build_submit(self, request: VideoRequest, base_url: str, key: Secret) -> httpx.Request:
        """The HTTP request that submits `request`."""
        raise NotImplementedError

    def parse_submit(self, response: httpx.Response) -> str:
        """The task id from a submit reply, or a `ProviderError`."""
        raise NotImplementedError

    def build_poll(self, task_id: str, base_url: str, key: Secret) -> httpx.Request:
        """The HTTP request that reads a task's status."""
        raise NotImplementedError

    def parse_poll(self, response: httpx.Response) -> TaskStatus:
        """A normalized status from a status reply, or a `ProviderError`."""
        raise NotImplementedError

    # ---- shared helpers -----------------------------------------------------------------
    def auth_headers(self, key: Secret) -> dict[str, str]:
        """Headers that carry the key (Bearer by default)."""
        return {"Authorization": f"Bearer {key.reveal()}"}

    def url(self, base_url: str, path: str) -> str:
        """`base_url` (scheme, host, optional prefix) + the documented path, unchanged."""
        return base_url.rstrip("/") + path

    def json_request(self, method: str, url: str, key: Secret, body: Any = None,
                     extra_headers: Mapping[str, str] | None = None) -> httpx.Request:
        """An `httpx.Request` with auth and, when given, a JSON body."""
        headers = {"Accept": "application/json", **self.auth_headers(key), **(extra_headers or {})}
        if body is None:
            return httpx.Request(method, url, headers=headers)
        return httpx.Request(method, url, headers=headers, json=body)

    def model_spec(self, model: str | None) -> ModelSpec:
        """The spec of `model` (default model when None), or a ValidationError."""
        name = model or self.default_model
        if name not in self.models:
            raise ValidationError(self.name, name, "model", name,
                                  f"allowed: {_allowed_list(self.models)}")
        return self.models[name]

    def mode_spec(self, model: str | None, mode: str) -> ModeSpec:
        """The spec of (model, mode), or a ValidationError."""
        spec = self.model_spec(model)
        if mode not in spec.modes:
            raise ValidationError(self.name, spec.name, "mode", mode,
                                  f"allowed for this model: {_allowed_list(spec.modes)}")
        found = spec.modes[mode]
        configured = CONFIGURED_PRICES.get((self.name, spec.name))
        if configured is not None and found.price == UNPRICED:
            return replace(found, price=configured)
        return found

    def validate(self, prompt: str, *, model: str | None = None, mode: str | None = None,
                 **params: Any) -> VideoRequest:
        """Check every parameter against this provider/model before anything is sent.

        Returns a `VideoRequest` with the provider's defaults filled in and values normalized
        the way the provider itself normalizes them ("720P " -> "720p", "10" -> 10).
        """
        spec = self.model_spec(model)
        model_name = spec.name
        if "image_url" in params:  # convenience: one URL
            single = params.pop("image_url")
            if single is not None:
                if params.get("image_urls"):
                    raise ValidationError(self.name, model_name, "image_url", single,
                                          "give image_url or image_urls, not both")
                params["image_urls"] = [single]
        for name in params:
            if name not in USER_PARAMETERS:
                raise ValidationError(self.name, model_name, name, params[name],
                                      f"unknown parameter; known: {_allowed_list(USER_PARAMETERS)}")
        params = {k: v for k, v in params.items() if v is not None}
        if mode is None:
            mode = self.infer_mode(spec, params)
            if mode not in spec.modes:  # name the parameter the user passed, not the mode
                source = "video_url" if mode == "edit" else (
                    "image_urls" if "image_urls" in params else "image_task_id")
                raise ValidationError(self.name, model_name, source, params.get(source),
                                      f"no {mode} mode on this model; modes: "
                                      f"{_allowed_list(spec.modes)}")
        m = self.mode_spec(model_name, mode)

        def bad(parameter: str, value: object, allowed: str) -> ValidationError:
            return ValidationError(self.name, model_name, parameter, value, allowed)

        # prompt
        if not isinstance(prompt, str) or not prompt.strip():
            raise bad("prompt", prompt, "a non-empty text is required")
        if m.prompt_max is not None and len(prompt) > m.prompt_max:
            raise bad("prompt", f"<{len(prompt)} characters>", f"at most {m.prompt_max} characters")
        out: dict[str, Any] = {}

        # duration
        if "duration" in params:
            if m.durations is None:
                raise bad("duration", params["duration"],
                          f"{mode} on this model takes no duration")
            out["duration"] = self._duration(params["duration"], m, bad)
        elif m.default_duration is not None:
            out["duration"] = m.default_duration

        no_knob = f"{mode} on this model takes no"
        self._choose("resolution", params, m.resolutions, m.default_resolution, out, bad,
                     f"{no_knob} resolution")
        self._choose("aspect_ratio", params, m.aspect_ratios, m.default_aspect_ratio, out, bad,
                     f"{no_knob} aspect ratio")
        self._choose("style", params, m.styles, m.default_style, out, bad,
                     "this provider has no style parameter")

        # sources
        self._sources(params, m, mode, bad, out)
        return VideoRequest(self.name, model_name, mode, prompt, out)

    @staticmethod
    def _choose(name: str, params: Mapping[str, Any], allowed: tuple[str, ...] | None,
                default: str | None, out: dict[str, Any], bad: Any, absent: str) -> None:
        """One value from a discrete set, trimmed and lower-cased as the providers do."""
        if name in params:
            value = params[name]
            norm = value.strip().lower() if isinstance(value, str) else value
            if allowed is None:
                raise bad(name, value, absent)
            if norm not in allowed:
                raise bad(name, value, f"allowed: {_allowed_list(allowed)}")
            out[name] = norm
        elif default is not None:
            out[name] = default

    @staticmethod
    def infer_mode(spec: ModelSpec, params: Mapping[str, Any]) -> str:
        """The mode the parameters imply when none is named: a source video means edit,
        images (or an image task) mean image-to-video, otherwise text-to-video."""
        if params.get("video_url") is not None:
            return "edit"
        if params.get("image_urls") or params.get("image_task_id") is not None:
            return "image-to-video"
        return "text-to-video"

    @staticmethod
    def _duration(value: Any, m: ModeSpec, bad: Any) -> int:
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
            allowed = m.describe_durations()
            raise bad("duration", value, f"allowed: whole seconds, {allowed}")
        return number

    def _sources(self, params: Mapping[str, Any], m: ModeSpec, mode: str, bad: Any,
                 out: dict[str, Any]) -> None:
        images = params.get("image_urls")
        task_id = params.get("image_task_id")
        index = params.get("image_index")
        video = params.get("video_url")

        if images is not None:
            if isinstance(images, str):
                images = [images]
            if m.images is None:
                raise bad("image_urls", images, f"{mode} takes no images")
            if not isinstance(images, (list, tuple)) or not all(
                isinstance(u, str) and u.strip() for u in images
            ):
                raise bad("image_urls", images, "a list of non-empty URL strings")
            lo, hi = m.images
            if len(images) < lo:
                raise bad("image_urls", images, f"at least {lo} for {mode}")
            if hi is not None and len(images) > hi:
                raise bad("image_urls", f"<{len(images)} URLs>", f"at most {hi} for {mode}")
            for url in images:
                scheme = _url_scheme(url)
                if scheme not in m.image_schemes:
                    raise bad("image_urls", url,
                              f"URL schemes allowed here: {_allowed_list(m.image_schemes)}")
            out["image_urls"] = [u.strip() for u in images]
        if task_id is not None or index is not None:
            if not m.image_task_source:
                raise bad("image_task_id", task_id, f"{mode} on this provider takes no image task")
            if images is not None:
                raise bad("image_task_id", task_id,
                          "give either image_urls or image_task_id+image_index, not both")
            if not isinstance(task_id, str) or not task_id.strip():
                raise bad("image_task_id", task_id, "a completed grok-image task id is required with image_index")
            if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index <= 5:
                raise bad("image_index", index, "an integer from 0 to 5 is required with image_task_id")
            out["image_task_id"] = task_id.strip()
            out["image_index"] = index
        if m.images is not None and m.images[0] > 0 and "image_urls" not in out and "image_task_id" not in out:
            needed = "image_urls" + (" or image_task_id+image_index" if m.image_task_source else "")
            raise bad("image_urls", None, f"{mode} requires {m.images[0]}+ image(s): pass {needed}")

        if video is not None:
            if not m.video_input:
                raise bad("video_url", video, f"{mode} takes no source video")
            if not isinstance(video, str) or _url_scheme(video) not in ("http", "https"):
                raise bad("video_url", video, "an http(s) URL of the source video")
            out["video_url"] = video.strip()
        elif m.video_input:
            raise bad("video_url", None, f"{mode} requires video_url")

    # ---- reply reading ------------------------------------------------------------------
    def quote(self, response: httpx.Response, limit: int = 300) -> str:
        """The reply body as short, key-free text, for error messages."""
        try:
            text = response.text
        except Exception:  # undecodable bytes
            text = repr(response.content[:limit])
        # redact before cutting, so a key cut in half cannot slip past the patterns
        text = redact(" ".join(text.split()))
        if len(text) > limit:
            text = text[:limit] + "..."
        return text or "<empty body>"

    def error_details(self, body: Any) -> tuple[str | None, str | None]:
        """(code, message) from an error body; adapters override for their own shapes."""
        if isinstance(body, Mapping):
            err = body.get("error")
            if isinstance(err, Mapping):
                return _text(err.get("code") or err.get("type")), _text(err.get("message"))
            if isinstance(err, str):
                # {"error": "Insufficient Balance", "message": "..."}: the label is the code
                message = _text(body.get("message"))
                return (err, message) if message else (None, err)
            return _text(body.get("code")), _text(body.get("message") or body.get("msg"))
        return None, None

    def read_json(self, response: httpx.Response) -> Any:
        """The JSON body of a success reply; HTTP errors become the right `ProviderError`."""
        status = response.status_code
        body: Any = None
        try:
            body = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
            body = None
        if status >= 400:
            raise self.http_error(response, body)
        if body is None:
            raise ProviderResponseError(
                self.name, f"expected JSON, got: {self.quote(response)}", status_code=status)
        return body

    def http_error(self, response: httpx.Response, body: Any, status: int | None = None) -> ProviderError:
        """Map an HTTP error reply to the exception tree, quoting the provider's code/message.

        `status` overrides the HTTP status for providers that put errors in a 200 envelope.
        """
        status = status or response.status_code
        code, message = self.error_details(body)
        message = redact(message) if message else self.quote(response)
        kw: dict[str, Any] = {"status_code": status, "code": redact(code) if code else None}
        if status == 429:
            return RateLimitedError(self.name, message, retry_after=retry_after(response), **kw)
        if status in (401, 403):
            return AuthenticationError(
                self.name, f"{message} (check {self.env_var} or the api_key argument)", **kw)
        if status == 402:
            return InsufficientBalanceError(self.name, message, **kw)
        if status == 404:
            return TaskNotFoundError(self.name, message, **kw)
        if status >= 500:
            return ProviderServerError(self.name, message, **kw)
        return RequestRejectedError(self.name, message, **kw)

    def id_field(self, response: httpx.Response, name: str) -> str:
        """The task id in the top-level field `name` of a submit reply."""
        body = self.read_json(response)
        task_id = body.get(name) if isinstance(body, dict) else None
        if not isinstance(task_id, str) or not task_id:
            raise self.unexpected(response, f"no {name} in the submit reply")
        return task_id

    def unexpected(self, response: httpx.Response, what: str) -> ProviderResponseError:
        """A `ProviderResponseError` saying what was missing and quoting the reply."""
        return ProviderResponseError(
            self.name, f"{redact(what)}; the reply was: {self.quote(response)}",
            status_code=response.status_code)

    def map_state(self, raw: Any, table: Mapping[str, State], response: httpx.Response) -> State:
        """Normalize a provider status word with `table` (keys lower-case)."""
        if not isinstance(raw, str) or raw.strip().lower() not in table:
            raise self.unexpected(
                response, f"unknown status {raw!r} (known: {_allowed_list(sorted(table))})")
        return table[raw.strip().lower()]

def _text(value: Any) -> str | None:
    if value is None:
        return None
    return str(value)

def retry_after(response: httpx.Response) -> float | None:
    """Seconds from a Retry-After header in either form (delta-seconds or HTTP-date)."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
        return max(0.0, seconds) if math.isfinite(seconds) else None
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())

def path_segment(task_id: str) -> str:
    """A provider's task id made safe to put in a URL path (a '/' or '?' cannot escape it)."""
    return quote(str(task_id), safe="")


def parse_time(value: Any) -> datetime | None:
    """Provider timestamps: epoch seconds or ms, ISO 8601, or 'YYYY-MM-DD HH:MM:SS' (UTC)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        seconds = number(value)
        if seconds is None:
            return None
        seconds = seconds / 1000.0 if seconds > 1e11 else seconds
        try:
            return datetime.fromtimestamp(seconds, tz=timezone.utc)
        except (OverflowError, OSError, ValueError):  # out of the platform's range
            return None
    if isinstance(value, str) and value.strip():
        text = value.strip().replace("Z", "+00:00")
        try:
            when = datetime.fromisoformat(text)
        except ValueError:
            return None
        return when if when.tzinfo else when.replace(tzinfo=timezone.utc)
    return None


def number(value: Any) -> float | None:
    """A finite number from a reply field; None for text, bools, NaN, infinities and overflow."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        result = float(value)
    except OverflowError:
        return None
    return result if math.isfinite(result) else None


def text(value: Any) -> str | None:
    """A reply field as text for messages and codes; None when absent or empty."""
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else json.dumps(value, default=str)


def mapping(value: Any) -> dict[str, Any]:
    """`value` if it is a JSON object, else an empty one (for optional nested objects)."""
    return value if isinstance(value, dict) else {}


def field_list(value: Any) -> tuple[str, ...]:
    """A URL or list of URLs as a tuple of http(s) URL strings (anything else is dropped, so
    "status done but no URL" is detected instead of a later download of garbage)."""
    items = [value] if isinstance(value, str) else value if isinstance(value, (list, tuple)) else []
    return tuple(v.strip() for v in items
                 if isinstance(v, str) and _url_scheme(v.strip()) in ("http", "https"))
