"""Bad input and upstream failures: each a JSON error naming the problem, never a traceback."""

from __future__ import annotations

import json
import socket
from typing import Any

import httpx
import pytest

from .conftest import API_KEY, CHILD, HTTP, GatewayFactory, Gw

AUTH = {"Authorization": f"Bearer {API_KEY}"}
GOOD = {"model": "t", "user": CHILD, "messages": [{"role": "user", "content": "hello"}]}


def post(
    gw: Gw,
    body: Any = None,
    *,
    content: bytes | None = None,
    headers: dict[str, str] | None = None,
    path: str = "/chat/completions",
) -> httpx.Response:
    hdrs = {**AUTH, **(headers or {})}
    if content is not None:
        return HTTP.post(gw.base + path, content=content, headers={"Content-Type": "application/json", **hdrs})
    return HTTP.post(gw.base + path, json=body, headers=hdrs)


def error_of(resp: httpx.Response) -> dict[str, Any]:
    assert resp.headers["content-type"].startswith("application/json")
    assert "Traceback" not in resp.text
    err: dict[str, Any] = resp.json()["error"]
    assert set(err) == {"message", "type", "param", "code"}
    return err


@pytest.mark.parametrize(
    ("body", "content", "status", "needle"),
    [
        (None, b'{"model": "t", "messages": [', 400, "invalid JSON body"),
        (None, b"", 400, "request body is missing"),
        ([1, 2], None, 400, "request body must be a JSON object"),
        ({"model": "t", "user": CHILD}, None, 400, "missing required field 'messages'"),
        ({"messages": [{"role": "user", "content": "x"}], "user": CHILD}, None, 400, "missing required field 'model'"),
        ({"model": "t", "messages": "hello", "user": CHILD}, None, 400, "field 'messages'"),
        ({"model": "t", "messages": [{"role": "user", "content": 5}], "user": CHILD}, None, 400, "messages[0].content"),
        ({"model": "t", "messages": [], "user": CHILD}, None, 400, "field 'messages'"),
        ({"model": "t", "stream": "yes please", "messages": [{"role": "user", "content": "x"}]}, None, 400, "stream"),
        (
            {"model": "t", "messages": [{"role": "system", "content": "x"}], "user": CHILD},
            None,
            400,
            "no 'user' message",
        ),
        ({"model": "t", "messages": [{"role": "user", "content": "x"}]}, None, 400, "no child given"),
        (
            {"model": "t", "user": CHILD, "messages": [{"role": "user", "content": [{"type": "image_url"}]}]},
            None,
            400,
            "checks text only",
        ),
    ],
)
def test_bad_requests_name_the_problem(gw: Gw, body: Any, content: bytes | None, status: int, needle: str) -> None:
    resp = post(gw, body, content=content)
    assert resp.status_code == status
    assert needle in error_of(resp)["message"]
    assert gw.upstream is not None and gw.upstream.received == []


def test_body_over_the_limit_is_413(gateway_factory: GatewayFactory) -> None:
    g = gateway_factory(max_body_bytes=2048)
    big = {**GOOD, "messages": [{"role": "user", "content": "x" * 5000}]}
    resp = post(g, big)
    assert resp.status_code == 413 and "larger than the limit of 2048 bytes" in error_of(resp)["message"]

    def chunked() -> Any:  # no Content-Length: the limit is enforced while reading
        yield json.dumps(big).encode()

    resp2 = HTTP.post(
        g.base + "/chat/completions", content=chunked(), headers={**AUTH, "Content-Type": "application/json"}
    )
    assert resp2.status_code == 413 and error_of(resp2)["type"] == "request_too_large"


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "missing_api_key"),
        ({"Authorization": "Bearer nope"}, "invalid_api_key"),
        ({"Authorization": "Basic x"}, "missing_api_key"),
    ],
)
def test_api_key_is_required(gw: Gw, headers: dict[str, str], code: str) -> None:
    resp = HTTP.post(gw.base + "/chat/completions", json=GOOD, headers=headers)
    assert resp.status_code == 401
    err = error_of(resp)
    assert err["code"] == code and err["type"] == "authentication_error"


