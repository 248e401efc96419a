"""Fixtures for driving the sandbox with raw httpx (never through an adapter)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from grokvid_nb.sandbox import ManualClock, Sandbox, SandboxConfig

BEARER = {"Authorization": "Bearer test-key"}
PIXAZO_KEY = {"Ocp-Apim-Subscription-Key": "test-key"}
PIXAZO_TEXT = "/grok-imagine-video-text-to-video/v1/grok-imagine-video-text-to-video-request"


def pixazo_route(kind: str) -> str:
    """Submit path of one Pixazo route."""
    return f"/grok-imagine-video-{kind}/v1/grok-imagine-video-{kind}-request"


@dataclass(frozen=True)
class ProviderCase:
    """How to submit a minimal valid job to a provider and poll it."""

    name: str
    submit_path: str
    headers: dict[str, str]
    body: dict[str, Any]
    submit_status: int = 200

    def with_prompt(self, prompt: str) -> dict[str, Any]:
        """The minimal body with another prompt."""
        body = {k: (dict(v) if isinstance(v, dict) else v) for k, v in self.body.items()}
        if self.name == "apixo":
            body["input"]["prompt"] = prompt
        else:
            body["prompt"] = prompt
        return body

    def task_id(self, reply: dict[str, Any]) -> str:
        """The task id from a submit reply."""
        if self.name == "xai":
            return reply["request_id"]
        if self.name == "apixo":
            return reply["data"]["taskId"]
        if self.name == "pixazo":
            return reply["request_id"]
        if self.name == "xingchao":
            return reply["id"]
        return reply["data"]["task_id"]

    def poll(self, task_id: str) -> tuple[str, dict[str, str]]:
        """``(path, query params)`` of the status endpoint."""
        if self.name == "xai":
            return f"/v1/videos/{task_id}", {}
        if self.name == "apixo":
            return "/api/v1/statusTask/grok-video", {"taskId": task_id}
        if self.name == "pixazo":
            return f"/v2/requests/status/{task_id}", {}
        if self.name == "xingchao":
            return f"/v1/result/{task_id}", {}
        return f"/api/v1/tasks/{task_id}", {}

    def status(self, reply: dict[str, Any]) -> str:
        """The raw status word of a poll reply."""
        if self.name == "apixo":
            return reply["data"]["state"]
        if self.name == "apiinone":
            return reply["data"]["status"]
        return reply["status"]

    def video_url(self, reply: dict[str, Any]) -> str:
        """The result URL of a successful poll reply."""
        import json

        if self.name == "xai":
            return reply["video"]["url"]
        if self.name == "apixo":
            return json.loads(reply["data"]["resultJson"])["resultUrls"][0]
        if self.name == "pixazo":
            return reply["output"]["media_url"][0]
        if self.name == "xingchao":
            return reply["video_url"]
        return reply["data"]["output"]["video_url"]


CASES: dict[str, ProviderCase] = {
    "xai": ProviderCase(
        "xai", "/v1/videos/generations", BEARER, {"model": "grok-imagine-video", "prompt": "a lakeside at sunset"}
    ),
    "apixo": ProviderCase(
        "apixo",
        "/api/v1/generateTask/grok-video",
        BEARER,
        {
            "request_type": "async",
            "input": {"mode": "text-to-video", "prompt": "a lakeside at sunset", "duration": 6, "resolution": "480p"},
        },
    ),
    "pixazo": ProviderCase("pixazo", PIXAZO_TEXT, PIXAZO_KEY, {"prompt": "a lakeside at sunset"}, 202),
    "xingchao": ProviderCase(
        "xingchao", "/v1/grok/videos", BEARER, {"model": "grok_video3", "prompt": "a lakeside at sunset"}
    ),
    "apiinone": ProviderCase(
        "apiinone",
        "/api/v1/videos/generations",
        BEARER,
        {"model": "grok-imagine/text-to-video", "prompt": "a lakeside at sunset"},
    ),
}

SUCCESS_STATUS = {
    "xai": "done",
    "apixo": "success",
    "pixazo": "COMPLETED",
    "xingchao": "completed",
    "apiinone": "completed",
}
FAILED_STATUS = {"xai": "failed", "apixo": "failed", "pixazo": "FAILED", "xingchao": "failed", "apiinone": "failed"}


@pytest.fixture
def clock() -> ManualClock:
    """A hand-driven clock."""
    return ManualClock()


@pytest.fixture
def sb(clock: ManualClock) -> Iterator[Sandbox]:
    """A sandbox on a manual clock at real time scale (advance the clock to move jobs on)."""
    sandbox = Sandbox(SandboxConfig(time_scale=1.0, seed=1, clock=clock))
    yield sandbox
    sandbox.close()


@pytest.fixture
async def client(sb: Sandbox) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client talking to ``sb`` in-process."""
    async with httpx.AsyncClient(transport=sb.transport(), base_url="http://sandbox.test") as c:
        yield c


@pytest.fixture(params=list(CASES))
def case(request: pytest.FixtureRequest) -> ProviderCase:
    """Each provider in turn."""
    return CASES[request.param]


async def submit(client: httpx.AsyncClient, case: ProviderCase, prompt: str | None = None) -> str:
    """Submit a minimal valid job and return its task id."""
    body = case.body if prompt is None else case.with_prompt(prompt)
    response = await client.post(case.submit_path, json=body, headers=case.headers)
    assert response.status_code == case.submit_status, response.text
    return case.task_id(response.json())


async def poll(client: httpx.AsyncClient, case: ProviderCase, task_id: str) -> dict[str, Any]:
    """Poll once and return the JSON reply (asserting HTTP 200)."""
    path, params = case.poll(task_id)
    response = await client.get(path, params=params, headers=case.headers)
    assert response.status_code == 200, response.text
    return response.json()
