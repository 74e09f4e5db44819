"""SQLAlchemy implementations of the store's role interfaces."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from childsafe.store.crypto import MessageCipher, Pseudonymizer, hash_api_key
from childsafe.store.interfaces import (
    AppRecord,
    ChildRecord,
    ConversationRecord,
    DecisionEntry,
    EscalationRecord,
    StoredMessage,
    UpstreamErrorRecord,
)
from childsafe.store.schema import (
    AppRow,
    Base,
    ChildRow,
    DecisionRow,
    EscalationRow,
    MessageRow,
    UpstreamErrorRow,
)
from childsafe.store.sealing import WordSealer, words_context

Clock = Callable[[], datetime]
ESCALATING_ACTIONS = frozenset({"escalate", "report"})


class Db:
    """Engine, sessions and clock shared by the repositories, plus the write discipline.

    SQLite allows one writer at a time and makes a second one sleep-and-retry (milliseconds at a time), so
    on SQLite every write transaction in this process is serialised by a lock instead; PostgreSQL locks rows
    itself and needs none."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine = engine
        self.sessions = sessionmaker(engine, expire_on_commit=False)
        self.clock = clock
        self._lock: AbstractContextManager[Any] = (
            threading.RLock() if engine.url.get_backend_name() == "sqlite" else nullcontext()
        )

    @property
    def write_lock(self) -> AbstractContextManager[Any]:
        """The lock serialising SQLite writers in this process (a no-op context on PostgreSQL)."""
        return self._lock

    @contextmanager
    def write_session(self) -> Iterator[Session]:
        with self._lock, self.sessions.begin() as s:
            yield s

    @contextmanager
    def write(self) -> Iterator[Connection]:
        with self._lock, self.engine.begin() as c:
            yield c


def _app(row: AppRow) -> AppRecord:
    return AppRecord(id=row.id, name=row.name, rate_limit_per_minute=row.rate_limit_per_minute)


def _child(row: ChildRow) -> ChildRecord:
    return ChildRecord(id=row.id, app_id=row.app_id, age_band=row.age_band)


class SqlAppKeys:
    """Apps keyed by the SHA-256 of their API key."""

    def __init__(self, db: Db) -> None:
        self._db = db
        self._sessions = db.sessions
        self._clock = db.clock

    def ensure(self, name: str, key: str, rate_limit_per_minute: int) -> AppRecord:
        key_hash = hash_api_key(key)
        with self._db.write_session() as s:
            row = s.scalars(select(AppRow).where(AppRow.name == name)).one_or_none()
            if row is None:
                row = AppRow(name=name, key_hash=key_hash, rate_limit_per_minute=rate_limit_per_minute)
                row.created_at = self._clock()
                s.add(row)
            else:
                row.key_hash = key_hash
                row.rate_limit_per_minute = rate_limit_per_minute
            s.flush()
            return _app(row)

    def by_key(self, key: str) -> AppRecord | None:
        with self._sessions() as s:
            row = s.scalars(select(AppRow).where(AppRow.key_hash == hash_api_key(key))).one_or_none()
            return None if row is None else _app(row)


class SqlChildProfiles:
    """Child profiles; the app's user id is kept only as a keyed hash scoped to the app."""

    def __init__(self, db: Db, pseudonymize: Pseudonymizer) -> None:
        self._db = db
        self._sessions = db.sessions
        self._clock = db.clock
        self._pseudonymize = pseudonymize

    def _hash(self, app_id: int, external_id: str) -> str:
        return self._pseudonymize(f"app:{app_id}", external_id)

    def get(self, app_id: int, external_id: str) -> ChildRecord | None:
        with self._sessions() as s:
            ext = self._hash(app_id, external_id)
            q = select(ChildRow).where(ChildRow.app_id == app_id, ChildRow.external_hash == ext)
            row = s.scalars(q).one_or_none()
            return None if row is None else _child(row)

    def upsert(self, app_id: int, external_id: str, age_band: str) -> ChildRecord:
        return self._write(app_id, external_id, age_band, overwrite=True)

    def get_or_create(self, app_id: int, external_id: str, age_band: str) -> ChildRecord:
        return self._write(app_id, external_id, age_band, overwrite=False)

    def _write(self, app_id: int, external_id: str, age_band: str, *, overwrite: bool) -> ChildRecord:
        ext = self._hash(app_id, external_id)
        for _attempt in range(3):  # a concurrent creator may win the unique constraint; then re-read
            try:
                with self._db.write_session() as s:
                    row = s.scalars(
                        select(ChildRow).where(ChildRow.app_id == app_id, ChildRow.external_hash == ext)
                    ).one_or_none()
                    if row is None:
                        row = ChildRow(id="ch_" + uuid.uuid4().hex, app_id=app_id, external_hash=ext, age_band=age_band)
                        row.created_at = self._clock()
                        s.add(row)
                    elif overwrite:
                        row.age_band = age_band
                    s.flush()
                    return _child(row)
            except IntegrityError:
                continue
        raise RuntimeError("could not create child profile after concurrent retries")


