"""SQL repositories for the privacy services: guardians, consent ledger, per-child keys, healthy use, legal holds.

Each child's stored content is encrypted with the child's own random AES-256-GCM key. That key is kept
wrapped (encrypted) under a subkey of the store's master key, in ``child_keys``; erasing the child deletes
the wrapped key, after which any surviving ciphertext of that child (a stray row, a replica) cannot be
decrypted even by someone holding the master key.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Engine, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

import childsafe.store.oversight_schema  # noqa: F401  (review_cases and appeals, sealed in place below)
from childsafe.store.crypto import MessageCipher
from childsafe.store.interfaces import ChildRecord, StoredMessage
from childsafe.store.privacy_schema import (
    ChildKeyRow,
    ConsentEventRow,
    GuardianChildRow,
    GuardianRow,
    HealthySettingsRow,
    HeldItemRow,
    LegalHoldRow,
    UsageDayRow,
)
from childsafe.store.schema import Base, ChildRow, ConversationRow, DecisionRow, MessageRow, UpstreamErrorRow
from childsafe.store.sealing import SEALED_PREFIX, WordSealer, words_context

Clock = Callable[[], datetime]


def derive_subkey(master: bytes, purpose: str) -> bytes:
    """A purpose-bound 32-byte subkey of the master key (HMAC-SHA256, like the store's own subkeys)."""
    return hmac.new(master, b"childsafe/privacy/" + purpose.encode(), hashlib.sha256).digest()


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class PrivacyDb:
    """Engine, sessions, clock and the SQLite write lock for the privacy repositories."""

    def __init__(self, engine: Engine, clock: Clock, lock: AbstractContextManager[Any] | None = None) -> None:
        self.engine = engine
        self.sessions = sessionmaker(engine, expire_on_commit=False)
        self.clock = clock
        # Share the store's lock when given: two locks would let two SQLite writers in this process collide.
        self._lock: AbstractContextManager[Any] = (
            lock
            if lock is not None
            else (threading.Lock() if engine.url.get_backend_name() == "sqlite" else nullcontext())
        )

    @contextmanager
    def write(self) -> Iterator[Session]:
        with self._lock, self.sessions.begin() as s:
            yield s

    @property
    def lock(self) -> AbstractContextManager[Any]:
        """The write lock alone, for work that is not a transaction (an SQLite WAL checkpoint)."""
        return self._lock


# -- guardians ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GuardianRecord:
    id: str
    display_name: str
    created_at: datetime
    app_id: int | None = None
    """The app the guardian belongs to (None: an operator's guardian not linked to any child yet)."""


def _guardian(row: GuardianRow) -> GuardianRecord:
    return GuardianRecord(row.id, row.display_name, row.created_at, row.app_id)


class GuardianOfAnotherApp(PermissionError):
    """Linking would cross a tenant boundary: the guardian belongs to another app than the child."""


class SqlGuardians:
    """Guardian accounts (bearer token stored hashed) and the children each one is responsible for."""

    def __init__(self, db: PrivacyDb) -> None:
        self._db = db

    def create(self, display_name: str, app_id: int | None = None) -> tuple[GuardianRecord, str]:
        """A new guardian of ``app_id`` and its bearer token (returned once; only its hash is stored)."""
        token = "gdn_" + secrets.token_urlsafe(32)
        row = GuardianRow(
            id="gd_" + uuid.uuid4().hex, display_name=display_name, token_hash=hash_token(token), app_id=app_id
        )
        row.created_at = self._db.clock()
        with self._db.write() as s:
            s.add(row)
        return _guardian(row), token

    def get(self, guardian_id: str) -> GuardianRecord | None:
        with self._db.sessions() as s:
            row = s.get(GuardianRow, guardian_id)
            return None if row is None else _guardian(row)

    def by_token(self, token: str) -> GuardianRecord | None:
        with self._db.sessions() as s:
            row = s.scalars(select(GuardianRow).where(GuardianRow.token_hash == hash_token(token))).one_or_none()
            return None if row is None else _guardian(row)

    def link(self, guardian_id: str, child_id: str) -> None:
        """Make ``guardian_id`` the guardian of ``child_id`` (a child has one managing guardian).

        Guardian and child must belong to the same app: otherwise one app could hand its child's consent and
        data rights to a guardian account another app controls (:class:`GuardianOfAnotherApp`). A guardian
        without an app (created by the operator) is tied to the app of the first child linked to them."""
        with self._db.write() as s:
            guardian, child = s.get(GuardianRow, guardian_id), s.get(ChildRow, child_id)
            if guardian is not None and child is not None:
                if guardian.app_id is None:
                    guardian.app_id = child.app_id
                elif guardian.app_id != child.app_id:
                    raise GuardianOfAnotherApp("this guardian belongs to another app than this child")
            existing = s.get(GuardianChildRow, child_id)
            if existing is None:
                link = GuardianChildRow(child_id=child_id, guardian_id=guardian_id)
                link.created_at = self._db.clock()
                s.add(link)
            elif existing.guardian_id != guardian_id:
                raise PermissionError("this child already has another guardian")

    def guardian_of(self, child_id: str) -> str | None:
        with self._db.sessions() as s:
            row = s.get(GuardianChildRow, child_id)
            return None if row is None else row.guardian_id

    def children_of(self, guardian_id: str) -> list[ChildRecord]:
        q = (
            select(ChildRow)
            .join(GuardianChildRow, GuardianChildRow.child_id == ChildRow.id)
            .where(GuardianChildRow.guardian_id == guardian_id)
            .order_by(ChildRow.created_at, ChildRow.id)
        )
        with self._db.sessions() as s:
            return [ChildRecord(r.id, r.app_id, r.age_band) for r in s.scalars(q)]


@dataclass(frozen=True, slots=True)
class PrivacyProfile:
    """What the chat gate needs about a child, read in one query."""

    exists: bool
    age_band: str | None
    guardian_id: str | None
    has_consent_records: bool
    settings: HealthySettingsRecord | None


def read_profile(db: PrivacyDb, child_id: str) -> PrivacyProfile:
    has_consent = (
        select(ConsentEventRow.id).where(ConsentEventRow.child_id == child_id).limit(1).exists().label("has_consent")
    )
    q = (
        select(ChildRow.age_band, GuardianChildRow.guardian_id, HealthySettingsRow, has_consent)
        .select_from(ChildRow)
        .outerjoin(GuardianChildRow, GuardianChildRow.child_id == ChildRow.id)
        .outerjoin(HealthySettingsRow, HealthySettingsRow.child_id == ChildRow.id)
        .where(ChildRow.id == child_id)
    )
    with db.sessions() as s:
        row = s.execute(q).first()
    if row is None:
        return PrivacyProfile(False, None, None, False, None)
    band, guardian_id, hs, has = row
    settings = (
        None
        if hs is None
        else HealthySettingsRecord(
            hs.timezone, hs.daily_limit_minutes, hs.quiet_start, hs.quiet_end, hs.break_after_minutes, hs.break_minutes
        )
    )
    return PrivacyProfile(True, band, guardian_id, bool(has), settings)


# -- consent ledger ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConsentEntry:
    """One ledger row: who granted or withdrew which purpose, how, under which notice, and when."""

    id: int
    child_id: str
    guardian_id: str | None
    purpose: str
    granted: bool
    method: str
    notice_version: str
    child_assent: bool | None
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "purpose": self.purpose,
            "granted": self.granted,
            "method": self.method,
            "notice_version": self.notice_version,
            "child_assent": self.child_assent,
            "guardian_id": self.guardian_id,
            "created_at": self.created_at.isoformat(),
        }


