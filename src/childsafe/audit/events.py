"""Typed audit events and the hash that chains them."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

GENESIS_HASH = "0" * 64


class AuditEventType(StrEnum):
    """Every kind of event the audit log accepts (a closed list, so auditors can rely on it)."""

    DECISION = "decision"
    CONSENT_CHANGE = "consent_change"
    DATA_RIGHTS = "data_rights"
    CASE_OPENED = "case_opened"
    CASE_CLAIMED = "case_claimed"
    MODERATOR_VIEW = "moderator_view"
    MODERATOR_DECISION = "moderator_decision"
    APPEAL_FILED = "appeal_filed"
    REPORT_CREATED = "report_created"
    REPORT_SUBMITTED = "report_submitted"
    LEGAL_HOLD = "legal_hold"
    CONFIG_CHANGE = "config_change"
    LOGIN = "login"
    EXPORT = "export"


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """An event to append: what happened, who did it (actor), to what (subject), with ids/hashes in ``data``."""

    type: AuditEventType
    data: dict[str, Any] = field(default_factory=dict)
    actor: str | None = None
    subject: str | None = None


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """An event as stored: its place in the chain and its hash."""

    seq: int
    id: str
    type: str
    at: datetime
    actor: str | None
    subject: str | None
    data: dict[str, Any]
    prev_hash: str
    hash: str

    def body(self) -> dict[str, Any]:
        return event_body(self.id, self.type, self.at, self.actor, self.subject, self.data)

    def to_json(self) -> dict[str, Any]:
        return {"record": "event", "seq": self.seq, **self.body(), "prev_hash": self.prev_hash, "hash": self.hash}


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, UTF-8 kept: one byte string per value, whichever database stored it."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def event_body(
    event_id: str, type_: str, at: datetime, actor: str | None, subject: str | None, data: dict[str, Any]
) -> dict[str, Any]:
    # The sequence number is deliberately not hashed: order is proven by each event naming its predecessor's
    # hash, which lets verify tell "moved" apart from "edited".
    return {
        "id": event_id,
        "type": type_,
        "at": at.isoformat(timespec="microseconds"),
        "actor": actor,
        "subject": subject,
        "data": data,
    }


def chain_hash(prev_hash: str, body: dict[str, Any]) -> str:
    """SHA-256 over the previous event's hash and the canonical JSON of this event."""
    return hashlib.sha256((prev_hash + "\n" + canonical_json(body)).encode("utf-8")).hexdigest()
