"""`gv.providers()` (one row per provider/model/mode, the documented limits) and cost.

Cost: a reported cost wins (xAI reports ticks, 1 USD = 10**10 ticks); otherwise the price table
estimates; None where nothing is published (xingchao).
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest

import grokvid_nb as gv
from grokvid_nb import _sandbox_mode
from grokvid_nb.adapters import PROVIDER_NAMES

EXPECTED_ROWS = {
    ("xai", "grok-imagine-video", mode)
    for mode in ("text-to-video", "image-to-video", "reference-to-video", "edit", "extend")
} | {
    ("xai", "grok-imagine-video-1.5-preview", "image-to-video"),
} | {
    ("apixo", "grok-video", "text-to-video"), ("apixo", "grok-video", "image-to-video"),
    ("pixazo", "grok-imagine-video", "text-to-video"), ("pixazo", "grok-imagine-video", "image-to-video"),
    ("pixazo", "grok-imagine-video", "reference-to-video"), ("pixazo", "grok-imagine-video", "edit"),
    ("apiinone", "grok-imagine", "text-to-video"), ("apiinone", "grok-imagine", "image-to-video"),
} | {
    ("xingchao", m, mode) for m in ("grok_video3", "grok_video3_pro", "grok_video3_max", "grok_video3_stable")
    for mode in ("text-to-video", "image-to-video")
}

XAI_RATIOS = "16:9, 9:16, 1:1, 4:3, 3:4, 3:2, 2:3"
PIXAZO_RATIOS = "16:9, 4:3, 3:2, 1:1, 2:3, 3:4, 9:16"

# (provider, model, mode) -> the documented limits, as the table shows them
DOCUMENTED = {
    ("xai", "grok-imagine-video", "text-to-video"): dict(
        durations="1-15 s", default_duration=6, resolutions="480p, 720p", aspect_ratios=XAI_RATIOS,
        images="-", video_input=False,
        price="$0.05/s at 480p, $0.07/s at 720p, +$0.002 per input image", reports_cost=True,
        failed_jobs="unknown: xAI bills per second of output; a failed job's cost is not documented; "
                    "a moderated job reports its cost when it has one"),
    ("xai", "grok-imagine-video", "image-to-video"): dict(
        durations="1-15 s", images="1-1", image_schemes="http, https, data",
        default_aspect_ratio="provider decides"),
    ("xai", "grok-imagine-video", "reference-to-video"): dict(durations="1-10 s", images="1-7"),
    ("xai", "grok-imagine-video-1.5-preview", "image-to-video"): dict(
        durations="1-15 s", images="1-1",
        price="$0.08/s at 480p, $0.14/s at 720p, +$0.01 per input image"),
    ("xai", "grok-imagine-video", "edit"): dict(
        durations="not settable", resolutions="-", aspect_ratios="-", video_input=True),
    ("xai", "grok-imagine-video", "extend"): dict(
        durations="2-10 s", default_duration=6, resolutions="-", aspect_ratios="-", video_input=True),
    ("apixo", "grok-video", "text-to-video"): dict(
        durations="6-30 s", default_duration=6, resolutions="480p, 720p",
        aspect_ratios="1:1, 3:2, 2:3, 16:9, 9:16", images="-", prompt_max=5000,
        price="$0.015/s at 480p, $0.03/s at 720p", reports_cost=False),
    ("apixo", "grok-video", "image-to-video"): dict(
        durations="6-30 s", images="1-1", image_schemes="http, https", prompt_max=5000),
    ("pixazo", "grok-imagine-video", "text-to-video"): dict(
        durations="3-10 s", default_duration=6, resolutions="480p, 720p", aspect_ratios=PIXAZO_RATIOS,
        price="$0.05/s at 480p, $0.07/s at 720p", reports_cost=False),
    ("pixazo", "grok-imagine-video", "image-to-video"): dict(
        durations="3-10 s", aspect_ratios="auto, " + PIXAZO_RATIOS, images="1-1"),
    ("pixazo", "grok-imagine-video", "reference-to-video"): dict(
        durations="3-15 s", default_duration=8, images="1-7"),
    ("pixazo", "grok-imagine-video", "edit"): dict(
        durations="not settable", resolutions="auto, 480p, 720p", video_input=True,
        price="$0.06/s at 480p, $0.08/s at 720p",
        failed_jobs="charged: FAILED is charged; ERROR (a system error) is not"),
    ("xingchao", "grok_video3", "text-to-video"): dict(
        durations="6-30 s", default_duration=10, resolutions="480p, 720p",
        aspect_ratios="16:9, 9:16, 1:1, 3:2, 2:3", price="not published", reports_cost=False,
        result_urls_last="24 h"),
    ("xingchao", "grok_video3", "image-to-video"): dict(images="1-7", image_schemes="http, https, data"),
    ("xingchao", "grok_video3_pro", "text-to-video"): dict(
        durations="10 s", resolutions="720p", aspect_ratios="16:9", price="not published"),
    ("xingchao", "grok_video3_max", "image-to-video"): dict(
        durations="6, 10, 12, 16, 20, 30 s", aspect_ratios="16:9, 9:16, 1:1", images="1-5",
        image_schemes="http, https"),
    ("xingchao", "grok_video3_stable", "image-to-video"): dict(
        durations="10 s", resolutions="720p", aspect_ratios="16:9, 9:16, 3:2, 2:3, 1:1", images="1-7",
        image_schemes="http, https"),
    ("apiinone", "grok-imagine", "text-to-video"): dict(
        durations="not settable", resolutions="-", aspect_ratios="-", images="-", prompt_max=5000,
        price="$0.048 per video", reports_cost=False,
        failed_jobs="unknown: not documented; a video costs 24 credits (~$0.048)"),
    ("apiinone", "grok-imagine", "image-to-video"): dict(images="1+"),
}


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROKVID_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GROKVID_TIME_SCALE", "0.01")
    monkeypatch.setitem(_sandbox_mode._state, "sandbox", None)
    monkeypatch.setitem(_sandbox_mode._state, "url", None)


@pytest.fixture(scope="module")
def table():
    return gv.providers()


# ---- the capability table ---------------------------------------------------------------

def test_one_row_per_provider_model_mode(table):
    keys = list(zip(table["provider"], table["model"], table["mode"]))
    assert len(keys) == len(set(keys)), "duplicate rows"
    assert set(keys) == EXPECTED_ROWS


def test_columns(table):
    for column in ("provider", "model", "mode", "durations", "default_duration", "resolutions",
                   "aspect_ratios", "images", "video_input", "prompt_max", "price", "reports_cost"):
        assert column in table.columns
    assert list(dict.fromkeys(table["provider"])) == list(PROVIDER_NAMES)


@pytest.mark.parametrize("row_key", sorted(DOCUMENTED), ids=lambda k: "-".join(k))
def test_documented_limits(table, row_key):
    provider, model, mode = row_key
    rows = table[(table["provider"] == provider) & (table["model"] == model) & (table["mode"] == mode)]
    assert len(rows) == 1
    row = rows.iloc[0]
    for column, value in DOCUMENTED[row_key].items():
        assert row[column] == value, (column, row[column], value)


def test_only_xai_reports_cost(table):
    reporting = set(table.loc[table["reports_cost"].astype(bool), "provider"])
    assert reporting == {"xai"}


def test_notes_carry_the_rules_users_need(table):
    def note(provider, model, mode):
        return table[(table["provider"] == provider) & (table["model"] == model)
                     & (table["mode"] == mode)].iloc[0]["note"]
    assert "<IMAGE_1>" in note("xai", "grok-imagine-video", "reference-to-video")
    assert "@Image1" in note("pixazo", "grok-imagine-video", "reference-to-video")
    assert "per call" in note("xingchao", "grok_video3_pro", "text-to-video")
    # a decision between two sources says so, with the source (issue 10)
    assert "newer page wins" in note("xingchao", "grok_video3_stable", "text-to-video")
    assert "docs.x.ai reference-to-video page" in note("xai", "grok-imagine-video", "reference-to-video")


def test_providers_prints_from_a_fresh_interpreter(tmp_path):
    env = {**os.environ, "GROKVID_HOME": str(tmp_path / "home")}
    done = subprocess.run([sys.executable, "-c", "import grokvid_nb as gv; print(gv.providers())"],
                          capture_output=True, text=True, timeout=120, env=env, check=False)
    assert done.returncode == 0, done.stderr
    for name in PROVIDER_NAMES:
        assert name in done.stdout
    assert "[22 rows" in done.stdout
    assert not (tmp_path / "home").exists()  # looking at the table writes nothing


# ---- estimates ------------------------------------------------------------------------------

@pytest.mark.parametrize("provider, params, usd", [
    ("pixazo", dict(duration=6, resolution="720p"), 0.42),
    ("pixazo", dict(duration=10, resolution="480p"), 0.50),
    ("pixazo", dict(), 0.42),  # defaults: 6 s, 720p
    ("pixazo", dict(mode="reference-to-video", image_urls=["https://e.x/a.jpg"]), 0.40),  # 8 s 480p
    ("apixo", dict(duration=10, resolution="720p"), 0.30),
    ("apixo", dict(duration="10", resolution="720P "), 0.30),
    ("apixo", dict(), 0.09),  # defaults: 6 s, 480p
    ("apixo", dict(duration=30, resolution="720p"), 0.90),
    ("apiinone", dict(), 0.048),
    ("apiinone", dict(image_urls=["https://e.x/a.jpg"]), 0.048),
    ("xai", dict(duration=10, resolution="480p"), 0.50),
    ("xai", dict(duration=6, resolution="720p"), 0.42),
    # input images are billed $0.002 each (docs.x.ai); the 1.5 preview $0.01 each
    ("xai", dict(duration=6, resolution="480p", image_url="https://e.x/a.jpg"), 0.302),
    ("xai", dict(model="grok-imagine-video-1.5-preview", duration=6, resolution="720p",
                 image_url="https://e.x/a.jpg"), 0.85),
])
def test_estimate_cost(provider, params, usd):
    assert gv.estimate_cost(provider, **params) == pytest.approx(usd)


@pytest.mark.parametrize("provider, params", [
    ("xingchao", dict()),
    ("xingchao", dict(model="grok_video3", duration=30, resolution="480p")),
    ("xingchao", dict(model="grok_video3_pro")),
    ("xingchao", dict(model="grok_video3_max", duration=20)),
    ("xingchao", dict(model="grok_video3_stable", duration=10)),
    ("pixazo", dict(video_url="https://e.x/a.mp4")),  # billed on the unknown source length
    ("xai", dict(video_url="https://e.x/a.mp4")),  # edit: reported when done
    ("xai", dict(mode="extend", video_url="https://e.x/a.mp4")),
])
def test_estimate_is_none_where_unpublished(provider, params):
    assert gv.estimate_cost(provider, **params) is None


def test_estimate_validates_first():
    with pytest.raises(gv.ValidationError, match="duration"):
        gv.estimate_cost("pixazo", duration=60)
    with pytest.raises(ValueError, match="unknown provider"):
        gv.estimate_cost("sora")


# ---- reported cost wins ------------------------------------------------------------------------

JOBS = {
    "xai": ([{"request_id": "r1"},
             {"status": "done", "video": {"url": "https://vidgen.x.ai/a.mp4"},
              "usage": {"cost_in_usd_ticks": 500_000_000}}], 0.05, "reported"),
    "apixo": ([{"code": 200, "data": {"taskId": "t1"}},
               {"code": 200, "data": {"state": "success",
                                      "resultJson": '{"resultUrls":["https://file.apixo.ai/a.mp4"]}'}}],
              0.09, "estimated"),
    "xingchao": ([{"id": "v1", "status": "queued"},
                  {"id": "v1", "status": "completed", "video_url": "https://cdn.example/a.mp4"}],
                 None, None),
}


@pytest.mark.parametrize("provider", sorted(JOBS))
def test_cost_source(provider, tmp_path):
    """xAI's 6 s 480p would be estimated at $0.30; the reported 500,000,000 ticks ($0.05) wins."""
    script, usd, source = JOBS[provider]
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(200, json=script[min(len(calls), len(script)) - 1])

    client = gv.Client(provider, api_key="test-key-0123456789",
                       base_url=f"http://{provider}-{uuid.uuid4().hex[:8]}.invalid",
                       transport=httpx.MockTransport(handler), poll_interval=0.01, deadline_s=10,
                       home=tmp_path / "home")
    result = client.submit("p").wait(timeout=15)
    assert result.ok
    assert result.cost_source == source
    if usd is None:
        assert result.cost_usd is None
    else:
        assert result.cost_usd == pytest.approx(usd)
    client.close()


def test_failed_jobs_without_documented_billing_are_not_estimated(tmp_path):
    script = [{"code": 200, "data": {"taskId": "t1"}},
              {"code": 200, "data": {"state": "failed", "failCode": "SensitiveContent", "failMsg": "no"}}]
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(200, json=script[min(len(calls), len(script)) - 1])

    client = gv.Client("apixo", api_key="test-key-0123456789", base_url="http://apixo-failed.invalid",
                       transport=httpx.MockTransport(handler), poll_interval=0.01, deadline_s=10,
                       home=tmp_path / "home")
    result = client.submit("p").wait(timeout=15)
    assert result.status == gv.State.FAILED and result.error_code == "moderated"
    assert "[SensitiveContent]" in result.error_message
    assert result.cost_usd is None and result.cost_source is None
    client.close()
