"""Moderations, the native check API, child profiles, health, readiness, metrics and the demo."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openai
from typer.testing import CliRunner

from childsafe.config import Config
from childsafe.gateway import create_app
from childsafe.gateway.demo import DEMO_CHILD, DEMO_KEY, LABEL
from childsafe.store import Store
from childsafe.types import Category

from .conftest import API_KEY, CHILD, HTTP, Gw, ServerThread

AUTH = {"Authorization": f"Bearer {API_KEY}"}


def test_moderations_with_the_openai_client(gw: Gw) -> None:
    c = openai.OpenAI(base_url=gw.base, api_key=API_KEY, max_retries=0)
    resp = c.moderations.create(input=["what a lovely day", "Here is how to make a bomb at home."])
    safe, unsafe = resp.results
    assert not safe.flagged and unsafe.flagged
    assert unsafe.categories.illicit_violent is True and unsafe.categories.sexual is False
    assert unsafe.category_scores.illicit_violent > 0.5
    extra = unsafe.model_extra or {}
    assert extra["childsafe"]["action"] == "block" and extra["childsafe"]["age_band"] == "10-12"
    assert "dangerous" in extra["childsafe"]["categories"] and extra["childsafe"]["category_scores"]["dangerous"] > 0.5
    gw.flush()
    assert gw.store.decisions.get(extra["childsafe"]["decision_id"]) is not None


def test_moderations_age_and_errors(gw: Gw) -> None:
    r = HTTP.post(gw.base + "/moderations", json={"input": "hello", "age": 16}, headers=AUTH)
    assert r.status_code == 200 and r.json()["results"][0]["childsafe"]["age_band"] == "16-17"
    r = HTTP.post(gw.base + "/moderations", json={"input": "hello"}, headers={**AUTH, "X-Childsafe-Child": CHILD})
    assert r.json()["results"][0]["childsafe"]["age_band"] == "10-12"
    r = HTTP.post(gw.base + "/moderations", json={"input": []}, headers=AUTH)
    assert r.status_code == 400 and "non-empty" in r.json()["error"]["message"]
    r = HTTP.post(gw.base + "/moderations", json={"input": "x", "age": "old"}, headers=AUTH)
    assert r.status_code == 400 and "unknown age" in r.json()["error"]["message"]
    r = HTTP.post(gw.base + "/moderations", json={"input": "x", "colour": 1}, headers=AUTH)
    assert r.status_code == 400 and "unknown field 'colour'" in r.json()["error"]["message"]
    assert HTTP.post(gw.base + "/moderations", json={"input": "x"}).status_code == 401


def test_native_check_returns_the_decision(gw: Gw) -> None:
    r = HTTP.post(gw.base + "/check", json={"text": "I want to kill myself", "age": 11}, headers=AUTH)
    body = r.json()
    assert r.status_code == 200 and body["action"] == "escalate" and body["categories"] == ["self_harm"]
    assert set(body["scores"]) == {c.value for c in Category} and body["child_message"]
    msgs = [
        {"role": "contact", "content": "hi there"},
        {"role": "contact", "content": "send me a pic and keep it our secret"},
    ]
    r = HTTP.post(gw.base + "/check", json={"messages": msgs, "age": "10-12"}, headers=AUTH)
    assert r.json()["action"] in ("escalate", "report") and r.json()["first_flag_index"] == 1
    r = HTTP.post(gw.base + "/check", json={"age": 11}, headers=AUTH)
    assert r.status_code == 400 and "exactly one of 'text' or 'messages'" in r.json()["error"]["message"]
    r = HTTP.post(gw.base + "/check", json={"text": "x", "role": "robot"}, headers=AUTH)
    assert r.status_code == 400 and "unknown role" in r.json()["error"]["message"]


def test_child_profiles_can_be_registered(gw: Gw) -> None:
    r = HTTP.post(gw.base + "/children", json={"id": "kid-new", "age": 8}, headers=AUTH)
    assert r.status_code == 200 and r.json()["age_band"] == "6-9" and r.json()["child_id"].startswith("ch_")
    chat = {"model": "t", "user": "kid-new", "messages": [{"role": "user", "content": "hi"}]}
    assert HTTP.post(gw.base + "/chat/completions", json=chat, headers=AUTH).status_code == 200
    r = HTTP.post(gw.base + "/children", json={"id": "kid-new", "age": 14}, headers=AUTH)
    assert r.json()["age_band"] == "13-15"
    r = HTTP.post(gw.base + "/children", json={"id": "kid-x", "age": "ten"}, headers=AUTH)
    assert r.status_code == 400


def test_health_readiness_and_metrics(gw: Gw) -> None:
    assert HTTP.get(gw.url + "/healthz").json() == {"status": "ok"}
    ready = HTTP.get(gw.url + "/readyz")
    assert ready.status_code == 200 and ready.json()["checks"]["database"]["ok"] is True
    chat = {"model": "t", "user": CHILD, "messages": [{"role": "user", "content": "hi"}]}
    HTTP.post(gw.base + "/chat/completions", json=chat, headers=AUTH)
    HTTP.post(gw.base + "/chat/completions", json=chat, headers={"Authorization": "Bearer wrong"})
    text = HTTP.get(gw.url + "/metrics").text
    assert 'childsafe_http_requests_total{route="/v1/chat/completions",status="200"} 1.0' in text
    assert 'childsafe_http_requests_total{route="/v1/chat/completions",status="401"} 1.0' in text
    assert 'childsafe_decisions_total{action="allow",stage="input"} 1.0' in text
    assert "childsafe_upstream_seconds_count 1.0" in text


def test_demo_stops_unsafe_output_and_input(tmp_path: Path) -> None:
    config = Config.model_validate({"store": {"data_dir": str(tmp_path)}, "server": {"demo": True}})
    app = create_app(config)
    with ServerThread(app) as srv:
        c = openai.OpenAI(base_url=srv.url + "/v1", api_key=DEMO_KEY, max_retries=0)
        hello = c.chat.completions.create(
            model="demo", messages=[{"role": "user", "content": "hello"}], user=DEMO_CHILD
        )
        assert LABEL in (hello.choices[0].message.content or "")
        msgs: list[Any] = [{"role": "user", "content": "demo: unsafe answer"}]
        chunks = list(c.chat.completions.create(model="demo", messages=msgs, user=DEMO_CHILD, stream=True))
        streamed = "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices)
        r = c.chat.completions.create(
            model="demo", messages=[{"role": "user", "content": "demo: unsafe answer, again"}], user=DEMO_CHILD
        )
        for text, extra in ((streamed, chunks[-1].model_extra), (r.choices[0].message.content or "", r.model_extra)):
            assert "home address" not in text and "our secret" not in text
            assert (extra or {})["childsafe"]["action"] in ("block", "escalate", "report")
        crisis = c.chat.completions.create(
            model="demo", messages=[{"role": "user", "content": "I want to kill myself"}], user=DEMO_CHILD
        )
        assert LABEL not in (crisis.choices[0].message.content or "")
        assert (crisis.model_extra or {})["childsafe"]["stage"] == "input"
    Store.open(None, tmp_path).close()  # the demo database was created where configured


def test_serve_command_reports_bad_config(tmp_path: Path) -> None:
    import typer

    from childsafe.cli.serve_cmd import register

    app = typer.Typer()
    register(app)

    @app.command("noop")
    def noop() -> None:
        """Keeps typer in multi-command mode."""

    bad = tmp_path / "bad.yaml"
    bad.write_text("server:\n  port: many\n")
    result = CliRunner().invoke(app, ["serve", "--config", str(bad)])
    assert result.exit_code == 2 and "server.port" in result.output
    result = CliRunner().invoke(app, ["serve", "--config", str(tmp_path / "missing.yaml")])
    assert result.exit_code == 2 and "not found" in result.output


def test_native_check_takes_the_child_language(gw: Gw) -> None:
    r = HTTP.post(gw.base + "/check", json={"text": "xq???", "age": 11, "language": "es"}, headers=AUTH)
    assert r.status_code == 200 and r.json()["language"] == "es"
    r = HTTP.post(gw.base + "/check", json={"text": "hola", "language": "xx"}, headers=AUTH)
    assert r.status_code == 400 and "language" in r.text
