"""Obfuscation transforms (leetspeak, homoglyphs, spacing) used to measure decision invariance."""

from __future__ import annotations

import random
from collections.abc import Callable

_LEET = {"a": "4", "e": "3", "i": "1", "o": "0"}
_LEET_MIXED = {**_LEET, "s": "5", "t": "7"}
_HOMOGLYPH = {"a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "x": "х", "i": "і", "y": "у"}  # Cyrillic look-alikes


def leetspeak(text: str) -> str:
    return "".join(_LEET.get(ch, ch) if ch.islower() else ch for ch in text)


def homoglyphs(text: str) -> str:
    return "".join(_HOMOGLYPH.get(ch, ch) for ch in text)


def spacing(text: str) -> str:
    """Letter-space the longest word ("k i l l"), the usual trick against word lists."""
    words = text.split(" ")
    if not words:
        return text
    k = max(range(len(words)), key=lambda i: len(words[i]))
    words[k] = " ".join(words[k])
    return " ".join(words)


def zero_width(text: str) -> str:
    """Insert zero-width spaces inside every word longer than three letters."""
    return " ".join(w[:2] + "\u200b" + w[2:] if len(w) > 3 else w for w in text.split(" "))


def mixed(text: str, seed: int = 0) -> str:
    rng = random.Random(seed + len(text))
    out = []
    for ch in text:
        r = rng.random()
        if ch.islower() and ch in _LEET_MIXED and r < 0.3:
            out.append(_LEET_MIXED[ch])
        elif ch in _HOMOGLYPH and r < 0.5:
            out.append(_HOMOGLYPH[ch])
        else:
            out.append(ch)
    return "".join(out)


TRANSFORMS: dict[str, Callable[[str], str]] = {
    "leetspeak": leetspeak,
    "homoglyphs": homoglyphs,
    "spacing": spacing,
    "zero_width": zero_width,
    "mixed": mixed,
}
