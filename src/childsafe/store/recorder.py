"""An event sink that records the engine's decisions in the store from a background writer thread.

The engine calls ``emit`` on its hot path, so ``emit`` only builds a small record and queues it; one
writer thread commits queued records in batches. Which app, child and conversation a decision belongs to
comes from :data:`decision_scope`, a context variable the gateway sets around each check (context
variables follow ``asyncio`` tasks and ``asyncio.to_thread``), or from the event's metadata.
"""

from __future__ import annotations

import contextvars
import logging
import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from threading import Event
from typing import Any

from childsafe.store.interfaces import ConversationRecord, ConversationStates, DecisionEntry, DecisionLog

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
        extra={"rules": [str(r) for r in d.rules]},
    )


_STOP = object()


class StoreEventSink:
    """``childsafe.events.EventSink`` writing decisions (and escalations) to a :class:`DecisionLog`.

    It also takes conversation-state saves (:meth:`save_conversation`) when the caller keeps the newest
    state in memory itself: writes then reach the database in batches, one transaction for many requests,
    instead of one commit per request."""

    def __init__(
        self, decisions: DecisionLog, conversations: ConversationStates | None = None, *, batch_size: int = 200
    ) -> None:
        self._decisions = decisions
        self._conversations = conversations
        self._batch_size = batch_size
        # SimpleQueue: put() is one C call on the request path (queue.Queue takes a lock and a condition per item)
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self.written = 0
        self.failed = 0
        self._thread = threading.Thread(target=self._run, name="childsafe-store-writer", daemon=True)
        self._thread.start()

    def emit(self, event: Any) -> None:
        self._queue.put(entry_from_event(event, decision_scope.get()))

    def put(self, entry: DecisionEntry) -> None:
        self._queue.put(entry)

    def save_conversation(self, record: ConversationRecord) -> None:
        if self._conversations is None:
            raise RuntimeError("this sink was built without a conversation store")
        self._queue.put(record)

    def _run(self) -> None:
        while True:
            batch: list[object] = [self._queue.get()]
            while len(batch) < self._batch_size and batch[-1] is not _STOP and not isinstance(batch[-1], Event):
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._write([x for x in batch if isinstance(x, DecisionEntry | ConversationRecord)])
            for marker in batch:
                if isinstance(marker, Event):
                    marker.set()  # a flush() waiting for everything queued before it
            if batch[-1] is _STOP:
                return

    def _write(self, batch: list[object]) -> None:
        decisions = [x for x in batch if isinstance(x, DecisionEntry)]
        latest = {x.id: x for x in batch if isinstance(x, ConversationRecord)}  # only the newest state matters
        if latest and self._conversations is not None:
            try:
                self._conversations.save_many(list(latest.values()))
            except Exception:
                for record in latest.values():  # one bad record must not lose the others
                    try:
                        self._conversations.save(record)
                    except Exception as exc:
                        self.failed += 1
                        log.error("could not save a conversation state: %s", type(exc).__name__)
        if decisions:
            try:
                self._decisions.record(decisions)
                self.written += len(decisions)
            except Exception as exc:  # keep serving; a lost audit row is logged, never the content
                self.failed += len(decisions)
                log.error("could not record %d decisions: %s", len(decisions), type(exc).__name__)

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything queued so far is written; False on timeout."""
        if not self._thread.is_alive():
            return True
        done = Event()
        self._queue.put(done)
        return done.wait(timeout)

    def close(self, timeout: float = 10.0) -> None:
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join(timeout)
