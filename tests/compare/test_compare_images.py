"""compare() and sweep() take images of every input kind, through the same preparation as
generate(): a data URI where the provider accepts one, an upload (once per batch) where it needs
a public URL, a skipped row (generate's refusal as its note) for a URL-only provider with no
uploader; reuse compares content hashes. The live table carries history()'s URL columns."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import grokvid_nb as gv
from grokvid_nb._compare import run as compare_run
from grokvid_nb._compare import save_table
from grokvid_nb._uploads import sandbox_uploader
from grokvid_nb.adapters import PROVIDER_NAMES
from grokvid_nb.sandbox import Sandbox, SandboxConfig

from ..spend.conftest import png
from ..spend.image_inputs import HOW, KINDS, bytes_behind, image_input, sent_image

URL_ONLY = tuple(p for p in PROVIDER_NAMES if HOW[p] == "uploaded")


@pytest.fixture(autouse=True)
def no_uploader_no_budget() -> Iterator[None]:
    """No global uploader and no session budget, whatever other tests left."""
    previous = gv.set_uploader(None)
    gv.set_budget()
    yield
    gv.set_budget()
    gv.set_uploader(previous)


@pytest.fixture
def sandbox(home: Path) -> Iterator[Any]:
    """The in-process sandbox at 1/1000 of real time (these tests are about images, not timing)."""
    sb = gv.use_sandbox(time_scale=0.001, seed=3)
    try:
        yield sb
    finally:
        gv.use_sandbox(False)


def _tasks(sb: Any) -> dict[str, int]:
    return {name: count for name, count in sb.stats.tasks_created.items() if count}


def _fingerprint(row: pd.Series) -> str:
    images = json.loads(row["request"])["image_urls"]
    assert len(images) == 1
    return str(images[0])


@pytest.mark.timeout(60)
@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_each_input_kind_reaches_all_five_providers(kind: str, sandbox: Any, tmp_path: Path) -> None:
    data = png()
    path = tmp_path / "cat.png"
    path.write_bytes(data)
    value = image_input(kind, path, data)
    images = {"image_urls": value} if kind == "FileUpload" else {"image_url": value}
    df = gv.compare(f"a red card ({kind})", progress=False, **images)
    assert list(df["provider"]) == list(PROVIDER_NAMES)
    assert list(df["status"]) == ["succeeded"] * 5, list(df["note"])
    assert set(df["mode"]) == {"image-to-video"}
    assert _tasks(sandbox) == dict.fromkeys(PROVIDER_NAMES, 1)
    assert len(sandbox.uploads.files) == 1  # one upload, shared by the three URL-only providers
    hosted = {sent_image(sandbox, p) for p in URL_ONLY}
    assert len(hosted) == 1
    assert next(iter(hosted)).startswith(gv.Client("apixo").endpoint + "/sandbox/files/")
    ledger = gv.Client("xai").ledger
    for _, row in df.iterrows():
        provider = str(row["provider"])
        sent = sent_image(sandbox, provider)
        if HOW[provider] == "data-uri":
            assert sent.startswith("data:image/png;base64,")
        else:
            assert sent == next(iter(hosted))
        received = bytes_behind(sandbox, sent)
        fingerprint = "sha256:" + hashlib.sha256(received).hexdigest()
        assert _fingerprint(row) == fingerprint  # the table shows the hash, never base64
        if kind not in ("PIL", "numpy"):  # those are re-encoded from their pixels
            assert received == data
        assert "base64" not in str(row["request"])
        record = ledger.get(str(row["job_id"]))
        assert record is not None
        assert record.params["image_inputs"] == [
            {"fingerprint": fingerprint, "how": HOW[provider], "content_type": "image/png",
             "size": len(received), **({"url": sent} if HOW[provider] == "uploaded" else {})}]
        assert "base64" not in repr(record.params) and "base64" not in record.fingerprint


@pytest.mark.timeout(60)
def test_a_batch_uploads_each_image_once_whatever_the_repeats(sandbox: Any, tmp_path: Path) -> None:
    calls: list[tuple[str, str]] = []
    host = sandbox_uploader()
    assert host is not None

    def counting(data: bytes, filename: str, content_type: str) -> str:
        calls.append((filename, content_type))
        return host(data, filename, content_type)

    gv.set_uploader(counting)
    path = tmp_path / "blue.png"
    path.write_bytes(png((10, 10, 220)))
    df = gv.compare("a blue card", repeats=2, image_url=path, progress=False)
    assert list(df["status"]) == ["succeeded"] * 10
    assert _tasks(sandbox) == dict.fromkeys(PROVIDER_NAMES, 2)
    assert calls == [("blue.png", "image/png")]
    assert len(sandbox.uploads.files) == 1
    assert len({sent_image(sandbox, p) for p in URL_ONLY}) == 1


@pytest.mark.timeout(90)
@pytest.mark.slow
def test_a_rerun_with_the_same_file_reuses_and_uploads_nothing(sandbox: Any, tmp_path: Path) -> None:
    data = png((20, 160, 20))
    path = tmp_path / "green.png"
    path.write_bytes(data)
    first = gv.compare("a green card", repeats=2, image_url=path, progress=False)
    assert list(first["status"]) == ["succeeded"] * 10 and not first["reused"].any()
    tasks, uploads = _tasks(sandbox), len(sandbox.uploads.files)
    assert uploads == 1
    for again in (str(path), data, [image_input("data-uri", path, data)]):
        images = {"image_urls": again} if isinstance(again, list) else {"image_url": again}
        df = gv.compare("a green card", repeats=2, progress=False, **images)
        assert df["reused"].all() and list(df["status"]) == ["succeeded"] * 10
        assert list(df["job_id"]) == list(first["job_id"])
        assert list(df["request"]) == list(first["request"])
        assert df.attrs["estimated_usd"] == 0.0
    assert _tasks(sandbox) == tasks
    assert len(sandbox.uploads.files) == uploads  # a reused batch uploads nothing
    other = gv.compare("a green card", providers=["apixo"], image_url=png((1, 1, 1)), progress=False)
    assert not other["reused"].any() and len(sandbox.uploads.files) == uploads + 1


@pytest.fixture
def served() -> Iterator[tuple[Sandbox, str]]:
    """The sandbox behind a real server on 127.0.0.1: reached like a provider (no sandbox mode,
    so no default uploader)."""
    sb = Sandbox(SandboxConfig(time_scale=0.01, seed=11))
    with sb.serve(host="127.0.0.1", port=0) as base_url:
        yield sb, base_url
    sb.close()


@pytest.mark.timeout(60)
def test_url_only_providers_without_uploader_are_skipped_before_anything_leaves(
        home: Path, served: tuple[Sandbox, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    sb, base_url = served
    real_client = gv.Client

    def client_at_the_server(provider: str, model: str | None = None) -> gv.Client:
        return real_client(provider, model=model, api_key="sk-test", base_url=base_url)

    monkeypatch.setattr("grokvid_nb._compare.plan.Client", client_at_the_server)
    path = tmp_path / "cat.png"
    path.write_bytes(png())
    refusals = {}
    for provider in URL_ONLY:  # what generate()/submit() say for the same input
        with pytest.raises(gv.UploaderRequiredError) as caught:
            client_at_the_server(provider).submit("a card", image_url=path)
        refusals[provider] = str(caught.value)
    assert sum(sb.stats.submits.values()) == 0
    df = gv.compare("a card", list(PROVIDER_NAMES), image_url=path, progress=False)
    by = {str(row["provider"]): row for _, row in df.iterrows()}
    for provider in URL_ONLY:
        assert by[provider]["status"] == "skipped"
        assert by[provider]["note"] == f"skipped: {refusals[provider]}"
        assert f"{provider}/" in refusals[provider] and "image_url=<cat.png" in refusals[provider]
        assert "gv.set_uploader(fn)" in refusals[provider] and "nothing was sent" in refusals[provider]
    assert by["xai"]["status"] == "succeeded" and by["xingchao"]["status"] == "succeeded"
    assert _tasks(sb) == {"xai": 1, "xingchao": 1}  # the URL-only providers got no request
    assert sum(sb.stats.submits.values()) == 2
    assert sb.uploads.files == {}
    assert sorted(r.provider for r in real_client("xai", api_key="k", base_url=base_url).ledger.all()) == [
        "xai", "xingchao"]
    only_url_only = gv.compare("another card", providers=list(URL_ONLY), image_url=path, progress=False)
    assert list(only_url_only["status"]) == ["skipped"] * 3
    assert only_url_only.attrs["estimated_usd"] == 0.0
    assert _tasks(sb) == {"xai": 1, "xingchao": 1} and sb.uploads.files == {}


@pytest.mark.timeout(60)
def test_an_input_that_is_no_image_refuses_the_whole_batch(sandbox: Any) -> None:
    with pytest.raises(gv.ImageInputError, match="image_url.*not an image"):
        gv.compare("a card", image_url=b"GIF? no, plain text", progress=False)
    assert _tasks(sandbox) == {} and sandbox.uploads.files == {}


@pytest.mark.timeout(90)
@pytest.mark.slow
def test_sweep_hosts_each_image_once_and_labels_it_by_hash(sandbox: Any, tmp_path: Path) -> None:
    red, green = png((220, 0, 0)), png((0, 220, 0))
    path = tmp_path / "red.png"
    path.write_bytes(red)
    df = gv.sweep(["a card", "a flag"], providers=["apixo", "xai"], grid={"image_url": [path, green]},
                  progress=False)
    assert len(df) == 8 and list(df["status"]) == ["succeeded"] * 8
    assert _tasks(sandbox) == {"apixo": 4, "xai": 4}
    assert len(sandbox.uploads.files) == 2  # red and green, once each for the whole sweep
    labels = {"sha256:" + hashlib.sha256(red).hexdigest(), "sha256:" + hashlib.sha256(green).hexdigest()}
    assert set(df["image_url"]) == labels
    for _, row in df.iterrows():
        assert _fingerprint(row) == row["image_url"]
    fixed = gv.sweep(["a card", "a flag"], providers=["pixazo"], image_url=path, progress=False)
    assert list(fixed["status"]) == ["succeeded"] * 2
    assert len(sandbox.uploads.files) == 3  # one more, for both prompts


# ---- the URL columns: the live table and history() agree ---------------------------------
SCALE = 1e-5  # xAI's documented 24 h become 0.864 s; APIXO's 15 days 13 s


@pytest.fixture
def fast(home: Path) -> Iterator[Any]:
    sb = gv.use_sandbox(time_scale=SCALE, seed=5)
    try:
        yield sb
    finally:
        gv.use_sandbox(False)


def _same_as_history(df: pd.DataFrame, providers: tuple[str, ...]) -> pd.DataFrame:
    history = gv.history().set_index("job_id")
    for _, row in df[df["provider"].isin(providers)].iterrows():
        past = history.loc[row["job_id"]]
        for column in ("url_expires_at", "url_gone_at", "url_status", "local_path", "video_url", "task_id"):
            same = (pd.isna(row[column]) and pd.isna(past[column])) if pd.isna(past[column]) \
                else row[column] == past[column]
            assert same, (row["provider"], column, row[column], past[column])
    return history


def _no_live_jobs(monkeypatch: pytest.MonkeyPatch) -> None:
    """As in a new kernel: compare's jobs are gone, only the table is left."""
    monkeypatch.setattr(compare_run, "recent_job", lambda job_id: None)


