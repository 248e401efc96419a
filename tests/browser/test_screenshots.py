"""A screenshot of every demo notebook after Run All in a real JupyterLab, in the light and the
dark theme (the top and the end of the notebook), kept as test artifacts
(tests/artifacts/jupyterlab-<notebook>/, gitignored) for a
person to look at. Each test opens its own copy and sets each theme itself, so none depends on
another's outcome. Asserts that every cell ran without an error and the theme really changed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import ROOT, JupyterLab, Tab, artifact_dir, open_tab
from .pages import copy_demo, open_notebook, run_all, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.longrun]  # every demo notebook: ~100 s

DEMOS = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
THEMES = {"light": "JupyterLab Light", "dark": "JupyterLab Dark"}
_THEME_IS = """(name) => document.body.dataset.jpThemeName === name"""


@pytest.fixture
def tall_tab(chromium: Any, jupyter_lab: JupyterLab, tmp_path: Path) -> Iterator[Tab]:
    """A tall page, so a whole short notebook fits in one screenshot."""
    yield from open_tab(chromium, jupyter_lab, tmp_path, viewport={"width": 1280, "height": 2400})


def set_theme(tab: Tab, theme: str) -> None:
    tab.page.evaluate("(t) => window.jupyterapp.commands.execute('apputils:change-theme',"
                      " {theme: t})", THEMES[theme])
    tab.page.wait_for_function(_THEME_IS, arg=THEMES[theme], timeout=15_000, polling=100)
    tab.page.wait_for_timeout(500)  # the theme's CSS applies after the attribute changes
    light = tab.page.evaluate("() => document.body.dataset.jpThemeLight")
    assert light == ("true" if theme == "light" else "false"), (theme, light)


@pytest.mark.timeout(300)
@pytest.mark.parametrize("name", DEMOS)
def test_screenshot_after_run_all(name: str, jupyter_lab: JupyterLab, tall_tab: Tab) -> None:
    tab = tall_tab
    copy_demo(jupyter_lab, name)
    open_notebook(tab, jupyter_lab.lab_url(name), name)
    set_theme(tab, "light")
    run_all(tab)
    out = artifact_dir(f"jupyterlab-{name.removesuffix('.ipynb')}")
    cells = tab.page.locator(".jp-NotebookPanel:visible .jp-Cell")
    for theme in ("light", "dark"):
        set_theme(tab, theme)
        cells.first.scroll_into_view_if_needed()
        screenshot(tab, out / f"{theme}.png")
        cells.last.scroll_into_view_if_needed()   # the notebook scrolls inside the page
        screenshot(tab, out / f"{theme}-end.png")
    set_theme(tab, "light")   # the server keeps the setting: leave it as the next test expects
    assert not tab.blocked, tab.diagnostics()
