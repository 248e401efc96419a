"""`summarize`, `gallery`, `plot`, `history` on data a real run can produce but the sandbox's
default profiles rarely do: every job failed / timed out / ended unknown, unknown prices beside
known ones, one provider and one sample, hostile provider text, saved tables whose files or
URLs are gone."""

from __future__ import annotations

import io
import re
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import grokvid_nb as gv
from grokvid_nb._compare import save_table
from grokvid_nb._compare.table import COLUMNS, make_row
from grokvid_nb._frame import table as no_math_table
from grokvid_nb._types import ResultData, State

#: Provider text as hostile as a reply can make it: dollars, markup, a cell end, backticks,
#: a newline, bidi override and zero-width characters, and length.
EVIL = ("costs $5 and $6 <script>alert(1)</script> </td> `rm -rf` \nline two "
        "\u202eevil\u202c\u200b " + "x" * 5000)
EVIL_HTML = ("costs $5 and $6 &lt;script&gt;alert(1)&lt;/script&gt; &lt;/td&gt; `rm -rf` \nline two "
             "\u202eevil\u202c\u200b " + "x" * 5000)


def frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame([{c: r.get(c) for c in COLUMNS} for r in rows], columns=list(COLUMNS))


def ok(provider: str, latency: float, cost: float | None, **extra: Any) -> dict[str, Any]:
    row = dict(provider=provider, model=f"{provider}-m", status="succeeded", latency_s=latency,
               cost_usd=cost, cost_source="estimated" if cost is not None else "unknown",
               video_duration=6.0, video_url=f"https://cdn.example/{provider}-{latency}.mp4")
    row.update(extra)
    return row


def _no_live_jobs(monkeypatch: pytest.MonkeyPatch) -> None:
    """As in a later kernel: no job of the table is in memory."""
    from grokvid_nb._compare import run

    monkeypatch.setattr(run, "recent_job", lambda job_id: None)


def _plot_texts(fig: Any) -> tuple[str, list[str], list[str]]:
    ax = fig.axes[0]
    legends = [t.get_text() for legend in fig.legends for t in legend.get_texts()]
    return ax.get_title(), [t.get_text() for t in ax.texts], legends


def _cells(html: str) -> list[str]:
    return html.split('<div class="grokvid-gallery-cell"')[1:]


# ---- every job failed / timed out / ended unknown -----------------------------------------

@pytest.mark.timeout(60)
def test_a_compare_where_every_job_failed(sandbox: Any) -> None:
    df = gv.compare("a lake [sandbox:fail=timeout]", providers=["xai", "apixo", "pixazo"],
                    progress=False, duration=6)
    assert list(df["status"]) == ["failed"] * 3
    errors = dict(zip(df["provider"], df["error"], strict=True))
    s = gv.summarize(df).set_index("provider")
    assert s["n"].tolist() == [1, 1, 1] and s["succeeded"].tolist() == [0, 0, 0]
    assert s["success_rate"].tolist() == [0.0, 0.0, 0.0]
    assert s["median_latency_s"].isna().all() and s["p95_latency_s"].isna().all()
    # Pixazo documents its failures as not charged: a known 0.0, but no video, so no cost per second
    assert s.loc["pixazo", "spent_usd"] == 0.0 and s.loc["pixazo", "cost_source"] == "not charged"
    assert pd.isna(s.loc["pixazo", "cost_per_video_s"])
    assert pd.isna(df.set_index("provider").loc["pixazo", "cost_per_video_s"])
    assert pd.isna(s.loc["xai", "spent_usd"])  # an unknown cost, never shown as 0
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", gv.summarize(df)._repr_html_())
    assert "NaN" not in cells and "None" not in cells and "unknown" in cells

    g = gv.gallery(df)
    assert repr(g) == "<Gallery: 0 of 3 videos>" and "<video" not in g.html
    shown = _cells(g.html)
    assert len(shown) == 3
    for provider, cell in zip(df["provider"], shown, strict=True):
        assert f"<b>{provider}</b>" in cell and ">failed</b>" in cell
        assert f'<div style="white-space:pre-wrap">{errors[provider]}</div>' in cell

    title, texts, legends = _plot_texts(gv.plot(df))
    assert title == "latency vs cost (0 succeeded jobs)"
    assert texts == ["no succeeded jobs to plot"] and legends == []


