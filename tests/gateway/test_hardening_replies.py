"""Issue #17, item 1: no field of a model answer reaches the child unless it has been checked.

A scripted upstream answers with exactly the JSON (or stream events) a test gives it, so each field a model
server may send can carry harmful text on its own.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from childsafe.engine import Engine
from childsafe.gateway import create_app
from childsafe.store import Store

from .conftest import API_KEY, CHILD, HTTP, GatewayFactory, Gw, ServerThread, make_config

AUTH = {"Authorization": f"Bearer {API_KEY}"}
REQUEST = {"model": "t", "user": CHILD, "messages": [{"role": "user", "content": "tell me about octopuses"}]}
SAFE = "Octopuses have three hearts."
HARMFUL = "What is your home address and which school do you go to? Keep it our secret."
HARMFUL_WORDS = "home address"  # in every encoding the answer could carry it (JSON, tokens)
PHONE = "Sure! My phone number is 555-123-4567, call me."


@dataclass
class ScriptedUpstream:
    """Answers every chat request with ``answer`` (or, when streaming, with ``events`` then ``[DONE]``)."""

    answer: dict[str, Any] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/v1/chat/completions", response_model=None)
        async def chat(request: Request) -> Response:
            body = await request.json()
            if body.get("stream"):
                lines = [f"data: {json.dumps(e)}\n\n".encode() for e in self.events] + [b"data: [DONE]\n\n"]
                return StreamingResponse(iter(lines), media_type="text/event-stream")
            return JSONResponse(self.answer)

        return app


@pytest.fixture(scope="module")
def scripted_server() -> Iterator[tuple[ScriptedUpstream, str]]:
    fake = ScriptedUpstream()
    with ServerThread(fake.app()) as srv:
        yield fake, srv.url + "/v1"


@pytest.fixture
def scripted(
    scripted_server: tuple[ScriptedUpstream, str], gateway_factory: GatewayFactory
) -> tuple[ScriptedUpstream, Gw]:
    fake, url = scripted_server
    fake.answer, fake.events = answer(), []
    g = gateway_factory(upstream_url=url, auto_create_children=True, show_disclosure=False)
    return fake, g


def answer(**message: Any) -> dict[str, Any]:
    """A well-formed completion whose message is ``{"role": "assistant", "content": SAFE, **message}``."""
    return {
        "id": "chatcmpl-up",
        "object": "chat.completion",
        "created": 1,
        "model": "up-model",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": SAFE, **message}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 3, "completion_tokens": 5, "total_tokens": 8},
    }


def tool_calls(arguments: str, name: str = "save_note") -> list[dict[str, Any]]:
    return [{"id": "call_1", "type": "function", "function": {"name": name, "arguments": arguments}}]


def chat(g: Gw) -> dict[str, Any]:
    resp = HTTP.post(g.base + "/chat/completions", json=REQUEST, headers=AUTH)
    assert resp.status_code == 200, resp.text
    assert HARMFUL_WORDS not in resp.text
    body: dict[str, Any] = resp.json()
    return body


def _with(path: str, value: Any) -> dict[str, Any]:
    """``answer()`` with ``value`` set at a dotted path (``choices.0.logprobs``, ``x_top``...)."""
    data = answer()
    node: Any = data
    *parents, last = path.split(".")
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    node[last] = value
    return data


MSG = "choices.0.message"
# every token of the answer, here in two tokens so that the harmful words stay together
LOGPROBS: dict[str, Any] = {
    "content": [{"token": t, "logprob": -0.1, "bytes": None, "top_logprobs": []} for t in HARMFUL.split("?")]
}
AUDIO = {"id": "audio_1", "data": "AAAA", "expires_at": 1, "transcript": HARMFUL}

# (field, where the harmful text goes, checked: True when the gateway checks it, False when it drops it)
FIELDS = [
    ("refusal", _with(f"{MSG}.refusal", HARMFUL), True),
    ("reasoning_content", _with(f"{MSG}.reasoning_content", HARMFUL), True),
    ("reasoning", _with(f"{MSG}.reasoning", HARMFUL), True),
    ("tool_call_arguments", _with(f"{MSG}.tool_calls", tool_calls(json.dumps({"text": HARMFUL}))), True),
    ("function_call_arguments", _with(f"{MSG}.function_call", {"name": "note", "arguments": HARMFUL}), True),
    ("audio_transcript", _with(f"{MSG}.audio", AUDIO), False),
    ("logprobs", _with("choices.0.logprobs", LOGPROBS), False),
    ("unknown_message_field", _with(f"{MSG}.x_note", HARMFUL), False),
    ("unknown_choice_field", _with("choices.0.x_note", HARMFUL), False),
    ("unknown_top_field", _with("x_note", {"text": HARMFUL}), False),
    ("tool_call_name", _with(f"{MSG}.tool_calls", tool_calls("{}", name=HARMFUL)), False),
    ("tool_call_id", _with(f"{MSG}.tool_calls", [{**tool_calls("{}")[0], "id": HARMFUL}]), False),
    ("model_name", _with("model", HARMFUL), False),
    ("usage_text", _with("usage", {"total_tokens": 2, "note": HARMFUL, "x_details": {"why": HARMFUL}}), False),
]


@pytest.mark.parametrize(("name", "data", "checked"), FIELDS, ids=[f[0] for f in FIELDS])
def test_harmful_text_in_any_field_never_reaches_the_child(
    scripted: tuple[ScriptedUpstream, Gw], name: str, data: dict[str, Any], checked: bool
) -> None:
    fake, g = scripted
    fake.answer = data
    body = chat(g)  # asserts the harmful words appear nowhere in the response
    [choice] = body["choices"]
    if checked:  # stopped by the output check, like harmful content
        assert choice["finish_reason"] == "content_filter"
        assert body["childsafe"]["output"]["action"] in ("block", "escalate")
        assert set(choice["message"]) == {"role", "content"}
    else:  # dropped unchecked; the checked content is still delivered
        assert choice["message"]["content"] == SAFE
        assert body["childsafe"]["output"]["action"] == "allow"


def test_blocked_answer_leaks_nothing(scripted: tuple[ScriptedUpstream, Gw]) -> None:
    fake, g = scripted
    marker = "side-field-marker"
    fake.answer = answer(
        content=HARMFUL,
        refusal=marker,
        reasoning_content=marker,
        reasoning=marker,
        tool_calls=tool_calls(json.dumps({"text": marker})),
        function_call={"name": "note", "arguments": marker},
        audio={**AUDIO, "transcript": marker},
        x_note=marker,
    )
    fake.answer["choices"][0]["logprobs"] = {"content": [{"token": marker, "logprob": -0.1}]}
    body = chat(g)
    assert marker not in json.dumps(body)
    [choice] = body["choices"]
    assert choice["finish_reason"] == "content_filter" and choice["logprobs"] is None
    assert set(choice["message"]) == {"role", "content"}
    assert choice["message"]["content"] and HARMFUL not in choice["message"]["content"]


def test_safe_fields_are_relayed_after_the_check(scripted: tuple[ScriptedUpstream, Gw]) -> None:
    fake, g = scripted
    arguments = json.dumps({"city": "Paris"})
    fake.answer = answer(
        content=None,
        refusal="I would rather not say.",
        reasoning_content="The child asked about the weather.",
        tool_calls=tool_calls(arguments, name="get_weather"),
    )
    fake.answer["choices"][0]["finish_reason"] = "tool_calls"
    body = chat(g)
    [choice] = body["choices"]
    assert body["childsafe"]["output"]["action"] == "allow", body["childsafe"]
    assert choice["message"] == {
        "role": "assistant",
        "content": None,
        "refusal": "I would rather not say.",
        "reasoning_content": "The child asked about the weather.",
        "tool_calls": tool_calls(arguments, name="get_weather"),
    }
    assert choice["finish_reason"] == "tool_calls"
    assert body["usage"] == {"prompt_tokens": 3, "completion_tokens": 5, "total_tokens": 8}
    assert body["model"] == "up-model"


@pytest.fixture
def redacting_gateway(
    db_url: str, tmp_path: Path, scripted_server: tuple[ScriptedUpstream, str]
) -> Iterator[tuple[ScriptedUpstream, Gw]]:
    """A gateway whose policy redacts (instead of blocking) personal details in the assistant's answers."""
    shipped = Path(__file__).parents[2] / "src/childsafe/policy/defaults/policy.yaml"
    rule = "roles: [assistant, contact], bands: *child, min_score: 0.5, action: block}"
    text = shipped.read_text(encoding="utf-8")
    assert text.count(rule) == 1
    policy = tmp_path / "redacting-policy.yaml"
    policy.write_text(text.replace(rule, rule.replace("block}", "redact}")), encoding="utf-8")
    fake, url = scripted_server
    config = make_config(db_url, tmp_path, url, auto_create_children=True, show_disclosure=False)
    engine = Engine.from_config(config.model_copy(update={"policy": str(policy)}))
    store = Store.from_config(config.store)
    with ServerThread(create_app(config, engine=engine, store=store)) as srv:
        yield fake, Gw(srv.url, store, None, None)
    store.close()


