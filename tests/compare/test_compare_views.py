"""`summarize`, `gallery`, `plot` and the progress displays."""

from __future__ import annotations

import io
from typing import Any

import pandas as pd
import pytest

import grokvid_nb as gv
from grokvid_nb._compare.progress import Line, NotebookReporter, TerminalReporter, progress_html
from grokvid_nb._compare.table import COLUMNS, SUMMARY_COLUMNS
from grokvid_nb._compare.views import GalleryCell, gallery_html


def table(rows: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame([{c: r.get(c) for c in COLUMNS} for r in rows], columns=list(COLUMNS))


def ok(provider: str, latency: float, cost: float | None, seconds: float = 6.0, **extra: Any) -> dict:
    return dict(provider=provider, model=f"{provider}-m", status="succeeded", latency_s=latency,
                cost_usd=cost, cost_source="estimated" if cost is not None else None,
                video_duration=seconds, video_url=f"https://cdn.example/{provider}-{latency}.mp4",
                **extra)


def test_summarize_numbers() -> None:
    df = table([
        ok("xai", 10.0, 0.30), ok("xai", 20.0, 0.30), ok("xai", 30.0, 0.60, seconds=12.0),
        dict(provider="xai", model="xai-m", status="failed", latency_s=99.0, error="moderation"),
        ok("xingchao", 50.0, None),
        dict(provider="pixazo", model="pixazo-m", status="skipped", note="skipped: 3-10 s"),
    ])
    s = gv.summarize(df).set_index("provider")
    assert list(gv.summarize(df).columns) == list(SUMMARY_COLUMNS)
    xai = s.loc["xai"]
    assert xai["n"] == 4 and xai["succeeded"] == 3 and xai["success_rate"] == pytest.approx(0.75)
    assert xai["median_latency_s"] == pytest.approx(20.0)     # successful jobs only
    assert xai["p95_latency_s"] == pytest.approx(29.0)
    assert xai["mean_cost_usd"] == pytest.approx(0.40)
    assert xai["cost_per_video_s"] == pytest.approx(1.20 / 24.0)
    assert xai["cost_source"] == "estimated"
    assert pd.isna(s.loc["xingchao", "mean_cost_usd"]) and s.loc["xingchao", "cost_source"] == "unknown"
    pixazo = s.loc["pixazo"]
    assert pixazo["n"] == 0 and pixazo["skipped"] == 1 and pd.isna(pixazo["success_rate"])
    with pytest.raises(ValueError, match="not a compare"):
        gv.summarize(pd.DataFrame({"x": [1]}))


def test_gallery_escapes_and_refuses_bad_sources() -> None:
    evil = "<script>alert(1)</script>"
    df = table([
        ok("xai", 1.0, 0.3, note=evil),
        dict(ok("apixo", 2.0, 0.09), video_url="javascript:alert(1)"),
        dict(provider="pixazo", model="p", status="failed", error=f"bad {evil}"),
        dict(provider="apiinone", model="a", status="skipped", note="skipped: no knob"),
    ])
    g = gv.gallery(df)
    html = g._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'src="javascript' not in html
    assert '<video src="https://cdn.example/xai-1.0.mp4"' in html
    assert "skipped: no knob" in html and "failed" in html
    assert "xai · xai-m" in html and "$0.30 estimated" in html
    assert len(g.cells) == 4 and "Gallery" in repr(g)


def test_gallery_html_is_pure_and_gridded() -> None:
    cells = [GalleryCell("xai", "m", "succeeded", "https://cdn.example/a.mp4", "cap \"q\"")]
    assert gallery_html(cells, columns=2) == gallery_html(cells, columns=2)
    # at most two columns (each a share of the width), fewer where a share would be too narrow
    assert "grid-template-columns:repeat(auto-fill,minmax(min(100%,max(160px,calc((100% - 8px) / 2 - 1px))),1fr))" \
        in gallery_html(cells, columns=2)
    assert "cap &quot;q&quot;" in gallery_html(cells)
    assert "No rows" in gallery_html([])


def test_gallery_inlines_sandbox_clips(sandbox: Any) -> None:
    df = gv.compare("a kite", providers=["apixo", "xai"], progress=False, duration=6, resolution="480p")
    html = gv.gallery(df).html
    # http://<id>.sandbox.invalid never loads in a browser, so the clips are downloaded and inlined
    assert html.count('<video src="data:video/mp4;base64,') == 2
    assert "sandbox.invalid" not in html.split("<figcaption")[0]
    assert "apixo · grok-video · #0 · 6 s 480p 3:2" in html


def test_plot_latency_vs_cost() -> None:
    from matplotlib.figure import Figure

    df = table([ok("xai", 10.0, 0.30), ok("apixo", 40.0, 0.09), ok("xingchao", 60.0, None),
                dict(provider="pixazo", model="p", status="failed", latency_s=5.0)])
    fig = gv.plot(df)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "latency (s)" and "cost" in ax.get_ylabel()
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert any(label.startswith("xai") for label in labels)
    assert any("xingchao" in label and "unknown" in label for label in labels)
    assert not any("pixazo" in label for label in labels)  # failed jobs are not plotted
    # shows itself in a notebook (and a saved one) without pyplot's inline backend
    from IPython.core.formatters import format_display_data

    bundle, _ = format_display_data(fig)
    assert bundle["image/png"][:8] == b"\x89PNG\r\n\x1a\n"
    buf = io.BytesIO()
    fig.savefig(buf, format="png")  # renders without pyplot or a display
    assert buf.getvalue()[:4] == b"\x89PNG"
    assert isinstance(gv.plot(table([])), Figure)


def _boxes(fig: object) -> list[tuple[str, object]]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)  # type: ignore[arg-type]
    canvas.draw()
    renderer = canvas.get_renderer()
    ax = fig.axes[0]  # type: ignore[attr-defined]
    texts = [ax.title, ax.xaxis.label, ax.yaxis.label, *ax.get_xticklabels(), *ax.get_yticklabels(),
             *ax.texts, *(t for legend in fig.legends for t in legend.get_texts())]  # type: ignore[attr-defined]
    unique = [t for t in texts if t.get_text() and t.get_visible()]
    return [(t.get_text(), t.get_window_extent(renderer)) for t in unique]


