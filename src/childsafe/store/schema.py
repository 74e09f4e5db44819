"""SQLAlchemy 2 table models for the embedded store (SQLite by default, PostgreSQL by URL)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no zone, so store naive UTC)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use timezone-aware UTC")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime(), dict[str, Any]: JSON(), list[str]: JSON()}


class AppRow(Base):
    __tablename__ = "apps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    rate_limit_per_minute: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]


class ChildRow(Base):
    __tablename__ = "children"
    __table_args__ = (UniqueConstraint("app_id", "external_hash", name="uq_children_app_external"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    """Pseudonymous id (random); the app's own user id is kept only as a keyed hash."""
    app_id: Mapped[int] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"))
    external_hash: Mapped[str] = mapped_column(String(64))
    age_band: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime]


class ConversationRow(Base):
    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    app_id: Mapped[int] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"))
    child_id: Mapped[str] = mapped_column(ForeignKey("children.id", ondelete="CASCADE"), index=True)
    state: Mapped[dict[str, Any] | None]
    messages_seen: Mapped[int] = mapped_column(Integer, default=0)
    disclosed: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class DecisionRow(Base):
    __tablename__ = "decisions"
    __table_args__ = (Index("ix_decisions_created", "created_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(20))
    categories: Mapped[list[str]]
    scores: Mapped[dict[str, Any]]
    reasons: Mapped[list[str]]
    policy_version: Mapped[str] = mapped_column(String(64))
    age_band: Mapped[str] = mapped_column(String(10))
    role: Mapped[str] = mapped_column(String(20))
    content_sha256: Mapped[str | None] = mapped_column(String(64))
    excerpt: Mapped[str | None] = mapped_column(Text)
    """Redacted excerpt only (raw child text never goes in this table), sealed under the child's key
    (``childsafe.store.sealing``): erasure makes every copy unreadable."""
    app_id: Mapped[int | None] = mapped_column(ForeignKey("apps.id", ondelete="SET NULL"), index=True)
    child_id: Mapped[str | None] = mapped_column(ForeignKey("children.id", ondelete="SET NULL"), index=True)
    conversation_id: Mapped[str | None] = mapped_column(String(80), index=True)
    extra: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime]


class EscalationRow(Base):
    __tablename__ = "escalations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    decision_id: Mapped[str] = mapped_column(ForeignKey("decisions.id", ondelete="CASCADE"), unique=True)
    action: Mapped[str] = mapped_column(String(20))
    categories: Mapped[list[str]]
    status: Mapped[str] = mapped_column(String(20), default="open")
    app_id: Mapped[int | None] = mapped_column(ForeignKey("apps.id", ondelete="SET NULL"))
    child_id: Mapped[str | None] = mapped_column(ForeignKey("children.id", ondelete="SET NULL"))
    conversation_id: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime]


class MessageRow(Base):
    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_expires", "expires_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    decision_id: Mapped[str | None] = mapped_column(String(64))
    content_sha256: Mapped[str] = mapped_column(String(64))
    nonce: Mapped[bytes] = mapped_column(LargeBinary)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]

    @classmethod
    def sealed(
        cls,
        conversation_id: str,
        role: str,
        text: str,
        decision_id: str | None,
        nonce: bytes,
        ciphertext: bytes,
        now: datetime,
        retention: timedelta,
    ) -> MessageRow:
        """A row for an already-encrypted message: the plaintext leaves only its SHA-256 behind."""
        return cls(
            conversation_id=conversation_id,
            role=role,
            decision_id=decision_id,
            content_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
            nonce=nonce,
            ciphertext=ciphertext,
            created_at=now,
            expires_at=now + retention,
        )


class UpstreamErrorRow(Base):
    __tablename__ = "upstream_errors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    app_id: Mapped[int | None] = mapped_column(ForeignKey("apps.id", ondelete="SET NULL"))
    conversation_id: Mapped[str | None] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(40))
    status_code: Mapped[int] = mapped_column(Integer)
    detail: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
