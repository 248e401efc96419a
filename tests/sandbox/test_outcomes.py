"""Outcomes the sandbox did not produce before: each by a magic word and by configuration."""

from __future__ import annotations

import io
import statistics
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import av
import httpx
import pytest
from PIL import Image

from grokvid_nb.sandbox import ManualClock, ProviderProfile, Sandbox, SandboxConfig

from .conftest import CASES, FAILED_STATUS, poll, submit


@asynccontextmanager
async def _sandbox(
    clock: ManualClock, by_name: dict[str, ProviderProfile] | None = None, *, time_scale: float = 1.0,
    **profiles: ProviderProfile,
) -> AsyncIterator[tuple[Sandbox, httpx.AsyncClient]]:
    providers = {**profiles, **(by_name or {})}
    sandbox = Sandbox(SandboxConfig(time_scale=time_scale, seed=3, clock=clock, providers=providers))
    async with httpx.AsyncClient(transport=sandbox.transport(), base_url="http://sandbox.test") as c:
        yield sandbox, c
    sandbox.close()


def _profile(**changes: Any) -> ProviderProfile:
    """A 10 s job with no rate limit, changed as asked."""
    return ProviderProfile(**{"latency": (10.0, 10.0), "rate_limit": None, **changes})


# -- moderation -------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["magic", "config"])
async def test_xai_moderation_is_done_without_url_and_billed(clock: ManualClock, how: str) -> None:
    profile = _profile(moderation_rate=1.0 if how == "config" else 0.0)
    async with _sandbox(clock, xai=profile) as (sb, c):
        prompt = "p [sandbox:moderate]" if how == "magic" else "p"
        body = {"prompt": prompt, "duration": 6}
        rid = (await c.post("/v1/videos/generations", json=body, headers=CASES["xai"].headers)).json()["request_id"]
        clock.advance(11)
        reply = await poll(c, CASES["xai"], rid)
        assert reply == {
            "status": "done",
            "video": {"url": None, "duration": 6, "respect_moderation": False},
            "model": "grok-imagine-video",
            "progress": 100,
            "usage": {"cost_in_usd_ticks": 3_000_000_000},
        }
        assert sb.tasks("xai")[0].outcome == "moderated"
        assert sb.charged_usd("xai") == 0.3
        assert (await c.get(f"/cdn/xai/{rid}.mp4")).status_code == 404


async def test_xai_moderation_url_absent_variant(clock: ManualClock) -> None:
    async with _sandbox(clock, xai=_profile()) as (_sb, c):
        rid = (await c.post("/v1/videos/generations", json={"prompt": "[sandbox:moderate=absent]"},
                            headers=CASES["xai"].headers)).json()["request_id"]  # fmt: skip
        clock.advance(11)
        video = (await poll(c, CASES["xai"], rid))["video"]
        assert video == {"duration": 6, "respect_moderation": False}


MODERATION_SEEN = {
    "apixo": lambda r: (r["data"]["failCode"], r["data"]["failMsg"])
    == ("SensitiveContent", "Content violates provider policy, please adjust the prompt"),
    "pixazo": lambda r: r["error"] == "Content moderation: the prompt or input was flagged by the safety system",
    "xingchao": lambda r: r["error"] == "The prompt or reference images violate the content policy",
    "apiinone": lambda r: r["data"]["error"]["code"] == "content_policy_violation",
}


@pytest.mark.parametrize("name", list(MODERATION_SEEN))
@pytest.mark.parametrize("how", ["magic", "config"])
async def test_other_providers_fail_with_their_moderation_code(clock: ManualClock, name: str, how: str) -> None:
    profile = _profile(moderation_rate=1.0 if how == "config" else 0.0)
    async with _sandbox(clock, {name: profile}) as (sb, c):
        case = CASES[name]
        task_id = await submit(c, case, "x [sandbox:moderate]" if how == "magic" else "x")
        clock.advance(11)
        reply = await poll(c, case, task_id)
        assert case.status(reply) == FAILED_STATUS[name]
        assert MODERATION_SEEN[name](reply), reply
        assert sb.tasks(name)[0].outcome == "moderated"


# -- unknown status words -------------------------------------------------------------------


