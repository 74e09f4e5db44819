"""Review queue and appeals: escalated decisions and contested blocks become cases that moderators decide."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field
from sqlalchemy import Engine, delete, exists, func, insert, select, update
from sqlalchemy.exc import IntegrityError

import childsafe.store.oversight_schema  # noqa: F401  (registers the tables on the shared metadata)
from childsafe.audit import AuditEvent, AuditEventType, AuditLog
from childsafe.privacy.consent import ConsentLedger, Purpose, consent_allows
from childsafe.review.explain import (
    ContextMessage,
    Explanation,
    conversation_window,
    explanation_of,
    flagged_text,
)
from childsafe.review.messages import appeal_message
from childsafe.store.interfaces import DecisionEntry, DecisionLog, MessageVault, StoredMessage
from childsafe.store.privacy_sql import PrivacyDb, SqlConsentLedger, SqlGuardians
from childsafe.store.schema import Base
from childsafe.store.sealing import WordSealer, is_sealed, words_context
from childsafe.types import ChildsafeError

if TYPE_CHECKING:
    from childsafe.review.queue import QueueCounts

log = logging.getLogger("childsafe.review")

Clock = Callable[[], datetime]
ConsentCheck = Callable[[str, Purpose], bool]
"""Whether a child's data may be used for a purpose now (``PrivacyServices.allows``)."""
UrgentCaseHook = Callable[["UrgentCase"], None]
"""Called when a severity-1 case is opened from an escalation (``childsafe.review.alerts.Alerter.notify``);
it must return at once (the alerts are sent from another thread)."""

OUTCOMES = ("confirm", "overturn", "change_category")
MODERATOR_ROLES = frozenset({"moderator", "admin"})
URGENT_CATEGORIES = frozenset({"sexual_minors", "grooming", "self_harm"})
CONTESTABLE_ACTIONS = frozenset({"block", "escalate", "report", "redact"})


class ReviewError(ChildsafeError):
    """A review action is not allowed or refers to something that does not exist (message says which)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class ReviewSettings(BaseModel):
    """Service-level targets per severity (1 = most urgent), read from ``config.review`` when present."""

    sla_hours: dict[int, float] = Field(default_factory=lambda: {1: 1.0, 2: 24.0, 3: 72.0})
    appeal_sla_hours: float = 48.0
    queue_without_child: bool = False
    """Whether escalations naming no child (``/v1/check``, ``/v1/moderations`` without one) become cases."""

    @classmethod
    def from_config(cls, config: object) -> ReviewSettings:
        section = getattr(config, "review", None)
        if section is None:
            return cls()
        return cls.model_validate(section, from_attributes=True)


@dataclass(frozen=True, slots=True)
class Case:
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
    excerpt_erased: bool = False
    """The excerpt was stored but cannot be read any more: the child's key was destroyed by erasure."""

    def overdue(self, now: datetime) -> bool:
        return self.status != "resolved" and now > self.due_at


@dataclass(frozen=True, slots=True)
class UrgentCase:
    """What an alert may say about a severity-1 case: ids, labels and times, never the child's words."""

    case_id: str
    categories: tuple[str, ...]
    severity: int
    action: str
    opened_at: datetime
    due_at: datetime


@dataclass(frozen=True, slots=True)
class CaseView:
    """What a moderator sees: the case, the redacted excerpt and (if stored) the flagged message itself.

    Without the guardian's ``human_review`` consent the child's words (excerpt, messages, appeal reason) are
    left out and ``consent_withheld`` is set; the categories and scores remain. ``legal_override`` names the
    legal obligation under which words are shown anyway (see :data:`LEGAL_OVERRIDES`)."""

    case: Case
    messages: list[dict[str, str]]
    scores: dict[str, float] = field(default_factory=dict)
    appeal_reason: str | None = None
    consent_withheld: bool = False
    legal_override: str | None = None
    conversation: list[ContextMessage] = field(default_factory=list)
    """The stored messages around the flagged one (empty without consent or without stored messages)."""
    explanation: Explanation = field(default_factory=Explanation)
    """Detectors, spans and rules behind the decision (span quotes only when the words are shown)."""
    appeal: Appeal | None = None


