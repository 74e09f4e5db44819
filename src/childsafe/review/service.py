"""Review queue and appeals: escalated decisions and contested blocks become cases that moderators decide."""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from childsafe.audit import AuditEvent, AuditEventType, AuditLog
from childsafe.review.explain import (
    ContextMessage,
    Explanation,
    conversation_window,
    explanation_of,
    flagged_text,
)
from childsafe.review.messages import appeal_message
from childsafe.store.interfaces import DecisionEntry, DecisionLog, MessageVault, StoredMessage
from childsafe.store.review_sql import AppealRecord, CaseRecord, CaseResolution, NewAppeal, NewCase, review_cases
from childsafe.store.sealing import WordSealer, is_sealed, words_context
from childsafe.types import ChildsafeError, Clock

if TYPE_CHECKING:
    from childsafe.review.queue import QueueCounts

log = logging.getLogger("childsafe.review")

ConsentCheck = Callable[[str, str], bool]
"""Whether a child's data may be used for a purpose (named by its value, e.g. ``"human_review"``) now.

Built by the caller over the privacy service's consent ledger (``childsafe.privacy.consent.ledger_consent_check``),
so the review queue asks without reading another service's internals."""
HUMAN_REVIEW = "human_review"
"""The consent purpose under which a moderator reads a child's words."""
MODEL_IMPROVEMENT = "model_improvement"
"""The consent purpose under which a child's words go into the feedback export."""
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
class Case(CaseRecord):
    """A stored case as a moderator reads it: ``excerpt`` opened (None when there are no words to show)."""

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


def _allow_all(child_id: str, purpose: str) -> bool:
    return True


def _case(r: CaseRecord, excerpt: str | None = None) -> Case:
    fields = {f.name: getattr(r, f.name) for f in dataclasses.fields(CaseRecord)}
    return Case(**{**fields, "excerpt": excerpt}, excerpt_erased=is_sealed(r.excerpt) and excerpt is None)


def _appeal(r: AppealRecord) -> Appeal:
    return Appeal(r.id, r.decision_id, r.requester, r.status, r.outcome, r.age_band, r.case_id, r.created_at)


def severity_of(action: str, categories: list[str]) -> int:
    if action == "report" or URGENT_CATEGORIES.intersection(categories):
        return 1
    return 2 if action == "escalate" else 3


