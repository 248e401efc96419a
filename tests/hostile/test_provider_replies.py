"""Hostile or broken provider replies through the public API, for all five providers at once,
against the real loopback server of conftest.py (the engine's own aiohttp wire).

Each test runs the same scenario for every provider concurrently (one job each) and checks
what the standards require: an unreadable reply ends the job quickly (`unknown`, saying what
came back, the task id kept) instead of a silent poll to the deadline; a paid submit is sent
once and its task id is never lost; no redirect is followed with the key; a download carries no
key, wherever its URL points; hostile task ids stay one path segment and one file name in the
downloads folder; and the key is in no result, message, ledger row, table row or log line.
The wall-clock limits here are hang guards (`wait(...)` and the module timeout), not timings.
"""

from __future__ import annotations

import gzip
import json
import logging
import zlib
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote

import pytest

import grokvid_nb as gv
from grokvid_nb._compare.table import make_row
from grokvid_nb._html import result_html, result_text
from grokvid_nb.adapters._reply import UNRECOGNISED_LIMIT

from .conftest import Behaviour, Conn, HostileServer, _head, drip, endless, gzip_bomb, gzip_bomb_bytes, reply
from .protocols import PROTOCOLS, PROVIDERS, Protocol

pytestmark = pytest.mark.timeout(60)
KEY = "sk-live-REPLIES-0123456789abcdef"
MP4 = b"\x00\x00\x00\x18ftypisom" + b"\x00" * 2000
KEY_HEADERS = ("authorization", "ocp-apim-subscription-key")


@pytest.fixture(autouse=True)
def _quick(monkeypatch: pytest.MonkeyPatch) -> None:
    # the providers' documented first polls (xAI 10 s ... XingChaoYiQing 120 s) at 1/2000
    monkeypatch.setenv("GROKVID_TIME_SCALE", "0.0005")


# ---- helpers ----------------------------------------------------------------------------------
def _json(body: Any, **kw: Any) -> Behaviour:
    return reply(json.dumps(body).encode(), **kw)


def _client(server: HostileServer, proto: Protocol, prefix: str = "", **kw: Any) -> gv.Client:
    return gv.Client(proto.name, api_key=KEY, base_url=server.url(prefix or "/"), **kw)


def _start_every_provider(server: HostileServer, *, submit: Callable[[Protocol], Behaviour] | None = None,
                          poll: Callable[[Protocol], Behaviour] | None = None, task_id: str = "task-1",
                          deadline_s: float = 30, prefix: str = "", **kw: Any) -> dict[str, tuple[gv.Client, gv.Job]]:
    """Script every provider's submit and status routes under `prefix` and start one job at each."""
    jobs = {}
    for name, proto in PROTOCOLS.items():
        server.route(prefix + proto.submit_path,
                     submit(proto) if submit else _json(proto.submit_body(task_id)))
        if poll is not None:
            server.route(prefix + proto.route_of_poll(task_id), poll(proto))
        client = _client(server, proto, prefix, **kw)
        jobs[name] = (client, client.start(f"a lakeside for {name}", deadline_s=deadline_s))
    return jobs


def _results(jobs: dict[str, tuple[gv.Client, gv.Job]]) -> dict[str, tuple[gv.Client, gv.Result]]:
    """Every job's result (the wait is a hang guard well inside the module timeout)."""
    return {name: (client, job.wait(45)) for name, (client, job) in jobs.items()}


def _every_provider(server: HostileServer, **kw: Any) -> dict[str, tuple[gv.Client, gv.Result]]:
    """`_start_every_provider`, then wait for all five."""
    return _results(_start_every_provider(server, **kw))


def _everything(client: gv.Client, res: gv.Result) -> str:
    """Every place the key must never reach: ledger rows, the table row, repr, text and HTML."""
    rows = [json.dumps(r.__dict__, default=str) for r in client.ledger.all()]
    table = json.dumps(make_row(result=res, provider=res.provider, model=res.model, mode=res.mode,
                                params=res.params, sample=0, note="", estimated=None), default=str)
    return "\n".join([*rows, table, repr(res), str(res.error_message), str(res.error_code),
                      result_text(res), result_html(res), repr(client)])


def _posts(server: HostileServer, path: str) -> int:
    return sum(1 for method, p, _h in server.requests if method == "POST" and p == path)


def _polls(server: HostileServer, proto: Protocol, prefix: str = "") -> list[str]:
    return [p for m, p, _h in server.requests if m == "GET" and p.startswith(prefix + proto.poll_prefix)]


def _elsewhere(server: HostileServer, path: str = "/stolen") -> str:
    """The same server under another origin (another host name): a different site to httpx."""
    return f"http://localhost:{server.port}{path}"