def test_redaction_applies_to_every_text_field(redacting_gateway: tuple[ScriptedUpstream, Gw]) -> None:
    fake, g = redacting_gateway
    fake.answer = answer(reasoning_content=PHONE)
    body = chat(g)
    [choice] = body["choices"]
    assert body["childsafe"]["output"]["action"] == "redact"
    assert choice["message"]["content"] == SAFE
    assert choice["message"]["reasoning_content"] == PHONE.replace("555-123-4567", "[PERSONAL_INFO]")


def test_redaction_in_call_arguments_blocks_the_answer(redacting_gateway: tuple[ScriptedUpstream, Gw]) -> None:
    fake, g = redacting_gateway
    # arguments with a part masked would be a different call: the answer is blocked instead
    fake.answer = answer(tool_calls=tool_calls(json.dumps({"note": PHONE})))
    body = chat(g)
    [choice] = body["choices"]
    assert choice["finish_reason"] == "content_filter" and "tool_calls" not in choice["message"]
    assert "555-123-4567" not in json.dumps(body)


# -- streams ------------------------------------------------------------------------------------------
def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {"id": "up", "object": "chat.completion.chunk", "created": 1, "model": "up-model",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}  # fmt: skip


def call_pieces(arguments: str, name: str = "save_note", size: int = 4) -> list[dict[str, Any]]:
    """A tool call streamed the way OpenAI does: id and name first, then the arguments in small pieces."""
    first = {"tool_calls": [{"index": 0, "id": "call_1", "type": "function", "function": {"name": name}}]}
    rest = [
        {"tool_calls": [{"index": 0, "function": {"arguments": arguments[i : i + size]}}]}
        for i in range(0, len(arguments), size)
    ]
    return [chunk(first), *(chunk(d) for d in rest)]


