"""Tables for human oversight: the hash-chained audit log, review cases, appeals, web users and their
sessions, incident reports.

None of these tables has a foreign key to ``children``: erasing a child must not cascade into the audit log
or into evidence preserved under a legal hold.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from childsafe.store.schema import Base


class AuditEventRow(Base):
    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    id: Mapped[str] = mapped_column(String(40), unique=True)
    type: Mapped[str] = mapped_column(String(40), index=True)
    at: Mapped[datetime]
    actor: Mapped[str | None] = mapped_column(String(200))
    subject: Mapped[str | None] = mapped_column(String(200), index=True)
    data: Mapped[dict[str, Any]]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditCheckpointRow(Base):
    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    seq: Mapped[int] = mapped_column(Integer, index=True)
    head_hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]
    key_id: Mapped[str] = mapped_column(String(32))
    signature: Mapped[str] = mapped_column(Text)


class ReviewCaseRow(Base):
    __tablename__ = "review_cases"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    source_key: Mapped[str] = mapped_column(String(120), unique=True)
    """``escalation:<decision id>`` or ``appeal:<appeal id>``: one case per source, even under concurrent imports."""
    decision_id: Mapped[str] = mapped_column(String(64), index=True)
    source: Mapped[str] = mapped_column(String(20))
    appeal_id: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), index=True)
    severity: Mapped[int] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(40))
    age_band: Mapped[str] = mapped_column(String(10))
    action: Mapped[str] = mapped_column(String(20))
    excerpt: Mapped[str | None] = mapped_column(Text)
    """The decision's redacted excerpt, sealed under the child's key (``childsafe.store.sealing``)."""
    app_id: Mapped[int | None] = mapped_column(Integer)
    child_id: Mapped[str | None] = mapped_column(String(40), index=True)
    conversation_id: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime]
    due_at: Mapped[datetime]
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    claimed_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(30))
    final_category: Mapped[str | None] = mapped_column(String(40))
    reason: Mapped[str | None] = mapped_column(Text)
    resolved_by: Mapped[str | None] = mapped_column(String(200))
    resolved_at: Mapped[datetime | None]


class AppealRow(Base):
    __tablename__ = "appeals"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    decision_id: Mapped[str] = mapped_column(String(64), index=True)
    requester: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    """The child's (or guardian's) words, sealed under the child's key (``childsafe.store.sealing``)."""
    age_band: Mapped[str] = mapped_column(String(10))
    case_id: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))
    outcome: Mapped[str | None] = mapped_column(String(30))
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]


class WebUserRow(Base):
    __tablename__ = "web_users"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    guardian_id: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime]
    disabled_at: Mapped[datetime | None]
    """When an admin disabled the account (None: active). A disabled account cannot log in and has no sessions;
    the row stays, so its name is not reused and the audit log's actor keeps meaning the same person."""


class GuardianInvitationRow(Base):
    """A one-time link for a guardian to set a password and so create their guardian login."""

    __tablename__ = "guardian_invitations"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    """SHA-256 of the token in the link; the link is shown once to the admin and never stored."""
    guardian_id: Mapped[str] = mapped_column(String(40), index=True)
    username: Mapped[str] = mapped_column(String(100))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class WebSessionRow(Base):
    """A signed-in browser session. A session cookie is honoured only while its row exists: logout, a password
    change or expiry removes it, so a cookie copied before then is refused afterwards."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    """SHA-256 of the session id in the cookie (a database reader learns no live session id)."""
    user_id: Mapped[str] = mapped_column(String(40), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)


class IncidentReportRow(Base):
    __tablename__ = "incident_reports"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(40), unique=True)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    incident_type: Mapped[str] = mapped_column(String(60))
    package: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    remote_id: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    submitted_at: Mapped[datetime | None]
    hold_until: Mapped[datetime]


class ReportEvidenceRow(Base):
    __tablename__ = "report_evidence"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    report_id: Mapped[str] = mapped_column(ForeignKey("incident_reports.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    sha256: Mapped[str] = mapped_column(String(64))
    nonce: Mapped[bytes] = mapped_column(LargeBinary)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]
    hold_until: Mapped[datetime]
