"""The consent ledger: per-purpose, verifiable guardian consent with child assent, withdrawable at any time."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from childsafe.privacy.hooks import AuditHook, PrivacyEvent, no_audit
from childsafe.store.privacy_sql import ConsentEntry, PrivacyDb, SqlConsentLedger, SqlGuardians
from childsafe.types import AgeBand, InvalidInputError

if TYPE_CHECKING:
    from childsafe.store import Store


class Purpose(StrEnum):
    """Why a child's data is processed; each needs its own consent."""

    SAFETY_CHECKING = "safety_checking"
    CONVERSATION_STORAGE = "conversation_storage"
    HUMAN_REVIEW = "human_review"
    ANALYTICS = "analytics"
    MODEL_IMPROVEMENT = "model_improvement"

    @classmethod
    def parse(cls, value: str) -> Purpose:
        try:
            return cls(value.strip().lower())
        except ValueError:
            allowed = ", ".join(p.value for p in cls)
            raise InvalidInputError(f"unknown consent purpose {value!r}; use one of: {allowed}") from None


REQUIRED_PURPOSE = Purpose.SAFETY_CHECKING

# One line per purpose, in a parent's words: what saying yes allows (shown next to each consent switch).
PURPOSE_HELP: dict[Purpose, tuple[str, str]] = {
    Purpose.SAFETY_CHECKING: (
        "Safety checks",
        "Check your child's messages and the assistant's answers for anything harmful. Needed to use the service.",
    ),
    Purpose.CONVERSATION_STORAGE: (
        "Keep conversations",
        "Keep the text of conversations, encrypted and for a limited time, so a reviewer can see the context.",
    ),
    Purpose.HUMAN_REVIEW: (
        "Human review",
        "Let a trained safety reviewer read a message that was flagged, to decide what to do about it.",
    ),
    Purpose.ANALYTICS: (
        "Activity counts",
        "Count what the safety checks did, so you can see the numbers and charts on this page.",
    ),
    Purpose.MODEL_IMPROVEMENT: (
        "Improve the checks",
        "Use flagged examples from your child's conversations to make the safety checks better.",
    ),
}


class ConsentMethod(StrEnum):
    """How the guardian's consent was verified (COPPA-style verifiable parental consent methods)."""

    SIGNED_FORM = "signed_form"
    PAYMENT_CARD = "payment_card"
    ID_CHECK = "id_check"
    VIDEO_CALL = "video_call"
    EMAIL_PLUS = "email_plus"
    GUARDIAN_ACCOUNT = "guardian_account"
    CHILD_SELF = "child_self"

    @classmethod
    def parse(cls, value: str) -> ConsentMethod:
        try:
            return cls(value.strip().lower())
        except ValueError:
            allowed = ", ".join(m.value for m in cls)
            raise InvalidInputError(f"unknown consent method {value!r}; use one of: {allowed}") from None


# Children old enough to understand a simple explanation are asked too; their "no" is respected.
ASSENT_BANDS = frozenset({AgeBand.AGE_10_12.value, AgeBand.AGE_13_15.value, AgeBand.AGE_16_17.value})
# Only older teenagers may consent for themselves (GDPR art. 8 lets member states set 13-16).
SELF_CONSENT_BANDS = frozenset({AgeBand.AGE_16_17.value, AgeBand.ADULT.value})


def assent_expected(age_band: str) -> bool:
    return age_band in ASSENT_BANDS


@dataclass(frozen=True, slots=True)
class ConsentState:
    """The purposes in force for one child, from the newest ledger entry per purpose."""

    child_id: str
    entries: dict[str, ConsentEntry]
    enrolled: bool

    def allows(self, purpose: Purpose) -> bool:
        e = self.entries.get(purpose.value)
        # A grant the child refused (assent False) is not in force: the child's "no" wins.
        return e is not None and e.granted and e.child_assent is not False

    def to_dict(self) -> dict[str, object]:
        return {
            "child_id": self.child_id,
            "purposes": {p.value: self.allows(p) for p in Purpose},
            "records": {k: v.to_dict() for k, v in sorted(self.entries.items())},
        }


