"""Keeping a finished clip: on by default, retried on transient errors, never with the key."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

import grokvid_nb as gv

KEY = "xai-secret-key-123456"
MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 256


def _provider(cdn_replies: list[httpx.Response], seen: list[httpx.Request]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(200, json={"request_id": "task-9"})
        if request.url.host == "cdn.example":
            seen.append(request)
            return cdn_replies.pop(0)
        return httpx.Response(200, json={"status": "done", "progress": 100,
                                          "video": {"url": "https://cdn.example/v.mp4", "duration": 6}})

    return httpx.MockTransport(handler)


@pytest.mark.timeout(30)
def test_transient_errors_are_retried_and_no_key_is_sent(isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROKVID_TIME_SCALE", "0.001")
    seen: list[httpx.Request] = []
    replies = [httpx.Response(503), httpx.Response(429),
               httpx.Response(200, content=MP4, headers={"content-type": "video/mp4"})]
    client = gv.Client("xai", api_key=KEY, transport=_provider(replies, seen))
    result = client.submit("a lake").wait(20)
    assert result.ok and result.local_path == isolated_home / "downloads" / "xai-task-9.mp4"
    assert result.local_path.read_bytes() == MP4
    assert len(seen) == 3
    assert all("authorization" not in r.headers and KEY not in str(r.url) for r in seen)
    row = client.ledger.get(result.job_id or "")
    assert row is not None and row.local_path == str(result.local_path)


@pytest.mark.timeout(30)
def test_keep_local_can_be_turned_off(isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROKVID_TIME_SCALE", "0.001")
    seen: list[httpx.Request] = []
    off = gv.Client("xai", api_key=KEY, transport=_provider([], seen), keep_local=False)
    assert off.submit("a lake").wait(20).local_path is None
    monkeypatch.setenv("GROKVID_KEEP_LOCAL", "0")
    by_env = gv.Client("xai", api_key=KEY, transport=_provider([], seen))
    assert by_env.keep_local is False and by_env.submit("a river").wait(20).local_path is None
    assert seen == []


@pytest.mark.timeout(30)
def test_a_clip_that_is_not_a_video_is_not_retried(isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROKVID_TIME_SCALE", "0.001")
    seen: list[httpx.Request] = []
    replies = [httpx.Response(200, json={"not": "video"})]
    result = gv.Client("xai", api_key=KEY, transport=_provider(replies, seen)).submit("a lake").wait(20)
    assert result.ok and result.local_path is None and len(seen) == 1
    assert not (isolated_home / "downloads").exists() or list((isolated_home / "downloads").iterdir()) == []
