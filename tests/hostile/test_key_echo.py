"""Issue 14 item 8 and the implausible-cost item: a provider that echoes the API key in an error
message, an error code or a task id never gets it into INFO logs, the ledger, the Result or the
table; a negative or absurd reported cost is treated as unknown."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

import grokvid_nb as gv
from grokvid_nb._compare.table import make_row
from grokvid_nb._ledger import Ledger

from .conftest import HostileServer, reply

pytestmark = pytest.mark.timeout(20)
KEY = "sk-live-ECHO-0123456789abcdef"
SUBMIT = "/v1/videos/generations"


def _client(server: HostileServer, tmp_path: Path) -> gv.Client:
    return gv.Client("xai", api_key=KEY, base_url=server.url(), ledger=Ledger(tmp_path / "l.sqlite3"))


def _everything(client: gv.Client, res: gv.Result) -> str:
    rows = [json.dumps(r.__dict__, default=str) for r in client.ledger.all()]
    table = json.dumps(make_row(result=res, provider="xai", model=res.model, mode=res.mode,
                                params=res.params, sample=0, note="", estimated=None), default=str)
    return "\n".join([*rows, table, repr(res), res._repr_html_() if hasattr(res, "_repr_html_") else ""])


def test_key_echoed_in_error_message_and_code_is_redacted_everywhere(
        hostile: HostileServer, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    body = json.dumps({"code": f"bad-key-{KEY}", "error": f"Incorrect API key provided: {KEY}"}).encode()
    hostile.route(SUBMIT, reply(body, status=503))  # retried, logged at INFO, then...
    caplog.set_level(logging.INFO, logger="grokvid_nb")
    client = _client(hostile, tmp_path)
    res = client.start("p", deadline_s=1).wait(15)
    hostile.route(SUBMIT, reply(body, status=400))
    res2 = client.start("q").wait(15)
    assert res2.status is gv.State.FAILED
    assert caplog.records, "the retries must have been logged"
    for r in (res, res2):
        assert KEY not in _everything(client, r)
    assert KEY not in caplog.text
    assert res2.error_code is not None and "bad-key-" in res2.error_code


def test_key_echoed_in_a_poll_error_code_is_redacted(hostile: HostileServer, tmp_path: Path) -> None:
    hostile.route(SUBMIT, reply(b'{"request_id": "task-1"}'))
    hostile.route("/v1/videos/task-1", reply(json.dumps(
        {"status": "failed", "error": {"code": KEY, "message": f"key {KEY} refused"}}).encode()))
    client = _client(hostile, tmp_path)
    res = client.submit("p").wait(15)
    assert res.status is gv.State.FAILED
    assert KEY not in _everything(client, res)
    assert res.error_code is not None and "REDACTED" in res.error_code.upper()


def test_task_id_carrying_the_key_ends_unknown_and_is_never_recorded(
        hostile: HostileServer, tmp_path: Path) -> None:
    hostile.route(SUBMIT, reply(json.dumps({"request_id": f"task-{KEY}"}).encode()))
    client = _client(hostile, tmp_path)
    res = client.start("p").wait(15)
    assert (res.status, res.error_code, res.task_id) == (gv.State.UNKNOWN, "task_id_echoes_key", None)
    assert KEY not in _everything(client, res)
    assert [m for m, _p, _h in hostile.requests] == ["POST"]  # never polled with it, never resent


@pytest.mark.parametrize("ticks", [-5 * 10**10, 10**20])
def test_implausible_reported_cost_is_unknown(hostile: HostileServer, tmp_path: Path, ticks: int,
                                              caplog: pytest.LogCaptureFixture) -> None:
    hostile.route(SUBMIT, reply(b'{"request_id": "task-1"}'))
    hostile.route("/v1/videos/task-1", reply(json.dumps(
        {"status": "done", "video": {"url": hostile.url("/v.mp4")}, "usage": {"cost_in_usd_ticks": ticks}}
    ).encode()))
    client = _client(hostile, tmp_path)
    res = client.submit("p").wait(15)
    assert res.status is gv.State.SUCCEEDED
    assert res.cost_source != "reported"
    assert res.cost_usd is None or res.cost_usd >= 0
    row = client.ledger.all()[0]
    assert row.cost_source != "reported"
    assert "implausible cost" in caplog.text