def _reached_elsewhere(server: HostileServer) -> list[tuple[str, str]]:
    return [(m, p) for m, p, h in server.requests if h.get("host", "").startswith("localhost")]


# ---- unreadable replies -----------------------------------------------------------------------
@lru_cache(maxsize=1)
def _zlib_bomb() -> bytes:
    return zlib.compress(bytes(16 << 20), 9)  # 16 MiB of zeros in about 16 KB


def _encoded(body: bytes, encoding: str) -> Behaviour:
    return reply(body, headers={"Content-Encoding": encoding})


def _too_large_declared(conn: Conn) -> None:
    if conn.send(_head(200, {"Content-Type": "application/json", "Content-Length": str(10**9)})):
        conn.send(b'{"status": "' + b"x" * 4096)
        conn.stop.wait()


HTML = (f"<html><head><title>Just a moment...</title></head><body>Checking your browser. "
        f"Authorization: Bearer {KEY} api_key={KEY}</body></html>").encode()

#: (behaviour, a fragment the job's message must quote): replies no provider documents
UNREADABLE: dict[str, tuple[Callable[[HostileServer], Behaviour], str]] = {
    "html-200": (lambda s: reply(HTML, headers={"Content-Type": "text/html"}), "Just a moment"),
    "empty-200": (lambda s: reply(b""), "<empty body>"),
    "json-10000-deep": (lambda s: reply(b"[" * 10_000 + b"]" * 10_000), "expected JSON"),
    "redirect-302": (lambda s: reply(b"", status=302, headers={"Location": _elsewhere(s)}),
                     "redirect to 'http://localhost:"),
    "redirect-307": (lambda s: reply(b"", status=307, headers={"Location": _elsewhere(s)}),
                     "redirects of API requests are not followed"),
    "declares-1-GB": (lambda s: _too_large_declared, "it declares Content-Length 1000000000"),
    "endless-chunked": (lambda s: endless(chunk=b" " * 65536), "larger than the cap of 1048576 bytes"),
    "gzip-bomb": (lambda s: gzip_bomb(inflated_mib=64, chunked=True), "after decoding gzip"),
    "deflate-bomb": (lambda s: _encoded(_zlib_bomb(), "deflate"), "after decoding deflate"),
    "gzip-of-gzip-bomb": (lambda s: _encoded(gzip.compress(gzip_bomb_bytes(64)), "gzip, gzip"),
                          "after decoding gzip, gzip"),
}