class ReviewService:
    """Cases, claims, moderator views and decisions, appeals; every step is an audit event.

    A child's words (case excerpts, appeal reasons) are stored sealed under the child's key (``sealer``,
    by default the decision log's), and consents are read where the words are used: ``human_review`` for the
    moderator's view, ``model_improvement`` for the feedback export. ``consent`` asks the consent ledger; without
    one (a deployment with no guardians, or a test) every purpose is allowed, as the ledger allows it for a child
    held to no consent.

    ``db`` is where the cases live: the store's engine or the store (opaque here), or a
    :class:`childsafe.store.review_sql.SqlReviewCases`."""

    def __init__(
        self,
        db: object,
        decisions: DecisionLog,
        audit: AuditLog,
        messages: MessageVault | Callable[[], MessageVault | None] | None = None,
        *,
        settings: ReviewSettings | None = None,
        clock: Clock | None = None,
        sealer: WordSealer | None = None,
        consent: ConsentCheck | None = None,
        on_urgent: UrgentCaseHook | None = None,
    ) -> None:
        self._db = review_cases(db)
        self._decisions = decisions
        self._audit = audit
        # A callable is read at use time: the gateway's privacy layer swaps in a per-child-key vault after start.
        self._messages_source = messages
        self._settings = settings or ReviewSettings()
        self._clock = clock or (lambda: datetime.now(UTC))
        found = sealer if sealer is not None else getattr(decisions, "sealer", None)
        if not isinstance(found, WordSealer):
            raise ValueError("ReviewService needs a WordSealer (Store.sealer): a child's words are never stored open")
        self._sealer = found
        self._consent = consent or _allow_all
        self._on_urgent = on_urgent

    @classmethod
    def from_store(
        cls,
        store: Any,
        config: object,
        audit: AuditLog | None = None,
        on_urgent: UrgentCaseHook | None = None,
        *,
        consent: ConsentCheck | None = None,
    ) -> ReviewService:
        """The service over an open :class:`childsafe.store.Store`.

        ``consent`` must be given wherever a moderator reads cases or the feedback is exported (the gateway, the
        composition root, ``childsafe feedback export``): without it every purpose is allowed."""
        from childsafe.audit import open_audit_log

        return cls(
            store.engine,
            store.decisions,
            audit or open_audit_log(store.engine, config),
            lambda: store.messages,
            settings=ReviewSettings.from_config(config),
            clock=store.clock,
            sealer=store.sealer,
            consent=consent,
            on_urgent=on_urgent,
        )

    def _open_words(self, rows: list[CaseRecord]) -> list[Case]:
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
        new = NewCase(
            id=case_id,
            source_key=source_key,
            decision_id=entry.id,
            source=source,
            appeal_id=appeal_id,
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
        if not self._db.add_case(new):
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
        pending = self._db.escalations_without_case(limit, with_child_only=not self._settings.queue_without_child)
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
        return self._open_words(self._db.cases(status, limit))

    def counts(self, now: datetime | None = None) -> QueueCounts:
        """Counts over the whole queue (the page shows at most ``queue``'s limit): by status, by severity, overdue."""
        from childsafe.review.queue import QueueCounts

        tally = self._db.tally(now or self._clock())
        return QueueCounts(
            open=tally.by_status.get("open", 0),
            claimed=tally.by_status.get("claimed", 0),
            overdue=tally.overdue,
            resolved=tally.by_status.get("resolved", 0),
            by_severity=tuple(tally.by_severity),
        )

    def get(self, case_id: str) -> Case:
        """The case, excerpt opened (for services acting under their own duty, e.g. an incident report; a
        moderator's view goes through :meth:`view`, which applies the consents)."""
        row = self._db.case(case_id)
        if row is None:
            raise ReviewError(f"no case with id {case_id!r}", 404)
        return self._open_words([row])[0]

    def claim(self, case_id: str, moderator: str) -> Case:
        """Take a case; a case claimed by someone else stays theirs (409)."""
        claimed = self._db.claim(case_id, moderator, self._clock())
        case = self.get(case_id)
        if not claimed:
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
        consented = case.child_id is None or self._consent(case.child_id, HUMAN_REVIEW)
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
        if case.child_id is not None and self._db.under_legal_hold(case.child_id):
            return "legal_hold"
        return None

    def _appeal_of(self, case: Case) -> Appeal | None:
        """The case's appeal, or for an escalation the appeal filed against the same decision (a moderator
        deciding the escalation sees that the child contested it, and why)."""
        if case.appeal_id is not None:
            return self.appeal(case.appeal_id)
        row = self._db.appeal_of_decision(case.decision_id)
        return None if row is None else _appeal(row)

    def _appeal_reason(self, case: Case, appeal: Appeal | None) -> str | None:
        if appeal is None:
            return None
        sealed = self._db.appeal_reason(appeal.id)
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
        resolution = CaseResolution(
            case_id=case_id,
            decision_id=case.decision_id,
            appeal_id=case.appeal_id,
            outcome=outcome,
            final_category=final,
            reason=reason.strip()[:2000],
            resolved_by=moderator,
            resolved_at=self._clock(),
        )
        if not self._db.resolve(resolution):
            raise ReviewError(f"case {case_id} is already resolved", 409)
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
        existing = self._db.appeal_of_decision(decision_id)
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
        self._db.add_appeal(NewAppeal(appeal_id, decision_id, requester, sealed, entry.age_band, case_id, now))
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
        row = self._db.appeal_of_decision(decision_id)
        if row is None:
            raise ReviewError(f"appeal for {decision_id} is being filed; try again", 409)
        return _appeal(row)

    def appeal(self, appeal_id: str) -> Appeal:
        row = self._db.appeal(appeal_id)
        if row is None:
            raise ReviewError(f"no appeal with id {appeal_id!r}", 404)
        return _appeal(row)

    def erase_child(self, child_id: str) -> dict[str, int]:
        """Erasure hook: delete a child's cases and appeals, except cases an incident report preserves."""
        n_cases, n_appeals = self._db.erase_child(child_id)
        return {"review_cases": n_cases, "appeals": n_appeals}

    # -- feedback ----------------------------------------------------------------------------------------

    def feedback_records(self) -> Iterator[dict[str, Any]]:
        """Resolved cases as labelled examples in the shared dataset format (id, text, labels, source).

        Children whose guardian has not consented to ``model_improvement`` (where consent applies) are left
        out, as are cases whose words can no longer be read (erased)."""
        rows = self._open_words(self._db.resolved_cases())
        allowed: dict[str, bool] = {}
        for case in rows:
            if case.child_id is not None:
                if case.child_id not in allowed:  # consent is read at export time: a withdrawal counts at once
                    allowed[case.child_id] = self._consent(case.child_id, MODEL_IMPROVEMENT)
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
