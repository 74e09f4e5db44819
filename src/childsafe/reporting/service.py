"""Incident reports for confirmed sexual exploitation of a child: package, evidence under legal hold, submit."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from childsafe.audit import AuditEvent, AuditEventType, AuditLog
from childsafe.reporting.package import (
    REPORTABLE_CATEGORIES,
    MediaEvidence,
    ReportedAccount,
    ReporterSettings,
    build_package,
    package_placeholders,
    to_xml,
)
from childsafe.reporting.schema import report_problems
from childsafe.reporting.submit import HttpSubmissionAdapter, SubmissionAdapter, SubmissionError
from childsafe.review import ReviewService
from childsafe.review.explain import conversation_window
from childsafe.review.service import Case
from childsafe.store.interfaces import DecisionEntry, DecisionLog, MessageVault
from childsafe.store.reporting_sql import (
    LegalHold,
    NewReport,
    ReportRecord,
    SealedEvidence,
    incident_reports,
)
from childsafe.types import ChildsafeError, Clock

ImageHasher = Callable[[bytes], str | None]
"""The PDQ hash (hex) of a media file that decodes as a picture (``childsafe.hashing``, handed in by the caller:
reporting does not import the hashing library); it may raise for a file that is not a picture."""
MessageSource = MessageVault | Callable[[], MessageVault | None] | None
"""The stored messages: a vault, or a callable read at use time (the gateway swaps in a per-child vault)."""


class ReportingError(ChildsafeError):
    """A report cannot be made for this case (not confirmed, wrong category, unknown id)."""


@dataclass(frozen=True, slots=True)
class IncidentReport(ReportRecord):
    """A stored incident report, with its package as CyberTipline-style XML."""

    @property
    def xml(self) -> str:
        return to_xml(self.package)


INCIDENT_STATUSES = ("pending", "unreported", "ready", "failed", "submitted", "all")
"""Filters for :meth:`ReportingService.incidents`: pending = everything not yet submitted."""


@dataclass(frozen=True, slots=True)
class Incident:
    """A case confirmed as sexual exploitation of a child, with its report if one was built (ids, no content)."""

    case_id: str
    decision_id: str
    category: str
    age_band: str
    child_ref: str | None
    confirmed_at: datetime | None
    confirmed_by: str | None
    report_id: str | None
    status: str  # unreported | ready | failed | submitted
    incident_type: str | None
    remote_id: str | None
    attempts: int
    submitted_at: datetime | None
    hold_until: datetime | None

    def to_json(self) -> dict[str, Any]:
        return {
            "case_id": self.case_id,
            "decision_id": self.decision_id,
            "category": self.category,
            "age_band": self.age_band,
            "child_ref": self.child_ref,
            "confirmed_at": None if self.confirmed_at is None else self.confirmed_at.isoformat(),
            "confirmed_by": self.confirmed_by,
            "report_id": self.report_id,
            "status": self.status,
            "incident_type": self.incident_type,
            "reference": self.remote_id,
            "attempts": self.attempts,
            "submitted_at": None if self.submitted_at is None else self.submitted_at.isoformat(),
            "hold_until": None if self.hold_until is None else self.hold_until.isoformat(),
        }


def _utc(at: datetime) -> datetime:
    """A stored time in UTC (SQLite hands back naive datetimes that were written as UTC)."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _report(r: ReportRecord) -> IncidentReport:
    fields = {f.name: getattr(r, f.name) for f in dataclasses.fields(ReportRecord)}
    return IncidentReport(**{**fields, "package": dict(r.package)})


def media_evidence(filename: str, data: bytes, pdq: ImageHasher | None = None) -> MediaEvidence:
    """Hashes of a media file; PDQ when ``pdq`` is given and the file decodes as a picture."""
    md5, sha1, sha256 = hashlib.md5(data).hexdigest(), hashlib.sha1(data).hexdigest(), hashlib.sha256(data).hexdigest()
    pdq_hex: str | None = None
    if pdq is not None:
        try:
            pdq_hex = pdq(data)
        except Exception:  # not a picture, or PDQ unavailable: the exact hashes still identify the file
            pdq_hex = None
    return MediaEvidence(filename, md5, sha1, sha256, pdq_hex, len(data))


