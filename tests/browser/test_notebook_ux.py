"""What a user sees in a real JupyterLab (loopback server, Debian's Chromium): no dollar sign
typeset as math in any of our outputs, readable error boxes and captions in the dark theme
(measured contrast), tables that fit a 1000 px window, and a live card that ticks while a slow
sandbox job runs and shows the current state again after the page is reloaded."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from .conftest import JupyterLab, Tab, artifact_dir, open_tab
from .pages import MATH_IN_OUTPUTS
from .test_jupyterlab import SETUP, open_notebook, run_all, save, write_notebook

pytestmark = pytest.mark.browser

THEMES = {"light": "JupyterLab Light", "dark": "JupyterLab Dark"}

#: WCAG contrast of an element's text against what is really behind it: the backgrounds of
#: its ancestors composited from the page down (translucent tints included)
CONTRAST = """(el) => {
  const parse = s => { const m = s.match(/rgba?\\(([^)]+)\\)/);
    const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; };
  const over = (top, bottom) => [0, 1, 2].map(i => top[i] * top[3] + bottom[i] * (1 - top[3])).concat([1]);
  const chain = []; for (let e = el; e; e = e.parentElement) chain.push(getComputedStyle(e).backgroundColor);
  let bg = [255, 255, 255, 1];
  for (const c of chain.reverse()) { const p = parse(c); if (p[3] > 0) bg = over(p, bg); }
  const fg = over(parse(getComputedStyle(el).color), bg);
  const lum = c => { const [r, g, b] = c.slice(0, 3).map(v => { v /= 255;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const a = lum(fg), b = lum(bg);
  const style = getComputedStyle(el);
  return {ratio: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05), fg: fg.map(Math.round),
          bg: bg.map(Math.round), px: parseFloat(style.fontSize), weight: Number(style.fontWeight),
          text: el.textContent.slice(0, 60)};
}"""

_WATCH = """() => {
  window.__gvCards = [];
  const seen = () => document.querySelectorAll('.jp-NotebookPanel .grokvid-job').forEach(c => {
    const t = c.textContent;
    if (window.__gvCards.length === 0 || window.__gvCards[window.__gvCards.length - 1][1] !== t)
      window.__gvCards.push([performance.now(), t]);
  });
  seen();
  new MutationObserver(seen).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


def set_theme(tab: Tab, theme: str) -> None:
    tab.page.evaluate("(t) => window.jupyterapp.commands.execute('apputils:change-theme', {theme: t})",
                      THEMES[theme])
    tab.page.wait_for_function("(n) => document.body.dataset.jpThemeName === n", arg=THEMES[theme],
                               timeout=15_000, polling=100)
    tab.page.wait_for_timeout(500)


@pytest.fixture
def narrow_tab(chromium: Any, jupyter_lab: JupyterLab, tmp_path: Path) -> Any:
    """A 1000 px wide window (a laptop with the file browser closed)."""
    yield from open_tab(chromium, jupyter_lab, tmp_path, viewport={"width": 1000, "height": 1400})


TABLE_CELLS = [
    SETUP,
    "gv.providers()",
    'df = gv.compare("a lakeside at sunset", resolution="720p", duration=6)',
    "gv.summarize(df)",
    "df",
    "gv.gallery(df)",
    'bad = gv.generate("[sandbox:fail] a lakeside costing $1 or $2", provider="apiinone")\nbad.wait(60)\nbad',
]


LINES_PER_CELL = """e => {
    const lines = td => {
        const range = document.createRange();
        range.selectNodeContents(td);
        return new Set(Array.from(range.getClientRects()).map(r => Math.round(r.top))).size;
    };
    const cells = Array.from(e.querySelectorAll("tbody td")).filter(td => td.textContent.trim());
    const wraps = td => getComputedStyle(td).whiteSpace === "normal";
    return {short: cells.filter(td => !wraps(td)).map(lines), long: cells.filter(wraps).map(lines)};
}"""


@pytest.mark.longrun  # ~25 s: in the longrun pass, which CI runs too
@pytest.mark.timeout(300)
def test_no_math_tables_fit_and_dark_theme_contrast(jupyter_lab: JupyterLab, narrow_tab: Tab) -> None:
    tab, page = narrow_tab, narrow_tab.page
    name = "ux_tables.ipynb"
    write_notebook(jupyter_lab.root, name, TABLE_CELLS)
    open_notebook(tab, jupyter_lab, name)
    run_all(tab)
    page.wait_for_timeout(1500)  # typesetting would run after an output is attached
    out = artifact_dir("jupyterlab-ux-tables")
    page.screenshot(path=str(out / "light.png"), full_page=True)

    # 1. no output is typeset as math, though the prices and estimates are full of "$"
    assert page.evaluate(MATH_IN_OUTPUTS) == []
    texts = page.locator(".jp-NotebookPanel:visible .jp-OutputArea-output").all_inner_texts()
    assert any("$0.05/s" in t for t in texts), texts[:3]
    assert any(re.search(r"estimated \$\d", t) for t in texts)

    # 2. at 1000 px: the progress notes wrap by words, and no table overflows its output
    notes = page.locator(".jp-NotebookPanel:visible table.grokvid-compare-progress td:last-child")
    assert notes.count() >= 1
    for i in range(notes.count()):
        box = notes.nth(i).bounding_box()
        text = notes.nth(i).inner_text()
        if text.strip():
            assert box is not None and box["width"] >= 150, (text, box)
            assert box["height"] < 80, (text, box)  # a few lines at most, not a word per line
    overflow = page.evaluate("""() => Array.from(document.querySelectorAll(
        '.jp-NotebookPanel .jp-OutputArea-output')).filter(o => o.scrollWidth > o.clientWidth + 1)
        .map(o => o.textContent.slice(0, 80))""")
    assert overflow == []
    wide = page.locator(".jp-NotebookPanel:visible .grokvid-table").nth(2)  # the 24-column table
    assert wide.evaluate("e => e.scrollWidth > e.clientWidth")  # it scrolls inside its box
    # the providers table: short values on one line each (it scrolls instead), long text wraps
    lines = page.locator(".jp-NotebookPanel:visible .grokvid-table").nth(0).evaluate(LINES_PER_CELL)
    assert lines["short"] and max(lines["short"]) == 1, lines
    assert lines["long"] and max(lines["long"]) > 1, lines

    # 3. dark theme: the error box and the captions stay readable
    try:
        set_theme(tab, "dark")
        page.locator(".jp-NotebookPanel:visible .grokvid-error").last.scroll_into_view_if_needed()
        page.screenshot(path=str(out / "dark.png"))
        box = page.locator(".jp-NotebookPanel:visible .grokvid-error").last
        for part in (box.locator("div").nth(0), box.locator("b").first,
                     box.locator("div[style*='pre-wrap']").first):
            measured = part.evaluate(CONTRAST)
            assert measured["ratio"] >= 4.5, measured
        captions = page.locator(".jp-NotebookPanel:visible figcaption")
        assert captions.count() >= 1
        for i in range(captions.count()):
            measured = captions.nth(i).evaluate(CONTRAST)
            large = measured["px"] >= 24 or (measured["px"] >= 18.66 and measured["weight"] >= 700)
            assert measured["ratio"] >= (3 if large else 4.5), measured
        # the muted notes too (prompt line of the error box)
        measured = box.locator("div[title]").first.evaluate(CONTRAST)
        assert measured["ratio"] >= 4.5, measured
    finally:
        set_theme(tab, "light")
    assert not tab.blocked, tab.diagnostics()


GALLERY_CELLS = [
    SETUP,
    "import pandas as pd\n"
    "saved = pd.DataFrame([dict(provider='pixazo', model='grok-imagine-video', status='succeeded', latency_s=2.0,"
    " video_url=None, job_id='gone-1'), dict(provider='xai', model='grok-imagine-video', status='failed',"
    " error='moderated: costs $5 and $6', job_id='gone-2'), dict(provider='apixo', model='grok-video',"
    " status='failed', error='timed out', job_id='gone-3')])\n"
    "gv.gallery(saved)",
]
#: each gallery cell's width, and whether any text spills out of its card
GALLERY_LAYOUT = """() => Array.from(document.querySelectorAll('.jp-NotebookPanel .grokvid-gallery-cell')).map(c => ({
    width: c.getBoundingClientRect().width, top: Math.round(c.getBoundingClientRect().top),
    spills: Array.from(c.querySelectorAll('.grokvid-error, .grokvid-error *')).some(e => e.scrollWidth > e.clientWidth + 1)
}))"""


@pytest.mark.longrun  # ~20 s: in the longrun pass, which CI runs too
@pytest.mark.timeout(300)
@pytest.mark.parametrize("viewport, columns", [(1280, 3), (560, 1)])
def test_gallery_columns_follow_the_width(viewport: int, columns: int, chromium: Any, jupyter_lab: JupyterLab,
                                          tmp_path: Path) -> None:
    """Three columns where they fit; at a narrow width fewer, never a card squeezed to a word
    per line with its words spilling over the border (the file browser stays open here)."""
    for tab in open_tab(chromium, jupyter_lab, tmp_path, viewport={"width": viewport, "height": 1400}):
        name = f"ux_gallery_{viewport}.ipynb"
        write_notebook(jupyter_lab.root, name, GALLERY_CELLS)
        open_notebook(tab, jupyter_lab, name)
        run_all(tab)
        cells = tab.page.evaluate(GALLERY_LAYOUT)
        assert len(cells) == 3, cells
        assert len({c["top"] for c in cells[:columns]}) == 1, cells  # the first row holds `columns`
        assert len({c["top"] for c in cells}) == (3 + columns - 1) // columns, cells
        assert all(c["width"] >= 150 for c in cells), cells
        assert not any(c["spills"] for c in cells), cells
        out = artifact_dir("jupyterlab-ux-gallery")
        tab.page.screenshot(path=str(out / f"light-{viewport}.png"))
        try:
            set_theme(tab, "dark")
            tab.page.screenshot(path=str(out / f"dark-{viewport}.png"))
        finally:
            set_theme(tab, "light")
        assert not tab.blocked, tab.diagnostics()


SLOW_JOB = ('job = gv.generate("a slow lakeside [sandbox:latency=500]", provider="apixo", duration=6)\n'
            "job")


@pytest.mark.longrun  # ~33 s: in the longrun pass, which CI runs too
@pytest.mark.timeout(300)
def test_live_card_ticks_and_resyncs_after_a_reload(jupyter_lab: JupyterLab, tab: Tab) -> None:
    """At time_scale 0.05 the job takes about 25 s: the card must change within a few seconds
    and say when the next check is; after saving and reloading the page mid-job the card shows
    the job's current state from the kernel (still moving), and it ends as the video."""
    page = tab.page
    name = "ux_live_card.ipynb"
    write_notebook(jupyter_lab.root, name, [SETUP, SLOW_JOB])
    open_notebook(tab, jupyter_lab, name)
    page.evaluate(_WATCH)
    run_all(tab)
    card = page.locator(".jp-NotebookPanel:visible .grokvid-job")
    card.first.wait_for(timeout=30_000)
    page.wait_for_timeout(4500)
    seen = page.evaluate("() => window.__gvCards")
    texts = [t for _, t in seen]
    assert len(texts) >= 3, texts  # it ticks while waiting (about once a second)
    assert any(re.search(r"next check (in \d+ s|now)", t) for t in texts), texts
    first_change = seen[1][0] - seen[0][0]
    assert first_change < 3000, seen  # the text changes within a few seconds
    before = card.first.inner_text()
    assert "apixo" in before and ("running" in before or "queued" in before), before

    save(tab, jupyter_lab, name)
    page.reload(wait_until="domcontentloaded")
    page.wait_for_function(
        "(p) => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
        " return !!(w && w.context && w.context.path === p && w.context.isReady"
        " && w.sessionContext.session && w.sessionContext.session.kernel); }",
        arg=name, timeout=60_000, polling=250)
    page.evaluate(_WATCH)
    card = page.locator(".jp-NotebookPanel:visible .grokvid-job")
    card.first.wait_for(timeout=30_000)
    page.wait_for_timeout(3000)
    after = [t for _, t in page.evaluate("() => window.__gvCards")]
    assert len(after) >= 2, after  # the reloaded card is live again (from the kernel), not a frozen copy
    elapsed = [float(m.group(1)) for t in after for m in [re.search(r"(\d+\.\d) s elapsed", t)] if m]
    assert elapsed and max(elapsed) > 5, after  # the job's current state, not the one saved
    page.screenshot(path=str(artifact_dir("jupyterlab-ux-live-card") / "after_reload.png"))
    video = page.locator(".jp-NotebookPanel:visible .jp-OutputArea-output video")
    video.first.wait_for(state="attached", timeout=60_000)
    assert not tab.blocked, tab.diagnostics()
