"""Issue 14 items 1, 8 (base URL), 10, 11 and 12 and the odd inputs: every argument is checked
before anything is sent or recorded, against a hostile server that counts what arrives."""

from __future__ import annotations

import math
import time
from pathlib import Path

import pytest

import grokvid_nb as gv
from grokvid_nb._exceptions import ArgumentError, BudgetExceededError, ValidationError
from grokvid_nb._ledger import Ledger

from .conftest import HostileServer, reply

pytestmark = pytest.mark.timeout(20)
KEY = "sk-live-ARGS-0123456789abcdef"
SUBMIT = "/v1/videos/generations"


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return Ledger(tmp_path / "ledger.sqlite3")


@pytest.mark.parametrize("key", ["sk-abc\ndef", "sk-\u00e9t\u00e9", "sk abc", "sk-\x00x"])
def test_malformed_key_is_refused_before_anything_is_sent_or_recorded(
        hostile: HostileServer, ledger: Ledger, key: str) -> None:
    hostile.route("*", reply(b'{"request_id": "t"}'))
    with pytest.raises(ArgumentError) as info:
        gv.Client("xai", api_key=key, base_url=hostile.url(), ledger=ledger)
    assert info.value.parameter == "api_key"
    assert key.strip() not in str(info.value)
    assert hostile.requests == []
    assert ledger.all() == []


def test_malformed_key_from_the_environment_is_refused(monkeypatch: pytest.MonkeyPatch,
                                                       hostile: HostileServer, ledger: Ledger) -> None:
    monkeypatch.setenv("XAI_API_KEY", "sk-one\nsk-two")
    with pytest.raises(ArgumentError) as info:
        gv.Client("xai", base_url=hostile.url(), ledger=ledger)
    assert info.value.parameter == "XAI_API_KEY"
    assert "sk-one" not in str(info.value)
    assert ledger.all() == []


