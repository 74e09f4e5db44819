"""Typo correction for a second view of a message (``TextContext.spelled``): one edit away, by word frequency.

Children misspell, and people who want to slip past a filter misspell on purpose ("porhub", "yur paretns",
"intellignt"). The classifier's subword tokenizer splits an unknown word into pieces it has rarely seen with
that meaning, so a misspelled request scores lower than the clean one. This module maps each word that is not
a known word to the most likely word one edit away (a missing, extra, doubled, swapped or replaced letter),
with a noisy-channel score: log word frequency plus a penalty per kind of edit (a swapped or missing letter is
a common typo, a wrong first letter is rare).

What it does not do: correct real words used wrongly ("seal" for "steal"), or anything two edits away. The
lexicon and the classifier keep reading the uncorrected text too, so a wrong correction can add a view but
never remove one.

Frequencies: the English word list that the ``pyspellchecker`` package ships (MIT licence, counts from
OpenSubtitles), read from the installed package: no download. It takes ~0.25 s to read, so it loads in a
background thread when a corrector is made (see SpellingCorrector).
"""

from __future__ import annotations

import functools
import gzip
import json
import math
import re
import threading
from collections.abc import Iterable
from importlib import resources

from childsafe.text.normalize import vocabulary

_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_WORD = re.compile(r"(?<![a-z0-9'])[a-z]+(?![a-z0-9'])")
"""Whole words of letters only: "ps5", "don't" and "x2" are left alone."""

# log-probability penalties of the edit that turns the intended word into the typed one
_DOUBLED = 0.0  # "poorn" for "porn": a repeated key
_MISSING = -1.0  # "yur" for "your"
_SWAPPED = -1.0  # "thta" for "that"
_EXTRA = -4.5  # "workre" ... a stray letter that is not a repeat
_ADJACENT = -3.0  # a neighbouring key: "losr" could be "lost"
_REPLACED = -6.0  # any other letter: "fre" -> "are" must lose to "fre" -> "free", "shp" -> "she" to "shop"
_FIRST_LETTER = -2.0  # typos rarely hit the first letter
_KNOWN_BONUS = 5.0
"""A rare but real word competes with its neighbours: it keeps itself unless one is far more common."""
_MIN_LEN = 3
"""Words shorter than this are left alone, and no word is corrected to one shorter than this ("hme" is not "he")."""
_KEYBOARD = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_MIN_FREQ = 100
"""Candidates rarer than this in the frequency list are not proposed (subtitle noise and names)."""
_EXTRA_COUNT = 500
"""The count given to a lexicon term the frequency list lacks: proposed for its misspellings, never over a
common word."""
_LOAD_TIMEOUT_S = 10.0
_COMMON = 1000


