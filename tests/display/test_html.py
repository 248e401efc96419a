"""The pure HTML builders: escaping of hostile prompts, errors and URLs, and src filtering."""

from __future__ import annotations

import dataclasses
import re
from html.parser import HTMLParser
from typing import Any

import pytest

from grokvid_nb._result import Result
from grokvid_nb._types import State
from grokvid_nb.display import (
    JobSnapshot,
    browser_can_load,
    caption_text,
    error_html,
    format_cost,
    format_seconds,
    history_html,
    job_html,
    job_text,
    result_bundle,
    result_html,
    safe_video_src,
    video_html,
)

SCRIPT = '"><script>alert(1)</script>'
HOSTILE_TEXTS = [
    SCRIPT,
    "<img src=x onerror=alert(1)>",
    "' onmouseover='alert(1)",
    '" onload="alert(1)',
    "</figcaption></figure><iframe src=javascript:alert(1)>",
    "&lt;script&gt; already escaped? & <b>bold</b>",
]
BAD_URLS = [
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "jav&#x09;ascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=",
    "data:video/mp4,notbase64<script>",
    "file:///etc/passwd",
    "vbscript:msgbox(1)",
    "//evil.example/x.mp4",
    "/relative/x.mp4",
    "http://",
    'https://cdn.example/x.mp4" onerror="alert(1)',
    "https://cdn.example/x.mp4'><script>alert(1)</script>",
    "https://cdn.example/a b.mp4",
    "https://cdn.example/x.mp4\n",
    "",
]
GOOD_URLS = [
    "https://cdn.example/videos/abc.mp4?sig=AbC%2F123&exp=99",
    "http://127.0.0.1:8765/cdn/xai/1.mp4",
    "data:video/mp4;base64,AAAAIGZ0eXBpc29t",
    "data:video/webm;base64,GkXfow==",
]


