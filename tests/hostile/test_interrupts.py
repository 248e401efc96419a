"""Issue 14, low items on Ctrl-C: an interrupt during `download()` stops it and leaves no file
(not even a partial one), and a second Ctrl-C while `compare()` cleans up after the first one
still returns the partial table."""

from __future__ import annotations

import _thread
import json
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

import grokvid_nb as gv
from grokvid_nb._compare.progress import Line, Reporter
from grokvid_nb._ledger import Ledger

from .conftest import HostileServer, drip, reply

pytestmark = pytest.mark.timeout(20)
KEY = "sk-live-INTERRUPT-0123456789abcdef"
SUBMIT = "/v1/videos/generations"
MP4 = b"\x00\x00\x00\x18ftypisom" + b"\x00" * 400


def test_ctrl_c_during_download_stops_it_and_leaves_nothing(hostile: HostileServer, tmp_path: Path) -> None:
    hostile.route(SUBMIT, reply(b'{"request_id": "task-d"}'))
    hostile.route("/v1/videos/task-d", reply(json.dumps(
        {"status": "done", "video": {"url": hostile.url("/v.mp4")}}).encode()))
    hostile.route("/v.mp4", drip(MP4, interval=0.05, content_type="video/mp4"))
    job = gv.Client("xai", api_key=KEY, base_url=hostile.url(), ledger=Ledger(tmp_path / "l.sqlite3")).submit("p")
    assert job.wait(10).ok
    out = tmp_path / "out"
    out.mkdir()
    timer = threading.Timer(0.5, _thread.interrupt_main)
    timer.start()
    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        job.download(out / "clip.mp4")
    assert time.monotonic() - start < 3  # far less than the 20 s the drip would take
    assert list(out.iterdir()) == []
    time.sleep(0.3)  # the engine task is really stopped: nothing appears afterwards
    assert list(out.iterdir()) == []
    assert job.local_path is None


class TwiceInterrupted(Reporter):
    """Ctrl-C while progress is shown, then again while the final display is drawn."""

    def __init__(self) -> None:
        self.updates = 0

    def update(self, lines: Sequence[Line], force: bool = False) -> None:
        self.updates += 1
        if self.updates == 2:
            raise KeyboardInterrupt

    def end(self, lines: Sequence[Line], interrupted: bool = False) -> None:
        raise KeyboardInterrupt


def test_second_ctrl_c_during_compare_cleanup_keeps_the_table() -> None:
    gv.use_sandbox(time_scale=0.05)
    try:
        with pytest.warns(RuntimeWarning, match="interrupted"):
            df = gv.compare("a slow lake [sandbox:latency=60]", providers="xai,apixo", repeats=2,
                            progress=TwiceInterrupted(), duration=6, resolution="480p")
    finally:
        gv.use_sandbox(False)
    assert df.attrs["interrupted"] is True
    assert len(df) == 4
    assert sorted(df["provider"]) == ["apixo", "apixo", "xai", "xai"]
