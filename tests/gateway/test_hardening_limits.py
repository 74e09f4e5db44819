"""Issue #17, item 5: what one request may cost is bounded, and the rate limit is weighted by that cost."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from .conftest import API_KEY, CHILD, HTTP, GatewayFactory, Gw

AUTH = {"Authorization": f"Bearer {API_KEY}"}
WORDS = "octopuses have three hearts and blue blood "  # 43 characters of safe text


def post(g: Gw, path: str, body: dict[str, Any]) -> httpx.Response:
    return HTTP.post(g.base + path, json=body, headers=AUTH)


def chat_body(messages: int, chars_each: int = 10) -> dict[str, Any]:
    text = (WORDS * (chars_each // len(WORDS) + 1))[:chars_each]
    roles = ["user", "assistant"]
    return {"model": "t", "user": CHILD, "messages": [{"role": roles[i % 2], "content": text} for i in range(messages)]}


def assert_refused_before_any_check(g: Gw, resp: httpx.Response, limit_key: str, code: str) -> None:
    assert resp.status_code == 413, resp.text
    err = resp.json()["error"]
    assert err["type"] == "request_too_large" and err["code"] == code
    assert f"server.limits.{limit_key}" in err["message"]
    g.flush()
    assert g.store.decisions.recent() == []  # no check ran, so no decision was recorded
    assert g.upstream is not None and g.upstream.received == []


def test_chat_over_the_default_message_limit_is_413(gateway_factory: GatewayFactory) -> None:
    g = gateway_factory(auto_create_children=True)
    resp = post(g, "/chat/completions", chat_body(501))
    assert_refused_before_any_check(g, resp, "max_messages", "too_many_messages")
    assert "has 501 messages; the limit is 500" in resp.json()["error"]["message"]


def test_chat_over_the_character_limit_is_413(gateway_factory: GatewayFactory) -> None:
    g = gateway_factory(auto_create_children=True, limits={"max_checked_chars": 5_000})
    resp = post(g, "/chat/completions", chat_body(3, 2_000))
    assert_refused_before_any_check(g, resp, "max_checked_chars", "too_many_characters")
    assert "has 6000 characters of text to check; the limit is 5000" in resp.json()["error"]["message"]
    assert post(g, "/chat/completions", chat_body(1, 5_000)).status_code == 200  # at the limit is fine


def test_chat_limit_counts_only_checked_text(gateway_factory: GatewayFactory) -> None:
    # a long operator prompt is forwarded but not checked, so it does not count against the limit
    g = gateway_factory(auto_create_children=True, limits={"max_checked_chars": 5_000})
    body = chat_body(1, 100)
    body["messages"].insert(0, {"role": "system", "content": WORDS * 200})
    assert post(g, "/chat/completions", body).status_code == 200


@pytest.mark.parametrize(
    ("path", "body", "limit_key", "code"),
    [
        ("/moderations", {"input": ["hello there"] * 6}, "max_messages", "too_many_messages"),
        ("/moderations", {"input": WORDS * 30}, "max_checked_chars", "too_many_characters"),
        ("/check", {"messages": [{"role": "child", "content": "hi"}] * 6}, "max_messages", "too_many_messages"),
        ("/check", {"text": WORDS * 30}, "max_checked_chars", "too_many_characters"),
    ],
)
def test_moderation_and_check_over_a_limit_are_413(
    gateway_factory: GatewayFactory, path: str, body: dict[str, Any], limit_key: str, code: str
) -> None:
    g = gateway_factory(limits={"max_messages": 5, "max_checked_chars": 1_000})
    assert_refused_before_any_check(g, post(g, path, body), limit_key, code)


def test_limits_are_validated_in_the_config(gateway_factory: GatewayFactory) -> None:
    with pytest.raises(ValidationError, match=r"server\.limits\.max_messages"):
        gateway_factory(limits={"max_messages": 0})


@pytest.mark.parametrize(
    ("path", "expensive"),
    [
        ("/check", {"text": WORDS * 470}),  # ~20,000 characters: 1 + 10 units
        ("/moderations", {"input": [WORDS * 47] * 10}),
        ("/chat/completions", chat_body(9, 2_200)),  # the 5 child and 4 assistant messages are checked
    ],
)
def test_rate_limit_is_weighted_by_checked_characters(
    gateway_factory: GatewayFactory, path: str, expensive: dict[str, Any]
) -> None:
    g = gateway_factory(rate=10, auto_create_children=True)
    cheap = {"/check": {"text": "hi"}, "/moderations": {"input": "hi"}, "/chat/completions": chat_body(1)}[path]
    for _ in range(3):  # cheap requests cost one unit each
        assert post(g, path, cheap).status_code == 200
    assert post(g, path, expensive).status_code == 200  # admitted with the units left...
    resp = post(g, path, cheap)  # ...but its cost is paid before the app's next request
    # about 10 units in debt at 10 units a minute; unweighted, this request would have been admitted
    assert resp.status_code == 429 and int(resp.headers["Retry-After"]) >= 20


def test_rate_limit_is_weighted_by_checked_messages(gateway_factory: GatewayFactory) -> None:
    g = gateway_factory(rate=6)
    many_short = {"messages": [{"role": "child", "content": "hi"}] * 100}  # 200 characters, 100 checks: 5 units
    assert post(g, "/check", many_short).status_code == 200
    assert post(g, "/check", {"text": "hi"}).status_code == 429


def test_rate_unit_sizes_are_configurable(gateway_factory: GatewayFactory) -> None:
    g = gateway_factory(rate=3, limits={"chars_per_rate_unit": 100_000})
    for _ in range(3):  # 4,300 characters: 2 extra units each by default, none with units this large
        assert post(g, "/check", {"text": WORDS * 100}).status_code == 200
