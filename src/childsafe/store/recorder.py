"""An event sink that records the engine's decisions in the store from a background writer thread.

The engine calls ``emit`` on its hot path, so ``emit`` only builds a small record and queues it; one
writer thread commits queued records in batches. Which app, child and conversation a decision belongs to
comes from :data:`decision_scope`, a context variable the gateway sets around each check (context
variables follow ``asyncio`` tasks and ``asyncio.to_thread``), or from the event's metadata.

Escalate and report decisions must never be lost: a person has to see them. A queue in memory cannot promise
that (the database may stay locked or read-only longer than any retry; the process may die), so with an
:class:`EscalationJournal` each of them is first appended to a local file (fsynced) and stays there until the
database has committed it; the writer thread replays the journal with backoff, and at start-up.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import re
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert
from sqlalchemy.exc import InterfaceError, OperationalError

from childsafe.store.background import BackgroundWriter, QueuedSink
from childsafe.store.database import StoreError
from childsafe.store.interfaces import ConversationRecord, ConversationStates, DecisionEntry, DecisionLog
from childsafe.store.schema import Base
from childsafe.store.sql import ESCALATING_ACTIONS

log = logging.getLogger("childsafe.store")


@dataclass(frozen=True, slots=True)
class DecisionScope:
    app_id: int | None = None
    child_id: str | None = None
    conversation_id: str | None = None


decision_scope: contextvars.ContextVar[DecisionScope | None] = contextvars.ContextVar("decision_scope", default=None)


@contextmanager
def scoped(scope: DecisionScope) -> Iterator[None]:
    token = decision_scope.set(scope)
    try:
        yield
    finally:
        decision_scope.reset(token)


def _value(x: Any) -> str:
    return str(getattr(x, "value", x))


_LABEL = re.compile(r"^[A-Za-z0-9_.@:-]{1,60}$")
_MAX_FINDINGS = 12


def _finding(x: Any) -> dict[str, Any]:
    """A detection for the reviewer explanation: who found what, where. Never its ``evidence``, which quotes
    the words; a signal that is not a plain label (a plugin's free text) is left out for the same reason."""
    span = getattr(x, "span", None)
    signal = getattr(x, "signal", None)
    return {
        "detector": str(x.detector),
        "version": str(x.detector_version),
        "category": _value(x.category),
        "score": round(float(x.score), 4),
        "span": None if span is None else [int(span.start), int(span.end)],
        "signal": signal if isinstance(signal, str) and _LABEL.match(signal) else None,
    }


def _extra(d: Any) -> dict[str, Any]:
    """The decision's rules, its language when one was identified, and the findings behind a flag (the
    detections of flagged categories or scoring 0.3 or more, as ``reviewer_explanation`` lists them)."""
    extra: dict[str, Any] = {"rules": [str(r) for r in d.rules]}
    if getattr(d, "language", None):
        extra["language"] = d.language
    flagged = set(getattr(d, "categories", None) or [])
    if flagged:
        found = [x for x in getattr(d, "detections", None) or [] if x.category in flagged or x.score >= 0.3]
        found.sort(key=lambda x: -float(x.score))
        if found:
            extra["detections"] = [_finding(x) for x in found[:_MAX_FINDINGS]]
    return extra


def entry_from_event(event: Any, scope: DecisionScope | None = None) -> DecisionEntry:
    """Build a stored entry from a ``childsafe.events.DecisionEvent`` (hashes and redacted text only)."""
    d = event.decision
    meta: dict[str, Any] = dict(getattr(event, "metadata", None) or {})
    scope = scope or DecisionScope()
    excerpt = getattr(event, "excerpt", None) or getattr(event, "redacted_excerpt", None)
    app_id = meta.get("app_id", scope.app_id)
    return DecisionEntry(
        id=d.decision_id,
        kind=str(getattr(event, "kind", "input")),
        action=_value(d.action),
        categories=[_value(c) for c in d.categories],
        scores={_value(c): round(float(s), 6) for c, s in d.scores.items()},
        reasons=[str(r) for r in d.reasons],
        policy_version=str(d.policy_version),
        age_band=_value(d.age_band),
        role=_value(d.role),
        content_sha256=getattr(event, "content_sha256", None),
        excerpt=None if excerpt is None else str(excerpt)[:500],
        app_id=app_id if isinstance(app_id, int) else None,
        child_id=meta.get("child_id", scope.child_id),
        conversation_id=meta.get("conversation_id", scope.conversation_id),
        extra=_extra(d),
    )


JOURNAL_PREFIX = "escalations-"
JOURNAL_SUFFIX = ".journal"
_MAX_SLOTS = 64
_COMPACT_SLACK = 1000
_JOURNAL_NAME = re.compile(r"^escalations-(\d+)\.journal$")
_ENTRY_FIELDS = frozenset(f.name for f in fields(DecisionEntry))
_REQUIRED_FIELDS = frozenset(
    {"id", "kind", "action", "categories", "scores", "reasons", "policy_version", "age_band", "role"}
)


def _encode(entry: DecisionEntry) -> bytes:
    data = {name: getattr(entry, name) for name in _ENTRY_FIELDS}
    data["created_at"] = entry.created_at.isoformat() if entry.created_at is not None else None
    return json.dumps({"v": 1, "entry": data}, ensure_ascii=True, separators=(",", ":")).encode("ascii") + b"\n"


def _decode(line: bytes) -> DecisionEntry | None:
    """The entry of one journal line; None for a torn or foreign line (a crash mid-append leaves one)."""
    try:
        data = json.loads(line)["entry"]
        if not isinstance(data, dict) or not _REQUIRED_FIELDS <= data.keys() <= _ENTRY_FIELDS:
            return None
        if not isinstance(data["id"], str) or not data["id"]:
            return None
        created = data.get("created_at")
        data["created_at"] = datetime.fromisoformat(created) if created else None
        return DecisionEntry(**data)
    except (ValueError, KeyError, TypeError):
        return None


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _try_lock(fd: int) -> bool:
    """An exclusive lock on ``fd`` without waiting; released when the descriptor is closed."""
    if sys.platform == "win32":
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _fsync_dir(directory: Path) -> None:
    if sys.platform == "win32":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class EscalationJournal:
    """Escalate/report decisions on local disk until the database has committed them.

    One JSON line per entry in ``<dir>/escalations-<n>.journal`` (mode 0600), fsynced before ``append``
    returns. Each process claims a free slot ``n`` with an exclusive lock on ``escalations-<n>.lock`` (several
    gateway workers may share one data folder); at start it also adopts the journals of slots nobody holds
    (a crashed or retired worker), so every entry is replayed by someone. ``ack`` forgets entries the database
    has committed: the file is truncated when nothing is pending and rewritten (temp file, fsync, rename) when
    acknowledged lines pile up. Replays are idempotent (the decision log skips ids it already has), so an entry
    acknowledged twice, or written both by the queue and by a replay, costs nothing.

    The journal holds what the decision log would hold (hashes, categories, the redacted excerpt), only until
    it is committed. An entry whose append fails (disk full) is still kept in memory and replayed, and counted
    in ``append_errors``."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory).expanduser()
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._slot, self._lock_fd = self._claim_slot()
        except OSError as exc:
            raise StoreError(f"cannot open the escalation journal in {self.directory}: {exc.strerror}") from None
        self.path = self.directory / f"{JOURNAL_PREFIX}{self._slot}{JOURNAL_SUFFIX}"
        self._lock = threading.Lock()
        self._pending: dict[str, DecisionEntry] = {}
        self._lines = 0
        self._torn = False
        self._fd = -1
        self.appended = 0
        """Entries appended (and fsynced) since start."""
        self.append_errors = 0
        """Appends that failed (the entry is still replayed from memory, but would not survive a crash)."""
        self.corrupt = 0
        """Unreadable lines skipped at start (a crash in the middle of an append leaves one)."""
        self.replayed = 0
        """Entries stored by a replay (the queue had failed or dropped them, or a crash left them)."""
        try:
            self._load(self.path)
            adopted = self._adopt_orphans()
            self._rewrite()
        except OSError as exc:
            os.close(self._lock_fd)
            raise StoreError(f"cannot open the escalation journal {self.path}: {exc.strerror}") from None
        for path, fd in adopted:  # their entries are safely in our file now
            path.unlink(missing_ok=True)
            os.close(fd)
        if self._pending:
            log.warning("escalation journal holds %d entries from before; replaying them", len(self._pending))

    def _claim_slot(self) -> tuple[int, int]:
        for slot in range(_MAX_SLOTS):
            fd = os.open(self.directory / f"{JOURNAL_PREFIX}{slot}.lock", os.O_RDWR | os.O_CREAT, 0o600)
            if _try_lock(fd):
                return slot, fd
            os.close(fd)
        raise StoreError(f"more than {_MAX_SLOTS} processes use the escalation journal in {self.directory}")

    def _load(self, path: Path) -> None:
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return
        for line in raw.split(b"\n"):
            if not line.strip():
                continue
            entry = _decode(line)
            if entry is None:
                self.corrupt += 1
                log.error("escalation journal %s: skipped an unreadable line", path.name)
                continue
            self._pending[entry.id] = entry

    def _adopt_orphans(self) -> list[tuple[Path, int]]:
        adopted: list[tuple[Path, int]] = []
        for path in sorted(self.directory.glob(f"{JOURNAL_PREFIX}*{JOURNAL_SUFFIX}")):
            m = _JOURNAL_NAME.match(path.name)
            if m is None or int(m.group(1)) == self._slot:
                continue
            fd = os.open(self.directory / f"{JOURNAL_PREFIX}{m.group(1)}.lock", os.O_RDWR | os.O_CREAT, 0o600)
            if not _try_lock(fd):  # a live process owns it and replays it itself
                os.close(fd)
                continue
            self._load(path)
            adopted.append((path, fd))
        return adopted

    def _rewrite(self) -> None:
        """Replace the file with the pending entries only (crash-safe: temp file, fsync, rename)."""
        tmp = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            if sys.platform != "win32":
                os.fchmod(fd, 0o600)  # a temp file left by a crash keeps its old mode through O_TRUNC
            _write_all(fd, b"".join(_encode(e) for e in self._pending.values()))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.path)
        _fsync_dir(self.directory)
        new_fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        if self._fd >= 0:
            os.close(self._fd)
        self._fd = new_fd
        self._lines = len(self._pending)
        self._torn = False

    # -- use -----------------------------------------------------------------------------------------------

    def append(self, entry: DecisionEntry) -> bool:
        """Keep ``entry`` until it is acknowledged; True once it is on disk (fsynced)."""
        line = _encode(entry)
        with self._lock:
            self._pending[entry.id] = entry  # in memory first: replayed even when the disk write fails
            try:
                # after a failed append the file may end in a torn line: start on a fresh one
                _write_all(self._fd, b"\n" + line if self._torn else line)
                os.fsync(self._fd)
            except OSError as exc:
                self._torn = True
                self.append_errors += 1
                log.error("could not append an escalation to %s: %s", self.path.name, exc.strerror)
                return False
            self._torn = False
            self._lines += 1
            self.appended += 1
            return True

    def ack(self, ids: Iterable[str]) -> None:
        """Forget entries the database has committed (call only after the commit)."""
        with self._lock:
            removed = sum(self._pending.pop(i, None) is not None for i in ids)
            if not removed:
                return
            try:
                if not self._pending:
                    os.ftruncate(self._fd, 0)  # no fsync needed: a stale entry replayed later is a no-op
                    self._lines = 0
                    self._torn = False
                elif self._lines > 2 * len(self._pending) + _COMPACT_SLACK:
                    self._rewrite()
            except OSError as exc:
                log.error("could not compact %s: %s", self.path.name, exc.strerror)

    def pending(self) -> list[DecisionEntry]:
        """Entries not yet acknowledged, oldest first."""
        with self._lock:
            return list(self._pending.values())

    @property
    def pending_count(self) -> int:
        return len(self._pending)

    @property
    def healthy(self) -> bool:
        """False when the last append could not be written to disk."""
        return not self._torn

    def close(self) -> None:
        with self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1
            if self._lock_fd >= 0:
                os.close(self._lock_fd)
                self._lock_fd = -1


def database_writable(engine: Engine, timeout_s: float = 0.5) -> bool:
    """True when the database accepts a write now: a real INSERT, rolled back, waiting at most ``timeout_s``
    for locks.

    Why not ``SELECT 1``: a database that is locked by another writer, read-only or out of space still answers
    reads, and the gateway then keeps serving while decisions and escalations cannot be stored."""
    table = Base.metadata.tables["upstream_errors"]
    sqlite = engine.url.get_backend_name() == "sqlite"
    ms = max(1, int(timeout_s * 1000))
    try:
        with engine.connect() as c:
            previous = c.exec_driver_sql("PRAGMA busy_timeout").scalar() if sqlite else None
            c.exec_driver_sql(f"PRAGMA busy_timeout={ms}" if sqlite else f"SET LOCAL lock_timeout = {ms}")
            try:
                c.execute(
                    insert(table).values(kind="readiness_probe", status_code=0, detail="", created_at=datetime.now(UTC))
                )
            finally:
                c.rollback()
                if previous is not None:
                    c.exec_driver_sql(f"PRAGMA busy_timeout={int(previous)}")
                    c.rollback()
        return True
    except Exception as exc:
        log.warning("readiness: the database does not accept writes (%s)", type(exc).__name__)
        return False


class StoreEventSink(QueuedSink[DecisionEntry | ConversationRecord]):
    """``childsafe.events.EventSink`` writing decisions (and escalations) to a :class:`DecisionLog`.

    It also takes conversation-state saves (:meth:`save_conversation`) when the caller keeps the newest
    state in memory itself: writes then reach the database in batches, one transaction for many requests,
    instead of one commit per request. The queue, thread and counters are a :class:`BackgroundWriter`;
    ``written`` counts decisions and conversation states (a superseded state of one conversation counts too).

    With a ``journal``, escalate/report decisions are appended to it (stamped with the decision time) before
    they are queued, acknowledged after their commit, and replayed by the writer thread with backoff until
    the database takes them: a failed or dropped write of one of them is a delay, never a loss."""

    def __init__(
        self,
        decisions: DecisionLog,
        conversations: ConversationStates | None = None,
        *,
        batch_size: int = 200,
        journal: EscalationJournal | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._decisions = decisions
        self._conversations = conversations
        self._journal = journal
        self._clock = clock or (lambda: datetime.now(UTC))
        self._batch_size = batch_size
        self._writer: BackgroundWriter[DecisionEntry | ConversationRecord] = BackgroundWriter(
            self._write,
            name="childsafe-store-writer",
            what="decisions",
            batch_size=batch_size,
            logger=log,
            retry=self._replay if journal is not None else None,
        )

    @property
    def journal(self) -> EscalationJournal | None:
        return self._journal

    def emit(self, event: Any) -> None:
        self.put(entry_from_event(event, decision_scope.get()))

    def put(self, entry: DecisionEntry) -> None:
        if self._journal is not None and entry.action in ESCALATING_ACTIONS:
            if entry.created_at is None:  # a replay hours later must still say when it was decided
                entry = replace(entry, created_at=self._clock())
            self._journal.append(entry)
        self._writer.put(entry)

    def save_conversation(self, record: ConversationRecord) -> None:
        if self._conversations is None:
            raise RuntimeError("this sink was built without a conversation store")
        self._writer.put(record)

    def _write(self, batch: list[DecisionEntry | ConversationRecord]) -> None:
        decisions = [x for x in batch if isinstance(x, DecisionEntry)]
        latest = {x.id: x for x in batch if isinstance(x, ConversationRecord)}  # only the newest state matters
        if latest and self._conversations is not None:
            self._conversations.save_many(list(latest.values()))
        if decisions:
            self._decisions.record(decisions)
            if self._journal is not None:
                self._journal.ack(d.id for d in decisions if d.action in ESCALATING_ACTIONS)

    def _replay(self) -> bool:
        """Store what the journal still holds (on the writer thread); True when it is empty."""
        journal = self._journal
        assert journal is not None
        entries = journal.pending()
        for start in range(0, len(entries), self._batch_size):
            chunk = entries[start : start + self._batch_size]
            try:
                self._decisions.record(chunk)
                stored = chunk
            except (OperationalError, InterfaceError):
                raise  # locked, read-only, unreachable: the writer backs off and tries again
            except Exception:
                stored = self._replay_one_by_one(chunk)
            journal.ack(e.id for e in stored)
            journal.replayed += len(stored)
        if journal.pending_count:
            return False
        if entries:
            log.info("escalation journal replayed: %d entries stored", len(entries))
        return True

    def _replay_one_by_one(self, chunk: list[DecisionEntry]) -> list[DecisionEntry]:
        # A rejected entry (e.g. its child was erased meanwhile) stays in the journal and in the backlog
        # metric, for an operator to see; it must not hold back the entries after it.
        stored: list[DecisionEntry] = []
        for entry in chunk:
            try:
                self._decisions.record([entry])
            except (OperationalError, InterfaceError):
                raise
            except Exception as exc:
                log.error("escalation journal: the database rejected an entry (%s); kept", type(exc).__name__)
                continue
            stored.append(entry)
        return stored

    def close(self, timeout: float = 10.0) -> None:
        self._writer.close(timeout)
        if self._journal is not None:
            self._journal.close()
