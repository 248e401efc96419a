"""Compare providers on the same request: `compare` (and `compare_async`), `summarize`, `gallery`, `plot`, `sweep`.

```python
import grokvid_nb as gv
gv.use_sandbox()
df = gv.compare("a lakeside at sunset", repeats=2, duration=6, resolution="480p")
gv.summarize(df)        # success rate, latency median/p95, cost per provider
gv.gallery(df)          # the videos side by side
gv.plot(df)             # latency vs cost
```

Nothing is sent before the whole batch is planned: each provider either takes the request
as given, adapts it (`adapt=True`: nearest allowed duration, its only resolution, ...) or is
skipped with the reason in `note`; then the estimated cost is shown and checked against
`max_cost_usd`. Jobs run concurrently on the engine (which keeps each provider's rate limit).
Ctrl-C (or a notebook interrupt) returns the table so far: the unfinished jobs keep running
in the background, stay in the ledger, and `gv.resume()` re-attaches to them.
"""

from __future__ import annotations

import itertools
import os
import warnings
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import _args, display
from .._images import coerce_images, image_fingerprint
from .._prepare import coerce_inputs
from .._uploads import SharedUploads
from . import plan as _plan
from . import run as _run
from .fit import Estimate, ProvidersSpec, check_budget, check_session_budget
from .progress import Reporter, make_reporter
from .table import COLUMNS, result_from_row, summarize_table
from .views import Gallery, cell_from_row, gallery_html, latency_cost_figure, rows_of

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

__all__ = ["compare", "compare_async", "summarize", "gallery", "plot", "sweep", "save_table", "check_options", "COLUMNS", "MAX_REPEATS"]


#: More repeats than this per provider is a typo, not a plan (and each repeat is a table row).
MAX_REPEATS = 100_000


def check_options(repeats: object, max_cost_usd: object,
                  timeout: object) -> tuple[int, float | None, float | None]:
    """`repeats`, `max_cost_usd` and `timeout` checked and normalised before anything is
    planned or sent: NaN or a negative budget would switch the guard off, a bad timeout
    would abandon a paid batch."""
    return (_args.count("repeats", repeats, high=2**62),
            _args.budget("max_cost_usd", max_cost_usd),
            _args.optional_timeout("timeout", timeout, inf_means_none=True))


# ---- the public functions ---------------------------------------------------------------

def compare(prompt: str, providers: ProvidersSpec = None, repeats: int = 1, *, adapt: bool = False,
            max_cost_usd: float | None = 5.0, reuse: bool = True, timeout: float | None = None,
            progress: bool | str | Reporter = True, **params: Any) -> "pd.DataFrame":
    """Send the same request to several providers, `repeats` times each, concurrently, and
    return one row per job (columns: `COLUMNS`).

    `providers`: names (`["xai", "apixo"]`, `"xai,apixo"`), `(name, model)` pairs, or a dict
    name -> model; default every provider with a key in the environment (all five under
    `gv.use_sandbox()`). `params` are the request's parameters (`duration`, `resolution`,
    `aspect_ratio`, `image_urls`, ...). A provider that cannot honour one is skipped (status
    "skipped", reason in `note`) unless `adapt=True`, which uses its nearest allowed value and
    says so in `note`. Repeats are distinct jobs (`sample_index` 0..repeats-1); with
    `reuse=True` an identical earlier job in the ledger is reused instead of paid again: its
    row keeps the job's `cost_usd` (what that job cost) with `reused` True, a `note` saying so
    and `spent_usd` 0.0. `spent_usd` is what this call paid for each row (the job's cost for a
    job it submitted, unknown while that cost is); sum it, not `cost_usd`, for this run's spend.

    `image_url`/`image_urls` take what `generate` takes (a URL, data URI, path, `Path`, bytes,
    PIL image, numpy array, FileUpload value): each provider gets a data URI where it accepts
    one, else the image hosted by the uploader (uploaded once for the whole batch, and only if
    a job is really sent); a URL-only provider with no uploader is skipped, its `note` being
    `generate`'s refusal. The table, the ledger and the reuse check hold content hashes,
    never base64. The URL columns (`url_expires_at`, `url_gone_at`, `url_status`,
    `local_path`) are those of `gv.history()`.

    Before anything is sent the estimated cost is shown; `BudgetExceededError` is raised when
    the known part exceeds `max_cost_usd` (None: no limit). Unpriced providers are listed as
    unknown, not counted as zero. `timeout` (seconds) stops waiting for the whole batch;
    `progress` shows a live table (notebook) or progress lines (stderr). An interrupt returns
    the rows so far (`df.attrs["interrupted"]`); unfinished jobs keep running and
    `gv.resume()` re-attaches.
    """
    reporter, batch, estimate, timeout = _before_sending(prompt, providers, repeats, adapt, max_cost_usd,
                                                         reuse, timeout, progress, params)
    df = _run.run(batch, reporter, timeout)
    df.attrs["estimated_usd"] = estimate.known_usd
    df.attrs["unknown_price"] = list(estimate.unknown)
    return df


