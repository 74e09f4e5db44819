"""Grooming stage signals in the ten languages besides English: per-language phrase lists.

The English stage rules (``childsafe.detectors.grooming``) are regular expressions over English. For the other
languages each stage is a list of phrases written by native-register writers
(``detectors/data/multilingual/stages/<lang>.yaml``), matched like the multilingual category phrases: folded
text (lowercase, accents removed), words in order with up to two words between them, ``*`` for a stem, Chinese as
a substring. A message from the other party (a contact or the assistant) gives the stages of the other party; a
child's message gives only the child's disclosures (their age, where they live or go to school, that they are
alone), as in English.

The signals are for the conversation tracker: each one is scored as the matching English rule, and capped under
the policy's lowest grooming action, so one stage phrase on its own never stops a message; the tracker adds
them up over the conversation.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, ClassVar

import yaml

from childsafe.detectors.base import Detector, DetectorConfig, DetectorUnavailable
from childsafe.detectors.grooming import (
    CHILD_DISCLOSURES,
    MASKED_STAGES,
    STAGES,
    GroomingStageConfig,
    blank_spans,
)
from childsafe.detectors.multilingual import LANGUAGES, Phrase, PhraseList, _phrase, guessed_codes
from childsafe.text.context import TextContext
from childsafe.text.fold import fold, tokens
from childsafe.text.language import LanguageGuess
from childsafe.types import Category, Detection, Role, Span

STAGE_SCORES: dict[str, float] = {
    "rapport": 0.3,
    "age_probe": 0.3,
    "circumstance_probe": 0.45,
    "adult_age": 0.3,
    "secrecy": 0.5,
    "isolation": 0.5,
    "gifts": 0.3,
    "desensitisation": 0.45,
    "sexual_talk": 0.55,
    "photo_request": 0.45,
    "off_platform": 0.35,
    "meeting": 0.4,
    "child_disclosure_age": 0.3,
    "child_disclosure_location": 0.45,
    "child_disclosure_alone": 0.4,
}
"""Each stage's rule confidence, as the English rules give it (their typical score for that stage)."""

GROOMING_SCALE = 0.5
"""As in English: a stage of the other party is evidence for the tracker, half the rule's confidence."""

SIGNAL_CAP = 0.2
"""No stage signal goes over this: under the policy's lowest grooming action (warn at 0.25) and equal to the
conversation's cap on one message's grooming score. The tracker counts a stage as fully present from
``childsafe.conversation.model.STAGE_UNIT`` (0.15)."""


@dataclass(frozen=True, slots=True)
class StageList:
    """One language's stage phrases and the ordinary phrases (``allow``) that cancel a stage phrase they overlap."""

    language: str
    stages: dict[str, PhraseList]
    allow: PhraseList

    def matches(self, raw: str) -> list[tuple[str, Phrase, int, int]]:
        """Every (stage, phrase, start, end) in ``raw``'s offsets that no allow phrase overlaps."""
        f = fold(raw)
        words = tokens(f.text)
        allowed = [(s, e) for _, s, e in self.allow.match(words, f.text)]
        out: list[tuple[str, Phrase, int, int]] = []
        for stage, plist in self.stages.items():
            for p, s, e in plist.match(words, f.text):
                if not any(a < e and s < b for a, b in allowed):
                    out.append((stage, p, *f.original(s, e)))
        return out


def stage_list(language: str, data: dict[str, Any]) -> StageList:
    """A language's stage phrases from its YAML mapping (``stages: {stage: [phrase, ...]}``, ``allow: [...]``)."""
    unknown = set(data) - {"language", "stages", "allow"}
    if unknown:
        raise DetectorUnavailable(f"grooming stage phrases {language}: unknown keys {sorted(unknown)}")
    stages: dict[str, PhraseList] = {}
    stages_data = data.get("stages") or {}
    if not isinstance(stages_data, dict):
        raise DetectorUnavailable(f"grooming stage phrases {language}: 'stages' must map stage names to lists")
    for stage, items in stages_data.items():
        if stage not in STAGE_SCORES:
            raise DetectorUnavailable(f"grooming stage phrases {language}: unknown stage {stage!r}")
        if not isinstance(items, list):
            raise DetectorUnavailable(f"grooming stage phrases {language}: stage {stage!r} must be a list of phrases")
        phrases = [p for item in items if (p := _phrase(str(item), Category.GROOMING, 0.0, language))]
        stages[stage] = PhraseList(language, phrases)
    if not isinstance(data.get("allow") or [], list):
        raise DetectorUnavailable(f"grooming stage phrases {language}: 'allow' must be a list of phrases")
    allow = [p for item in data.get("allow") or [] if (p := _phrase(str(item), None, 0.0, language))]
    return StageList(language, stages, PhraseList(language, allow))