@dataclass(frozen=True, slots=True)
class Appeal:
    id: str
    decision_id: str
    requester: str
    status: str
    outcome: str | None
    age_band: str
    case_id: str
    created_at: datetime

    def public(self) -> dict[str, Any]:
        """The appeal as told back to the child or guardian, in words for the child's age."""
        return {
            "appeal_id": self.id,
            "decision_id": self.decision_id,
            "status": self.status,
            "outcome": self.outcome,
            "message": appeal_message(self.status, self.outcome, self.age_band, self.requester),
        }


LEGAL_OVERRIDES = {
    "mandatory_report": "a 'report' decision (suspected sexual exploitation of a child), which the operator must "
    "assess and report to the authorities whatever the consents (e.g. 18 U.S.C. 2258A)",
    "legal_hold": "the child's data is under an active legal hold for an incident report or a court",
}
"""When a moderator sees a child's words without ``human_review`` consent; every such view is audited."""


def _case(r: Any, excerpt: str | None = None) -> Case:
    return Case(
        id=r.id,
        decision_id=r.decision_id,
        source=r.source,
        appeal_id=r.appeal_id,
        status=r.status,
        severity=r.severity,
        category=r.category,
        age_band=r.age_band,
        action=r.action,
        excerpt=excerpt,
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
        excerpt_erased=is_sealed(r.excerpt) and excerpt is None,
    )


def _appeal(r: Any) -> Appeal:
    return Appeal(r.id, r.decision_id, r.requester, r.status, r.outcome, r.age_band, r.case_id, r.created_at)


def severity_of(action: str, categories: list[str]) -> int:
    if action == "report" or URGENT_CATEGORIES.intersection(categories):
        return 1
    return 2 if action == "escalate" else 3


