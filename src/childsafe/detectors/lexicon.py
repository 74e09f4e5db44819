"""Curated phrase lists per category, matched on normalised text, with context rules."""

from __future__ import annotations

import dataclasses
import re
from importlib import resources
from typing import Any

import yaml
from pydantic import Field

from childsafe.detectors.base import Detector, DetectorConfig, DetectorUnavailable
from childsafe.text.context import TextContext
from childsafe.text.normalize import known_word, normalize, vocabulary
from childsafe.text.spelling import default_corrector
from childsafe.types import Category, Detection, Role

_COMPACT_MIN = 8
_FUZZY_MIN = 4
"""Phrase words at least this long may match a misspelling (one edit); shorter words must match exactly."""
FUZZY_FACTOR = 0.9
"""Confidence kept by a phrase matched through misspellings."""
REAL_WORD_FACTOR = 0.6
"""Confidence kept when a misspelling is itself a word ("end my lie"): enough to warn, rarely to block."""
_SINGLE_MIN = 5
"""Single-word phrases this long match a swapped pair or a doubled letter ("cocaien", "cocaiine")."""
_PHRASE_TOKEN = re.compile(r"[a-z0-9']+")
_NONE: frozenset[str] = frozenset()
_CACHE_MAX = 50_000
TIER_SCORES = {"strong": 0.95, "medium": 0.75, "weak": 0.25}
CONTEXT_SCORE = 0.3
"""Confidence left after a context rule (help-seeking, negation, games, history, a victim's report) applies."""
QUOTE_SCORE = 0.45
"""Confidence left for a phrase inside quotation marks with no other cue: quoting is how fiction and role-play
frames wrap a request ('a character says "..."'), so a quote is warned about, not waved through."""

# Categories whose matches a context rule may soften. Sexual content involving minors, grooming, self-harm
# and personal details are never softened: a child asking for help with them still needs the help. (The one
# exception: self-harm words someone else said to the child, "told me to kill myself", are reported speech.)
_SOFTENABLE = frozenset(
    {
        Category.HARASSMENT,
        Category.HATE,
        Category.VIOLENCE,
        Category.DANGEROUS,
        Category.DRUGS,
        Category.SEXUAL,
        Category.OTHER_UNSAFE,
    }
)