@lru_cache(maxsize=1)
def load_stage_lists() -> dict[str, StageList]:
    """Every shipped stage list, by language."""
    root = resources.files("childsafe.detectors") / "data" / "multilingual" / "stages"
    out: dict[str, StageList] = {}
    for code in LANGUAGES:
        res = root / f"{code}.yaml"
        if not res.is_file():
            raise DetectorUnavailable(f"grooming stage phrases {code}: {code}.yaml is missing")
        try:
            data = yaml.safe_load(res.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise DetectorUnavailable(f"grooming stage phrases {code}: invalid YAML: {exc}") from None
        if not isinstance(data, dict):
            raise DetectorUnavailable(f"grooming stage phrases {code}: expected a mapping")
        out[code] = stage_list(code, data)
    return out


@lru_cache(maxsize=256)
def stage_matches(code: str, raw: str) -> tuple[tuple[str, Phrase, int, int], ...]:
    """Every stage phrase of language ``code`` in ``raw`` (see :meth:`StageList.matches`). Cached because the
    conversation tracker masks the message the detector just read."""
    return tuple(load_stage_lists()[code].matches(raw))


def mask_stages(raw: str, guess: LanguageGuess) -> str:
    """``raw`` with the phrases of the stages children also use among themselves (``MASKED_STAGES``: age and
    circumstance questions, gifts, other apps, meeting...) replaced by spaces, in the message's language(s), as
    the English message model masks its own: the stage features count them once."""
    return blank_spans(raw, [(start, end) for code in guessed_codes(guess, load_stage_lists())
                             for stage, _, start, end in stage_matches(code, raw) if stage in MASKED_STAGES])


class MultilingualStageDetector(Detector):
    """Stage phrases that tag a non-English message with the grooming stages it shows (signal = stage name)."""

    name: ClassVar[str] = "grooming_stages_ml"
    version: ClassVar[str] = "1"
    categories: ClassVar[frozenset[Category]] = frozenset({Category.GROOMING, Category.PERSONAL_INFO})
    languages: ClassVar[frozenset[str] | None] = frozenset(LANGUAGES)
    Config: ClassVar[type[DetectorConfig]] = GroomingStageConfig

    def _load(self) -> None:
        load_stage_lists()  # a missing or invalid list is reported at warm-up, before the first message

    def detect(self, ctx: TextContext) -> list[Detection]:
        self.load()
        if not ctx.raw.strip() or ctx.role is Role.SYSTEM:
            return []
        guess = ctx.language
        if guess.code == "en":
            return []  # English, even when unsure: the English rules read it
        cfg = self.config
        assert isinstance(cfg, GroomingStageConfig)
        factor = cfg.assistant_factor if ctx.role is Role.ASSISTANT else 1.0
        best: dict[str, Detection] = {}
        for code in guessed_codes(guess, load_stage_lists()):
            for stage, phrase, start, end in sorted(stage_matches(code, ctx.raw), key=lambda m: m[2]):
                if (stage in CHILD_DISCLOSURES) != (ctx.role is Role.CHILD):
                    continue  # the child's own questions are ordinary; disclosures are the child's
                if stage in CHILD_DISCLOSURES:
                    category, score = Category.PERSONAL_INFO, STAGE_SCORES[stage]
                else:
                    category, score = Category.GROOMING, STAGE_SCORES[stage] * GROOMING_SCALE * factor
                score = min(SIGNAL_CAP, score)
                if stage in best and best[stage].score >= score:
                    continue
                best[stage] = Detection(category, score, self.name, self.version, Span(start, end),
                                        f"{stage} ({code}): {phrase.text!r}", stage)
        return [best[s] for s in STAGES if s in best]


__all__ = ["STAGE_SCORES", "MultilingualStageDetector", "StageList", "load_stage_lists", "mask_stages", "stage_list",
           "stage_matches"]
