"""A small Flesch-Kincaid grade estimate, used to hold child-facing messages to a reading level."""

from __future__ import annotations

import re

_WORD = re.compile(r"[A-Za-z']+")


def syllables(word: str) -> int:
    """Heuristic English syllable count (vowel groups, silent final e)."""
    w = word.lower().strip("'")
    if not w:
        return 0
    if len(w) <= 3:
        return 1
    w = re.sub(r"(?:es|ed|e)$", "", w) if not w.endswith(("le", "ee")) else w
    groups = re.findall(r"[aeiouy]+", w)
    return max(1, len(groups))


def fk_grade(text: str) -> float:
    """Flesch-Kincaid grade level of ``text``."""
    sentences = max(1, len([s for s in re.split(r"[.!?]+", text) if s.strip()]))
    words = _WORD.findall(text)
    if not words:
        return 0.0
    syl = sum(syllables(w) for w in words)
    return 0.39 * (len(words) / sentences) + 11.8 * (syl / len(words)) - 15.59
