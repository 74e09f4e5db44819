"""Alerts for severity-1 cases, against a real local HTTP server and a local SMTP server: signed, retried with
backoff, never blocking the caller, and carrying no child text."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from childsafe.config import AlertsConfig, Config, ConfigError, load_config
from childsafe.review.alerts import Alerter, EmailChannel, WebhookChannel, sign, verify
from childsafe.review.service import UrgentCase
from childsafe.testing.alerts import SmtpStub, WebhookReceiver

SECRET = "a-long-webhook-secret-0123"
BASE = "https://safety.example.org"
CASE = UrgentCase(
    "case_0123456789abcdef0123",
    ("self_harm",),
    1,
    "escalate",
    datetime(2026, 5, 1, 12, 0, tzinfo=UTC),
    datetime(2026, 5, 1, 13, 0, tzinfo=UTC),
)
CHILD_WORDS = "i want to hurt myself"  # what the child wrote: must never travel in an alert


@pytest.fixture
def hook() -> Iterator[WebhookReceiver]:
    r = WebhookReceiver()
    yield r
    r.close()


@pytest.fixture
def smtp() -> Iterator[SmtpStub]:
    s = SmtpStub()
    yield s
    s.close()


def _alerts(**cfg: object) -> AlertsConfig:
    return AlertsConfig.model_validate(cfg)


def test_webhook_is_signed_retried_with_backoff_and_carries_no_child_text(hook: WebhookReceiver) -> None:
    hook.statuses = [500, 503, 200]
    cfg = _alerts(webhook={"url": hook.url, "secret": SECRET}, base_url=BASE, retries=3, backoff_s=0.2)
    alerter = Alerter.from_config(cfg, "http://unused")
    assert alerter is not None
    started = time.monotonic()
    alerter.notify(CASE)
    assert time.monotonic() - started < 0.05  # queued, not sent on the caller's thread
    assert alerter.wait_idle(15)
    got = hook.received
    assert len(got) == 3 and (alerter.sent, alerter.retried, alerter.failed) == (1, 2, 0)
    assert time.monotonic() - started >= 0.2 + 0.4  # waited 0.2 s, then 0.4 s between tries
    body = got[-1].json()
    assert body == {
        "event": "childsafe.case.urgent",
        "case_id": CASE.case_id,
        "categories": ["self_harm"],
        "severity": 1,
        "action": "escalate",
        "opened_at": "2026-05-01T12:00:00+00:00",
        "due_at": "2026-05-01T13:00:00+00:00",
        "link": f"{BASE}/review/cases/{CASE.case_id}",
    }
    for r in got:
        headers = {k.lower(): v for k, v in r.headers.items()}
        assert headers["content-type"] == "application/json"
        assert verify(SECRET, headers["x-childsafe-timestamp"], r.body, headers["x-childsafe-signature"])
        assert not verify("another-secret-entirely", headers["x-childsafe-timestamp"], r.body,
                          headers["x-childsafe-signature"])
    assert not verify(SECRET, "1000", got[0].body, sign(SECRET, "1000", got[0].body))  # replayed: too old
    alerter.close()


def test_a_webhook_that_keeps_failing_is_given_up_after_the_retries(hook: WebhookReceiver) -> None:
    hook.statuses = [500]
    alerter = Alerter([WebhookChannel(_alerts(webhook={"url": hook.url, "secret": SECRET}).webhook)],  # type: ignore[arg-type]
                      BASE, retries=2, backoff_s=0.05)
    alerter.notify(CASE)
    assert alerter.wait_idle(15)
    assert len(hook.received) == 3 and (alerter.sent, alerter.failed) == (0, 1)
    alerter.close()


def test_a_slow_or_dead_receiver_never_blocks_notify(hook: WebhookReceiver) -> None:
    hook.delay_s = 1.0
    dead = _alerts(webhook={"url": "http://127.0.0.1:9/nothing-listens", "secret": SECRET}).webhook
    slow = _alerts(webhook={"url": hook.url, "secret": SECRET}).webhook
    assert dead is not None and slow is not None
    alerter = Alerter([WebhookChannel(slow), WebhookChannel(dead)], BASE, retries=1, backoff_s=0.05)
    started = time.monotonic()
    for i in range(20):
        alerter.notify(UrgentCase(f"case_{i}", ("grooming",), 1, "escalate", CASE.opened_at, CASE.due_at))
    assert time.monotonic() - started < 0.1
    started = time.monotonic()
    alerter.close(timeout=0.5)  # shutting down does not wait for a slow receiver either
    assert time.monotonic() - started < 2.5


def test_email_is_sent_by_smtp_and_retried_after_a_temporary_refusal(smtp: SmtpStub) -> None:
    smtp.refuse_first = 1
    cfg = _alerts(
        email={"host": "127.0.0.1", "port": smtp.port, "security": "none", "sender": "childsafe@example.org",
               "to": ["oncall@example.org", "lead@example.org"]},
        base_url=BASE,
        backoff_s=0.05,
    )
    alerter = Alerter.from_config(cfg, "http://unused")
    assert alerter is not None and [c.name for c in alerter.channels] == ["email"]
    alerter.notify(CASE)
    assert alerter.wait_idle(15)
    assert smtp.attempts == 2 and len(smtp.mails) == 1 and alerter.retried == 1
    mail = smtp.mails[0]
    assert mail.sender == "childsafe@example.org" and mail.recipients == ["oncall@example.org", "lead@example.org"]
    assert mail.message["Subject"] == f"[childsafe] Severity 1 case {CASE.case_id}: self_harm"
    body = mail.message.get_content()
    assert f"{BASE}/review/cases/{CASE.case_id}" in body and "2026-05-01T13:00:00+00:00" in body
    assert CHILD_WORDS not in mail.message.as_string()
    alerter.close()


def test_email_to_a_server_that_is_down_fails_with_the_channel_named() -> None:
    from childsafe.review.alerts import AlertDeliveryError

    cfg = _alerts(email={"host": "127.0.0.1", "port": 9, "security": "none", "sender": "a@b.c", "to": ["x@y.z"],
                         "timeout_s": 2})
    assert cfg.email is not None
    with pytest.raises(AlertDeliveryError, match=r"^email not sent \(ConnectionRefusedError\)$"):
        EmailChannel(cfg.email).send({"case_id": "c", "categories": [], "severity": 1, "action": "report",
                                      "opened_at": "", "due_at": "", "link": ""})


def test_alerts_config_defaults_and_errors_name_the_key(tmp_path: Path) -> None:
    assert Config().review.alerts.webhook is None and Alerter.from_config(Config().review.alerts, BASE) is None
    assert Config().review.queue_without_child is False
    bad = tmp_path / "c.yaml"
    bad.write_text("review:\n  alerts:\n    webhook:\n      url: ftp://x\n      secret: short\n")
    with pytest.raises(ConfigError) as err:
        load_config(bad, env=False)
    text = str(err.value)
    assert "review.alerts.webhook.url (line 4)" in text and "review.alerts.webhook.secret (line 5)" in text
    bad.write_text("review:\n  alerts:\n    email: {host: smtp.example.org, sender: a@b.c, to: []}\n")
    with pytest.raises(ConfigError, match=r"review\.alerts\.email\.to"):
        load_config(bad, env=False)

