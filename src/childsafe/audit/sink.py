"""An engine event sink that appends every decision to the audit log from a background thread."""

from __future__ import annotations

import logging
from typing import Any

from childsafe.audit.content import ContentKey
from childsafe.audit.events import AuditEvent, AuditEventType
from childsafe.audit.log import AuditLog
from childsafe.store.background import BackgroundWriter, QueuedSink
from childsafe.store.recorder import decision_scope

log = logging.getLogger("childsafe.audit")


def _value(x: Any) -> str:
    return str(getattr(x, "value", x))


def decision_audit_event(event: Any, content_key: ContentKey | None = None) -> AuditEvent:
    """The audit form of a ``DecisionEvent``: ids, a keyed content digest, categories and rules.

    The engine's redacted excerpt is left out: redaction masks personal details only, so for most flagged
    messages it is still the child's own words. The excerpt stays in the decisions table (sealed under the
    child's key, with a retention period); the audit log, kept for years, holds a keyed digest of the content
    instead (``childsafe.audit.content``). Without a key no digest is recorded: a plain SHA-256 of a short
    message can be reversed by hashing guesses."""
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
            "language": getattr(d, "language", None),
            **_content_digest(getattr(event, "content_sha256", None), content_key),
            "app_id": meta.get("app_id", scope.app_id if scope else None),
            "conversation_id": meta.get("conversation_id", scope.conversation_id if scope else None),
        },
        actor="engine",
        subject=child_id,
    )


def _content_digest(content_sha256: str | None, key: ContentKey | None) -> dict[str, str]:
    if key is None or not content_sha256:
        return {}
    return {"content_hmac": key.of_sha256(content_sha256), "content_key_id": key.key_id}


class AuditSink(QueuedSink[AuditEvent]):
    """``childsafe.events.EventSink`` that queues decisions and appends them to an :class:`AuditLog` in batches.

    ``only_flagged`` keeps allowed decisions out of the log (they are still in the decisions table). The
    queue, thread and counters are a :class:`BackgroundWriter`. ``content_key`` keys the content digests
    (``ContentKey.from_config``); without it events carry no content digest."""

    def __init__(
        self,
        audit: AuditLog,
        *,
        only_flagged: bool = False,
        batch_size: int = 200,
        content_key: ContentKey | None = None,
    ) -> None:
        self._audit = audit
        self._only_flagged = only_flagged
        self._content_key = content_key
        self._writer: BackgroundWriter[AuditEvent] = BackgroundWriter(
            audit.append_many, name="childsafe-audit-writer", what="audit events", batch_size=batch_size, logger=log
        )

    def emit(self, event: Any) -> None:
        if self._only_flagged and _value(event.decision.action) == "allow":
            return
        self._writer.put(decision_audit_event(event, self._content_key))

    def put(self, event: AuditEvent) -> None:
        self._writer.put(event)
