"""Incident reports for confirmed sexual exploitation of a child: package, evidence under legal hold, submit."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

import childsafe.store.oversight_schema  # registers the tables on the shared metadata
import childsafe.store.privacy_schema  # noqa: F401  (legal_holds, honoured by erasure)
from childsafe.audit import AuditEvent, AuditEventType, AuditLog
from childsafe.reporting.package import (
    REPORTABLE_CATEGORIES,
    MediaEvidence,
    ReportedAccount,
    ReporterSettings,
    build_package,
    to_xml,
)
from childsafe.reporting.submit import SubmissionAdapter, SubmissionError
from childsafe.review import ReviewService
from childsafe.store.schema import Base
from childsafe.types import ChildsafeError

Clock = Callable[[], datetime]


class ReportingError(ChildsafeError):
    """A report cannot be made for this case (not confirmed, wrong category, unknown id)."""


@dataclass(frozen=True, slots=True)
class IncidentReport:
    id: str
    case_id: str
    idempotency_key: str
    incident_type: str
    package: dict[str, Any]
    status: str
    attempts: int
    remote_id: str | None
    hold_until: datetime

    @property
    def xml(self) -> str:
        return to_xml(self.package)


def _report(r: Any) -> IncidentReport:
    return IncidentReport(
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


def media_evidence(filename: str, data: bytes) -> MediaEvidence:
    """Hashes of a media file; PDQ when it decodes as a picture (needs the hashing extra)."""
    md5, sha1, sha256 = hashlib.md5(data).hexdigest(), hashlib.sha1(data).hexdigest(), hashlib.sha256(data).hexdigest()
    pdq: str | None = None
    try:
        from childsafe.hashing.hashers import decode_image, pdq_hash_image

        pdq = pdq_hash_image(decode_image(data), dihedral=False).hash
    except Exception:  # not a picture, or PDQ unavailable: the exact hashes still identify the file
        pdq = None
    return MediaEvidence(filename, md5, sha1, sha256, pdq, len(data))


class ReportingService:
    """Builds reports from confirmed cases, preserves evidence encrypted under a legal hold, submits them."""

    def __init__(
        self,
        engine: Engine,
        review: ReviewService,
        audit: AuditLog,
        evidence_key: bytes,
        *,
        reporter: ReporterSettings | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._engine = engine
        self._review = review
        self._audit = audit
        self._aead = AESGCM(hashlib.sha256(b"childsafe/evidence" + evidence_key).digest())
        self.reporter = reporter or ReporterSettings()
        self._clock = clock or (lambda: datetime.now(UTC))
        self._reports = Base.metadata.tables["incident_reports"]
        self._evidence = Base.metadata.tables["report_evidence"]

    def create(
        self,
        case_id: str,
        *,
        incident_type: str,
        actor: str,
        account: ReportedAccount | None = None,
        media: list[tuple[str, bytes]] | None = None,
        excerpts: list[dict[str, str]] | None = None,
    ) -> IncidentReport:
        """Build and store the report for a confirmed case (one per case: a second call returns the first)."""
        case = self._review.get(case_id)
        if case.status != "resolved" or case.outcome not in ("confirm", "change_category"):
            raise ReportingError(f"case {case_id} is not confirmed by a moderator; only confirmed cases are reported")
        if (case.final_category or case.category) not in REPORTABLE_CATEGORIES:
            raise ReportingError(
                f"case {case_id} was confirmed as {case.final_category or case.category}, "
                "not sexual exploitation of a child"
            )
        existing = self.for_case(case_id)
        if existing is not None:
            return existing
        now = self._clock()
        hold_until = now + timedelta(days=self.reporter.hold_days)
        report_id = "rpt_" + uuid.uuid4().hex[:20]
        files = [(name, data, media_evidence(name, data)) for name, data in (media or [])]
        messages = excerpts if excerpts is not None else ([{"excerpt": case.excerpt}] if case.excerpt else [])
        package = build_package(
            report_id=report_id,
            incident_type=incident_type,
            incident_time=case.created_at.isoformat(),
            reporter=self.reporter,
            account=account or ReportedAccount(),
            child_age_band=case.age_band,
            child_ref=case.child_id,
            excerpts=messages,
            media=[f[2] for f in files],
            moderator_notes=case.reason or "",
            case_id=case.id,
            decision_id=case.decision_id,
            categories=[case.final_category or case.category],
        )
        evidence: list[tuple[str, bytes]] = [(f"media:{n}", d) for n, d, _ in files]
        evidence += [("message", str(m).encode("utf-8")) for m in messages]
        try:
            with self._engine.begin() as c:
                c.execute(
                    insert(self._reports).values(
                        id=report_id,
                        case_id=case_id,
                        idempotency_key=hashlib.sha256(f"childsafe-report:{report_id}".encode()).hexdigest(),
                        incident_type=incident_type,
                        package=package,
                        status="ready",
                        attempts=0,
                        created_at=now,
                        hold_until=hold_until,
                    )
                )
                for kind, data in evidence:
                    nonce = os.urandom(12)
                    c.execute(
                        insert(self._evidence).values(
                            report_id=report_id,
                            kind=kind[:20],
                            sha256=hashlib.sha256(data).hexdigest(),
                            nonce=nonce,
                            ciphertext=self._aead.encrypt(nonce, data, report_id.encode()),
                            created_at=now,
                            hold_until=hold_until,
                        )
                    )
                self._record_legal_hold(c, report_id, case.child_id, actor, now)
        except IntegrityError:
            found = self.for_case(case_id)
            if found is None:
                raise
            return found
        self._audit.append_many(
            [
                AuditEvent(
                    AuditEventType.REPORT_CREATED,
                    {"report_id": report_id, "case_id": case_id, "incident_type": incident_type, "files": len(files)},
                    actor=actor,
                    subject=case.child_id,
                ),
                AuditEvent(
                    AuditEventType.LEGAL_HOLD,
                    {"report_id": report_id, "hold_until": hold_until.isoformat(), "evidence_items": len(evidence)},
                    actor=actor,
                    subject=case.child_id,
                ),
            ]
        )
        return self.get(report_id)

    def _record_legal_hold(self, c: Any, report_id: str, child_id: str | None, actor: str, now: datetime) -> None:
        # The privacy services' erasure honours holds in their legal_holds table, so the hold is recorded there
        # too; the evidence rows themselves have no foreign key to the child and survive an erasure regardless.
        holds = Base.metadata.tables.get("legal_holds")
        if holds is None or child_id is None:
            return
        c.execute(
            insert(holds).values(
                id="hold_" + uuid.uuid4().hex[:20],
                child_id=child_id,
                reference=f"incident report {report_id}",
                reason="evidence preserved for an incident report (at least one year)",
                created_by=actor,
                created_at=now,
                released_at=None,
            )
        )

    def get(self, report_id: str) -> IncidentReport:
        with self._engine.connect() as c:
            row = c.execute(select(self._reports).where(self._reports.c.id == report_id)).first()
        if row is None:
            raise ReportingError(f"no report with id {report_id!r}")
        return _report(row)

    def for_case(self, case_id: str) -> IncidentReport | None:
        with self._engine.connect() as c:
            row = c.execute(select(self._reports).where(self._reports.c.case_id == case_id)).first()
        return None if row is None else _report(row)

    def evidence(self, report_id: str) -> list[tuple[str, bytes]]:
        """Decrypt the preserved evidence (for the legal process that needs it)."""
        t = self._evidence
        with self._engine.connect() as c:
            rows = c.execute(select(t).where(t.c.report_id == report_id).order_by(t.c.id)).all()
        return [(r.kind, self._aead.decrypt(r.nonce, r.ciphertext, report_id.encode())) for r in rows]

    def submit(self, report_id: str, adapter: SubmissionAdapter, actor: str = "system") -> IncidentReport:
        """Submit once: an already submitted report is returned as it is; failures are recorded and raised."""
        report = self.get(report_id)
        if report.status == "submitted":
            return report
        t = self._reports
        try:
            remote = adapter.submit(report.package, report.xml, report.idempotency_key)
        except SubmissionError as exc:
            with self._engine.begin() as c:
                c.execute(update(t).where(t.c.id == report_id).values(status="failed", attempts=t.c.attempts + 1))
            raise ReportingError(f"report {report_id} not submitted: {exc}") from None
        now = self._clock()
        with self._engine.begin() as c:
            c.execute(
                update(t)
                .where(t.c.id == report_id)
                .values(status="submitted", attempts=t.c.attempts + 1, remote_id=remote, submitted_at=now)
            )
        self._audit.append(
            AuditEvent(AuditEventType.REPORT_SUBMITTED, {"report_id": report_id, "remote_id": remote}, actor=actor)
        )
        return self.get(report_id)
