"""The append-only, hash-chained audit log over the store, with signed checkpoints and verification."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import Connection, Engine, func, insert, select
from sqlalchemy.exc import IntegrityError, OperationalError

import childsafe.store.oversight_schema  # noqa: F401  (registers the tables on the shared metadata)
from childsafe.audit.events import GENESIS_HASH, AuditEvent, AuditRecord, chain_hash, event_body
from childsafe.audit.signing import checkpoint_message, key_id, sign, signature_valid
from childsafe.store.schema import Base

Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Checkpoint:
    id: int
    seq: int
    head_hash: str
    at: datetime
    key_id: str
    signature: str

    def to_json(self) -> dict[str, Any]:
        return {
            "record": "checkpoint",
            "id": self.id,
            "seq": self.seq,
            "head_hash": self.head_hash,
            "at": self.at.isoformat(timespec="microseconds"),
            "key_id": self.key_id,
            "signature": self.signature,
        }


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding of :meth:`AuditLog.verify`: what kind of tampering, at which event."""

    kind: str  # altered | removed | inserted | reordered | checkpoint
    seq: int
    event_id: str | None
    message: str


@dataclass
class VerifyReport:
    events: int = 0
    checkpoints: int = 0
    unsigned_tail: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first(self) -> Problem | None:
        return min(self.problems, key=lambda p: p.seq) if self.problems else None