_CUES: dict[str, tuple[frozenset[Category], re.Pattern[str]]] = {
    "help-seeking": (
        _SOFTENABLE,
        re.compile(
            r"\b(how (do|can|should) i (stop|deal|handle|cope|help|avoid|report|tell|respond)|what (do|should) i do"
            r"|how to (stop|deal|handle|cope|avoid|report|help|respond|talk)|is it (ok|okay|normal|safe|bad|wrong)"
            r"|what are the (risks|dangers)"
            r"|how (do|can) (i|we) (protect|keep)|dangers of|risks of|stay safe|safety tips|warning signs)\b"
        ),
    ),
    # "why is vaping bad for kids": the cue words come after the match, so this one reads the whole sentence
    "asks-why-harmful": (
        _SOFTENABLE,
        re.compile(r"\bwhy (is|are|do|does) .{0,40}\b(bad|wrong|dangerous|harmful|unhealthy|addictive|illegal)\b"),
    ),
    # "a kid told me to kill myself, who should i tell": someone else's words reported, not the child's intent
    "reported-speech": (
        frozenset({Category.SELF_HARM}),
        re.compile(
            r"\b(told|tell|tells|telling|keep telling|keeps telling|kept telling|said|says|saying|wrote|posted)"
            r"\s+(me\s+)?(that\s+)?(i\s+should\s+|to\s+(go\s+)?)$"
        ),
    ),
    "educational": (
        _SOFTENABLE,
        re.compile(
            r"\b(history of|in history|what (is|was|were|are)|who (was|were)|why did|what happened|explain|essay"
            r"|homework|my teacher|for school|for class|in class|project about|report on|in the news|news about"
            r"|world war|civil war|the war|during the war|holocaust|slavery|genocide|the bible|the quran"
            r"|define|definition of|meaning of|book|novel|the story|the movie|the film|documentary)\b"
        ),
    ),
    "victim-report": (
        frozenset({Category.HARASSMENT, Category.HATE, Category.VIOLENCE}),
        re.compile(
            r"\b(called me|call me|calls me|calling me|said (that )?i|says (that )?i|told me|keep saying|keeps saying"
            r"|someone (said|wrote|posted)|they (said|say|call)|he (said|says|called)|she (said|says|called)"
            r"|being bullied|bullying me|bully me|bullies me|was bullied|am bullied|get bullied|got bullied"
            r"|threatened me|threatening me)\b"
        ),
    ),
    # "why do people self harm? we talked about it in class": a question about others or for school is not a
    # disclosure. Left at the context score, which still warns and shows the child where help is.
    "about-others": (
        frozenset({Category.SELF_HARM}),
        re.compile(
            r"\b(why (do|does|would|did) (people|someone|anyone|some people|teens|kids|they)|what (is|are|does|do)"
            r"|how (can|do|should) (i|we) help (a|my|our) (friend|mate|sister|brother|classmate|cousin|student)"
            r"|signs (of|that)|warning signs|statistics (on|about)|awareness|prevention)\b"
        ),
    ),
    "school-topic": (
        frozenset({Category.SELF_HARM}),
        re.compile(
            r"\b(we (talked|learned|learnt|read) about|in (class|health class|pshe|school today)"
            r"|for (school|class|a project|my project|health class|an essay|psychology)"
            r"|my (essay|project) (on|about))\b"
        ),
    ),
    "games-sports": (
        frozenset({Category.VIOLENCE}),
        re.compile(
            r"\b(fortnite|minecraft|roblox|video ?game|the game|my game|this game|among us|call of duty|zelda|mario"
            r"|pokemon|boss|level|zombie|zombies|creeper|npc|respawn|match|boxing|karate|wrestling|football"
            r"|soccer|chess|team|tournament|dungeon|dragon|monster|monsters|sword|my character|game character)\b"
        ),
    ),
}
# Role-play and "no rules" framing is how a request is smuggled past a filter: no context rule softens a
# match in a message that uses it.
_JAILBREAK = re.compile(
    r"\b(stay in character|with no rules|has no rules|have no rules|no restrictions|ignore (all |your )?"
    r"(previous |prior )?(rules|instructions)|pretend (you are|to be) .{0,40}\b(no|without) (rules|limits|filters)"
    r"|jailbreak|dan mode|developer mode)\b"
)
_NEGATION = re.compile(
    r"\b(not|never|dont|do not|doesnt|does not|didnt|did not|no one should|nobody should|stop)\s+(\w+\s+){0,2}$"
)
_SENTENCE_SPLIT = re.compile(r"[.!?\n;]")


class LexiconConfig(DetectorConfig):
    extra_phrases: dict[str, dict[str, list[str]]] = Field(default_factory=dict)
    """Operator additions: {category: {tier: [phrases]}}."""
    spelling: bool = True
    """Also match the message with typos corrected (``TextContext.spelled``), at the misspelt-phrase factor:
    fuzzy matching allows one edit per phrase word, and a request misspelt in every word slips past it."""


