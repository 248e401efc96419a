"""Polling schedule benchmark: the adaptive schedule against the fixed 5 s loop the provider
pages teach, in the same run, against the sandbox served on loopback (real HTTP).

For every job it measures the detection delay (the moment the sandbox's task became done ->
the moment the client knew) and the number of status requests. Both strategies poll the same
kind of jobs at the same time, so the ratios compare like with like.

    python benchmarks/polling.py                 # full scale (about 4-5 minutes)
    python benchmarks/polling.py --scale 0.1     # a quick look; delays shown rescaled
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="time scale (1 = real provider timings)")
    parser.add_argument("--jobs", type=int, default=16, help="jobs per provider and strategy")
    parser.add_argument("--warmup", type=int, default=2,
                        help="first jobs per provider left out of the steady-state line")
    parser.add_argument("--providers", default="xai,apixo,pixazo,xingchao,apiinone")
    parser.add_argument("--stagger", type=float, default=8.0,
                        help="seconds (before scaling) between job starts, so later jobs can learn")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)

    os.environ["GROKVID_TIME_SCALE"] = str(args.scale)
    os.environ.setdefault("GROKVID_HOME", tempfile.mkdtemp(prefix="grokvid-bench-"))
    import grokvid_nb as gv
    from grokvid_nb._ratelimit import RateLimiter
    from grokvid_nb.sandbox import Sandbox, SandboxConfig

    providers = [p.strip() for p in args.providers.split(",") if p.strip()]
    sandbox = Sandbox(SandboxConfig(time_scale=args.scale, seed=2026, scale_rate_limits=True))
    learned_at: dict[str, float] = {}
    lock = threading.Lock()

    def on_change(job: "gv.Job") -> None:
        if job.done():
            with lock:
                learned_at.setdefault(job.job_id, time.time())

    jobs: list[tuple[str, int, "gv.Job"]] = []
    with sandbox.serve(host="127.0.0.1", port=0) as url:
        clients = {
            (p, strategy): gv.Client(p, api_key=f"bench-{strategy}", base_url=url,
                                     poll_interval=5.0 * args.scale if strategy == "fixed-5s" else None)
            for p in providers for strategy in ("fixed-5s", "adaptive")
        }
        # each strategy gets its own account-sized rate limit (its own key, its own client-side
        # limiter), so the baseline's requests never eat into xAI's 1 request/s of the other
        for client in clients.values():
            client.limiter = RateLimiter(client.limiter.limits)
        print(f"sandbox on {url}; {args.jobs} jobs x {len(providers)} providers x 2 strategies, "
              f"scale {args.scale:g}", file=sys.stderr)
        for i in range(args.jobs):
            for (p, strategy), client in clients.items():
                job = client.start(f"benchmark clip {i} [sandbox:succeed]", reuse=False,
                                   sample_index=i)
                job.add_listener(on_change)
                jobs.append((strategy, i, job))
            time.sleep(args.stagger * args.scale)
        for _strategy, _i, job in jobs:
            job.wait(timeout=900 * max(args.scale, 0.05))
        tasks = {t.task_id: t for t in sandbox.stats.tasks}

    rows: dict[tuple[str, str], dict[str, list[float]]] = {}
    for strategy, index, job in jobs:
        task = tasks.get(job.task_id or "")
        if task is None or job.job_id not in learned_at:
            continue
        delay = (learned_at[job.job_id] - task.finished_at) / args.scale
        keys = [(job.provider, strategy), ("ALL", strategy)]
        if index >= args.warmup:
            keys.append(("STEADY", strategy))
        for key in keys:
            bucket = rows.setdefault(key, {"delay": [], "polls": []})
            bucket["delay"].append(delay)
            bucket["polls"].append(job.polls)

    report = []
    header = f"{'provider':<10} {'strategy':<9} {'n':>3} {'median delay s':>15} {'p95 delay s':>12} {'polls/job':>10}"
    print(header)
    print("-" * len(header))
    for provider in [*providers, "ALL", "STEADY"]:
        for strategy in ("fixed-5s", "adaptive"):
            b = rows.get((provider, strategy))
            if not b:
                continue
            entry = {"provider": provider, "strategy": strategy, "n": len(b["delay"]),
                     "median_delay_s": statistics.median(b["delay"]),
                     "p95_delay_s": _quantile(b["delay"], 0.95),
                     "polls_per_job": statistics.mean(b["polls"])}
            report.append(entry)
            print(f"{provider:<10} {strategy:<9} {entry['n']:>3} {entry['median_delay_s']:>15.2f} "
                  f"{entry['p95_delay_s']:>12.2f} {entry['polls_per_job']:>10.2f}")
    base = {e["provider"]: e for e in report if e["strategy"] == "fixed-5s"}
    print()
    print("adaptive / fixed-5s ratios (status requests; median delay):")
    verdict = verdict_all = False
    for e in report:
        if e["strategy"] != "adaptive" or e["provider"] not in base:
            continue
        b = base[e["provider"]]
        polls_ratio = e["polls_per_job"] / b["polls_per_job"]
        delay_ratio = e["median_delay_s"] / b["median_delay_s"] if b["median_delay_s"] else float("nan")
        e["polls_ratio"], e["delay_ratio"] = polls_ratio, delay_ratio
        print(f"  {e['provider']:<10} requests x{polls_ratio:.2f}   median delay x{delay_ratio:.2f}")
        if e["provider"] == "ALL":
            verdict_all = e["median_delay_s"] <= 1.0 and polls_ratio <= 0.40
        if e["provider"] == "STEADY":
            verdict = e["median_delay_s"] <= 1.0 and polls_ratio <= 0.40
    print()
    print("target: median detection delay <= 1 s at full scale with <= 40 % of the fixed loop's requests")
    print(f"  every job (incl. the first {args.warmup} per provider, before anything is learned): "
          f"{'MET' if verdict_all else 'NOT MET'}")
    print(f"  steady state (after the first {args.warmup} per provider): {'MET' if verdict else 'NOT MET'}")
    if args.scale != 1.0:
        print("  (not at full scale: loopback overheads are magnified by 1/scale in these delays)")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