@pytest.mark.timeout(60)
def test_a_compare_that_timed_out_says_the_jobs_may_still_finish(sandbox: Any) -> None:
    df = gv.compare("a slow lake [sandbox:latency=300]", providers=["xai", "apixo"], progress=False,
                    duration=6, timeout=0.3)
    message = "compare(timeout=0.3) ran out; the task may still finish: gv.resume() re-attaches"
    assert list(df["status"]) == ["timed_out"] * 2 and list(df["error"]) == [message] * 2
    s = gv.summarize(df)
    assert s["succeeded"].tolist() == [0, 0] and s["spent_usd"].isna().all()  # may still be charged
    cells = _cells(gv.gallery(df).html)
    assert len(cells) == 2
    assert all(">timed_out</b>" in c and message in c for c in cells)
    assert _plot_texts(gv.plot(df))[1] == ["no succeeded jobs to plot"]


def test_rows_that_ended_unknown_or_never_started() -> None:
    df = frame([
        dict(provider="xai", model="m", status="unknown", error="submit_reply_lost: no reply"),
        dict(provider="apixo", model="m", status="not_started", note="interrupted before sending"),
        dict(provider="pixazo", model="m", status="unknown"),  # nothing said at all
    ])
    s = gv.summarize(df).set_index("provider")
    assert s.loc["xai", ["n", "succeeded", "success_rate"]].tolist() == [1, 0, 0.0]
    assert pd.isna(s.loc["xai", "spent_usd"]) and s.loc["apixo", "spent_usd"] == 0.0
    cells = _cells(gv.gallery(df).html)
    assert ">unknown</b>" in cells[0] and "submit_reply_lost: no reply" in cells[0]
    assert ">not_started</b>" in cells[1] and "interrupted before sending" in cells[1]
    assert ">unknown</b>" in cells[2] and "no message from the provider" in cells[2]


def test_an_empty_table_and_all_empty_columns() -> None:
    empty = frame([])
    assert gv.summarize(empty).empty and list(gv.summarize(empty).columns)[:3] == ["provider", "model", "n"]
    assert gv.gallery(empty).html.endswith(">No rows to show.</div>")
    # every optional column all-NaN floats (as a CSV of a failed run reads back)
    df = frame([dict(provider="xai", model="m", status="failed", error="boom")])
    df = df.apply(lambda c: c.astype("float64") if c.isna().all() else c)
    s = gv.summarize(df).iloc[0]
    assert (s["n"], s["succeeded"], s["success_rate"]) == (1, 0, 0.0) and pd.isna(s["mean_cost_usd"])
    assert "boom" in gv.gallery(df).html and _plot_texts(gv.plot(df))[1] == ["no succeeded jobs to plot"]


# ---- costs: unknown beside known, failures beside videos ----------------------------------

def test_an_unknown_price_is_never_counted_as_zero() -> None:
    df = frame([ok("xai", 10.0, 0.30, job_id="a"), ok("xai", 12.0, None, job_id="b"),
                ok("xingchao", 30.0, None, job_id="c")])
    s = gv.summarize(df).set_index("provider")
    # the mean is over the known costs (0.30, not 0.15), the source says one was unknown,
    # and what this run spent is unknown
    assert s.loc["xai", "mean_cost_usd"] == pytest.approx(0.30)
    assert s.loc["xai", "cost_per_video_s"] == pytest.approx(0.05)
    assert s.loc["xai", "cost_source"] == "estimated, unknown" and pd.isna(s.loc["xai", "spent_usd"])
    assert pd.isna(s.loc["xingchao", "mean_cost_usd"]) and pd.isna(s.loc["xingchao", "cost_per_video_s"])
    html = gv.summarize(df)._repr_html_()
    assert re.findall(r"<td[^>]*>(unknown|0\.0|0)</td>", html).count("0.0") == 0
    _, _, legends = _plot_texts(gv.plot(df))
    assert legends == ["xai · xai-m", "xai · xai-m (cost unknown, drawn at 0)",
                       "xingchao · xingchao-m (cost unknown, drawn at 0)"]


