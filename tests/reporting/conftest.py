from __future__ import annotations

import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from childsafe.review.testing import OversightEnv

Env = OversightEnv


@pytest.fixture
def env(db_url: str, tmp_path: Path) -> Any:
    e = OversightEnv(db_url, tmp_path)
    yield e
    e.store.close()


class FakeTipline:
    """A loopback receiver that fails the first ``failures`` posts and remembers reports by idempotency key."""

    def __init__(self, failures: int = 2) -> None:
        self.failures = failures
        self.posts: list[tuple[str, str]] = []
        self.ids: dict[str, str] = {}

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/submit")
        async def submit(request: Request) -> JSONResponse:
            key = request.headers.get("idempotency-key", "")
            body = (await request.body()).decode()
            self.posts.append((key, body))
            if self.failures > 0:
                self.failures -= 1
                return JSONResponse({"error": "busy"}, status_code=503)
            ET.fromstring(body)  # must be well-formed XML
            remote = self.ids.setdefault(key, f"tip-{len(self.ids) + 1}")
            return JSONResponse({"reportId": remote})

        return app


@pytest.fixture
def tipline() -> Iterator[tuple[FakeTipline, str]]:
    fake = FakeTipline()
    server = uvicorn.Server(uvicorn.Config(fake.app(), host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield fake, f"http://127.0.0.1:{port}/submit"
    server.should_exit = True
    thread.join(10)