class ReportingService:
    """Builds reports from confirmed cases, preserves evidence encrypted under a legal hold, submits them.

    ``db`` is where the reports live: the store's engine or the store (opaque here), or a
    :class:`childsafe.store.reporting_sql.SqlIncidentReports`. ``image_hash`` adds the PDQ hash of pictures
    to the media evidence (none without it)."""

    def __init__(
        self,
        db: object,
        review: ReviewService,
        audit: AuditLog,
        evidence_key: bytes,
        *,
        reporter: ReporterSettings | None = None,
        clock: Clock | None = None,
        decisions: DecisionLog | None = None,
        messages: MessageSource = None,
        image_hash: ImageHasher | None = None,
    ) -> None:
        self._db = incident_reports(db)
        self._review = review
        self._audit = audit
        self._decisions = decisions
        self._messages_source = messages
        self._aead = AESGCM(hashlib.sha256(b"childsafe/evidence" + evidence_key).digest())
        self.reporter = reporter or ReporterSettings()
        self._clock = clock or (lambda: datetime.now(UTC))
        self._image_hash = image_hash

    @classmethod
    def from_config(
        cls,
        config: object,
        store: Any,
        *,
        review: ReviewService | None = None,
        audit: AuditLog | None = None,
        clock: Clock | None = None,
        image_hash: ImageHasher | None = None,
    ) -> ReportingService:
        """The service over an open :class:`childsafe.store.Store`, set up from a :class:`childsafe.config.Config`.

        ``config.reporting`` gives the reporting organisation, contact, hold period and submission endpoint;
        the evidence key is derived from the store's master key (``store.encryption_key`` or the key file in
        ``store.data_dir``), so evidence preserved by one process can be read by the next."""
        from childsafe.audit import open_audit_log
        from childsafe.store.crypto import load_master_key

        section = getattr(config, "store", None)
        data_dir = getattr(section, "data_dir", "./childsafe-data")
        key = load_master_key(getattr(section, "encryption_key", None), data_dir)
        audit = audit or open_audit_log(store.engine, config)
        return cls(
            store.engine,
            review or ReviewService.from_store(store, config, audit),
            audit,
            key,
            reporter=ReporterSettings.from_config(config),
            clock=clock or getattr(store, "clock", None),
            decisions=store.decisions,
            messages=lambda: store.messages,
            image_hash=image_hash,
        )

    def submission_adapter(self, token: str | None = None, **kw: Any) -> HttpSubmissionAdapter:
        """An HTTP adapter for ``reporting.endpoint``; :class:`ReportingError` when no endpoint is configured."""
        endpoint = (self.reporter.endpoint or "").strip()
        if not endpoint:
            raise ReportingError(
                "reporting.endpoint is not set: submit through the receiver's own channel and record the reference "
                "with `childsafe report mark-submitted`"
            )
        if not endpoint.startswith(("https://", "http://")):
            raise ReportingError(f"reporting.endpoint must be an http(s) URL, got {endpoint!r}")
        return HttpSubmissionAdapter(endpoint, token, **kw)

    def incidents(self, status: str = "pending", limit: int = 500) -> list[Incident]:
        """Confirmed exploitation cases, oldest confirmation first, with their report state.

        ``status``: pending (not yet submitted, built or not), unreported (no report built), ready, failed,
        submitted, or all."""
        if status not in INCIDENT_STATUSES:
            raise ReportingError(f"status must be one of {', '.join(INCIDENT_STATUSES)}, got {status!r}")
        rows = self._db.incidents(status, limit, categories=sorted(REPORTABLE_CATEGORIES))
        return [
            Incident(
                r.case_id,
                r.decision_id,
                r.category,
                r.age_band,
                r.child_id,
                r.resolved_at,
                r.resolved_by,
                r.report_id,
                r.status or "unreported",
                r.incident_type,
                r.remote_id,
                int(r.attempts or 0),
                r.submitted_at,
                r.hold_until,
            )
            for r in rows
        ]

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
        files = [(name, data, media_evidence(name, data, self._image_hash)) for name, data in (media or [])]
        entry = self._decisions.get(case.decision_id) if self._decisions is not None else None
        incident_time = entry.created_at if entry is not None and entry.created_at is not None else case.created_at
        messages = excerpts if excerpts is not None else self._messages_seen(case, entry, incident_time)
        package = build_package(
            report_id=report_id,
            incident_type=incident_type,
            incident_time=_utc(incident_time).isoformat(),
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
        problems = report_problems(to_xml(package))
        if problems:
            raise ReportingError(f"the report for case {case_id} is incomplete: " + "; ".join(problems))
        evidence: list[tuple[str, bytes]] = [(f"media:{n}", d) for n, d, _ in files]
        evidence += [("message", json.dumps(m, ensure_ascii=False).encode("utf-8")) for m in messages]
        report = NewReport(
            id=report_id,
            case_id=case_id,
            idempotency_key=hashlib.sha256(f"childsafe-report:{report_id}".encode()).hexdigest(),
            incident_type=incident_type,
            package=package,
            created_at=now,
            hold_until=hold_until,
        )
        sealed = [self._seal(report_id, kind, data) for kind, data in evidence]
        earlier = self._db.add(report, sealed, self._hold(case, report_id, actor))
        if earlier is not None:  # built meanwhile by another process
            return _report(earlier)
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

    def _messages_seen(self, case: Case, entry: DecisionEntry | None, decided_at: datetime) -> list[dict[str, Any]]:
        """The stored messages the moderator's case page shows (the conversation window around the flagged
        message), each with its sender and the time it was stored; without stored messages, the decision's
        redacted excerpt at the time of the decision.

        Read under the operator's duty to report, whatever the consents (as :meth:`ReviewService.get`)."""
        source = self._messages_source
        vault = source() if callable(source) else source
        stored = vault.read(case.conversation_id) if vault is not None and case.conversation_id else []
        window = conversation_window(stored, case.decision_id)
        if window:
            return [
                {"role": m.role, "sentAt": _utc(m.at).isoformat(), "flagged": m.flagged, "text": m.text} for m in window
            ]
        if not case.excerpt:
            return []
        role = entry.role if entry is not None else "unknown"
        return [
            {
                "role": role,
                "sentAt": _utc(decided_at).isoformat(),
                "flagged": True,
                "text": case.excerpt,
                "redacted": True,
            }
        ]

    def _seal(self, report_id: str, kind: str, data: bytes) -> SealedEvidence:
        nonce = os.urandom(12)
        ciphertext = self._aead.encrypt(nonce, data, report_id.encode())
        return SealedEvidence(kind, hashlib.sha256(data).hexdigest(), nonce, ciphertext)

    @staticmethod
    def _hold(case: Case, report_id: str, actor: str) -> LegalHold | None:
        # The privacy services' erasure honours holds in their legal_holds table, so the hold is recorded there
        # too; the evidence rows themselves have no foreign key to the child and survive an erasure regardless.
        if case.child_id is None:
            return None
        return LegalHold(
            case.child_id,
            f"incident report {report_id}",
            "evidence preserved for an incident report (at least one year)",
            actor,
        )

    def get(self, report_id: str) -> IncidentReport:
        row = self._db.report(report_id)
        if row is None:
            raise ReportingError(f"no report with id {report_id!r}")
        return _report(row)

    def for_case(self, case_id: str) -> IncidentReport | None:
        row = self._db.for_case(case_id)
        return None if row is None else _report(row)

    def evidence(self, report_id: str) -> list[tuple[str, bytes]]:
        """Decrypt the preserved evidence (for the legal process that needs it)."""
        items = self._db.evidence(report_id)
        return [(e.kind, self._aead.decrypt(e.nonce, e.ciphertext, report_id.encode())) for e in items]

    def submit(self, report_id: str, adapter: SubmissionAdapter, actor: str = "system") -> IncidentReport:
        """Submit once: an already submitted report is returned as it is; failures are recorded and raised."""
        report = self.get(report_id)
        if report.status == "submitted":
            return report
        try:
            remote = adapter.submit(report.package, report.xml, report.idempotency_key)
        except SubmissionError as exc:
            self._db.record_failure(report_id)
            raise ReportingError(f"report {report_id} not submitted: {exc}") from None
        self._db.record_submission(report_id, remote, self._clock())
        self._audit.append(
            AuditEvent(AuditEventType.REPORT_SUBMITTED, {"report_id": report_id, "remote_id": remote}, actor=actor)
        )
        return self.get(report_id)

    def mark_submitted(self, report_id: str, reference: str, actor: str) -> IncidentReport:
        """Record a report submitted outside childsafe (e.g. the CyberTipline web form) with its reference number.

        Recording the same reference again is harmless; a different reference for a submitted report is refused
        (it would hide which filing the authorities hold)."""
        ref = reference.strip()
        if not ref:
            raise ReportingError("a reference number is required (the receiver's id for the submitted report)")
        if len(ref) > 200 or any(ch in ref for ch in "\r\n\t"):
            raise ReportingError("the reference number must be one line of at most 200 characters")
        if not actor.strip():
            raise ReportingError("who recorded the submission is required (actor)")
        report = self.get(report_id)
        if report.status != "submitted":
            if self._db.mark_submitted(report_id, ref, self._clock()):
                self._audit.append(
                    AuditEvent(
                        AuditEventType.REPORT_SUBMITTED,
                        {"report_id": report_id, "remote_id": ref, "via": "recorded by operator"},
                        actor=actor,
                    )
                )
                return self.get(report_id)
            report = self.get(report_id)  # submitted meanwhile by someone else
        if report.remote_id != ref:
            raise ReportingError(
                f"report {report_id} is already recorded as submitted with reference {report.remote_id!r}"
            )
        return report

    def export_package(self, report_id: str, directory: Path, actor: str, *, overwrite: bool = False) -> list[Path]:
        """Write ``<report id>.json`` and ``<report id>.xml`` into ``directory`` (owner-only files); audited.

        The package holds evidence excerpts, so the files are created mode 0600 and an existing file is not
        replaced unless ``overwrite``. Raises :class:`ReportingError` for an unknown report and ``OSError``
        when the directory cannot be written."""
        report = self.get(report_id)
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        outputs = [
            (directory / f"{report.id}.json", json.dumps(report.package, indent=2, ensure_ascii=False) + "\n"),
            (directory / f"{report.id}.xml", report.xml + "\n"),
        ]
        if not overwrite:
            for path, _ in outputs:
                if path.exists():
                    raise ReportingError(f"{path} already exists (pass overwrite / --force to replace it)")
        for path, body in outputs:
            tmp = path.with_name(path.name + ".tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(body)
            os.replace(tmp, path)
        self._audit.append(
            AuditEvent(
                AuditEventType.EXPORT,
                {
                    "what": "incident report package",
                    "report_id": report.id,
                    "case_id": report.case_id,
                    "sha256": hashlib.sha256(outputs[0][1].encode("utf-8")).hexdigest(),
                },
                actor=actor,
            )
        )
        return [p for p, _ in outputs]

    def unsendable(self, report_id: str) -> list[str]:
        """Reporter fields still at placeholder values in this report's package (empty when it can be sent)."""
        return package_placeholders(self.get(report_id).package)
