"""Narrow storage interfaces, one per role.

The gateway (and later the guardian, review and audit services) depends on these protocols, never on
SQLAlchemy, so each role sees only the operations it needs and a different backend (or a test double in
plugin conformance kits) can stand in for one role without re-implementing the rest. The records are
plain frozen dataclasses: no ORM objects escape the store, so nothing lazy-loads outside a session.

Privacy rules every implementation keeps:

* API keys are stored hashed; the app's own user ids are stored as keyed hashes; a child is known
  inside childsafe by a random pseudonymous id.
* Message text is stored only when the operator turns it on, encrypted, and with an expiry; everything
  else (decisions, escalations) holds hashes, categories and redacted excerpts, the excerpts sealed under
  the child's own key (``childsafe.store.sealing``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class AppRecord:
    id: int
    name: str
    rate_limit_per_minute: int


@dataclass(frozen=True, slots=True)
class ChildRecord:
    id: str
    app_id: int
    age_band: str


@dataclass(frozen=True, slots=True)
class ConversationRecord:
    id: str
    app_id: int
    child_id: str
    state: dict[str, Any] | None
    messages_seen: int
    disclosed: bool


@dataclass(frozen=True, slots=True)
class DecisionEntry:
    """One decision as stored: what was decided and why, with hashes instead of content."""

    id: str
    kind: str
    action: str
    categories: list[str]
    scores: dict[str, float]
    reasons: list[str]
    policy_version: str
    age_band: str
    role: str
    content_sha256: str | None = None
    excerpt: str | None = None
    app_id: int | None = None
    child_id: str | None = None
    conversation_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class EscalationRecord:
    id: int
    decision_id: str
    action: str
    categories: list[str]
    status: str
    app_id: int | None
    child_id: str | None
    conversation_id: str | None


@dataclass(frozen=True, slots=True)
class StoredMessage:
    conversation_id: str
    role: str
    text: str
    decision_id: str | None
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class UpstreamErrorRecord:
    kind: str
    status_code: int
    detail: str
    app_id: int | None
    conversation_id: str | None
    created_at: datetime


class AppKeys(Protocol):
    """Apps and their API keys (hashed)."""

    def ensure(self, name: str, key: str, rate_limit_per_minute: int) -> AppRecord: ...
    def by_key(self, key: str) -> AppRecord | None: ...


class ChildProfiles(Protocol):
    """Child profiles: pseudonymous id and age band, looked up by the app's own user id."""

    def get(self, app_id: int, external_id: str) -> ChildRecord | None: ...
    def upsert(self, app_id: int, external_id: str, age_band: str) -> ChildRecord: ...
    def get_or_create(self, app_id: int, external_id: str, age_band: str) -> ChildRecord: ...


class ConversationStates(Protocol):
    """Per-conversation monitor state, read before a check and written after it."""

    def load(self, conversation_id: str) -> ConversationRecord | None: ...
    def save(self, record: ConversationRecord) -> None: ...
    def save_many(self, records: Sequence[ConversationRecord]) -> None: ...


class DecisionLog(Protocol):
    """Append-only decisions; escalate-or-worse decisions also open an escalation."""

    def record(self, entries: Sequence[DecisionEntry]) -> None: ...
    def get(self, decision_id: str) -> DecisionEntry | None: ...
    def recent(self, *, conversation_id: str | None = None, limit: int = 100) -> list[DecisionEntry]: ...
    def escalations(self, status: str = "open", limit: int = 100) -> list[EscalationRecord]: ...


class MessageVault(Protocol):
    """Encrypted message text with a retention limit (only when the operator enables it)."""

    def put(self, conversation_id: str, role: str, text: str, decision_id: str | None) -> None: ...
    def read(self, conversation_id: str) -> list[StoredMessage]: ...
    def purge_expired(self) -> int: ...


class UpstreamErrorLog(Protocol):
    """Failures of the upstream model server, recorded without any message text."""

    def record(
        self, kind: str, status_code: int, detail: str, app_id: int | None, conversation_id: str | None
    ) -> None: ...
    def recent(self, limit: int = 100) -> list[UpstreamErrorRecord]: ...
