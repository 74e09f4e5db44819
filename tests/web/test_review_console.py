"""The review console through the real gateway (uvicorn on loopback) and headless Chromium: cases open and
alert at the escalation (no page visit needed), calls naming no child stay out of the queue, the queue groups
a conversation's cases with counts, ages and time left, and the case page shows the conversation, the
reviewer explanation and the appeal's reason.

Screenshots go to ``$TMPDIR/childsafe-screenshots/`` (review-queue.png, review-case.png)."""

from __future__ import annotations

import json
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from childsafe.config import Config
from childsafe.detectors.lexicon import LexiconDetector
from childsafe.engine import Engine
from childsafe.gateway import create_app
from childsafe.review.alerts import verify
from childsafe.store import ConversationRecord, DecisionEntry, Store
from childsafe.testing.alerts import WebhookReceiver

API_KEY = "sk-console-test"
AUTH = {"Authorization": f"Bearer {API_KEY}"}
SECRET = "console-webhook-secret-42"
CONSOLE = "https://console.childsafe.test"
SHOTS = Path(tempfile.gettempdir()) / "childsafe-screenshots"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
SELF_HARM = "everyone hates me and i want to kill myself"
REPLY = "I'm sorry today was hard. What happened?"


class Upstream:
    """An OpenAI-compatible model that always answers the same (http.server on loopback)."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                answer = {"role": "assistant", "content": REPLY}
                body = json.dumps({
                    "id": "chatcmpl-x", "object": "chat.completion", "created": 1, "model": "m",
                    "choices": [{"index": 0, "finish_reason": "stop", "message": answer}],
                }).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class Console:
    url: str
    app: Any
    store: Store
    app_id: int
    hook: WebhookReceiver

    @property
    def review(self) -> Any:
        return self.app.state.oversight.review

    def http(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, trust_env=False, timeout=20)


ConsoleFactory = Callable[..., Console]


@pytest.fixture
def console(db_url: str, tmp_path: Path) -> Iterator[ConsoleFactory]:
    """Start a gateway with alerts to a local webhook receiver; ``review`` settings can be overridden."""
    hook, upstream = WebhookReceiver(), Upstream()
    running: list[tuple[uvicorn.Server, threading.Thread, Store]] = []

    def start(**review: Any) -> Console:
        config = Config.model_validate(
            {
                "store": {"url": db_url, "data_dir": str(tmp_path / "data"), "store_messages": True},
                "server": {
                    "apps": [{"name": "console-app", "key": API_KEY}],
                    "auto_create_children": True,
                    "upstream": {"url": upstream.url},
                },
                "review": {
                    "alerts": {"webhook": {"url": hook.url, "secret": SECRET}, "base_url": CONSOLE, "backoff_s": 0.1},
                    **review,
                },
            }
        )
        store = Store.from_config(config.store)
        app = create_app(config, engine=Engine(detectors=[LexiconDetector()], config=config), store=store)
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started:
            assert time.monotonic() < deadline and thread.is_alive(), "server did not start"
            time.sleep(0.01)
        running.append((server, thread, store))
        rec = store.apps.by_key(API_KEY)
        assert rec is not None
        port = server.servers[0].sockets[0].getsockname()[1]
        return Console(f"http://127.0.0.1:{port}", app, store, rec.id, hook)

    yield start
    for server, thread, store in running:
        server.should_exit = True
        thread.join(20)
        store.close()
    hook.close()
    upstream.close()


def _wait(predicate: Callable[[], bool], timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def _check(c: httpx.Client, text: str, child: str | None = None) -> str:
    headers = {**AUTH, **({"X-Childsafe-Child": child} if child else {})}
    r = c.post("/v1/check", json={"text": text, "age": 11}, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["action"] == "escalate" and "self_harm" in r.json()["categories"]
    return str(r.json()["decision_id"])


def _chat(c: httpx.Client, conversation: str, messages: list[dict[str, str]]) -> dict[str, Any]:
    r = c.post(
        "/v1/chat/completions",
        json={"model": "m", "user": "kid-chat", "messages": messages},
        headers={**AUTH, "X-Childsafe-Conversation": conversation, "X-Childsafe-Age": "11"},
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_an_escalation_opens_its_case_and_alerts_without_anyone_opening_the_queue(console: ConsoleFactory) -> None:
    site = console()
    with site.http() as c:
        bare = _check(c, SELF_HARM)  # no child: recorded and audited, no case
        named = _check(c, SELF_HARM, child="kid-a")
    alerts = site.hook.wait_for(1)
    assert len(alerts) == 1, "the escalation naming a child alerts by itself"
    cases = site.review.queue()
    assert [x.decision_id for x in cases] == [named] and cases[0].child_id is not None
    payload = alerts[0].json()
    assert payload["case_id"] == cases[0].id and payload["severity"] == 1
    assert payload["categories"][0] == "self_harm" and payload["categories"][0] == cases[0].category
    assert payload["link"] == f"{CONSOLE}/review/cases/{cases[0].id}"
    assert payload["due_at"] == cases[0].due_at.isoformat()
    headers = {k.lower(): v for k, v in alerts[0].headers.items()}
    assert verify(SECRET, headers["x-childsafe-timestamp"], alerts[0].body, headers["x-childsafe-signature"])
    assert "kill" not in alerts[0].body.decode() and "hates" not in alerts[0].body.decode()
    assert site.store.decisions.get(bare) is not None and site.store.decisions.get(bare).child_id is None  # type: ignore[union-attr]
    assert site.app.state.oversight.sink.flush()
    audited = {r.data.get("decision_id") for r in site.app.state.oversight.audit.records() if r.type == "decision"}
    assert {bare, named} <= audited
    time.sleep(0.5)
    assert len(site.hook.received) == 1  # the no-child escalation neither queued nor alerted


def test_queue_without_child_puts_bare_checks_in_the_queue(console: ConsoleFactory) -> None:
    site = console(queue_without_child=True)
    with site.http() as c:
        bare = _check(c, SELF_HARM)
    assert _wait(lambda: [x.decision_id for x in site.review.queue()] == [bare])
    assert site.review.queue()[0].child_id is None and len(site.hook.wait_for(1)) == 1


@pytest.fixture
def page():  # type: ignore[no-untyped-def]
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (no browser download)")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (apt-get install -y chromium)")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        pg = browser.new_page(viewport={"width": 1200, "height": 900})
        yield pg
        browser.close()


def _shot(page, name: str) -> Path:  # type: ignore[no-untyped-def]
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
    return path


@pytest.mark.browser
def test_moderator_works_the_queue_and_a_case_in_chromium(console: ConsoleFactory, page) -> None:  # type: ignore[no-untyped-def]
    site = console()
    first = [{"role": "user", "content": "hi, school was rough today"}]
    with site.http() as c:
        reply = _chat(c, "conv-rough-day", first)["choices"][0]["message"]["content"]
        history = [*first, {"role": "assistant", "content": reply}, {"role": "user", "content": SELF_HARM}]
        blocked = _chat(c, "conv-rough-day", history)
        said = blocked["choices"][0]["message"]["content"]
        again = "i am going to kill myself tonight"
        history += [{"role": "assistant", "content": said}, {"role": "user", "content": again}]
        _chat(c, "conv-rough-day", history)
        _check(c, SELF_HARM, child="kid-b")  # a single check: a group of one
    assert _wait(lambda: len(site.review.queue()) == 3), "the intake opens the cases without a page visit"
    flagged = next(x for x in site.review.queue() if x.conversation_id == "conv-rough-day")
    with site.http() as c:
        r = c.post("/v1/appeals", json={"decision_id": flagged.decision_id,
                                        "reason": "I was upset but I am safe now, my mum is with me"}, headers=AUTH)
        assert r.status_code == 201, r.text
    # An escalation stored three hours late (the escalation journal replays it): overdue from its own time.
    kid = site.store.children.get_or_create(site.app_id, "kid-c", "10-12")
    site.store.conversations.save(ConversationRecord("conv-old", site.app_id, kid.id, None, 1, False))
    site.store.decisions.record([DecisionEntry(
        id="dec_late", kind="input", action="escalate", categories=["grooming"], scores={"grooming": 0.8},
        reasons=["grooming score 0.80 >= 0.50 (escalate)"], policy_version="p", age_band="10-12", role="contact",
        app_id=site.app_id, child_id=kid.id, conversation_id="conv-old",
        created_at=datetime.now(UTC) - timedelta(hours=3))])
    site.app.state.web.users.create("mod", "mod-password-1", "moderator")

    page.goto(site.url + "/login?next=/review")
    page.get_by_label("Username").fill("mod")
    page.get_by_label("Password").fill("mod-password-1")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/review")
    assert page.locator("#queue-counts").is_visible()
    assert page.inner_text("#count-unresolved") == "5" and page.inner_text("#count-overdue") == "1"
    assert page.inner_text("#count-sev1") == "4"
    group = page.locator("section.group[data-conversation='conv-rough-day']")
    assert group.is_visible() and "3 cases" in group.locator("h2").inner_text()
    assert group.locator("tr.case-row").count() == 3
    assert all(t.strip().endswith("min") for t in group.locator("td.age").all_inner_texts())
    left = group.locator("td.time-left").all_inner_texts()
    assert left[0].endswith("min") and left[2].startswith("1 d 23 h")  # self-harm: 1 hour; its appeal: 48 hours
    assert group.locator("td.time-left.overdue").count() == 0
    old = page.locator("section.group[data-conversation='conv-old']")
    assert old.locator("td.time-left.overdue").inner_text().startswith("overdue by 2 h")
    assert page.locator("section.group").first.get_attribute("data-conversation") == "conv-old"  # most urgent
    queue_png = _shot(page, "review-queue")

    group.locator(f"a[href='/review/cases/{flagged.id}']").click()
    page.wait_for_selector("#conversation")
    conversation = page.locator("#conversation")
    assert conversation.is_visible()
    items = conversation.locator("li").all_inner_texts()
    assert "school was rough today" in items[0] and SELF_HARM in page.locator("#conversation li.flagged").inner_text()
    assert page.locator("#conversation li.flagged mark").first.is_visible()
    explanation = page.locator("#explanation")
    assert explanation.is_visible() and "self_harm" in explanation.inner_text()
    assert explanation.locator("tr.finding").count() >= 1 and "lexicon" in explanation.inner_text()
    assert "chars" in explanation.inner_text() and "self_harm." in explanation.locator("code").first.inner_text()
    assert page.inner_text("#appeal-reason") == "I was upset but I am safe now, my mum is with me"
    assert "left" in page.inner_text("#case-due") and page.locator("#case-age").is_visible()
    case_png = _shot(page, "review-case")
    print(f"screenshots: {queue_png} {case_png}")