class SqlConversationStates:
    """Monitor state per conversation, upserted after every checked turn.

    Read and written with Core statements rather than the ORM: this runs twice per chat request."""

    def __init__(self, db: Db) -> None:
        self._db = db
        self._engine = db.engine
        self._clock = db.clock
        self._table = Base.metadata.tables["conversations"]

    def load(self, conversation_id: str) -> ConversationRecord | None:
        t = self._table
        q = select(t.c.id, t.c.app_id, t.c.child_id, t.c.state, t.c.messages_seen, t.c.disclosed).where(
            t.c.id == conversation_id
        )
        with self._engine.connect() as c:
            row = c.execute(q).first()
        if row is None:
            return None
        return ConversationRecord(
            id=row.id,
            app_id=row.app_id,
            child_id=row.child_id,
            state=row.state,
            messages_seen=row.messages_seen,
            disclosed=row.disclosed,
        )

    def save(self, record: ConversationRecord) -> None:
        self.save_many([record])

    def save_many(self, records: Sequence[ConversationRecord]) -> None:
        """Upsert many states in one transaction; a record whose id belongs to another child raises."""
        if not records:
            return
        t = self._table
        now = self._clock()
        for _attempt in range(3):
            try:
                with self._db.write() as c:
                    for r in records:
                        values = {"state": r.state, "messages_seen": r.messages_seen, "disclosed": r.disclosed}
                        updated = c.execute(
                            update(t)
                            .where(t.c.id == r.id, t.c.app_id == r.app_id, t.c.child_id == r.child_id)
                            .values(**values, updated_at=now)
                        )
                        if not updated.rowcount:
                            c.execute(
                                insert(t).values(
                                    id=r.id,
                                    app_id=r.app_id,
                                    child_id=r.child_id,
                                    created_at=now,
                                    updated_at=now,
                                    **values,
                                )
                            )
                return
            except IntegrityError:
                # Either a concurrent first save won (the retry updates) or an id belongs to another child.
                for r in records:
                    owner = self.load(r.id)
                    if owner is not None and (owner.child_id != r.child_id or owner.app_id != r.app_id):
                        raise PermissionError("conversation belongs to another child") from None
        raise RuntimeError("could not save conversation state after concurrent retries")


def _entry(row: DecisionRow, sealer: WordSealer) -> DecisionEntry:
    return DecisionEntry(
        id=row.id,
        kind=row.kind,
        action=row.action,
        categories=list(row.categories),
        scores=dict(row.scores),
        reasons=list(row.reasons),
        policy_version=row.policy_version,
        age_band=row.age_band,
        role=row.role,
        content_sha256=row.content_sha256,
        excerpt=sealer.open(row.child_id, row.excerpt, words_context("decisions", "excerpt", row.id)),
        app_id=row.app_id,
        child_id=row.child_id,
        conversation_id=row.conversation_id,
        extra=dict(row.extra or {}),
        created_at=row.created_at,
    )


