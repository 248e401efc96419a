"""notebooks/01_quickstart.ipynb in a real Notebook 7 (`jupyter notebook` on loopback, Debian's
Chromium via Playwright): Run All, every cell runs without an error, the job videos appear and
play, and no output is typeset as math. A screenshot is kept under tests/artifacts/."""

from __future__ import annotations

import pytest

from .conftest import JupyterLab, Tab, artifact_dir
from .pages import MATH_IN_OUTPUTS, VIDEO_MS, assert_video_plays, copy_demo, open_notebook, run_all, screenshot

pytestmark = pytest.mark.browser

QUICKSTART = "01_quickstart.ipynb"


@pytest.mark.timeout(240)  # includes starting the server and the browser (module fixtures)
def test_quickstart_runs_and_videos_play_in_notebook7(notebook7: JupyterLab, nb7_tab: Tab) -> None:
    tab = nb7_tab
    name = copy_demo(notebook7, QUICKSTART)
    open_notebook(tab, notebook7.notebook_url(name), name)
    run_all(tab)
    videos = tab.page.locator(".jp-NotebookPanel .jp-OutputArea-output video")
    videos.first.wait_for(state="attached", timeout=VIDEO_MS)
    assert videos.count() == 2, videos.count()   # the apixo job and the xAI result
    for i in range(videos.count()):
        assert_video_plays(tab, videos.nth(i).element_handle())
    videos.first.scroll_into_view_if_needed()
    screenshot(tab, artifact_dir("notebook7") / "01_quickstart.png")
    assert not tab.blocked, tab.diagnostics()


@pytest.mark.timeout(240)
def test_no_math_in_quickstart_outputs_in_notebook7(notebook7: JupyterLab, nb7_tab: Tab) -> None:
    """Dollar amounts ("$0.05/s at 480p, $0.07/s at 720p") must not be typeset as LaTeX."""
    tab = nb7_tab
    name = copy_demo(notebook7, QUICKSTART)
    open_notebook(tab, notebook7.notebook_url(name), name)
    run_all(tab)
    tab.page.wait_for_timeout(1000)  # typesetting runs after an output is attached
    assert tab.page.evaluate(MATH_IN_OUTPUTS) == []
