"""Scale benchmarks: fan-out, kernel responsiveness, import time, notebook weight.

Each figure is measured beside a baseline in the same run:

    python benchmarks/scale.py fanout --jobs 1000 --scale 0.04   # grokvid vs bare httpx + adapters
    python benchmarks/scale.py fanout --jobs 3000 --scale 0.04 --arms grokvid
    python benchmarks/scale.py kernel --jobs 500                 # cell round trip, 500 jobs vs none
    python benchmarks/scale.py imports                           # import grokvid_nb vs httpx, pandas
    python benchmarks/scale.py notebooks                         # bytes of each saved demo notebook

fanout: the sandbox runs in ANOTHER process (`python -m grokvid_nb.sandbox --port P
--time-scale S --scale-rate-limits`, uvicorn). N jobs, spread evenly over the five providers,
each with a latency drawn in its provider's documented range (`[sandbox:latency=X]`, so the
slowest job is known) are started at once from a fresh client process per arm:

- grokvid: `gv.Client(p, base_url=...).start(...)` for every job, then `job.result()`, with
           `GROKVID_KEEP_LOCAL=0` (the baseline downloads nothing either); `grokvid+keep` also
           keeps a local copy of every clip (the notebook default; the sandbox then encodes one
           clip per job, which costs the emulator far more than the client), `grokvid@N` caps
           the requests in flight per client at N (`GROKVID_MAX_IN_FLIGHT`), `grokvid~httpcore`
           sends over httpx's own transport instead of the engine's aiohttp wire
           (`GROKVID_HTTP_BACKEND`);
- httpx:   the same adapters (build/parse) on bare `httpx.AsyncClient` + asyncio, 20 requests
           in flight, every job polling at a fixed 5 s (scaled), retrying 429s: the least a
           client can do for the same jobs, without schedule, ledger, limiter or threads.

Reported per arm: success count, the time until the last submit was answered, wall time (first
submit to last job seen done) against the ideal (the last job's true end: its accepted time +
its latency; the slowest latency is 240 provider seconds, 240 x scale), client CPU (user+sys of the
client process) per request (submits + status requests + downloads), CPU seconds by thread,
peak RSS growth over the run, status requests per job. `GROKVID_SCALE_PROFILE=cpu:N` (or
`wall:N`) also prints a cProfile of the engine thread: share by package and the top N functions.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PROVIDERS = ("xai", "apixo", "pixazo", "xingchao", "apiinone")
#: documented completion ranges of a 6 s clip in provider seconds (PROVIDERS.md)
DOC_RANGE = {"xai": (20.0, 60.0), "apixo": (40.0, 60.0), "pixazo": (15.0, 110.0),
             "xingchao": (120.0, 240.0), "apiinone": (30.0, 60.0)}


def machine() -> str:
    """The machine line recorded with every result."""
    return f"nproc {os.cpu_count()}, Python {platform.python_version()}, {platform.machine()}"


def quantile(values: list[float], q: float) -> float:
    """The q-quantile (nearest rank) of values."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def plan(n: int, seed: int) -> list[tuple[str, str, float]]:
    """(provider, prompt, latency in provider seconds) of each job, the same for every arm."""
    rng = random.Random(seed)
    jobs = []
    for i in range(n):
        provider = PROVIDERS[i % len(PROVIDERS)]
        low, high = DOC_RANGE[provider]
        latency = round(rng.uniform(low, high), 1)
        jobs.append((provider, f"scale clip {i} [sandbox:succeed] [sandbox:latency={latency}]", latency))
    return jobs


