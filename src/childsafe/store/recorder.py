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
from typing import Any

from childsafe.store.interfaces import DecisionEntry, DecisionLog

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
    """``childsafe.events.EventSink`` writing decisions (and escalations) to a :class:`DecisionLog`."""

    def __init__(self, decisions: DecisionLog, *, batch_size: int = 200, max_queue: int = 100_000) -> None:
        self._decisions = decisions
        self._batch_size = batch_size
        self._queue: queue.Queue[object] = queue.Queue(maxsize=max_queue)
        self._idle = threading.Condition()
        self._pending = 0
        self.written = 0
        self.failed = 0
        self._thread = threading.Thread(target=self._run, name="childsafe-decision-writer", daemon=True)
        self._thread.start()

    def emit(self, event: Any) -> None:
        self.put(entry_from_event(event, decision_scope.get()))

    def put(self, entry: DecisionEntry) -> None:
        with self._idle:
            self._pending += 1
        self._queue.put(entry)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            batch: list[DecisionEntry] = [item]  # type: ignore[list-item]
            stop = False
            while len(batch) < self._batch_size:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is _STOP:
                    stop = True
                    break
                batch.append(nxt)  # type: ignore[arg-type]
            try:
                self._decisions.record(batch)
                self.written += len(batch)
            except Exception as exc:  # keep serving; a lost audit row is logged, never the content
                self.failed += len(batch)
                log.error("could not record %d decisions: %s", len(batch), type(exc).__name__)
            with self._idle:
                self._pending -= len(batch)
                self._idle.notify_all()
            if stop:
                return

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every emitted decision is written; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout=timeout)

    def close(self, timeout: float = 10.0) -> None:
        self.flush(timeout)
        self._queue.put(_STOP)
        self._thread.join(timeout)