class SpellingCorrector:
    """Word-by-word typo correction; vocabulary and lexicon words, slang and common words are kept.

    The word list loads in a background thread; the first text with a word that needs it waits for the load, so
    results never depend on timing (a text of known words is never delayed)."""

    def __init__(self) -> None:
        self._known = vocabulary() | chat_words()
        self._freq: dict[str, int] = {}
        self._keep: frozenset[str] | set[str] = self._known
        self._ready = threading.Event()
        self.error: str | None = None
        threading.Thread(target=self._load, name="childsafe-spelling", daemon=True).start()

    def _load(self) -> None:
        try:
            freq = dict(_frequencies())
            for w in vocabulary():  # lexicon terms missing from the list ("pornhub") can still be proposed
                freq.setdefault(w, _EXTRA_COUNT)
            self._freq = freq
            # words seen 1,000+ times are never corrected: a more common neighbour was usually wrong ("dot" ->
            # "dont", "loot" -> "lot"), and most words of a message are these: one set lookup each
            self._keep = self._known | {w for w, c in freq.items() if c >= _COMMON}
        except Exception as exc:  # a missing resource disables correction; the raw and normalised views remain
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            self._ready.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the word list is loaded; True when correction is available."""
        self._ready.wait(timeout)
        return bool(self._freq)

    def correct(self, text: str) -> str:
        """``text`` (lowercase, normalised) with each misspelled word replaced by its most likely intended word."""
        return _WORD.sub(lambda m: self.word(m.group(0)), text)

    def corrections(self, words: Iterable[tuple[str, int, int]]) -> list[tuple[int, int, str]]:
        """(start, end, word) for each of ``words`` (a TextContext's tokens) that would be corrected, in order.

        Tokens with digits or apostrophes ("ps5", "x2") are left alone, as in :meth:`correct`."""
        out = []
        keep = self._keep
        for w, start, end in words:
            if len(w) < _MIN_LEN or w in keep or not w.isalpha():
                continue  # most words of most messages: one set lookup
            fixed = self.word(w)
            if fixed != w:
                out.append((start, end, fixed))
        return out

    @functools.lru_cache(maxsize=65536)  # noqa: B019 - one corrector per detector, lives as long as the process
    def word(self, w: str) -> str:
        if len(w) < _MIN_LEN or w in self._known:
            return w
        if not self._ready.is_set():
            self._ready.wait(_LOAD_TIMEOUT_S)
        freq = self._freq
        if not freq or w in self._keep:
            return w
        if len(w) >= 5 and (w + "s" in freq or w + "es" in freq):
            return w  # the singular of a listed plural ("axolotl"): rare, not wrong
        own = freq.get(w, 0)
        best, best_score = w, (math.log(own) + _KNOWN_BONUS) if own else -math.inf
        for cand, penalty in _edits(w).items():
            f = freq.get(cand, 0)
            if f < _MIN_FREQ:
                continue
            score = math.log(f) + penalty
            if score > best_score:
                best, best_score = cand, score
        return best


def _neighbours() -> dict[str, str]:
    """Letter -> the letters next to it on a QWERTY keyboard (same row and the rows above and below)."""
    pos = {c: (r, i + 0.5 * r) for r, row in enumerate(_KEYBOARD) for i, c in enumerate(row)}
    return {
        a: "".join(b for b, (rb, xb) in pos.items() if b != a and abs(rb - ra) <= 1 and abs(xb - xa) <= 1.0)
        for a, (ra, xa) in pos.items()
    }


_NEIGHBOURS = _neighbours()


def _edits(w: str) -> dict[str, float]:
    """Every string one edit from ``w`` with the penalty of the cheapest typo that produces ``w`` from it."""
    out: dict[str, float] = {}

    def add(cand: str, penalty: float, first: bool) -> None:
        p = penalty + (_FIRST_LETTER if first else 0.0)
        if len(cand) >= _MIN_LEN and cand != w and p > out.get(cand, -math.inf):
            out[cand] = p

    n = len(w)
    for i in range(n + 1):
        left, right = w[:i], w[i:]
        if right:
            repeat = (i > 0 and w[i - 1] == right[0]) or (len(right) > 1 and right[1] == right[0])
            add(left + right[1:], _DOUBLED if repeat else _EXTRA, i == 0)
            near = _NEIGHBOURS.get(right[0], "")
            for c in _LETTERS:
                if c != right[0]:
                    add(left + c + right[1:], _ADJACENT if c in near else _REPLACED, i == 0)
        if len(right) > 1 and right[0] != right[1]:
            add(left + right[1] + right[0] + right[2:], _SWAPPED, i == 0)
        for c in _LETTERS:
            add(left + c + right, _MISSING, i == 0)
    return out


@functools.lru_cache(maxsize=1)
def default_corrector() -> SpellingCorrector:
    """The process-wide corrector (its word list and cache are shared by every detector)."""
    return SpellingCorrector()


@functools.lru_cache(maxsize=1)
def chat_words() -> frozenset[str]:
    """Chat, gaming and slang words (data/slang.txt) that are not misspellings of anything."""
    text = resources.files("childsafe.text").joinpath("data/slang.txt").read_text(encoding="utf-8")
    return frozenset(w for line in text.splitlines() if not line.startswith("#") for w in line.split())


@functools.lru_cache(maxsize=1)
def _frequencies() -> dict[str, int]:
    """English word -> count, from the pyspellchecker package's resources."""
    data = resources.files("spellchecker").joinpath("resources/en.json.gz").read_bytes()
    raw = json.loads(gzip.decompress(data))
    out: dict[str, int] = {}
    for w, c in raw.items():
        # normalisation drops apostrophes ("what's" -> "whats"), so the list must know them without
        key = w.replace("'", "")
        if key.isascii() and key.isalpha():
            out[key] = out.get(key, 0) + int(c)
    return {w: c for w, c in out.items() if c >= _MIN_FREQ}
