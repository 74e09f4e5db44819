"""Tables for the privacy services: guardians, consent ledger, per-child keys, healthy use, legal holds."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from childsafe.store.schema import Base


class GuardianRow(Base):
    __tablename__ = "guardians"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    """SHA-256 of the guardian's bearer token; the token itself is shown once and never stored."""
    created_at: Mapped[datetime]
    app_id: Mapped[int | None] = mapped_column(Integer, index=True)
    """The app (tenant) the guardian belongs to: only that app's children can be linked to them. None for a
    guardian created by the operator (CLI) and not yet linked; the first link ties them to the child's app."""


class GuardianChildRow(Base):
    __tablename__ = "guardian_children"

    child_id: Mapped[str] = mapped_column(ForeignKey("children.id", ondelete="CASCADE"), primary_key=True)
    guardian_id: Mapped[str] = mapped_column(ForeignKey("guardians.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]


class ConsentEventRow(Base):
    """Append-only ledger: the newest row per (child, purpose) is the current state."""

    __tablename__ = "consent_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    child_id: Mapped[str] = mapped_column(ForeignKey("children.id", ondelete="CASCADE"), index=True)
    guardian_id: Mapped[str | None] = mapped_column(ForeignKey("guardians.id", ondelete="SET NULL"))
    purpose: Mapped[str] = mapped_column(String(40))
    granted: Mapped[bool] = mapped_column(Boolean)
    method: Mapped[str] = mapped_column(String(40))
    notice_version: Mapped[str] = mapped_column(String(40))
    child_assent: Mapped[bool | None] = mapped_column(Boolean)
    created_at: Mapped[datetime]


class ChildKeyRow(Base):
    """The child's content key, wrapped with the store's master key; deleting the row shreds the content."""

    __tablename__ = "child_keys"

    child_id: Mapped[str] = mapped_column(ForeignKey("children.id", ondelete="CASCADE"), primary_key=True)
    nonce: Mapped[bytes] = mapped_column(LargeBinary)
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]


class HealthySettingsRow(Base):
    __tablename__ = "healthy_settings"

    child_id: Mapped[str] = mapped_column(ForeignKey("children.id", ondelete="CASCADE"), primary_key=True)
    timezone: Mapped[str] = mapped_column(String(64))
    daily_limit_minutes: Mapped[int | None] = mapped_column(Integer)
    quiet_start: Mapped[str | None] = mapped_column(String(5))
    quiet_end: Mapped[str | None] = mapped_column(String(5))
    break_after_minutes: Mapped[int | None] = mapped_column(Integer)
    break_minutes: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime]


class UsageDayRow(Base):
    """Minutes of use per child per local day, and the current continuous session."""

    __tablename__ = "usage_days"

    child_id: Mapped[str] = mapped_column(ForeignKey("children.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    seconds: Mapped[int] = mapped_column(Integer)
    session_start_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]


class LegalHoldRow(Base):
    """A legal hold: no foreign key to the child, so it outlives the child's erasure by design."""

    __tablename__ = "legal_holds"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    child_id: Mapped[str] = mapped_column(String(40), index=True)
    reference: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    released_at: Mapped[datetime | None]


class HeldItemRow(Base):
    """Evidence copied under a hold (message text re-encrypted with the hold key, decisions as records)."""

    __tablename__ = "held_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    hold_id: Mapped[str] = mapped_column(ForeignKey("legal_holds.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    item_ref: Mapped[str] = mapped_column(String(80))
    content_sha256: Mapped[str | None] = mapped_column(String(64))
    record: Mapped[dict[str, Any] | None]
    nonce: Mapped[bytes | None] = mapped_column(LargeBinary)
    ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]
