from __future__ import annotations

import json
import logging
from typing import Any

import openai
import pytest

from childsafe.explain import AI_DISCLOSURE

from .conftest import API_KEY, CHILD, HTTP, Gw

SAFE_REPLY = "Octopuses have three hearts and blue blood."
UNSAFE_OUTPUT = "What is your home address and which school do you go to?"
CRISIS_INPUT = "I want to kill myself"


def client(gw: Gw, **kw: Any) -> openai.OpenAI:
    return openai.OpenAI(base_url=gw.base, api_key=API_KEY, max_retries=0, **kw)


def sse_events(gw: Gw, body: dict[str, Any], headers: dict[str, str] | None = None) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    with HTTP.stream(
        "POST",
        gw.base + "/chat/completions",
        json={**body, "stream": True},
        headers={"Authorization": f"Bearer {API_KEY}", **(headers or {})},
        timeout=10,
    ) as resp:
        assert resp.status_code == 200, resp.read()
        assert resp.headers["content-type"].startswith("text/event-stream")
        done = False
        for line in resp.iter_lines():
            if not line.startswith("data: "):
                continue
            if line == "data: [DONE]":
                done = True
                continue
            events.append(json.loads(line[6:]))
        assert done
    return events


def streamed_text(events: list[dict[str, Any]]) -> str:
    return "".join((e["choices"][0]["delta"].get("content") or "") for e in events if e.get("choices"))


def test_openai_client_non_streaming(gw: Gw) -> None:
    assert gw.upstream is not None
    gw.upstream.reply = SAFE_REPLY
    resp = client(gw).chat.completions.create(
        model="tiny", messages=[{"role": "user", "content": "tell me about octopuses"}], user=CHILD
    )
    assert resp.choices[0].message.content == f"{AI_DISCLOSURE}\n\n{SAFE_REPLY}"
    assert resp.choices[0].finish_reason == "stop"
    cs = (resp.model_extra or {})["childsafe"]
    assert cs["action"] == "allow" and cs["categories"] == [] and cs["decision_id"].startswith("dec_")
    assert cs["disclosure"] == {"ai": True, "text": AI_DISCLOSURE, "shown": True}
    [sent] = gw.upstream.received
    assert sent["user"].startswith("ch_") and sent["user"] != CHILD  # the app's user id stays here
    assert sent["messages"] == [{"role": "user", "content": "tell me about octopuses"}]