@pytest.mark.parametrize("how", ["magic", "config"])
async def test_xai_unknown_status_word(clock: ManualClock, how: str) -> None:
    profile = _profile(status_word="paused" if how == "config" else None)
    async with _sandbox(clock, xai=profile) as (_sb, c):
        prompt = "p [sandbox:status=paused]" if how == "magic" else "p"
        rid = (await c.post("/v1/videos/generations", json={"prompt": prompt},
                            headers=CASES["xai"].headers)).json()["request_id"]  # fmt: skip
        assert (await poll(c, CASES["xai"], rid))["status"] == "pending"  # the word replaces the terminal one
        clock.advance(11)
        reply = await poll(c, CASES["xai"], rid)
        assert reply["status"] == "paused"
        assert reply["video"]["url"].endswith(f"/cdn/xai/{rid}.mp4")


@pytest.mark.parametrize("word", ["SUCCESS", "done", "FAILURE"])
async def test_apiinone_gateway_words(clock: ManualClock, word: str) -> None:
    async with _sandbox(clock, apiinone=_profile()) as (_sb, c):
        fail = "[sandbox:fail]" if word == "FAILURE" else ""
        task_id = await submit(c, CASES["apiinone"], f"p {fail} [sandbox:status={word}]")
        clock.advance(11)
        data = (await poll(c, CASES["apiinone"], task_id))["data"]
        assert data["status"] == word
        if word == "FAILURE":
            assert data["error"]["code"] == "content_policy_violation" and "output" not in data
        else:
            assert data["output"]["video_url"].endswith(".mp4")


async def test_status_word_rate_applies_to_a_share_of_tasks(clock: ManualClock) -> None:
    async with _sandbox(clock, apixo=_profile(status_word="SUCCESS", status_word_rate=0.5)) as (sb, c):
        ids = [await submit(c, CASES["apixo"], f"p{i}") for i in range(40)]
        clock.advance(11)
        states = [(await poll(c, CASES["apixo"], i))["data"]["state"] for i in ids]
        assert set(states) == {"SUCCESS", "success"}
        assert 10 <= states.count("SUCCESS") <= 30
        assert states.count("SUCCESS") == sum(t.status_word == "SUCCESS" for t in sb.tasks("apixo"))


# -- thumbnails and extension-less URLs -------------------------------------------------------


@pytest.mark.parametrize("how", ["magic", "config"])
async def test_apiinone_cover_beside_video(clock: ManualClock, how: str) -> None:
    async with _sandbox(clock, apiinone=_profile(thumbnails=how == "config")) as (_sb, c):
        task_id = await submit(c, CASES["apiinone"], "p [sandbox:thumbnail]" if how == "magic" else "p")
        clock.advance(11)
        output = (await poll(c, CASES["apiinone"], task_id))["data"]["output"]
        assert list(output) == ["cover_url", "video_url", "video_urls"]
        assert output["cover_url"].endswith(f"/cdn/apiinone/{task_id}.jpg")
        assert output["video_url"].endswith(f"/cdn/apiinone/{task_id}.mp4")
        cover = await c.get(output["cover_url"])
        assert cover.status_code == 200 and cover.headers["content-type"] == "image/jpeg"
        image = Image.open(io.BytesIO(cover.content))
        assert (image.format, image.size) == ("JPEG", (640, 360))  # API in One clips are 720p: half size
        video = await c.get(output["video_url"])
        assert video.headers["content-type"] == "video/mp4"


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("how", ["magic", "config"])
async def test_video_url_without_extension(clock: ManualClock, name: str, how: str) -> None:
    async with _sandbox(clock, {name: _profile(url_style="noext" if how == "config" else "ext")}) as (_sb, c):
        case = CASES[name]
        task_id = await submit(c, case, "p [sandbox:url=noext]" if how == "magic" else "p")
        clock.advance(11)
        url = case.video_url(await poll(c, case, task_id))
        assert url.endswith(f"/cdn/{name}/{task_id}")
        response = await c.get(url)
        assert response.status_code == 200 and response.headers["content-type"] == "video/mp4"
        with av.open(io.BytesIO(response.content), mode="r") as container:
            assert next(container.decode(video=0)).width > 0


# -- charged failures -------------------------------------------------------------------------


async def test_pixazo_failed_is_charged_error_is_not(clock: ManualClock) -> None:
    async with _sandbox(clock, pixazo=_profile()) as (sb, c):
        case = CASES["pixazo"]
        charged = await submit(c, case, "a [sandbox:fail=charged]")
        free = await submit(c, case, "b [sandbox:fail=internal]")
        clock.advance(11)
        assert (await poll(c, case, charged))["status"] == "FAILED"
        assert (await poll(c, case, free))["status"] == "ERROR"
        assert sb.charged_usd("pixazo") == 0.42  # only FAILED: 6 s x $0.07 (720p default)


