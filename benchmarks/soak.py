"""Soak benchmark (issue 14): many jobs against the sandbox served by uvicorn in another
process, with every fault kind injected at once, and a second process sharing the ledger that
sends half of the same requests while the first is running.

    python benchmarks/soak.py --jobs 1000 --scale 0.05

Printed: terminal states per process, duplicate tasks (the sandbox created more than one task
for one request), lost task ids (a task the sandbox created whose id is neither in the ledger
nor flagged by its job as "reply lost, may have been charged"), jobs not terminal, peak memory
and peak thread count of each client process. The target: all terminal, zero duplicates, zero
lost. Not a test: it takes minutes; record a run in benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PROVIDERS = ("xai", "apixo", "pixazo", "xingchao", "apiinone")
KEYS = {p: f"sk-soak-{p}-0123456789" for p in PROVIDERS}

SERVER = textwrap.dedent("""
    import json, sys, threading, time
    from grokvid_nb.sandbox import Sandbox, SandboxConfig
    from grokvid_nb.sandbox._core import FAULTS
    port, scale, seed, times, stats_path = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    sandbox = Sandbox(SandboxConfig(time_scale=scale, seed=seed, scale_rate_limits=True))
    for phase in ("submit", "poll", "download"):
        for fault in FAULTS:
            if fault == "lost_reply" and phase != "submit":
                continue
            sandbox.inject("*", phase, fault, times=times, retry_after=1)
    def dump():
        while True:
            stats = sandbox.stats
            tasks = [(t.provider, t.spec.prompt, t.task_id) for t in list(stats.tasks)]
            data = {"tasks": tasks, "submits": dict(stats.submits), "polls": dict(stats.polls),
                    "faults": sum(stats.faults.values()), "pending_faults": len(sandbox.pending_faults())}
            with open(stats_path + ".tmp", "w") as out:
                json.dump(data, out)
            import os
            os.replace(stats_path + ".tmp", stats_path)
            time.sleep(2.0)
    threading.Thread(target=dump, daemon=True).start()
    sandbox.run("127.0.0.1", port)
""")

WORKER = textwrap.dedent("""
    import json, resource, sys, threading, time, grokvid_nb as gv
    url, n, stride, offset, delay = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
    keys, deadline_s = json.loads(sys.argv[6]), float(sys.argv[7])
    providers = ["xai", "apixo", "pixazo", "xingchao", "apiinone"]
    clients = {p: gv.Client(p, api_key=keys[p], base_url=url, deadline_s=deadline_s) for p in providers}
    time.sleep(delay)
    peak_threads = threading.active_count()
    jobs = []
    for i in range(offset, n, stride):
        p = providers[i % 5]
        latency = 20 + (i * 37) % 100  # provider seconds, scaled by the sandbox
        try:
            jobs.append(clients[p].start(f"soak job {i} [sandbox:latency={latency}]"))
        except gv.GrokVidError as exc:
            print("start failed:", exc, file=sys.stderr)
        peak_threads = max(peak_threads, threading.active_count())
    deadline = time.monotonic() + 900
    while any(not j.done() for j in jobs) and time.monotonic() < deadline:
        peak_threads = max(peak_threads, threading.active_count())
        time.sleep(0.5)
    states = {}
    for j in jobs:
        r = j.result_nowait()
        key = r.status.value if r is not None else "not terminal"
        states[key] = states.get(key, 0) + 1
    print(json.dumps({"jobs": len(jobs), "states": states, "reused": sum(j.reused for j in jobs),
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "peak_threads": peak_threads}), flush=True)
""")


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    """Block until something listens on `port`."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the sandbox did not start")


