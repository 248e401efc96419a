"""Videos that outlive their URLs: expiry per provider, clips kept locally, and an expired URL
in download(), reuse, the display and the gallery (`[sandbox:ttl=N]` makes the CDN answer 403)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import grokvid_nb as gv
from grokvid_nb import display as gv_display
from grokvid_nb._types import ResultData, State
from grokvid_nb.adapters import get_adapter

from .conftest import created

SCALE = 1e-5  # xAI's documented 24 h become 0.864 s
DAY = 24 * 3600


@pytest.fixture
def fast() -> Iterator[Any]:
    sb = gv.use_sandbox(time_scale=SCALE, seed=5)
    try:
        yield sb
    finally:
        gv.use_sandbox(False)


def test_documented_lifetimes_are_data() -> None:
    assert get_adapter("xai").url_ttl_s == DAY
    assert get_adapter("xingchao").url_ttl_s == DAY
    assert get_adapter("apixo").url_ttl_s == 15 * DAY
    assert get_adapter("pixazo").url_ttl_s is None
    assert get_adapter("apiinone").url_ttl_s is None


def _wait_past(expires: float | None) -> None:
    assert expires is not None
    time.sleep(max(0.0, expires - time.time()) + 0.05)


def _files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*")) if folder.exists() else []


@pytest.mark.timeout(30)
def test_the_clip_is_kept_by_default_and_outlives_its_url(fast: Any, isolated_home: Path, tmp_path: Path) -> None:
    client = gv.Client("xai")
    assert client.keep_local is True
    job = client.submit(f"a lake [sandbox:ttl={DAY}]")
    result = job.wait(30)
    assert result.ok and result.local_path is not None
    assert result.local_path.parent == isolated_home / "downloads"
    assert result.url_expires_at is not None and job.finished_at is not None
    assert abs(result.url_expires_at - (job.finished_at + DAY * SCALE)) < 1e-6
    _wait_past(result.url_expires_at)
    downloads = fast.stats.downloads["xai"]
    assert job.download() == result.local_path  # the kept copy, nothing fetched
    copy = job.download(tmp_path / "copy.mp4")
    assert copy.read_bytes() == result.local_path.read_bytes()
    assert fast.stats.downloads["xai"] == downloads
    again = client.submit(f"a lake [sandbox:ttl={DAY}]")  # reuse: the kept file, not the dead link
    assert again.reused is True and again.local_path == result.local_path
    bundle = gv_display.result_bundle(again.wait(5))
    assert "URL expired on" in bundle["text/html"]
    assert f"playing the local copy at {result.local_path}" in bundle["text/plain"]
    assert 'src="data:video/mp4;base64,' in bundle["text/html"]
    assert created(fast) == 1


@pytest.mark.timeout(30)
def test_download_of_an_expired_url_raises_and_leaves_no_file(fast: Any, isolated_home: Path) -> None:
    client = gv.Client("xai", keep_local=False)
    result = client.submit(f"a lake [sandbox:ttl={DAY}]").wait(30)
    assert result.ok and result.local_path is None
    _wait_past(result.url_expires_at)
    with pytest.raises(gv.DownloadError, match="the provider's URL expired on 20") as caught:
        result.download()
    assert isinstance(caught.value, gv.ResultExpiredError)
    assert caught.value.expired_at == result.url_expires_at
    assert _files(isolated_home / "downloads") == []
    assert fast.stats.downloads["xai"] == 0  # known to be expired: not even tried
    with pytest.raises(gv.ResultExpiredError, match="clip is gone.*reuse=False"):
        client.submit(f"a lake [sandbox:ttl={DAY}]")
    assert created(fast) == 1
    fresh = client.submit(f"a lake [sandbox:ttl={DAY}]", reuse=False).wait(30)
    assert fresh.ok and created(fast) == 2


@pytest.mark.timeout(30)
def test_a_url_seen_gone_early_is_recorded(fast: Any, isolated_home: Path) -> None:
    client = gv.Client("apixo", keep_local=False)  # documented 15 days; this CDN says 403 at once
    result = client.submit("a dog [sandbox:ttl=0]").wait(30)
    assert result.ok
    time.sleep(0.01)
    with pytest.raises(gv.ResultExpiredError, match="HTTP 403 .*the provider's URL expired on") as caught:
        result.download()
    assert caught.value.status_code == 403
    assert _files(isolated_home / "downloads") == []
    row = client.ledger.get(result.job_id or "")
    assert row is not None and row.url_gone_at is not None
    assert gv.history()["url_status"].tolist() == ["expired"]
    with pytest.raises(gv.ResultExpiredError):
        client.submit("a dog [sandbox:ttl=0]")
    assert created(fast) == 1


def _result(local: Path | None, expires: float | None, gone: float | None = None) -> ResultData:
    return ResultData(provider="xai", model="grok-imagine-video", mode="text-to-video",
                      status=State.SUCCEEDED, task_id="t1", prompt="a lake", params={},
                      video_urls=("https://cdn.example/v.mp4",), local_path=local,
                      url_expires_at=expires, url_gone_at=gone)


def test_display_plays_the_live_url_and_says_where_the_copy_is(tmp_path: Path) -> None:
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64)
    html = gv_display.result_bundle(_result(clip, time.time() + 3600))["text/html"]
    assert 'src="https://cdn.example/v.mp4"' in html
    assert "playing the provider&#x27;s URL: the provider&#x27;s URL is valid until about" in html
    assert f"local copy at {clip}" in html
    unknown = gv_display.result_bundle(_result(None, None))["text/html"]
    assert "does not document how long" in unknown and "no local copy kept" in unknown


def test_display_of_an_expired_url_never_shows_a_silent_black_box(tmp_path: Path) -> None:
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64)
    past = time.time() - 60
    kept = gv_display.result_bundle(_result(clip, past))
    assert 'src="data:video/mp4;base64,' in kept["text/html"]
    assert "expired on" in kept["text/plain"] and f"local copy at {clip}" in kept["text/plain"]
    gone = gv_display.result_bundle(_result(None, past))["text/html"]
    assert "<video" not in gone
    assert "Video URL expired." in gone and "no local copy was kept" in gone and "reuse=False" in gone
    seen_gone = gv_display.result_bundle(_result(None, time.time() + 3600, gone=past))["text/html"]
    assert "<video" not in seen_gone and "it no longer answered" in seen_gone


@pytest.mark.timeout(30)
def test_the_gallery_uses_the_kept_copy_after_expiry_and_says_so(fast: Any) -> None:
    df = gv.compare(f"a lake [sandbox:ttl={DAY}]", providers=["xai"], progress=False)
    assert df["status"].tolist() == ["succeeded"]
    row = gv.history().iloc[0]
    _wait_past(row["url_expires_at"].timestamp())
    html = gv.gallery(df).html
    assert "URL expired on" in html and "playing the local copy at" in html
    assert 'src="data:video/mp4;base64,' in html