@pytest.mark.parametrize("kind", list(UNREADABLE))
def test_unreadable_status_replies_end_the_job_unknown_quickly(hostile: HostileServer, kind: str,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    """Not a silent poll until the deadline (30 s here, 30 min by default): after
    `UNRECOGNISED_LIMIT` unreadable replies in a row the job ends `unknown`, quoting the last
    one, with its task id kept for gv.resume(). A redirect is never followed."""
    make, fragment = UNREADABLE[kind]
    caplog.set_level(logging.INFO, logger="grokvid_nb")
    results = _every_provider(hostile, poll=lambda proto: make(hostile))
    for name, (client, res) in results.items():
        proto = PROTOCOLS[name]
        assert (res.status, res.error_code, res.task_id) == (gv.State.UNKNOWN, "unreadable_reply", "task-1"), \
            (name, res.status, res.error_message)
        assert fragment in (res.error_message or ""), (name, res.error_message)
        assert "gv.resume()" in (res.error_message or "")
        assert res.polls == UNRECOGNISED_LIMIT == len(_polls(hostile, proto)), name
        assert _posts(hostile, proto.submit_path) == 1, name
        row = client.ledger.all()[0]
        assert (row.task_id, row.state) == ("task-1", "unknown")
        assert KEY not in _everything(client, res), name
        if kind == "html-200":  # the provider's page is shown as escaped text, never as markup
            markup = result_html(res)
            assert "&lt;title&gt;Just a moment" in markup and "<title>" not in markup
    assert _reached_elsewhere(hostile) == []
    assert KEY not in caplog.text
    assert "unreadable status reply" in caplog.text  # a WARNING for each, never silent


@pytest.mark.parametrize("kind", list(UNREADABLE))
def test_unreadable_submit_replies_end_unknown_and_are_never_resent(hostile: HostileServer, kind: str) -> None:
    """The submit may have created a (paid) task: one POST, never resent, the job says so."""
    make, fragment = UNREADABLE[kind]
    results = _every_provider(hostile, submit=lambda proto: make(hostile))
    for name, (client, res) in results.items():
        proto = PROTOCOLS[name]
        assert (res.status, res.error_code, res.task_id) == (gv.State.UNKNOWN, "unreadable_submit_reply", None), \
            (name, res.status, res.error_message)
        assert fragment in (res.error_message or "") and "It was NOT resent" in (res.error_message or ""), \
            (name, res.error_message)
        assert _posts(hostile, proto.submit_path) == 1 and _polls(hostile, proto) == [], name
        assert KEY not in _everything(client, res), name
    assert _reached_elsewhere(hostile) == []


def test_a_readable_reply_between_unreadable_ones_resets_the_count(hostile: HostileServer) -> None:
    """A flaky gateway page now and then is retried: only replies unreadable in a row end a job."""
    seen: dict[str, int] = {}

    def flaky(proto: Protocol) -> Behaviour:
        html = reply(HTML, headers={"Content-Type": "text/html"})
        steps = [html, html, _json(proto.running()), html, html, _json(proto.done(hostile.url("/v.mp4")))]

        def run(conn: Conn) -> None:
            seen[proto.name] = seen.get(proto.name, 0) + 1
            steps[min(seen[proto.name], len(steps)) - 1](conn)
        return run

    for name, (_c, res) in _every_provider(hostile, poll=flaky).items():
        assert res.status is gv.State.SUCCEEDED and res.polls == 6, (name, res.status, res.error_message)


# ---- deadlines ---------------------------------------------------------------------------------
def test_replies_dripping_slower_than_the_deadline_end_every_job_at_it(hostile: HostileServer) -> None:
    """Submit replies dripping (under /s) end `unknown` (it may have been created; not resent),
    status replies dripping (under /p) end `timed_out` with the task id kept."""
    submitting = _start_every_provider(hostile, prefix="/s", deadline_s=1.0, submit=lambda proto: drip(
        json.dumps(proto.submit_body("t-1")).encode(), interval=0.3))
    polling = _start_every_provider(hostile, prefix="/p", deadline_s=1.0, poll=lambda proto: drip(
        json.dumps(proto.running()).encode(), interval=0.3))
    submits, polls = _results(submitting), _results(polling)
    for name in PROVIDERS:
        res = submits[name][1]
        assert (res.status, res.error_code, res.task_id) == (gv.State.UNKNOWN, "submit_reply_lost", None), name
        assert "within the deadline" in (res.error_message or "") and "NOT resent" in (res.error_message or "")
        assert _posts(hostile, "/s" + PROTOCOLS[name].submit_path) == 1
        res = polls[name][1]
        assert (res.status, res.task_id) == (gv.State.TIMED_OUT, "task-1"), (name, res.status, res.error_message)
        assert "within the deadline" in (res.error_message or "")
        assert _posts(hostile, "/p" + PROTOCOLS[name].submit_path) == 1


# ---- Retry-After -------------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["-1", "garbage", "Wed, 21 Oct 2015 07:28:00 GMT", "nan", ""])
def test_a_useless_retry_after_is_a_short_backoff(hostile: HostileServer, value: str) -> None:
    def limited_then_done(proto: Protocol) -> Behaviour:
        steps = [_json({"error": "slow down"}, status=429, headers={"Retry-After": value}),
                 _json(proto.done(hostile.url("/v.mp4")))]
        count = [0]

        def run(conn: Conn) -> None:
            count[0] += 1
            steps[min(count[0], 2) - 1](conn)
        return run

    for name, (_c, res) in _every_provider(hostile, poll=limited_then_done).items():
        assert res.status is gv.State.SUCCEEDED and res.polls == 2, (name, res.status, res.error_message)


def test_a_retry_after_beyond_the_deadline_ends_the_job_at_the_deadline(hostile: HostileServer) -> None:
    """Retry-After: 1e9 (31 years) is honoured, so nothing more is sent, and the job's
    deadline ends the wait: timed_out with its task id, saying what the provider asked."""
    results = _every_provider(hostile, deadline_s=0.5, poll=lambda proto: _json(
        {"error": "slow down"}, status=429, headers={"Retry-After": "1e9"}))
    for name, (_c, res) in results.items():
        assert (res.status, res.task_id) == (gv.State.TIMED_OUT, "task-1"), (name, res.status, res.error_message)
        assert res.polls == 1 == len(_polls(hostile, PROTOCOLS[name])), name
        assert "HTTP 429" in (res.error_message or ""), (name, res.error_message)


# ---- redirects and keys on downloads -----------------------------------------------------------
@pytest.mark.parametrize("status", [302, 307])
def test_downloads_carry_no_key_on_the_providers_origin_or_after_a_redirect(
        hostile: HostileServer, status: int, tmp_path: Path) -> None:
    """The result URL on the provider's own origin (where the key may go) and a redirect to
    another origin: neither download request carries the key; the clip is kept in its folder."""
    hostile.route("/v.mp4", reply(b"", status=status, headers={"Location": _elsewhere(hostile, "/cdn.mp4")}))
    hostile.route("/cdn.mp4", reply(MP4, headers={"Content-Type": "video/mp4"}))
    results = _every_provider(hostile, poll=lambda proto: _json(proto.done(hostile.url("/v.mp4"))),
                              keep_local=True, download_dir=tmp_path)
    for name, (_c, res) in results.items():
        assert res.status is gv.State.SUCCEEDED, (name, res.error_message)
        assert res.local_path is not None and res.local_path.parent == tmp_path
        assert res.local_path.read_bytes() == MP4
    downloads = [(p, h) for m, p, h in hostile.requests if p in ("/v.mp4", "/cdn.mp4")]
    assert sorted(p for p, _h in downloads) == ["/cdn.mp4"] * 5 + ["/v.mp4"] * 5
    for _p, headers in downloads:
        assert not set(KEY_HEADERS) & set(headers) and KEY not in json.dumps(headers)
    # the API requests did carry it, in each provider's own header
    for proto in PROTOCOLS.values():
        sent = [h for m, p, h in hostile.requests if p == proto.submit_path]
        assert KEY in sent[0][proto.key_header]


# ---- task ids ----------------------------------------------------------------------------------
HOSTILE_IDS = {"dotdot": "..", "climb": "../../../../tmp/pwned", "nul": "a\x00b", "long": "x" * 10_000}


@pytest.mark.parametrize("label", list(HOSTILE_IDS))
def test_hostile_task_ids_stay_one_path_segment_and_one_file_in_the_folder(
        hostile: HostileServer, label: str, tmp_path: Path) -> None:
    task_id = HOSTILE_IDS[label]
    hostile.route("/v.mp4", reply(MP4, headers={"Content-Type": "video/mp4"}))

    def status(conn: Conn) -> None:
        # every status path of a provider answers "done"; anything else gets a 404
        for proto in PROTOCOLS.values():
            if conn.path.startswith(proto.poll_prefix):
                return _json(proto.done(hostile.url("/v.mp4")))(conn)
        return reply(b'{"error": "no such route"}', status=404)(conn)

    hostile.route("*", status)
    results = _every_provider(hostile, task_id=task_id, keep_local=True, download_dir=tmp_path)
    for name, (client, res) in results.items():
        proto = PROTOCOLS[name]
        assert (res.status, res.task_id) == (gv.State.SUCCEEDED, task_id), (name, res.status, res.error_message)
        for path in _polls(hostile, proto):
            route, _, query = path.partition("?")
            if proto.id_in_query:
                assert route == proto.poll_prefix and parse_qs(query)["taskId"] == [task_id]
            else:
                segment = route[len(proto.poll_prefix):]
                assert "/" not in segment and unquote(segment) == task_id, (name, path[:80])
        assert res.local_path is not None and res.local_path.parent == tmp_path, (name, res.local_path)
        assert len(res.local_path.name.encode()) <= 255 and "\x00" not in res.local_path.name
        assert res.local_path.name.startswith(f"{name}-")
        assert client.ledger.all()[0].task_id == task_id
    assert sorted(p.parent for p in tmp_path.rglob("*")) == [tmp_path] * len(PROVIDERS)
    assert not Path("/tmp/pwned").exists()


def test_a_download_redirect_loop_is_a_download_error(hostile: HostileServer, tmp_path: Path) -> None:
    """httpx gives up after 20 hops with its own TooManyRedirects (not a transport error): the
    caller gets the toolkit's DownloadError naming the URL, and no file."""
    hostile.route("/v.mp4", reply(b"", status=302, headers={"Location": _elsewhere(hostile, "/v.mp4")}))
    proto = PROTOCOLS["xai"]
    hostile.route(proto.submit_path, _json(proto.submit_body("task-1")))
    hostile.route(proto.route_of_poll("task-1"), _json(proto.done(hostile.url("/v.mp4"))))
    res = _client(hostile, proto).start("p").wait(45)
    assert res.ok
    with pytest.raises(gv.DownloadError, match="redirect") as info:
        res.download(tmp_path / "v.mp4")
    assert info.value.url == hostile.url("/v.mp4")
    assert list(tmp_path.iterdir()) == []
    assert not any(set(KEY_HEADERS) & set(h) for _m, p, h in hostile.requests if p == "/v.mp4")