def test_credentials_in_base_url_are_refused_and_never_shown(hostile: HostileServer, ledger: Ledger,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    url = hostile.url().replace("http://", "http://alice:hunter2pass@")
    with pytest.raises(ArgumentError) as info:
        gv.Client("xai", api_key=KEY, base_url=url, ledger=ledger)
    assert "hunter2pass" not in str(info.value)
    assert "***@" in str(info.value)
    assert "hunter2pass" not in caplog.text
    assert hostile.requests == []
    assert ledger.all() == []


@pytest.mark.parametrize("base_url", ["http://", "https:///v1", "ftp://example.com", "example.com",
                                      "http://exa mple.com", "http://h:0"])
def test_host_less_or_odd_base_urls_are_refused(base_url: str, ledger: Ledger) -> None:
    with pytest.raises(ArgumentError) as info:
        gv.Client("xai", api_key=KEY, base_url=base_url, ledger=ledger)
    assert info.value.parameter == "base_url"


@pytest.mark.parametrize("value", [math.inf, math.nan, 0, -1, "2", True])
def test_poll_interval_is_finite_and_positive(hostile: HostileServer, ledger: Ledger, value: object) -> None:
    with pytest.raises(ArgumentError) as info:
        gv.Client("xai", api_key=KEY, base_url=hostile.url(), poll_interval=value,  # type: ignore[arg-type]
                  ledger=ledger)
    assert info.value.parameter == "poll_interval"


@pytest.mark.parametrize("value", [math.inf, math.nan, 0, -5, "30"])
def test_deadline_is_finite_and_positive_in_client_and_start(hostile: HostileServer, ledger: Ledger,
                                                            value: object) -> None:
    with pytest.raises(ArgumentError) as info:
        gv.Client("xai", api_key=KEY, base_url=hostile.url(), deadline_s=value,  # type: ignore[arg-type]
                  ledger=ledger)
    assert info.value.parameter == "deadline_s"
    client = gv.Client("xai", api_key=KEY, base_url=hostile.url(), ledger=ledger)
    with pytest.raises(ArgumentError):
        client.start("p", deadline_s=value)  # type: ignore[arg-type]
    assert hostile.requests == []
    assert ledger.all() == []


def test_nul_in_a_prompt_is_refused_naming_the_parameter(hostile: HostileServer, ledger: Ledger) -> None:
    client = gv.Client("xai", api_key=KEY, base_url=hostile.url(), ledger=ledger)
    with pytest.raises(ValidationError) as info:
        client.start("a cat\x00 then more")
    assert info.value.parameter == "prompt"
    assert "NUL" in str(info.value)
    assert hostile.requests == []
    assert ledger.all() == []


def test_wait_accepts_inf_and_refuses_nan(hostile: HostileServer, ledger: Ledger) -> None:
    hostile.route(SUBMIT, reply(b'{"request_id": "task-1"}'))
    hostile.route("/v1/videos/task-1", reply(b'{"status": "done", "video": {"url": "http://127.0.0.1:9/v.mp4"}}'))
    job = gv.Client("xai", api_key=KEY, base_url=hostile.url(), ledger=ledger).start("p")
    with pytest.raises(ArgumentError) as info:
        job.wait(math.nan)
    assert info.value.parameter == "timeout"
    with pytest.raises(ArgumentError):
        job.wait(-1)
    res = job.wait(math.inf)
    assert (res.status, res.task_id) == (gv.State.SUCCEEDED, "task-1")


@pytest.mark.parametrize("scale", [math.nan, math.inf, 0, -1.0])
def test_use_sandbox_time_scale_is_finite_and_positive(scale: float) -> None:
    try:
        with pytest.raises(ArgumentError) as info:
            gv.use_sandbox(time_scale=scale)
        assert info.value.parameter == "time_scale"
    finally:
        gv.use_sandbox(False)


def test_use_sandbox_url_is_checked() -> None:
    try:
        with pytest.raises(ArgumentError):
            gv.use_sandbox(url="http://u:p@127.0.0.1:1")
    finally:
        gv.use_sandbox(False)


@pytest.mark.parametrize(("kw", "name"), [
    ({"max_cost_usd": math.nan}, "max_cost_usd"), ({"max_cost_usd": -1.0}, "max_cost_usd"),
    ({"max_cost_usd": math.inf}, "max_cost_usd"), ({"timeout": "x"}, "timeout"),
    ({"timeout": -1}, "timeout"), ({"timeout": math.nan}, "timeout"),
    ({"repeats": 0}, "repeats"), ({"repeats": 2.0}, "repeats"), ({"repeats": "3"}, "repeats")])
def test_compare_checks_its_options_before_any_request(hostile: HostileServer, kw: dict[str, object],
                                                       name: str) -> None:
    hostile.route("*", reply(b'{"request_id": "t"}'))
    with pytest.raises(ArgumentError) as info:
        gv.compare("p", providers=[("xai", None)], progress=False, **kw)  # type: ignore[arg-type]
    assert info.value.parameter == name
    assert hostile.requests == []


def test_compare_huge_repeats_fails_fast_on_the_budget() -> None:
    gv.use_sandbox(time_scale=0.01)
    try:
        start = time.monotonic()
        with pytest.raises(BudgetExceededError):
            gv.compare("p", providers="xai", repeats=10**9, progress=False, duration=6,
                       resolution="480p", max_cost_usd=5.0)
        assert time.monotonic() - start < 2.0
    finally:
        gv.use_sandbox(False)


def test_sweep_checks_the_output_path_before_the_batch(tmp_path: Path) -> None:
    gv.use_sandbox(time_scale=0.01)
    try:
        with pytest.raises(ArgumentError) as info:
            gv.sweep("p", providers="xai", path=tmp_path / "missing" / "out.csv", progress=False)
        assert info.value.parameter == "path"
        with pytest.raises(ArgumentError) as info:
            gv.sweep("p", providers="xai", max_cost_usd=math.nan, progress=False)
        assert info.value.parameter == "max_cost_usd"
        assert Ledger(Path(gv._ledger.default_home()) / "ledger.sqlite3").all() == []  # type: ignore[attr-defined]
    finally:
        gv.use_sandbox(False)


@pytest.mark.parametrize("argv", [["--max-cost", "nan"], ["--max-cost", "-1"], ["--timeout", "-1"],
                                  ["--repeats", "0"], ["--time-scale", "inf"],
                                  ["--csv", "/nonexistent-dir-grokvid/out.csv"]])
def test_cli_refuses_bad_arguments_before_anything_runs(argv: list[str], tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    from grokvid_nb.__main__ import main

    code = main(["compare", "p", "--providers", "xai", "--sandbox", "--quiet", *argv])
    assert code == 1
    assert "error:" in capsys.readouterr().err
    assert Ledger(Path(gv._ledger.default_home()) / "ledger.sqlite3").all() == []  # type: ignore[attr-defined]
