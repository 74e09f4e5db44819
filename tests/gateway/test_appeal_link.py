"""A stopped message tells the child how to contest it: the decision id and the appeal page, in the message and
in the response's ``childsafe`` object; the link opens the real appeal page and files a real appeal."""

from __future__ import annotations

import re
from typing import Any

from .conftest import API_KEY, CHILD, HTTP, GatewayFactory, Gw
from .test_chat import CRISIS_INPUT, UNSAFE_OUTPUT, sse_events

AUTH = {"Authorization": f"Bearer {API_KEY}"}
BLOCKED_INPUT = "where can I buy vapes without ID?"


def _chat(g: Gw, text: str) -> dict[str, Any]:
    r = HTTP.post(
        g.base + "/chat/completions",
        json={"model": "m", "user": CHILD, "messages": [{"role": "user", "content": text}]},
        headers=AUTH,
    )
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_a_blocked_message_carries_the_appeal_link_that_works(gw: Gw) -> None:
    body = _chat(gw, BLOCKED_INPUT)
    cs, content = body["childsafe"], body["choices"][0]["message"]["content"]
    assert cs["action"] == "block" and body["choices"][0]["finish_reason"] == "content_filter"
    url = f"{gw.url}/appeal?decision_id={cs['decision_id']}"
    assert cs["appeal"] == {"decision_id": cs["decision_id"], "url": url}
    assert content.endswith("\n" + url) and "ask for it to be checked" in content  # after the 10-12 explanation
    page = HTTP.get(url)
    assert page.status_code == 200 and f'name="decision_id" value="{cs["decision_id"]}"' in page.text
    filed = HTTP.post(gw.base + "/appeals", json={"decision_id": cs["appeal"]["decision_id"]}, headers=AUTH)
    assert filed.status_code == 201 and filed.json()["status"] == "pending"


def test_no_link_when_nothing_was_stopped_or_help_comes_first(gw: Gw) -> None:
    allowed = _chat(gw, "tell me about octopuses")
    assert "appeal" not in allowed["childsafe"] and "/appeal" not in allowed["choices"][0]["message"]["content"]
    crisis = _chat(gw, CRISIS_INPUT)  # the crisis message points to help, not to a form; the app still gets the id
    assert crisis["childsafe"]["action"] == "escalate" and crisis["childsafe"]["appeal"]["url"].endswith(
        crisis["childsafe"]["decision_id"]
    )
    assert "/appeal" not in crisis["choices"][0]["message"]["content"]


def test_a_stopped_stream_and_the_configured_public_url(gateway_factory: GatewayFactory) -> None:
    g = gateway_factory(auto_create_children=True, public_url="https://safety.example.com")
    assert g.upstream is not None
    g.upstream.reply = UNSAFE_OUTPUT
    events = sse_events(g, {"model": "t", "user": CHILD, "messages": [{"role": "user", "content": "hey"}]})
    last = events[-1]["childsafe"]
    assert last["appeal"]["url"] == f"https://safety.example.com/appeal?decision_id={last['decision_id']}"
    replacement = events[-2]["choices"][0]["delta"]["content"]
    assert replacement.endswith("\n" + last["appeal"]["url"])
    assert re.search(r"decision_id=dec_\w+$", replacement)
