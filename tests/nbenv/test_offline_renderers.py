"""What VS Code's and Colab's notebook renderers need, checked offline on saved outputs.

Neither renderer runs here, so the demo notebooks are executed (nbclient, Run All) and their
saved outputs are inspected with nbformat for what those renderers can show without a
JupyterLab extension and without running scripts:

* only standard mime types (text/plain, text/html, text/markdown, image/png|jpeg|svg+xml,
  application/json); a widget view is allowed only next to an HTML and a text fallback that say
  what it is (a renderer without the widget manager shows the fallback);
* every rich output has a `text/html` or an image, and a `text/plain`;
* the HTML is plain HTML5: known elements only, no `<script>`, no inline event handlers, no
  `javascript:` URLs, no iframes or external stylesheets; a video plays from its `<video src>`
  (http(s) or a `data:video/` URI) with `controls`, so it needs no script to appear.
"""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

from .kernels import kernel_env

pytestmark = [pytest.mark.kernel, pytest.mark.longrun]  # runs every demo notebook: ~40 s

ROOT = Path(__file__).resolve().parents[2]
DEMOS = ["01_quickstart.ipynb", "02_compare.ipynb", "03_form.ipynb"]
WIDGET = "application/vnd.jupyter.widget-view+json"
STANDARD = {"text/plain", "text/html", "text/markdown", "image/png", "image/jpeg",
            "image/svg+xml", "application/json"}
#: HTML5 elements our outputs may use (all standard; nothing custom, nothing scripted)
HTML5 = set(["a", "abbr", "b", "bdi", "br", "caption", "code", "col", "colgroup", "dd", "del", "details", "div", "dl", "dt", "em", "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "i", "img", "ins", "kbd", "li", "mark", "meter", "ol", "p", "pre", "progress", "q", "s", "samp", "section", "small", "span", "strong", "style", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "time", "tr", "u", "ul", "var", "video", "source", "track"])
FORBIDDEN = {"script", "iframe", "object", "embed", "link", "meta", "base", "form", "input"}


class _Html(HTMLParser):
    """Collects tags and their attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def html_problems(markup: str) -> list[str]:
    """Why `markup` is not plain, script-free HTML5 (empty when it is)."""
    parser = _Html()
    parser.feed(markup)
    parser.close()
    problems = []
    for tag, attrs in parser.tags:
        if tag in FORBIDDEN:
            problems.append(f"<{tag}> is not allowed")
        elif tag not in HTML5:
            problems.append(f"<{tag}> is not a standard HTML5 element we expect")
        for name, value in attrs.items():
            if name.startswith("on"):
                problems.append(f"<{tag} {name}=...>: an inline script")
            if name in ("src", "href") and (value or "").strip().lower().startswith("javascript:"):
                problems.append(f"<{tag} {name}=javascript:...>")
        if tag == "video":
            src = attrs.get("src") or ""
            if not src.startswith(("https://", "http://", "data:video/")):
                problems.append(f"<video> without a playable src ({src[:40]!r})")
            if "controls" not in attrs:
                problems.append("<video> without controls")
    return problems


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, nbformat.NotebookNode]:
    """The demo notebooks after Run All (nbclient), as they would be saved."""
    out = {}
    for name in DEMOS:
        cwd = tmp_path_factory.mktemp(name.removesuffix(".ipynb"))
        nb = nbformat.read(ROOT / "notebooks" / name, as_version=4)
        env = kernel_env(GROKVID_HOME=str(cwd / "home"))
        NotebookClient(nb, timeout=300, kernel_name="python3",
                       resources={"metadata": {"path": str(cwd)}}).execute(env=env)
        nbformat.validate(nb)
        out[name] = nb
    return out


def rich_outputs(nb: nbformat.NotebookNode) -> list[tuple[int, dict[str, Any]]]:
    return [(i, out.data) for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
            for out in cell.outputs if out.output_type in ("display_data", "execute_result")]


@pytest.mark.timeout(600)
@pytest.mark.parametrize("name", DEMOS)
def test_outputs_are_plain_html5_with_standard_mime_types(
        name: str, executed: dict[str, nbformat.NotebookNode]) -> None:
    outputs = rich_outputs(executed[name])
    assert outputs, f"{name} saved no rich output"
    problems = []
    for cell, data in outputs:
        mimes = set(data)
        if "text/plain" not in mimes:
            problems.append(f"cell {cell}: no text/plain fallback ({sorted(mimes)})")
        extra = mimes - STANDARD - {WIDGET}
        if extra:
            problems.append(f"cell {cell}: needs an extension: {sorted(extra)}")
        if mimes - {"text/plain"} and not mimes & {"text/html", "image/png", "image/svg+xml",
                                                   "image/jpeg", "text/markdown"}:
            problems.append(f"cell {cell}: rich output without HTML or image: {sorted(mimes)}")
        if "text/html" in data:
            problems += [f"cell {cell}: {p}" for p in html_problems(_text(data["text/html"]))]
    assert problems == [], "\n".join(problems)


@pytest.mark.timeout(600)
def test_saved_videos_play_without_scripts(executed: dict[str, nbformat.NotebookNode]) -> None:
    """The quick start's jobs end as inline `<video>` elements in their saved HTML."""
    videos = [(cell, _text(data["text/html"])) for cell, data in rich_outputs(executed[DEMOS[0]])
              if "<video" in _text(data.get("text/html", ""))]
    assert len(videos) == 2, [c for c, _ in videos]   # the apixo job and the xAI result
    for cell, markup in videos:
        assert "<script" not in markup.lower(), cell
        assert html_problems(markup) == [], (cell, html_problems(markup))
        assert 'src="data:video/mp4;base64,' in markup, (cell, markup[:300])


@pytest.mark.timeout(600)
def test_widgets_degrade_to_a_clear_static_view(
        executed: dict[str, nbformat.NotebookNode]) -> None:
    """The form's saved output says what it is to a renderer without the widget manager."""
    widgets = [(cell, data) for cell, data in rich_outputs(executed["03_form.ipynb"])
               if WIDGET in data]
    assert len(widgets) == 1, widgets
    _cell, data = widgets[0]
    text, markup = _text(data["text/plain"]), _text(data["text/html"])
    assert text.startswith("gv.form()"), text
    assert "gv.form()" in markup and "need a running kernel with ipywidgets" in markup, markup
    assert html_problems(markup) == []
