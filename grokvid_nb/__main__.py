"""Command line: `python -m grokvid_nb compare|providers|history|spend|resume|generate ...`.

```
python -m grokvid_nb compare "a lakeside at sunset" --providers xai,apixo --repeats 2 --sandbox \
    --duration 6 --resolution 480p --aspect-ratio 16:9 [--image cat.png] [--adapt] [--max-cost 5] \
    [--csv out.csv]
python -m grokvid_nb providers
python -m grokvid_nb history [--provider xai] [--state succeeded] [--since 2026-11-30] [--to h.csv]
python -m grokvid_nb spend [--since 2026-11-01] [--to spend.parquet]
python -m grokvid_nb resume [--timeout 600]
python -m grokvid_nb generate "a cat" --provider apixo --image cat.png --sandbox [--max-cost 1]
```
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, TextIO

from ._cli_jobs import COMMANDS, add_commands, run_command

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["main", "build_parser", "TABLE_COLUMNS"]

#: Columns `compare` prints (the CSV holds them all).
TABLE_COLUMNS = ("provider", "model", "sample", "status", "duration", "resolution", "aspect_ratio",
                 "latency_s", "polls", "cost_usd", "cost_source", "reused", "spent_usd", "note")
CLI_SANDBOX_TIME_SCALE = 0.05
_TIME_SCALE_ENV = "GROKVID_TIME_SCALE"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of `python -m grokvid_nb`."""
    parser = argparse.ArgumentParser(
        prog="python -m grokvid_nb",
        description="Grok video generation across five providers: compare them, list their capabilities.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    cmp = sub.add_parser("compare", help="send one prompt to several providers; print latency and cost",
                         description="Send the same request to several providers and print one row per "
                                     "job, a per-provider summary, and write everything to a CSV file.")
    cmp.add_argument("prompt", help="the text prompt")
    cmp.add_argument("--providers", metavar="NAMES",
                     help="comma-separated provider names, each optionally name:model "
                          "(default: every provider with an API key; all five with --sandbox)")
    cmp.add_argument("--repeats", type=int, default=1, metavar="N", help="jobs per provider (default 1)")
    cmp.add_argument("--duration", type=int, metavar="SECONDS")
    cmp.add_argument("--resolution", metavar="RES", help="e.g. 480p or 720p")
    cmp.add_argument("--aspect-ratio", metavar="W:H", help="e.g. 16:9")
    cmp.add_argument("--image", action="append", metavar="PATH_OR_URL",
                     help="an image for image-to-video (local file, URL or data URI); repeat for "
                          "several. Inlined where a provider takes base64, else uploaded once "
                          "(the sandbox hosts it under --sandbox)")
    cmp.add_argument("--adapt", action="store_true",
                     help="let a provider use its nearest allowed value instead of skipping it")
    cmp.add_argument("--max-cost", type=float, default=5.0, metavar="USD",
                     help="refuse to start when the estimated total is above this (default 5)")
    cmp.add_argument("--no-reuse", action="store_true", help="pay again for identical earlier jobs")
    cmp.add_argument("--timeout", type=float, metavar="SECONDS", help="stop waiting after this long")
    cmp.add_argument("--csv", metavar="PATH",
                     help="where to write the table (default grokvid-compare-<timestamp>.csv here)")
    cmp.add_argument("--sandbox", action="store_true",
                     help="use the built-in emulator: no key, no network, no money")
    cmp.add_argument("--time-scale", type=float, metavar="X",
                     help=f"sandbox speed-up (default ${_TIME_SCALE_ENV} or {CLI_SANDBOX_TIME_SCALE})")
    cmp.add_argument("--quiet", action="store_true", help="no progress lines on stderr")

    sub.add_parser("providers", help="print every provider's capability and price table")
    add_commands(sub)
    return parser


@contextlib.contextmanager
def _env(name: str, value: str | None) -> Iterator[None]:
    """Set an environment variable for the duration of the block (restored afterwards)."""
    old = os.environ.get(name)
    if value is not None:
        os.environ[name] = value
    try:
        yield
    finally:
        if value is not None:
            if old is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = old