@pytest.mark.timeout(60)
def test_the_live_table_carries_the_url_columns_of_history(fast: Any, home: Path,
                                                           monkeypatch: pytest.MonkeyPatch,
                                                           tmp_path: Path) -> None:
    df = gv.compare("a lake", providers=["xai", "apixo", "pixazo"], progress=False)
    assert list(df["status"]) == ["succeeded"] * 3
    assert str(df["url_expires_at"].dtype) == "datetime64[ns, UTC]" == str(df["url_gone_at"].dtype)
    by = {str(row["provider"]): row for _, row in df.iterrows()}
    assert by["apixo"]["url_status"] == "live"  # 13 s: still alive while this runs
    assert by["pixazo"]["url_status"] == "live (expiry unknown)" and pd.isna(by["pixazo"]["url_expires_at"])
    for provider in ("xai", "apixo", "pixazo"):
        local = by[provider]["local_path"]
        assert isinstance(local, str) and Path(local).is_file() and Path(local).parent == home / "downloads"
    _same_as_history(df, ("apixo", "pixazo"))
    xai_expires = by["xai"]["url_expires_at"].timestamp()
    time.sleep(max(0.0, xai_expires - time.time()) + 0.05)
    again = gv.compare("a lake", providers=["xai", "apixo", "pixazo"], progress=False)
    assert again["reused"].all() and list(again["job_id"]) == list(df["job_id"])
    history = _same_as_history(again, ("xai", "apixo", "pixazo"))
    row = again[again["provider"] == "xai"].iloc[0]
    assert row["url_status"] == "expired" == history.loc[row["job_id"]]["url_status"]
    assert row["local_path"] == by["xai"]["local_path"]
    assert _tasks(fast) == {"xai": 1, "apixo": 1, "pixazo": 1}
    # a table from an earlier kernel, read back from its file: the gallery knows the URL died
    saved = save_table(again, tmp_path / "lake.csv")
    back = pd.read_csv(saved)
    _no_live_jobs(monkeypatch)
    cells = {cell.provider: cell for cell in gv.gallery(back).cells}
    assert cells["xai"].src is not None and cells["xai"].src.startswith("data:video/mp4;base64,")
    assert cells["xai"].note is not None
    assert "URL expired on" in cells["xai"].note and f"playing the local copy at {row['local_path']}" in cells["xai"].note
    # the sandbox's URLs are not for a browser: the live ones play from their kept copies
    assert cells["apixo"].src is not None and cells["apixo"].src.startswith("data:video/mp4;base64,")
    assert cells["apixo"].note is not None and "valid until about" in cells["apixo"].note


