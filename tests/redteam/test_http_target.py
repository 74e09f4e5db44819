"""End to end against a real HTTP server: a fake OpenAI-compatible gateway (and a plain model) on localhost."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from childsafe.engine import Engine
from childsafe.eval.redteam.data import BenignItem, Probe
from childsafe.eval.redteam.runner import run_overblocking, run_redteam, summarise_overblocking, summarise_redteam
from childsafe.eval.redteam.targets import HttpTarget, TargetError
from childsafe.eval.redteam.transforms import get_transforms
from childsafe.types import AgeBand, Category, Message, Role

from .conftest import FakeServer

BAND = AgeBand.AGE_10_12


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


def test_overblocking_end_to_end(gateway: FakeServer, keyword_engine: Engine) -> None:
    items = [BenignItem("ok", "games", "how do i win", (BAND,)), BenignItem("fb", "games", "zzharm the boss", (BAND,))]
    ob = summarise_overblocking(run_overblocking(HttpTarget(gateway.url, keyword_engine), items, [BAND]))
    assert ob["by_band"]["10-12"] == {"items": 2, "false_blocks": 1, "false_block_rate": 0.5, "warns": 0,
                                      "warn_rate": 0.0}
    assert [f["item"] for f in ob["false_blocks"]] == ["fb"]


def test_gateway_fail_closed_is_counted(gateway: FakeServer, keyword_engine: Engine) -> None:
    target = HttpTarget(gateway.url, keyword_engine)
    s = summarise_redteam(run_redteam(target, [p("x", "zzbroken zzharm")], get_transforms(["none"]), BAND))
    assert s["summary"]["failed_closed"] == 1 and s["summary"]["overall_rate"] == 1.0  # protected, not detected
    assert s["summary"]["overall_detected_rate"] == 0.0
    ob = summarise_overblocking(run_overblocking(target, [BenignItem("b", "t", "zzbroken", (BAND,))], [BAND]))
    assert ob["by_band"]["10-12"]["false_blocks"] == 1 and ob["summary"]["failed_closed"] == 1


def test_rate_limited_requests_are_retried(gateway: FakeServer, keyword_engine: Engine) -> None:
    gateway.throttle = 2
    run = run_redteam(HttpTarget(gateway.url, keyword_engine), [p("x", "zzharm")], get_transforms(["none"]), BAND)
    v = run.results[0].verdict
    assert gateway.throttle == 0 and v is not None and v.error is None and v.stopped
    gateway.throttle = 10  # more than the retries: recorded as an error, not as a verdict on the content
    run = run_redteam(HttpTarget(gateway.url, keyword_engine), [p("x", "zzharm")], get_transforms(["none"]), BAND)
    v = run.results[0].verdict
    assert v is not None and v.error == "HTTP 429" and run.errors == 1
    gateway.throttle = 0