def test_unknown_child_is_404_unless_auto_created(gateway_factory: GatewayFactory) -> None:
    g = gateway_factory()
    resp = post(g, {**GOOD, "user": "stranger"})
    assert resp.status_code == 404 and error_of(resp)["type"] == "unknown_child"
    g2 = gateway_factory(auto_create_children=True)
    ok = post(g2, {**GOOD, "user": "stranger"}, headers={"X-Childsafe-Age": "7"})
    assert ok.status_code == 200
    g2.flush()
    d = g2.store.decisions.get(ok.json()["childsafe"]["input"]["decision_id"])
    assert d is not None and d.age_band == "6-9"
    bad_age = post(g2, {**GOOD, "user": "another"}, headers={"X-Childsafe-Age": "eleven"})
    assert bad_age.status_code == 400 and "unknown age" in error_of(bad_age)["message"]


def test_rate_limit_is_429_with_retry_after(gateway_factory: GatewayFactory) -> None:
    g = gateway_factory(rate=2, auto_create_children=True)
    codes = [post(g, GOOD).status_code for _ in range(3)]
    assert codes[:2] == [200, 200] and codes[2] == 429
    resp = post(g, GOOD)
    assert resp.status_code == 429 and int(resp.headers["Retry-After"]) >= 1
    assert error_of(resp)["type"] == "rate_limit_error"


def test_unknown_route_and_method(gw: Gw) -> None:
    assert error_of(HTTP.get(gw.url + "/v1/nothing"))["type"] == "not_found"
    r = HTTP.get(gw.base + "/chat/completions", headers=AUTH)
    assert r.status_code == 405 and error_of(r)["type"] == "method_not_allowed"


UPSTREAM_FAILURES = [
    ("http500", 502, "http_5xx"),
    ("http400", 502, "http_4xx"),
    ("not_json", 502, "malformed"),
    ("no_choices", 502, "malformed"),
    ("slow", 504, "timeout"),
]


@pytest.mark.parametrize("stream", [False, True])
def test_upstream_failures_are_clear_json_errors(gateway_factory: GatewayFactory, stream: bool) -> None:
    g = gateway_factory(timeout_s=0.5, auto_create_children=True)
    assert g.upstream is not None
    for mode, status, kind in UPSTREAM_FAILURES:
        if stream and mode == "no_choices":
            continue  # a streaming request answered with plain JSON is the not_json case
        g.upstream.mode, g.upstream.delay_s = mode, 2.0
        resp = post(g, {**GOOD, "stream": stream})
        assert resp.status_code == status, mode
        err = error_of(resp)
        assert err["code"] == kind and err["type"] == ("upstream_timeout" if status == 504 else "upstream_error")
        assert g.store.upstream_errors.recent(1)[0].kind == kind


def test_upstream_unreachable_is_502(gateway_factory: GatewayFactory) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    g = gateway_factory(upstream_url=f"http://127.0.0.1:{port}/v1", auto_create_children=True)
    resp = post(g, GOOD)
    assert resp.status_code == 502 and error_of(resp)["code"] == "connect"


def test_no_upstream_configured_is_503(gateway_factory: GatewayFactory) -> None:
    g = gateway_factory(upstream_url=None, auto_create_children=True)
    resp = post(g, GOOD)
    assert resp.status_code == 503 and "no upstream" in error_of(resp)["message"]
    assert HTTP.get(g.url + "/readyz").status_code == 503


@pytest.mark.parametrize("mode", ["stream_drop", "stream_garbage"])
def test_stream_failing_midway_sends_no_unchecked_text(gateway_factory: GatewayFactory, mode: str) -> None:
    g = gateway_factory(auto_create_children=True)
    assert g.upstream is not None
    g.upstream.mode = mode
    g.upstream.reply = "A" * 150 + " tail-marker-that-must-not-appear " + "B" * 150
    resp = post(g, {**GOOD, "stream": True})
    assert resp.status_code == 200
    assert "tail-marker" not in resp.text
    events = [json.loads(line[6:]) for line in resp.text.splitlines() if line.startswith("data: {")]
    assert events[-1]["error"]["type"] == "upstream_error"
    assert g.store.upstream_errors.recent()[0].kind in ("malformed", "transport", "truncated")