def test_free_failures_do_not_lower_the_cost_per_second_of_video() -> None:
    """Pixazo's failures are documented as not charged (0.0): two of them beside two 6 s videos
    at $0.42 leave the cost per second of video at $0.07, not $0.035."""
    fail = dict(provider="pixazo", model="pixazo-m", status="failed", cost_usd=0.0,
                cost_source="not charged", video_duration=6.0, error="ERROR: timed out")
    df = frame([ok("pixazo", 10.0, 0.42), ok("pixazo", 11.0, 0.42), fail, fail])
    s = gv.summarize(df).iloc[0]
    assert s["cost_per_video_s"] == pytest.approx(0.07) and s["mean_cost_usd"] == pytest.approx(0.21)
    assert s["spent_usd"] == pytest.approx(0.84)
    result = ResultData(provider="pixazo", model="m", mode="text-to-video", status=State.FAILED,
                        task_id="t", prompt="p", params={}, cost_usd=0.0, cost_source="not charged",
                        video_duration=6.0, error_code="ERROR")
    row = make_row(provider="pixazo", model="m", mode="text-to-video", params={}, sample=0, note="",
                   estimated=0.42, result=result)  # type: ignore[arg-type]
    assert row["cost_usd"] == 0.0 and row["cost_per_video_s"] is None


def test_one_provider_one_sample_and_many() -> None:
    one = gv.summarize(frame([ok("xai", 10.0, 0.30)])).iloc[0]
    assert (one["n"], one["succeeded"], one["median_latency_s"], one["p95_latency_s"]) == (1, 1, 10.0, 10.0)
    many = gv.summarize(frame([ok("xai", float(i), 0.30) for i in range(1, 21)])).iloc[0]
    assert many["median_latency_s"] == pytest.approx(10.5) and many["p95_latency_s"] == pytest.approx(19.05)
    assert _plot_texts(gv.plot(frame([ok("xai", 10.0, 0.30)]))) == (
        "latency vs cost (1 succeeded job)", [], ["xai · xai-m"])
    assert repr(gv.gallery(frame([ok("xai", 10.0, 0.30, sample=0)]))) == "<Gallery: 1 of 1 videos>"


# ---- hostile provider text ----------------------------------------------------------------

def test_hostile_provider_text_is_escaped_in_the_table_and_the_gallery() -> None:
    df = no_math_table(frame([
        dict(provider="xai", model="m", status="failed", error=EVIL, task_id="<b>t'1\"</b>", note=EVIL),
        ok("apixo", 2.0, 0.09, video_url='https://cdn.example/a".mp4?x=<y>&z=$5'),
        ok("pixazo", 3.0, 0.42, video_url="JaVaScRiPt:alert('$1')"),
    ]))
    html = df._repr_html_()
    assert "<script>" not in html and "<b>t" not in html
    # whole, escaped, dollars kept (pandas shows a newline in a cell as the two characters \n)
    assert EVIL_HTML.replace("\n", "\\n") in html
    assert ">&lt;b&gt;t'1\"&lt;/b&gt;</td>" in html
    assert 'class="dataframe tex2jax_ignore mathjax_ignore"' in html

    gallery = gv.gallery(df).html
    assert "<script>" not in gallery and "</td>" not in gallery
    assert f'<div style="white-space:pre-wrap">{EVIL_HTML}</div>' in gallery  # whole, escaped
    srcs = re.findall(r'(?:src|href)="([^"]*)"', gallery)
    assert srcs == []  # neither the quoted URL nor the javascript: one is played or linked
    assert ("got <code>https://cdn.example/a&quot;.mp4?x=&lt;y&gt;&amp;z=$5</code>" in gallery)
    assert "got <code>JaVaScRiPt:alert(&#x27;$1&#x27;)</code>" in gallery