class ConsentLedger:
    """Records grants and withdrawals and answers "may we do X for this child?" on every request."""

    def __init__(
        self,
        ledger: SqlConsentLedger,
        guardian_of: Callable[[str], str | None],
        clock: Callable[[], datetime],
        notice_version: str = "1",
        audit: AuditHook = no_audit,
    ) -> None:
        self._ledger = ledger
        self._guardian_of = guardian_of
        self._clock = clock
        self.notice_version = notice_version
        self.audit = audit

    def record(
        self,
        child_id: str,
        age_band: str,
        purpose: Purpose | str,
        granted: bool,
        *,
        guardian_id: str | None,
        method: ConsentMethod | str,
        notice_version: str | None = None,
        child_assent: bool | None = None,
    ) -> ConsentEntry:
        """Append a grant or withdrawal (withdrawal is in force for the very next request)."""
        p = purpose if isinstance(purpose, Purpose) else Purpose.parse(purpose)
        m = method if isinstance(method, ConsentMethod) else ConsentMethod.parse(method)
        if m is ConsentMethod.CHILD_SELF and age_band not in SELF_CONSENT_BANDS:
            raise InvalidInputError(f"a child in age band {age_band} cannot consent alone; a guardian must consent")
        if m is not ConsentMethod.CHILD_SELF and guardian_id is None:
            raise InvalidInputError("a guardian id is needed to record a guardian's consent")
        if granted and assent_expected(age_band) and child_assent is None and m is not ConsentMethod.CHILD_SELF:
            raise InvalidInputError(
                f"children aged {age_band} are asked too: record child_assent (true or false) with the consent"
            )
        entry = self._ledger.append(
            child_id, guardian_id, p.value, granted, m.value, notice_version or self.notice_version, child_assent
        )
        event: PrivacyEvent = {
            "type": "consent.granted" if granted else "consent.withdrawn",
            "at": entry.created_at.isoformat(),
            "actor": guardian_id or f"child:{child_id}",
            "child_id": child_id,
            "details": {
                "purpose": p.value,
                "method": m.value,
                "notice_version": entry.notice_version,
                "child_assent": child_assent,
                "ledger_id": entry.id,
            },
        }
        self.audit(event)
        return entry

    def state(self, child_id: str) -> ConsentState:
        entries = self._ledger.current(child_id)
        enrolled = bool(entries) or self._guardian_of(child_id) is not None
        return ConsentState(child_id, entries, enrolled)

    def history(self, child_id: str) -> list[ConsentEntry]:
        return self._ledger.history(child_id)


def consent_allows(ledger: ConsentLedger, child_id: str, purpose: Purpose, *, required: bool = False) -> bool:
    """Whether ``purpose`` may use the child's data now (nothing cached: a withdrawal counts at once).

    A child held to consent (linked to a guardian or with ledger entries, or every child when ``required``)
    needs the purpose in force; for any other child the operator's own settings govern, so True."""
    state = ledger.state(child_id)
    if not (required or state.enrolled):
        return True
    return state.allows(purpose)


def ledger_consent_check(store: Store, *, required: bool) -> Callable[[str, str], bool]:
    """:func:`consent_allows` over the ledger in ``store``'s database, asked by purpose value (``"human_review"``).

    What the composition root (or a CLI command) hands the review queue, so that service asks about consent
    without reading the privacy service's internals. ``required`` is ``privacy.consent_required``."""
    db = PrivacyDb(store.engine, store.clock)
    ledger = ConsentLedger(SqlConsentLedger(db), SqlGuardians(db).guardian_of, store.clock)
    return lambda child_id, purpose: consent_allows(ledger, child_id, Purpose(purpose), required=required)
