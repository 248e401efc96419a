"""Client CPU per status request: bare httpx against the engine's request path, focused.

    python benchmarks/http_cpu.py --requests 3000 --inflight 1,4,8,12,20
    python benchmarks/http_cpu.py --arms engine --inflight 20 --profile 25   # where the CPU goes

The sandbox runs in another process (uvicorn, loopback); every arm runs in a fresh client process
and sends the same status polls (tasks of all five providers that stay running for the whole
run), `inflight` at a time, and reads each reply with its provider's adapter. Reported: the
client process's CPU time (user+sys, every thread) per request, and wall time. Arms:

- httpx:   one `httpx.AsyncClient` per provider (pool = keep-alive = inflight + 4), an
           `asyncio.Semaphore(inflight)` shared by all, `await http.send(poll)`, `parse_poll`;
- httpx1:  the same with ONE `httpx.AsyncClient` for all five providers;
- engine:  `gv.Client(p, base_url=...)` per provider, `await client.send(poll, deadline=...,
           kind=POLL)` on the engine loop (rate limiter, in-flight gate, bounded read with its
           deadline and size cap), `parse_poll`; the cap is `GROKVID_MAX_IN_FLIGHT=inflight`;
           the engine's wire is aiohttp (`grokvid_nb/_aiohttp_transport.py`);
- engine~httpcore: the same over httpx's own transport (`GROKVID_HTTP_BACKEND=httpcore`).

CPU shown is measured only around the timed requests (after a warm-up of 200), so process
start-up, imports and the submits that create the tasks are not in it.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import os
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]  # this checkout's grokvid_nb, not an installed one

from scale import PROVIDERS, SandboxProcess, machine  # noqa: E402

TASKS_PER_PROVIDER = 4
WARMUP = 200


def make_tasks(url: str) -> list[tuple[str, str]]:
    """(provider, task id) of tasks that stay running for the whole run."""
    import httpx

    from grokvid_nb._secrets import Secret
    from grokvid_nb.adapters import get_adapter

    key = Secret("bench-http-cpu")
    tasks = []
    with httpx.Client(timeout=30) as http:
        for provider in PROVIDERS:
            adapter = get_adapter(provider)
            for i in range(TASKS_PER_PROVIDER):
                vr = adapter.validate(f"cpu bench {i} [sandbox:succeed] [sandbox:latency=100000]")
                for _ in range(20):
                    reply = http.send(adapter.build_submit(vr, url, key))
                    if reply.status_code != 429:
                        break
                    time.sleep(1.1)
                tasks.append((provider, adapter.parse_submit(reply)))
    return tasks


async def drive(inflight: int, count: int, tasks: list[tuple[str, str]], one: Any) -> None:
    """`count` calls of `one(provider, task_id)`, `inflight` at a time."""
    queue = iter(range(count))

    async def worker() -> None:
        for i in queue:
            provider, task_id = tasks[i % len(tasks)]
            await one(provider, task_id)

    await asyncio.gather(*(worker() for _ in range(inflight)))


def by_package(stats: pstats.Stats) -> str:
    """Share of the profiled CPU (own time of each function) per top-level package."""
    totals: dict[str, float] = {}
    for (filename, _, name), (_, _, tottime, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        if "site-packages/" in filename:
            package = filename.split("site-packages/")[1].split("/")[0]
        elif "/grokvid_nb/" in filename:
            package = "grokvid_nb." + filename.split("/grokvid_nb/")[1].split("/")[0].removesuffix(".py")
        elif filename == "~":
            package = "builtins: " + name.split(" of ")[0].strip("{}<>")[:40]
        elif "/lib/python3" in filename:
            package = "stdlib " + filename.split("/lib/python3")[1].split("/", 1)[1].split("/")[0].removesuffix(".py")
        else:
            package = filename
        totals[package] = totals.get(package, 0.0) + tottime
    whole = sum(totals.values()) or 1.0
    rows = sorted(totals.items(), key=lambda kv: -kv[1])[:25]
    return "\n".join(f"  {100 * t / whole:5.1f} %  {name}" for name, t in rows)


def profile_text(prof: cProfile.Profile, top: int) -> str:
    buf = io.StringIO()
    stats = pstats.Stats(prof, stream=buf)
    stats.sort_stats("tottime").print_stats(top)
    ours = io.StringIO()  # the engine's own entry points, with what they call
    pstats.Stats(prof, stream=ours).sort_stats("cumulative").print_stats("grokvid_nb", 25)
    return ("own CPU time by package:\n" + by_package(stats) + "\n" + buf.getvalue()
            + "\ngrokvid_nb functions by cumulative time:\n" + ours.getvalue().split("function calls")[-1])


def measure(run: Any, count: int, profile: int) -> dict[str, Any]:
    """Run `run(count)` (blocking) under the CPU clock, optionally profiled."""
    prof = cProfile.Profile(time.thread_time) if profile else None
    cpu0, t0 = time.process_time(), time.monotonic()
    if prof:
        prof.enable()
    run(count)
    if prof:
        prof.disable()
    cpu, wall = time.process_time() - cpu0, time.monotonic() - t0
    out: dict[str, Any] = {"cpu_ms": 1000 * cpu / count, "wall_s": wall, "count": count}
    if prof:
        out["profile"] = profile_text(prof, profile)
    return out


def child_httpx(url: str, inflight: int, count: int, profile: int, shared: bool) -> dict[str, Any]:
    import httpx

    from grokvid_nb._secrets import Secret
    from grokvid_nb.adapters import get_adapter

    tasks = make_tasks(url)
    key = Secret("bench-http-cpu")
    adapters = {p: get_adapter(p) for p in PROVIDERS}
    size = inflight + int(os.environ.get("HTTP_CPU_EXTRA", "4"))
    limits = httpx.Limits(max_connections=size, max_keepalive_connections=size)
    loop = asyncio.new_event_loop()

    async def setup() -> dict[str, httpx.AsyncClient]:
        if shared:
            one = httpx.AsyncClient(limits=limits, timeout=30.0)
            return {p: one for p in PROVIDERS}
        return {p: httpx.AsyncClient(limits=limits, timeout=30.0) for p in PROVIDERS}

    clients = loop.run_until_complete(setup())
    gate = asyncio.Semaphore(inflight)

    direct = os.environ.get("HTTP_CPU_DIRECT") == "1"  # the client's transport, not client.send

    async def one(provider: str, task_id: str) -> None:
        adapter = adapters[provider]
        async with gate:
            request = adapter.build_poll(task_id, url, key)
            if direct:
                request.extensions["timeout"] = {"connect": 30.0, "read": 30.0, "write": 30.0, "pool": 30.0}
                reply = await clients[provider]._transport.handle_async_request(request)
                await reply.aread()
            else:
                reply = await clients[provider].send(request)
        assert not adapter.parse_poll(reply).state.terminal

    def run(n: int) -> None:
        loop.run_until_complete(drive(inflight, n, tasks, one))

    run(WARMUP)
    return measure(run, count, profile)


def child_raw(url: str, inflight: int, count: int, profile: int) -> dict[str, Any]:
    """The machine's floor: asyncio streams, one kept-alive connection per worker, the request
    bytes built once per task, the reply's JSON parsed (no HTTP library at all)."""
    from urllib.parse import urlsplit

    from grokvid_nb._secrets import Secret
    from grokvid_nb.adapters import get_adapter

    tasks = make_tasks(url)
    key = Secret("bench-http-cpu")
    wire = {}
    for provider, task_id in tasks:
        request = get_adapter(provider).build_poll(task_id, url, key)
        head = [f"GET {request.url.raw_path.decode()} HTTP/1.1", f"Host: {request.url.netloc.decode()}"]
        head += [f"{k}: {v}" for k, v in request.headers.items() if k.lower() != "host"]
        wire[task_id] = ("\r\n".join(head) + "\r\n\r\n").encode()
    host, port = urlsplit(url).hostname, urlsplit(url).port
    loop = asyncio.new_event_loop()
    streams: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def connect() -> None:
        for _ in range(inflight):
            streams.append(await asyncio.open_connection(host, port))

    loop.run_until_complete(connect())

    async def drive_raw(n: int) -> None:
        queue = iter(range(n))

        async def worker(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            for i in queue:
                _, task_id = tasks[i % len(tasks)]
                writer.write(wire[task_id])
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
                body = json.loads(await reader.readexactly(length))
                assert isinstance(body, dict)

        await asyncio.gather(*(worker(r, w) for r, w in streams))

    def run(n: int) -> None:
        loop.run_until_complete(drive_raw(n))

    run(WARMUP)
    return measure(run, count, profile)


def child_engine(url: str, inflight: int, count: int, profile: int) -> dict[str, Any]:
    os.environ["GROKVID_MAX_IN_FLIGHT"] = str(inflight)
    os.environ["GROKVID_HOME"] = tempfile.mkdtemp(prefix="grokvid-http-cpu-")
    import grokvid_nb as gv

    assert Path(gv.__file__).resolve().is_relative_to(ROOT), gv.__file__
    from grokvid_nb import _loop
    from grokvid_nb._ratelimit import POLL, ROUTINE

    tasks = make_tasks(url)
    clients = {p: gv.Client(p, api_key="bench-http-cpu", base_url=url) for p in PROVIDERS}

    async def one(provider: str, task_id: str) -> None:
        client = clients[provider]
        adapter = client.adapter
        reply = await client.send(adapter.build_poll(task_id, client.endpoint, client.key),
                                  deadline=time.monotonic() + 60, priority=ROUTINE, kind=POLL)
        assert not adapter.parse_poll(reply).state.terminal

    def run(n: int) -> None:
        _loop.run_sync(drive(inflight, n, tasks, one))

    run(WARMUP)
    if not profile:
        return measure(run, count, 0)
    # the requests run on the engine thread: profile there
    prof = cProfile.Profile(time.thread_time)  # CPU of the engine thread, not wall

    async def on(flag: bool) -> None:
        prof.enable() if flag else prof.disable()

    _loop.run_sync(on(True))
    result = measure(run, count, 0)
    _loop.run_sync(on(False))
    result["profile"] = profile_text(prof, profile)
    return result


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_child":
        arm, url, inflight, count, profile = argv[1], argv[2], int(argv[3]), int(argv[4]), int(argv[5])
        if arm.startswith("engine"):
            if "~" in arm:  # engine~httpcore: the engine over httpx's own transport
                os.environ["GROKVID_HTTP_BACKEND"] = arm.split("~")[1]
            out = child_engine(url, inflight, count, profile)
        elif arm == "raw":
            out = child_raw(url, inflight, count, profile)
        else:
            out = child_httpx(url, inflight, count, profile, shared=arm == "httpx1")
        print(json.dumps(out))
        return 0
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--inflight", default="1,4,8,12,20")
    parser.add_argument("--arms", default="httpx,engine")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--profile", type=int, default=0, help="print the top N functions (tottime)")
    args = parser.parse_args(argv)
    print(f"http_cpu: {args.requests} status polls per cell, sandbox in another process (uvicorn); "
          f"{machine()}; load average {os.getloadavg()[0]:.1f}; "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(f"{'arm':<15} {'inflight':>8} {'CPU ms/req':>10} {'wall s':>7} {'req/s':>7} {'load':>5}")
    with SandboxProcess(1.0, 2026) as url:
        for inflight in [int(x) for x in args.inflight.split(",")]:
            for _ in range(args.repeat):
                for arm in args.arms.split(","):
                    out = subprocess.run([sys.executable, __file__, "_child", arm, url, str(inflight),
                                          str(args.requests), str(args.profile)], cwd=ROOT,
                                         capture_output=True, text=True, timeout=900)
                    if out.returncode != 0:
                        print(out.stderr[-3000:])
                        return 1
                    r = json.loads(out.stdout.strip().splitlines()[-1])
                    print(f"{arm:<15} {inflight:>8} {r['cpu_ms']:>10.3f} {r['wall_s']:>7.2f} "
                          f"{r['count'] / r['wall_s']:>7.0f} {os.getloadavg()[0]:>5.1f}", flush=True)
                    if r.get("profile"):
                        print(r["profile"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
