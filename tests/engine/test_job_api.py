"""`Job` follows `concurrent.futures.Future`: `done()` is a method, `result(timeout)` blocks,
`result_nowait()` peeks; the old names still work for one release, with a DeprecationWarning."""

from __future__ import annotations

import concurrent.futures
import warnings

import pytest

import grokvid_nb as gv
from tests.engine.test_engine_mock import DONE, Script, client

ENDLESS = [{"status": "processing"}] * 10_000


@pytest.mark.timeout(30)
def test_done_is_a_method_and_result_blocks_like_a_future() -> None:
    job = client(Script([], [{"status": "pending"}, DONE])).submit("p")
    assert callable(job.done)
    res = job.result(timeout=20)
    assert job.done() is True
    assert isinstance(res, gv.Result) and res.ok
    assert job.result_nowait() is res
    assert job.result() is res


@pytest.mark.timeout(30)
def test_result_timeout_raises_and_leaves_the_job_running() -> None:
    job = client(Script([], ENDLESS)).submit("p")
    assert job.result_nowait() is None
    with pytest.raises(concurrent.futures.TimeoutError):
        job.result(timeout=0.2)
    assert job.done() is False
    assert job.state in (gv.State.QUEUED, gv.State.RUNNING)
    job.stop_polling("test over")
    assert job.done() is True and job.state is gv.State.TIMED_OUT
    assert "test over" in (job.error_message or "")


@pytest.mark.timeout(30)
def test_status_is_a_deprecated_alias_of_state() -> None:
    job = client(Script([], [DONE])).submit("p")
    job.wait(20)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert job.state is gv.State.SUCCEEDED
    with pytest.warns(DeprecationWarning, match="use Job.state"):
        assert job.status is gv.State.SUCCEEDED


@pytest.mark.timeout(30)
def test_stop_waiting_is_a_deprecated_name_of_stop_polling() -> None:
    job = client(Script([], ENDLESS)).submit("p")
    with pytest.warns(DeprecationWarning, match="use Job.stop_polling"):
        job.stop_waiting("old name")
    assert job.state is gv.State.TIMED_OUT
    assert job.wait(5).status is gv.State.TIMED_OUT


@pytest.mark.timeout(30)
def test_a_result_downloads_through_its_link_not_through_the_job_module(tmp_path) -> None:
    res = client(Script([], [DONE])).submit("p").wait(20)
    assert res.link is not None
    path = res.download(tmp_path / "v.mp4")
    assert path == tmp_path / "v.mp4" and path.read_bytes()[4:8] == b"ftyp"
    assert res.link.local_path() == path
    detached = gv.Result(provider="xai", model="m", mode="text-to-video", status=gv.State.SUCCEEDED,
                         task_id="t", prompt="p", params={}, video_urls=("https://x.example/v.mp4",))
    with pytest.raises(RuntimeError, match="detached"):
        detached.download(tmp_path)