async def test_charged_failures_by_configuration(clock: ManualClock) -> None:
    profile = _profile(failure_rate=1.0, failure_kinds=("charged",))
    async with _sandbox(clock, pixazo=profile, apixo=profile) as (sb, c):
        pix = await submit(c, CASES["pixazo"], "p")
        apx = await submit(c, CASES["apixo"], "p")
        clock.advance(11)
        assert (await poll(c, CASES["pixazo"], pix))["status"] == "FAILED"
        assert (await poll(c, CASES["apixo"], apx))["data"]["failCode"] == "GenerationFailed"
        assert sb.charged_usd("pixazo") == 0.42
        assert sb.charged_usd("apixo") == 0.0


# -- expiring result URLs ---------------------------------------------------------------------


@pytest.mark.parametrize("how", ["magic", "config"])
async def test_result_url_answers_403_after_expiry_scaled(clock: ManualClock, how: str) -> None:
    profile = _profile(result_ttl=30.0 if how == "config" else None)
    async with _sandbox(clock, time_scale=0.5, xingchao=profile) as (_sb, c):
        case = CASES["xingchao"]
        task_id = await submit(c, case, "p [sandbox:ttl=30]" if how == "magic" else "p")
        clock.advance(5.5)  # finished at 5 s (10 s x 0.5)
        url = case.video_url(await poll(c, case, task_id))
        assert (await c.get(url)).status_code == 200
        clock.advance(14.4)  # 30 s x 0.5 = 15 s after the finish: still valid
        assert (await c.get(url)).status_code == 200
        clock.advance(0.2)
        expired = await c.get(url)
        assert (expired.status_code, expired.text) == (403, "AccessDenied: Request has expired")


# -- queue phases and progress curves ---------------------------------------------------------


async def _xai_progress(c: httpx.AsyncClient, clock: ManualClock, prompt: str, at: list[float]) -> list[Any]:
    rid = (await c.post("/v1/videos/generations", json={"prompt": prompt},
                        headers=CASES["xai"].headers)).json()["request_id"]  # fmt: skip
    seen, now = [], 0.0
    for t in at:
        clock.advance(t - now)
        now = t
        reply = await poll(c, CASES["xai"], rid)
        seen.append((reply["status"], reply.get("progress")))
    return seen


@pytest.mark.parametrize("how", ["magic", "config"])
async def test_queue_phase_keeps_progress_at_zero_then_counts_from_submit(clock: ManualClock, how: str) -> None:
    config = how == "config"
    profile = _profile(queue_fraction=0.5 if config else 0.15, progress_model="from_submit" if config else "linear")
    async with _sandbox(clock, xai=profile) as (_sb, c):
        prompt = "p" if config else "p [sandbox:queue=0.5] [sandbox:progress=from_submit]"
        seen = await _xai_progress(c, clock, prompt, [1, 4.9, 5.1, 8, 10.5])
        assert seen == [("pending", 0), ("pending", 0), ("processing", 51), ("processing", 80), ("done", 100)]


@pytest.mark.parametrize(
    "model,expected",
    [
        # 10 s job, queue 1.5 s, processing 8.5 s; polls at 2.5, 3.625, 6.6, 9.9 s
        # (12 %, 25 %, 60 %, 99 % of processing; int() truncates 59.99...)
        ("linear", [11, 25, 59, 98]),
        ("fast_then_slow", [34, 50, 77, 99]),
        ("stall", [19, 41, 99, 99]),
    ],
)
@pytest.mark.parametrize("how", ["magic", "config"])
async def test_progress_curves(clock: ManualClock, model: str, expected: list[int], how: str) -> None:
    profile = _profile(progress_model=model if how == "config" else "linear")
    async with _sandbox(clock, xai=profile) as (_sb, c):
        prompt = "p" if how == "config" else f"p [sandbox:progress={model}]"
        seen = await _xai_progress(c, clock, prompt, [2.5, 3.625, 6.6, 9.9, 10.1])
        assert [p for _s, p in seen] == [*expected, 100]
        assert [s for s, _p in seen] == ["processing"] * 4 + ["done"]


# -- latency families -------------------------------------------------------------------------


async def _latencies(clock: ManualClock, n: int, prompt: str = "p", spacing: float = 60.0, **profile: Any) -> list[float]:
    async with _sandbox(clock, apixo=ProviderProfile(latency=(40.0, 60.0), **profile)) as (sb, c):
        for i in range(n):
            await submit(c, CASES["apixo"], f"{prompt} {i}")
            clock.advance(spacing)
        return [t.latency for t in sb.tasks("apixo")]


