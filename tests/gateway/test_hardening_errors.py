"""Issue #17, item 9 (first two): a lone surrogate is a 400 naming the field; a locked database is a 503."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

from .conftest import API_KEY, HTTP, GatewayFactory, Gw

AUTH = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"}
MSG = '{"role": "user", "content": "hi there"}'
NOT_TEXT = "contains a lone UTF-16 surrogate escape (such as \\ud800): it is not valid Unicode text"


CHAT = '{"model": "t", "user": "kid-7", "messages": [%s]%s}'


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/chat/completions", CHAT % ('{"role": "user", "content": "hi \\ud800"}', ""), "messages[0].content"),
        ("/chat/completions", CHAT % ('{"role": "user", "content": [{"type": "text", "text": "\\udfff"}]}', ""),
         "messages[0].content[0].text"),
        ("/chat/completions", CHAT.replace("kid-7", "kid\\ud800") % (MSG, ""), "user"),
        ("/chat/completions", CHAT % (MSG, ', "metadata": {"a": ["\\ud800"]}'), "metadata.a[0]"),
        ("/chat/completions", CHAT.replace('"t"', '"t\\udc00"') % (MSG, ""), "model"),
        ("/chat/completions", CHAT % ('{"role": "user", "content": "x", "\\ud800": 1}', ""), "messages[0]"),
        ("/chat/completions", CHAT % (MSG, ', "x\\ud800": 1'), ""),  # a key of the body itself
        ("/moderations", '{"input": ["fine", "a\\ud800"]}', "input[1]"),
        ("/check", '{"text": "a\\ud800"}', "text"),
        ("/check", '{"messages": [{"role": "child", "content": "a\\ud800"}]}', "messages[0].content"),
    ],
)  # fmt: skip
def test_lone_surrogate_is_400_naming_the_field(gw: Gw, path: str, body: str, field: str) -> None:
    resp = HTTP.post(gw.base + path, content=body.encode(), headers=AUTH)
    assert resp.status_code == 400, resp.text
    err = resp.json()["error"]
    assert err["type"] == "invalid_request_error" and err["param"] == (field or None)
    name = f"field '{field}'" if field else "a key of the request body"
    assert err["message"] == f"{name} {NOT_TEXT}"
    gw.flush()
    assert gw.store.decisions.recent() == []  # refused before any check
    assert gw.upstream is not None and gw.upstream.received == []


def test_valid_surrogate_pairs_are_text(gw: Gw) -> None:
    # an emoji escaped as a pair is one character, not a lone surrogate
    body = '{"model": "t", "user": "kid-7", "messages": [{"role": "user", "content": "octopus \\ud83d\\udc19"}]}'
    resp = HTTP.post(gw.base + "/chat/completions", content=body.encode(), headers=AUTH)
    assert resp.status_code == 200, resp.text
    assert gw.upstream is not None and gw.upstream.received[0]["messages"][0]["content"] == "octopus \U0001f419"


@contextmanager
def locked_database(g: Gw, busy_ms: int = 300) -> Iterator[None]:
    """Another process holds SQLite's write lock; the gateway waits ``busy_ms`` (not its 10 s) for it."""
    if g.store.backend != "sqlite":
        pytest.skip("the write lock is SQLite's")
    engine = g.store.engine

    def short_wait(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute(f"PRAGMA busy_timeout={busy_ms}")

    event.listen(engine, "connect", short_wait)
    engine.dispose()  # pooled connections were opened with the long wait
    other = sqlite3.connect(str(engine.url.database), isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()
        event.remove(engine, "connect", short_wait)


def assert_database_503(resp: Any) -> None:
    assert resp.status_code == 503, resp.text
    err = resp.json()["error"]
    assert err == {
        "message": "the gateway's database is locked by another writer; the request could not be completed, "
        "retry in a few seconds",
        "type": "service_unavailable",
        "param": None,
        "code": "database_unavailable",
    }
    assert int(resp.headers["Retry-After"]) > 0


def test_locked_database_is_503_naming_the_database(gateway_factory: GatewayFactory) -> None:
    g = gateway_factory(auto_create_children=True)
    chat = {"model": "t", "user": "new-child", "messages": [{"role": "user", "content": "hello"}]}
    with locked_database(g):
        assert_database_503(HTTP.post(g.base + "/chat/completions", json=chat, headers=AUTH))
        assert_database_503(HTTP.post(g.base + "/children", json={"id": "c2", "age": 9}, headers=AUTH))
    # the lock gone, the same requests work
    assert HTTP.post(g.base + "/chat/completions", json=chat, headers=AUTH).status_code == 200
    assert HTTP.post(g.base + "/children", json={"id": "c2", "age": 9}, headers=AUTH).status_code == 200