def _sandbox_time_scale(arg: float | None) -> float:
    if arg is not None:
        from ._args import finite_positive

        return finite_positive("--time-scale", arg)
    if not os.environ.get(_TIME_SCALE_ENV, "").strip():
        return CLI_SANDBOX_TIME_SCALE
    from ._schedule import time_scale  # the one parser of GROKVID_TIME_SCALE in the toolkit

    return time_scale()


def _print_frame(df: "pd.DataFrame", out: TextIO) -> None:
    import pandas as pd

    from ._frame import shown_frame  # "unknown" costs, as in a notebook, never NaN

    with pd.option_context("display.width", 250, "display.max_columns", None,
                           "display.max_colwidth", 90, "display.max_rows", 500):
        print(shown_frame(df).to_string(index=False), file=out)


def _compare(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from ._args import output_path
    from ._compare import check_options, compare, save_table, summarize
    from ._sandbox_mode import use_sandbox

    # every argument, the output path included, is checked before anything is paid for
    check_options(args.repeats, args.max_cost, args.timeout)
    path = args.csv or f"grokvid-compare-{time.strftime('%Y%m%d-%H%M%S')}.csv"
    if not path.lower().endswith((".parquet", ".pq", ".csv", ".csv.gz")):
        raise ValueError(f"--csv {path!r}: use a .parquet, .pq, .csv or .csv.gz suffix")
    output_path("--csv", path)
    params: dict[str, object] = {k: v for k, v in (("duration", args.duration), ("resolution", args.resolution),
                                ("aspect_ratio", args.aspect_ratio)) if v is not None}
    if args.image:
        params["image_urls"] = list(args.image)
    scale = _sandbox_time_scale(args.time_scale) if args.sandbox else None
    # the client's polling timings read GROKVID_TIME_SCALE too, so both run at the same speed
    with _env(_TIME_SCALE_ENV, None if scale is None else repr(scale)):
        if args.sandbox:
            use_sandbox(time_scale=scale, scale_rate_limits=True)
            print(f"sandbox: every provider is emulated in-process (time scale {scale:g})", file=err)
        try:
            df = compare(args.prompt, providers=args.providers, repeats=args.repeats,
                            adapt=args.adapt, max_cost_usd=args.max_cost, reuse=not args.no_reuse,
                            timeout=args.timeout, progress=False if args.quiet else "terminal", **params)
        finally:
            if args.sandbox:
                use_sandbox(False)
    print("results:", file=out)
    _print_frame(df[[c for c in TABLE_COLUMNS if c in df.columns]], out)
    print("\nsummary:", file=out)
    _print_frame(summarize(df), out)
    written = save_table(df, path)
    print(f"\nwrote {written.resolve()}", file=out)
    return 130 if df.attrs.get("interrupted") else 0


def _providers(out: TextIO) -> int:
    from ._catalog import providers

    table = providers()
    columns = ["provider", "model", "mode", "durations", "resolutions", "aspect_ratios", "images",
               "price", "reports_cost"]
    _print_frame(table[[c for c in columns if c in table.columns]], out)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 refused or misconfigured,
    2 bad arguments, 130 interrupted)."""
    from ._exceptions import GrokVidError

    parser = build_parser()
    args = parser.parse_args(argv)
    out, err = sys.stdout, sys.stderr
    try:
        if args.command == "providers":
            return _providers(out)
        if args.command in COMMANDS:
            def scale() -> contextlib.AbstractContextManager[None]:
                value = _sandbox_time_scale(None) if getattr(args, "sandbox", False) else None
                return _env(_TIME_SCALE_ENV, None if value is None else repr(value))

            return run_command(args, out, err, _print_frame, scale)
        return _compare(args, out, err)
    except GrokVidError as exc:  # budget refused, no key, ...: a message, not a traceback
        print(f"error: {exc}", file=err)
        return 1
    except (ValueError, TypeError) as exc:
        print(f"error: {exc}", file=err)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=err)
        return 130


if __name__ == "__main__":
    sys.exit(main())
