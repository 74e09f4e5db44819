"""The review queue's rows: cases, appeals, the escalations they come from, and the holds that keep them.

The repository knows nothing of due times, severities, consents or sealing (that is ``childsafe.review``): it
stores and reads rows as they are given, a child's words already sealed, and keeps the writes that belong
together (a decision on a case closes its escalation and its appeal) in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, exists, func, insert, select, update
from sqlalchemy.exc import IntegrityError

import childsafe.store.oversight_schema  # registers the tables on the shared metadata
import childsafe.store.privacy_schema  # noqa: F401  (legal_holds, read for a moderator's legal override)
from childsafe.store.schema import Base


@dataclass(frozen=True, slots=True)
class CaseRecord:
    """A case as stored; ``excerpt`` is still sealed under the child's key."""

    id: str
    decision_id: str
    source: str
    appeal_id: str | None
    status: str
    severity: int
    category: str
    age_band: str
    action: str
    excerpt: str | None
    app_id: int | None
    child_id: str | None
    conversation_id: str | None
    created_at: datetime
    due_at: datetime
    claimed_by: str | None
    outcome: str | None
    final_category: str | None
    reason: str | None
    resolved_by: str | None
    resolved_at: datetime | None


@dataclass(frozen=True, slots=True)
class NewCase:
    """A case to open; ``source_key`` makes it one case per source, even under concurrent imports."""

    id: str
    source_key: str
    decision_id: str
    source: str
    appeal_id: str | None
    severity: int
    category: str
    age_band: str
    action: str
    excerpt: str | None
    app_id: int | None
    child_id: str | None
    conversation_id: str | None
    created_at: datetime
    due_at: datetime


@dataclass(frozen=True, slots=True)
class AppealRecord:
    """An appeal as stored, without its (sealed) reason: read that with :meth:`SqlReviewCases.appeal_reason`."""

    id: str
    decision_id: str
    requester: str
    status: str
    outcome: str | None
    age_band: str
    case_id: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class NewAppeal:
    id: str
    decision_id: str
    requester: str
    reason: str | None
    """Sealed under the child's key (empty when the child was erased while the appeal was filed)."""
    age_band: str
    case_id: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class CaseTally:
    """Counts over every case: by status, unresolved by severity (most urgent first), unresolved past due."""

    by_status: dict[str, int]
    by_severity: list[tuple[int, int]]
    overdue: int


@dataclass(frozen=True, slots=True)
class CaseResolution:
    """A moderator's decision on a case, written with the escalation and appeal it closes."""

    case_id: str
    decision_id: str
    appeal_id: str | None
    outcome: str
    final_category: str | None
    reason: str
    resolved_by: str
    resolved_at: datetime


def _case(r: Any) -> CaseRecord:
    return CaseRecord(
        id=r.id,
        decision_id=r.decision_id,
        source=r.source,
        appeal_id=r.appeal_id,
        status=r.status,
        severity=r.severity,
        category=r.category,
        age_band=r.age_band,
        action=r.action,
        excerpt=r.excerpt,
        app_id=r.app_id,
        child_id=r.child_id,
        conversation_id=r.conversation_id,
        created_at=r.created_at,
        due_at=r.due_at,
        claimed_by=r.claimed_by,
        outcome=r.outcome,
        final_category=r.final_category,
        reason=r.reason,
        resolved_by=r.resolved_by,
        resolved_at=r.resolved_at,
    )


def _appeal(r: Any) -> AppealRecord:
    return AppealRecord(r.id, r.decision_id, r.requester, r.status, r.outcome, r.age_band, r.case_id, r.created_at)


class _DecisionGone(Exception):
    """Rolls back a case whose decision was erased meanwhile."""