def _before_sending(prompt: str, providers: ProvidersSpec, repeats: object, adapt: bool,
                    max_cost_usd: object, reuse: bool, timeout: object,
                    progress: bool | str | Reporter, params: dict[str, Any]
                    ) -> tuple[Reporter, "_plan.Batch", Estimate, float | None]:
    """What compare() and compare_async() do before the first job: check the options, plan,
    show the estimate, and refuse above the limits."""
    count, limit, wait = check_options(repeats, max_cost_usd, timeout)
    reporter = make_reporter(progress)
    batch = _plan.plan(prompt, providers, count, adapt=adapt, reuse=reuse, params=params)
    estimate = Estimate(tuple(batch.lines()))
    _run.announce(reporter, estimate, limit)
    check_budget(estimate, limit)  # the arithmetic first: 10**9 repeats fail here at once
    check_session_budget(estimate)
    _args.count("repeats", count, high=MAX_REPEATS)
    return reporter, batch, estimate, wait


async def compare_async(prompt: str, providers: ProvidersSpec = None, repeats: int = 1, *,
                        adapt: bool = False, max_cost_usd: float | None = 5.0, reuse: bool = True,
                        timeout: float | None = None, progress: bool | str | Reporter = True,
                        **params: Any) -> "pd.DataFrame":
    """`compare()` for async code (`df = await gv.compare_async(...)`): the same arguments,
    the same checks before anything is sent (the estimate, the budget), the same table. The
    jobs run on the engine's own thread; awaiting it leaves the caller's event loop free.
    Cancelling the awaiting task leaves unfinished jobs running (`gv.resume()` re-attaches)."""
    reporter, batch, estimate, wait = _before_sending(prompt, providers, repeats, adapt, max_cost_usd,
                                                      reuse, timeout, progress, params)
    df = await _run.run_async(batch, reporter, wait)
    df.attrs["estimated_usd"] = estimate.known_usd
    df.attrs["unknown_price"] = list(estimate.unknown)
    return df


def summarize(df: "pd.DataFrame") -> "pd.DataFrame":
    """Per provider and model: `n` jobs run (skipped rows are counted in `skipped` instead),
    `succeeded`, `success_rate`, `median_latency_s` and `p95_latency_s` (successful jobs),
    `mean_cost_usd` (per job, over the jobs whose cost is known: an unknown cost is left out,
    never counted as zero; a video of unknown cost makes `cost_source` list "unknown"),
    `cost_per_video_s` (USD per second of video made: the succeeded jobs' known costs over
    their seconds; unknown when no video was made), `cost_source`,
    `reused` (rows that reused an earlier job) and `spent_usd` (what the table's calls paid:
    reused rows 0.0). A job shown by several rows (tables of two runs concatenated, a sweep
    whose grid points ask the same request) counts once."""
    return summarize_table(df)


