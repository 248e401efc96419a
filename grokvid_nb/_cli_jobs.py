"""The ledger and single-job commands of `python -m grokvid_nb`: `history`, `spend`, `resume`
and `generate` (the parser and the runner; `__main__` wires them in).

```
python -m grokvid_nb history [--provider xai] [--state succeeded] [--since 2026-11-30] [--prompt cat] [--to h.csv]
python -m grokvid_nb spend [--provider xai] [--since 2026-11-01] [--to spend.parquet]
python -m grokvid_nb resume [--timeout 600]
python -m grokvid_nb generate "a cat" --provider apixo [--image cat.png] [--duration 6] [--sandbox] [--max-cost 1]
```
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["add_commands", "run_command", "COMMANDS"]

#: The commands this module adds.
COMMANDS = ("history", "spend", "resume", "generate")
_HISTORY_SHOWN = ("created_at", "provider", "model", "mode", "state", "cost_usd", "cost_source",
                  "task_id", "latency_s", "url_status", "local_path")


def add_commands(sub: Any) -> None:
    """Add `history`, `spend`, `resume` and `generate` to the subparsers `sub`."""
    hist = sub.add_parser("history", help="print past jobs from the ledger (one row per job)")
    _filters(hist, state=True, prompt=True)
    spend = sub.add_parser("spend", help="print what the ledger's jobs cost, per day and provider")
    _filters(spend, state=False, prompt=False)
    res = sub.add_parser("resume", help="re-attach to unfinished jobs and wait for them")
    res.add_argument("--timeout", type=float, metavar="SECONDS",
                     help="stop waiting after this long (the jobs stay resumable)")
    gen = sub.add_parser("generate", help="generate one video and print where it is")
    gen.add_argument("prompt", help="the text prompt")
    gen.add_argument("--provider", default="xai", help="provider name (default xai)")
    gen.add_argument("--model")
    gen.add_argument("--mode", help="e.g. text-to-video, image-to-video")
    gen.add_argument("--image", action="append", metavar="PATH_OR_URL",
                     help="an image (local file, URL or data URI); repeat for several")
    gen.add_argument("--duration", type=int, metavar="SECONDS")
    gen.add_argument("--resolution", metavar="RES")
    gen.add_argument("--aspect-ratio", metavar="W:H")
    gen.add_argument("--no-reuse", action="store_true", help="pay again for an identical earlier job")
    gen.add_argument("--max-cost", type=float, metavar="USD",
                     help="refuse to send when the estimate is above this (gv.set_budget(total=USD))")
    gen.add_argument("--timeout", type=float, metavar="SECONDS", help="stop waiting after this long")
    gen.add_argument("--sandbox", action="store_true",
                     help="use the built-in emulator: no key, no network, no money")


def _filters(parser: argparse.ArgumentParser, *, state: bool, prompt: bool) -> None:
    parser.add_argument("--provider", action="append", metavar="NAME", help="only this provider (repeatable)")
    if state:
        parser.add_argument("--state", action="append", metavar="STATE", help="only this state (repeatable)")
    parser.add_argument("--since", metavar="DATE", help="only jobs from this ISO date/time on")
    if prompt:
        parser.add_argument("--prompt", metavar="TEXT", help="only prompts containing this text")
    parser.add_argument("--to", metavar="PATH", help="also write the table (.csv or .parquet)")


def run_command(args: argparse.Namespace, out: TextIO, err: TextIO,
                print_frame: Callable[[pd.DataFrame, TextIO], None], use_scale: Callable[[], Any]) -> int:
    """Run one of `COMMANDS`; returns the exit code."""
    if args.command == "history":
        from ._history import history

        df = history(provider=args.provider, state=args.state, since=args.since, prompt=args.prompt,
                     to=args.to)
        print_frame(df[list(_HISTORY_SHOWN)] if len(df) else df, out)
        _wrote(df, out)
        return 0
    if args.command == "spend":
        from ._history import spend

        df = spend(provider=args.provider, since=args.since, to=args.to)
        print_frame(df, out)
        totals = df.attrs["totals"]
        print(f"total: ${totals['known_usd']:.2f} known (reported ${totals['reported_usd']:.2f}, "
              f"estimated ${totals['estimated_usd']:.2f}, possibly charged "
              f"${totals['possibly_charged_usd']:.2f}); {totals['unknown_price_jobs']} job(s) "
              "of unknown price", file=out)
        _wrote(df, out)
        return 0
    if args.command == "resume":
        return _resume(args, out)
    with use_scale():
        return _generate(args, out, err)


def _wrote(df: pd.DataFrame, out: TextIO) -> None:
    if "path" in df.attrs:
        print(f"wrote {df.attrs['path']}", file=out)


def _resume(args: argparse.Namespace, out: TextIO) -> int:
    from ._api import resume

    jobs = resume()
    if not jobs:
        print("no unfinished jobs in the ledger", file=out)
        return 0
    for job in jobs:
        result = job.wait(args.timeout)
        print(f"{job.provider} {job.task_id}: {result.status.value} {result.video_url or result.error_message or ''}",
              file=out)
    return 0


def _generate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from ._budget import set_budget
    from ._client import Client
    from ._sandbox_mode import use_sandbox

    params: dict[str, Any] = {k: v for k, v in (
        ("duration", args.duration), ("resolution", args.resolution),
        ("aspect_ratio", args.aspect_ratio), ("model", args.model), ("mode", args.mode)) if v is not None}
    if args.image:
        params["image_urls"] = list(args.image)
    if args.sandbox:
        use_sandbox()
        print("sandbox: the provider is emulated in-process", file=err)
    previous = None
    try:
        if args.max_cost is not None:
            from ._budget import get_budget

            previous = get_budget()
            set_budget(total=args.max_cost)
        job = Client(args.provider).start(args.prompt, reuse=not args.no_reuse, **params)
        result = job.wait(args.timeout)
    finally:
        if previous is not None:
            set_budget(previous.total, previous.daily)
        if args.sandbox:
            use_sandbox(False)
    print(f"{result.status.value}: {result.provider} {result.model} task {result.task_id}", file=out)
    if result.ok:
        print(f"video: {result.video_url}", file=out)
        if job.local_path is not None:
            print(f"local copy: {job.local_path}", file=out)
        return 0
    print(f"error: {result.error_code or ''} {result.error_message or ''}".rstrip(), file=out)
    return 1
