"""The review queue as a moderator works through it: cases grouped by conversation, with counts, each case's
age and the time left before its due time.

A conversation that produced several cases (an escalation, then a report, then an appeal) is one piece of
work: a moderator reads the conversation once and decides its cases together, so they are shown as one
group. Groups are ordered by their most urgent case (severity, then due time).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from childsafe.review.service import Case


def format_span(delta: timedelta) -> str:
    """A duration as a moderator reads it at a glance: "45 min", "3 h 05 min", "2 d 4 h"."""
    minutes = max(0, int(delta.total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


@dataclass(frozen=True, slots=True)
class QueueRow:
    case: Case
    age: str
    """How long ago the case arose (the escalation, or the appeal)."""
    time_left: str
    """Time until the due time, or how long it has been overdue."""
    overdue: bool


@dataclass(frozen=True, slots=True)
class CaseGroup:
    conversation_id: str | None
    """None: a case from a single check that belongs to no conversation (a group of one)."""
    rows: list[QueueRow]

    @property
    def severity(self) -> int:
        return min(r.case.severity for r in self.rows)

    @property
    def overdue(self) -> int:
        return sum(r.overdue for r in self.rows)

    @property
    def due_at(self) -> datetime:
        return min(r.case.due_at for r in self.rows)


@dataclass(frozen=True, slots=True)
class QueueCounts:
    """Counts over the whole queue (not only the page shown)."""

    open: int = 0
    claimed: int = 0
    overdue: int = 0
    resolved: int = 0
    by_severity: tuple[tuple[int, int], ...] = ()
    """(severity, unresolved cases), most urgent first."""

    @property
    def unresolved(self) -> int:
        return self.open + self.claimed


def queue_row(case: Case, now: datetime) -> QueueRow:
    overdue = case.overdue(now)
    if case.status == "resolved":
        left = "resolved"
    elif overdue:
        left = "overdue by " + format_span(now - case.due_at)
    else:
        left = format_span(case.due_at - now)
    return QueueRow(case, format_span(now - case.created_at), left, overdue)


def group_by_conversation(cases: list[Case], now: datetime) -> list[CaseGroup]:
    """One group per conversation (cases in the order they arose), most urgent group first."""
    groups: dict[str, list[Case]] = {}
    singles: list[CaseGroup] = []
    for case in cases:
        if case.conversation_id is None:
            singles.append(CaseGroup(None, [queue_row(case, now)]))
        else:
            groups.setdefault(case.conversation_id, []).append(case)
    out = [
        CaseGroup(conv, [queue_row(c, now) for c in sorted(members, key=lambda c: (c.created_at, c.id))])
        for conv, members in groups.items()
    ]
    return sorted(out + singles, key=lambda g: (g.severity, g.due_at))
