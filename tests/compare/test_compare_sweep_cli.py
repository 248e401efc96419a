"""`gv.sweep` and the command line (`python -m grokvid_nb compare|providers`)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import grokvid_nb as gv
from grokvid_nb.__main__ import main

REQUIRED = ["provider", "model", "status", "latency_s", "polls", "cost_usd", "cost_source",
            "video_url", "error", "task_id"]


@pytest.mark.parametrize("pyarrow_missing", [False, True], ids=["parquet", "csv-fallback"])
def test_sweep_prompts_by_grid(sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                               pyarrow_missing: bool) -> None:
    out = tmp_path / "sweep.parquet"
    kw: dict[str, Any] = dict(providers=["apixo", "pixazo"], grid={"duration": [6, 12]}, path=out,
                              progress=False, resolution="480p")
    if not pyarrow_missing:
        df = gv.sweep(["a fox", "a heron"], **kw)
        saved = pd.read_parquet(out)
        assert df.attrs["path"] == str(out)
    else:  # Parquet needs pyarrow: the table is written as CSV beside it, with a warning
        def no_pyarrow(*_a: Any, **_k: Any) -> None:
            raise ImportError("Unable to find a usable engine; tried using: 'pyarrow'")

        monkeypatch.setattr(pd.DataFrame, "to_parquet", no_pyarrow)
        with pytest.warns(RuntimeWarning, match="pyarrow"):
            df = gv.sweep(["a fox", "a heron"], **kw)
        saved = pd.read_csv(out.with_suffix(".csv"))
        assert df.attrs["path"] == str(out.with_suffix(".csv"))
    assert len(df) == 2 * 2 * 2 and len(saved) == len(df)
    assert list(df.columns[:2]) == ["prompt", "duration"] and "duration_sent" in df.columns
    assert set(REQUIRED) <= set(df.columns) and set(REQUIRED) <= set(saved.columns)
    status = df.set_index(["prompt", "duration", "provider"])["status"]
    assert status[("a fox", 12, "pixazo")] == "skipped"           # text route stops at 10 s
    assert status[("a heron", 12, "apixo")] == "succeeded"
    assert status[("a fox", 6, "pixazo")] == "succeeded"
    assert sandbox.stats.submits["apixo"] == 4 and sandbox.stats.submits["pixazo"] == 2


def test_sweep_budget_covers_the_whole_sweep(sandbox: Any) -> None:
    # each combination alone ($0.30 at 480p) fits under $1; the sweep ($1.20) does not
    with pytest.raises(gv.BudgetExceededError):
        gv.sweep(["a", "b"], providers=["xai"], grid={"duration": [6, 6]}, max_cost_usd=1.0,
                 progress=False, resolution="480p", aspect_ratio=["16:9"][0], repeats=2)
    assert sum(sandbox.stats.submits.values()) == 0
    with pytest.raises(ValueError, match="both in grid"):
        gv.sweep("a", providers=["xai"], grid={"duration": [6]}, duration=6)
    with pytest.raises(ValueError, match="suffix"):
        gv.sweep("a", providers=["xai"], path="out.xlsx")


def test_cli_providers_in_process(capsys: Any) -> None:
    assert main(["providers"]) == 0
    out = capsys.readouterr().out
    for name in ("xai", "apixo", "pixazo", "xingchao", "apiinone", "grok_video3_pro", "$0.015/s at 480p"):
        assert name in out


def _run_cli(args: list[str], cwd: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env.pop("GROKVID_TIME_SCALE", None)
    env["GROKVID_HOME"] = str(home)
    return subprocess.run([sys.executable, "-m", "grokvid_nb", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_cli_compare_in_the_sandbox(tmp_path: Path) -> None:
    csv = tmp_path / "out.csv"
    proc = _run_cli(["compare", "a lakeside at sunset", "--providers", "xai,apixo", "--repeats", "2",
                     "--sandbox", "--duration", "6", "--resolution", "480p", "--aspect-ratio", "16:9",
                     "--csv", str(csv), "--time-scale", "0.02"], tmp_path, tmp_path / "home")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "results:" in out and "summary:" in out and f"wrote {csv}" in out
    assert "success_rate" in out and "median_latency_s" in out
    assert out.count("succeeded") >= 4 and "0.09" in out and "reported" in out
    assert "compare: estimated $0.78 for 4 new jobs" in proc.stderr  # 2 x 0.30 + 2 x 0.09
    df = pd.read_csv(csv)
    assert set(REQUIRED + ["request", "duration", "resolution", "aspect_ratio", "note"]) <= set(df.columns)
    assert len(df) == 4 and (df["status"] == "succeeded").all()
    assert sorted(df["cost_usd"]) == pytest.approx([0.09, 0.09, 0.30, 0.30])


@pytest.mark.timeout(60)
def test_cli_compare_with_a_local_image(home: Path, tmp_path: Path, capsys: Any) -> None:
    import hashlib

    from ..spend.conftest import png

    data = png()
    image = tmp_path / "cat.png"
    image.write_bytes(data)
    csv = tmp_path / "images.csv"
    code = main(["compare", "a red card", "--providers", "xai,apixo", "--sandbox", "--image", str(image),
                 "--csv", str(csv), "--time-scale", "0.001", "--quiet"])
    assert code == 0, capsys.readouterr().err
    df = pd.read_csv(csv)
    assert list(df["status"]) == ["succeeded", "succeeded"] and set(df["mode"]) == {"image-to-video"}
    fingerprint = "sha256:" + hashlib.sha256(data).hexdigest()
    assert all(f'"image_urls": ["{fingerprint}"]' in request for request in df["request"])
    assert set(df["url_status"]) == {"live"}


@pytest.mark.slow
def test_cli_default_csv_path_and_budget_refusal(tmp_path: Path) -> None:
    proc = _run_cli(["compare", "cheap", "--providers", "apiinone", "--sandbox"], tmp_path, tmp_path / "home")
    assert proc.returncode == 0, proc.stderr
    written = list(tmp_path.glob("grokvid-compare-*.csv"))
    assert len(written) == 1 and str(written[0].resolve()) in proc.stdout

    refused = _run_cli(["compare", "dear", "--providers", "xai", "--sandbox", "--repeats", "3",
                        "--max-cost", "0.01"], tmp_path, tmp_path / "home2")
    assert refused.returncode == 1
    assert "error:" in refused.stderr and "nothing was sent" in refused.stderr
    assert len(list(tmp_path.glob("grokvid-compare-*.csv"))) == 1


def test_cli_tables_say_unknown_for_a_missing_cost_and_leave_other_gaps_empty() -> None:
    from grokvid_nb.__main__ import _print_frame

    df = pd.DataFrame({"provider": ["xingchao", "apiinone"], "duration": [6.0, float("nan")],
                       "cost_usd": [float("nan"), 0.048]})
    out = io.StringIO()
    _print_frame(df, out)
    text = out.getvalue()
    assert "NaN" not in text
    lines = text.splitlines()
    assert lines[1].split() == ["xingchao", "6", "unknown"]
    assert lines[2].split() == ["apiinone", "0.048"]  # a dropped duration does not apply: empty
