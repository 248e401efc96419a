"""Page helpers shared by the Notebook 7 and screenshot tests: open a notebook through the
app's own `window.jupyterapp` (exposed by `expose_app_in_browser`, JupyterLab and Notebook 7
alike), Run All, wait until every code cell ran, collect outputs, check a video plays."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from .conftest import ROOT, JupyterLab, Tab

#: Waits in the browser (ms): kernel start + `import grokvid_nb` on a busy 2-core machine.
KERNEL_READY_MS = 60_000
RUN_MS = 120_000
VIDEO_MS = 30_000

NOTEBOOK_READY = """(path) => {
  const app = window.jupyterapp;
  const w = app && app.shell && app.shell.currentWidget;
  if (!w || !w.context || w.context.path !== path || !w.content || !w.content.model) return false;
  const sc = w.sessionContext;
  return !!(w.context.isReady && sc && sc.session && sc.session.kernel
            && sc.session.kernel.connectionStatus === 'connected'
            && sc.kernelDisplayStatus === 'idle');
}"""
ALL_EXECUTED = """() => {
  const w = window.jupyterapp.shell.currentWidget;
  const cells = Array.from(w.content.model.cells).filter(c => c.type === 'code');
  return cells.every(c => c.executionCount !== null && c.executionCount !== undefined)
         && w.sessionContext.kernelDisplayStatus === 'idle';
}"""
OUTPUTS = """() => Array.from(window.jupyterapp.shell.currentWidget.content.model.cells)
  .filter(c => c.type === 'code').map(c => c.outputs.toJSON())"""
#: math typeset inside any output area (MathJax 3 renders <mjx-container>; 2 used .MathJax)
MATH_IN_OUTPUTS = """() => Array.from(document.querySelectorAll(
  '.jp-OutputArea-output mjx-container, .jp-OutputArea-output .MathJax,'
  + ' .jp-OutputArea-output .MathJax_Display')).map(e => e.textContent.slice(0, 80))"""
VIDEO_STATE = """v => ({src: (v.getAttribute('src') || '').slice(0, 40), readyState: v.readyState,
  duration: v.duration, error: v.error && v.error.code, width: v.videoWidth})"""


def copy_demo(server: JupyterLab, name: str) -> str:
    """Copy notebooks/<name> (no outputs, unsigned: opened untrusted) into the server's root."""
    shutil.copy(ROOT / "notebooks" / name, server.root / name)
    return name


def open_notebook(tab: Tab, url: str, name: str) -> None:
    """Go to `url` and wait until `name` is the current widget with an idle kernel."""
    tab.page.goto(url, wait_until="domcontentloaded")
    tab.page.wait_for_function(NOTEBOOK_READY, arg=name, timeout=KERNEL_READY_MS, polling=250)
    tab.page.locator(".jp-NotebookPanel .jp-Notebook").first.wait_for(timeout=10_000)


def run_all(tab: Tab) -> list[list[dict[str, Any]]]:
    """Run All Cells through the app's command; wait until every code cell ran and the kernel
    is idle; assert no cell output an error. Returns each code cell's outputs."""
    page = tab.page
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_function(ALL_EXECUTED, timeout=RUN_MS, polling=250)
    outputs = page.evaluate(OUTPUTS)
    errors = [o for cell in outputs for o in cell if o.get("output_type") == "error"]
    assert not errors, f"a cell raised: {json.dumps(errors)[:3000]}\n{tab.diagnostics()}"
    return outputs


def assert_video_plays(tab: Tab, video: Any) -> dict[str, Any]:
    """The element loads (readyState > 0, a duration > 0, no error) and time advances."""
    page = tab.page
    video.scroll_into_view_if_needed()
    page.wait_for_function("v => v.readyState >= 1 || v.error !== null", arg=video,
                           timeout=VIDEO_MS, polling=100)
    state = video.evaluate(VIDEO_STATE)
    assert state["error"] is None and state["readyState"] >= 1, (state, tab.diagnostics())
    assert state["duration"] > 0 and state["width"] > 0, state
    assert video.evaluate("v => { v.muted = true; return v.play().then(() => true); }") is True
    page.wait_for_function("v => v.currentTime > 0.3", arg=video, timeout=VIDEO_MS, polling=100)
    video.evaluate("v => v.pause()")
    return state


def screenshot(tab: Tab, path: Path) -> Path:
    """A screenshot of the viewport (the notebook scrolls inside it)."""
    tab.page.screenshot(path=str(path))
    assert path.stat().st_size > 10_000, path  # an image with content, not a blank page
    print(f"\n[screenshot] {path}")
    return path
