"""Issue 14, the crash test: real processes are SIGKILLed at four points of a job's life
(before its submit, after the submit left but before its reply was recorded, while polling,
while downloading), each after a random extra delay; then `gv.resume()` runs in a new process.
Nothing is submitted twice, every task the ledger knows is recovered, an intent that never left
is not called "maybe charged", and no partial download is left looking like a complete file."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from grokvid_nb._ledger import Ledger
from grokvid_nb.sandbox import Sandbox, SandboxConfig

pytestmark = [pytest.mark.timeout(150), pytest.mark.longrun]  # four SIGKILL drills: ~30 s
N = 3
KEY = "sk-crash-0123456789abcdef"

CHILD = textwrap.dedent("""
    import asyncio, sys, time, grokvid_nb as gv
    from grokvid_nb import _client, _files, _job
    url, phase, n, downloads = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]

    def say(word):
        print(word, flush=True)

    if phase == "before_submit":      # the intent is recorded, the submit never starts
        async def stalled_submit(self):
            say("INTENT")
            await asyncio.sleep(3600)
        _job.Job._submit = stalled_submit
    elif phase == "after_submit_left":  # the provider has the request, its reply is not read
        original_send = _client.Client.send
        async def send(self, request, **kw):
            response = await original_send(self, request, **kw)
            if request.method == "POST":
                say("SENT")
                await asyncio.sleep(3600)
            return response
        _client.Client.send = send
    elif phase == "downloading":      # the first bytes are written, then the process dies
        original_write = _files.AtomicWriter.write
        def write(self, data):
            written = original_write(self, data[:100])
            self._file.flush()
            say("WRITING")
            time.sleep(3600)
            return written
        _files.AtomicWriter.write = write
    latency = "600" if phase == "polling" else "0.5"
    client = gv.Client("xai", api_key=sys.argv[5], base_url=url, download_dir=downloads)
    jobs = [client.start(f"{phase} [sandbox:latency={latency}]", sample_index=i) for i in range(n)]
    if phase == "polling":
        for job in jobs:
            job._submitted.result(timeout=60)
        say("POLLING")
    time.sleep(3600)
""")

RESUMER = textwrap.dedent("""
    import json, sys, grokvid_nb as gv
    url, n, downloads = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    jobs = gv.resume()
    resumed = [(j.prompt, j.wait(60)) for j in jobs]
    client = gv.Client("xai", base_url=url, download_dir=downloads)
    fetched = []
    for i in range(n):   # the killed download: the finished job is reused, downloaded again
        job = client.start("downloading [sandbox:latency=0.5]", sample_index=i)
        result = job.wait(60)
        fetched.append(str(job.download()) if result.ok else None)
    print(json.dumps({"resumed": [(p, r.status.value, r.task_id) for p, r in resumed],
                      "fetched": fetched}), flush=True)
""")

MARKERS = {"before_submit": "INTENT", "after_submit_left": "SENT", "polling": "POLLING",
           "downloading": "WRITING"}


def _complete_mp4(path: Path) -> bool:
    """True when the file's top-level MP4 boxes (ftyp first) cover it exactly: not truncated."""
    data = path.read_bytes()
    at, kinds = 0, []
    while at + 8 <= len(data):
        size, kind = int.from_bytes(data[at:at + 4], "big"), data[at + 4:at + 8]
        if size < 8:
            return False
        kinds.append(kind)
        at += size
    return at == len(data) and kinds[:1] == [b"ftyp"] and b"moov" in kinds


def _kill_at(phase: str, url: str, env: dict[str, str], downloads: Path, rng: random.Random) -> None:
    child = subprocess.Popen([sys.executable, "-c", CHILD, url, phase, str(N), str(downloads), KEY],
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        wanted = 1 if phase in ("polling", "after_submit_left", "downloading") else N
        seen = 0
        deadline = time.monotonic() + 60
        while seen < wanted and time.monotonic() < deadline:
            line = child.stdout.readline()
            if not line:
                raise AssertionError(child.stderr.read() if child.stderr else "child ended")
            seen += line.strip() == MARKERS[phase]
        time.sleep(rng.uniform(0.0, 0.3))
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(10)


def test_sigkill_at_each_point_then_resume_loses_nothing_and_resends_nothing(tmp_path: Path) -> None:
    rng = random.Random(int(os.environ.get("GROKVID_CRASH_SEED", "14")))
    sandbox = Sandbox(SandboxConfig(time_scale=0.05, seed=14, scale_rate_limits=True))
    home, downloads = tmp_path / "home", tmp_path / "downloads"
    env = {**os.environ, "GROKVID_HOME": str(home), "GROKVID_TIME_SCALE": "0.05"}
    env.pop("XAI_API_KEY", None)
    with sandbox.serve(host="127.0.0.1", port=0) as url:
        for phase in MARKERS:
            _kill_at(phase, url, env, downloads, rng)
        submits_before_resume = sandbox.stats.submits["xai"]
        done = subprocess.run([sys.executable, "-c", RESUMER, url, str(N), str(downloads)],
                              env={**env, "XAI_API_KEY": KEY}, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        report = json.loads(done.stdout.strip().splitlines()[-1])
        # nothing was sent again: every submit happened before the kills
        assert sandbox.stats.submits["xai"] == submits_before_resume
        created = sandbox.stats.tasks_created["xai"]
    rows = Ledger(home / "ledger.sqlite3").all()
    by_phase: dict[str, list[tuple[str, str | None, str | None]]] = {}
    for row in rows:
        by_phase.setdefault(row.prompt.split(" ")[0], []).append((row.state, row.error_code, row.task_id))
    # never started: failed, not "maybe charged"; nothing reached the provider
    assert sorted(s[:2] for s in by_phase["before_submit"]) == [("failed", "never_sent")] * N
    # the submit left, its reply never recorded: unknown, never resent (at least one left)
    lost = by_phase["after_submit_left"]
    assert len(lost) == N and all(s[:2] in (("unknown", "submit_reply_lost"), ("failed", "never_sent"))
                                  for s in lost)
    assert sum(s[:2] == ("unknown", "submit_reply_lost") for s in lost) >= 1
    # every task whose id was recorded was recovered: polled to the end by the new process
    assert sorted(s[0] for s in by_phase["polling"]) == ["succeeded"] * N
    # (a job killed while keeping its local copy may be resumed too: it ends succeeded as well)
    assert [p for p, _s, _t in report["resumed"]].count("polling [sandbox:latency=600]") == N
    assert {status for _p, status, _t in report["resumed"]} == {"succeeded"}
    # the killed downloads left only temporary files; the re-download is complete
    assert sorted(s[0] for s in by_phase["downloading"]) == ["succeeded"] * N
    fetched = [Path(p) for p in report["fetched"]]
    assert len(fetched) == N and all(p is not None for p in report["fetched"])
    assert all(_complete_mp4(p) for p in fetched)
    for path in downloads.iterdir():
        assert path.name.startswith(".part-") or path in fetched, path
    # each task created at the provider is accounted for in the ledger, none twice
    recorded = [row.task_id for row in rows if row.task_id]
    assert len(recorded) == len(set(recorded))
    # every task the provider created is either recorded (and recovered) or flagged unknown
    unknown = sum(s[0] == "unknown" for s in lost)
    assert len(recorded) == 2 * N
    assert len(recorded) < created <= len(recorded) + unknown