class _Collect(HTMLParser):
    """Every tag, attribute and text node, as a browser's tokenizer sees them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(markup: str) -> _Collect:
    parser = _Collect()
    parser.feed(markup)
    parser.close()
    return parser


def assert_inert(markup: str) -> None:
    """No script/iframe/img tags, no event handlers, and every src/href is http(s) or
    data:video."""
    doc = parse(markup)
    allowed_tags = {"div", "b", "code", "small", "span", "progress", "figure", "figcaption",
                    "video", "a", "table", "thead", "tbody", "tr", "th", "td"}
    for tag, attrs in doc.tags:
        assert tag in allowed_tags, f"unexpected <{tag}> in {markup!r}"
        for name, value in attrs.items():
            assert not name.startswith("on"), f"event handler {name} in {markup!r}"
            if name in ("src", "href"):
                assert value is not None and safe_video_src(value) == value, (name, value)


def snapshot(**overrides: Any) -> JobSnapshot:
    snap = JobSnapshot(provider="xai", model="grok-imagine-video", mode="text-to-video",
                       prompt="a lakeside", state=State.RUNNING, progress=42.0, elapsed_s=12.34,
                       polls=5, task_id="req-1", error_code=None, error_message=None,
                       done=False, reused=False)
    if "state" in overrides:
        overrides["state"] = State(overrides["state"])
    return dataclasses.replace(snap, **overrides)


def result(**overrides: Any) -> Result:
    fields: dict[str, Any] = dict(
        provider="xai", model="grok-imagine-video", mode="text-to-video", status=State.SUCCEEDED,
        task_id="req-1", prompt="a lakeside", params={"duration": 6},
        video_urls=("https://cdn.example/v.mp4",), cost_usd=0.3, cost_source="reported",
        latency_s=41.2, polls=7, video_duration=6.0)
    fields.update(overrides)
    return Result(**fields)


@pytest.mark.parametrize("url", BAD_URLS)
def test_bad_urls_are_refused(url: str) -> None:
    assert safe_video_src(url) is None
    markup = video_html(url, "caption")
    assert "<video" not in markup
    assert_inert(markup)
    assert "refused" in markup


@pytest.mark.parametrize("url", GOOD_URLS)
def test_good_urls_become_the_video_src(url: str) -> None:
    assert safe_video_src(url) == url
    doc = parse(video_html(url, "caption"))
    videos = [attrs for tag, attrs in doc.tags if tag == "video"]
    assert len(videos) == 1
    assert videos[0]["src"] == url  # on <video> itself: JupyterLab strips src from <source>
    assert "controls" in videos[0]
    assert not [tag for tag, _ in doc.tags if tag == "source"]


@pytest.mark.parametrize("text", HOSTILE_TEXTS)
def test_captions_prompts_and_errors_are_escaped(text: str) -> None:
    pieces = [
        video_html(GOOD_URLS[0], text, note=text),
        video_html(BAD_URLS[0] + text, text),
        error_html(text, text, text, text, text, prompt=text, task_id=text),
        job_html(snapshot(prompt=text, task_id=text, provider=text, model=text, mode=text)),
        job_html(snapshot(prompt=text, state="failed", done=True, error_code=text,
                          error_message=text)),
        result_html(result(prompt=text, model=text)),
        result_html(result(status=State.FAILED, video_urls=(), error_code=text,
                           error_message=text, prompt=text)),
        history_html([result(prompt=text, model=text),
                      result(status=State.FAILED, video_urls=(), error_code=text)]),
    ]
    for markup in pieces:
        assert "<script" not in markup.lower()
        assert "<img" not in markup.lower()
        assert "<iframe" not in markup.lower()
        assert_inert(markup)
        # the hostile text survives as text, character for character
        assert any(text in chunk or text[:20] in chunk for chunk in parse(markup).text), markup


def test_quotes_cannot_leave_an_attribute() -> None:
    markup = video_html("https://cdn.example/x.mp4?a=1&b=2", 'say "hi" & \'bye\'')
    assert 'src="https://cdn.example/x.mp4?a=1&amp;b=2"' in markup
    assert "&quot;hi&quot;" in markup and "&#x27;bye&#x27;" in markup
    long_prompt = '"' * 500 + "<>"
    job_markup = job_html(snapshot(prompt=long_prompt))
    # the full prompt goes into a title attribute: it must not break out of it
    assert_inert(job_markup)
    assert '"' * 2 not in re.sub(r'="[^"]*"', "", job_markup)


def test_job_card_shows_provider_model_state_progress_and_elapsed() -> None:
    markup = job_html(snapshot())
    text = " ".join(parse(markup).text)
    for expected in ("xai", "grok-imagine-video", "running", "42%", "12.3 s elapsed", "5 polls"):
        assert expected in text
    assert '<progress max="100" value="42"' in markup
    plain = job_text(snapshot())
    assert "xai" in plain and "running" in plain and "42%" in plain and "12.3 s" in plain


def test_unknown_progress_shows_no_animated_bar() -> None:
    markup = job_html(snapshot(progress=None, state="queued"))
    assert "<progress" not in markup  # an indeterminate bar would look alive in a saved notebook
    assert "progress not reported" in markup
    assert "%" not in job_text(snapshot(progress=None, state="queued")).split("\n")[0]


def test_a_failed_job_is_an_error_box_with_code_and_message() -> None:
    markup = job_html(snapshot(state="failed", done=True, error_code="content_moderated",
                               error_message="Your prompt was flagged"))
    assert "grokvid-error" in markup and "<progress" not in markup
    assert "content_moderated" in markup and "Your prompt was flagged" in markup


def test_caption_has_provider_model_duration_latency_and_cost_source() -> None:
    assert caption_text(result()) == (
        "xai · grok-imagine-video · 6 s clip · latency 41.2 s · $0.30 reported")
    estimated = caption_text(result(cost_usd=0.048, cost_source="estimated", latency_s=75))
    assert estimated.endswith("latency 1 min 15 s · $0.048 estimated")
    assert caption_text(result(cost_usd=None, cost_source=None)).endswith("cost unknown")
    markup = result_html(result())
    assert "<video" in markup and "$0.30 reported" in markup and "latency 41.2 s" in markup


def test_failed_result_bundle_has_text_and_html() -> None:
    failed = result(status=State.FAILED, video_urls=(), error_code="internal_error",
                    error_message="upstream 500", cost_usd=None, cost_source=None)
    bundle = result_bundle(failed)
    assert set(bundle) == {"text/plain", "text/html"}
    assert "internal_error" in bundle["text/plain"] and "upstream 500" in bundle["text/plain"]
    assert "grokvid-error" in bundle["text/html"] and "<video" not in bundle["text/html"]


def test_success_without_url_is_an_error_not_an_empty_player() -> None:
    markup = result_html(result(video_urls=()))
    assert "<video" not in markup and "no video URL" in markup


def test_result_bundle_uses_the_url_by_default() -> None:
    bundle = result_bundle(result())
    assert 'src="https://cdn.example/v.mp4"' in bundle["text/html"]
    assert "https://cdn.example/v.mp4" in bundle["text/plain"]
    assert "base64" not in bundle["text/plain"]


def test_result_with_hostile_url_is_refused_in_the_bundle() -> None:
    bundle = result_bundle(result(video_urls=("javascript:alert(1)",)))
    assert "<video" not in bundle["text/html"]
    assert_inert(bundle["text/html"])


def test_sandbox_urls_are_not_loadable_by_a_browser() -> None:
    assert not browser_can_load("http://sandbox.invalid/cdn/xai/1.mp4")
    assert browser_can_load("http://127.0.0.1:8765/cdn/xai/1.mp4")
    assert browser_can_load("data:video/mp4;base64,AAAA")
    assert not browser_can_load("javascript:alert(1)")


def test_history_table_links_only_loadable_urls() -> None:
    markup = history_html([result(), result(video_urls=("http://sandbox.invalid/x.mp4",)),
                           result(status=State.FAILED, video_urls=(), error_code="boom")])
    hrefs = [attrs["href"] for tag, attrs in parse(markup).tags if tag == "a"]
    assert hrefs == ["https://cdn.example/v.mp4"]
    assert markup.count("<tr>") == 4 and "boom" in markup
    assert "No videos" in history_html([])


def test_formatting_helpers() -> None:
    assert format_seconds(None) == "?" and format_seconds(float("nan")) == "?"
    assert format_seconds(3.04) == "3.0 s" and format_seconds(125) == "2 min 05 s"
    assert format_cost(None, None) == "cost unknown"
    assert format_cost(1.5, "reported") == "$1.50 reported"
    assert format_cost(0.015, "estimated") == "$0.015 estimated"
