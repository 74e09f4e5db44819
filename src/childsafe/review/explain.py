"""What a moderator reads on a case page: the conversation around the flagged message and why it was flagged.

Both are built from stored records only. The findings (detector, category, score, span, rule) come from the
decision's ``extra["detections"]``, which the store keeps without the detectors' evidence text (evidence
quotes the child's words); the quoted span is cut from the decrypted message here, and only when the
caller may show the child's words at all (``ReviewService.view`` applies the consents).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from childsafe.store.interfaces import DecisionEntry, StoredMessage

CONTEXT_BEFORE = 6
"""Messages shown before the flagged one: enough to see how a conversation got there, not its whole history."""
CONTEXT_AFTER = 3


@dataclass(frozen=True, slots=True)
class ContextMessage:
    """One message of the conversation window; ``parts`` is the text cut at the flagged spans (True = flagged)."""

    role: str
    at: datetime
    flagged: bool
    parts: tuple[tuple[str, bool], ...]

    @property
    def text(self) -> str:
        return "".join(t for t, _ in self.parts)


@dataclass(frozen=True, slots=True)
class Finding:
    """One detector's finding, as the reviewer explanation lists it."""

    detector: str
    version: str
    category: str
    score: float
    signal: str | None
    span: tuple[int, int] | None
    quote: str | None = None
    """The flagged words at ``span``, only when the child's words may be shown."""


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why the decision was taken: the policy rules that fired, the reasons, and each detector's finding."""

    rules: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    policy_version: str = ""
    kind: str = ""


def _span(value: Any) -> tuple[int, int] | None:
    if isinstance(value, list | tuple) and len(value) == 2 and all(isinstance(v, int) for v in value):
        start, end = int(value[0]), int(value[1])
        if 0 <= start < end:
            return start, end
    return None


def _findings(entry: DecisionEntry, flagged_text: str | None) -> list[Finding]:
    out = []
    for raw in entry.extra.get("detections") or []:
        if not isinstance(raw, dict):
            continue
        span = _span(raw.get("span"))
        quote = None
        if span is not None and flagged_text is not None and span[1] <= len(flagged_text):
            quote = flagged_text[span[0] : span[1]]
        out.append(
            Finding(
                detector=str(raw.get("detector", "?")),
                version=str(raw.get("version", "")),
                category=str(raw.get("category", "")),
                score=float(raw.get("score", 0.0)),
                signal=str(raw["signal"]) if raw.get("signal") else None,
                span=span,
                quote=quote,
            )
        )
    return sorted(out, key=lambda f: -f.score)


def explanation_of(entry: DecisionEntry | None, flagged_text: str | None = None) -> Explanation:
    """The reviewer explanation of a stored decision; ``flagged_text`` (the decrypted message) adds the quotes."""
    if entry is None:
        return Explanation()
    rules = [str(r) for r in entry.extra.get("rules") or []]
    return Explanation(rules, list(entry.reasons), _findings(entry, flagged_text), entry.policy_version, entry.kind)


def _parts(text: str, spans: list[tuple[int, int]]) -> tuple[tuple[str, bool], ...]:
    """``text`` cut into runs, the runs inside any of ``spans`` marked (overlapping spans merged)."""
    merged: list[list[int]] = []
    for start, end in sorted(s for s in spans if s[1] <= len(text)):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    parts: list[tuple[str, bool]] = []
    pos = 0
    for start, end in merged:
        if start > pos:
            parts.append((text[pos:start], False))
        parts.append((text[start:end], True))
        pos = end
    if pos < len(text) or not parts:
        parts.append((text[pos:], False))
    return tuple(parts)


def conversation_window(
    messages: list[StoredMessage],
    decision_id: str,
    spans: list[tuple[int, int]] | None = None,
    before: int = CONTEXT_BEFORE,
    after: int = CONTEXT_AFTER,
) -> list[ContextMessage]:
    """The stored messages around the ones tagged with ``decision_id`` (empty when none is stored).

    The first tagged message is the one the decision was taken on (``flagged``, its words at ``spans``
    marked); a later one is the gateway's own answer to it (a blocked input's reply carries its decision)."""
    tagged = [i for i, m in enumerate(messages) if m.decision_id == decision_id]
    if not tagged:
        return []
    first, last = tagged[0], tagged[-1]
    out = []
    for i in range(max(0, first - before), min(len(messages), last + after + 1)):
        m = messages[i]
        marks = (spans or []) if i == first else []
        out.append(ContextMessage(m.role, m.created_at, i == first, _parts(m.text, marks)))
    return out


def flagged_text(messages: list[StoredMessage], decision_id: str) -> str | None:
    """The text of the message the decision was taken on (see :func:`conversation_window`)."""
    return next((m.text for m in messages if m.decision_id == decision_id), None)