class SqlDecisionLog:
    """Decisions (append-only) and the escalations opened by escalate/report decisions.

    The excerpt is stored sealed (``childsafe.store.sealing``) under the child's key and opened on read: an
    erased child's excerpts read as None."""

    def __init__(self, db: Db, sealer: WordSealer) -> None:
        self._db = db
        self._engine = db.engine
        self._sessions = db.sessions
        self._clock = db.clock
        self.sealer = sealer

    def _sealed_excerpts(self, entries: Sequence[DecisionEntry]) -> dict[str, str | None]:
        """Each entry's excerpt, sealed. Keys are looked up (or created) before the write transaction: creating
        one inside it would be a second SQLite writer. A child erased meanwhile gets no excerpt stored."""
        keys: dict[str, bytes | None] = {}
        out: dict[str, str | None] = {}
        for e in entries:
            if e.excerpt is None:
                out[e.id] = None
                continue
            if e.child_id is not None and e.child_id not in keys:
                keys[e.child_id] = self.sealer.key_for(e.child_id)
            key = keys.get(e.child_id) if e.child_id is not None else None
            if e.child_id is not None and key is None:
                out[e.id] = None
                continue
            out[e.id] = self.sealer.seal(e.child_id, e.excerpt, words_context("decisions", "excerpt", e.id), key=key)
        return out

    def record(self, entries: Sequence[DecisionEntry]) -> None:
        """Insert new decisions in one statement (ids already stored are skipped, so replays are harmless)."""
        if not entries:
            return
        now = self._clock()
        decisions = Base.metadata.tables["decisions"]
        escalations = Base.metadata.tables["escalations"]
        unique = list({e.id: e for e in entries}.values())
        excerpts = self._sealed_excerpts(unique)
        with self._db.write() as c:
            existing = set(
                c.execute(select(decisions.c.id).where(decisions.c.id.in_([e.id for e in unique]))).scalars()
            )
            fresh = [e for e in unique if e.id not in existing]
            if not fresh:
                return
            c.execute(
                insert(decisions),
                [
                    {
                        "id": e.id,
                        "kind": e.kind,
                        "action": e.action,
                        "categories": list(e.categories),
                        "scores": dict(e.scores),
                        "reasons": list(e.reasons),
                        "policy_version": e.policy_version,
                        "age_band": e.age_band,
                        "role": e.role,
                        "content_sha256": e.content_sha256,
                        "excerpt": excerpts[e.id],
                        "app_id": e.app_id,
                        "child_id": e.child_id,
                        "conversation_id": e.conversation_id,
                        "extra": dict(e.extra) or None,
                        "created_at": e.created_at or now,
                    }
                    for e in fresh
                ],
            )
            escalating = [e for e in fresh if e.action in ESCALATING_ACTIONS]
            if escalating:
                c.execute(
                    insert(escalations),
                    [
                        {
                            "decision_id": e.id,
                            "action": e.action,
                            "categories": list(e.categories),
                            "status": "open",
                            "app_id": e.app_id,
                            "child_id": e.child_id,
                            "conversation_id": e.conversation_id,
                            "created_at": now,
                        }
                        for e in escalating
                    ],
                )

    def get(self, decision_id: str) -> DecisionEntry | None:
        with self._sessions() as s:
            row = s.get(DecisionRow, decision_id)
            return None if row is None else _entry(row, self.sealer)

    def recent(self, *, conversation_id: str | None = None, limit: int = 100) -> list[DecisionEntry]:
        q = select(DecisionRow).order_by(DecisionRow.created_at.desc(), DecisionRow.id).limit(limit)
        if conversation_id is not None:
            q = q.where(DecisionRow.conversation_id == conversation_id)
        with self._sessions() as s:
            return [_entry(r, self.sealer) for r in s.scalars(q)]

    def escalations(self, status: str = "open", limit: int = 100) -> list[EscalationRecord]:
        q = select(EscalationRow).where(EscalationRow.status == status).order_by(EscalationRow.id).limit(limit)
        with self._sessions() as s:
            return [
                EscalationRecord(
                    id=r.id,
                    decision_id=r.decision_id,
                    action=r.action,
                    categories=list(r.categories),
                    status=r.status,
                    app_id=r.app_id,
                    child_id=r.child_id,
                    conversation_id=r.conversation_id,
                )
                for r in s.scalars(q)
            ]


class SqlMessageVault:
    """Message text encrypted with AES-GCM, each row expiring after the retention period."""

    def __init__(self, db: Db, cipher: MessageCipher, retention: timedelta) -> None:
        self._db = db
        self._sessions = db.sessions
        self._clock = db.clock
        self._cipher = cipher
        self._retention = retention

    def put(self, conversation_id: str, role: str, text: str, decision_id: str | None) -> None:
        now = self._clock()
        nonce, ct = self._cipher.encrypt(text, conversation_id)
        with self._db.write_session() as s:
            s.add(MessageRow.sealed(conversation_id, role, text, decision_id, nonce, ct, now, self._retention))

    def read(self, conversation_id: str) -> list[StoredMessage]:
        now = self._clock()
        q = (
            select(MessageRow)
            .where(MessageRow.conversation_id == conversation_id, MessageRow.expires_at > now)
            .order_by(MessageRow.id)
        )
        with self._sessions() as s:
            return [
                StoredMessage(
                    conversation_id=r.conversation_id,
                    role=r.role,
                    text=self._cipher.decrypt(r.nonce, r.ciphertext, r.conversation_id),
                    decision_id=r.decision_id,
                    created_at=r.created_at,
                    expires_at=r.expires_at,
                )
                for r in s.scalars(q)
            ]

    def purge_expired(self) -> int:
        with self._db.write_session() as s:
            result = s.execute(delete(MessageRow).where(MessageRow.expires_at <= self._clock()))
            return int(getattr(result, "rowcount", 0) or 0)


class SqlUpstreamErrorLog:
    """Upstream failures with their kind and HTTP status (no message text)."""

    def __init__(self, db: Db) -> None:
        self._db = db
        self._sessions = db.sessions
        self._clock = db.clock

    def record(self, kind: str, status_code: int, detail: str, app_id: int | None, conversation_id: str | None) -> None:
        with self._db.write_session() as s:
            s.add(
                UpstreamErrorRow(
                    app_id=app_id,
                    conversation_id=conversation_id,
                    kind=kind,
                    status_code=status_code,
                    detail=detail[:500],
                    created_at=self._clock(),
                )
            )

    def recent(self, limit: int = 100) -> list[UpstreamErrorRecord]:
        q = select(UpstreamErrorRow).order_by(UpstreamErrorRow.id.desc()).limit(limit)
        with self._sessions() as s:
            return [
                UpstreamErrorRecord(
                    kind=r.kind,
                    status_code=r.status_code,
                    detail=r.detail,
                    app_id=r.app_id,
                    conversation_id=r.conversation_id,
                    created_at=r.created_at,
                )
                for r in s.scalars(q)
            ]
