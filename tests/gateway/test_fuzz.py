"""Issue #17, tests: a bounded property fuzz of the gateway's chat, moderation and check endpoints.

Hypothesis builds valid request bodies from each endpoint's schema and changes up to three places in each: a
value replaced by arbitrary JSON (wrong types, lone surrogates, nesting, a child's sentence in the wrong
place), a field dropped, a stray key added; then posts them over real HTTP. Whatever comes in, the gateway
answers without a server error, every error is OpenAI-shaped JSON that names the field at fault, and no error
quotes the request. About 300 requests, well under a minute on two cores.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import API_KEY, CHILD, HTTP, Gw

AUTH = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"}
SENTENCE = "Lily told me a secret at 12 Oak Road"
FUZZ = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,  # the same few hundred cases on every run: a failure reproduces, CI time is stable
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

words = st.sampled_from(
    [
        "tell me about octopuses",
        "what is 7 times 8",
        "I want to die",
        "send me a pic and keep it our secret",
        "my address is 12 Oak Road",
        SENTENCE,
    ]
)
texts = st.one_of(
    words,
    words,
    st.text(max_size=30),
    st.sampled_from(["\ud800", "a\udfffb", "", " ", "user", "child", "assistant", "11", "adult", "10-12"]),
)
scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=False), texts)
keys = st.one_of(st.sampled_from(["role", "content", "type", "text", "extra", "x-y", SENTENCE]), st.text(max_size=8))
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4)),
    max_leaves=12,
)


def _slots(node: Any) -> list[tuple[Any, Any]]:
    """Every (container, key or index) in a JSON value, the body itself included as (None, None)."""
    out: list[tuple[Any, Any]] = [(None, None)]
    stack = [node]
    while stack:
        cur = stack.pop()
        items = cur.items() if isinstance(cur, dict) else enumerate(cur) if isinstance(cur, list) else []
        for k, v in items:
            out.append((cur, k))
            stack.append(v)
    return out


@st.composite
def mutated(draw: st.DrawFn, valid: st.SearchStrategy[dict[str, Any]]) -> Any:
    """A valid body with up to three mutations: a value replaced by any JSON, a field dropped, a key added."""
    body: Any = draw(valid)
    for _ in range(draw(st.integers(0, 3))):
        slots = _slots(body)
        # the body itself is replaced now and then only: most cases should get past the first check
        container, key = draw(st.sampled_from(slots[1:])) if len(slots) > 1 and draw(st.integers(0, 9)) else slots[0]
        kind = draw(st.sampled_from(["set", "drop", "add"]))
        if container is None:
            if kind == "set":
                body = draw(json_values)
            elif isinstance(body, dict):
                body[draw(keys)] = draw(json_values)
        elif kind == "set":
            container[key] = draw(json_values)
        elif kind == "drop":
            del container[key]
        elif isinstance(container, dict):
            container[draw(keys)] = draw(json_values)
    return body


roles = st.sampled_from(["user", "assistant", "system", "contact"])
message = st.fixed_dictionaries({"role": roles, "content": texts}) | st.fixed_dictionaries(
    {"role": st.just("user"), "content": st.lists(st.fixed_dictionaries({"type": st.just("text"), "text": texts}))}
)
CHAT = mutated(
    st.fixed_dictionaries(
        {
            "model": st.just("t"),
            "user": st.just(CHILD),
            "messages": st.lists(message, min_size=1, max_size=4).map(
                lambda m: [*m, {"role": "user", "content": "hi"}]
            ),
        },
        optional={"stream": st.booleans(), "temperature": st.floats(0, 2), "metadata": st.dictionaries(keys, texts)},
    )
)
ages = st.one_of(st.integers(0, 20), st.sampled_from(["adult", "10-12", "13-15", "6-9"]))
MODERATION = mutated(
    st.fixed_dictionaries(
        {"input": st.one_of(texts, st.lists(texts, min_size=1, max_size=4))},
        optional={"age": ages, "role": st.sampled_from(["child", "contact", "user"]), "model": st.just("m")},
    )
)
CHECK = mutated(
    st.one_of(
        st.fixed_dictionaries({"text": texts}, optional={"age": ages, "role": st.sampled_from(["child", "contact"])}),
        st.fixed_dictionaries(
            {"messages": st.lists(st.fixed_dictionaries({"role": roles, "content": texts}), min_size=1, max_size=4)},
            optional={"age": ages},
        ),
    )
)


def post(gw: Gw, path: str, body: Any) -> None:
    raw = json.dumps(body).encode("ascii")  # lone surrogates travel as \\ud800 escapes, as a client may send them
    resp = HTTP.post(gw.url + path, content=raw, headers=AUTH)
    assert resp.status_code < 500, (path, body, resp.status_code, resp.text)
    if resp.headers.get("content-type", "").startswith("text/event-stream"):
        assert resp.status_code == 200 and resp.text.rstrip().endswith("data: [DONE]")
        return
    data = resp.json()
    if resp.status_code < 400:
        return
    err = data["error"]
    assert isinstance(err["message"], str) and err["message"] and isinstance(err["type"], str), data
    param = err["param"]
    if resp.status_code == 400:
        # the field at fault is named, in the message and in param; only a body that is no JSON object has none
        if param is None:
            assert any(w in err["message"] for w in ("JSON", "body", "'text' or 'messages'")), err
        else:
            assert param.split("[")[0].split(".")[0] in err["message"], err
    for fragment in ("Lily", "Oak Road"):
        assert fragment not in err["message"] and fragment not in str(param), (body, err)


@pytest.fixture
def fuzz_gw(gw: Gw, db_url: str) -> Gw:
    if not db_url.startswith("sqlite"):
        pytest.skip("one backend is enough: the fuzz exercises the request handling, not the store")
    return gw


@FUZZ
@given(body=CHAT)
def test_fuzzed_chat_requests(fuzz_gw: Gw, body: Any) -> None:
    post(fuzz_gw, "/v1/chat/completions", body)


@FUZZ
@given(body=MODERATION)
def test_fuzzed_moderation_requests(fuzz_gw: Gw, body: Any) -> None:
    post(fuzz_gw, "/v1/moderations", body)


@FUZZ
@given(body=CHECK)
def test_fuzzed_check_requests(fuzz_gw: Gw, body: Any) -> None:
    post(fuzz_gw, "/v1/check", body)