def _consent(r: ConsentEventRow) -> ConsentEntry:
    return ConsentEntry(
        r.id, r.child_id, r.guardian_id, r.purpose, r.granted, r.method, r.notice_version, r.child_assent, r.created_at
    )


class SqlConsentLedger:
    """Append-only consent events; the newest event per purpose is in force."""

    def __init__(self, db: PrivacyDb) -> None:
        self._db = db

    def append(
        self,
        child_id: str,
        guardian_id: str | None,
        purpose: str,
        granted: bool,
        method: str,
        notice_version: str,
        child_assent: bool | None,
    ) -> ConsentEntry:
        row = ConsentEventRow(
            child_id=child_id,
            guardian_id=guardian_id,
            purpose=purpose,
            granted=granted,
            method=method,
            notice_version=notice_version,
            child_assent=child_assent,
        )
        row.created_at = self._db.clock()
        with self._db.write() as s:
            s.add(row)
            s.flush()
            return _consent(row)

    def history(self, child_id: str) -> list[ConsentEntry]:
        q = select(ConsentEventRow).where(ConsentEventRow.child_id == child_id).order_by(ConsentEventRow.id)
        with self._db.sessions() as s:
            return [_consent(r) for r in s.scalars(q)]

    def current(self, child_id: str) -> dict[str, ConsentEntry]:
        """The entry in force per purpose (ids grow monotonically, so the largest id is the newest)."""
        newest = (
            select(func.max(ConsentEventRow.id))
            .where(ConsentEventRow.child_id == child_id)
            .group_by(ConsentEventRow.purpose)
        )
        q = select(ConsentEventRow).where(ConsentEventRow.id.in_(newest))
        with self._db.sessions() as s:
            return {r.purpose: _consent(r) for r in s.scalars(q)}