# ---- the sandbox in its own process ---------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SandboxProcess:
    """`python -m grokvid_nb.sandbox` in a child process, for the length of a `with`."""

    def __init__(self, scale: float, seed: int) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.args = [sys.executable, "-m", "grokvid_nb.sandbox", "--port", str(self.port),
                     "--time-scale", str(scale), "--seed", str(seed), "--scale-rate-limits"]
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> str:
        self.proc = subprocess.Popen(self.args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        end = time.monotonic() + 30
        while time.monotonic() < end:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self.url
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the sandbox did not start")

    def __exit__(self, *exc: object) -> None:
        assert self.proc is not None
        self.proc.terminate()
        self.proc.wait(10)


# ---- the client side, run in a fresh process per arm ------------------------------------------
class Sampler:
    """Peak RSS growth of this process over the run. On Linux the kernel keeps the peak
    (`VmHWM`, reset at the start through `/proc/self/clear_refs`), so nothing samples and the
    harness adds no CPU to the client's; elsewhere a thread samples RSS every 20 ms (which
    cost about 0.18 s of CPU in a 30 s run, counted in the client's CPU)."""

    def __init__(self) -> None:
        self.base = self._rss()
        self._thread: threading.Thread | None = None
        try:
            with open("/proc/self/clear_refs", "w") as refs:
                refs.write("5")  # the peak starts again from the current RSS
            self._kernel_peak = self._status("VmHWM") is not None
        except OSError:
            self._kernel_peak = False
        if self._kernel_peak:
            return
        import psutil

        self.proc = psutil.Process()
        self.peak = self.base
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    @staticmethod
    def _status(field: str) -> int | None:
        try:
            with open("/proc/self/status") as status:
                for line in status:
                    if line.startswith(field + ":"):
                        return int(line.split()[1]) * 1024
        except OSError:
            pass
        return None

    def _rss(self) -> int:
        rss = self._status("VmRSS")
        if rss is not None:
            return rss
        import psutil

        return int(psutil.Process().memory_info().rss)

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self.proc.memory_info().rss)

    def stop(self) -> float:
        """Peak growth in MB."""
        if self._kernel_peak:
            return ((self._status("VmHWM") or self.base) - self.base) / 1e6
        assert self._thread is not None
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.proc.memory_info().rss)
        return (self.peak - self.base) / 1e6


def cpu_s() -> float:
    times = os.times()
    return times.user + times.system


class EngineProfiler:
    """cProfile on the engine thread for the run, when `GROKVID_SCALE_PROFILE` is `cpu:N` (the
    thread's CPU time) or `wall:N` (wall time: shows where the loop blocks); prints the top N
    functions by own time and the share per package to stderr."""

    def __init__(self, spec: str) -> None:
        self.prof = None
        if not spec:
            return
        import cProfile

        from grokvid_nb import _loop

        clock, _, top = spec.partition(":")
        self.top = int(top or 30)
        self.prof = cProfile.Profile(time.thread_time if clock == "cpu" else time.perf_counter)

        async def on() -> None:
            self.prof.enable()

        _loop.run_sync(on())

    def report(self, out: Any) -> None:
        if self.prof is None:
            return

        from grokvid_nb import _loop

        async def off() -> None:
            self.prof.disable()

        _loop.run_sync(off())
        sys.path.insert(0, str(ROOT / "benchmarks"))
        from http_cpu import profile_text

        print(profile_text(self.prof, self.top), file=out)