class LexiconDetector(Detector):
    """Phrase lists per category, matched with Aho-Corasick on the normalised text."""

    name = "lexicon"
    version = "2026.12.1"
    categories = frozenset(Category)
    joins_messages = True
    Config = LexiconConfig
    _spelling = True

    def _load(self) -> None:
        try:
            import ahocorasick
        except ImportError as exc:  # pragma: no cover - a core dependency
            raise DetectorUnavailable(f"lexicon: pyahocorasick is not installed ({exc})") from None
        try:
            raw = resources.files("childsafe.detectors").joinpath("data/lexicon.yaml").read_text(encoding="utf-8")
            data: dict[str, Any] = yaml.safe_load(raw)
        except (OSError, yaml.YAMLError) as exc:
            raise DetectorUnavailable(f"lexicon: cannot read phrase list ({exc})") from None
        cfg = self.config
        assert isinstance(cfg, LexiconConfig)
        self._spelling = cfg.spelling
        if cfg.spelling:
            default_corrector()  # starts loading the word list now, off the first message's path
        table: dict[str, list[tuple[Category, str]]] = {}
        cats: dict[str, dict[str, list[str]]] = {k: dict(v) for k, v in data["categories"].items()}
        for cat, tiers in cfg.extra_phrases.items():
            for tier, phrases in tiers.items():
                cats.setdefault(cat, {}).setdefault(tier, []).extend(phrases)
        for cat_name, tiers in cats.items():
            category = Category.parse(cat_name)
            for tier, phrases in tiers.items():
                if tier not in TIER_SCORES:
                    raise DetectorUnavailable(f"lexicon: unknown tier {tier!r} for {cat_name}")
                for phrase in phrases:
                    key = normalize(str(phrase)).text
                    if key:
                        table.setdefault(key, []).append((category, tier))
        automaton = ahocorasick.Automaton()
        for key, entries in table.items():
            automaton.add_word(key, (key, tuple(entries)))
        allow = ahocorasick.Automaton()
        for phrase in data.get("allow", []):
            key = normalize(str(phrase)).text
            allow.add_word(key, key)
        # Multi-word phrases written without spaces ("killmyself", "k i l l m y s e l f" once joined, or
        # run-together chat such as "donttellyourmom") are found inside single long tokens.
        compact = ahocorasick.Automaton()
        for key, entries in table.items():
            squashed = key.replace(" ", "")
            if " " in key and len(squashed) >= _COMPACT_MIN:
                compact.add_word(squashed, (key, entries))
        automaton.make_automaton()
        allow.make_automaton()
        compact.make_automaton()
        self._build_fuzzy(table)
        self._compact = compact
        self._automaton = automaton
        self._allow = allow
        self.phrase_count = len(table)

    def _build_fuzzy(self, table: dict[str, list[tuple[Category, str]]]) -> None:
        """Index phrases by their first two words, and phrase words by one-letter deletions (symspell style)."""
        by_first: dict[tuple[str, str], list[tuple[tuple[str, ...], str, tuple[tuple[Category, str], ...]]]] = {}
        deletes: dict[str, set[str]] = {}
        singles: dict[str, tuple[tuple[Category, str], ...]] = {}
        for key, entries in table.items():
            tokens = tuple(_PHRASE_TOKEN.findall(key))
            if not tokens or " ".join(tokens) != key:
                continue  # phrases with punctuation match exactly only
            if len(tokens) == 1:
                # one word within one edit of another is too common ("china"/"chink", "setting"/"sexting"):
                # single words match only two typos that seldom make another word (see _single_variants)
                if len(tokens[0]) >= _SINGLE_MIN and tokens[0].isalpha():
                    singles[tokens[0]] = tuple(entries)
                continue
            pair = (tokens[0], tokens[1] if len(tokens) > 1 else "")
            by_first.setdefault(pair, []).append((tokens, key, tuple(entries)))
            for tok in tokens:
                if len(tok) >= _FUZZY_MIN and tok.isalpha():
                    for d in _deletions(_phonetic(tok)):
                        deletes.setdefault(d, set()).add(tok)
        self._fuzzy_first = by_first
        self._fuzzy_deletes = deletes
        self._fuzzy_singles = singles
        self._fuzzy_longest = max((len(t) for v in by_first.values() for t, _, _ in v), default=0)
        # Candidates per word: chat repeats words, and the lookup is the costly part of fuzzy matching.
        self._cand_cache: dict[str, frozenset[str]] = {}

    def _candidates(self, token: str) -> frozenset[str]:
        """Phrase words within one edit (insert, delete, substitute, swap) of ``token``, same first letter.

        Both sides are compared after phonetic folding ("ph" -> "f", "ck" -> "k"), so "fone" is near "phone".
        """
        if len(token) < _FUZZY_MIN - 1 or not token.isalpha():
            return _NONE
        if len(token) == _FUZZY_MIN - 1 and token in vocabulary():
            return _NONE  # "you", "the", "sex" are words, not "your", "they", "sexy" missing a letter
        cached = self._cand_cache.get(token)
        if cached is not None:
            return cached
        key = _phonetic(token)
        found: set[str] = set()
        for d in _deletions(key):
            found |= self._fuzzy_deletes.get(d, set())
        out = set()
        for w in found:
            pw = _phonetic(w)
            if w != token and pw[0] == key[0] and _osa_le1(key, pw):
                out.add(w)
        result = frozenset(out) if out else _NONE
        if len(self._cand_cache) >= _CACHE_MAX:
            self._cand_cache.clear()
        self._cand_cache[token] = result
        return result

    def _fuzzy_matches(self, ctx: TextContext) -> list[tuple[int, int, str, tuple[tuple[Category, str], ...], float]]:
        """Phrases matched word by word where some words are misspelt by one edit, with the confidence factor."""
        words = ctx.words
        cands = [self._candidates(tok) for tok, _, _ in words]
        # next_fuzzy[i]: the first position >= i holding a misspelt-word candidate (a match must cover one)
        next_fuzzy = [len(words)] * (len(words) + 1)
        for i in range(len(words) - 1, -1, -1):
            next_fuzzy[i] = i if cands[i] else next_fuzzy[i + 1]
        found = []
        if self._fuzzy_singles:
            for tok, start, end in words:
                if len(tok) >= _SINGLE_MIN and tok.isalpha() and not known_word(tok):
                    for variant in _single_variants(tok):
                        entries = self._fuzzy_singles.get(variant)
                        if entries is not None:
                            found.append((start, end, variant, entries, FUZZY_FACTOR))
                            break
        for i, (tok, start, _) in enumerate(words):
            if next_fuzzy[i] - i >= self._fuzzy_longest:
                continue
            seconds = ("", words[i + 1][0], *cands[i + 1]) if i + 1 < len(words) else ("",)
            for first in (tok, *cands[i]):
                for second in seconds:
                    for tokens, key, entries in self._fuzzy_first.get((first, second), ()):
                        if i + len(tokens) > len(words) or next_fuzzy[i] >= i + len(tokens):
                            continue
                        fuzzy = real_word_fuzz = evidence = 0
                        for k, want in enumerate(tokens):
                            got = words[i + k][0]
                            if got == want:
                                evidence += len(want) >= 3
                            elif want in cands[i + k]:
                                fuzzy += 1
                                if known_word(got):
                                    real_word_fuzz += 1
                                else:
                                    evidence += 1
                            else:
                                break
                        else:
                            if fuzzy == 0:
                                continue  # an exact match: the automaton found it
                            if real_word_fuzz and evidence == 0:
                                continue  # only real words bent into a phrase: too weak
                            factor = REAL_WORD_FACTOR if real_word_fuzz else FUZZY_FACTOR
                            found.append((start, words[i + len(tokens) - 1][2], key, entries, factor))
        return found

    def detect(self, ctx: TextContext) -> list[Detection]:
        self.load()
        found = self._detect_text(ctx)
        best = {d.category: d for d in found}
        for view in ctx.decoded:
            for d in self._detect_text(view.context):
                if d.category not in best or d.score > best[d.category].score:
                    # the decoded words are not in the raw text: point at the encoded stretch instead
                    best[d.category] = dataclasses.replace(
                        d, span=view.span, evidence=f"{d.evidence}, decoded from {view.kind}"
                    )
        spelled = ctx.spelled() if self._spelling else None
        if spelled is not None:
            for d in self._detect_text(spelled):
                score = round(d.score * FUZZY_FACTOR, 4)
                if d.category not in best or score > best[d.category].score:
                    best[d.category] = dataclasses.replace(
                        d, score=score, evidence=f"{d.evidence}, after spelling correction"
                    )
        return list(best.values())

    def _detect_text(self, ctx: TextContext) -> list[Detection]:
        text = ctx.normalized
        if not text:
            return []
        allowed: list[tuple[int, int]] = []
        for end, key in self._allow.iter(text):
            start = end - len(key) + 1
            if _bounded(text, start, end + 1):
                allowed.append((start, end + 1))
        best: dict[Category, Detection] = {}
        exact = [(*m, 1.0) for m in self._matches(ctx)]
        matches = exact + self._fuzzy_matches(ctx)
        jailbreak = bool(matches) and _JAILBREAK.search(text) is not None
        for start, end, key, entries, factor in matches:
            if any(a <= start < b or a < end <= b for a, b in allowed):
                continue
            softened = {} if jailbreak else self._context(text, start)
            for category, tier in entries:
                score = TIER_SCORES[tier] * factor
                evidence = f"phrase {key!r} ({tier}{', misspelt' if factor < 1.0 else ''})"
                if category is Category.PERSONAL_INFO and ctx.role is Role.CHILD:
                    # These phrases ask for details; a child asking is no disclosure (personal_info finds those).
                    score = min(score, 0.2)
                cue = softened.get(category)
                floor = QUOTE_SCORE if cue == "quotation" else CONTEXT_SCORE
                if cue is not None and score > floor:
                    score = floor
                    evidence += f", softened: {cue}"
                prev = best.get(category)
                if prev is None or score > prev.score:
                    best[category] = self.detection(category, score, ctx, start, end, evidence)
        return list(best.values())

    def _matches(self, ctx: TextContext) -> list[tuple[int, int, str, tuple[tuple[Category, str], ...]]]:
        text = ctx.normalized
        found = []
        for end_idx, (key, entries) in self._automaton.iter(text):
            start, end = end_idx - len(key) + 1, end_idx + 1
            if _bounded(text, start, end):
                found.append((start, end, key, entries))
        for word, w_start, _ in ctx.words:
            if len(word) < _COMPACT_MIN or not word.isalpha():
                continue
            for end_idx, (key, entries) in self._compact.iter(word):
                squashed = key.replace(" ", "")
                start = w_start + end_idx - len(squashed) + 1
                found.append((start, w_start + end_idx + 1, key, entries))
        return found

    @staticmethod
    def _context(text: str, start: int) -> dict[Category, str]:
        """Categories softened by a cue in the same sentence before the match (or the whole sentence)."""
        sent_start = max((m.end() for m in _SENTENCE_SPLIT.finditer(text, 0, start)), default=0)
        nxt = _SENTENCE_SPLIT.search(text, start)
        sentence = text[sent_start : nxt.start() if nxt else len(text)]
        prefix = text[sent_start:start]
        out: dict[Category, str] = {}
        for cue, (cats, pattern) in _CUES.items():
            target = sentence if cue in ("games-sports", "educational", "asks-why-harmful", "school-topic") else prefix
            if pattern.search(target):
                for c in cats:
                    out.setdefault(c, cue)
        if _NEGATION.search(prefix):
            for c in _SOFTENABLE:
                out.setdefault(c, "negation")
        if prefix.count('"') % 2 == 1 or prefix.count("“") > prefix.count("”"):
            for c in (Category.HARASSMENT, Category.HATE, Category.VIOLENCE):
                out.setdefault(c, "quotation")
        return out


