"""Live job output: one display, updated in place (throttled) until the final video or error,
through IPython's display protocol; and the same in a real kernel driven by nbclient."""

from __future__ import annotations

import re
import time
from pathlib import Path

import nbformat
import pytest
from IPython.core.displaypub import CapturingDisplayPublisher
from ipywidgets.widgets.widget import _instances
from nbclient import NotebookClient

import grokvid_nb as gv
from grokvid_nb import display as gv_display
from grokvid_nb.display import JobWatcher, job_bundle
from grokvid_nb.sandbox import Sandbox, SandboxConfig

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def test_watcher_throttles_and_always_ends_with_a_final_call(sandbox: object) -> None:
    job = gv.Client("apixo").start("a lakeside [sandbox:latency=60]")  # 0.6 s at time_scale 0.01
    updates: list[float] = []
    finals: list[str] = []
    watcher = JobWatcher(job, lambda j: updates.append(time.monotonic()),
                         lambda j: finals.append(j.result().status.value),
                         min_interval=0.25, heartbeat=0.1).start()
    watcher.join(20)
    assert finals == ["succeeded"]
    gaps = [b - a for a, b in zip(updates, updates[1:])]
    assert all(gap >= 0.24 for gap in gaps), gaps  # at most 4 updates a second
    assert len(updates) >= 1  # the heartbeat moved the elapsed time while it ran


def test_wait_returns_after_a_slow_final_update_is_made(sandbox: object) -> None:
    # a saved notebook keeps what was shown when the cell that waited ended: the watcher's last
    # update (here slowed as a clip download would) must be done before job.wait() returns
    job = gv.Client("apixo").start("a lakeside [sandbox:latency=30]")
    finals: list[str] = []

    def slow_final(j: gv.Job) -> None:
        time.sleep(0.5)
        finals.append(j.result_nowait().status.value)

    JobWatcher(job, lambda j: None, slow_final).start()
    assert job.wait(20).ok
    assert finals == ["succeeded"]


def test_watcher_of_a_finished_job_makes_only_the_final_call(sandbox: object) -> None:
    job = gv.Client("apiinone").start("quick one")
    job.wait(20)
    calls: list[str] = []
    JobWatcher(job, lambda j: calls.append("update"), lambda j: calls.append("done")).start().join(5)
    assert calls == ["done"]


def test_job_display_updates_in_place_until_the_video(shell: CapturingDisplayPublisher,
                                                      sandbox: object) -> None:
    job = gv.Client("pixazo").start("a lakeside [sandbox:latency=80]")
    job._ipython_display_()
    first = shell.outputs[0]
    display_id = first["transient"]["display_id"]
    assert not first["update"]
    # the live card is a widget (kept in the kernel: a reloaded page shows the current state)
    # with the same card as text/html for renderers without widgets
    assert set(first["data"]) == {"text/plain", "text/html", WIDGET_VIEW}
    assert "grokvid-job" in first["data"]["text/html"] and "pixazo" in first["data"]["text/plain"]
    model_id = first["data"][WIDGET_VIEW]["model_id"]
    live = _instances[model_id]
    job.wait(20)
    deadline = time.monotonic() + 20
    while "<video" not in shell.outputs[-1]["data"]["text/html"] and time.monotonic() < deadline:
        time.sleep(0.02)
    updates = shell.outputs[1:]
    assert updates and all(u["update"] and u["transient"]["display_id"] == display_id for u in updates)
    final = updates[-1]["data"]
    assert 'src="data:video/mp4;base64,' in final["text/html"]  # sandbox URL: inlined
    assert "pixazo · grok-imagine-video · 6 s clip" in final["text/html"]
    assert "estimated" in final["text/html"]
    assert "base64" not in final["text/plain"]
    assert WIDGET_VIEW not in final  # the saved notebook keeps plain HTML
    assert live.value == final["text/html"]  # and a reloaded page finds the final state


def test_a_finished_job_displays_once_without_a_watcher(shell: CapturingDisplayPublisher,
                                                        sandbox: object) -> None:
    job = gv.Client("apiinone").start("[sandbox:fail] a lakeside")
    job.wait(20)
    assert gv_display.display_job(job) is None
    assert len(shell.outputs) == 1
    html_out = shell.outputs[0]["data"]["text/html"]
    assert "grokvid-error" in html_out and job.error_code and job.error_code in html_out


def test_repr_mimebundle_of_job_and_result(sandbox: object) -> None:
    job = gv.Client("apiinone").start("a lakeside")
    running = job._repr_mimebundle_()
    assert set(running) == {"text/plain", "text/html"}
    result = job.wait(20)
    bundle = result._repr_mimebundle_()
    assert bundle == job_bundle(job)
    assert "<video" in bundle["text/html"]


def test_after_download_the_local_copy_is_embedded(sandbox: object, tmp_path: Path) -> None:
    result = gv.Client("apixo").start("a lakeside").wait(20)
    path = result.download(tmp_path / "clip.mp4")
    bundle = gv_display.result_bundle(result)
    assert 'src="data:video/mp4;base64,' in bundle["text/html"]
    assert path.name in bundle["text/plain"]
    # embed=False always keeps the URL, even when the browser cannot load it
    assert re.search(r'src="http://[a-z0-9]+\.sandbox\.invalid/',
                     gv_display.result_bundle(result, embed=False)["text/html"])


def test_embed_true_inlines_a_loopback_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROKVID_TIME_SCALE", "0.01")  # a served sandbox: the client's own clock
    sb = Sandbox(SandboxConfig(time_scale=0.01))
    with sb.serve(host="127.0.0.1", port=0) as base_url:
        gv.use_sandbox(url=base_url)
        try:
            result = gv.Client("apiinone").start("a lakeside").wait(20)
        finally:
            gv.use_sandbox(False)
        assert result.video_url.startswith("http://127.0.0.1:")
        by_url = gv_display.result_bundle(result)["text/html"]
        assert f'src="{result.video_url}"' in by_url  # loadable: kept as a URL
        embedded = gv_display.result_bundle(result, embed=True)["text/html"]
        assert 'src="data:video/mp4;base64,' in embedded


KERNEL_CELLS = [
    "import grokvid_nb as gv\n"
    "sb = gv.use_sandbox(time_scale=0.01, seed=1)\n"
    "job = gv.generate('a lakeside at sunset [sandbox:latency=150]', provider='apixo', duration=6)\n"
    "job",
    "res = job.wait(60)\n"
    "print(res.status)",
]


@pytest.mark.kernel
def test_a_saved_notebook_shows_the_final_video(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in KERNEL_CELLS]
    env = {"GROKVID_HOME": str(tmp_path / "home")}
    for key, value in env.items():
        monkeypatch.setenv(key, value)  # inherited by the kernel process
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = nb.cells[0].outputs
    assert len(outputs) == 1 and outputs[0]["output_type"] == "display_data", outputs
    data = outputs[0]["data"]
    assert set(data) >= {"text/plain", "text/html"}
    assert "<video" in data["text/html"] and 'src="data:video/mp4;base64,' in data["text/html"]
    assert "<progress" not in data["text/html"]  # not a dead spinner
    assert "apixo · grok-video · 6 s clip" in data["text/plain"]
    assert "succeeded" in "".join(o.get("text", "") for o in nb.cells[1].outputs)
    nbformat.write(nb, tmp_path / "saved.ipynb")
    reopened = nbformat.read(tmp_path / "saved.ipynb", as_version=4)
    assert "<video" in reopened.cells[0].outputs[0]["data"]["text/html"]
