"""Issue #17, item 9: error responses name the field and the problem, and never echo what the client sent.

A child's words put in the wrong field (an age, a role, a content part's type, a key) used to come back in
the error message (``unknown age 'my name is Lily...'``), which the docs promise never happens: error
messages end up in client logs and crash reports that are not protected like the gateway's store.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from .conftest import API_KEY, CHILD, HTTP, Gw

AUTH = {"Authorization": f"Bearer {API_KEY}"}
WORDS = "my name is Lily and I live at 12 Oak Road"
USER = {"role": "user", "content": "hi"}


def chat(**extra: Any) -> dict[str, Any]:
    return {"model": "t", "user": CHILD, "messages": [USER], **extra}


@pytest.mark.parametrize(
    ("path", "body", "status", "param"),
    [
        ("/v1/moderations", {"input": "hi", "age": WORDS}, 400, "age"),
        ("/v1/moderations", {"input": "hi", "role": WORDS}, 400, "role"),
        ("/v1/check", {"text": "hi", "age": WORDS}, 400, "age"),
        ("/v1/check", {"messages": [{"role": WORDS, "content": "hi"}]}, 400, "messages[0].role"),
        ("/v1/children", {"id": "kid-x", "age": WORDS}, 400, "age"),
        ("/v1/moderations", {"input": "hi", WORDS: 1}, 400, "<key>"),
        ("/v1/chat/completions", chat(messages=[{"role": "user", "content": [{"type": WORDS}]}]), 400,
         "messages[0].content"),
        ("/v1/chat/completions", chat(metadata={WORDS: "bad \ud800"}), 400, "metadata.<key>"),
        ("/v1/appeals", {"decision_id": WORDS}, 404, "decision_id"),
        ("/v1/guardians", {"display_name": "P", "children": [{"user": "k", "age": WORDS}]}, 400, "children.age"),
    ],
)  # fmt: skip
def test_errors_name_the_field_without_echoing_the_request(
    gw: Gw, path: str, body: dict[str, Any], status: int, param: str
) -> None:
    raw = _json(body)
    resp = HTTP.post(gw.url + path, content=raw, headers={**AUTH, "Content-Type": "application/json"})
    assert resp.status_code == status, resp.text
    err = resp.json()["error"]
    assert err["param"] == param
    assert param in err["message"] or status == 404
    for word in ("Lily", "Oak Road"):
        assert word not in resp.text


def test_a_field_name_is_still_named(gw: Gw) -> None:
    resp = HTTP.post(gw.url + "/v1/moderations", json={"input": "hi", "colour": 1}, headers=AUTH)
    assert resp.status_code == 400
    assert resp.json()["error"]["message"] == "unknown field 'colour'"


def _json(body: dict[str, Any]) -> bytes:
    """JSON with lone surrogates kept as escapes (``json.dumps`` does that; httpx's ``json=`` would fail)."""
    return json.dumps(body).encode("ascii")
