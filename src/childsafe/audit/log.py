"""The append-only, hash-chained audit log over the store, with signed checkpoints and verification."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from childsafe.audit.events import GENESIS_HASH, AuditEvent, AuditRecord, chain_hash, event_body
from childsafe.audit.signing import checkpoint_message, key_id, sign, signature_valid
from childsafe.store.audit_sql import (
    AuditCheckpointEntry,
    AuditEventEntry,
    ChainHead,
    NewCheckpoint,
    audit_chain,
)
from childsafe.types import Clock


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

    @classmethod
    def of(cls, entry: AuditCheckpointEntry) -> Checkpoint:
        return cls(entry.id, entry.seq, entry.head_hash, entry.at, entry.key_id, entry.signature)

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


def _record(e: AuditEventEntry) -> AuditRecord:
    return AuditRecord(e.seq, e.id, e.type, e.at, e.actor, e.subject, e.data, e.prev_hash, e.hash)


class AuditLog:
    """Appends events in one chain and verifies it.

    Each event stores the hash of the event before it and its own hash over (previous hash, canonical
    event). Every ``checkpoint_every`` events a checkpoint signs (sequence number, head hash) with Ed25519,
    so a rewrite of the whole chain by someone with database access but without the key is still caught.
    Concurrent writers race for the next sequence number; the repository
    (:class:`childsafe.store.audit_sql.SqlAuditChain`) runs the loser's append again on the new head, so the
    chain never forks.

    ``store`` is the chain's repository, or the store's engine (or the Store) to open one over.
    """

    def __init__(
        self,
        store: object,
        signing_key: Ed25519PrivateKey | None,
        *,
        checkpoint_every: int = 100,
        clock: Clock | None = None,
        write_lock: AbstractContextManager[Any] | None = None,
    ) -> None:
        self._chain = audit_chain(store, write_lock)
        self._key = signing_key
        self._every = max(1, checkpoint_every)
        self._clock = clock or _now

    def append(self, event: AuditEvent) -> AuditRecord:
        return self.append_many([event])[0]

    def append_many(self, events: Sequence[AuditEvent]) -> list[AuditRecord]:
        if not events:
            return []
        return [_record(e) for e in self._chain.append(lambda head: self._extend(head, events))]

    def _extend(
        self, head: ChainHead, events: Sequence[AuditEvent]
    ) -> tuple[list[AuditEventEntry], NewCheckpoint | None]:
        """The events chained onto ``head``, and the checkpoint of the new head when one is due."""
        seq, prev = head.seq, head.hash or GENESIS_HASH
        entries: list[AuditEventEntry] = []
        for ev in events:
            seq += 1
            at = self._clock().astimezone(UTC)
            eid = "ae_" + uuid.uuid4().hex
            data = dict(ev.data)
            digest = chain_hash(prev, event_body(eid, str(ev.type), at, ev.actor, ev.subject, data))
            entries.append(AuditEventEntry(seq, eid, str(ev.type), at, ev.actor, ev.subject, data, prev, digest))
            prev = digest
        due = self._key is not None and seq - head.checkpoint_seq >= self._every
        return entries, (self._sign(seq, prev) if due else None)

    def _sign(self, seq: int, head_hash: str) -> NewCheckpoint:
        assert self._key is not None
        at = self._clock().astimezone(UTC)
        kid = key_id(self._key.public_key())
        signature = sign(self._key, checkpoint_message(seq, head_hash, at.isoformat(timespec="microseconds"), kid))
        return NewCheckpoint(seq, head_hash, at, kid, signature)

    def checkpoint(self) -> Checkpoint | None:
        """Sign the current head now (at shutdown, or before an export); None when the log is empty."""
        if self._key is None:
            raise RuntimeError("no signing key: this audit log was opened for verification only")
        if not self._chain.sign_head(self._sign):
            return None
        cps = self.checkpoints()
        return cps[-1] if cps else None

    def head_seq(self) -> int:
        """The newest event's number (0 when the log is empty)."""
        return self._chain.head_seq()

    def record(self, seq: int) -> AuditRecord | None:
        """The event numbered ``seq``, or None when there is none."""
        entry = self._chain.event(seq)
        return None if entry is None else _record(entry)

    def newest_checkpoint(self) -> Checkpoint | None:
        entry = self._chain.newest_checkpoint()
        return None if entry is None else Checkpoint.of(entry)

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
        for entry in self._chain.events(from_seq=from_seq, to_seq=to_seq, since=since, until=until, batch=batch):
            yield _record(entry)

    def checkpoints(self) -> list[Checkpoint]:
        return [Checkpoint.of(entry) for entry in self._chain.checkpoints()]

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