def child_grokvid(url: str, n: int, scale: float, seed: int) -> dict[str, Any]:
    os.environ["GROKVID_TIME_SCALE"] = str(scale)
    os.environ["GROKVID_HOME"] = tempfile.mkdtemp(prefix="grokvid-scale-")
    import grokvid_nb as gv

    jobs_plan = plan(n, seed)
    interval = float(os.environ.get("SCALE_POLL_INTERVAL", "0")) or None  # None: adaptive
    clients = {p: gv.Client(p, api_key="bench", base_url=url, poll_interval=interval) for p in PROVIDERS}
    clients["xai"].http()  # warm imports the engine does lazily (not part of the run)
    profiler = EngineProfiler(os.environ.get("GROKVID_SCALE_PROFILE", ""))
    from grokvid_nb import _loop

    async def engine_cpu() -> float:
        return time.thread_time()

    sampler = Sampler()
    cpu0, wall0, t0 = cpu_s(), time.time(), time.monotonic()
    engine0, main0 = _loop.run_sync(engine_cpu()), time.thread_time()
    jobs = [clients[p].start(prompt, reuse=False) for p, prompt, _ in jobs_plan]
    start_cpu = time.thread_time() - main0
    for job in jobs:
        job.wait(timeout=600)
    wall = time.monotonic() - t0
    cpu = cpu_s() - cpu0
    engine = _loop.run_sync(engine_cpu()) - engine0
    main = time.thread_time() - main0
    growth = sampler.stop()
    profiler.report(sys.stderr)
    ledger = clients["xai"].ledger
    accepted = {row.job_id: row.accepted_at for row in ledger.all()}
    ends = [accepted[job.job_id] + lat * scale for job, (_, _, lat) in zip(jobs, jobs_plan)
            if accepted.get(job.job_id)]
    polls = sum(job.polls for job in jobs)
    downloads = sum(job.local_path is not None for job in jobs)
    submits = max(v for v in accepted.values() if v) - wall0
    return {"ok": sum(job.state.value == "succeeded" for job in jobs), "n": n, "wall": wall, "submits": submits,
            "ideal": max(ends) - wall0 if ends else float("nan"), "cpu": cpu, "polls": polls,
            "requests": polls + n + downloads, "downloads": downloads, "mem_mb": growth,
            "threads": {"engine": engine, "main (start)": start_cpu, "main (rest)": main - start_cpu,
                        "others": cpu - engine - main},
            "states": dict(sorted({s: sum(j.state.value == s for j in jobs) for s in
                                   {j.state.value for j in jobs}}.items()))}


def child_httpx(url: str, n: int, scale: float, seed: int) -> dict[str, Any]:
    import httpx

    from grokvid_nb._secrets import Secret
    from grokvid_nb.adapters import get_adapter

    jobs_plan = plan(n, seed)
    key = Secret("bench-httpx")
    adapters = {p: get_adapter(p) for p in PROVIDERS}
    requests = {"count": 0, "polls": 0}
    accepted: list[float] = []
    answered: list[float] = []

    async def run() -> list[bool]:
        gate = asyncio.Semaphore(20)
        limits = httpx.Limits(max_connections=40, max_keepalive_connections=20)
        async with httpx.AsyncClient(limits=limits, timeout=30.0) as http:
            async def send(request: httpx.Request) -> httpx.Response:
                async with gate:
                    requests["count"] += 1
                    return await http.send(request)

            async def one(provider: str, prompt: str, latency: float) -> bool:
                adapter = adapters[provider]
                vr = adapter.validate(prompt)
                while True:
                    reply = await send(adapter.build_submit(vr, url, key))
                    if reply.status_code == 429:
                        await asyncio.sleep(float(reply.headers.get("retry-after", 1)) * scale)
                        continue
                    task_id = adapter.parse_submit(reply)
                    break
                answered.append(time.time())
                accepted.append(time.time() + latency * scale)
                while True:
                    await asyncio.sleep(5.0 * scale * random.uniform(0.95, 1.05))
                    reply = await send(adapter.build_poll(task_id, url, key))
                    requests["polls"] += 1
                    if reply.status_code >= 400:
                        continue
                    status = adapter.parse_poll(reply)
                    if status.state.terminal:
                        return status.state.value == "succeeded"

            return await asyncio.gather(*(one(p, prompt, lat) for p, prompt, lat in jobs_plan))

    sampler = Sampler()
    cpu0, wall0, t0 = cpu_s(), time.time(), time.monotonic()
    ok = asyncio.run(run())
    wall = time.monotonic() - t0
    cpu = cpu_s() - cpu0
    growth = sampler.stop()
    return {"ok": sum(ok), "n": n, "wall": wall, "submits": max(answered) - wall0,
            "ideal": max(accepted) - wall0, "cpu": cpu,
            "polls": requests["polls"], "requests": requests["count"], "mem_mb": growth, "states": {}}


