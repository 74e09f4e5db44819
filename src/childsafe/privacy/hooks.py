"""Privacy events and the audit hook they are given to."""

from __future__ import annotations

from typing import Any, Literal, Protocol, TypedDict

PrivacyEventType = Literal[
    "guardian.created",
    "guardian.linked",
    "consent.granted",
    "consent.withdrawn",
    "child.rectified",
    "child.age_change_refused",
    "data.exported",
    "data.erased",
    "data.purged",
    "legal_hold.created",
    "legal_hold.released",
    "healthy_use.updated",
]


class PrivacyEvent(TypedDict):
    """One change to a child's privacy state: no message text, only ids, purposes and counts."""

    type: PrivacyEventType
    at: str
    actor: str
    child_id: str | None
    details: dict[str, Any]


class AuditHook(Protocol):
    """Receives every privacy event as it happens.

    The audit log (``childsafe.audit``) plugs in here so that consent changes, exports, erasures and holds
    land in its append-only hash chain; the privacy services never import it (they sit beside it, not
    above it). A hook must not raise for ordinary events: if it does, the change that emitted the event
    has already been committed, and the error propagates so the caller learns the audit trail is broken.
    """

    def __call__(self, event: PrivacyEvent, /) -> None: ...


def no_audit(event: PrivacyEvent) -> None:
    """The default hook: events go nowhere."""