# -- per-child keys ------------------------------------------------------------------------------------


class ChildKeyring:
    """Per-child AES-256-GCM content keys, stored wrapped under a master subkey."""

    def __init__(self, db: PrivacyDb, master_key: bytes) -> None:
        self._db = db
        self._wrap = AESGCM(derive_subkey(master_key, "child-keys"))

    def _unwrap(self, row: ChildKeyRow) -> bytes:
        return self._wrap.decrypt(row.nonce, row.wrapped_key, row.child_id.encode())

    def get(self, child_id: str) -> bytes | None:
        with self._db.sessions() as s:
            row = s.get(ChildKeyRow, child_id)
            return None if row is None else self._unwrap(row)

    def get_or_create(self, child_id: str) -> bytes:
        key = self.get(child_id)
        if key is not None:
            return key
        fresh = AESGCM.generate_key(bit_length=256)
        nonce = os.urandom(12)
        row = ChildKeyRow(
            child_id=child_id, nonce=nonce, wrapped_key=self._wrap.encrypt(nonce, fresh, child_id.encode())
        )
        row.created_at = self._db.clock()
        try:
            with self._db.write() as s:
                s.add(row)
        except IntegrityError:
            # A concurrent writer created the key first: use theirs.
            key = self.get(child_id)
            if key is None:
                raise
            return key
        return fresh

    def destroy(self, child_id: str) -> bool:
        with self._db.write() as s:
            result = s.execute(delete(ChildKeyRow).where(ChildKeyRow.child_id == child_id))
            return bool(getattr(result, "rowcount", 0))


def encrypt_with(key: bytes, text: str, associated: str) -> tuple[bytes, bytes]:
    nonce = os.urandom(12)
    return nonce, AESGCM(key).encrypt(nonce, text.encode("utf-8"), associated.encode("utf-8"))


def decrypt_with(key: bytes, nonce: bytes, ciphertext: bytes, associated: str) -> str | None:
    """Plaintext, or None when this key does not open the ciphertext."""
    try:
        return AESGCM(key).decrypt(nonce, ciphertext, associated.encode("utf-8")).decode("utf-8")
    except InvalidTag:
        return None


