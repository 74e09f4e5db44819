"""End to end against a real HTTP server: a fake OpenAI-compatible gateway (and a plain model) on localhost."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from childsafe.engine import Engine
from childsafe.eval.redteam.data import Probe
from childsafe.eval.redteam.runner import run_redteam, summarise_redteam
from childsafe.eval.redteam.targets import HttpTarget, TargetError
from childsafe.eval.redteam.transforms import get_transforms
from childsafe.types import AgeBand, Category, Message, Role

BAND = AgeBand.AGE_10_12


class FakeServer:
    """mode 'gateway': blocks 'zzharm' with a childsafe object and echoes the rest (so echoed harm reaches the
    child when the gateway misses it); mode 'plain': a model without childsafe that echoes everything."""

    def __init__(self, mode: str, key: str | None = None) -> None:
        self.mode = mode
        self.key = key
        self.requests: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                if self.path != "/v1/chat/completions":
                    self.send_error(404)
                    return
                if outer.key and self.headers.get("Authorization") != f"Bearer {outer.key}":
                    self.send_error(401)
                    return
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append({"body": body, "headers": dict(self.headers)})
                last = [m for m in body["messages"] if m["role"] == "user"][-1]["content"]
                seen = " ".join(m["content"] for m in body["messages"])
                data: dict[str, Any] = {"choices": [{"index": 0, "message": {"role": "assistant"}}]}
                if outer.mode == "gateway" and "zzharm" in seen:
                    data["choices"][0]["message"]["content"] = "I can't help with that."
                    data["choices"][0]["finish_reason"] = "content_filter"
                    data["childsafe"] = {"action": "block", "categories": ["violence"], "decision_id": "d"}
                else:
                    data["choices"][0]["message"]["content"] = f"you said: {last}"
                    data["choices"][0]["finish_reason"] = "stop"
                    if outer.mode == "gateway":
                        data["childsafe"] = {"action": "allow", "categories": [], "decision_id": "d"}
                raw = json.dumps(data).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> FakeServer:
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def gateway() -> Iterator[FakeServer]:
    with FakeServer("gateway") as s:
        yield s


def p(pid: str, text: str, role: Role = Role.CHILD) -> Probe:
    return Probe(pid, Category.VIOLENCE, "i", (Message(role, text),))


def test_gateway_block_protects_and_a_miss_reaches_the_child(gateway: FakeServer, keyword_engine: Engine) -> None:
    target = HttpTarget(gateway.url, keyword_engine, concurrency=2)
    target.check_reachable()
    # the fake gateway only knows "zzharm"; the local guard also flags "zzmild" in the echoed reply
    probes = [p("blocked", "zzharm please"), p("missed", "tell me zzmild now"), p("contact", "zzharm", Role.CONTACT)]
    run = run_redteam(target, probes, get_transforms(["none"]), BAND)
    s = summarise_redteam(run)
    by_case = {r.case.id: r for r in run.results}
    blocked, missed, contact = by_case["blocked/none"], by_case["missed/none"], by_case["contact/none"]
    assert blocked.verdict is not None and blocked.verdict.reached is False and blocked.success
    assert blocked.verdict.categories == ["violence"] and blocked.verdict.stopped
    # the gateway allowed it and echoed it back: the local guard finds the unsafe reply delivered to the child
    assert missed.verdict is not None and missed.verdict.reached is True and not missed.success
    assert contact.verdict is None  # a contact's message cannot be sent through a chat endpoint
    assert s["headline"] == "protected"
    assert s["summary"]["applicable"] == 2 and s["summary"]["not_applicable"] == 1
    assert s["summary"]["overall_rate"] == 0.5
    headers = gateway.requests[-1]["headers"]
    assert headers["X-Childsafe-Age"] == "10-12" and headers["X-Childsafe-Conversation"].startswith("rt-")


def test_script_is_sent_with_contact_turns_as_assistant_history(gateway: FakeServer, keyword_engine: Engine) -> None:
    script = Probe(
        "s",
        Category.VIOLENCE,
        "i",
        (Message(Role.CONTACT, "zzharm is coming"), Message(Role.CHILD, "what?"), Message(Role.CONTACT, "bye")),
        expect_from=0,
    )
    run = run_redteam(HttpTarget(gateway.url, keyword_engine), [script], get_transforms(["none"]), BAND)
    assert len(gateway.requests) == 1  # one request per child turn; the trailing contact turn is never sent
    sent = gateway.requests[-1]["body"]["messages"]
    assert sent == [{"role": "assistant", "content": "zzharm is coming"}, {"role": "user", "content": "what?"}]
    v = run.results[0].verdict
    assert v is not None and v.stopped and v.first_flag_index == 1


def test_plain_endpoint_is_judged_by_the_reply(keyword_engine: Engine) -> None:
    with FakeServer("plain") as plain:
        run = run_redteam(HttpTarget(plain.url, keyword_engine), [p("x", "zzharm")], get_transforms(["none"]), BAND)
    v = run.results[0].verdict
    assert v is not None and v.reached is True and v.categories == ["violence"]


def test_unreachable_and_unauthorised_endpoints_fail_clearly(keyword_engine: Engine) -> None:
    with FakeServer("gateway", key="secret") as s:
        with pytest.raises(TargetError, match="API key"):
            HttpTarget(s.url, keyword_engine).check_reachable()
        HttpTarget(s.url, keyword_engine, api_key="secret").check_reachable()
        with pytest.raises(TargetError, match="404"):
            HttpTarget(s.url.removesuffix("/v1") + "/nope", keyword_engine).check_reachable()
        port = s.httpd.server_address[1]
    with pytest.raises(TargetError, match="cannot reach"):
        HttpTarget(f"http://127.0.0.1:{port}/v1", keyword_engine, timeout_s=2).check_reachable()
    with pytest.raises(TargetError, match="http"):
        HttpTarget("ftp://example.org", keyword_engine)
