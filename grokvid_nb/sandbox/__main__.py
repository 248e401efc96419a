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
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the sandbox server until interrupted."""
    args = parse_args(argv)
    if args.time_scale is not None:
        config = SandboxConfig(seed=args.seed, time_scale=args.time_scale)
    else:
        config = SandboxConfig(seed=args.seed)  # time scale from GROKVID_TIME_SCALE, else 1
    sandbox = Sandbox(config)
    try:
        sandbox.run(args.host, args.port)
    finally:
        sandbox.close()


if __name__ == "__main__":
    main()
