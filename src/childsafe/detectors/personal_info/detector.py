"""The ``personal_info`` detector: runs the recognizers, scores each match by role, resolves overlaps."""

from __future__ import annotations

import re
from dataclasses import replace

from pydantic import Field

from childsafe.detectors.base import Detector, DetectorConfig, DetectorUnavailable
from childsafe.detectors.personal_info.addresses import AddressRecognizer
from childsafe.detectors.personal_info.ages import AgeRecognizer
from childsafe.detectors.personal_info.base import CONTACT_TYPES, Common, PiiMatch, Recognizer
from childsafe.detectors.personal_info.birth import BirthRecognizer
from childsafe.detectors.personal_info.coordinates import CoordinatesRecognizer
from childsafe.detectors.personal_info.emails import EmailRecognizer
from childsafe.detectors.personal_info.handles import HandleRecognizer
from childsafe.detectors.personal_info.locations import LocationRecognizer
from childsafe.detectors.personal_info.names import NameRecognizer
from childsafe.detectors.personal_info.phones import PhoneRecognizer
from childsafe.detectors.personal_info.photos import PhotoRecognizer
from childsafe.detectors.personal_info.requests import RequestRecognizer
from childsafe.detectors.personal_info.schools import SchoolRecognizer
from childsafe.text.context import TextContext
from childsafe.types import Category, Detection, Role, Span

CHILD_QUESTION_SCORE = 0.2
"""A child asking the assistant "where do you live?" is not a disclosure."""
CONTACT_SHARES_SCORE = 0.75
"""A contact handing a child their phone, handle or address: an attempt to move off-platform."""
ASSISTANT_VALUE_SCORE = 0.3
"""An assistant quoting a number or place (a helpline, a museum) is not the child's detail."""

_PLACEHOLDER = re.compile(r"\[[A-Z_]+_\d+\]")
"""What redaction leaves behind (``[CHILD_SCHOOL_1]``): never a detail to find again."""


class PersonalInfoConfig(DetectorConfig):
    regions: list[str] = Field(
        default_factory=lambda: ["GB", "US", "CA", "AU", "NZ", "IE", "IN", "ZA", "NG", "DE", "FR", "ES", "IT", "NL"]
    )
    """Regions tried, in order, for phone numbers written without a country code (+CC numbers need none)."""


class PersonalInfoDetector(Detector):
    """Recognizer registry for a child's contact, location and identity details, and requests for them."""

    name = "personal_info"
    version = "2026.11.1"
    categories = frozenset({Category.PERSONAL_INFO})
    Config = PersonalInfoConfig

    def _load(self) -> None:
        try:
            import phonenumbers
        except ImportError as exc:
            raise DetectorUnavailable(f"personal_info: the phonenumbers package is not installed ({exc})") from None
        cfg = self.config
        assert isinstance(cfg, PersonalInfoConfig)
        unknown = [r for r in cfg.regions if r.upper() not in phonenumbers.SUPPORTED_REGIONS]
        if unknown:
            raise DetectorUnavailable(f"personal_info: unknown phone regions {unknown}")
        for region in cfg.regions:  # metadata loads lazily per region: pay it here, not on a child's message
            phonenumbers.is_valid_number(phonenumbers.parse("0123456789", region.upper()))
        common = Common()
        # the order is part of the behaviour: ties in overlap resolution keep the earlier match
        self._recognizers: tuple[Recognizer, ...] = (
            RequestRecognizer(common),
            EmailRecognizer(common),
            PhoneRecognizer(common, phonenumbers, [r.upper() for r in cfg.regions]),
            CoordinatesRecognizer(common),
            HandleRecognizer(common),
            NameRecognizer(common),
            SchoolRecognizer(common),
            AddressRecognizer(common),
            LocationRecognizer(common),
            BirthRecognizer(common),
            AgeRecognizer(common),
            PhotoRecognizer(common),
        )

    @property
    def recognizers(self) -> tuple[Recognizer, ...]:
        """The recognizers in the order they run (loading them first)."""
        self.load()
        return self._recognizers

    def detect(self, ctx: TextContext) -> list[Detection]:
        out: list[Detection] = []
        for m in self.find(ctx):
            kind = "asks for" if m.request else "gives"
            evidence = f"{m.recognizer}: {m.rule}; {ctx.role.value} {kind} {m.type.value}"
            out.append(
                Detection(
                    category=Category.PERSONAL_INFO,
                    score=m.score,
                    detector=self.name,
                    detector_version=self.version,
                    span=Span(m.start, m.end),
                    evidence=evidence,
                    signal=m.type.value,
                )
            )
        for view in ctx.decoded:
            # details hidden in base64/rot13: the encoded stretch is what gets redacted
            out.extend(
                replace(d, span=view.span, evidence=f"{d.evidence}, decoded from {view.kind}")
                for d in self.detect(view.context)
            )
        return out

    def find(self, ctx: TextContext) -> list[PiiMatch]:
        """All recognised details with role-adjusted scores, overlaps resolved (highest score wins)."""
        self.load()
        if not ctx.raw.strip():
            return []
        found: list[PiiMatch] = []
        for recognizer in self._recognizers:
            found.extend(recognizer.find(ctx))
        found = [_role_score(m, ctx.role) for m in found]
        found = [m for m in found if not _inside_placeholder(ctx.raw, m.start, m.end)]
        found.sort(key=lambda m: (-m.score, -(m.end - m.start), m.start))
        kept: list[PiiMatch] = []
        for m in found:
            if all(m.end <= k.start or m.start >= k.end for k in kept):
                kept.append(m)
        kept.sort(key=lambda m: m.start)
        return kept


def _role_score(m: PiiMatch, role: Role) -> PiiMatch:
    """Role decides the score: see the package docstring."""
    if m.request:
        if role is Role.CHILD or role is Role.SYSTEM:
            return _rescore(m, min(m.score, CHILD_QUESTION_SCORE), "a question from the child")
        return m
    if role is Role.CONTACT:
        if m.type in CONTACT_TYPES:
            return _rescore(m, max(m.score, CONTACT_SHARES_SCORE), "contact shares contact details")
        return _rescore(m, min(m.score, ASSISTANT_VALUE_SCORE), "contact's own detail")
    if role in (Role.ASSISTANT, Role.SYSTEM):
        return _rescore(m, min(m.score, ASSISTANT_VALUE_SCORE), "in assistant text, not a request")
    return m


def _rescore(m: PiiMatch, score: float, why: str) -> PiiMatch:
    return PiiMatch(m.type, m.start, m.end, score, m.recognizer, f"{m.rule} ({why})", m.request)


def _inside_placeholder(raw: str, start: int, end: int) -> bool:
    """True when the match sits inside a placeholder such as ``[CHILD_SCHOOL_1]`` left by redaction."""
    for p in _PLACEHOLDER.finditer(raw, max(0, start - 40), min(len(raw), end + 40)):
        if p.start() <= start and end <= p.end():
            return True
    return False
