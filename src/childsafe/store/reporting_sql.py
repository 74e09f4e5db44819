"""Incident reports' rows: the report, its evidence (already encrypted), the legal hold, and the incident list.

The repository knows nothing of packages, XML or the evidence key (that is ``childsafe.reporting``): a report is
stored with its evidence and its legal hold in one transaction, so no report exists without what it preserves.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError

import childsafe.store.oversight_schema  # registers the tables on the shared metadata
import childsafe.store.privacy_schema  # noqa: F401  (legal_holds, honoured by erasure)
from childsafe.store.schema import Base


@dataclass(frozen=True, slots=True)
class ReportRecord:
    id: str
    case_id: str
    idempotency_key: str
    incident_type: str
    package: dict[str, Any]
    status: str
    attempts: int
    remote_id: str | None
    hold_until: datetime


@dataclass(frozen=True, slots=True)
class NewReport:
    id: str
    case_id: str
    idempotency_key: str
    incident_type: str
    package: dict[str, Any]
    created_at: datetime
    hold_until: datetime


@dataclass(frozen=True, slots=True)
class SealedEvidence:
    """One evidence item, encrypted by the caller (``nonce`` + ``ciphertext``); ``sha256`` of the plaintext."""

    kind: str
    sha256: str
    nonce: bytes
    ciphertext: bytes


@dataclass(frozen=True, slots=True)
class LegalHold:
    """The hold recorded with a report, so the privacy services' erasure honours it."""

    child_id: str
    reference: str
    reason: str
    created_by: str


@dataclass(frozen=True, slots=True)
class IncidentRow:
    """A confirmed case joined with its report, if any (report fields None when no report was built)."""

    case_id: str
    decision_id: str
    category: str
    age_band: str
    child_id: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    report_id: str | None
    status: str | None
    incident_type: str | None
    remote_id: str | None
    attempts: int | None
    submitted_at: datetime | None
    hold_until: datetime | None


def _report(r: Any) -> ReportRecord:
    return ReportRecord(
        r.id,
        r.case_id,
        r.idempotency_key,
        r.incident_type,
        dict(r.package),
        r.status,
        r.attempts,
        r.remote_id,
        r.hold_until,
    )