class SqlReviewCases:
    """Review cases and appeals over one database (Core statements on the shared metadata)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        tables = Base.metadata.tables
        self._cases = tables["review_cases"]
        self._appeals = tables["appeals"]
        self._reports = tables["incident_reports"]
        self._escalations = tables["escalations"]
        self._holds = tables["legal_holds"]
        self._decisions = tables["decisions"]

    # -- cases -------------------------------------------------------------------------------------------

    def add_case(self, case: NewCase) -> bool:
        """Store a new open case; False when its source already has one (another process opened it first) or
        when its decision is gone (the child was erased since the escalation was read: a case opened now
        would be a row about an erased child). The decision is read after the insert, in its transaction: on
        SQLite the insert holds the write lock, so an erasure either committed before (the case is rolled back)
        or runs after (and deletes the case); on PostgreSQL the erasure deletes cases after the decisions."""
        values: dict[str, Any] = {
            "id": case.id,
            "source_key": case.source_key,
            "decision_id": case.decision_id,
            "source": case.source,
            "appeal_id": case.appeal_id,
            "status": "open",
            "severity": case.severity,
            "category": case.category,
            "age_band": case.age_band,
            "action": case.action,
            "excerpt": case.excerpt,
            "app_id": case.app_id,
            "child_id": case.child_id,
            "conversation_id": case.conversation_id,
            "created_at": case.created_at,
            "due_at": case.due_at,
        }
        try:
            with self._engine.begin() as c:
                c.execute(insert(self._cases).values(**values))
                gone = c.execute(select(self._decisions.c.id).where(self._decisions.c.id == case.decision_id)).first()
                if gone is None:
                    raise _DecisionGone
        except (IntegrityError, _DecisionGone):
            return False
        return True

    def escalations_without_case(self, limit: int, *, with_child_only: bool) -> list[str]:
        """Decision ids of open escalations no escalation case was opened for yet, oldest first."""
        esc, cases = self._escalations, self._cases
        q = (
            select(esc.c.decision_id)
            .where(esc.c.status == "open")
            .where(~exists().where(cases.c.decision_id == esc.c.decision_id, cases.c.source == "escalation"))
            .order_by(esc.c.id)
            .limit(limit)
        )
        if with_child_only:
            q = q.where(esc.c.child_id.is_not(None))
        with self._engine.connect() as c:
            return [str(d) for d in c.execute(q).scalars()]

    def case(self, case_id: str) -> CaseRecord | None:
        with self._engine.connect() as c:
            row = c.execute(select(self._cases).where(self._cases.c.id == case_id)).first()
        return None if row is None else _case(row)

    def cases(self, status: str | None, limit: int) -> list[CaseRecord]:
        """Cases by urgency (severity, then due time); ``status`` None means every case not yet resolved."""
        t = self._cases
        q = select(t).order_by(t.c.severity, t.c.due_at).limit(limit)
        q = q.where(t.c.status != "resolved") if status is None else q.where(t.c.status == status)
        with self._engine.connect() as c:
            return [_case(r) for r in c.execute(q)]

    def resolved_cases(self) -> list[CaseRecord]:
        """Every resolved case, in the order they were resolved."""
        t = self._cases
        q = select(t).where(t.c.status == "resolved").order_by(t.c.resolved_at, t.c.id)
        with self._engine.connect() as c:
            return [_case(r) for r in c.execute(q)]

    def tally(self, now: datetime) -> CaseTally:
        t = self._cases
        with self._engine.connect() as c:
            by_status = {str(r[0]): int(r[1]) for r in c.execute(select(t.c.status, func.count()).group_by(t.c.status))}
            by_severity = [
                (int(r[0]), int(r[1]))
                for r in c.execute(
                    select(t.c.severity, func.count())
                    .where(t.c.status != "resolved")
                    .group_by(t.c.severity)
                    .order_by(t.c.severity)
                )
            ]
            overdue = c.execute(
                select(func.count()).select_from(t).where(t.c.status != "resolved", t.c.due_at < now)
            ).scalar_one()
        return CaseTally(by_status, by_severity, int(overdue))

    def claim(self, case_id: str, moderator: str, now: datetime) -> bool:
        """Claim an open case; False when it is not open (claimed by someone, resolved, or unknown)."""
        t = self._cases
        with self._engine.begin() as c:
            result = c.execute(
                update(t)
                .where(t.c.id == case_id, t.c.status == "open")
                .values(status="claimed", claimed_by=moderator, claimed_at=now)
            )
        return bool(result.rowcount)

    def resolve(self, r: CaseResolution) -> bool:
        """Resolve the case, its escalation and its appeal together; False when it was already resolved."""
        t = self._cases
        with self._engine.begin() as c:
            done = c.execute(
                update(t)
                .where(t.c.id == r.case_id, t.c.status != "resolved")
                .values(
                    status="resolved",
                    outcome=r.outcome,
                    final_category=r.final_category,
                    reason=r.reason,
                    resolved_by=r.resolved_by,
                    resolved_at=r.resolved_at,
                )
            )
            if not done.rowcount:
                return False
            c.execute(
                update(self._escalations)
                .where(self._escalations.c.decision_id == r.decision_id)
                .values(status="resolved")
            )
            if r.appeal_id:
                c.execute(
                    update(self._appeals)
                    .where(self._appeals.c.id == r.appeal_id)
                    .values(status="decided", outcome=r.outcome, decided_at=r.resolved_at)
                )
        return True

    def under_legal_hold(self, child_id: str) -> bool:
        """Whether the child's data is under a hold not yet released."""
        h = self._holds
        with self._engine.connect() as c:
            held = c.execute(select(h.c.id).where(h.c.child_id == child_id, h.c.released_at.is_(None)).limit(1)).first()
        return held is not None

    def erase_child(self, child_id: str) -> tuple[int, int]:
        """Delete a child's cases and their appeals, except cases an incident report preserves.

        Returns (cases, appeals) deleted."""
        cases, appeals, reports = self._cases, self._appeals, self._reports
        with self._engine.begin() as c:
            held = set(
                c.execute(
                    select(cases.c.id)
                    .join(reports, reports.c.case_id == cases.c.id)
                    .where(cases.c.child_id == child_id)
                ).scalars()
            )
            doomed = [
                r.id for r in c.execute(select(cases.c.id).where(cases.c.child_id == child_id)) if r.id not in held
            ]
            n_appeals = c.execute(delete(appeals).where(appeals.c.case_id.in_(doomed))).rowcount if doomed else 0
            n_cases = c.execute(delete(cases).where(cases.c.id.in_(doomed))).rowcount if doomed else 0
        return int(n_cases or 0), int(n_appeals or 0)

    # -- appeals -----------------------------------------------------------------------------------------

    def add_appeal(self, appeal: NewAppeal) -> None:
        with self._engine.begin() as c:
            c.execute(
                insert(self._appeals).values(
                    id=appeal.id,
                    decision_id=appeal.decision_id,
                    requester=appeal.requester,
                    reason=appeal.reason,
                    age_band=appeal.age_band,
                    case_id=appeal.case_id,
                    status="pending",
                    created_at=appeal.created_at,
                )
            )

    def appeal(self, appeal_id: str) -> AppealRecord | None:
        with self._engine.connect() as c:
            row = c.execute(select(self._appeals).where(self._appeals.c.id == appeal_id)).first()
        return None if row is None else _appeal(row)

    def appeal_of_decision(self, decision_id: str) -> AppealRecord | None:
        """The (first) appeal filed against a decision."""
        a = self._appeals
        with self._engine.connect() as c:
            row = c.execute(select(a).where(a.c.decision_id == decision_id).order_by(a.c.created_at).limit(1)).first()
        return None if row is None else _appeal(row)

    def appeal_reason(self, appeal_id: str) -> str | None:
        """The appeal's reason as stored (sealed)."""
        with self._engine.connect() as c:
            reason = c.execute(select(self._appeals.c.reason).where(self._appeals.c.id == appeal_id)).scalar()
        return None if reason is None else str(reason)


def review_cases(handle: object) -> SqlReviewCases:
    """The repository for ``handle``: a repository as it is, or a new one over an engine or an open Store.

    Lets the review service keep being built from the store's engine without importing SQLAlchemy itself."""
    if isinstance(handle, SqlReviewCases):
        return handle
    if isinstance(handle, Engine):
        return SqlReviewCases(handle)
    engine = getattr(handle, "engine", None)
    if isinstance(engine, Engine):
        return SqlReviewCases(engine)
    raise TypeError(f"no review cases over {type(handle).__name__}: give an engine, a Store or a SqlReviewCases")
