"""Configuration: time scale, seeding, sampled failures, magic words, independence."""

from __future__ import annotations

import ast
from pathlib import Path

import httpx
import pytest

from grokvid_nb.sandbox import ManualClock, ProviderProfile, Sandbox, SandboxConfig, parse_magic

from .conftest import CASES, poll, submit

SANDBOX_DIR = Path(__file__).resolve().parents[2] / "grokvid_nb" / "sandbox"


def test_time_scale_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROKVID_TIME_SCALE", "0.25")
    assert SandboxConfig().time_scale == 0.25
    assert SandboxConfig(time_scale=2).time_scale == 2
    monkeypatch.delenv("GROKVID_TIME_SCALE")
    assert SandboxConfig().time_scale == 1.0
    monkeypatch.setenv("GROKVID_TIME_SCALE", "fast")
    with pytest.raises(ValueError):
        SandboxConfig()


def test_config_validation() -> None:
    with pytest.raises(ValueError):
        SandboxConfig(time_scale=0)
    with pytest.raises(ValueError):
        SandboxConfig(providers={"openai": ProviderProfile(latency=(1, 2))})
    with pytest.raises(ValueError):
        SandboxConfig(providers={"xai": ProviderProfile(latency=(5, 1))})
    with pytest.raises(ValueError):
        SandboxConfig(providers={"xai": ProviderProfile(latency=(1, 2), failure_rate=0.8, expire_rate=0.3)})
    partial = SandboxConfig(providers={"apixo": ProviderProfile(latency=(1, 2))})
    assert set(partial.providers) == {"xai", "apixo", "pixazo", "xingchao", "apiinone"}
    assert partial.profile("xai").latency == (20.0, 60.0)


def test_default_latencies_match_the_docs() -> None:
    latencies = {name: profile.latency for name, profile in SandboxConfig().providers.items()}
    assert latencies == {
        "xai": (20.0, 60.0),
        "apixo": (40.0, 60.0),
        "pixazo": (15.0, 110.0),
        "xingchao": (120.0, 480.0),
        "apiinone": (30.0, 60.0),
    }


async def _fates(seed: int, clock: ManualClock) -> list[tuple[float, str]]:
    profile = ProviderProfile(latency=(10, 50), failure_rate=0.3, latency_model="uniform")
    sandbox = Sandbox(SandboxConfig(time_scale=0.5, seed=seed, clock=clock, providers={"apixo": profile}))
    async with httpx.AsyncClient(transport=sandbox.transport(), base_url="http://s") as c:
        for _ in range(12):
            await submit(c, CASES["apixo"])
    sandbox.close()
    return [(t.latency, t.outcome) for t in sandbox.tasks()]


async def test_seed_makes_fates_reproducible(clock: ManualClock) -> None:
    a, b, c = await _fates(7, clock), await _fates(7, clock), await _fates(8, clock)
    assert a == b != c
    assert all(5 <= latency <= 25 for latency, _ in a)  # (10..50) * time_scale 0.5


def test_latency_grows_with_clip_length_and_resolution() -> None:
    import random

    from grokvid_nb.sandbox._core import sample_fate, typical_latency

    profile = ProviderProfile(latency=(40.0, 60.0), durations=(6.0, 30.0), jitter=0.08)
    assert typical_latency(profile, 6, "480p") == 40.0
    assert typical_latency(profile, 30, "480p") == 60.0
    assert typical_latency(profile, 18, "720p") == 50.0 * 1.1
    rng = random.Random(1)
    for _ in range(200):
        latency, queue, outcome, _fail = sample_fate(rng, profile, "p", 1.0, 6, "480p")
        assert 40.0 * 0.92 <= latency <= 40.0 * 1.08 and outcome == "success"
        assert queue == latency * profile.queue_fraction
    with pytest.raises(ValueError, match="latency_model"):
        SandboxConfig(providers={"apixo": ProviderProfile(latency=(1, 2), latency_model="gauss")})


async def test_failure_and_expire_rates(clock: ManualClock) -> None:
    profiles = {
        "xai": ProviderProfile(latency=(1, 1), expire_rate=1.0, rate_limit=None),
        "apixo": ProviderProfile(latency=(1, 1), failure_rate=1.0, failure_kinds=("timeout",)),
        "pixazo": ProviderProfile(latency=(1, 1), failure_rate=1.0, failure_kinds=("moderation",)),
    }
    sandbox = Sandbox(SandboxConfig(time_scale=1.0, seed=0, clock=clock, providers=profiles))
    async with httpx.AsyncClient(transport=sandbox.transport(), base_url="http://s") as c:
        ids = {name: await submit(c, CASES[name]) for name in ("xai", "apixo", "pixazo")}
        forced = await submit(c, CASES["apixo"], "x [sandbox:succeed]")
        clock.advance(1)
        assert (await poll(c, CASES["xai"], ids["xai"]))["status"] == "expired"
        assert (await poll(c, CASES["apixo"], ids["apixo"]))["data"]["failCode"] == "Timeout"
        assert (await poll(c, CASES["pixazo"], ids["pixazo"]))["status"] == "FAILED"
        assert (await poll(c, CASES["apixo"], forced))["data"]["state"] == "success"
    sandbox.close()


async def test_result_ttl(clock: ManualClock) -> None:
    sandbox = Sandbox(SandboxConfig(time_scale=1.0, clock=clock, result_ttl=100))
    async with httpx.AsyncClient(transport=sandbox.transport(), base_url="http://s") as c:
        task_id = await submit(c, CASES["apiinone"], "x [sandbox:latency=1]")
        clock.advance(2)
        url = (await poll(c, CASES["apiinone"], task_id))["data"]["output"]["video_url"]
        assert (await c.get(url)).status_code == 200
        clock.advance(100)
        expired = await c.get(url)
        assert expired.status_code == 403  # a signed CDN URL past its expiry
        assert expired.text == "AccessDenied: Request has expired"
    sandbox.close()


async def test_clips_are_cached(sb: Sandbox, client: httpx.AsyncClient, clock: ManualClock) -> None:
    case = CASES["xingchao"]
    first = await submit(client, case, "same prompt [sandbox:latency=1]")
    second = await submit(client, case, "same prompt [sandbox:latency=1]")
    clock.advance(2)
    for task_id in (first, second, first, second):
        assert (await client.get(f"/cdn/xingchao/{task_id}.mp4")).status_code == 200
    assert sb.clips.made == 2  # one per sample (#0, #1), each made once


def test_parse_magic() -> None:
    assert parse_magic("plain").outcome is None
    magic = parse_magic("x [sandbox:fail] y [sandbox:latency=2.5]")
    assert (magic.outcome, magic.fail, magic.latency) == ("failed", "moderation", 2.5)
    assert parse_magic("[sandbox:fail=PromptInvalid]").fail == "PromptInvalid"
    assert parse_magic("[sandbox:expire]").outcome == "expired"
    assert parse_magic("[SANDBOX:succeed]").outcome == "success"
    assert parse_magic("[sandbox:latency=soon]").latency is None


def test_sandbox_imports_nothing_else_from_grokvid_nb() -> None:
    allowed_third_party = {"PIL", "av", "httpx", "numpy", "starlette", "uvicorn"}
    for path in SANDBOX_DIR.glob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                if node.level:  # relative: must stay inside the sandbox package
                    assert node.level == 1, f"{path.name}: {ast.unparse(node)}"
                    continue
                names = [node.module or ""]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                assert top != "grokvid_nb", f"{path.name} imports {name}"
                import sys

                assert top in sys.stdlib_module_names or top in allowed_third_party, f"{path.name} imports {name}"
