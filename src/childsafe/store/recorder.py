"""An event sink that records the engine's decisions in the store from a background writer thread.

The engine calls ``emit`` on its hot path, so ``emit`` only builds a small record and queues it; one
writer thread commits queued records in batches. Which app, child and conversation a decision belongs to
comes from :data:`decision_scope`, a context variable the gateway sets around each check (context
variables follow ``asyncio`` tasks and ``asyncio.to_thread``), or from the event's metadata.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from childsafe.store.background import BackgroundWriter, QueuedSink
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


class StoreEventSink(QueuedSink[DecisionEntry | ConversationRecord]):
    """``childsafe.events.EventSink`` writing decisions (and escalations) to a :class:`DecisionLog`.

    It also takes conversation-state saves (:meth:`save_conversation`) when the caller keeps the newest
    state in memory itself: writes then reach the database in batches, one transaction for many requests,
    instead of one commit per request. The queue, thread and counters are a :class:`BackgroundWriter`;
    ``written`` counts decisions and conversation states (a superseded state of one conversation counts too)."""

    def __init__(
        self, decisions: DecisionLog, conversations: ConversationStates | None = None, *, batch_size: int = 200
    ) -> None:
        self._decisions = decisions
        self._conversations = conversations
        self._writer: BackgroundWriter[DecisionEntry | ConversationRecord] = BackgroundWriter(
            self._write, name="childsafe-store-writer", what="decisions", batch_size=batch_size, logger=log
        )

    def emit(self, event: Any) -> None:
        self._writer.put(entry_from_event(event, decision_scope.get()))

    def put(self, entry: DecisionEntry) -> None:
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
