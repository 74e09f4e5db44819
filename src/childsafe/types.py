"""The shared vocabulary of childsafe: one name for each idea, used by code, config, API and audit.

This module depends on nothing else in the package, so every layer can import it.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

Clock = Callable[[], datetime]
"""The current time (timezone-aware), injected so that tests and services share one notion of now."""


class ChildsafeError(Exception):
    """Base class for errors that carry a clear, user-facing message (never a traceback)."""


class InvalidInputError(ChildsafeError, ValueError):
    """Input that names what is wrong: an unknown age, role, category or a malformed record."""


class Category(StrEnum):
    """The closed child-safety taxonomy. See docs/taxonomy.md for definitions and boundary cases."""

    SEXUAL_MINORS = "sexual_minors"
    GROOMING = "grooming"
    SEXUAL = "sexual"
    SELF_HARM = "self_harm"
    VIOLENCE = "violence"
    HARASSMENT = "harassment"
    HATE = "hate"
    DANGEROUS = "dangerous"
    DRUGS = "drugs"
    PERSONAL_INFO = "personal_info"
    OTHER_UNSAFE = "other_unsafe"

    @classmethod
    def parse(cls, value: str) -> Category:
        try:
            return cls(value.strip().lower())
        except ValueError:
            known = ", ".join(c.value for c in cls)
            raise InvalidInputError(f"unknown category {value!r}; known categories: {known}") from None


class AgeBand(StrEnum):
    """UK Age Appropriate Design Code developmental stages, plus adult."""

    AGE_0_5 = "0-5"
    AGE_6_9 = "6-9"
    AGE_10_12 = "10-12"
    AGE_13_15 = "13-15"
    AGE_16_17 = "16-17"
    ADULT = "adult"

    @property
    def bounds(self) -> tuple[int, int]:
        """Inclusive lowest and highest age in the band (adult is 18..150)."""
        if self is AgeBand.ADULT:
            return (18, 150)
        lo, hi = self.value.split("-")
        return (int(lo), int(hi))

    @property
    def is_child(self) -> bool:
        return self is not AgeBand.ADULT

    @classmethod
    def from_age(cls, age: int) -> AgeBand:
        if age < 0 or age > 150:
            raise InvalidInputError(f"age {age} is out of range 0..150")
        for band in cls:
            lo, hi = band.bounds
            if lo <= age <= hi:
                return band
        raise InvalidInputError(f"age {age} is out of range 0..150")  # pragma: no cover

    @classmethod
    def parse(cls, value: str | int | AgeBand) -> AgeBand:
        """Accept an age (``11``, ``"11"``) or a band (``"10-12"``, ``"adult"``)."""
        if isinstance(value, AgeBand):
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return cls.from_age(value)
        text = str(value).strip().lower()
        if re.fullmatch(r"\d{1,3}", text):
            return cls.from_age(int(text))
        if text in ("18+", "adults"):
            return cls.ADULT
        try:
            return cls(text.replace(" ", ""))
        except ValueError:
            bands = ", ".join(b.value for b in cls)
            raise InvalidInputError(
                f"unknown age {value!r}: give an age in years (e.g. 11) or a band ({bands})"
            ) from None


class Role(StrEnum):
    """Who wrote a message."""

    CHILD = "child"
    CONTACT = "contact"
    ASSISTANT = "assistant"
    SYSTEM = "system"

    @classmethod
    def parse(cls, value: str | Role) -> Role:
        if isinstance(value, Role):
            return value
        text = str(value).strip().lower()
        if text == "user":  # OpenAI's name for the person typing: in childsafe, the child
            return cls.CHILD
        try:
            return cls(text)
        except ValueError:
            raise InvalidInputError(
                f"unknown role {value!r}; known roles: child, contact, assistant, system (or user = child)"
            ) from None


_ACTION_ORDER = ("allow", "warn", "redact", "block", "escalate", "report")


class Action(StrEnum):
    """What happens to content, ordered by severity; a decision takes the most severe."""

    ALLOW = "allow"
    WARN = "warn"
    REDACT = "redact"
    BLOCK = "block"
    ESCALATE = "escalate"
    REPORT = "report"

    @property
    def severity(self) -> int:
        return _ACTION_ORDER.index(self.value)

    @property
    def stops_content(self) -> bool:
        """True when the content must not reach its recipient as written."""
        return self.severity >= Action.BLOCK.severity

    @classmethod
    def most_severe(cls, actions: list[Action] | tuple[Action, ...]) -> Action:
        return max(actions, key=lambda a: a.severity, default=cls.ALLOW)

    @classmethod
    def parse(cls, value: str) -> Action:
        try:
            return cls(value.strip().lower())
        except ValueError:
            raise InvalidInputError(f"unknown action {value!r}; known actions: {', '.join(_ACTION_ORDER)}") from None


@dataclass(frozen=True, slots=True)
class Span:
    """Half-open character range [start, end) into the ORIGINAL text (never the normalised text)."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if self.start < 0 or self.end < self.start:
            raise ValueError(f"invalid span {self.start}..{self.end}")