def _record(row: Any) -> AuditRecord:
    return AuditRecord(
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


class AuditLog:
    """Appends events in one chain and verifies it.

    Each event stores the hash of the event before it and its own hash over (previous hash, canonical
    event). Every ``checkpoint_every`` events a checkpoint signs (sequence number, head hash) with Ed25519,
    so a rewrite of the whole chain by someone with database access but without the key is still caught.
    Concurrent writers (several gateway processes on PostgreSQL) race for the next sequence number, which
    is the primary key: the loser's transaction fails and retries on the new head, so the chain never forks.
    """

    def __init__(
        self,
        engine: Engine,
        signing_key: Ed25519PrivateKey | None,
        *,
        checkpoint_every: int = 100,
        clock: Clock | None = None,
        write_lock: Any = None,
    ) -> None:
        self._engine = engine
        self._key = signing_key
        self._every = max(1, checkpoint_every)
        self._clock = clock or _now
        self._events = Base.metadata.tables["audit_events"]
        self._checkpoints = Base.metadata.tables["audit_checkpoints"]
        # One writer at a time in this process on SQLite (it would refuse the second); PostgreSQL races on the key.
        self._lock = (
            write_lock
            if write_lock is not None
            else (threading.Lock() if engine.url.get_backend_name() == "sqlite" else None)
        )

    def append(self, event: AuditEvent) -> AuditRecord:
        return self.append_many([event])[0]

    def append_many(self, events: Sequence[AuditEvent]) -> list[AuditRecord]:
        if not events:
            return []
        for _attempt in range(20):
            try:
                if self._lock is not None:
                    with self._lock:
                        return self._append(events)
                return self._append(events)
            except (IntegrityError, OperationalError):
                continue  # another writer took the next sequence number first; chain onto its event
        raise RuntimeError("could not append audit events after repeated concurrent retries")

    def _append(self, events: Sequence[AuditEvent]) -> list[AuditRecord]:
        t = self._events
        with self._engine.begin() as c:
            head = c.execute(select(t.c.seq, t.c.hash).order_by(t.c.seq.desc()).limit(1)).first()
            seq, prev = (int(head.seq), str(head.hash)) if head is not None else (0, GENESIS_HASH)
            records: list[AuditRecord] = []
            for ev in events:
                seq += 1
                at = self._clock().astimezone(UTC)
                eid = "ae_" + uuid.uuid4().hex
                data = dict(ev.data)
                digest = chain_hash(prev, event_body(eid, str(ev.type), at, ev.actor, ev.subject, data))
                records.append(AuditRecord(seq, eid, str(ev.type), at, ev.actor, ev.subject, data, prev, digest))
                prev = digest
            c.execute(
                insert(t),
                [
                    {
                        "seq": r.seq,
                        "id": r.id,
                        "type": r.type,
                        "at": r.at,
                        "actor": r.actor,
                        "subject": r.subject,
                        "data": r.data,
                        "prev_hash": r.prev_hash,
                        "hash": r.hash,
                    }
                    for r in records
                ],
            )
            last_cp = c.execute(select(func.max(self._checkpoints.c.seq))).scalar() or 0
            if self._key is not None and seq - int(last_cp) >= self._every:
                self._write_checkpoint(c, seq, prev)
        return records

    def _write_checkpoint(self, c: Connection, seq: int, head_hash: str) -> None:
        assert self._key is not None
        at = self._clock().astimezone(UTC)
        kid = key_id(self._key.public_key())
        signature = sign(self._key, checkpoint_message(seq, head_hash, at.isoformat(timespec="microseconds"), kid))
        c.execute(
            insert(self._checkpoints).values(seq=seq, head_hash=head_hash, at=at, key_id=kid, signature=signature)
        )

    def checkpoint(self) -> Checkpoint | None:
        """Sign the current head now (at shutdown, or before an export); None when the log is empty."""
        if self._key is None:
            raise RuntimeError("no signing key: this audit log was opened for verification only")
        t = self._events
        with self._engine.begin() as c:
            head = c.execute(select(t.c.seq, t.c.hash).order_by(t.c.seq.desc()).limit(1)).first()
            if head is None:
                return None
            last = c.execute(select(func.max(self._checkpoints.c.seq))).scalar()
            if last != head.seq:
                self._write_checkpoint(c, int(head.seq), str(head.hash))
        cps = self.checkpoints()
        return cps[-1] if cps else None

    def records(
        self,
        *,
        from_seq: int | None = None,
        to_seq: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        batch: int = 1000,
    ) -> Iterator[AuditRecord]:
        """Events in chain order, optionally limited by sequence number or time (inclusive)."""
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
                yield _record(row)
            last = int(rows[-1].seq)

    def checkpoints(self) -> list[Checkpoint]:
        t = self._checkpoints
        with self._engine.connect() as c:
            return [
                Checkpoint(r.id, r.seq, r.head_hash, r.at, r.key_id, r.signature)
                for r in c.execute(select(t).order_by(t.c.seq, t.c.id))
            ]

    def verify(self, public_key: Ed25519PublicKey | None = None) -> VerifyReport:
        """Check every event's hash and link and every checkpoint's signature; name what was tampered with."""
        public = public_key or (self._key.public_key() if self._key is not None else None)
        rows = list(self.records())
        report = VerifyReport(events=len(rows))
        problems = report.problems
        position = {r.hash: i for i, r in enumerate(rows)}
        reported_inserted: set[int] = set()

        def name(r: AuditRecord) -> str:
            return f"event #{r.seq} (id {r.id}, type {r.type})"

        for i, r in enumerate(rows):
            expected_prev = rows[i - 1].hash if i else GENESIS_HASH
            prev_seq = rows[i - 1].seq if i else 0
            if chain_hash(r.prev_hash, r.body()) != r.hash:
                problems.append(
                    Problem("altered", r.seq, r.id, f"{name(r)} was altered: it no longer matches its hash")
                )
                continue
            if r.prev_hash == expected_prev:
                if r.seq != prev_seq + 1:
                    problems.append(
                        Problem("altered", r.seq, r.id, f"{name(r)} was renumbered: it directly follows #{prev_seq}")
                    )
                continue
            if i + 1 < len(rows) and rows[i + 1].prev_hash == expected_prev:
                reported_inserted.add(i)
                problems.append(
                    Problem("inserted", r.seq, r.id, f"{name(r)} was inserted: the next event links past it")
                )
            elif i >= 2 and r.prev_hash == rows[i - 2].hash:
                if i - 1 not in reported_inserted:
                    p = rows[i - 1]
                    problems.append(
                        Problem("inserted", p.seq, p.id, f"{name(p)} was inserted: the next event links past it")
                    )
            elif r.prev_hash in position:
                j = position[r.prev_hash]
                problems.append(
                    Problem(
                        "reordered",
                        r.seq,
                        r.id,
                        f"{name(r)} is out of order: it was written right after event id {rows[j].id}, "
                        f"now at #{rows[j].seq}",
                    )
                )
            elif r.seq > prev_seq + 1:
                missing = f"#{prev_seq + 1}" if r.seq == prev_seq + 2 else f"#{prev_seq + 1}..#{r.seq - 1}"
                problems.append(
                    Problem(
                        "removed", prev_seq + 1, None, f"event {missing} was removed (the chain jumps to {name(r)})"
                    )
                )
            elif r.prev_hash == GENESIS_HASH or not i:
                problems.append(Problem("inserted", r.seq, r.id, f"{name(r)} does not link to the event before it"))
            else:
                p = rows[i - 1]
                problems.append(
                    Problem(
                        "altered",
                        p.seq,
                        p.id,
                        f"{name(p)} was altered and re-hashed, or an event after it was removed "
                        f"({name(r)} links to a hash no longer in the log)",
                    )
                )
        self._verify_checkpoints(rows, public, report)
        return report

    def _verify_checkpoints(
        self, rows: list[AuditRecord], public: Ed25519PublicKey | None, report: VerifyReport
    ) -> None:
        by_seq = {r.seq: r for r in rows}
        cps = self.checkpoints()
        report.checkpoints = len(cps)
        last_signed = 0
        for cp in cps:
            at_iso = cp.at.isoformat(timespec="microseconds")
            if public is None:
                report.problems.append(
                    Problem("checkpoint", cp.seq, None, "no public key to check checkpoint signatures")
                )
                return
            if cp.key_id != key_id(public) or not signature_valid(
                public, checkpoint_message(cp.seq, cp.head_hash, at_iso, cp.key_id), cp.signature
            ):
                report.problems.append(
                    Problem(
                        "checkpoint", cp.seq, None, f"checkpoint {cp.id} at event #{cp.seq}: signature is not valid"
                    )
                )
                continue
            last_signed = max(last_signed, cp.seq)
            row = by_seq.get(cp.seq)
            if row is None:
                gap = max((r.seq for r in rows if r.seq < cp.seq), default=0) + 1
                span = f"#{cp.seq}" if gap == cp.seq else f"#{gap}..#{cp.seq}"
                report.problems.append(
                    Problem("removed", gap, None, f"event {span} was removed (a signed checkpoint names #{cp.seq})")
                )
            elif row.hash != cp.head_hash:
                report.problems.append(
                    Problem(
                        "altered",
                        cp.seq,
                        row.id,
                        f"the log up to event #{cp.seq} (id {row.id}) differs from the signed checkpoint "
                        "(events at or before it were altered, removed or inserted and the chain rebuilt)",
                    )
                )
            else:
                covered = sum(1 for r in rows if r.seq <= cp.seq)
                if covered != cp.seq:
                    report.problems.append(
                        Problem(
                            "removed", cp.seq, row.id, f"{cp.seq - covered} events at or before #{cp.seq} are missing"
                        )
                    )
        report.unsigned_tail = sum(1 for r in rows if r.seq > last_signed)
