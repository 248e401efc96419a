"""The `<video>` markup really plays: Debian's Chromium (through Playwright, no downloaded
browser) loads a sandbox clip inlined as a data URI and one served on loopback."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

import grokvid_nb as gv
from grokvid_nb.display import result_bundle, video_html
from grokvid_nb.sandbox import Sandbox, SandboxConfig

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]


def page_html(figures: list[str]) -> str:
    return ("<!doctype html><html><head><meta charset='utf-8'><title>grokvid</title></head>"
            "<body>" + "".join(figures) + "</body></html>")


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium")
def test_video_html_plays_in_chromium(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # 1) in-process sandbox: the URL is http://<id>.sandbox.invalid/..., so the display inlines it
    gv.use_sandbox(time_scale=0.01, seed=2)
    try:
        inlined = gv.Client("apixo").start("a lakeside at sunset", duration=6).wait(30)
    finally:
        gv.use_sandbox(False)
    data_figure = result_bundle(inlined)["text/html"]
    assert 'src="data:video/mp4;base64,' in data_figure

    # 2) a sandbox served on loopback: the display keeps the http URL
    monkeypatch.setenv("GROKVID_TIME_SCALE", "0.01")
    sandbox = Sandbox(SandboxConfig(time_scale=0.01, seed=3))
    with sandbox.serve(host="127.0.0.1", port=0) as base_url:
        gv.use_sandbox(url=base_url)
        try:
            served = gv.Client("pixazo").start("a forest in fog", duration=4).wait(30)
        finally:
            gv.use_sandbox(False)
        assert served.ok and served.video_url.startswith(base_url)
        url_figure = video_html(served.video_url, "served on loopback")
        assert f'src="{served.video_url}"' in url_figure

        page = tmp_path / "videos.html"
        page.write_text(page_html([data_figure, url_figure]), encoding="utf-8")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                tab = browser.new_page()
                tab.goto(page.as_uri())
                tab.wait_for_function(
                    "() => [...document.querySelectorAll('video')].every("
                    "v => v.readyState >= 1 || v.error)", timeout=20_000)
                states = tab.eval_on_selector_all(
                    "video", "vs => vs.map(v => ({src: v.currentSrc, ready: v.readyState,"
                             " duration: v.duration, error: v.error && v.error.code,"
                             " width: v.videoWidth}))")
                # and it really plays: time advances on the inlined clip
                tab.eval_on_selector("video", "v => { v.muted = true; return v.play(); }")
                tab.wait_for_function(
                    "() => document.querySelector('video').currentTime > 0.3", timeout=20_000)
                tab.screenshot(path=str(tmp_path / "videos.png"), full_page=True)
            finally:
                browser.close()

    assert len(states) == 2, states
    for state, expected in zip(states, (6.0, 4.0)):
        assert state["error"] is None, state
        assert state["src"], state
        assert state["ready"] >= 1, state
        assert state["duration"] == pytest.approx(expected, abs=0.15), state
        assert state["width"] > 0, state
    assert states[0]["src"].startswith("data:video/mp4;base64,")
    assert states[1]["src"] == served.video_url
    assert (tmp_path / "videos.png").stat().st_size > 0