@pytest.mark.timeout(60)
def test_an_expired_row_without_a_kept_copy_says_the_clip_is_gone(fast: Any, home: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROKVID_KEEP_LOCAL", "0")
    df = gv.compare("a pond", providers=["xai"], progress=False)
    row = df.iloc[0]
    assert row["status"] == "succeeded" and row["local_path"] is None
    time.sleep(max(0.0, row["url_expires_at"].timestamp() - time.time()) + 0.05)
    _same_as_history(df.assign(url_status="expired"), ("xai",))
    _no_live_jobs(monkeypatch)
    cell = gv.gallery(df).cells[0]
    assert cell.src == "" and cell.note is not None
    assert "URL expired on" in cell.note and "no local copy was kept: the clip is gone" in cell.note
    assert "<video" not in gv.gallery(df).html


def test_rows_without_a_video_say_none() -> None:
    from grokvid_nb._compare.table import Snapshot, frame_of, make_row

    skipped = make_row(provider="apixo", model="grok-video", mode=None, params=None, sample=None,
                       note="skipped: x", estimated=None, snapshot=Snapshot("skipped"))
    df = frame_of([skipped])
    assert df.iloc[0]["url_status"] == "none" and df.iloc[0]["local_path"] is None
    assert pd.isna(df.iloc[0]["url_expires_at"])


def test_a_saved_row_whose_url_was_seen_gone_plays_its_kept_copy(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from grokvid_nb._compare.table import frame_of, make_row
    from grokvid_nb._types import ResultData, State

    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64)
    now = time.time()
    result = ResultData(provider="apixo", model="grok-video", mode="text-to-video", status=State.SUCCEEDED,
                        task_id="t1", prompt="a dog", params={}, video_urls=("https://cdn.example/v.mp4",),
                        local_path=clip, url_expires_at=now + 15 * 24 * 3600, url_gone_at=now - 60)
    row = make_row(provider="apixo", model="grok-video", mode="text-to-video", params={}, sample=0,
                   note="", estimated=0.09, result=result)  # type: ignore[arg-type]
    assert row["url_status"] == "expired" and row["url_gone_at"] == now - 60
    assert row["local_path"] == str(clip)
    saved = save_table(frame_of([row]), tmp_path / "dog.csv")
    _no_live_jobs(monkeypatch)
    cell = gv.gallery(pd.read_csv(saved)).cells[0]
    assert cell.src is not None and cell.src.startswith("data:video/mp4;base64,")
    assert cell.note is not None and "(it no longer answered)" in cell.note
    assert f"playing the local copy at {clip}" in cell.note
    live = gv.gallery(frame_of([{**row, "url_gone_at": None, "url_status": "live"}])).cells[0]
    assert live.src == "https://cdn.example/v.mp4"  # while it lives, the provider's URL
    assert live.note is not None and "valid until about" in live.note and f"local copy at {clip}" in live.note