class ReviewService:
    """Cases, claims, moderator views and decisions, appeals; every step is an audit event.

    A child's words (case excerpts, appeal reasons) are stored sealed under the child's key (``sealer``,
    by default the decision log's), and consents are read where the words are used: ``human_review`` for the
    moderator's view, ``model_improvement`` for the feedback export. ``consent`` defaults to reading the
    ledger in this database (``consent_required`` as ``privacy.consent_required``)."""

    def __init__(
        self,
        engine: Engine,
        decisions: DecisionLog,
        audit: AuditLog,
        messages: MessageVault | Callable[[], MessageVault | None] | None = None,
        *,
        settings: ReviewSettings | None = None,
        clock: Clock | None = None,
        sealer: WordSealer | None = None,
        consent: ConsentCheck | None = None,
        consent_required: bool = False,
        on_urgent: UrgentCaseHook | None = None,
    ) -> None:
        self._engine = engine
        self._decisions = decisions
        self._audit = audit
        # A callable is read at use time: the gateway's privacy layer swaps in a per-child-key vault after start.
        self._messages_source = messages
        self._settings = settings or ReviewSettings()
        self._clock = clock or (lambda: datetime.now(UTC))
        self._cases = Base.metadata.tables["review_cases"]
        self._appeals = Base.metadata.tables["appeals"]
        self._escalations = Base.metadata.tables["escalations"]
        self._holds = Base.metadata.tables["legal_holds"]
        found = sealer if sealer is not None else getattr(decisions, "sealer", None)
        if not isinstance(found, WordSealer):
            raise ValueError("ReviewService needs a WordSealer (Store.sealer): a child's words are never stored open")
        self._sealer = found
        self._consent = consent if consent is not None else self._ledger_check(consent_required)
        self._on_urgent = on_urgent

    def _ledger_check(self, required: bool) -> ConsentCheck:
        db = PrivacyDb(self._engine, self._clock)
        ledger = ConsentLedger(SqlConsentLedger(db), SqlGuardians(db).guardian_of, self._clock)
        return lambda child_id, purpose: consent_allows(ledger, child_id, purpose, required=required)

    @classmethod
    def from_store(
        cls, store: Any, config: object, audit: AuditLog | None = None, on_urgent: UrgentCaseHook | None = None
    ) -> ReviewService:
        from childsafe.audit import open_audit_log
        from childsafe.privacy.settings import privacy_settings

        return cls(
            store.engine,
            store.decisions,
            audit or open_audit_log(store.engine, config),
            lambda: store.messages,
            settings=ReviewSettings.from_config(config),
            clock=store.clock,
            sealer=store.sealer,
            consent_required=privacy_settings(config).consent_required,
            on_urgent=on_urgent,
        )

    def _open_words(self, rows: list[Any]) -> list[Case]:
        """Cases with their excerpts opened (one key lookup per child)."""
        keys: dict[str, bytes | None] = {}
        out = []
        for r in rows:
            if r.child_id is not None and r.child_id not in keys:
                keys[r.child_id] = self._sealer.child_key(r.child_id)
            key = keys.get(r.child_id) if r.child_id is not None else None
            context = words_context("review_cases", "excerpt", r.id)
            out.append(_case(r, self._sealer.open(r.child_id, r.excerpt, context, key=key)))
        return out

    @property
    def _messages(self) -> MessageVault | None:
        src = self._messages_source
        if src is None or not callable(src):
            return src
        return src()

    # -- cases -------------------------------------------------------------------------------------------

    def _open_case(
        self,
        entry: DecisionEntry,
        source: str,
        source_key: str,
        appeal_id: str | None,
        severity: int,
        sla_h: float,
        opened_at: datetime | None = None,
    ) -> str | None:
        """Open a case that arose at ``opened_at`` (default now); its due time counts from then."""
        opened = opened_at or self._clock()
        case_id = "case_" + uuid.uuid4().hex[:20]
        category = entry.categories[0] if entry.categories else "other_unsafe"
        excerpt = None
        if entry.excerpt is not None:
            key = self._sealer.key_for(entry.child_id)  # before the transaction: creating a key is a write
            if entry.child_id is None or key is not None:  # no key: the child was erased, keep no words
                context = words_context("review_cases", "excerpt", case_id)
                excerpt = self._sealer.seal(entry.child_id, entry.excerpt, context, key=key)
        try:
            with self._engine.begin() as c:
                c.execute(
                    insert(self._cases).values(
                        id=case_id,
                        source_key=source_key,
                        decision_id=entry.id,
                        source=source,
                        appeal_id=appeal_id,
                        status="open",
                        severity=severity,
                        category=category,
                        age_band=entry.age_band,
                        action=entry.action,
                        excerpt=excerpt,
                        app_id=entry.app_id,
                        child_id=entry.child_id,
                        conversation_id=entry.conversation_id,
                        created_at=opened,
                        due_at=opened + timedelta(hours=sla_h),
                    )
                )
        except IntegrityError:
            return None  # already opened (by another process or an earlier import)
        self._audit.append(
            AuditEvent(
                AuditEventType.CASE_OPENED,
                {"case_id": case_id, "decision_id": entry.id, "source": source, "severity": severity},
                actor="system",
                subject=entry.child_id,
            )
        )
        if severity == 1 and source == "escalation" and self._on_urgent is not None:
            urgent = UrgentCase(
                case_id, tuple(entry.categories), severity, entry.action, opened, opened + timedelta(hours=sla_h)
            )
            try:
                self._on_urgent(urgent)
            except Exception as exc:  # an alert must never cost the case
                log.error("could not queue the alert for case %s (%s)", case_id, type(exc).__name__)
        return case_id

    def import_escalations(self, limit: int = 500) -> int:
        """Open a case for each open escalation that has none yet; returns how many were opened.

        A case's age and due time count from the decision (the escalation), not from this import: a queue
        nobody opened for hours shows those hours as overdue. Escalations naming no child (a bare
        ``/v1/check`` or ``/v1/moderations`` call, usually an app testing content) stay recorded and audited
        but open no case, unless ``review.queue_without_child`` is set."""
        esc, cases = self._escalations, self._cases
        q = (
            select(esc.c.decision_id)
            .where(esc.c.status == "open")
            .where(~exists().where(cases.c.decision_id == esc.c.decision_id, cases.c.source == "escalation"))
            .order_by(esc.c.id)
            .limit(limit)
        )
        if not self._settings.queue_without_child:
            q = q.where(esc.c.child_id.is_not(None))
        with self._engine.connect() as c:
            pending = list(c.execute(q).scalars())
        opened = 0
        for decision_id in pending:
            entry = self._decisions.get(decision_id)
            if entry is None:
                continue
            sev = severity_of(entry.action, entry.categories)
            key = f"escalation:{entry.id}"
            if self._open_case(entry, "escalation", key, None, sev, self._sla(sev), entry.created_at):
                opened += 1
        return opened

    def _sla(self, severity: int) -> float:
        return float(self._settings.sla_hours.get(severity, 72.0))

    def queue(self, status: str | None = None, limit: int = 200) -> list[Case]:
        """Cases by urgency (severity, then due time); ``status`` None means everything not yet resolved."""
        t = self._cases
        q = select(t).order_by(t.c.severity, t.c.due_at).limit(limit)
        q = q.where(t.c.status != "resolved") if status is None else q.where(t.c.status == status)
        with self._engine.connect() as c:
            rows = list(c.execute(q))
        return self._open_words(rows)

    def counts(self, now: datetime | None = None) -> QueueCounts:
        """Counts over the whole queue (the page shows at most ``queue``'s limit): by status, by severity, overdue."""
        from childsafe.review.queue import QueueCounts

        t = self._cases
        now = now or self._clock()
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
        return QueueCounts(
            open=int(by_status.get("open", 0)),
            claimed=int(by_status.get("claimed", 0)),
            overdue=int(overdue),
            resolved=int(by_status.get("resolved", 0)),
            by_severity=tuple(by_severity),
        )

    def get(self, case_id: str) -> Case:
        """The case, excerpt opened (for services acting under their own duty, e.g. an incident report; a
        moderator's view goes through :meth:`view`, which applies the consents)."""
        with self._engine.connect() as c:
            row = c.execute(select(self._cases).where(self._cases.c.id == case_id)).first()
        if row is None:
            raise ReviewError(f"no case with id {case_id!r}", 404)
        return self._open_words([row])[0]

    def claim(self, case_id: str, moderator: str) -> Case:
        """Take a case; a case claimed by someone else stays theirs (409)."""
        t = self._cases
        now = self._clock()
        with self._engine.begin() as c:
            result = c.execute(
                update(t)
                .where(t.c.id == case_id, t.c.status == "open")
                .values(status="claimed", claimed_by=moderator, claimed_at=now)
            )
        case = self.get(case_id)
        if not result.rowcount:
            if case.claimed_by == moderator and case.status == "claimed":
                return case
            raise ReviewError(f"case {case_id} is already {case.status} by {case.claimed_by or 'someone'}", 409)
        self._audit.append(
            AuditEvent(AuditEventType.CASE_CLAIMED, {"case_id": case_id}, actor=moderator, subject=case.child_id)
        )
        return case

    def view(self, case_id: str, user: str, role: str) -> CaseView:
        """The minimum content for a decision, for moderators only; each view is an audit event.

        The child's words are shown only with the guardian's ``human_review`` consent in force, or under a
        legal override (:data:`LEGAL_OVERRIDES`), which the audit event names."""
        if role not in MODERATOR_ROLES:
            raise ReviewError("only moderators can view case content", 403)
        case = self.get(case_id)
        consented = case.child_id is None or self._consent(case.child_id, Purpose.HUMAN_REVIEW)
        override = None if consented else self._legal_override(case)
        decision = self._decisions.get(case.decision_id)
        scores = dict(decision.scores) if decision is not None else {}
        audit: dict[str, Any] = {"case_id": case_id, "decision_id": case.decision_id}
        if not consented:
            audit["human_review_consent"] = False
        appeal = self._appeal_of(case)
        if not consented and override is None:
            audit.update(messages_shown=0, words_shown=False)
            self._audit.append(AuditEvent(AuditEventType.MODERATOR_VIEW, audit, actor=user, subject=case.child_id))
            return CaseView(
                replace(case, excerpt=None),
                [],
                scores,
                None,
                consent_withheld=True,
                explanation=explanation_of(decision),
                appeal=appeal,
            )
        stored: list[StoredMessage] = []
        if self._messages is not None and case.conversation_id:
            stored = self._messages.read(case.conversation_id)  # decrypted here, after the consent check
        messages = [{"role": m.role, "text": m.text} for m in stored if m.decision_id == case.decision_id]
        explanation = explanation_of(decision, flagged_text(stored, case.decision_id))
        spans = [f.span for f in explanation.findings if f.span is not None and f.quote is not None]
        window = conversation_window(stored, case.decision_id, spans)
        audit.update(messages_shown=max(len(window), len(messages)), words_shown=True)
        if override is not None:
            audit["legal_override"] = override
        self._audit.append(AuditEvent(AuditEventType.MODERATOR_VIEW, audit, actor=user, subject=case.child_id))
        return CaseView(
            case,
            messages,
            scores,
            self._appeal_reason(case, appeal),
            not consented,
            override,
            conversation=window,
            explanation=explanation,
            appeal=appeal,
        )

    def _legal_override(self, case: Case) -> str | None:
        if case.action == "report":
            return "mandatory_report"
        if case.child_id is not None:
            h = self._holds
            with self._engine.connect() as c:
                held = c.execute(
                    select(h.c.id).where(h.c.child_id == case.child_id, h.c.released_at.is_(None)).limit(1)
                ).first()
            if held is not None:
                return "legal_hold"
        return None

    def _appeal_of(self, case: Case) -> Appeal | None:
        """The case's appeal, or for an escalation the appeal filed against the same decision (a moderator
        deciding the escalation sees that the child contested it, and why)."""
        if case.appeal_id is not None:
            return self.appeal(case.appeal_id)
        with self._engine.connect() as c:
            row = c.execute(
                select(self._appeals).where(self._appeals.c.decision_id == case.decision_id).limit(1)
            ).first()
        return None if row is None else _appeal(row)

    def _appeal_reason(self, case: Case, appeal: Appeal | None) -> str | None:
        if appeal is None:
            return None
        with self._engine.connect() as c:
            sealed = c.execute(select(self._appeals.c.reason).where(self._appeals.c.id == appeal.id)).scalar()
        context = words_context("appeals", "reason", appeal.id)
        return self._sealer.open(case.child_id, sealed, context) or None

    def decide(
        self, case_id: str, moderator: str, outcome: str, reason: str, category: str | None = None, role: str = ""
    ) -> Case:
        """Resolve a claimed case: confirm, overturn, or change the category; a reason is required."""
        if outcome not in OUTCOMES:
            raise ReviewError(f"outcome must be one of {', '.join(OUTCOMES)}, got {outcome!r}")
        if not reason.strip():
            raise ReviewError("a reason is required")
        final: str | None
        case = self.get(case_id)
        if outcome == "change_category":
            from childsafe.types import Category

            try:
                final = Category.parse(category or "").value
            except Exception:
                raise ReviewError(f"change_category needs a valid category, got {category!r}") from None
        elif outcome == "confirm":
            final = case.category
        else:
            final = None
        if case.status == "resolved":
            raise ReviewError(f"case {case_id} is already resolved", 409)
        if case.claimed_by != moderator and role != "admin":
            raise ReviewError(f"claim case {case_id} before deciding it", 409)
        t = self._cases
        now = self._clock()
        with self._engine.begin() as c:
            done = c.execute(
                update(t)
                .where(t.c.id == case_id, t.c.status != "resolved")
                .values(
                    status="resolved",
                    outcome=outcome,
                    final_category=final,
                    reason=reason.strip()[:2000],
                    resolved_by=moderator,
                    resolved_at=now,
                )
            )
            if not done.rowcount:
                raise ReviewError(f"case {case_id} is already resolved", 409)
            c.execute(
                update(self._escalations)
                .where(self._escalations.c.decision_id == case.decision_id)
                .values(status="resolved")
            )
            if case.appeal_id:
                c.execute(
                    update(self._appeals)
                    .where(self._appeals.c.id == case.appeal_id)
                    .values(status="decided", outcome=outcome, decided_at=now)
                )
        self._audit.append(
            AuditEvent(
                AuditEventType.MODERATOR_DECISION,
                {
                    "case_id": case_id,
                    "decision_id": case.decision_id,
                    "outcome": outcome,
                    "category": case.category,
                    "final_category": final,
                    "appeal_id": case.appeal_id,
                },
                actor=moderator,
                subject=case.child_id,
            )
        )
        return self.get(case_id)

    # -- appeals -----------------------------------------------------------------------------------------

    def file_appeal(self, decision_id: str, reason: str, requester: str = "child", app_id: int | None = None) -> Appeal:
        """Contest a decision that stopped content; filing twice for one decision returns the first appeal."""
        if requester not in ("child", "guardian"):
            raise ReviewError("requester must be 'child' or 'guardian'")
        entry = self._decisions.get(decision_id)
        if entry is None or (app_id is not None and entry.app_id not in (None, app_id)):
            raise ReviewError(f"no decision with id {decision_id!r}", 404)
        if entry.action not in CONTESTABLE_ACTIONS:
            raise ReviewError(f"decision {decision_id} was '{entry.action}', nothing was blocked to appeal")
        with self._engine.connect() as c:
            existing = c.execute(
                select(self._appeals)
                .where(self._appeals.c.decision_id == decision_id)
                .order_by(self._appeals.c.created_at)
            ).first()
        if existing is not None:
            return _appeal(existing)
        appeal_id = "apl_" + uuid.uuid4().hex
        sev = 2 if URGENT_CATEGORIES.intersection(entry.categories) else 3
        case_id = self._open_case(
            entry, "appeal", f"appeal:{decision_id}", appeal_id, sev, self._settings.appeal_sla_hours
        )
        if case_id is None:  # a concurrent request filed it first
            return self._appeal_for(decision_id)
        now = self._clock()
        try:  # the child's own words: sealed under the child's key like the excerpt
            sealed = self._sealer.seal(
                entry.child_id, reason.strip()[:1000], words_context("appeals", "reason", appeal_id)
            )
        except LookupError:  # the child was erased meanwhile: keep the appeal, not the words
            sealed = ""
        with self._engine.begin() as c:
            c.execute(
                insert(self._appeals).values(
                    id=appeal_id,
                    decision_id=decision_id,
                    requester=requester,
                    reason=sealed,
                    age_band=entry.age_band,
                    case_id=case_id,
                    status="pending",
                    created_at=now,
                )
            )
        self._audit.append(
            AuditEvent(
                AuditEventType.APPEAL_FILED,
                {"appeal_id": appeal_id, "decision_id": decision_id, "case_id": case_id, "requester": requester},
                actor=requester,
                subject=entry.child_id,
            )
        )
        return self.appeal(appeal_id)

    def _appeal_for(self, decision_id: str) -> Appeal:
        with self._engine.connect() as c:
            row = c.execute(select(self._appeals).where(self._appeals.c.decision_id == decision_id)).first()
        if row is None:
            raise ReviewError(f"appeal for {decision_id} is being filed; try again", 409)
        return _appeal(row)

    def appeal(self, appeal_id: str) -> Appeal:
        with self._engine.connect() as c:
            row = c.execute(select(self._appeals).where(self._appeals.c.id == appeal_id)).first()
        if row is None:
            raise ReviewError(f"no appeal with id {appeal_id!r}", 404)
        return _appeal(row)

    def erase_child(self, child_id: str) -> dict[str, int]:
        """Erasure hook: delete a child's cases and appeals, except cases an incident report preserves."""
        cases, appeals = self._cases, self._appeals
        reports = Base.metadata.tables["incident_reports"]
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
        return {"review_cases": int(n_cases or 0), "appeals": int(n_appeals or 0)}

    # -- feedback ----------------------------------------------------------------------------------------

    def feedback_records(self) -> Iterator[dict[str, Any]]:
        """Resolved cases as labelled examples in the shared dataset format (id, text, labels, source).

        Children whose guardian has not consented to ``model_improvement`` (where consent applies) are left
        out, as are cases whose words can no longer be read (erased)."""
        t = self._cases
        q = select(t).where(t.c.status == "resolved").order_by(t.c.resolved_at, t.c.id)
        with self._engine.connect() as c:
            rows = self._open_words(list(c.execute(q)))
        allowed: dict[str, bool] = {}
        for case in rows:
            if case.child_id is not None:
                if case.child_id not in allowed:  # consent is read at export time: a withdrawal counts at once
                    allowed[case.child_id] = self._consent(case.child_id, Purpose.MODEL_IMPROVEMENT)
                if not allowed[case.child_id]:
                    continue
            text = None
            if self._messages is not None and case.conversation_id:
                text = next(
                    (m.text for m in self._messages.read(case.conversation_id) if m.decision_id == case.decision_id),
                    None,
                )
            text = text or case.excerpt
            if not text:
                continue
            labels = ["safe"] if case.outcome == "overturn" else [case.final_category or case.category]
            yield {
                "id": case.id,
                "text": text,
                "labels": labels,
                "source_labels": [case.category],
                "source": "childsafe-review",
                "label_derivation": f"moderator {case.outcome}: {case.reason or ''}"[:300],
                "age_band": case.age_band,
                "decision_id": case.decision_id,
            }
