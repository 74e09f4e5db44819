"""Placeholder redaction of a child's personal details, and careful restoration in the answer.

Before a child's message goes to the model, each detail the ``personal_info`` detector finds is replaced
by a typed placeholder (``[CHILD_SCHOOL_1]``, ``[CHILD_PHONE_1]``); the :class:`PlaceholderVault` keeps the
mapping for the conversation, so the same detail gets the same placeholder every time it comes back.

The model's answer gets placeholders restored only where that is safe:

* only in text going to the child themself (never to a contact or any third party);
* never for contact details (address, street, postcode, phone, email, handle, location, coordinates):
  the child knows them, and an answer that repeats them is one copy away from being shared;
* never in a sentence where the assistant asks for personal details, or would pass them on
  ("tell him you go to ...", "post your school on ...").

Withheld placeholders become a neutral phrase ("your school"), so the answer still reads naturally.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from childsafe.detectors.personal_info import CONTACT_TYPES, PersonalInfoDetector, PiiType
from childsafe.text.context import TextContext
from childsafe.types import InvalidInputError, Role

NEUTRAL: dict[PiiType, str] = {
    PiiType.FULL_NAME: "your name",
    PiiType.NAME: "your name",
    PiiType.ADDRESS: "your address",
    PiiType.STREET: "your street",
    PiiType.POSTCODE: "your postcode",
    PiiType.SCHOOL: "your school",
    PiiType.PHONE: "your phone number",
    PiiType.EMAIL: "your email address",
    PiiType.HANDLE: "your username",
    PiiType.LOCATION: "your area",
    PiiType.COORDINATES: "your location",
    PiiType.DATE_OF_BIRTH: "your birthday",
    PiiType.AGE: "your age",
    PiiType.PHOTO_REQUEST: "a photo",
}
"""What a withheld placeholder becomes in the answer."""

NEVER_RESTORED = CONTACT_TYPES | {PiiType.PHOTO_REQUEST}
"""Types whose values never go back into any answer."""

PLACEHOLDER_RE = re.compile(r"\[CHILD_([A-Z_]+?)_(\d{1,4})\]")
_SENTENCE_BREAK = re.compile(r"(?<=[.!?\n])(?=[^.!?\n])")
_PASS_ON = re.compile(
    r"\b(?:tell|send|give|share|post|upload|text|message|dm|show|put|write|add)\b[^.!?\n]{0,60}"
    r"\b(?:him|her|them|someone|somebody|anyone|people|everyone|stranger|strangers|friend|friends|online|profile"
    r"|bio|status|story|public|group|chat|server|comments?)\b"
    r"|\b(?:on|in) (?:your|the) (?:profile|bio|story|status|feed)\b",
    re.I,
)


@dataclass(frozen=True, slots=True)
class Placeholder:
    """One replaced detail: ``token`` as the model sees it, ``value`` as the child wrote it."""

    token: str
    type: PiiType
    value: str


def _key(pii: PiiType, value: str) -> str:
    return pii.value + ":" + re.sub(r"\s+", " ", value.strip().lower())


class PlaceholderVault:
    """Placeholder <-> value mapping for one conversation.

    The state holds the child's raw details: keep it in memory or in encrypted storage with the
    conversation's retention limit, never in logs.
    """

    def __init__(self, state: dict[str, Any] | None = None) -> None:
        self._by_token: dict[str, Placeholder] = {}
        self._by_key: dict[str, Placeholder] = {}
        self._counts: dict[PiiType, int] = {}
        for item in (state or {}).get("placeholders", []):
            try:
                ph = Placeholder(str(item["token"]), PiiType(item["type"]), str(item["value"]))
            except (KeyError, TypeError, ValueError) as exc:
                raise InvalidInputError(f"placeholder vault state is malformed: {exc!r}") from None
            self._add(ph)

    def _add(self, ph: Placeholder) -> None:
        self._by_token[ph.token] = ph
        self._by_key[_key(ph.type, ph.value)] = ph
        m = PLACEHOLDER_RE.fullmatch(ph.token)
        if m is not None:
            self._counts[ph.type] = max(self._counts.get(ph.type, 0), int(m.group(2)))

    def placeholder_for(self, pii: PiiType, value: str) -> Placeholder:
        """The placeholder for this detail, reusing the one given before for the same value."""
        found = self._by_key.get(_key(pii, value))
        if found is not None:
            return found
        n = self._counts.get(pii, 0) + 1
        ph = Placeholder(f"[CHILD_{pii.value.upper()}_{n}]", pii, value)
        self._add(ph)
        return ph

    def get(self, token: str) -> Placeholder | None:
        return self._by_token.get(token)

    def __len__(self) -> int:
        return len(self._by_token)

    def __iter__(self) -> Any:
        return iter(list(self._by_token.values()))

    def state(self) -> dict[str, Any]:
        """JSON-serialisable state (sensitive: holds the child's raw details)."""
        return {"placeholders": [{"token": p.token, "type": p.type.value, "value": p.value} for p in self]}


@dataclass(slots=True)
class RedactionResult:
    """The text as the model may see it, and the placeholders used in it."""

    text: str
    placeholders: list[Placeholder] = field(default_factory=list)


@dataclass(slots=True)
class RestorationResult:
    """The answer as the child sees it: what was put back, what was withheld and why."""

    text: str
    restored: list[Placeholder] = field(default_factory=list)
    withheld: list[tuple[str, str]] = field(default_factory=list)
    """(placeholder token, reason) pairs."""


class PiiRedactor:
    """Redacts a child's details into placeholders and restores them in answers where safe."""

    def __init__(self, detector: PersonalInfoDetector | None = None, min_score: float = 0.5) -> None:
        self.detector = detector or PersonalInfoDetector()
        self.min_score = min_score

    def redact(self, text: str, vault: PlaceholderVault, role: Role | str = Role.CHILD) -> RedactionResult:
        """Replace the child's own details in ``text``; other roles' texts are the policy's business."""
        r = Role.parse(role)
        if r is not Role.CHILD:
            return RedactionResult(text)
        matches = [
            m
            for m in self.detector.find(TextContext.from_text(text, r))
            if not m.request and m.type is not PiiType.PHOTO_REQUEST and m.score >= self.min_score
        ]
        out: list[str] = []
        used: list[Placeholder] = []
        pos = 0
        for m in sorted(matches, key=lambda m: m.start):
            if m.start < pos or m.end <= m.start:
                continue
            ph = vault.placeholder_for(m.type, text[m.start : m.end])
            out.append(text[pos : m.start])
            out.append(ph.token)
            used.append(ph)
            pos = m.end
        out.append(text[pos:])
        return RedactionResult("".join(out), used)

    def restore(
        self, answer: str, vault: PlaceholderVault, recipient: Role | str = Role.CHILD
    ) -> RestorationResult:
        """Put the child's details back into an answer addressed to ``recipient``, only where safe."""
        rcpt = Role.parse(recipient)
        result = RestorationResult("")
        pieces: list[str] = []
        for sent in _SENTENCE_BREAK.split(answer):
            if PLACEHOLDER_RE.search(sent) is None:
                pieces.append(sent)
                continue
            unsafe = self._unsafe_sentence(sent)
            pieces.append(
                PLACEHOLDER_RE.sub(lambda m, u=unsafe: self._one(m.group(0), vault, rcpt, u, result), sent)
            )
        text = "".join(pieces)
        # Defence in depth: a contact detail the model somehow saw in clear never goes back out.
        for ph in vault:
            if ph.type in NEVER_RESTORED and len(ph.value) >= 4 and ph.value.lower() in text.lower():
                text = re.sub(re.escape(ph.value), NEUTRAL[ph.type], text, flags=re.I)
                result.withheld.append((ph.token, "contact detail found in clear in the answer"))
        result.text = text
        return result

    def _one(self, token: str, vault: PlaceholderVault, rcpt: Role, unsafe: str | None, res: RestorationResult) -> str:
        ph = vault.get(token)
        if ph is None:
            m = PLACEHOLDER_RE.fullmatch(token)
            pii = _type_of(m.group(1)) if m else None
            res.withheld.append((token, "unknown placeholder"))
            return NEUTRAL.get(pii, "that") if pii is not None else "that"
        reason: str | None = None
        if rcpt is not Role.CHILD:
            reason = f"recipient is {rcpt.value}, not the child"
        elif ph.type in NEVER_RESTORED:
            reason = "contact details are never restored"
        elif unsafe is not None:
            reason = unsafe
        if reason is not None:
            res.withheld.append((token, reason))
            return NEUTRAL[ph.type]
        res.restored.append(ph)
        return ph.value

    def _unsafe_sentence(self, sentence: str) -> str | None:
        """Why restoring into this answer sentence would be unsafe, or None."""
        ctx = TextContext.from_text(PLACEHOLDER_RE.sub(lambda m: _neutral_for(m.group(1)), sentence), Role.ASSISTANT)
        if any(m.request for m in self.detector.find(ctx)):
            return "the sentence asks the child for personal details"
        if _PASS_ON.search(sentence):
            return "the sentence would pass the detail on"
        return None


def _type_of(label: str) -> PiiType | None:
    try:
        return PiiType(label.lower())
    except ValueError:
        return None


def _neutral_for(label: str) -> str:
    pii = _type_of(label)
    return NEUTRAL[pii] if pii is not None else "that"