class ChildKeyedMessageVault:
    """A ``MessageVault`` that encrypts each message with its child's own key, and stores only with consent.

    ``may_store(child_id)`` is asked on every write, so a withdrawal of the ``conversation_storage`` purpose
    stops storage from the next message on. Rows written earlier with the store-wide key still read."""

    def __init__(
        self,
        db: PrivacyDb,
        keyring: ChildKeyring,
        retention: timedelta,
        may_store: Callable[[str], bool],
        legacy: MessageCipher | None = None,
    ) -> None:
        self._db = db
        self._keys = keyring
        self._retention = retention
        self._may_store = may_store
        self._legacy = legacy

    def _child_of(self, s: Session, conversation_id: str) -> str | None:
        return s.scalar(select(ConversationRow.child_id).where(ConversationRow.id == conversation_id))

    def put(self, conversation_id: str, role: str, text: str, decision_id: str | None) -> None:
        with self._db.sessions() as s:
            child_id = self._child_of(s, conversation_id)
        if child_id is None or not self._may_store(child_id):
            return
        nonce, ct = encrypt_with(self._keys.get_or_create(child_id), text, conversation_id)
        now = self._db.clock()
        with self._db.write() as s:
            s.add(MessageRow.sealed(conversation_id, role, text, decision_id, nonce, ct, now, self._retention))

    def _decrypt(self, key: bytes | None, row: MessageRow) -> str | None:
        if key is not None:
            text = decrypt_with(key, row.nonce, row.ciphertext, row.conversation_id)
            if text is not None:
                return text
        if self._legacy is not None:
            try:
                return self._legacy.decrypt(row.nonce, row.ciphertext, row.conversation_id)
            except InvalidTag:
                return None
        return None

    def read(self, conversation_id: str) -> list[StoredMessage]:
        now = self._db.clock()
        with self._db.sessions() as s:
            child_id = self._child_of(s, conversation_id)
            key = self._keys.get(child_id) if child_id else None
            q = (
                select(MessageRow)
                .where(MessageRow.conversation_id == conversation_id, MessageRow.expires_at > now)
                .order_by(MessageRow.id)
            )
            out: list[StoredMessage] = []
            for r in s.scalars(q):
                text = self._decrypt(key, r)
                if text is not None:
                    out.append(
                        StoredMessage(r.conversation_id, r.role, text, r.decision_id, r.created_at, r.expires_at)
                    )
            return out

    def purge_expired(self) -> int:
        with self._db.write() as s:
            result = s.execute(delete(MessageRow).where(MessageRow.expires_at <= self._db.clock()))
            return int(getattr(result, "rowcount", 0) or 0)


# -- healthy use ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HealthySettingsRecord:
    timezone: str = "UTC"
    daily_limit_minutes: int | None = None
    quiet_start: str | None = None
    quiet_end: str | None = None
    break_after_minutes: int | None = None
    break_minutes: int = 10

    def to_dict(self) -> dict[str, Any]:
        return {
            "timezone": self.timezone,
            "daily_limit_minutes": self.daily_limit_minutes,
            "quiet_start": self.quiet_start,
            "quiet_end": self.quiet_end,
            "break_after_minutes": self.break_after_minutes,
            "break_minutes": self.break_minutes,
        }


@dataclass(frozen=True, slots=True)
class UsageRecord:
    day: str
    seconds: int
    session_start_at: datetime
    last_seen_at: datetime


