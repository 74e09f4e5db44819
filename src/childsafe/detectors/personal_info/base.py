"""What every personal-detail recognizer shares: the detail types, the match, the data loader, the base class.

A recognizer is a small class for one kind of detail whose patterns, word lists, scores and rule texts are
data (``detectors/data/personal_info/<name>.yaml``), the way Presidio's predefined recognizers pair one
entity with its patterns and context; the class keeps only the checks that a regex cannot express. Regexes
in the data may name a fragment as ``{{name}}``: fragments come from ``common.yaml`` or the recognizer's own
file, so a list such as the platforms is written once.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from typing import Any, ClassVar

import yaml

from childsafe.detectors.base import DetectorUnavailable
from childsafe.text.context import TextContext


class PiiType(StrEnum):
    """Kinds of personal detail; the value is the Detection ``signal``."""

    FULL_NAME = "full_name"
    NAME = "name"
    ADDRESS = "address"
    STREET = "street"
    POSTCODE = "postcode"
    SCHOOL = "school"
    PHONE = "phone"
    EMAIL = "email"
    HANDLE = "handle"
    LOCATION = "location"
    COORDINATES = "coordinates"
    DATE_OF_BIRTH = "date_of_birth"
    AGE = "age"
    PHOTO_REQUEST = "photo_request"


GROUPS: dict[PiiType, str] = {
    PiiType.FULL_NAME: "name",
    PiiType.NAME: "name",
    PiiType.ADDRESS: "address",
    PiiType.STREET: "address",
    PiiType.POSTCODE: "address",
    PiiType.SCHOOL: "school",
    PiiType.PHONE: "phone",
    PiiType.EMAIL: "email",
    PiiType.HANDLE: "handle",
    PiiType.LOCATION: "location",
    PiiType.COORDINATES: "location",
    PiiType.DATE_OF_BIRTH: "birth",
    PiiType.AGE: "birth",
    PiiType.PHOTO_REQUEST: "photo",
}
"""Type groups used for evaluation (a match counts when the group agrees) and for overlap resolution."""

CONTACT_TYPES = frozenset(
    {
        PiiType.ADDRESS,
        PiiType.STREET,
        PiiType.POSTCODE,
        PiiType.PHONE,
        PiiType.EMAIL,
        PiiType.HANDLE,
        PiiType.LOCATION,
        PiiType.COORDINATES,
    }
)
"""Details that let someone reach or find a child."""


@dataclass(frozen=True, slots=True)
class PiiMatch:
    """One recognised detail: type, RAW-text offsets, score, and the rule that fired."""

    type: PiiType
    start: int
    end: int
    score: float
    recognizer: str
    rule: str
    request: bool = False
    """True when the text asks for the detail rather than giving it."""

    @property
    def group(self) -> str:
        return GROUPS[self.type]


def _identity_terms() -> frozenset[str]:
    raw = resources.files("childsafe.detectors").joinpath("data/identity_terms.txt").read_text(encoding="utf-8")
    return frozenset(w.strip() for w in raw.splitlines() if w.strip() and not w.startswith("#"))


IDENTITY_TERMS = _identity_terms()
"""Identity descriptors ("I'm Black and ..."): statements of who a child is, never names."""


# --------------------------------------------------------------------------------------------------
# data

_FRAGMENT = re.compile(r"\{\{(\w+)\}\}")
_PATTERN_KEYS = frozenset({"regex", "ignore_case", "entity"})


@dataclass(frozen=True, slots=True)
class Pattern:
    """A named regex; a request pattern also names the detail type it asks for."""

    name: str
    regex: re.Pattern[str]
    entity: PiiType | None = None


def _read(name: str) -> dict[str, Any]:
    path = f"data/personal_info/{name}.yaml"
    try:
        data = yaml.safe_load(resources.files("childsafe.detectors").joinpath(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DetectorUnavailable(f"personal_info: cannot read {path} ({exc})") from None
    if not isinstance(data, dict):
        raise DetectorUnavailable(f"personal_info: {path} is not a mapping")
    return data


def _text(value: Any, where: str) -> str:
    """A string, or a list of strings joined: long regexes are written in pieces."""
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "".join(value)
    if isinstance(value, str):
        return value
    raise DetectorUnavailable(f"personal_info: {where} must be a string or a list of strings")


def _words(value: Any) -> frozenset[str]:
    """A word list: a YAML list, or one block of whitespace-separated words."""
    return frozenset(value.split() if isinstance(value, str) else (str(w) for w in value))


def _expand(regex: str, fragments: Mapping[str, str], where: str) -> str:
    def sub(m: re.Match[str]) -> str:
        if m.group(1) not in fragments:
            raise DetectorUnavailable(f"personal_info: {where} names an unknown fragment {m.group(1)!r}")
        return _expand(fragments[m.group(1)], fragments, where)

    return _FRAGMENT.sub(sub, regex)


@dataclass(frozen=True, slots=True)
class RecognizerData:
    """One data file: compiled patterns (in file order), word lists, and each finding's score and rule text.

    A finding is named once and looked up in both ``scores`` and ``rules``; a rule is a format string whose
    fields (``{cue!r}``, ``{region}``) the recognizer fills in.
    """

    name: str
    fragments: Mapping[str, str]
    patterns: Mapping[str, Pattern]
    words: Mapping[str, frozenset[str]]
    scores: Mapping[str, float]
    rules: Mapping[str, str]

    @classmethod
    def load(cls, name: str, shared: Mapping[str, str]) -> RecognizerData:
        return cls.from_mapping(name, _read(name), shared)

    @classmethod
    def from_mapping(cls, name: str, raw: Mapping[str, Any], shared: Mapping[str, str]) -> RecognizerData:
        unknown = set(raw) - {"fragments", "patterns", "words", "scores", "rules"}
        if unknown:
            raise DetectorUnavailable(f"personal_info: {name}.yaml has unknown keys {sorted(unknown)}")
        own = {k: _text(v, f"{name}.fragments.{k}") for k, v in (raw.get("fragments") or {}).items()}
        fragments = {**shared, **own}
        patterns = {k: _pattern(name, k, v, fragments) for k, v in (raw.get("patterns") or {}).items()}
        words = {k: _words(v) for k, v in (raw.get("words") or {}).items()}
        scores = {k: float(v) for k, v in (raw.get("scores") or {}).items()}
        rules = {k: str(v) for k, v in (raw.get("rules") or {}).items()}
        return cls(name, fragments, patterns, words, scores, rules)


def _pattern(file: str, name: str, spec: Any, fragments: Mapping[str, str]) -> Pattern:
    where = f"{file}.patterns.{name}"
    if not isinstance(spec, dict):
        spec = {"regex": spec}
    if set(spec) - _PATTERN_KEYS or "regex" not in spec:
        raise DetectorUnavailable(f"personal_info: {where} needs a regex and only {sorted(_PATTERN_KEYS)}")
    flags = re.I if spec.get("ignore_case") else 0
    try:
        regex = re.compile(_expand(_text(spec["regex"], where), fragments, where), flags)
        entity = PiiType(spec["entity"]) if "entity" in spec else None
    except (re.error, ValueError) as exc:
        raise DetectorUnavailable(f"personal_info: {where}: {exc}") from None
    return Pattern(name, regex, entity)


# --------------------------------------------------------------------------------------------------
# shared helpers


def span(ctx: TextContext, start: int, end: int) -> tuple[int, int]:
    """Raw-text offsets of a stretch of the normalised text."""
    s = ctx.to_original(start, end)
    return s.start, s.end


def raw_value(ctx: TextContext, norm_end: int, pattern: re.Pattern[str]) -> tuple[int, int] | None:
    """The raw-text value right after a cue that ends at ``norm_end`` in the normalised text."""
    if norm_end >= len(ctx.normalized):
        return None
    pos = ctx.to_original(norm_end, norm_end + 1).start
    m = pattern.match(ctx.raw, pos)
    if m is None:
        return None
    return m.start(1), m.end(1)


class Common:
    """``common.yaml``: fragments and words several recognizers use, and the name-word and place-chain rules."""

    def __init__(self) -> None:
        raw = dict(_read("common"))
        ages = raw.pop("age_words", None)
        if not isinstance(ages, dict):
            raise DetectorUnavailable("personal_info: common.yaml age_words must map words to numbers")
        self.age_words: Mapping[str, int] = {str(k): int(v) for k, v in ages.items()}
        age_num = r"(?:1[0-9]|[1-9]|" + "|".join(self.age_words) + r")"
        data = RecognizerData.from_mapping("common", raw, {"age_num": age_num})
        self.fragments = data.fragments
        self.stop = data.words["stop"]
        self.strict_stop = data.words["strict_stop"]
        self.owners = data.words["owners"]
        self.name_followers = data.words["name_followers"]
        self.name_enders = data.words["name_enders"]
        self.not_place = data.patterns["not_place"].regex
        self._name_token = data.patterns["name_token"].regex
        self._alpha_word = data.patterns["alpha_word"].regex
        self._chain = data.patterns["location_chain"].regex
        self._chain_score = data.scores["chain"]
        self._chain_rule = data.rules["chain"]

    def possessive(self, tok: str) -> bool:
        """ "my son's", "the town's": a possessive of a common noun, not part of a school's name."""
        return tok.endswith("'s") and (tok[:-2] in self.stop or tok[:-2] in self.owners)

    def name_tokens(
        self, text: str, pos: int, strict: bool, max_words: int = 3, capitalised: bool = False
    ) -> tuple[int, int, int] | None:
        """Name-like words at ``pos`` of the normalised text: (start, end, word count) or None."""
        words = list(self._name_token.finditer(text[pos : pos + 80]))
        taken: list[re.Match[str]] = []
        for w in words:
            tok = w.group(0)
            if not self._alpha_word.fullmatch(tok) or tok in self.stop or tok in self.age_words:
                break
            if len(taken) == max_words:
                break
            if strict and (
                tok in self.strict_stop or tok in IDENTITY_TERMS or (tok.endswith(("ing", "ed", "ly")) and len(tok) > 4)
            ):
                break
            taken.append(w)
        if not taken:
            return None
        if strict:
            nxt = words[len(taken)].group(0) if len(taken) < len(words) else ""
            if nxt not in self.name_followers and not (capitalised and nxt in self.name_enders):
                return None
        return pos + taken[0].start(), pos + taken[-1].end(), len(taken)

    def chained_location(self, ctx: TextContext, end: int) -> Iterator[PiiMatch]:
        """ "... in manchester" right after an address or place."""
        text = ctx.normalized
        m = self._chain.match(text, end)
        if m is None:
            return
        found = self.name_tokens(text, m.end(), strict=False, max_words=3)
        if found is not None and not self.not_place.match(text, found[0]):
            s, e = span(ctx, found[0], found[1])
            yield PiiMatch(PiiType.LOCATION, s, e, self._chain_score, "location", self._chain_rule)


class Recognizer(ABC):
    """One kind of detail. ``name`` is the data file and the recognizer written into each match's evidence."""

    name: ClassVar[str]

    def __init__(self, common: Common) -> None:
        self.common = common
        self.data = RecognizerData.load(self.name, common.fragments)

    def pattern(self, name: str) -> re.Pattern[str]:
        return self.data.patterns[name].regex

    def hit(
        self,
        kind: PiiType,
        start: int,
        end: int,
        finding: str,
        *,
        by: str = "",
        request: bool = False,
        **fields: object,
    ) -> PiiMatch:
        """A match with the score and rule of ``finding`` in the data file (``by`` credits another recognizer)."""
        rule = self.data.rules[finding].format(**fields)
        return PiiMatch(kind, start, end, self.data.scores[finding], by or self.name, rule, request)

    @abstractmethod
    def find(self, ctx: TextContext) -> Iterator[PiiMatch]:
        """Every candidate in ``ctx``, before role scoring and overlap resolution."""
