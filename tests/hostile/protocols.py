"""Each provider's wire, as hostile-reply tests need it: where a text-to-video submit goes, what
an ordinary submit / running / finished reply looks like, where a task's status is read, and
which header carries the key. Written from PROVIDERS.md, independently of the adapters (the
sandbox is not used: these tests script every byte themselves)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

__all__ = ["PROTOCOLS", "PROVIDERS", "Protocol"]


@dataclass(frozen=True)
class Protocol:
    name: str
    submit_path: str
    key_header: str  # lower-case
    #: the status path for a task id with "{}" where the id goes (APIXO: a query parameter)
    poll_prefix: str
    id_in_query: bool = False

    def submit_body(self, task_id: Any) -> dict[str, Any]:
        return {
            "xai": {"request_id": task_id},
            "apixo": {"code": 200, "message": "success", "data": {"taskId": task_id}},
            "pixazo": {"request_id": task_id, "status": "QUEUED", "polling_url": "https://x/y"},
            "xingchao": {"id": task_id, "object": "video", "status": "queued", "error": None},
            "apiinone": {"code": 200, "message": "success",
                         "data": {"task_id": task_id, "status": "IN_PROGRESS"}},
        }[self.name]

    def running(self, progress: Any = None, word: str | None = None) -> dict[str, Any]:
        """A running reply; `progress` where the provider reports one (else ignored)."""
        extra = {} if progress is None else {"progress": progress}
        if self.name == "xai":
            return {"status": word or "processing", **extra}
        if self.name == "apixo":
            return {"code": 200, "data": {"taskId": "t", "state": word or "processing"}}
        if self.name == "pixazo":
            return {"request_id": "r", "status": word or "PROCESSING"}
        if self.name == "xingchao":
            return {"id": "v", "status": word or "processing", "video_url": None, **extra}
        return {"code": 200, "data": {"task_id": "t", "status": word or "IN_PROGRESS", **extra}}

    def done(self, url: Any, word: str | None = None) -> dict[str, Any]:
        """A finished reply whose video is at `url`."""
        if self.name == "xai":
            return {"status": word or "done", "video": {"url": url, "duration": 6}, "progress": 100}
        if self.name == "apixo":
            return {"code": 200, "data": {"taskId": "t", "state": word or "success",
                                          "resultJson": json.dumps({"resultUrls": [url]})}}
        if self.name == "pixazo":
            return {"request_id": "r", "status": word or "COMPLETED", "output": {"media_url": [url]}}
        if self.name == "xingchao":
            return {"id": "v", "status": word or "completed", "video_url": url}
        return {"code": 200, "data": {"task_id": "t", "status": word or "completed",
                                      "output": {"video_url": url}}}

    def poll_path(self, task_id: str) -> str:
        """The path (and query) a status poll of `task_id` must arrive on, as sent on the wire."""
        if self.id_in_query:
            return f"{self.poll_prefix}?taskId={quote(task_id, safe='')}"
        return self.poll_prefix + quote(task_id, safe="")

    def route_of_poll(self, task_id: str) -> str:
        """The hostile server's route (path without query) of `task_id`'s status polls."""
        return self.poll_prefix if self.id_in_query else self.poll_path(task_id)


PROTOCOLS = {p.name: p for p in (
    Protocol("xai", "/v1/videos/generations", "authorization", "/v1/videos/"),
    Protocol("apixo", "/api/v1/generateTask/grok-video", "authorization",
             "/api/v1/statusTask/grok-video", id_in_query=True),
    Protocol("pixazo", "/grok-imagine-video-text-to-video/v1/grok-imagine-video-text-to-video-request",
             "ocp-apim-subscription-key", "/v2/requests/status/"),
    Protocol("xingchao", "/v1/grok/videos", "authorization", "/v1/result/"),
    Protocol("apiinone", "/api/v1/videos/generations", "authorization", "/api/v1/tasks/"),
)}
PROVIDERS = list(PROTOCOLS)
