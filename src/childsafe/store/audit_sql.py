"""The audit hash chain's rows: events appended at the chain head, signed checkpoints, reads in chain order.

The repository knows nothing of hashing or signing (that is ``childsafe.audit``); it gives the chain's writer a
transaction that starts from the current head, and retries it when a concurrent writer took the next sequence
number first, so the chain never forks.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from sqlalchemy import Connection, Engine, func, insert, select
from sqlalchemy.exc import IntegrityError, OperationalError

from childsafe.store.oversight_schema import AuditCheckpointRow, AuditEventRow
from childsafe.store.schema import Base

_APPEND_ATTEMPTS = 20


@dataclass(frozen=True, slots=True)
class AuditEventEntry:
    """One event as the chain stores it."""

    seq: int
    id: str
    type: str
    at: datetime
    actor: str | None
    subject: str | None
    data: dict[str, Any]
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class NewCheckpoint:
    """A signature over (sequence number, head hash) to store."""

    seq: int
    head_hash: str
    at: datetime
    key_id: str
    signature: str


@dataclass(frozen=True, slots=True)
class AuditCheckpointEntry:
    """A stored checkpoint (``id`` orders checkpoints of the same event)."""

    id: int
    seq: int
    head_hash: str
    at: datetime
    key_id: str
    signature: str


@dataclass(frozen=True, slots=True)
class ChainHead:
    """Where an append starts: the newest event (0 and None when the chain is empty) and the newest checkpoint."""

    seq: int
    hash: str | None
    checkpoint_seq: int


ChainAppend = Callable[[ChainHead], tuple[Sequence[AuditEventEntry], NewCheckpoint | None]]
"""Given the head, the events that follow it and the checkpoint to store with them (if one is due)."""
HeadSigner = Callable[[int, str], NewCheckpoint]
"""Given the newest event's number and hash, its checkpoint."""


@runtime_checkable
class AuditChainStore(Protocol):
    """The audit log's storage: appends at the head, checkpoints, reads in chain order."""

    def append(self, build: ChainAppend) -> list[AuditEventEntry]: ...
    def sign_head(self, sign: HeadSigner) -> bool: ...
    def events(
        self,
        *,
        from_seq: int | None = None,
        to_seq: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        batch: int = 1000,
    ) -> Iterator[AuditEventEntry]: ...
    def event(self, seq: int) -> AuditEventEntry | None: ...
    def head_seq(self) -> int: ...
    def checkpoints(self) -> list[AuditCheckpointEntry]: ...
    def newest_checkpoint(self) -> AuditCheckpointEntry | None: ...


