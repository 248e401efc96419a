"""`Adapter`: the base class of the five provider adapters.

Adapters are sans-IO. They turn a validated `VideoRequest` into an `httpx.Request` and an
`httpx.Response` into a task id or a `TaskStatus`. They never sleep, open sockets or keep
state; their capability and price tables are data (`_spec.py`). Prices a user configures for
unpriced models live in the engine's catalog (`grokvid_nb._catalog`), not here.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, ClassVar

import httpx

from .._exceptions import ProviderError, ProviderResponseError, ValidationError
from .._secrets import Secret, redact
from .._types import MODERATED, State, TaskStatus, VideoRequest
from . import _reply, _validate
from ._spec import ModelSpec, ModeSpec, PollingPrior, allowed_list

__all__ = ["Adapter"]


@functools.lru_cache(maxsize=4096)
def _parsed(url: str) -> httpx.URL:
    """`httpx.URL(url)`, parsed once per distinct URL: a job polls the same URL again and again,
    and httpx checks every character of a URL string it parses. `httpx.URL` is immutable."""
    return httpx.URL(url)


class Adapter:
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
    #: how long a result URL is documented to stay valid, in seconds (None: not documented)
    url_ttl_s: ClassVar[float | None] = None
    #: what a failed job costs per the provider's docs: "charged", "not charged" or "unknown";
    #: `failure_billing_note` says more (shown in `gv.providers()` and in messages)
    failure_billing: ClassVar[str] = "unknown"
    failure_billing_note: ClassVar[str] = "not documented"

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

    # ---- building requests --------------------------------------------------------------
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
            return httpx.Request(method, _parsed(url), headers=headers)
        return httpx.Request(method, _parsed(url), headers=headers, json=body)

    # ---- the capability table -----------------------------------------------------------
    def model_spec(self, model: str | None) -> ModelSpec:
        """The spec of `model` (default model when None), or a ValidationError."""
        name = model or self.default_model
        if name not in self.models:
            raise ValidationError(self.name, name, "model", name, f"allowed: {allowed_list(self.models)}")
        return self.models[name]

    def mode_spec(self, model: str | None, mode: str) -> ModeSpec:
        """The published spec of (model, mode), or a ValidationError."""
        spec = self.model_spec(model)
        if mode not in spec.modes:
            raise ValidationError(self.name, spec.name, "mode", mode,
                                  f"allowed for this model: {allowed_list(spec.modes)}")
        return spec.modes[mode]

    @staticmethod
    def infer_mode(spec: ModelSpec, params: Mapping[str, Any]) -> str:
        """The mode the parameters imply when none is named (see `_validate.infer_mode`)."""
        return _validate.infer_mode(spec, params)

    def validate(self, prompt: str, *, model: str | None = None, mode: str | None = None,
                 **params: Any) -> VideoRequest:
        """Check every parameter against this provider/model before anything is sent.

        Returns a `VideoRequest` with the provider's defaults filled in and values normalized
        the way the provider itself normalizes them ("720P " -> "720p", "10" -> 10).
        """
        spec = self.model_spec(model)
        params = _validate.normalize_sources(self.name, spec.name, params)
        if mode is None:
            mode = self.infer_mode(spec, params)
            if mode not in spec.modes:
                raise _validate.missing_mode_error(self.name, spec, mode, params)
        m = self.mode_spec(spec.name, mode)
        out = _validate.check_mode_params(self.name, spec.name, m, prompt, params)
        return VideoRequest(self.name, spec.name, mode, prompt, out)

    # ---- reply reading (see `_reply`) ---------------------------------------------------
    def quote(self, response: httpx.Response, limit: int = 300) -> str:
        """The reply body as short, key-free text, for error messages."""
        return _reply.quote(response, limit)

    def error_details(self, body: Any) -> tuple[str | None, str | None]:
        """(code, message) from an error body; adapters override for their own shapes."""
        return _reply.error_details(body)

    def read_json(self, response: httpx.Response) -> Any:
        """The JSON body of a success reply; HTTP errors become the right `ProviderError`."""
        body = _reply.decode_json(response)
        if response.status_code >= 400:
            raise self.http_error(response, body)
        if body is None and 300 <= response.status_code < 400:
            raise _reply.redirect_error(self.name, response)
        if body is None:
            raise ProviderResponseError(self.name, f"expected JSON, got: {self.quote(response)}",
                                        status_code=response.status_code)
        return body

    def read_object(self, response: httpx.Response) -> dict[str, Any]:
        """`read_json` for replies that must be a JSON object; anything else is unexpected."""
        body = self.read_json(response)
        if not isinstance(body, dict):
            raise self.unexpected(response, "expected a JSON object")
        return body

    def http_error(self, response: httpx.Response, body: Any, status: int | None = None) -> ProviderError:
        """Map an HTTP error reply to the exception tree (see `_reply.http_error`)."""
        return _reply.http_error(self.name, self.env_var, response, self.error_details(body), status)

    def id_field(self, response: httpx.Response, name: str) -> str:
        """The task id in the top-level field `name` of a submit reply."""
        body = self.read_json(response)
        task_id = body.get(name) if isinstance(body, dict) else None
        if not isinstance(task_id, str) or not task_id:
            raise self.unexpected(response, f"no {name} in the submit reply")
        return task_id

    def unexpected(self, response: httpx.Response, what: str) -> ProviderResponseError:
        """A `ProviderResponseError` saying what was missing and quoting the reply."""
        return _reply.unexpected(self.name, response, what)

    @staticmethod
    def state_of(raw: Any, table: Mapping[str, State]) -> State | None:
        """The normalized state of status word `raw` (case and spaces ignored), None if unknown."""
        if not isinstance(raw, str):
            return None
        return table.get(raw.strip().lower())

    def failure(self, code: str | None, message: str | None) -> tuple[str | None, str | None]:
        """A failure's (code, message), with moderation made its own code: (`MODERATED`,
        message naming the provider's own code)."""
        if not _reply.is_moderation(code, message):
            return code, message
        said = message or "no message"
        return MODERATED, (f"{self.title}'s content moderation blocked the video: {said}"
                           + (f" [{code}]" if code else ""))

    def money_answer(self) -> str:
        """The money answer for a reply outside the vocabulary, with what the docs say of failures."""
        return _reply.billing_sentence(self.title, f"{self.failure_billing}, {self.failure_billing_note}")

    def unrecognised(self, response: httpx.Response, what: str, raw_status: Any, *,
                     urls: tuple[str, ...] = (), state: State | None = None,
                     cost_usd: float | None = None) -> TaskStatus:
        """A status for a reply outside the documented vocabulary (see `_reply.unrecognised_status`)."""
        return _reply.unrecognised_status(self.name, response, what, raw_status=raw_status,
                                          money=self.money_answer(), urls=urls, state=state,
                                          cost_usd=cost_usd)

    def unknown_word(self, response: httpx.Response, raw: Any, table: Mapping[str, State]) -> TaskStatus:
        """The status for a status word that is not in `table`; a `ProviderResponseError` when
        there is no status word at all (absent, empty, not text: a body we cannot read)."""
        if not isinstance(raw, str) or not raw.strip():
            raise self.unexpected(response, f"no status word in the reply (got {text_of(raw)})")
        return self.unrecognised(
            response, f"status {text_of(raw)} is not one {self.title} documents "
            f"(known: {allowed_list(sorted(table))})", raw)


def text_of(value: Any) -> str:
    """A reply value for a message: repr of text, key-free, cut to 60 characters (redacted
    before cutting, so a key cut in half cannot slip past the patterns)."""
    shown = redact(repr(value))
    return shown if len(shown) <= 60 else shown[:57] + "..."
