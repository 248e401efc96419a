"""Planning a batch before anything is sent: `plan()` decides for every provider what it will
be sent (or why it is skipped) and how many of its jobs the ledger can reuse. The pure part
(fitting a request to a capability table, the estimate) is in `fit.py`.

Images are read and checked once per batch (`_prepare.coerce_inputs`), and the batch's clients
share one `SharedUploads`: a local image a URL-only provider needs is hosted once, and only
when a job that needs it is really sent (a batch the ledger fully reuses uploads nothing)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .. import _args
from .._catalog import priced_spec
from .._client import Client
from .._exceptions import ConfigurationError
from .._prepare import coerce_inputs
from .._sandbox_mode import sandbox_route
from .._uploads import SharedUploads
from ..adapters import USER_PARAMETERS, get_adapter
from .fit import EstimateLine, Fit, ProvidersSpec, default_targets, fit_request, parse_targets

__all__ = ["Batch", "Entry", "plan"]


@dataclass
class Entry:
    """One provider/model of a batch: its client and what it will be sent (or why not)."""

    provider: str
    model: str
    client: Client | None
    fit: Fit
    per_video: float | None = None
    reusable: int = 0
    defaults: str = ""  # provider defaults that differ between providers (the caller set none)

    @property
    def note(self) -> str:
        """What the row's `note` says about how this provider took the request."""
        return "; ".join(n for n in (self.fit.note, self.defaults) if n)


@dataclass
class Batch:
    """A planned comparison: nothing has been sent yet."""

    prompt: str
    repeats: int
    reuse: bool
    entries: list[Entry] = field(default_factory=list)

    def lines(self) -> list[EstimateLine]:
        """The estimate's lines: new (non-reused) jobs per provider/model."""
        return [EstimateLine(f"{e.provider}/{e.model}", self.repeats - e.reusable, e.per_video, e.reusable)
                for e in self.entries if not e.fit.skipped]


def _check_params(prompt: str, repeats: int, params: Mapping[str, Any]) -> None:
    if not isinstance(prompt, str) or not prompt.strip():
        raise ValueError("compare(): the prompt must be a non-empty text")
    _args.count("repeats", repeats, high=2**62)
    unknown = set(params) - set(USER_PARAMETERS) - {"image_url", "mode"}
    if unknown:
        raise TypeError(f"compare(): unknown parameter(s) {sorted(unknown)}; "
                        f"known: {', '.join(USER_PARAMETERS)}, image_url, mode")


def plan(prompt: str, providers: ProvidersSpec, repeats: int, *, adapt: bool, reuse: bool,
         params: Mapping[str, Any], uploads: SharedUploads | None = None) -> Batch:
    """Decide, for every provider, what it will be sent; count what the ledger can reuse.
    A provider that is not configured (no key, no base URL), or a URL-only one given a local
    image with no uploader, becomes a skipped row; an unknown provider or model name, or an
    image input that is not an image, raises, before anything is sent. `uploads` is shared by
    every batch of a sweep (default: one for this batch)."""
    params = dict(params)
    _check_params(prompt, repeats, params)
    mode = params.pop("mode", None)
    params = coerce_inputs(params)
    uploads = uploads if uploads is not None else SharedUploads()
    targets = parse_targets(providers) or default_targets(sandbox_route() is not None, os.environ)
    batch = Batch(prompt, repeats, reuse)
    for target in targets:
        adapter = get_adapter(target.provider)
        model = target.model or adapter.default_model
        try:
            client = Client(target.provider, model=target.model)
        except ConfigurationError as exc:
            batch.entries.append(Entry(target.provider, model, None, Fit(None, f"skipped: {exc}")))
            continue
        client.uploader = uploads.for_client(client.uploader, sandboxed=client.sandboxed)
        fit = fit_request(adapter, prompt, params, model=client.model, mode=mode, adapt=adapt,
                          uploader=client.uploader)
        entry = Entry(target.provider, client.model, client, fit)
        if fit.request is not None:
            request = fit.request
            entry.per_video = priced_spec(adapter, request.model, request.mode).estimate(request.params)
            if reuse:  # one query, however many repeats (repeats=10**9 must not plan for hours)
                entry.reusable = client.count_reusable(request, repeats)
        batch.entries.append(entry)
    _note_differing_defaults(batch.entries, params)
    return batch


def _note_differing_defaults(entries: list[Entry], params: Mapping[str, Any]) -> None:
    """Where the caller left a parameter unset and the providers' defaults differ (APIXO's
    text aspect ratio is 3:2, the others' 16:9), say so in each row: the runs are not alike."""
    requests = [(e, e.fit.request) for e in entries if e.fit.request is not None]
    differing = [key for key in ("duration", "resolution", "aspect_ratio") if params.get(key) is None
                 and len({str(r.params.get(key)) for _, r in requests}) > 1]
    if not differing:
        return
    for entry, request in requests:
        shown = ", ".join(f"{key}={request.params.get(key, 'n/a')}" for key in differing)
        entry.defaults = f"provider defaults differ: {shown}"
