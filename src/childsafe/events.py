"""Typed events the engine emits to the sinks it was given.

Audit, review and reporting implement :class:`EventSink`; the engine never imports them. Events carry
ids, hashes and redacted text, never a child's raw message.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, Protocol, runtime_checkable

from childsafe.types import Decision

EventKind = Literal["input", "output", "conversation"]


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True, slots=True)
class DecisionEvent:
    """A decision was made about a piece of content."""

    decision: Decision
    kind: EventKind
    content_sha256: str
    redacted_excerpt: str | None
    metadata: dict[str, Any] = field(default_factory=dict)
    at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def escalated(self) -> bool:
        return self.decision.action.severity >= self.decision.action.__class__.ESCALATE.severity


@runtime_checkable
class EventSink(Protocol):
    """Receives engine events. Must not raise for ordinary failures; the engine logs and continues."""

    def emit(self, event: DecisionEvent) -> None: ...


class ListSink:
    """Keeps events in memory (tests, the CLI's summary)."""

    def __init__(self) -> None:
        self.events: list[DecisionEvent] = []

    def emit(self, event: DecisionEvent) -> None:
        self.events.append(event)