class SqlHealthyUse:
    """Guardian-set limits per child and the child's usage per local day."""

    def __init__(self, db: PrivacyDb) -> None:
        self._db = db

    def settings(self, child_id: str) -> HealthySettingsRecord | None:
        with self._db.sessions() as s:
            r = s.get(HealthySettingsRow, child_id)
            if r is None:
                return None
            return HealthySettingsRecord(
                r.timezone, r.daily_limit_minutes, r.quiet_start, r.quiet_end, r.break_after_minutes, r.break_minutes
            )

    def set_settings(self, child_id: str, settings: HealthySettingsRecord) -> None:
        values = settings.to_dict()
        with self._db.write() as s:
            row = s.get(HealthySettingsRow, child_id)
            if row is None:
                row = HealthySettingsRow(child_id=child_id, **values)
                s.add(row)
            else:
                for k, v in values.items():
                    setattr(row, k, v)
            row.updated_at = self._db.clock()

    def usage(self, child_id: str, day: str) -> UsageRecord | None:
        with self._db.sessions() as s:
            r = s.get(UsageDayRow, (child_id, day))
            return None if r is None else UsageRecord(r.day, r.seconds, r.session_start_at, r.last_seen_at)

    def latest_usage(self, child_id: str) -> UsageRecord | None:
        q = select(UsageDayRow).where(UsageDayRow.child_id == child_id).order_by(UsageDayRow.last_seen_at.desc())
        with self._db.sessions() as s:
            r = s.scalars(q.limit(1)).first()
            return None if r is None else UsageRecord(r.day, r.seconds, r.session_start_at, r.last_seen_at)

    def put_usage(self, child_id: str, usage: UsageRecord) -> None:
        for _attempt in range(3):  # two requests of one child may both create the day's row; the loser updates
            try:
                with self._db.write() as s:
                    row = s.get(UsageDayRow, (child_id, usage.day))
                    if row is None:
                        s.add(
                            UsageDayRow(
                                child_id=child_id,
                                day=usage.day,
                                seconds=usage.seconds,
                                session_start_at=usage.session_start_at,
                                last_seen_at=usage.last_seen_at,
                            )
                        )
                    else:
                        row.seconds = max(row.seconds, usage.seconds)
                        row.session_start_at = usage.session_start_at
                        row.last_seen_at = max(row.last_seen_at, usage.last_seen_at)
                return
            except IntegrityError:
                continue

    def all_usage(self, child_id: str) -> list[UsageRecord]:
        q = select(UsageDayRow).where(UsageDayRow.child_id == child_id).order_by(UsageDayRow.day)
        with self._db.sessions() as s:
            return [UsageRecord(r.day, r.seconds, r.session_start_at, r.last_seen_at) for r in s.scalars(q)]


# -- child data: export, erasure, holds, retention ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HoldRecord:
    id: str
    child_id: str
    reference: str
    reason: str
    created_by: str
    created_at: datetime
    released_at: datetime | None
    items: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "reference": self.reference,
            "reason": self.reason,
            "created_by": self.created_by,
            "created_at": self.created_at.isoformat(),
            "released_at": self.released_at.isoformat() if self.released_at else None,
            "items": self.items,
        }


def _decision_dict(r: DecisionRow, excerpt: str | None) -> dict[str, Any]:
    return {
        "id": r.id,
        "kind": r.kind,
        "action": r.action,
        "categories": list(r.categories),
        "reasons": list(r.reasons),
        "policy_version": r.policy_version,
        "age_band": r.age_band,
        "role": r.role,
        "content_sha256": r.content_sha256,
        "excerpt": excerpt,
        "conversation_id": r.conversation_id,
        "created_at": r.created_at.isoformat(),
    }


