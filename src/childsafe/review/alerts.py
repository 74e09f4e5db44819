"""Alerts for severity-1 cases (self_harm, grooming, sexual_minors escalations, and reports): a signed webhook
and an email to the on-call moderators, so an urgent case is seen within its hour, not when someone next
opens the queue.

Why it looks like this:

* **Never on the check's path.** :meth:`Alerter.notify` only queues; one thread delivers. A slow or dead
  webhook or mail server delays alerts, never a child's check.
* **Retries with backoff.** A failed delivery is tried again ``retries`` times per channel, waiting
  ``backoff_s``, then twice that, and so on (at most 15 minutes); each channel on its own, so a dead mail
  server does not hold back the webhook.
* **No child text.** An alert carries the case id, the categories, the severity, the action, when the case
  arose and when it is due, and a link to the case page, where the words are shown under the consent rules.
  Logs name the case id, the channel and the failure's type only.
* **Signed.** The webhook body is signed with HMAC-SHA256 over ``<timestamp>.<body>`` (headers
  ``X-Childsafe-Timestamp`` and ``X-Childsafe-Signature: sha256=<hex>``): a receiver checks the signature
  and refuses old timestamps, so a forged or replayed alert is refused.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import itertools
import json
import logging
import smtplib
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any, Protocol

import httpx

from childsafe.config import AlertsConfig, EmailAlertConfig, WebhookAlertConfig
from childsafe.review.service import UrgentCase

log = logging.getLogger("childsafe.review.alerts")

MAX_BACKOFF_S = 900.0
SIGNATURE_HEADER = "X-Childsafe-Signature"
TIMESTAMP_HEADER = "X-Childsafe-Timestamp"


class AlertDeliveryError(Exception):
    """A channel could not deliver an alert; the message names the channel and the failure, never content."""


def case_link(base_url: str, case_id: str) -> str:
    return f"{base_url.rstrip('/')}/review/cases/{case_id}"


def alert_payload(case: UrgentCase, base_url: str) -> dict[str, Any]:
    """The alert as sent: ids, labels, times and the case link. Nothing a child wrote."""
    return {
        "event": "childsafe.case.urgent",
        "case_id": case.case_id,
        "categories": list(case.categories),
        "severity": case.severity,
        "action": case.action,
        "opened_at": case.opened_at.isoformat(),
        "due_at": case.due_at.isoformat(),
        "link": case_link(base_url, case.case_id),
    }


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Childsafe-Signature`` value for ``body`` sent at ``timestamp`` (unix seconds, as sent)."""
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str, *, max_age_s: float = 300.0) -> bool:
    """For receivers (and tests): the signature matches and the timestamp is recent."""
    try:
        fresh = abs(time.time() - float(timestamp)) <= max_age_s
    except ValueError:
        return False
    return fresh and hmac.compare_digest(sign(secret, timestamp, body), signature)


class Channel(Protocol):
    name: str

    def send(self, payload: dict[str, Any]) -> None:
        """Deliver one alert or raise :class:`AlertDeliveryError`."""


class WebhookChannel:
    """POST the alert as JSON, signed; any answer other than 2xx is a failure (to retry)."""

    name = "webhook"

    def __init__(self, cfg: WebhookAlertConfig, transport: httpx.BaseTransport | None = None) -> None:
        self._cfg = cfg
        self._client = httpx.Client(timeout=cfg.timeout_s, transport=transport, trust_env=False)

    def send(self, payload: dict[str, Any]) -> None:
        body = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode("utf-8")
        ts = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "childsafe-alerts",
            TIMESTAMP_HEADER: ts,
            SIGNATURE_HEADER: sign(self._cfg.secret, ts, body),
        }
        try:
            r = self._client.post(self._cfg.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise AlertDeliveryError(f"webhook unreachable ({type(exc).__name__})") from None
        if not 200 <= r.status_code < 300:
            raise AlertDeliveryError(f"webhook answered HTTP {r.status_code}")

    def close(self) -> None:
        self._client.close()


class EmailChannel:
    """Send the alert by SMTP (STARTTLS by default), one message to all recipients."""

    name = "email"

    def __init__(self, cfg: EmailAlertConfig) -> None:
        self._cfg = cfg

    def message(self, payload: dict[str, Any]) -> EmailMessage:
        msg = EmailMessage()
        cats = ", ".join(payload["categories"]) or "urgent"
        msg["Subject"] = f"[childsafe] Severity {payload['severity']} case {payload['case_id']}: {cats}"
        msg["From"] = self._cfg.sender
        msg["To"] = ", ".join(self._cfg.to)
        msg.set_content(
            "A case needs a moderator now.\n\n"
            f"Case:       {payload['case_id']}\n"
            f"Categories: {cats}\n"
            f"Severity:   {payload['severity']} ({payload['action']})\n"
            f"Arose at:   {payload['opened_at']}\n"
            f"Due by:     {payload['due_at']}\n\n"
            f"Open the case: {payload['link']}\n\n"
            "The conversation is shown on the case page only, under the guardian's consents.\n"
        )
        return msg

    def _connect(self) -> smtplib.SMTP:
        cfg = self._cfg
        if cfg.security == "ssl":
            return smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout_s, context=ssl.create_default_context())
        smtp = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout_s)
        if cfg.security == "starttls":
            smtp.starttls(context=ssl.create_default_context())
        return smtp

    def send(self, payload: dict[str, Any]) -> None:
        try:
            with self._connect() as smtp:
                if self._cfg.username:
                    smtp.login(self._cfg.username, self._cfg.password or "")
                smtp.send_message(self.message(payload))
        except (OSError, smtplib.SMTPException) as exc:
            raise AlertDeliveryError(f"email not sent ({type(exc).__name__})") from None

    def close(self) -> None:
        return None