def test_plot_labels_never_overlap_and_each_provider_keeps_its_colour() -> None:
    """Five providers at nearly the same point (the case that printed "xapixazo"): no two
    texts of the figure overlap, and a provider's colour is the same in two different plots."""
    from matplotlib.colors import to_hex

    from grokvid_nb._html import PROVIDER_COLORS

    names = ["xai", "apixo", "pixazo", "xingchao", "apiinone"]
    fig = gv.plot(table([ok(name, 10.0 + i * 0.05, 0.30) for i, name in enumerate(names)]))
    boxes = _boxes(fig)
    assert len(boxes) >= 8  # title, axis labels, ticks, five legend entries
    for i, (text_a, a) in enumerate(boxes):
        for text_b, b in boxes[i + 1:]:
            assert not a.overlaps(b), (text_a, text_b)

    def colours(figure: object) -> dict[str, str]:
        ax = figure.axes[0]  # type: ignore[attr-defined]
        return {c.get_label().split(" · ")[0]: to_hex(c.get_facecolor()[0], keep_alpha=False)
                for c in ax.collections}

    first = colours(fig)
    second = colours(gv.plot(table([ok("pixazo", 3.0, 0.1), ok("xai", 50.0, 0.5)])))
    assert first == {name: PROVIDER_COLORS[name] for name in names}
    assert second == {"pixazo": PROVIDER_COLORS["pixazo"], "xai": PROVIDER_COLORS["xai"]}


def test_progress_html_escapes() -> None:
    html = progress_html([Line("k", "xai <b>", "running", 1.0, 42.0, "", "<img src=x>")], "t<")
    assert "<img" not in html and "&lt;img src=x&gt;" in html and "42%" in html and "t&lt;" in html


def test_terminal_reporter_without_tty() -> None:
    stream = io.StringIO()
    rep = TerminalReporter(stream)
    lines = [Line("a", "xai #0", "running"), Line("b", "apixo #0", "succeeded", 2.0, None, "$0.09 estimated")]
    rep.update(lines)
    rep.update(lines)  # a finished job is reported once
    rep.end([Line("a", "xai #0", "failed", 3.0), lines[1]])
    out = stream.getvalue()
    assert out.count("apixo #0: succeeded in 2.0 s, $0.09 estimated") == 1
    assert "compare [2/2] xai #0: failed in 3.0 s" in out
    assert "2/2 done: 1 failed, 1 succeeded" in out  # counted in the order of the lines


def test_notebook_reporter_updates_one_display(monkeypatch: pytest.MonkeyPatch) -> None:
    shown: list[Any] = []

    class Handle:
        def __init__(self) -> None:
            self.updates: list[Any] = []

        def update(self, obj: Any) -> None:
            self.updates.append(obj)

    handle = Handle()

    def display(obj: Any, display_id: bool = False) -> Any:
        shown.append(obj)
        return handle if display_id else None

    rep = NotebookReporter(interval=10.0)
    rep._display = display
    rep.estimate("estimated $0.30", [("xai", "1 x $0.300 = $0.30")])
    lines = [Line("a", "xai #0", "running", 0.5, 10.0)]
    rep.update(lines)
    rep.update(lines)  # throttled: no redraw within the interval
    assert len(shown) == 2 and handle.updates == []
    rep.end([Line("a", "xai #0", "succeeded", 1.0, 100.0, "$0.30 reported")])
    assert len(handle.updates) == 1
    final = handle.updates[0].data
    assert "succeeded" in final and "$0.30 reported" in final and "xai #0" in final
    assert "estimated $0.30" in shown[0].data


def test_summarize_spent_counts_each_job_once_and_never_an_unknown_as_zero() -> None:
    """`spent_usd`: a job submitted here counts its cost once however many rows show it; a
    reused row (also as CSV text "True") or a skipped one counts 0.0; a new job of unknown cost
    makes the sum unknown."""
    df = table([
        ok("xai", 10.0, 0.30, job_id="a", reused=False),
        ok("xai", 10.0, 0.30, job_id="a", reused="True"),       # the same job again, reused
        ok("xai", 12.0, 0.60, job_id="b", reused="True"),       # paid by an earlier run
        ok("xingchao", 50.0, None, job_id="c", reused=False),   # new, price unknown
        ok("xingchao", 40.0, 0.25, job_id="d", reused=True),
        dict(provider="pixazo", model="pixazo-m", status="skipped", note="skipped: 3-10 s"),
    ])
    s = gv.summarize(df).set_index("provider")
    assert s.loc["xai", ["n", "succeeded", "reused", "spent_usd"]].tolist() == [2, 2, 2, 0.30]
    assert s.loc["xai", "mean_cost_usd"] == pytest.approx(0.45)
    assert s.loc["xingchao", ["n", "reused"]].tolist() == [2, 1] and pd.isna(s.loc["xingchao", "spent_usd"])
    assert s.loc["pixazo", ["n", "skipped", "reused", "spent_usd"]].tolist() == [0, 1, 0, 0.0]