def _source_for(row: Mapping[str, Any], embed: bool | None) -> tuple[str | None, str | None]:
    """(src, note) for a row's video: the live job's result resolved by `display.video_source`
    (which inlines sandbox clips), else the row's URL."""
    if row.get("status") != "succeeded":
        return None, None
    job_id = row.get("job_id")
    job = _run.recent_job(job_id) if isinstance(job_id, str) else None
    result = job.result_nowait() if job is not None else None
    live = result is not None and result.ok
    # else a table from an earlier kernel: the row's URL, its expiry and the kept copy
    shown = result if live else result_from_row(row)
    if shown is None or (not live and shown.video_url is None):
        return None, None
    source = display.video_source(shown, embed)
    if source.src is None and source.expired:  # "" (not None): never fall back to the dead URL
        return "", source.note
    if not live and source.src == shown.video_url and not display.browser_can_load(source.src):
        if display.safe_video_src(source.src) is None:  # not a URL we play: the cell refuses it
            return None, None
        # "" as above: a player on a URL no browser can fetch would only show a dead frame
        return "", "this URL cannot be loaded by a browser (in-process sandbox) and its job is gone"
    return source.src, source.note


def gallery(df: "pd.DataFrame", *, columns: int = 3, embed: bool | None = None) -> Gallery:
    """The videos of a `compare()` table side by side, captioned with provider, model, shape,
    latency and cost; failed and skipped rows show why, and so does a succeeded row with
    nothing a browser can play (its URL expired or unloadable and no kept copy). Returns an
    object that displays as HTML in a notebook (`.html` holds the markup). Sandbox clips (which a browser cannot
    fetch) are downloaded and inlined; `embed=True` inlines every video, `False` none."""
    cells = []
    for row in rows_of(df):
        row = {k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()}
        if "duration_sent" in row:  # a sweep table: caption the request as sent
            row.update({k: row.get(f"{k}_sent") for k in ("duration", "resolution", "aspect_ratio")
                        if f"{k}_sent" in row})
        src, note = _source_for(row, embed)
        cells.append(cell_from_row(row, src, note))
    return Gallery(tuple(cells), gallery_html(cells, columns))


def plot(df: "pd.DataFrame", title: str | None = None) -> "Figure":
    """Latency (x) against cost per video (y) of the successful jobs, labelled by provider.
    A matplotlib `Figure` built without pyplot (safe under Agg and in notebooks). A job of
    unknown cost is an `x` at 0, labelled so; with no successful job the figure is drawn
    empty and says so ("no succeeded jobs to plot"), it does not raise. Text is never read
    as mathtext: a `$` in the title or a name shows as typed."""
    return latency_cost_figure(rows_of(df), title)