def test_openai_client_streaming(gw: Gw) -> None:
    assert gw.upstream is not None
    gw.upstream.reply = SAFE_REPLY * 8  # several windows
    stream = client(gw).chat.completions.create(
        model="tiny", messages=[{"role": "user", "content": "octopus facts please"}], user=CHILD, stream=True
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == f"{AI_DISCLOSURE}\n\n{SAFE_REPLY * 8}"
    first, last = (chunks[0].model_extra or {}), (chunks[-1].model_extra or {})
    assert first["childsafe"]["stage"] == "input" and first["childsafe"]["action"] == "allow"
    assert last["childsafe"]["stage"] == "output" and last["childsafe"]["action"] == "allow"
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert len(chunks) >= 4  # released in windows, not as one block at the end


def test_unsafe_input_is_not_forwarded(gw: Gw) -> None:
    assert gw.upstream is not None
    resp = client(gw).chat.completions.create(
        model="tiny", messages=[{"role": "user", "content": CRISIS_INPUT}], user=CHILD
    )
    cs = (resp.model_extra or {})["childsafe"]
    assert cs["action"] == "escalate" and cs["categories"] == ["self_harm"] and cs["stage"] == "input"
    assert resp.choices[0].finish_reason == "content_filter"
    content = resp.choices[0].message.content or ""
    assert content.startswith(AI_DISCLOSURE) and len(content) > len(AI_DISCLOSURE) + 10
    assert gw.upstream.received == []
    gw.flush()
    stored = gw.store.decisions.get(cs["decision_id"])
    assert stored is not None and stored.action == "escalate" and stored.content_sha256
    assert CRISIS_INPUT not in (stored.excerpt or "")
    assert [e.decision_id for e in gw.store.decisions.escalations()] == [cs["decision_id"]]


def test_unsafe_input_is_not_forwarded_when_streaming(gw: Gw) -> None:
    assert gw.upstream is not None
    events = sse_events(gw, {"model": "t", "user": CHILD, "messages": [{"role": "user", "content": CRISIS_INPUT}]})
    assert gw.upstream.received == []
    assert events[0]["childsafe"]["action"] == "escalate"
    assert events[-1]["choices"][0]["finish_reason"] == "content_filter"
    assert events[-1]["childsafe"]["action"] == "escalate"


def test_redacted_input_is_forwarded_redacted(gw: Gw) -> None:
    assert gw.upstream is not None
    resp = client(gw).chat.completions.create(
        model="tiny", messages=[{"role": "user", "content": "my phone number is 07700 900123"}], user=CHILD
    )
    assert (resp.model_extra or {})["childsafe"]["input"]["action"] == "redact"
    [sent] = gw.upstream.received
    assert "07700" not in json.dumps(sent)


def test_unsafe_output_is_replaced(gw: Gw) -> None:
    assert gw.upstream is not None
    gw.upstream.reply = UNSAFE_OUTPUT
    resp = client(gw).chat.completions.create(model="tiny", messages=[{"role": "user", "content": "hi"}], user=CHILD)
    content = resp.choices[0].message.content or ""
    assert "home address" not in content and "which school" not in content
    assert resp.choices[0].finish_reason == "content_filter"
    cs = (resp.model_extra or {})["childsafe"]
    # the assistant probing a child's address and school is stopped (block, or escalate when read as grooming)
    assert cs["action"] in ("block", "escalate") and "personal_info" in cs["categories"]
    assert cs["output"]["action"] == cs["action"]
    gw.flush()
    stored = gw.store.decisions.get(cs["decision_id"])
    assert stored is not None and stored.role == "assistant" and stored.action == cs["action"]


@pytest.mark.parametrize("piece", [1, 5, 64])
def test_streamed_unsafe_output_is_never_sent(gw: Gw, piece: int) -> None:
    assert gw.upstream is not None
    preamble = "Here is a friendly answer about the sea and the animals that live there. " * 5
    gw.upstream.reply = preamble + UNSAFE_OUTPUT + " Then we can be best friends."
    gw.upstream.piece = piece
    events = sse_events(gw, {"model": "t", "user": CHILD, "messages": [{"role": "user", "content": "sea animals"}]})
    text = streamed_text(events)
    assert "home address" not in text and "which school" not in text and "best friends" not in text
    assert text.startswith(f"{AI_DISCLOSURE}\n\nHere is a friendly answer")  # safe text was not held forever
    assert events[-1]["choices"][0]["finish_reason"] == "content_filter"
    # an assistant asking a child where they live and go to school stops the stream; asked together with
    # "we can be best friends", grooming may escalate it to a person as well
    last = events[-1]["childsafe"]
    assert last["action"] in ("block", "escalate") and "personal_info" in last["categories"]
    assert events[0]["childsafe"]["action"] == "allow"
    replacement = events[-2]["choices"][0]["delta"]["content"]
    assert replacement.startswith("\n\n") and len(replacement) > 20


def test_openai_client_streaming_sees_replacement(gw: Gw) -> None:
    assert gw.upstream is not None
    gw.upstream.reply = UNSAFE_OUTPUT
    chunks = list(
        client(gw).chat.completions.create(
            model="t", messages=[{"role": "user", "content": "hey"}], user=CHILD, stream=True
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "home address" not in text and text.startswith(AI_DISCLOSURE)
    assert chunks[-1].choices[0].finish_reason == "content_filter"


def test_conversation_state_is_persisted_per_conversation(gw: Gw) -> None:
    assert gw.upstream is not None
    headers = {"X-Childsafe-Conversation": "conv-abc"}
    c = client(gw, default_headers=headers)
    history: list[dict[str, str]] = [{"role": "system", "content": "be kind"}, {"role": "user", "content": "hi"}]
    r1 = c.chat.completions.create(model="t", messages=history, user=CHILD)  # type: ignore[arg-type]
    gw.flush()
    rec = gw.store.conversations.load("conv-abc")
    assert rec is not None and rec.messages_seen == 3 and rec.disclosed
    assert rec.state is not None and rec.state["count"] == 2  # child message + reply; system prompt not monitored
    history += [
        {"role": "assistant", "content": r1.choices[0].message.content or ""},
        {"role": "user", "content": "and?"},
    ]
    r2 = c.chat.completions.create(model="t", messages=history, user=CHILD)  # type: ignore[arg-type]
    gw.flush()
    rec2 = gw.store.conversations.load("conv-abc")
    assert rec2 is not None and rec2.messages_seen == 5 and rec2.state is not None and rec2.state["count"] == 4
    assert (r2.model_extra or {})["childsafe"]["disclosure"]["shown"] is False  # shown once per session
    assert r2.choices[0].message.content == gw.upstream.reply


def test_conversation_id_is_derived_from_first_message(gw: Gw) -> None:
    assert gw.upstream is not None
    c = client(gw)
    c.chat.completions.create(model="t", messages=[{"role": "user", "content": "first words"}], user=CHILD)
    c.chat.completions.create(
        model="t",
        messages=[
            {"role": "user", "content": "first words"},
            {"role": "assistant", "content": "x"},
            {"role": "user", "content": "more"},
        ],
        user=CHILD,
    )
    gw.flush()
    ids = {d.conversation_id or "" for d in gw.store.decisions.recent(limit=20)}
    assert len(ids) == 1 and next(iter(ids)).startswith("conv_")


def test_conversation_of_another_child_is_refused(gw: Gw) -> None:
    app = gw.store.apps.by_key(API_KEY)
    assert app is not None
    gw.store.children.upsert(app.id, "other-kid", "6-9")
    body = {"model": "t", "messages": [{"role": "user", "content": "hi"}]}
    h = {"Authorization": f"Bearer {API_KEY}", "X-Childsafe-Conversation": "shared"}
    assert HTTP.post(gw.base + "/chat/completions", json={**body, "user": CHILD}, headers=h).status_code == 200
    r = HTTP.post(gw.base + "/chat/completions", json={**body, "user": "other-kid"}, headers=h)
    assert r.status_code == 409 and r.json()["error"]["type"] == "conversation_conflict"


def test_child_header_and_age_band_are_used(gw: Gw) -> None:
    app = gw.store.apps.by_key(API_KEY)
    assert app is not None
    gw.store.children.upsert(app.id, "teen-1", "16-17")
    r = HTTP.post(
        gw.base + "/chat/completions",
        json={"model": "t", "messages": [{"role": "user", "content": "hi"}]},
        headers={"Authorization": f"Bearer {API_KEY}", "X-Childsafe-Child": "teen-1"},
    )
    assert r.status_code == 200
    gw.flush()
    decision = gw.store.decisions.get(r.json()["childsafe"]["input"]["decision_id"])
    assert decision is not None and decision.age_band == "16-17"


def test_stored_messages_are_encrypted_and_readable(gateway_factory: Any) -> None:
    g: Gw = gateway_factory(auto_create_children=True, store={"store_messages": True, "retention_days": 3})
    r = HTTP.post(
        g.base + "/chat/completions",
        json={"model": "t", "user": "new-kid", "messages": [{"role": "user", "content": "my cat is called Tom"}]},
        headers={"Authorization": f"Bearer {API_KEY}", "X-Childsafe-Conversation": "c-vault"},
    )
    assert r.status_code == 200
    assert g.store.messages is not None
    stored = g.store.messages.read("c-vault")
    assert [(m.role, m.text) for m in stored] == [("user", "my cat is called Tom"), ("assistant", g.upstream.reply)]  # type: ignore[union-attr]
    with g.store.engine.connect() as conn:
        from sqlalchemy import text

        blobs = conn.execute(text("SELECT ciphertext FROM messages")).scalars().all()
    assert all(b"Tom" not in bytes(b) for b in blobs)


def test_no_child_text_in_logs(gw: Gw, caplog: pytest.LogCaptureFixture) -> None:
    assert gw.upstream is not None
    caplog.set_level(logging.DEBUG)
    c = client(gw)
    c.chat.completions.create(model="t", messages=[{"role": "user", "content": CRISIS_INPUT}], user=CHILD)
    gw.upstream.mode = "http500"
    with pytest.raises(openai.InternalServerError):
        c.chat.completions.create(model="t", messages=[{"role": "user", "content": "secret words 123"}], user=CHILD)
    assert "upstream error" in caplog.text  # the failure itself is logged...
    assert CRISIS_INPUT not in caplog.text and "secret words" not in caplog.text  # ...the child's text is not


def test_turn_after_a_blocked_message_adds_only_new_messages(gw: Gw) -> None:
    assert gw.upstream is not None
    c = client(gw, default_headers={"X-Childsafe-Conversation": "conv-after-block"})
    history: list[Any] = [{"role": "user", "content": CRISIS_INPUT}]
    r1 = c.chat.completions.create(model="t", messages=history, user=CHILD)
    gw.flush()
    rec = gw.store.conversations.load("conv-after-block")
    assert rec is not None and rec.messages_seen == 2 and rec.state is not None and rec.state["count"] == 1
    history += [
        {"role": "assistant", "content": r1.choices[0].message.content or ""},
        {"role": "user", "content": "thanks, I will talk to my mum"},
    ]
    r2 = c.chat.completions.create(model="t", messages=history, user=CHILD)
    assert r2.choices[0].message.content == gw.upstream.reply
    gw.flush()
    rec2 = gw.store.conversations.load("conv-after-block")
    assert rec2 is not None and rec2.messages_seen == 4 and rec2.state is not None and rec2.state["count"] == 3


def test_a_child_writing_spanish_is_answered_in_spanish(gw: Gw) -> None:
    from childsafe.explain.messages import ai_disclosure, messages

    assert gw.upstream is not None
    gw.upstream.reply = SAFE_REPLY
    resp = client(gw).chat.completions.create(
        model="tiny", messages=[{"role": "user", "content": "ya no quiero vivir, me voy a matar esta noche"}],
        user=CHILD,
    )
    text = resp.choices[0].message.content or ""
    assert text.startswith(ai_disclosure("es"))
    assert messages("es")["crisis"]["middle"].split("{helplines}")[0].strip() in text
    cs = (resp.model_extra or {})["childsafe"]
    assert cs["action"] == "escalate" and "self_harm" in cs["categories"]
    assert cs["disclosure"]["text"] == ai_disclosure("es") != AI_DISCLOSURE
