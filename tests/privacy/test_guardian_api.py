"""Guardian API and the gateway's consent and healthy-use gate, over real HTTP (uvicorn), both databases."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from childsafe.config import Config
from childsafe.engine import Engine
from childsafe.gateway import create_app
from childsafe.privacy.rights import load_export
from childsafe.privacy.settings import PrivacySettings
from childsafe.privacy.testing import ManualClock
from childsafe.store import Store
from childsafe.store.testing import isolated_database

PG_URL = os.environ.get("CHILDSAFE_TEST_PG_URL")
PG = pytest.param(
    "postgresql",
    marks=[pytest.mark.postgres, pytest.mark.skipif(not PG_URL, reason="CHILDSAFE_TEST_PG_URL is not set")],
)
KEY = "sk-privacy-app"
HTTP = httpx.Client(timeout=10, trust_env=False)


class Server:
    def __init__(self, app: Any) -> None:
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline and self.thread.is_alive(), "server did not start"
            time.sleep(0.01)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(20)


@dataclass
class Upstream:
    received: list[dict[str, Any]] = field(default_factory=list)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/v1/chat/completions")
        async def chat(request: Request) -> JSONResponse:
            body = await request.json()
            self.received.append(body)
            msg = {"role": "assistant", "content": "Octopuses have three hearts."}
            return JSONResponse(
                {"id": "x", "object": "chat.completion", "created": 1, "model": body["model"],
                 "choices": [{"index": 0, "message": msg, "finish_reason": "stop"}]}
            )  # fmt: skip

        return app


@pytest.fixture(scope="module")
def engine() -> Engine:
    e = Engine.from_config(Config())
    e.warmup()
    return e


@pytest.fixture(scope="module")
def upstream() -> Iterator[tuple[Upstream, str]]:
    fake = Upstream()
    with Server(fake.app()) as url:
        yield fake, url + "/v1"


@dataclass
class Env:
    url: str
    store: Store
    clock: ManualClock
    upstream: Upstream
    app: Any

    def chat(self, user: str, content: str = "tell me about octopuses", conv: str | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {KEY}"}
        if conv:
            headers["X-Childsafe-Conversation"] = conv
        body = {"model": "m", "user": user, "messages": [{"role": "user", "content": content}]}
        return HTTP.post(self.url + "/v1/chat/completions", json=body, headers=headers)

    def call(self, method: str, path: str, token: str | None = None, **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return HTTP.request(method, self.url + path, headers=headers, **kw)


@pytest.fixture(params=["sqlite", PG])
def env(
    request: pytest.FixtureRequest, tmp_path: Path, engine: Engine, upstream: tuple[Upstream, str]
) -> Iterator[Env]:
    fake, up_url = upstream
    fake.received.clear()
    clock = ManualClock(datetime(2026, 3, 2, 12, 0, tzinfo=UTC))
    with isolated_database(request.param, tmp_path, PG_URL) as url:
        config = Config.model_validate(
            {
                "store": {"url": url, "data_dir": str(tmp_path / "data"), "store_messages": True},
                "server": {"apps": [{"name": "app", "key": KEY}], "upstream": {"url": up_url}},
            }
        )
        store = Store.from_config(config.store, clock=clock)
        app = create_app(config, engine=engine, store=store, clock=clock)
        try:
            with Server(app) as base:
                yield Env(base, store, clock, fake, app)
        finally:
            engine.sinks.clear()
            store.close()


def _guardian(env: Env, name: str, *children: tuple[str, int]) -> tuple[str, str, list[str]]:
    r = env.call(
        "POST",
        "/v1/guardians",
        KEY,
        json={"display_name": name, "children": [{"user": u, "age": a} for u, a in children]},
    )
    assert r.status_code == 201, r.text
    body = r.json()
    return body["guardian"]["id"], body["token"], [c["id"] for c in body["children"]]


def _grant(env: Env, token: str, child: str, purpose: str, **extra: Any) -> httpx.Response:
    body = {"granted": True, "method": "signed_form", "child_assent": True, **extra}
    return env.call("PUT", f"/v1/children/{child}/consent/{purpose}", token, json=body)


def test_consent_gates_chat_and_withdrawal_blocks_the_next_request(env: Env) -> None:
    _gid, token, (kid,) = _guardian(env, "Parent", ("kid-a", 11))
    r = env.chat("kid-a")
    assert r.status_code == 403
    err = r.json()["error"]
    assert err["type"] == "consent_required" and err["param"] == "safety_checking" and "consent" in err["message"]
    assert env.upstream.received == []

    assert _grant(env, token, kid, "safety_checking").status_code == 200
    r = env.chat("kid-a")
    assert r.status_code == 200, r.text
    assert len(env.upstream.received) == 1

    w = env.call("DELETE", f"/v1/children/{kid}/consent/safety_checking", token)
    assert w.status_code == 200 and w.json()["purposes"]["safety_checking"] is False
    r = env.chat("kid-a")
    assert r.status_code == 403 and len(env.upstream.received) == 1

    history = env.call("GET", f"/v1/children/{kid}/consent", token).json()["history"]
    assert [(h["purpose"], h["granted"]) for h in history] == [("safety_checking", True), ("safety_checking", False)]


def test_conversation_text_is_stored_only_with_consent(env: Env) -> None:
    _gid, token, (kid,) = _guardian(env, "Parent", ("kid-s", 8))
    _grant(env, token, kid, "safety_checking", child_assent=None)
    assert env.chat("kid-s", "my dog is called Pickle", conv="c1").status_code == 200
    env.app.state.gateway.sink.flush()
    with env.store.engine.connect() as c:
        assert c.execute(text("SELECT COUNT(*) FROM messages")).scalar() == 0
    _grant(env, token, kid, "conversation_storage", child_assent=None)
    assert env.chat("kid-s", "my dog is called Pickle", conv="c2").status_code == 200
    stored = env.app.state.gateway.store.messages.read("c2")
    assert [m.text for m in stored] == ["my dog is called Pickle", "Octopuses have three hearts."]
    with env.store.engine.connect() as c:
        blobs = c.execute(text("SELECT ciphertext FROM messages")).scalars().all()
    assert blobs and all(b"Pickle" not in bytes(b) for b in blobs)


def test_guardian_sees_only_their_own_children(env: Env) -> None:
    _g1, token1, (kid_a,) = _guardian(env, "Parent A", ("kid-a", 11))
    _g2, token2, (kid_b,) = _guardian(env, "Parent B", ("kid-b", 9))
    me = env.call("GET", "/v1/guardians/me", token2).json()
    assert [c["id"] for c in me["children"]] == [kid_b]
    for method, path, body in [
        ("GET", f"/v1/children/{kid_a}", None),
        ("GET", f"/v1/children/{kid_a}/consent", None),
        ("PUT", f"/v1/children/{kid_a}/consent/analytics", {"granted": True, "child_assent": True}),
        ("GET", f"/v1/children/{kid_a}/export", None),
        ("PUT", f"/v1/children/{kid_a}/healthy-use", {"daily_limit_minutes": 1}),
        ("PATCH", f"/v1/children/{kid_a}", {"age": 15}),
        ("DELETE", f"/v1/children/{kid_a}", None),
    ]:
        r = env.call(method, path, token2, json=body)
        assert r.status_code == 404, (method, path, r.text)
    assert env.call("GET", f"/v1/children/{kid_a}", token1).status_code == 200
    assert env.call("GET", f"/v1/children/{kid_a}").status_code == 401
    assert env.call("GET", f"/v1/children/{kid_a}", "gdn_wrong").json()["error"]["code"] == "invalid_guardian_token"
    assert env.call("GET", "/v1/guardians/me", KEY).status_code == 401  # an app key is not a guardian token
    assert env.call("POST", "/v1/guardians", token1, json={"display_name": "x"}).status_code == 401


def test_time_limit_and_quiet_hours_answer_kindly(env: Env) -> None:
    _gid, token, (kid,) = _guardian(env, "Parent", ("kid-t", 7))
    _grant(env, token, kid, "safety_checking", child_assent=None)
    r = env.call(
        "PUT", f"/v1/children/{kid}/healthy-use", token, json={"timezone": "Europe/London", "daily_limit_minutes": 3}
    )
    assert r.status_code == 200, r.text
    for _ in range(3):
        assert env.chat("kid-t").json()["choices"][0]["message"]["content"] != ""
        env.clock.advance(minutes=1)
    calls = len(env.upstream.received)
    r = env.chat("kid-t")
    assert r.status_code == 200
    body = r.json()
    assert body["object"] == "chat.completion" and body["choices"][0]["message"]["role"] == "assistant"
    assert "See you tomorrow" in body["choices"][0]["message"]["content"]
    assert body["childsafe"]["healthy_use"]["reason"] == "time_limit"
    assert len(env.upstream.received) == calls  # the model was not asked
    assert env.call("GET", f"/v1/children/{kid}/healthy-use", token).json()["minutes_used_today"] == 3.0

    env.call(
        "PUT", f"/v1/children/{kid}/healthy-use", token,
        json={"timezone": "Europe/London", "quiet_start": "11:00", "quiet_end": "13:00"},
    )  # fmt: skip
    r = env.chat("kid-t")
    assert r.json()["childsafe"]["healthy_use"]["reason"] == "quiet_hours"
    assert "13:00" in r.json()["choices"][0]["message"]["content"]
    bad = env.call("PUT", f"/v1/children/{kid}/healthy-use", token, json={"timezone": "Nowhere/City"})
    assert bad.status_code == 400 and "time zone" in bad.json()["error"]["message"]


def test_export_rectify_hold_and_erase_over_http(env: Env) -> None:
    _gid, token, (kid,) = _guardian(env, "Parent", ("kid-e", 11))
    _grant(env, token, kid, "safety_checking")
    _grant(env, token, kid, "conversation_storage")
    assert env.chat("kid-e", "i live on maple street", conv="ce").status_code == 200

    r = env.call("PATCH", f"/v1/children/{kid}", token, json={"age": 13})
    assert r.status_code == 200 and r.json()["age_band"] == "13-15"
    assert env.call("PATCH", f"/v1/children/{kid}", token, json={"age": "old"}).status_code == 400

    hold = env.call("POST", f"/v1/children/{kid}/legal-holds", KEY, json={"reference": "IR-9", "reason": "report"})
    assert hold.status_code == 201 and hold.json()["items"] >= 2

    data = load_export(env.call("GET", f"/v1/children/{kid}/export", token).text)
    assert data["child"]["age_band"] == "13-15"
    assert "i live on maple street" in [m["text"] for m in data["messages"]]
    assert data["legal_holds"][0]["reference"] == "IR-9"
    summary = env.call("GET", f"/v1/children/{kid}/export?format=summary", token)
    assert summary.headers["content-type"].startswith("text/markdown") and "IR-9 (active)" in summary.text

    erased = env.call("DELETE", f"/v1/children/{kid}", token)
    assert erased.status_code == 200, erased.text
    report = erased.json()
    assert report["key_destroyed"] and report["legal_holds_kept"] == [hold.json()["id"]]
    assert env.call("GET", f"/v1/children/{kid}", token).status_code == 404
    with env.store.engine.connect() as c:
        assert c.execute(text("SELECT COUNT(*) FROM messages")).scalar() == 0
        assert c.execute(text("SELECT COUNT(*) FROM children")).scalar() == 0
    # The app's user is unknown again (auto-creation is off), not silently served under the old profile.
    assert env.chat("kid-e").status_code == 404


def test_streamed_request_gets_the_kind_message_as_a_stream(env: Env) -> None:
    _gid, token, (kid,) = _guardian(env, "Parent", ("kid-q", 5))
    _grant(env, token, kid, "safety_checking", child_assent=None)
    env.call(
        "PUT", f"/v1/children/{kid}/healthy-use", token,
        json={"timezone": "UTC", "quiet_start": "11:30", "quiet_end": "12:30"},
    )  # fmt: skip
    body = {"model": "m", "user": "kid-q", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    r = HTTP.post(env.url + "/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {KEY}"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    events = [line[6:] for line in r.text.splitlines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    text_out = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert text_out == "It's rest time now. I'll be here again at 12:30. Sleep well!"
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert chunks[0]["childsafe"]["healthy_use"]["reason"] == "quiet_hours"
    assert env.upstream.received == []


def test_erasure_or_rectification_by_another_process_reaches_the_running_gateway(env: Env) -> None:
    _gid, token, (kid,) = _guardian(env, "Parent", ("kid-x", 11))
    _grant(env, token, kid, "safety_checking")
    assert env.chat("kid-x").status_code == 200  # the gateway now holds the profile in its cache
    services = env.app.state.privacy
    services.rights.rectify_age_band(kid, 14, actor="operator:cli")  # as `childsafe data rectify` would
    r = env.chat("kid-x")
    assert r.status_code == 409 and r.json()["error"]["type"] == "child_updated"
    r = env.chat("kid-x")
    assert r.status_code == 200 and len(env.upstream.received) == 2
    env.app.state.gateway.sink.flush()
    services.rights.erase(kid, actor="operator:cli")  # as `childsafe data erase` would
    r = env.chat("kid-x")
    assert r.status_code == 404 and r.json()["error"]["type"] == "unknown_child"
    assert len(env.upstream.received) == 2


def test_strict_mode_refuses_when_storage_is_on_without_storage_consent(env: Env) -> None:
    env.app.state.privacy.settings = PrivacySettings(refuse_without_storage_consent=True)
    _gid, token, (kid,) = _guardian(env, "Parent", ("kid-r", 8))
    _grant(env, token, kid, "safety_checking", child_assent=None)
    r = env.chat("kid-r")
    assert r.status_code == 403 and r.json()["error"]["param"] == "conversation_storage"
    assert env.upstream.received == []
    _grant(env, token, kid, "conversation_storage", child_assent=None)
    assert env.chat("kid-r").status_code == 200


def test_gateway_start_applies_retention_to_old_child_data(env: Env, engine: Engine) -> None:
    """The hourly retention job also runs when a gateway starts: data older than its retention period goes."""
    _gid, token, (kid,) = _guardian(env, "Parent", ("kid-r", 10))
    _grant(env, token, kid, "safety_checking")
    assert env.chat("kid-r", "what do octopuses eat", conv="old").status_code == 200
    env.app.state.gateway.sink.flush()

    def counts() -> tuple[int, int]:
        with env.store.engine.connect() as c:
            return (
                int(c.execute(text("SELECT COUNT(*) FROM decisions")).scalar() or 0),
                int(c.execute(text("SELECT COUNT(*) FROM conversations")).scalar() or 0),
            )

    assert counts() == (2, 1)  # input and output decisions, one conversation
    env.clock.advance(days=31)  # past conversations (30 days), within decisions (90 days)
    config = env.app.state.gateway.config
    second = create_app(config, engine=engine, store=env.store, clock=env.clock)
    with Server(second):
        deadline = time.monotonic() + 10
        while counts()[1] and time.monotonic() < deadline:
            time.sleep(0.05)
    assert counts() == (2, 0)