class SqlChildData:
    """Everything stored about one child: read for export, copy under a legal hold, erase, purge by age."""

    def __init__(
        self,
        db: PrivacyDb,
        keyring: ChildKeyring,
        master_key: bytes,
        legacy: MessageCipher | None,
        sealer: WordSealer | None = None,
    ) -> None:
        self._db = db
        self._keys = keyring
        self._hold_key = derive_subkey(master_key, "legal-hold")
        self._legacy = legacy
        self._sealer = sealer or WordSealer(keyring, master_key)

    def _decisions(self, s: Session, conv_ids: list[str], child_id: str) -> list[dict[str, Any]]:
        """The child's decisions as plain data, excerpts opened with the child's key."""
        key = self._keys.get(child_id)
        return [
            _decision_dict(
                r, self._sealer.open(r.child_id, r.excerpt, words_context("decisions", "excerpt", r.id), key=key)
            )
            for r in s.scalars(self._decisions_q(conv_ids, child_id))
        ]

    def child(self, child_id: str) -> ChildRecord | None:
        with self._db.sessions() as s:
            r = s.get(ChildRow, child_id)
            return None if r is None else ChildRecord(r.id, r.app_id, r.age_band)

    def child_created_at(self, child_id: str) -> datetime | None:
        with self._db.sessions() as s:
            r = s.get(ChildRow, child_id)
            return None if r is None else r.created_at

    def set_age_band(self, child_id: str, band: str) -> bool:
        with self._db.write() as s:
            result = s.execute(update(ChildRow).where(ChildRow.id == child_id).values(age_band=band))
            return bool(getattr(result, "rowcount", 0))

    def conversation_ids(self, s: Session, child_id: str) -> list[str]:
        return list(s.scalars(select(ConversationRow.id).where(ConversationRow.child_id == child_id)))

    def _decisions_q(self, conv_ids: list[str], child_id: str) -> Any:
        cond = DecisionRow.child_id == child_id
        if conv_ids:
            cond = or_(cond, DecisionRow.conversation_id.in_(conv_ids))
        return select(DecisionRow).where(cond).order_by(DecisionRow.created_at, DecisionRow.id)

    def _messages(self, s: Session, child_id: str, conv_ids: list[str]) -> list[tuple[MessageRow, str | None]]:
        if not conv_ids:
            return []
        key = self._keys.get(child_id)
        rows = s.scalars(select(MessageRow).where(MessageRow.conversation_id.in_(conv_ids)).order_by(MessageRow.id))
        out: list[tuple[MessageRow, str | None]] = []
        for r in rows:
            text = decrypt_with(key, r.nonce, r.ciphertext, r.conversation_id) if key else None
            if text is None and self._legacy is not None:
                try:
                    text = self._legacy.decrypt(r.nonce, r.ciphertext, r.conversation_id)
                except InvalidTag:
                    text = None
            out.append((r, text))
        return out

    def collect(self, child_id: str) -> dict[str, Any]:
        """Conversations, messages (decrypted), decisions and usage of the child, as plain data."""
        with self._db.sessions() as s:
            conv_ids = self.conversation_ids(s, child_id)
            convs = s.scalars(select(ConversationRow).where(ConversationRow.child_id == child_id)).all()
            messages = self._messages(s, child_id, conv_ids)
            decisions = self._decisions(s, conv_ids, child_id)
            return {
                "conversations": [
                    {
                        "id": c.id,
                        "messages_seen": c.messages_seen,
                        "risk_state": c.state,
                        "created_at": c.created_at.isoformat(),
                        "updated_at": c.updated_at.isoformat(),
                    }
                    for c in convs
                ],
                "messages": [
                    {
                        "conversation_id": r.conversation_id,
                        "role": r.role,
                        "text": text,
                        "readable": text is not None,
                        "content_sha256": r.content_sha256,
                        "created_at": r.created_at.isoformat(),
                        "expires_at": r.expires_at.isoformat(),
                    }
                    for r, text in messages
                ],
                "decisions": decisions,
            }

    # legal holds
    def create_hold(self, child_id: str, reference: str, reason: str, created_by: str) -> HoldRecord:
        """Copy the child's decisions and stored messages into a hold that survives erasure."""
        hold_id = "hold_" + uuid.uuid4().hex
        now = self._db.clock()
        aead = AESGCM(self._hold_key)
        with self._db.sessions() as s:
            conv_ids = self.conversation_ids(s, child_id)
            messages = self._messages(s, child_id, conv_ids)
            decisions = self._decisions(s, conv_ids, child_id)
        items: list[HeldItemRow] = []
        for d in decisions:
            # the excerpt is the child's words: like message text, it is kept encrypted under the hold key
            excerpt: str | None = d.pop("excerpt")
            nonce = sealed = None
            if excerpt is not None:
                nonce = os.urandom(12)
                sealed = aead.encrypt(nonce, excerpt.encode("utf-8"), hold_id.encode())
            items.append(
                HeldItemRow(
                    kind="decision",
                    item_ref=d["id"],
                    content_sha256=d["content_sha256"],
                    record=d,
                    nonce=nonce,
                    ciphertext=sealed,
                    created_at=now,
                )
            )
        for r, text in messages:
            if text is None:
                continue
            nonce = os.urandom(12)
            items.append(
                HeldItemRow(
                    kind="message",
                    item_ref=str(r.id),
                    content_sha256=r.content_sha256,
                    record={
                        "conversation_id": r.conversation_id,
                        "role": r.role,
                        "created_at": r.created_at.isoformat(),
                    },
                    nonce=nonce,
                    ciphertext=aead.encrypt(nonce, text.encode("utf-8"), hold_id.encode()),
                    created_at=now,
                )
            )
        with self._db.write() as s:
            hold = LegalHoldRow(
                id=hold_id, child_id=child_id, reference=reference, reason=reason, created_by=created_by
            )
            hold.created_at = now
            hold.released_at = None
            s.add(hold)
            s.flush()
            for it in items:
                it.hold_id = hold_id
                s.add(it)
        return HoldRecord(hold_id, child_id, reference, reason, created_by, now, None, len(items))

    def release_hold(self, hold_id: str) -> bool:
        """End a hold: its copied evidence is deleted, the hold record itself is kept as the trail."""
        with self._db.write() as s:
            hold = s.get(LegalHoldRow, hold_id)
            if hold is None or hold.released_at is not None:
                return False
            hold.released_at = self._db.clock()
            s.execute(delete(HeldItemRow).where(HeldItemRow.hold_id == hold_id))
            return True

    def holds(self, child_id: str) -> list[HoldRecord]:
        counts = (
            select(HeldItemRow.hold_id, func.count(HeldItemRow.id).label("n")).group_by(HeldItemRow.hold_id).subquery()
        )
        q = (
            select(LegalHoldRow, counts.c.n)
            .outerjoin(counts, counts.c.hold_id == LegalHoldRow.id)
            .where(LegalHoldRow.child_id == child_id)
            .order_by(LegalHoldRow.created_at, LegalHoldRow.id)
        )
        with self._db.sessions() as s:
            return [
                HoldRecord(
                    h.id, h.child_id, h.reference, h.reason, h.created_by, h.created_at, h.released_at, int(n or 0)
                )
                for h, n in s.execute(q)
            ]

    def held_items(self, hold_id: str) -> list[dict[str, Any]]:
        """The evidence under a hold, message text decrypted with the hold key (for the incident report)."""
        aead = AESGCM(self._hold_key)
        q = select(HeldItemRow).where(HeldItemRow.hold_id == hold_id).order_by(HeldItemRow.id)
        with self._db.sessions() as s:
            out: list[dict[str, Any]] = []
            for it in s.scalars(q):
                item: dict[str, Any] = {
                    "kind": it.kind,
                    "ref": it.item_ref,
                    "content_sha256": it.content_sha256,
                    "record": it.record,
                }
                if it.nonce is not None and it.ciphertext is not None:
                    text = aead.decrypt(it.nonce, it.ciphertext, hold_id.encode()).decode("utf-8")
                    if it.kind == "decision":
                        item["record"] = {**(it.record or {}), "excerpt": text}
                    else:
                        item["text"] = text
                out.append(item)
            return out

    def erase(self, child_id: str) -> dict[str, int]:
        """Delete every row about the child and destroy its key; legal holds are separate and stay."""
        with self._db.write() as s:
            conv_ids = self.conversation_ids(s, child_id)
            counts: dict[str, int] = {}

            def run(name: str, stmt: Any) -> None:
                counts[name] = int(getattr(s.execute(stmt), "rowcount", 0) or 0)

            if conv_ids:
                run("messages", delete(MessageRow).where(MessageRow.conversation_id.in_(conv_ids)))
                run("upstream_errors", delete(UpstreamErrorRow).where(UpstreamErrorRow.conversation_id.in_(conv_ids)))
            cond = DecisionRow.child_id == child_id
            if conv_ids:
                cond = or_(cond, DecisionRow.conversation_id.in_(conv_ids))
            # escalations cascade from their decisions
            run("decisions", delete(DecisionRow).where(cond))
            run("conversations", delete(ConversationRow).where(ConversationRow.child_id == child_id))
            run("consent_events", delete(ConsentEventRow).where(ConsentEventRow.child_id == child_id))
            run("usage_days", delete(UsageDayRow).where(UsageDayRow.child_id == child_id))
            run("healthy_settings", delete(HealthySettingsRow).where(HealthySettingsRow.child_id == child_id))
            run("guardian_children", delete(GuardianChildRow).where(GuardianChildRow.child_id == child_id))
            run("child_keys", delete(ChildKeyRow).where(ChildKeyRow.child_id == child_id))
            run("children", delete(ChildRow).where(ChildRow.id == child_id))
        return counts

    def scrub(self) -> bool:
        """After an erasure: leave no erased bytes in the database files (SQLite; a no-op elsewhere).

        Every SQLite connection runs with ``secure_delete`` on (``childsafe.store.database``), so deleted rows
        are overwritten in the pages that held them; but until a checkpoint, the write-ahead log still holds
        page images with the deleted rows (the wrapped child key among them). A TRUNCATE checkpoint copies the
        log into the database and empties the file. False when readers kept the checkpoint from completing
        (the next checkpoint finishes it)."""
        if self._db.engine.url.get_backend_name() != "sqlite":
            return True
        with self._db.lock, self._db.engine.connect() as c:
            row = c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").first()
        return row is None or not row[0]

    def seal_legacy_words(self, batch: int = 500) -> int:
        """Seal, in place, excerpts and appeal reasons stored in plaintext by a version before sealing.

        Run by the retention job; each run seals up to ``batch`` rows per column, so an upgrade converges
        within a few runs without one long transaction. Returns the rows sealed."""
        decisions = Base.metadata.tables["decisions"]
        cases = Base.metadata.tables["review_cases"]
        appeals = Base.metadata.tables["appeals"]
        sealed = self._seal_column(decisions, decisions.c.excerpt, decisions.c.child_id, "decisions", batch)
        sealed += self._seal_column(cases, cases.c.excerpt, cases.c.child_id, "review_cases", batch)
        child_of_appeal = (
            select(cases.c.child_id).where(cases.c.id == appeals.c.case_id).scalar_subquery().label("child_id")
        )
        sealed += self._seal_column(appeals, appeals.c.reason, child_of_appeal, "appeals", batch)
        return sealed

    def _seal_column(self, t: Any, col: Any, child_col: Any, name: str, batch: int) -> int:
        q = select(t.c.id, child_col, col).where(col.is_not(None), col.not_like(SEALED_PREFIX + "%")).limit(batch)
        with self._db.sessions() as s:
            rows = s.execute(q).all()
        updates: list[tuple[str, str, str | None]] = []
        for row_id, child_id, value in rows:
            key = self._sealer.key_for(child_id)
            if child_id is not None and key is None:  # the child is gone: its words must not stay readable
                updates.append((row_id, value, None if col.nullable else ""))
                continue
            context = words_context(name, col.name, row_id)
            updates.append((row_id, value, self._sealer.seal(child_id, value, context, key=key)))
        if not updates:
            return 0
        with self._db.write() as s:
            for row_id, old, new in updates:
                # only where the plaintext is unchanged: a value written meanwhile is never sealed twice
                s.execute(update(t).where(t.c.id == row_id, col == old).values({col.name: new}))
        return len(updates)

    def purge(self, cutoffs: dict[str, datetime]) -> dict[str, int]:
        """Delete rows older than each data kind's cutoff (held evidence is never touched)."""
        counts: dict[str, int] = {}
        with self._db.write() as s:

            def run(name: str, stmt: Any) -> None:
                counts[name] = int(getattr(s.execute(stmt), "rowcount", 0) or 0)

            if "messages" in cutoffs:
                # stored text: whichever comes first, its own expiry or the retention cutoff
                run(
                    "messages",
                    delete(MessageRow).where(
                        or_(MessageRow.expires_at <= self._db.clock(), MessageRow.created_at < cutoffs["messages"])
                    ),
                )
            if "decisions" in cutoffs:
                run("decisions", delete(DecisionRow).where(DecisionRow.created_at < cutoffs["decisions"]))
            if "conversations" in cutoffs:
                run(
                    "conversations",
                    delete(ConversationRow).where(ConversationRow.updated_at < cutoffs["conversations"]),
                )
            if "usage" in cutoffs:
                run("usage", delete(UsageDayRow).where(UsageDayRow.last_seen_at < cutoffs["usage"]))
            if "upstream_errors" in cutoffs:
                run(
                    "upstream_errors",
                    delete(UpstreamErrorRow).where(UpstreamErrorRow.created_at < cutoffs["upstream_errors"]),
                )
        return counts