def fanout(args: argparse.Namespace) -> int:
    print(f"fanout: {args.jobs} jobs over {len(PROVIDERS)} providers, time scale {args.scale}, "
          f"seed {args.seed}, sandbox in another process (uvicorn); {machine()}; "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    header = (f"{'arm':<16} {'ok':>11} {'submits s':>9} {'wall s':>7} {'ideal s':>8} {'wall/ideal':>10} {'CPU s':>6} "
              f"{'CPU ms/req':>10} {'peak MB':>8} {'status req/job':>14}")
    rows = {}
    intervals = [float(x) for x in args.poll_interval.split(",") if x.strip()] or [0.0]
    with SandboxProcess(args.scale, args.seed) as url:
        for interval in intervals:
            for arm in args.arms.split(","):
                if interval and not arm.startswith("grokvid"):
                    continue
                env = {**os.environ, "SCALE_POLL_INTERVAL": str(interval)}
                out = subprocess.run([sys.executable, __file__, "_child", arm, url, str(args.jobs),
                                      str(args.scale), str(args.seed)], cwd=ROOT, capture_output=True,
                                     text=True, timeout=1800, env=env)
                if out.returncode != 0:
                    print(out.stderr[-3000:])
                    return 1
                if os.environ.get("GROKVID_SCALE_PROFILE"):
                    print(f"---- profile of the {arm} arm's engine thread ----\n{out.stderr}")
                rows[f"{arm}/{interval:g}s" if interval else arm] = json.loads(out.stdout.strip().splitlines()[-1])
    print(header)
    print("-" * len(header))
    for arm, r in rows.items():
        print(f"{arm:<16} {r['ok']:>5}/{r['n']:<5} {r['submits']:>9.2f} {r['wall']:>7.2f} {r['ideal']:>8.2f} "
              f"{r['wall'] / r['ideal']:>10.3f} {r['cpu']:>6.2f} {1000 * r['cpu'] / r['requests']:>10.3f} "
              f"{r['mem_mb']:>8.1f} {r['polls'] / r['n']:>14.2f}")
        if r.get("threads"):
            print("         CPU s by thread: " + ", ".join(f"{k} {v:.2f}" for k, v in r["threads"].items()))
        if r["states"] and r["ok"] != r["n"]:
            print(f"         states: {r['states']}")
    if len(intervals) >= 2:  # CPU = per job + per status request x requests: the slope between two runs
        lo, hi = f"{intervals[0]:g}s", f"{intervals[-1]:g}s"
        for arm in [a for a in args.arms.split(",") if a.startswith("grokvid")]:
            a, b = rows[f"{arm}/{lo}"], rows[f"{arm}/{hi}"]
            slope = (b["cpu"] - a["cpu"]) / (b["polls"] - a["polls"])
            per_job = (a["cpu"] - slope * a["polls"]) / a["n"]
            print(f"{arm}: one more status request costs {1000 * slope:.3f} ms of client CPU (every "
                  f"{lo} vs every {hi}); each job's own share (submit, ledger, schedule, end) {1000 * per_job:.2f} ms")
    if {"grokvid", "httpx"} <= rows.keys():  # ratios of the engine over the least a client can do
        g, h = rows["grokvid"], rows["httpx"]
        print(f"ratios grokvid/httpx: CPU per request {(g['cpu'] / g['requests']) / (h['cpu'] / h['requests']):.2f}, "
              f"status requests {g['polls'] / max(1, h['polls']):.2f}, peak memory "
              f"{g['mem_mb'] / max(0.1, h['mem_mb']):.2f}, wall {g['wall'] / h['wall']:.2f}")
    if "grokvid" in rows:
        g = rows["grokvid"]
        print(f"targets: all succeed {'met' if g['ok'] == g['n'] else 'MISSED'}; wall within 5 % of the "
              f"slowest job's end {'met' if g['wall'] <= 1.05 * g['ideal'] else 'MISSED'} "
              f"({100 * (g['wall'] / g['ideal'] - 1):+.1f} %); CPU per request < 1 ms "
              f"{'met' if g['cpu'] / g['requests'] < 0.001 else 'MISSED'}; peak memory growth < 50 MB "
              f"{'met' if g['mem_mb'] < 50 else 'MISSED'}")
    return 0


# ---- kernel responsiveness -------------------------------------------------------------------
KERNEL_SETUP = """
import os, tempfile
os.environ["GROKVID_HOME"] = tempfile.mkdtemp(prefix="grokvid-kernel-")
import grokvid_nb as gv
gv.use_sandbox(time_scale={scale})
jobs = [gv.Client(p).start(f"kernel bench {{i}} [sandbox:succeed]", reuse=False)
        for i in range({jobs}) for p in [{providers!r}[i % 5]]]
"""


def round_trips(kc: Any, count: int) -> list[float]:
    times = []
    for _ in range(count):
        t0 = time.perf_counter()
        reply = kc.execute_interactive("1", timeout=60, output_hook=lambda msg: None)
        times.append(time.perf_counter() - t0)
        assert reply["content"]["status"] == "ok"
        time.sleep(0.02)
    return times


def kernel(args: argparse.Namespace) -> int:
    from jupyter_client.manager import start_new_kernel

    print(f"kernel: round trip of the cell `1` in a real ipykernel (jupyter_client), {args.count} "
          f"times, with no jobs and with {args.jobs} jobs polling (in-process sandbox, time scale "
          f"{args.scale}); {machine()}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    results = {}
    for label, jobs in (("none", 0), (f"{args.jobs} jobs", args.jobs)):
        km, kc = start_new_kernel(kernel_name="python3", cwd=str(ROOT))
        try:
            setup = KERNEL_SETUP.format(scale=args.scale, jobs=jobs, providers=PROVIDERS)
            reply = kc.execute_interactive(setup, timeout=300, output_hook=lambda msg: None)
            assert reply["content"]["status"] == "ok", reply["content"]
            round_trips(kc, 5)  # warm-up
            times = round_trips(kc, args.count)
            if jobs:
                check = kc.execute_interactive(
                    "print(sum(not j.done() for j in jobs))", timeout=60,
                    output_hook=lambda msg: results.setdefault("pending", msg["content"].get("text", "").strip())
                    if msg["msg_type"] == "stream" else None)
                assert check["content"]["status"] == "ok"
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=True)
        results[label] = times
    print(f"{'jobs':<10} {'median ms':>10} {'p95 ms':>8} {'max ms':>8}")
    for label, times in results.items():
        if label == "pending":
            continue
        ms = [1000 * t for t in times]
        print(f"{label:<10} {statistics.median(ms):>10.1f} {quantile(ms, 0.95):>8.1f} {max(ms):>8.1f}")
    base = [1000 * t for t in results["none"]]
    busy = [1000 * t for t in results[f"{args.jobs} jobs"]]
    added = quantile(busy, 0.95) - quantile(base, 0.95)
    print(f"jobs still polling at the end of the measurement: {results.get('pending')}")
    print(f"p95 added by {args.jobs} polling jobs: {added:.1f} ms (target < 50 ms: "
          f"{'met' if added < 50 else 'MISSED'})")
    return 0


# ---- imports and notebooks ---------------------------------------------------------------------
def imports(args: argparse.Namespace) -> int:
    print(f"imports: fresh interpreter each, best and median of {args.count}; {machine()}; "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    snippets = {"import httpx, pandas": "import httpx, pandas",
                "import grokvid_nb": "import grokvid_nb",
                "import grokvid_nb.sandbox": "import grokvid_nb.sandbox"}
    heavy = ("pandas", "numpy", "av", "uvicorn", "matplotlib", "IPython", "ipywidgets", "starlette", "PIL")
    probe = "import sys, time; t=time.perf_counter(); {code}; dt=time.perf_counter()-t; " \
            "print(dt, ','.join(m for m in {heavy!r} if m in sys.modules))"
    baseline = None
    print(f"{'statement':<28} {'best ms':>8} {'median ms':>10} {'vs httpx+pandas':>16}  heavy modules loaded")
    for label, code in snippets.items():
        times, loaded = [], ""
        for _ in range(args.count):
            out = subprocess.run([sys.executable, "-c", probe.format(code=code, heavy=heavy)], cwd=ROOT,
                                 capture_output=True, text=True, check=True)
            dt, loaded = out.stdout.split()[0], (out.stdout.split() + [""])[1]
            times.append(1000 * float(dt))
        best, med = min(times), statistics.median(times)
        baseline = baseline or med
        print(f"{label:<28} {best:>8.1f} {med:>10.1f} {med / baseline:>16.2f}  {loaded or '-'}")
    return 0


def notebooks(args: argparse.Namespace) -> int:
    import nbformat
    from nbclient import NotebookClient

    print(f"notebooks: bytes of each demo notebook as committed (no outputs) and after running it "
          f"top to bottom in a fresh kernel (nbclient, the sandbox it turns on) and saving; {machine()}; "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(f"{'notebook':<40} {'committed':>10} {'executed':>10} {'outputs':>10}  largest output")
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        with tempfile.TemporaryDirectory() as home:
            env_before = os.environ.get("GROKVID_HOME")
            os.environ["GROKVID_HOME"] = home
            try:
                NotebookClient(nb, timeout=300, kernel_name="python3",
                               resources={"metadata": {"path": str(path.parent)}}).execute()
            finally:
                if env_before is None:
                    os.environ.pop("GROKVID_HOME", None)
                else:
                    os.environ["GROKVID_HOME"] = env_before
            out = Path(home) / path.name
            nbformat.write(nb, out)
            executed = out.stat().st_size
        sizes = [len(json.dumps(o)) for c in nb.cells for o in c.get("outputs", [])]
        kinds = sorted({k for c in nb.cells for o in c.get("outputs", []) for k in o.get("data", {})})
        print(f"{path.name:<40} {path.stat().st_size:>10,} {executed:>10,} {sum(sizes):>10,}  "
              f"{max(sizes, default=0):,} ({', '.join(kinds)})")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_child":
        arm, url, n, scale, seed = argv[1:6]
        # the baseline downloads nothing: neither does the grokvid arm, unless it is "+keep"
        # (a kept local copy of every clip, the default in a notebook)
        os.environ["GROKVID_KEEP_LOCAL"] = "1" if "+keep" in arm else "0"
        if "@" in arm:  # another in-flight cap
            os.environ["GROKVID_MAX_IN_FLIGHT"] = arm.split("@")[1].split("+")[0].split("~")[0]
        if "~" in arm:  # another wire: grokvid~httpcore is httpx's own transport
            os.environ["GROKVID_HTTP_BACKEND"] = arm.split("~")[1]
        child = child_grokvid if arm.startswith("grokvid") else child_httpx
        print(json.dumps(child(url, int(n), float(scale), int(seed))))
        return 0
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="what", required=True)
    f = sub.add_parser("fanout")
    f.add_argument("--jobs", type=int, default=1000)
    f.add_argument("--scale", type=float, default=0.04)
    f.add_argument("--seed", type=int, default=2026)
    f.add_argument("--arms", default="grokvid,httpx")
    f.add_argument("--poll-interval", default="", help="grokvid arms poll every S seconds (comma list: "
                   "one run of each arm per value) instead of adaptively; two values give the CPU "
                   "one more status request costs (the slope), apart from each job's own")
    k = sub.add_parser("kernel")
    k.add_argument("--jobs", type=int, default=500)
    k.add_argument("--scale", type=float, default=0.05)
    k.add_argument("--count", type=int, default=100)
    i = sub.add_parser("imports")
    i.add_argument("--count", type=int, default=7)
    sub.add_parser("notebooks")
    args = parser.parse_args(argv)
    return {"fanout": fanout, "kernel": kernel, "imports": imports, "notebooks": notebooks}[args.what](args)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