def analyse(stats: dict[str, Any], ledger_path: Path) -> dict[str, Any]:
    """Duplicates, lost task ids and non-terminal rows, from the sandbox's tasks and the ledger."""
    from grokvid_nb._ledger import Ledger
    from grokvid_nb._types import TERMINAL_STATES

    rows = Ledger(ledger_path).all()
    terminal = {s.value for s in TERMINAL_STATES}
    per_request = collections.Counter((p, prompt) for p, prompt, _t in stats["tasks"])
    duplicates = sum(count - 1 for count in per_request.values() if count > 1)
    known_ids = {(r.provider, r.task_id) for r in rows if r.task_id}
    flagged = {(r.provider, r.prompt) for r in rows if r.error_code == "submit_reply_lost"}
    lost = [(p, prompt, t) for p, prompt, t in stats["tasks"]
            if (p, t) not in known_ids and (p, prompt) not in flagged]
    states = collections.Counter(r.state for r in rows)
    codes = collections.Counter(r.error_code for r in rows if r.error_code)
    return {"ledger_rows": len(rows), "ledger_states": dict(states), "error_codes": dict(codes),
            "not_terminal": sum(r.state not in terminal for r in rows),
            "tasks_created": len(stats["tasks"]), "duplicate_tasks": duplicates,
            "lost_task_ids": len(lost), "reply_lost_flagged": len(flagged),
            "faults_fired": stats["faults"], "faults_left": stats["pending_faults"]}


def main() -> int:
    """Run the soak and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--scale", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--deadline", type=float, default=600.0,
                        help="each job's deadline in seconds (default 600: the emulator, on one core, is the bottleneck)")
    parser.add_argument("--fault-times", type=int, default=None,
                        help="how many requests each fault kind hits, per phase (default jobs/50)")
    args = parser.parse_args()
    if args.fault_times is None:
        args.fault_times = max(1, args.jobs // 50)
    home = Path(tempfile.mkdtemp(prefix="grokvid-soak-"))
    env = {**os.environ, "GROKVID_HOME": str(home), "GROKVID_TIME_SCALE": repr(args.scale)}
    port, stats_path = free_port(), home / "sandbox-stats.json"
    started = time.monotonic()
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(port), repr(args.scale), str(args.seed),
                               str(args.fault_times), str(stats_path)], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port)
        url = f"http://127.0.0.1:{port}"
        workers = {
            "first": subprocess.Popen([sys.executable, "-c", WORKER, url, str(args.jobs), "1", "0", "0",
                                       json.dumps(KEYS), repr(args.deadline)], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True),
            # the second process sends every other request again, while the first is submitting
            "second": subprocess.Popen([sys.executable, "-c", WORKER, url, str(args.jobs), "2", "0", "2.0",
                                        json.dumps(KEYS), repr(args.deadline)], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True),
        }
        reports = {}
        for name, proc in workers.items():
            out, _ = proc.communicate(timeout=1800)
            reports[name] = json.loads(out.strip().splitlines()[-1])
        time.sleep(2.5)  # the last stats dump
        stats = json.loads(stats_path.read_text())
    finally:
        server.terminate()
        server.wait(10)
    wall = time.monotonic() - started
    figures = analyse(stats, home / "ledger.sqlite3")
    print(f"soak: {args.jobs} jobs x 5 providers' sandbox (uvicorn, another process), scale {args.scale}, "
          f"every fault kind x {args.fault_times} per phase, deadline {args.deadline:g} s; {platform.machine()} {os.cpu_count()} cores, "
          f"Python {platform.python_version()}; wall {wall:.1f} s")
    for name, report in reports.items():
        print(f"  {name:6} process: {report['jobs']} jobs, states {report['states']}, reused {report['reused']}, "
              f"peak RSS {report['peak_rss_mb']:.0f} MB, peak threads {report['peak_threads']}")
    for key, value in figures.items():
        print(f"  {key}: {value}")
    ok = figures["not_terminal"] == 0 and figures["duplicate_tasks"] == 0 and figures["lost_task_ids"] == 0 \
        and all("not terminal" not in r["states"] for r in reports.values())
    print("target (all terminal, zero duplicates, zero lost):", "MET" if ok else "MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
