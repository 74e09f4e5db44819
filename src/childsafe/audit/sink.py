"""An engine event sink that appends every decision to the audit log from a background thread."""

from __future__ import annotations

import logging
import queue
import threading
from threading import Event
from typing import Any

from childsafe.audit.events import AuditEvent, AuditEventType
from childsafe.audit.log import AuditLog
from childsafe.store.recorder import decision_scope

log = logging.getLogger("childsafe.audit")

_STOP = object()


def _value(x: Any) -> str:
    return str(getattr(x, "value", x))


def decision_audit_event(event: Any) -> AuditEvent:
    """The audit form of a ``DecisionEvent``: ids, hashes, categories and rules.

    The engine's redacted excerpt is left out: redaction masks personal details only, so for most flagged
    messages it is still the child's own words. The excerpt stays in the decisions table (which has a
    retention story); the audit log, kept for years, holds the content hash instead."""
    d = event.decision
    meta: dict[str, Any] = dict(getattr(event, "metadata", None) or {})
    scope = decision_scope.get()
    child_id = meta.get("child_id", scope.child_id if scope else None)
    return AuditEvent(
        AuditEventType.DECISION,
        {
            "decision_id": d.decision_id,
            "kind": str(getattr(event, "kind", "input")),
            "action": _value(d.action),
            "categories": [_value(c) for c in d.categories],
            "rules": [str(r) for r in d.rules],
            "policy_version": str(d.policy_version),
            "age_band": _value(d.age_band),
            "role": _value(d.role),
            "content_sha256": getattr(event, "content_sha256", None),
            "app_id": meta.get("app_id", scope.app_id if scope else None),
            "conversation_id": meta.get("conversation_id", scope.conversation_id if scope else None),
        },
        actor="engine",
        subject=child_id,
    )


class AuditSink:
    """``childsafe.events.EventSink`` that queues decisions and appends them to an :class:`AuditLog` in batches.

    ``only_flagged`` keeps allowed decisions out of the log (they are still in the decisions table)."""

    def __init__(self, audit: AuditLog, *, only_flagged: bool = False, batch_size: int = 200) -> None:
        self._audit = audit
        self._only_flagged = only_flagged
        self._batch_size = batch_size
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self.written = 0
        self.failed = 0
        self._thread = threading.Thread(target=self._run, name="childsafe-audit-writer", daemon=True)
        self._thread.start()

    def emit(self, event: Any) -> None:
        if self._only_flagged and _value(event.decision.action) == "allow":
            return
        self._queue.put(decision_audit_event(event))

    def put(self, event: AuditEvent) -> None:
        self._queue.put(event)

    def _run(self) -> None:
        while True:
            batch: list[object] = [self._queue.get()]
            while len(batch) < self._batch_size and batch[-1] is not _STOP and not isinstance(batch[-1], Event):
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            events = [x for x in batch if isinstance(x, AuditEvent)]
            if events:
                try:
                    self._audit.append_many(events)
                    self.written += len(events)
                except Exception as exc:  # keep serving; the failure is logged without content
                    self.failed += len(events)
                    log.error("could not append %d audit events: %s", len(events), type(exc).__name__)
            for marker in batch:
                if isinstance(marker, Event):
                    marker.set()
            if batch[-1] is _STOP:
                return

    def flush(self, timeout: float = 10.0) -> bool:
        if not self._thread.is_alive():
            return True
        done = Event()
        self._queue.put(done)
        return done.wait(timeout)

    def close(self, timeout: float = 10.0) -> None:
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join(timeout)