@dataclass(order=True)
class _Delivery:
    due: float
    seq: int
    channel: Channel = field(compare=False)
    payload: dict[str, Any] = field(compare=False)
    attempt: int = field(default=0, compare=False)


class Alerter:
    """Queues alerts and delivers them from one daemon thread, with retries and exponential backoff."""

    def __init__(
        self,
        channels: list[Channel],
        base_url: str,
        *,
        retries: int = 5,
        backoff_s: float = 5.0,
        max_pending: int = 10_000,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if not channels:
            raise ValueError("an Alerter needs at least one channel")
        self.channels = channels
        self.base_url = base_url
        self._retries = retries
        self._backoff = backoff_s
        self._max_pending = max_pending
        self._now = monotonic
        self._heap: list[_Delivery] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._busy = 0
        self._stopping = False
        self.sent = 0
        self.retried = 0
        self.failed = 0
        self.dropped = 0
        self._thread = threading.Thread(target=self._run, name="childsafe-alerts", daemon=True)
        self._thread.start()

    @classmethod
    def from_config(cls, cfg: AlertsConfig, default_base_url: str) -> Alerter | None:
        """The alerter for ``review.alerts``; None when neither a webhook nor an email is configured."""
        channels: list[Channel] = []
        if cfg.webhook is not None:
            channels.append(WebhookChannel(cfg.webhook))
        if cfg.email is not None:
            channels.append(EmailChannel(cfg.email))
        if not channels:
            return None
        return cls(channels, cfg.base_url or default_base_url, retries=cfg.retries, backoff_s=cfg.backoff_s)

    def notify(self, case: UrgentCase) -> None:
        """Queue an alert on every channel; returns at once (the ``ReviewService`` urgent-case hook)."""
        payload = alert_payload(case, self.base_url)
        with self._cond:
            if self._stopping or len(self._heap) + len(self.channels) > self._max_pending:
                self.dropped += len(self.channels)
                log.error("alert for case %s dropped: the alert queue is full or closed", case.case_id)
                return
            for channel in self.channels:
                heapq.heappush(self._heap, _Delivery(self._now(), next(self._seq), channel, payload))
            self._cond.notify()

    def _next(self) -> _Delivery | None:
        with self._cond:
            while True:
                if self._stopping:
                    return None
                now = self._now()
                if self._heap and self._heap[0].due <= now:
                    self._busy += 1
                    return heapq.heappop(self._heap)
                self._cond.wait(None if not self._heap else self._heap[0].due - now)

    def _run(self) -> None:
        while (item := self._next()) is not None:
            try:
                self._deliver(item)
            finally:
                with self._cond:
                    self._busy -= 1
                    self._cond.notify_all()

    def _deliver(self, item: _Delivery) -> None:
        case_id = item.payload["case_id"]
        try:
            item.channel.send(item.payload)
        except Exception as exc:  # AlertDeliveryError, or a bug in a channel: retried the same way
            reason = str(exc) if isinstance(exc, AlertDeliveryError) else type(exc).__name__
            if item.attempt >= self._retries:
                self.failed += 1
                log.error("alert for case %s via %s failed for good: %s", case_id, item.channel.name, reason)
                return
            wait = min(MAX_BACKOFF_S, self._backoff * 2**item.attempt)
            self.retried += 1
            log.warning(
                "alert for case %s via %s failed (%s); retrying in %.0fs", case_id, item.channel.name, reason, wait
            )
            with self._cond:
                item.due, item.attempt = self._now() + wait, item.attempt + 1
                heapq.heappush(self._heap, item)
            return
        self.sent += 1
        log.info("alert for case %s sent via %s", case_id, item.channel.name)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until nothing is queued, retrying or being sent (for tests and shutdown); False on timeout."""
        deadline = self._now() + timeout
        with self._cond:
            while self._heap or self._busy:
                left = deadline - self._now()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    @property
    def pending(self) -> int:
        with self._cond:
            return len(self._heap) + self._busy

    def close(self, timeout: float = 5.0) -> None:
        """Send what is due now (within ``timeout``), then stop; alerts still waiting for a retry are logged as
        not sent (their cases stay in the queue, due times and all)."""
        deadline = self._now() + timeout
        with self._cond:
            while self._busy or (self._heap and self._heap[0].due <= self._now()):
                left = deadline - self._now()
                if left <= 0 or not self._thread.is_alive():
                    break
                self._cond.wait(left)
            self._stopping = True
            left = len(self._heap)
            self._cond.notify_all()
        self._thread.join(timeout)
        if left:
            log.error("%d alert deliveries not sent at shutdown (the cases are in the review queue)", left)
        for channel in self.channels:
            closer = getattr(channel, "close", None)
            if callable(closer):
                closer()