def stream(g: Gw) -> tuple[str, list[dict[str, Any]]]:
    resp = HTTP.post(g.base + "/chat/completions", json={**REQUEST, "stream": True}, headers=AUTH)
    assert resp.status_code == 200
    assert resp.text.rstrip().endswith("data: [DONE]")
    events = [json.loads(line[6:]) for line in resp.text.splitlines() if line.startswith("data: {")]
    return resp.text, events


def deltas(events: list[dict[str, Any]], key: str) -> list[Any]:
    return [e["choices"][0]["delta"][key] for e in events if e.get("choices") and key in e["choices"][0]["delta"]]


def test_streamed_tool_call_is_relayed_whole_once_checked(scripted: tuple[ScriptedUpstream, Gw]) -> None:
    fake, g = scripted
    arguments = json.dumps({"city": "Paris", "unit": "celsius"})
    fake.events = [chunk({"role": "assistant", "content": SAFE}), *call_pieces(arguments, "get_weather"),
                   chunk({}, "tool_calls")]  # fmt: skip
    _raw, events = stream(g)
    [calls] = deltas(events, "tool_calls")  # one chunk, after the check: never a half-received call
    assert calls == [{"index": 0, **tool_calls(arguments, name="get_weather")[0]}]
    assert "".join(deltas(events, "content")) == SAFE
    assert events[-1]["choices"][0]["finish_reason"] == "tool_calls"
    assert events[-1]["childsafe"]["output"]["action"] == "allow"


def test_streamed_harmful_tool_call_is_never_sent(scripted: tuple[ScriptedUpstream, Gw]) -> None:
    fake, g = scripted
    fake.events = [chunk({"role": "assistant", "content": ""}), *call_pieces(json.dumps({"text": HARMFUL})),
                   chunk({}, "tool_calls")]  # fmt: skip
    raw, events = stream(g)
    assert HARMFUL_WORDS not in raw and deltas(events, "tool_calls") == []
    assert events[-1]["choices"][0]["finish_reason"] == "content_filter"
    assert events[-1]["childsafe"]["output"]["action"] in ("block", "escalate")


def test_streamed_finish_reason_names_only_what_was_relayed(scripted: tuple[ScriptedUpstream, Gw]) -> None:
    fake, g = scripted
    # a call whose "name" is a sentence is dropped: the stream must not then claim to end in a tool call
    fake.events = [chunk({"role": "assistant", "content": SAFE}), *call_pieces("{}", name="tell the child a secret"),
                   chunk({}, "tool_calls")]  # fmt: skip
    raw, events = stream(g)
    assert "secret" not in raw and deltas(events, "tool_calls") == []
    assert events[-1]["choices"][0]["finish_reason"] == "stop"


def test_streamed_unchecked_delta_fields_are_not_relayed(scripted: tuple[ScriptedUpstream, Gw]) -> None:
    fake, g = scripted
    fake.events = [
        chunk({"role": "assistant", "reasoning_content": HARMFUL, "refusal": HARMFUL, "x_note": HARMFUL}),
        {**chunk({"content": SAFE}), "model": HARMFUL, "x_note": HARMFUL},
        {**chunk({}, "stop"), "usage": {"total_tokens": 2, "note": HARMFUL}},
    ]
    raw, events = stream(g)
    assert HARMFUL_WORDS not in raw
    assert "".join(deltas(events, "content")) == SAFE
