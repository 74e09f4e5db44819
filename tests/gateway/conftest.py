"""Real servers on loopback: the gateway under uvicorn, a scriptable fake upstream, SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse

from childsafe.config import Config
from childsafe.engine import Engine
from childsafe.gateway import create_app
from childsafe.store import Store

API_KEY = "sk-test-app"
# One client for all tests: a new httpx client per call builds a TLS context each time, which is slow.
HTTP = httpx.Client(timeout=10, trust_env=False)
CHILD = "kid-7"


class ServerThread:
    """A uvicorn server for an ASGI app on 127.0.0.1 with a free port, in a background thread."""

    def __init__(self, app: Any) -> None:
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on", access_log=False)
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("server did not start")
            time.sleep(0.01)
        return self

    @property
    def port(self) -> int:
        sock = self.server.servers[0].sockets[0]
        return int(sock.getsockname()[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(20)


@dataclass
class FakeUpstream:
    """Scriptable OpenAI-compatible upstream; records every payload it receives."""

    reply: str = "Octopuses have three hearts."
    mode: str = "ok"  # ok | http500 | http400 | slow | not_json | no_choices | stream_drop | stream_garbage
    piece: int = 7
    delay_s: float = 0.0
    received: list[dict[str, Any]] = field(default_factory=list)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/v1/chat/completions", response_model=None)
        async def chat(request: Request) -> Response:
            body = await request.json()
            self.received.append(body)
            if self.mode == "http500":
                return JSONResponse({"error": {"message": "boom"}}, status_code=500)
            if self.mode == "http400":
                return JSONResponse({"error": {"message": "bad model"}}, status_code=400)
            if self.mode == "slow":
                await asyncio.sleep(self.delay_s)
            if self.mode == "not_json":
                return PlainTextResponse("<html>oops</html>")
            if self.mode == "no_choices":
                return JSONResponse({"id": "x", "choices": []})
            if body.get("stream"):
                return StreamingResponse(self._stream(body), media_type="text/event-stream")
            return JSONResponse(
                {
                    "id": "chatcmpl-fake",
                    "object": "chat.completion",
                    "created": 1,
                    "model": body["model"],
                    "choices": [
                        {"index": 0, "message": {"role": "assistant", "content": self.reply}, "finish_reason": "stop"}
                    ],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                }
            )

        return app

    async def _stream(self, body: dict[str, Any]) -> AsyncIterator[bytes]:
        def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
            data = {
                "id": "chatcmpl-fake",
                "object": "chat.completion.chunk",
                "created": 1,
                "model": body["model"],
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
            return f"data: {json.dumps(data)}\n\n".encode()

        yield chunk({"role": "assistant", "content": ""})
        for i in range(0, len(self.reply), self.piece):
            if self.mode == "stream_drop" and i >= len(self.reply) // 2:
                raise RuntimeError("upstream died mid-stream")
            if self.mode == "stream_garbage" and i >= len(self.reply) // 2:
                yield b"data: {not json\n\n"
                return
            yield chunk({"content": self.reply[i : i + self.piece]})
        yield chunk({}, "stop")
        yield b"data: [DONE]\n\n"

    def reset(self) -> None:
        self.reply, self.mode, self.piece, self.delay_s = FakeUpstream.reply, "ok", 7, 0.0
        self.received.clear()


@pytest.fixture(scope="session")
def upstream_server() -> Iterator[tuple[FakeUpstream, str]]:
    fake = FakeUpstream()
    with ServerThread(fake.app()) as srv:
        yield fake, srv.url + "/v1"


@pytest.fixture
def upstream(upstream_server: tuple[FakeUpstream, str]) -> tuple[FakeUpstream, str]:
    upstream_server[0].reset()
    return upstream_server


def make_config(db_url: str, tmp_path: Path, upstream_url: str | None, **server: Any) -> Config:
    store = server.pop("store", {})
    upstream_cfg = {"url": upstream_url, "timeout_s": server.pop("timeout_s", 5.0)}
    return Config.model_validate(
        {
            "store": {"url": db_url, "data_dir": str(tmp_path / "data"), **store},
            "server": {
                "apps": [{"name": "test-app", "key": API_KEY, "rate_limit_per_minute": server.pop("rate", 10_000)}],
                "upstream": upstream_cfg,
                **server,
            },
        }
    )


@dataclass
class Gw:
    url: str
    store: Store
    upstream: FakeUpstream | None
    app: Any

    @property
    def base(self) -> str:
        return self.url + "/v1"

    def flush(self) -> None:
        assert self.app.state.gateway.sink.flush()


GatewayFactory = Callable[..., Gw]


@pytest.fixture(scope="session")
def shared_engine() -> Engine:
    """One warmed engine for all gateway tests (each gateway adds, and the fixture removes, its store sink)."""
    engine = Engine.from_config(Config())
    engine.warmup()
    return engine


@pytest.fixture
def gateway_factory(
    db_url: str, tmp_path: Path, upstream: tuple[FakeUpstream, str], shared_engine: Engine
) -> Iterator[GatewayFactory]:
    """Start a gateway (real uvicorn) against the fake upstream; keyword args become server config."""
    stack: list[tuple[ServerThread, Store]] = []
    fake, up_url = upstream

    def start(*, upstream_url: str | None = "default", **server: Any) -> Gw:
        url = up_url if upstream_url == "default" else upstream_url
        config = make_config(db_url, tmp_path, url, **server)
        store = Store.from_config(config.store)
        app = create_app(config, engine=shared_engine, store=store)
        srv = ServerThread(app).__enter__()
        stack.append((srv, store))
        return Gw(srv.url, store, fake, app)

    yield start
    for srv, store in reversed(stack):
        srv.__exit__()
        store.close()
    shared_engine.sinks.clear()


@pytest.fixture
def gw(gateway_factory: GatewayFactory) -> Gw:
    """A gateway with the child CHILD registered (age 11) and auto-creation off."""
    g = gateway_factory()
    app = g.store.apps.by_key(API_KEY)
    assert app is not None
    g.store.children.upsert(app.id, CHILD, "10-12")
    return g