class SqlIncidentReports:
    """Incident reports and their evidence over one database (Core statements on the shared metadata)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        tables = Base.metadata.tables
        self._reports = tables["incident_reports"]
        self._evidence = tables["report_evidence"]
        self._cases = tables["review_cases"]
        self._holds = tables["legal_holds"]

    def incidents(self, status: str, limit: int, *, categories: Sequence[str]) -> list[IncidentRow]:
        """Confirmed cases of ``categories``, oldest confirmation first, with their report state.

        ``status``: pending (not yet submitted, built or not), unreported (no report built), all, or a report
        status (ready, failed, submitted)."""
        cases, reports = self._cases, self._reports
        category = func.coalesce(cases.c.final_category, cases.c.category)
        q = (
            select(
                cases.c.id,
                cases.c.decision_id,
                category.label("category"),
                cases.c.age_band,
                cases.c.child_id,
                cases.c.resolved_at,
                cases.c.resolved_by,
                reports.c.id.label("report_id"),
                reports.c.status,
                reports.c.incident_type,
                reports.c.remote_id,
                reports.c.attempts,
                reports.c.submitted_at,
                reports.c.hold_until,
            )
            .select_from(cases.outerjoin(reports, reports.c.case_id == cases.c.id))
            .where(
                cases.c.status == "resolved",
                cases.c.outcome.in_(("confirm", "change_category")),
                category.in_(sorted(categories)),
            )
            .order_by(cases.c.resolved_at, cases.c.id)
            .limit(limit)
        )
        if status == "pending":
            q = q.where((reports.c.id.is_(None)) | (reports.c.status != "submitted"))
        elif status == "unreported":
            q = q.where(reports.c.id.is_(None))
        elif status != "all":
            q = q.where(reports.c.status == status)
        with self._engine.connect() as c:
            rows = c.execute(q).all()
        return [
            IncidentRow(
                r.id,
                r.decision_id,
                r.category,
                r.age_band,
                r.child_id,
                r.resolved_at,
                r.resolved_by,
                r.report_id,
                r.status,
                r.incident_type,
                r.remote_id,
                r.attempts,
                r.submitted_at,
                r.hold_until,
            )
            for r in rows
        ]

    def add(self, report: NewReport, evidence: Sequence[SealedEvidence], hold: LegalHold | None) -> ReportRecord | None:
        """Store a ready report with its evidence and hold in one transaction (None), or return the report the
        case already has (another process built it first). Any other integrity error is raised."""
        try:
            with self._engine.begin() as c:
                c.execute(
                    insert(self._reports).values(
                        id=report.id,
                        case_id=report.case_id,
                        idempotency_key=report.idempotency_key,
                        incident_type=report.incident_type,
                        package=report.package,
                        status="ready",
                        attempts=0,
                        created_at=report.created_at,
                        hold_until=report.hold_until,
                    )
                )
                for item in evidence:
                    c.execute(
                        insert(self._evidence).values(
                            report_id=report.id,
                            kind=item.kind[:20],
                            sha256=item.sha256,
                            nonce=item.nonce,
                            ciphertext=item.ciphertext,
                            created_at=report.created_at,
                            hold_until=report.hold_until,
                        )
                    )
                if hold is not None:
                    self._add_hold(c, hold, report.created_at)
        except IntegrityError:
            earlier = self.for_case(report.case_id)
            if earlier is None:
                raise
            return earlier
        return None

    def _add_hold(self, c: Connection, hold: LegalHold, now: datetime) -> None:
        c.execute(
            insert(self._holds).values(
                id="hold_" + uuid.uuid4().hex[:20],
                child_id=hold.child_id,
                reference=hold.reference,
                reason=hold.reason,
                created_by=hold.created_by,
                created_at=now,
                released_at=None,
            )
        )

    def report(self, report_id: str) -> ReportRecord | None:
        with self._engine.connect() as c:
            row = c.execute(select(self._reports).where(self._reports.c.id == report_id)).first()
        return None if row is None else _report(row)

    def for_case(self, case_id: str) -> ReportRecord | None:
        with self._engine.connect() as c:
            row = c.execute(select(self._reports).where(self._reports.c.case_id == case_id)).first()
        return None if row is None else _report(row)

    def evidence(self, report_id: str) -> list[SealedEvidence]:
        """The report's evidence items, in the order they were stored."""
        t = self._evidence
        with self._engine.connect() as c:
            rows = c.execute(select(t).where(t.c.report_id == report_id).order_by(t.c.id)).all()
        return [SealedEvidence(r.kind, r.sha256, r.nonce, r.ciphertext) for r in rows]

    def record_failure(self, report_id: str) -> None:
        t = self._reports
        with self._engine.begin() as c:
            c.execute(update(t).where(t.c.id == report_id).values(status="failed", attempts=t.c.attempts + 1))

    def record_submission(self, report_id: str, remote_id: str, at: datetime) -> None:
        t = self._reports
        with self._engine.begin() as c:
            c.execute(
                update(t)
                .where(t.c.id == report_id)
                .values(status="submitted", attempts=t.c.attempts + 1, remote_id=remote_id, submitted_at=at)
            )

    def mark_submitted(self, report_id: str, reference: str, at: datetime) -> bool:
        """Record a submission made outside childsafe; False when the report was already submitted."""
        t = self._reports
        with self._engine.begin() as c:
            done = c.execute(
                update(t)
                .where(t.c.id == report_id, t.c.status != "submitted")
                .values(status="submitted", remote_id=reference, submitted_at=at)
            )
        return bool(done.rowcount)


def incident_reports(handle: object) -> SqlIncidentReports:
    """The repository for ``handle``: a repository as it is, or a new one over an engine or an open Store.

    Lets the reporting service keep being built from the store's engine without importing SQLAlchemy itself."""
    if isinstance(handle, SqlIncidentReports):
        return handle
    if isinstance(handle, Engine):
        return SqlIncidentReports(handle)
    engine = getattr(handle, "engine", None)
    if isinstance(engine, Engine):
        return SqlIncidentReports(engine)
    raise TypeError(
        f"no incident reports over {type(handle).__name__}: give an engine, a Store or a SqlIncidentReports"
    )