def _entry(row: Any) -> AuditEventEntry:
    return AuditEventEntry(
        seq=row.seq,
        id=row.id,
        type=row.type,
        at=row.at,
        actor=row.actor,
        subject=row.subject,
        data=dict(row.data or {}),
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


def _checkpoint(row: Any) -> AuditCheckpointEntry:
    return AuditCheckpointEntry(row.id, row.seq, row.head_hash, row.at, row.key_id, row.signature)


class SqlAuditChain:
    """``audit_events`` and ``audit_checkpoints`` over one engine.

    The sequence number is the primary key, so of two writers (several gateway processes on PostgreSQL) that
    read the same head, the second one's insert fails; its transaction is run again from the new head. On
    SQLite, which would refuse the second writer, appends in this process take a lock instead."""

    def __init__(self, engine: Engine, write_lock: AbstractContextManager[Any] | None = None) -> None:
        self._engine = engine
        self._events = Base.metadata.tables[AuditEventRow.__tablename__]
        self._checkpoints = Base.metadata.tables[AuditCheckpointRow.__tablename__]
        self._lock: AbstractContextManager[Any] = (
            write_lock
            if write_lock is not None
            else (threading.Lock() if engine.url.get_backend_name() == "sqlite" else nullcontext())
        )

    def append(self, build: ChainAppend) -> list[AuditEventEntry]:
        """Run ``build`` on the head and store what it returns, in one transaction; again on a lost race."""
        for _attempt in range(_APPEND_ATTEMPTS):
            try:
                with self._lock:
                    return self._append(build)
            except (IntegrityError, OperationalError):
                continue  # another writer took the next sequence number first; chain onto its event
        raise RuntimeError("could not append audit events after repeated concurrent retries")

    def _append(self, build: ChainAppend) -> list[AuditEventEntry]:
        with self._engine.begin() as c:
            seq, head_hash = self._head(c)
            last_cp = c.execute(select(func.max(self._checkpoints.c.seq))).scalar() or 0
            entries, checkpoint = build(ChainHead(seq, head_hash, int(last_cp)))
            c.execute(
                insert(self._events),
                [
                    {
                        "seq": e.seq,
                        "id": e.id,
                        "type": e.type,
                        "at": e.at,
                        "actor": e.actor,
                        "subject": e.subject,
                        "data": e.data,
                        "prev_hash": e.prev_hash,
                        "hash": e.hash,
                    }
                    for e in entries
                ],
            )
            if checkpoint is not None:
                self._insert_checkpoint(c, checkpoint)
        return list(entries)

    def sign_head(self, sign: HeadSigner) -> bool:
        """Store ``sign``'s checkpoint of the newest event unless one exists; False when the chain is empty."""
        with self._engine.begin() as c:
            seq, head_hash = self._head(c)
            if head_hash is None:
                return False
            last = c.execute(select(func.max(self._checkpoints.c.seq))).scalar()
            if last != seq:
                self._insert_checkpoint(c, sign(seq, head_hash))
        return True

    def _head(self, c: Connection) -> tuple[int, str | None]:
        t = self._events
        head = c.execute(select(t.c.seq, t.c.hash).order_by(t.c.seq.desc()).limit(1)).first()
        return (int(head.seq), str(head.hash)) if head is not None else (0, None)

    def _insert_checkpoint(self, c: Connection, cp: NewCheckpoint) -> None:
        c.execute(
            insert(self._checkpoints).values(
                seq=cp.seq, head_hash=cp.head_hash, at=cp.at, key_id=cp.key_id, signature=cp.signature
            )
        )

    def events(
        self,
        *,
        from_seq: int | None = None,
        to_seq: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        batch: int = 1000,
    ) -> Iterator[AuditEventEntry]:
        """Events in chain order, optionally limited by sequence number or time (inclusive), read in batches."""
        t = self._events
        last = (from_seq or 1) - 1
        while True:
            q = select(t).where(t.c.seq > last).order_by(t.c.seq).limit(batch)
            if to_seq is not None:
                q = q.where(t.c.seq <= to_seq)
            if since is not None:
                q = q.where(t.c.at >= since)
            if until is not None:
                q = q.where(t.c.at <= until)
            with self._engine.connect() as c:
                rows = c.execute(q).all()
            if not rows:
                return
            for row in rows:
                yield _entry(row)
            last = int(rows[-1].seq)

    def event(self, seq: int) -> AuditEventEntry | None:
        t = self._events
        with self._engine.connect() as c:
            row = c.execute(select(t).where(t.c.seq == seq)).first()
        return None if row is None else _entry(row)

    def head_seq(self) -> int:
        """The newest event's number (0 when the chain is empty)."""
        with self._engine.connect() as c:
            return int(c.execute(select(func.max(self._events.c.seq))).scalar() or 0)

    def checkpoints(self) -> list[AuditCheckpointEntry]:
        t = self._checkpoints
        with self._engine.connect() as c:
            return [_checkpoint(r) for r in c.execute(select(t).order_by(t.c.seq, t.c.id))]

    def newest_checkpoint(self) -> AuditCheckpointEntry | None:
        t = self._checkpoints
        with self._engine.connect() as c:
            row = c.execute(select(t).order_by(t.c.seq.desc(), t.c.id.desc()).limit(1)).first()
        return None if row is None else _checkpoint(row)


def audit_chain(handle: object, write_lock: AbstractContextManager[Any] | None = None) -> AuditChainStore:
    """The chain repository for ``handle``: a repository as it is, or a new one over an engine or an open Store.

    Lets callers that hold only the store's engine (the CLI, the services' ``from_store``) keep opening the
    audit log the way they did, without importing SQLAlchemy themselves."""
    if isinstance(handle, Engine):
        return SqlAuditChain(handle, write_lock)
    if isinstance(handle, AuditChainStore):
        return handle
    engine = getattr(handle, "engine", None)
    if isinstance(engine, Engine):
        return SqlAuditChain(engine, write_lock)
    raise TypeError(f"no audit chain over {type(handle).__name__}: give an engine, a Store or an AuditChainStore")