@dataclass(frozen=True, slots=True)
class Detection:
    """One finding of one detector: typed, scored and explaining itself."""

    category: Category
    score: float
    detector: str
    detector_version: str
    span: Span | None = None
    evidence: str = ""
    """Why: the matched phrase, rule or signal, phrased for a reviewer (never shown to a child)."""
    signal: str | None = None
    """Optional finer-grained signal name, e.g. a grooming stage ("secrecy") or PII kind ("phone")."""

    def __post_init__(self) -> None:
        if not 0.0 <= self.score <= 1.0:
            raise ValueError(f"detection score {self.score} outside [0, 1]")

    def to_dict(self) -> dict[str, Any]:
        return {
            "category": self.category.value,
            "score": round(self.score, 6),
            "detector": self.detector,
            "detector_version": self.detector_version,
            "span": None if self.span is None else [self.span.start, self.span.end],
            "evidence": self.evidence,
            "signal": self.signal,
        }


@dataclass(frozen=True, slots=True)
class Message:
    """One message of a conversation."""

    role: Role
    text: str

    @classmethod
    def parse(cls, obj: Any) -> Message:
        """Build from ``{"role": ..., "text"|"content": ...}`` (``author`` accepted for role)."""
        if isinstance(obj, Message):
            return obj
        if not isinstance(obj, dict):
            raise InvalidInputError(f"a message must be an object with role and text, got {type(obj).__name__}")
        role = obj.get("role", obj.get("author"))
        text = obj.get("text", obj.get("content"))
        if role is None:
            raise InvalidInputError("a message has no 'role'")
        if not isinstance(text, str):
            raise InvalidInputError("a message has no 'text' string")
        return cls(role=Role.parse(str(role)), text=text)


def new_decision_id() -> str:
    return "dec_" + uuid.uuid4().hex


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of checking content: what to do, why, and what to tell the child.

    Frozen: sinks and callers share one instance, so a change is a new Decision (``dataclasses.replace``).
    The lists and ``extra`` stay mutable types for the public record; nothing may change them after
    construction."""

    action: Action
    categories: list[Category]
    """Flagged categories: those whose rule gave an action other than allow."""
    scores: dict[Category, float]
    """Every category, score in [0, 1] (the highest detection per category)."""
    reasons: list[str]
    rules: list[str]
    policy_version: str
    age_band: AgeBand
    role: Role
    detections: list[Detection] = field(default_factory=list)
    child_message: str | None = None
    """Short, kind explanation for the child (None when allowed)."""
    reviewer_explanation: str = ""
    redacted_text: str | None = None
    decision_id: str = field(default_factory=new_decision_id)
    first_flag_index: int | None = None
    """For conversations: index of the first message at which the conversation was no longer allowed."""
    extra: dict[str, Any] = field(default_factory=dict)
    language: str | None = None
    """The message's language (ISO 639-1, "und" when there were no words), as identified by the engine."""

    @property
    def allowed(self) -> bool:
        return self.action is Action.ALLOW

    def to_record(self) -> dict[str, Any]:
        """The stable machine-readable record used by ``childsafe check --json`` and the APIs."""
        rec: dict[str, Any] = {
            "action": self.action.value,
            "categories": [c.value for c in self.categories],
            "scores": {c.value: round(float(self.scores.get(c, 0.0)), 6) for c in Category},
            "reasons": list(self.reasons),
        }
        return rec

    def to_dict(self) -> dict[str, Any]:
        """The full record, for reviewers and the native API."""
        rec = self.to_record()
        rec.update(
            {
                "decision_id": self.decision_id,
                "rules": list(self.rules),
                "policy_version": self.policy_version,
                "age_band": self.age_band.value,
                "role": self.role.value,
                "child_message": self.child_message,
                "reviewer_explanation": self.reviewer_explanation,
                "redacted_text": self.redacted_text,
                "first_flag_index": self.first_flag_index,
                "language": self.language,
                "detections": [d.to_dict() for d in self.detections],
            }
        )
        if self.extra:
            rec["extra"] = self.extra
        return rec