def _bounded(text: str, start: int, end: int) -> bool:
    """True when [start, end) is a whole-word match."""
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    return not before.isalnum() and not after.isalnum()


def _single_variants(word: str) -> list[str]:
    """Spellings one neighbour swap or one doubled letter away: typos that rarely spell another real word."""
    out = [word[:i] + word[i + 1] + word[i] + word[i + 2 :] for i in range(len(word) - 1) if word[i] != word[i + 1]]
    if len(word) > 6:  # "looser" is a word, "cocaiine" is not: short words double into other words
        out += [word[:i] + word[i + 1 :] for i in range(1, len(word)) if word[i] == word[i - 1]]
    return out


def _phonetic(word: str) -> str:
    """Fold spellings that sound alike, so a phonetic misspelling counts as one edit at most."""
    return word.replace("ph", "f").replace("ck", "k")


def _deletions(word: str) -> set[str]:
    """The word and every string one deletion away from it."""
    return {word} | {word[:i] + word[i + 1 :] for i in range(len(word))}


def _osa_le1(a: str, b: str) -> bool:
    """True when a and b are at most one edit apart (insert, delete, substitute, or swap of neighbours)."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    i = 0
    while i < min(la, lb) and a[i] == b[i]:
        i += 1
    if la == lb:
        if a[i + 1 :] == b[i + 1 :]:
            return True
        return i + 1 < la and a[i] == b[i + 1] and a[i + 1] == b[i] and a[i + 2 :] == b[i + 2 :]
    if la > lb:
        return a[i + 1 :] == b[i:]
    return a[i:] == b[i + 1 :]
