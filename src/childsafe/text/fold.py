"""Script-aware folding for text in any language, with offsets back to the original.

``childsafe.text.normalize`` folds for English: it maps look-alike letters to Latin, which is right for "sеx"
written with a Cyrillic "е" and wrong for Russian. This folding keeps every script and removes only what
writers vary freely:

- Unicode compatibility forms (NFKC), case (casefold, so "ß" is "ss"), zero-width and format characters;
- accents and diacritics on Latin letters ("mándame" = "mandame", "çok" = "cok", "ı" = "i"), since children
  often type without them;
- Arabic short-vowel marks and the tatweel, and the alef/hamza, alef maqsura and taa marbuta variants;
- Russian "ё" as "е";
- Hindi's nukta and chandrabindu, which chat writers add or leave out freely ("ज़रूर" = "जरूर", "माँ" =
  "मां");
- a run of one repeated letter, folded to one ("holaaa" = "hola"; "cool" = "col" on both sides of a match),
  except Chinese and Japanese characters, where a doubled character is a word of its own ("妈妈", "色色").

Hindi's other vowel signs and Chinese characters are kept as they are. Used by the multilingual phrase lists and
the multilingual model, on the text and on the phrases alike.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

_DROP = frozenset("\u200b\u200c\u200d\u2060\ufeff\u00ad\u0640")
_ARABIC_MARKS = re.compile(r"[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed]")
_MAP = {
    "ı": "i", "ё": "е", "ł": "l", "ø": "o", "đ": "d", "æ": "ae", "œ": "oe",
    "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه", "ؤ": "و", "ئ": "ي",
    "\u0901": "\u0902",  # Devanagari chandrabindu as anusvara
}
_NUKTA = "\u093c"  # NFKC splits the nukta letters (U+0958-095F) into letter + nukta
_WORD_CHAR = re.compile(
    r"[^\W_]|[\u0300-\u036f\u0483-\u0489\u0610-\u061a\u064b-\u065f\u0670\u0900-\u0903\u093a-\u094f"
    r"\u0951-\u0957\u0962\u0963\u0981-\u0983\u09bc-\u09d7]"
)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


@dataclass(frozen=True, slots=True)
class Folded:
    """A folded text; ``starts[i]``/``ends[i]`` give the original characters that folded character ``i`` came
    from."""

    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def original(self, start: int, end: int) -> tuple[int, int]:
        """The span of the original text behind folded ``[start, end)``."""
        if start >= end or not self.starts:
            return (0, 0)
        return self.starts[start], self.ends[end - 1]


@lru_cache(maxsize=8192)
def _fold_char(ch: str) -> str:
    if ch in _DROP or unicodedata.category(ch) == "Cf":
        return ""
    s = unicodedata.normalize("NFKC", ch).casefold()
    out: list[str] = []
    for c in s:
        c = _MAP.get(c, c)
        if c == _NUKTA or _ARABIC_MARKS.match(c):
            continue
        if out and unicodedata.combining(c) and out[-1] < "\u0250":
            continue  # a mark casefolding leaves on a Latin letter: Turkish "İ" is "i" + a dot above
        d = unicodedata.normalize("NFD", c)
        if len(d) > 1 and d[0] < "\u0250":  # a Latin letter with marks: keep the letter
            c = d[0]
        out.append(_MAP.get(c, c))
    return "".join(out)


@lru_cache(maxsize=4096)
def fold(raw: str) -> Folded:
    """Fold ``raw`` (see the module docstring)."""
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for i, ch in enumerate(raw):
        for c in _fold_char(ch):
            if chars and chars[-1] == c and c.isalpha() and not _CJK.match(c):
                ends[-1] = i + 1
                continue
            chars.append(c)
            starts.append(i)
            ends.append(i + 1)
    return Folded("".join(chars), tuple(starts), tuple(ends))


def fold_text(raw: str) -> str:
    """Just the folded text (for phrases and model features)."""
    return fold(raw).text


_TOKEN = re.compile(r"(?:" + _WORD_CHAR.pattern + r")+")


def tokens(folded: str) -> list[tuple[str, int, int]]:
    """Words of a folded text with their offsets; each Chinese or Japanese character is its own word."""
    out: list[tuple[str, int, int]] = []
    for m in _TOKEN.finditer(folded):
        word, start = m.group(0), m.start()
        if _CJK.search(word):
            for j, c in enumerate(word):
                out.append((c, start + j, start + j + 1))
        else:
            out.append((word, start, m.end()))
    return out


def is_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


__all__ = ["Folded", "fold", "fold_text", "is_cjk", "join_spaced", "second_reading", "tokens", "unmix_scripts"]


_SPACED_SEPS = " .-_*~+,/|"
_COMMON_SINGLE_WORDS = frozenset("aeiouyàèéìòóùx" + "авикосуя")
"""Letters that are words of their own in the supported languages ("y", "e", "à", "и", "в"...), and the "x" of
kisses: a spaced run of only these is ordinary text, not letters spaced apart."""


_TWO_SINGLES = re.compile(r"(?<!\w)[^\W\d_][ .\-_*~+,/|][^\W\d_](?!\w)")


def join_spaced(raw: str) -> str | None:
    """``raw`` with letters spaced or punctuated apart joined into words ("m a n d a m e" -> "mandame",
    "s.i.n r.o.p.a" -> "sin ropa"), or None when there is no such run. Word breaks inside a run are not
    known: "я н е  х о ч у" becomes "яне  хочу".

    A run is three or more single letters (of any script but Chinese and Japanese, whose characters are words
    already) separated by one and the same separator character; a run of space-separated letters that are
    all words of their own ("y a o") is left alone."""
    if not _TWO_SINGLES.search(raw):
        return None  # no two lone letters side by side (most messages)
    chars = list(raw)
    n = len(chars)

    def single(k: int) -> bool:
        return (0 <= k < n and chars[k].isalpha() and not _CJK.match(chars[k])
                and (k == 0 or not chars[k - 1].isalnum()) and (k == n - 1 or not chars[k + 1].isalnum()))

    drop: set[int] = set()
    i = 0
    while i < n:
        if not single(i):
            i += 1
            continue
        run, k, sep = [i], i, None
        while k + 2 < n and chars[k + 1] in _SPACED_SEPS and (sep is None or chars[k + 1] == sep) and single(k + 2):
            sep = chars[k + 1]
            run.append(k + 2)
            k += 2
        letters = {chars[x].casefold() for x in run}
        if len(run) >= 3 and not (sep == " " and letters <= _COMMON_SINGLE_WORDS):
            drop.update(x + 1 for x in run[:-1])
        i = k + 1
    if not drop:
        return None
    return "".join(c for j, c in enumerate(chars) if j not in drop)


# Cyrillic and Greek letters that look like Latin ones, and back: writers swap them inside a word to dodge
# filters ("mаndаme" with Cyrillic "а", "сkинь" with a Latin "k").
_TO_LATIN = dict(zip(
    "аеорсухіјѕԁԛԝкАВЕКМНОРСТХУІЈЅ" "αοριν\u03baΑΒΕΖΗΙΚΜΝΟΡΤΥΧ",
    "aeopcyxijsdqwkABEKMHOPCTXYIJS" "aopivkABEZHIKMNOPTYX", strict=True))
_TO_CYRILLIC = {"a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "y": "у", "x": "х", "k": "к", "A": "А",
                "B": "В", "E": "Е", "K": "К", "M": "М", "H": "Н", "O": "О", "P": "Р", "C": "С", "T": "Т",
                "X": "Х", "Y": "У"}
_MIXED_WORD = re.compile(r"[^\W\d_]+")
_LATIN_LETTER = re.compile(r"[A-Za-z\u00c0-\u024f]")
_LOOKALIKE_LETTER = re.compile(r"[\u0370-\u03ff\u0400-\u052f]")


def _script(c: str) -> str:
    if c < "\u0250":
        return "latin"
    if "\u0370" <= c <= "\u03ff" or "\u0400" <= c <= "\u04ff" or "\u0500" <= c <= "\u052f":
        return "cyrillic"  # Greek counts with Cyrillic: both are the look-alike side here
    return "other"


def unmix_scripts(raw: str) -> str | None:
    """``raw`` with each word that mixes Latin letters and Cyrillic or Greek look-alikes written in its majority
    script ("mаndаme" -> "mandame", "сkинь" -> "скинь"), or None when no word mixes them."""
    if not (_LATIN_LETTER.search(raw) and _LOOKALIKE_LETTER.search(raw)):
        return None  # one script only (most messages)
    changed = False

    def fix(m: re.Match[str]) -> str:
        nonlocal changed
        word = m.group(0)
        scripts = [_script(c) for c in word]
        latin, other = scripts.count("latin"), scripts.count("cyrillic")
        if not latin or not other:
            return word
        table = _TO_LATIN if latin >= other else _TO_CYRILLIC
        fixed = "".join(table.get(c, c) for c in word)
        changed = changed or fixed != word
        return fixed

    out = _MIXED_WORD.sub(fix, raw)
    return out if changed else None


_INVISIBLE = re.compile(r"(?<=[A-Za-z\u00c0-\u024f\u0370-\u052f])[\u00ad\u200b-\u200d\u2060\ufeff\u180e]+"
                        r"(?=[A-Za-z\u00c0-\u024f\u0370-\u052f])")
"""Invisible characters between two Latin, Greek or Cyrillic letters: nothing writes them there but a disguise
(the joiners of emoji sequences and of Persian or Hindi words stay)."""
_LEET_WORD = re.compile(r"(?<![\w@$])(?=[\w@$]*[a-z])(?=[\w@$]*[013457@$])[a-z013457@$]{2,}(?![\w@$])")
_LEET_LETTERS = str.maketrans("013457@$", "oieastas")
_NUMBER_UNIT = re.compile(r"\d+[a-z]{1,3}")


def _erratic_case(text: str) -> bool:
    """aLtErNaTiNg case: two words or more whose letters switch case at most pairs ("iPhone" and "YouTube"
    switch at few)."""
    alternating = 0
    for w in _MIXED_WORD.findall(text):
        if w.islower():
            continue  # no capital in it, no switch (most words): skip the pairwise count
        switches = sum(a.isupper() != b.isupper() for a, b in itertools.pairwise(w))
        alternating += switches >= 2 and switches >= 0.6 * (len(w) - 1)
    return alternating >= 2


def _unleet(text: str) -> str:
    """Digits and symbols standing for letters inside Latin words ("s3nd m3 f0t0s" -> "send me fotos"); a
    number with a unit ("13yo", "5pm") is left alone."""
    return _LEET_WORD.sub(lambda m: m.group(0) if _NUMBER_UNIT.fullmatch(m.group(0)) else
                          m.group(0).translate(_LEET_LETTERS), text)


def second_reading(raw: str) -> str | None:
    """``raw`` undisguised, or None when there is nothing to undo: invisible characters inside a word dropped,
    aLtErNaTiNg case lowered, look-alike letters of another script put back, digits and symbols standing for
    letters in Latin words read as letters, letters spaced apart joined."""
    text = _INVISIBLE.sub("", raw)
    if _erratic_case(text):
        text = text.lower()
    text = unmix_scripts(text) or text
    text = _unleet(text)
    text = join_spaced(text) or text
    return text if text != raw else None
