"""``python -m grokvid_nb.sandbox``: serve the five-provider emulator with uvicorn."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from ._config import SandboxConfig
from .app import Sandbox

__all__ = ["main", "parse_args"]


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m grokvid_nb.sandbox",
        description="Serve all five Grok video providers' APIs locally, with real MP4 clips.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 picks a free one)")
    parser.add_argument(
        "--time-scale",
        type=float,
        default=None,
        help="multiply every job latency by this (default: $GROKVID_TIME_SCALE or 1)",
    )
    parser.add_argument("--seed", type=int, default=None, help="seed for latencies and outcomes")
    parser.add_argument("--scale-rate-limits", action="store_true",
                        help="shrink rate-limit windows by the time scale too (default: real seconds)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the sandbox server until interrupted."""
    args = parse_args(argv)
    extra = {"time_scale": args.time_scale} if args.time_scale is not None else {}
    # without --time-scale: GROKVID_TIME_SCALE, else 1
    config = SandboxConfig(seed=args.seed, scale_rate_limits=args.scale_rate_limits, **extra)
    sandbox = Sandbox(config)
    try:
        sandbox.run(args.host, args.port)
    finally:
        sandbox.close()


if __name__ == "__main__":
    main()