def test_history_escapes_prompts_and_errors(tmp_path: Path) -> None:
    from grokvid_nb._ledger import Ledger

    ledger = Ledger(tmp_path / "ledger.sqlite")
    job = ledger.record_intent(provider="apixo", model="grok-video", mode="text-to-video", prompt=EVIL,
                               params={"duration": 6}, endpoint="https://x.test", fingerprint="f",
                               sample_index=0)
    ledger.update(job, state="failed", error_code="<E$1>", error_message=EVIL, task_id="`t`</td>")
    html = gv.history(ledger=ledger)._repr_html_()
    assert "<script>" not in html and "</td>`" not in html
    assert html.count(EVIL_HTML.replace("\n", "\\n")) == 2  # the prompt and the message, whole
    assert "&lt;E$1&gt;" in html and "`t`&lt;/td&gt;" in html
    assert html.startswith('<div class="grokvid-table mathjax_ignore tex2jax_ignore"')


def test_plot_shows_dollars_as_typed_and_never_fails_on_mathtext() -> None:
    df = frame([ok("xai", 10.0, 0.30, model="$5 and $6"), ok("apixo", 12.0, 0.09, model=r"$\frac{")])
    fig = gv.plot(df, title=r"Grok at $5 and $6 \undefined$")
    title, _, legends = _plot_texts(fig)
    assert title == r"Grok at $5 and $6 \undefined$"
    assert legends == ["xai · $5 and $6", r"apixo · $\frac{"]
    texts = [fig.axes[0].title, *(t for legend in fig.legends for t in legend.get_texts())]
    assert not any(t.get_parse_math() for t in texts)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")  # mathtext would raise ValueError on "$\frac{" / "\undefined"
    assert buffer.getvalue()[:4] == b"\x89PNG"


# ---- a saved table in a later kernel ------------------------------------------------------

def test_a_reloaded_table_never_plays_a_dead_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _no_live_jobs(monkeypatch)
    folder = tmp_path / 'my "clips" dir'
    folder.mkdir()
    clip = folder / "it's a clip.mp4"
    clip.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64)
    deleted = folder / "deleted since.mp4"
    df = frame([
        # an in-process sandbox URL whose kept copy was deleted: nothing can play it
        ok("xai", 1.0, 0.3, video_url="http://j1.sandbox.invalid/v.mp4", local_path=str(deleted)),
        # the same with its copy in place: played from the copy
        ok("apixo", 1.0, 0.09, video_url="http://j2.sandbox.invalid/v.mp4", local_path=str(clip)),
        # succeeded, but the row has no URL at all
        ok("pixazo", 1.0, 0.42, video_url=None),
        # a live provider URL whose copy was deleted: the URL still plays
        ok("apiinone", 1.0, 0.1, url_expires_at=pd.Timestamp(time.time() + 3600, unit="s", tz="UTC"),
           local_path=str(deleted)),
    ])
    back = pd.read_csv(save_table(df, tmp_path / "t.csv"))
    g = gv.gallery(back)
    xai, apixo, _pixazo, apiinone = g.cells
    assert xai.src == "" and xai.note == "this URL cannot be loaded by a browser (in-process sandbox) and its job is gone"
    cells = _cells(g.html)
    assert "<video" not in cells[0] and "sandbox.invalid" not in cells[0]
    assert ">succeeded · no video to show</b>" in cells[0] and xai.note in cells[0]
    assert apixo.src is not None and apixo.src.startswith("data:video/mp4;base64,")
    assert "embedded from the local copy it&#x27;s a clip.mp4" in cells[1]
    assert ">succeeded · no video to show</b>" in cells[2] and "the row has no video URL" in cells[2]
    assert apiinone.src == "https://cdn.example/apiinone-1.0.mp4" and '<video src="https://cdn.example/' in cells[3]
    assert repr(g) == "<Gallery: 2 of 4 videos>"