async def test_default_stays_by_request_within_the_documented_range(clock: ManualClock) -> None:
    values = await _latencies(clock, 50)
    assert all(40 * 0.92 <= v <= 60 * 1.08 for v in values)


@pytest.mark.parametrize("how", ["magic", "config"])
async def test_lognormal_has_a_heavy_tail(clock: ManualClock, how: str) -> None:
    kwargs: dict[str, Any] = {"latency_model": "lognormal"} if how == "config" else {}
    values = await _latencies(clock, 300, "p [sandbox:latency=lognormal]" if how == "magic" else "p", **kwargs)
    assert 40 <= statistics.median(values) <= 56  # median near 46 (30 % into the range)
    beyond = sum(v > 60 for v in values)
    assert 40 <= beyond <= 150  # a heavy tail past the documented max
    assert max(values) > 90


@pytest.mark.parametrize("how", ["magic", "config"])
async def test_bimodal_has_two_separate_modes(clock: ManualClock, how: str) -> None:
    kwargs: dict[str, Any] = {"latency_model": "bimodal"} if how == "config" else {}
    values = await _latencies(clock, 300, "p [sandbox:latency=bimodal]" if how == "magic" else "p", **kwargs)
    fast = [v for v in values if v <= 45]
    slow = [v for v in values if v >= 60]
    assert len(fast) + len(slow) == 300  # nothing in between
    assert 0.6 <= len(fast) / 300 <= 0.8
    assert max(slow) <= 90


@pytest.mark.parametrize("how", ["magic", "config"])
async def test_surge_makes_the_first_jobs_of_a_burst_wait(clock: ManualClock, how: str) -> None:
    kwargs: dict[str, Any] = {"latency_model": "surge"} if how == "config" else {}
    prompt = "p [sandbox:latency=surge]" if how == "magic" else "p"
    async with _sandbox(clock, apixo=ProviderProfile(latency=(40.0, 60.0), jitter=0.0, **kwargs)) as (sb, c):
        for i in range(10):  # one burst, 1 s apart
            await submit(c, CASES["apixo"], f"{prompt} {i}")
            clock.advance(1)
        clock.advance(30)  # a quiet gap ends the burst
        await submit(c, CASES["apixo"], f"{prompt} late")
        tasks = sb.tasks("apixo")
    latencies = [t.latency for t in tasks]
    assert latencies[0] == pytest.approx(40 + 60)  # extra wait = max x (1 - 0/8)
    assert latencies[4] == pytest.approx(40 + 60 * 0.5)
    assert latencies[8] == latencies[9] == pytest.approx(40)
    assert latencies[10] == pytest.approx(100)  # a new burst
    assert tasks[0].queue_time == pytest.approx(100 * 0.15 + 60)  # the wait is spent queued
    assert tasks[0].progress(tasks[0].created_at + 70) == 0


def test_unknown_family_or_curve_is_refused() -> None:
    with pytest.raises(ValueError, match="latency_model"):
        SandboxConfig(providers={"xai": ProviderProfile(latency=(1, 2), latency_model="pareto")})
    with pytest.raises(ValueError, match="progress_model"):
        SandboxConfig(providers={"xai": ProviderProfile(latency=(1, 2), progress_model="zigzag")})
    with pytest.raises(ValueError, match="url_style"):
        SandboxConfig(providers={"xai": ProviderProfile(latency=(1, 2), url_style="weird")})
    with pytest.raises(ValueError, match="moderation_rate"):
        SandboxConfig(providers={"xai": ProviderProfile(latency=(1, 2), failure_rate=0.6, moderation_rate=0.6)})


async def test_magic_words_do_not_shift_the_seeded_sequence(clock: ManualClock) -> None:
    async def fates(prompts: list[str]) -> list[float]:
        async with _sandbox(clock, apixo=ProviderProfile(latency=(40.0, 60.0), failure_rate=0.3)) as (sb, c):
            for p in prompts:
                await submit(c, CASES["apixo"], p)
            return [t.latency for t in sb.tasks("apixo")]

    plain = await fates(["a", "b", "c", "d"])
    mixed = await fates(["a", "b [sandbox:latency=lognormal] [sandbox:moderate]", "c", "d"])
    assert plain[2:] == mixed[2:] and plain[0] == mixed[0]