def save_table(df: "pd.DataFrame", path: str | os.PathLike[str]) -> Path:
    """Write `df` by suffix: `.parquet`/`.pq` (needs pyarrow; falls back to CSV beside it with
    a warning) or `.csv`/`.csv.gz`. Returns the path written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    name = path.name.lower()
    if name.endswith((".parquet", ".pq")):
        try:
            df.to_parquet(path, index=False)
            return path
        except ImportError as exc:
            fallback = path.with_suffix(".csv")
            warnings.warn(f"cannot write Parquet ({exc}); wrote CSV to {fallback} instead "
                          "(pip install pyarrow for Parquet)", RuntimeWarning, stacklevel=2)
            path = fallback
    elif not name.endswith((".csv", ".csv.gz")):
        raise ValueError(f"path={str(path)!r}: use a .parquet, .pq, .csv or .csv.gz suffix")
    df.to_csv(path, index=False)
    return path


def _grid_label(key: str, value: Any) -> Any:
    """A sweep's grid value as its column shows it: images as their fingerprints (the URL, or
    `sha256:<hex>` of local content, as `history()` shows them), never bytes or base64."""
    if key == "image_url":
        return image_fingerprint(value, key)
    if key == "image_urls":
        return ", ".join(image_fingerprint(v, key) for v in coerce_images(value, key))
    return value


_COMPARE_KW = ("repeats", "adapt", "max_cost_usd", "reuse", "timeout", "progress")


def sweep(prompts: str | Iterable[str], providers: ProvidersSpec = None,
          grid: Mapping[str, Sequence[Any]] | None = None, *, path: str | os.PathLike[str] | None = None,
          **kw: Any) -> "pd.DataFrame":
    """Run `compare` for each prompt x each combination of `grid` (param -> list of values)
    and concatenate the tables, with a `prompt` column and one column per grid parameter
    holding the value asked for (where that name is also a request column, the value as sent
    moves to `<name>_sent`). Other keywords go to `compare` (`repeats`, `adapt`,
    `max_cost_usd`, `reuse`, `timeout`, `progress`) or are fixed request parameters.

    The budget guard covers the whole sweep: everything is planned, and the total estimate
    checked, before the first job is sent. Images (fixed, or in the grid) are taken as in
    `compare` and each distinct one is uploaded once for the whole sweep; a grid column of
    images shows their fingerprints. With `path` the table is saved (`.parquet` when
    pyarrow is installed, else `.csv`); `df.attrs["path"]` says where.
    """
    import pandas as pd

    prompt_list = [prompts] if isinstance(prompts, str) else list(prompts)
    if not prompt_list:
        raise ValueError("sweep(): no prompts")
    grid = {k: list(v) if not isinstance(v, (str, bytes)) else [v] for k, v in (grid or {}).items()}
    options = {k: kw.pop(k) for k in _COMPARE_KW if k in kw}
    clash = set(grid) & set(kw)
    if clash:
        raise ValueError(f"sweep(): {sorted(clash)} given both in grid and as a fixed parameter")
    if path is not None:
        if not str(path).lower().endswith((".parquet", ".pq", ".csv", ".csv.gz")):
            raise ValueError(f"path={str(path)!r}: use a .parquet, .pq, .csv or .csv.gz suffix")
        _args.output_path("path", path)  # before the batch is paid, so its table is never lost
    repeats, max_cost_usd, timeout = check_options(options.get("repeats", 1),
                                                   options.get("max_cost_usd", 5.0),
                                                   options.get("timeout"))
    kw = coerce_inputs(kw)  # fixed images: read and checked once for the whole sweep
    combos = [coerce_inputs(dict(zip(grid, values, strict=True)))
              for values in itertools.product(*grid.values())]
    reporter = make_reporter(options.get("progress", True))
    uploads = SharedUploads()  # an image is hosted once for the whole sweep
    batches = [(prompt, combo, _plan.plan(prompt, providers, repeats, adapt=options.get("adapt", False),
                                     reuse=options.get("reuse", True), params={**kw, **combo},
                                     uploads=uploads))
               for prompt in prompt_list for combo in combos]
    estimate = Estimate(tuple(line for _, _, b in batches for line in b.lines()))
    _run.announce(reporter, estimate, max_cost_usd)
    check_budget(estimate, max_cost_usd)
    check_session_budget(estimate)
    _args.count("repeats", repeats, high=MAX_REPEATS)
    frames = []
    for prompt, combo, batch in batches:
        df = _run.run(batch, make_reporter(options.get("progress", True)), timeout)
        interrupted = df.attrs.get("interrupted", False)
        df = df.rename(columns={k: f"{k}_sent" for k in combo if k in df.columns})
        df.insert(0, "prompt", prompt)
        for i, (key, value) in enumerate(combo.items(), start=1):
            df.insert(i, key, [_grid_label(key, value)] * len(df))
        frames.append(df)
        if interrupted:
            break
    out = pd.concat(frames, ignore_index=True)
    out.attrs["interrupted"] = any(f.attrs.get("interrupted", False) for f in frames)
    out.attrs["estimated_usd"] = estimate.known_usd
    if path is not None:
        out.attrs["path"] = str(save_table(out, path))
    return out
