"""Adapter from the privacy services' audit hook to the audit log (consents, data rights, legal holds)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from childsafe.audit.events import AuditEvent, AuditEventType
from childsafe.audit.log import AuditLog


def _type_for(name: str) -> AuditEventType:
    if name.startswith("consent."):
        return AuditEventType.CONSENT_CHANGE
    if name.startswith("legal_hold."):
        return AuditEventType.LEGAL_HOLD
    if name.startswith("healthy_use.") or name.startswith("guardian."):
        return AuditEventType.CONFIG_CHANGE
    return AuditEventType.DATA_RIGHTS


def privacy_audit_hook(audit: AuditLog) -> Callable[[Any], None]:
    """A ``childsafe.privacy.hooks.AuditHook`` appending each privacy event (ids and counts only)."""

    def hook(event: Any) -> None:
        audit.append(
            AuditEvent(
                _type_for(str(event["type"])),
                {"event": str(event["type"]), "details": dict(event.get("details") or {})},
                actor=str(event.get("actor") or "unknown"),
                subject=event.get("child_id"),
            )
        )

    return hook
