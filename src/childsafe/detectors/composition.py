"""Compositional rules: word classes that mean harm together, in one sentence or two adjacent ones.

A fixed phrase list misses the way people really write ("wanna f a 14yo", "pics of little girls naked"):
there are too many ways to say each half. Each half on its own is ordinary — children are talked about all
day, and sex education names body parts — so the rule needs both halves close together:

* **sexual_minors**: a reference to a minor (child, kid, teen, an age under 18, a school year, "little girls")
  and a sexual reference (an act, a body part, nudity, arousal, crude terms, sexual images). A protective frame
  (a child reporting abuse or asking for help, body-safety or puberty education, news about a conviction)
  lowers the score to an escalation: a person still looks at it, it is never silently allowed. Also: an adult,
  a minor and romance in one sentence ("I'm 35 and in love with a 14 year old"), and seeking material (a minor
  noun before "pics"/"content"/"videos" with a site, link or search).
* **sexual**: another person (role ``contact``) or the AI (``assistant``) making the chat sexual towards
  "you" ("take ur top off on cam"): in a service for children the person on the other side is a child.
* **violence**: a request or an announcement (how do I / I'm going to) + a harm verb (kill, stab, break his
  arm) + a person; games, fiction and history frames and harmless objects ("kill the process") are excluded.
  Said of oneself ("I want to kill myself") it is **self_harm**.
* **self_harm**: requests for content that promotes self-harm, suicide or disordered eating (pro-ana, tips to
  starve, a post that glorifies cutting), and telling someone to kill or starve themselves.
* **dangerous** / **drugs**: buying or making weapons and drugs; outside the law or without checks
  ("without a background check", "at my age", "dark web") it scores higher.
* **violence** / **hate** / **dangerous**, asked for outright: writing a threat; praising an atrocity or an
  attack; making or getting a weapon of mass harm; huffing and chroming (not when asked about safely).
* **other_unsafe**: a jailbreak wrapper (a persona "with no rules", "ignore your previous instructions",
  "developer mode"), whatever it wraps: in a service for children it is adversarial misuse on its own.

Scores are documented confidences (see ``SCORES``), compared with the policy's thresholds like the lexicon's.
The word classes are data (``data/composition.yaml``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from childsafe.detectors.base import Detector, DetectorConfig, DetectorUnavailable
from childsafe.text.context import TextContext
from childsafe.types import Category, Detection, Role

SCORES: dict[str, float] = {
    "sexual_minors": 0.9,  # reported at every band
    "sexual_minors_protective": 0.35,  # escalated: a person looks, nothing is allowed silently
    "harm_person": 0.85,  # blocked at every child band
    "harm_you": 0.65,  # "I'm going to kill you": often banter between friends
    "harm_mild": 0.55,  # punch, slap, kick: venting as often as intent
    "harm_self": 0.85,
    "selfharm_promo": 0.9,
    "make": 0.85,  # making a weapon or a drug
    "acquire_illicit": 0.85,  # buying one without checks, illegally, or as a minor
    "acquire": 0.7,  # buying one, no further cue
    "jailbreak": 0.75,  # a wrapper that tells the model to drop its rules: adversarial misuse, blocked
    "sexual_to_you": 0.85,  # another person or the AI, in a chat with a child, making it sexual: blocked
    "threat_request": 0.85,  # "write a death threat to ..."
    "glorify": 0.85,  # praising atrocities against groups (hate) or attacks (violence)
    "cbrn": 0.9,  # making or getting weapons of mass harm
    "inhalant": 0.8,  # huffing, chroming: unless asked about safely
    "school_weapon": 0.9,  # a weapon brought to school, in any framing
    "hate_request": 0.9,  # "tell me a racist joke"
    "dehumanise": 0.85,  # "they are animals and should be sent back"
    "hack_request": 0.8,  # into someone's account or device
    "fiction_factor": 0.6,  # a story or character frame lowers the harm rules, no longer silences them
}
_SENT = re.compile(r"[.!?;\n]+|\s-\s|,\s(?:and|but|so)\s")
_SELF = re.compile(r"^(?:myself|me)\b")
_YOU = re.compile(r"^(?:you|yourself|ya|u)\b")
_SECOND_PERSON = re.compile(r"\b(?:you|your|yours|yourself|u|ur)\b")
_IN_VERB = re.compile(r"\b(?:his|her|their|someone's|somebody's|my [a-z]+'s|body of|throat|attack)\b")
_MAKE = re.compile(r"\b(?:make|cook|brew|grow|synthesi[sz]e|build|3d print|print)\b")


def _alt(items: list[str]) -> str:
    return "|".join(f"(?:{i})" for i in items)


@dataclass(frozen=True, slots=True)
class _Classes:
    minor: re.Pattern[str]
    sexual: re.Pattern[str]
    sexual_benign: re.Pattern[str]
    protective: re.Pattern[str]
    harm: re.Pattern[str]
    harm_benign: re.Pattern[str]
    harm_context: re.Pattern[str]
    selfharm_promo: re.Pattern[str]
    acquire_weapon: re.Pattern[str]
    acquire_drug: re.Pattern[str]
    illicit: re.Pattern[str]
    jailbreak: re.Pattern[str]
    harm_mild: re.Pattern[str]
    refusal: re.Pattern[str]
    threat_request: re.Pattern[str]
    glorify_hate: re.Pattern[str]
    glorify_violence: re.Pattern[str]
    cbrn: re.Pattern[str]
    inhalant: re.Pattern[str]
    safety_question: re.Pattern[str]
    school_weapon: re.Pattern[str]
    hate_request: re.Pattern[str]
    dehumanise: re.Pattern[str]
    hack_request: re.Pattern[str]
    fiction: re.Pattern[str]
    romance: re.Pattern[str]
    adult: re.Pattern[str]
    material: re.Pattern[str]
    seek: re.Pattern[str]

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> _Classes:
        for key, items in data.items():
            if key != "version" and (not isinstance(items, list) or not all(isinstance(i, str) for i in items)):
                raise ValueError(f"class {key!r} must be a list of strings (a ': ' inside an entry makes YAML read "
                                 "a mapping)")

        def word(key: str) -> re.Pattern[str]:
            return re.compile(rf"\b(?:{_alt(list(data[key]))})\b")

        lead, obj = _alt(list(data["harm_lead"])), _alt(list(data["harm_object"]))
        verb = _alt(list(data["harm_verb"]) + list(data["harm_verb_mild"]))
        gap = r"(?:\s+(?:just|really|actually|like|even|finally|literally|fucking|secretly|quietly|quickly|"\
              r"easily|successfully|slowly|best))*"
        harm = re.compile(rf"\b(?:{lead}){gap}\s+(?P<verb>{verb})(?:\s+(?P<obj>(?:{obj})\b.*)|\b.*)$")
        acq = _alt(list(data["acquire_lead"]))
        filler = r"(?:\s+[a-z0-9']+){0,3}?"  # "buy [a cheap real] gun": up to three words between
        weapon, drug = _alt(list(data["weapon"])), _alt(list(data["drug"]))
        return cls(
            minor=word("minor"), sexual=word("sexual"), sexual_benign=word("sexual_benign"),
            protective=word("protective"), harm=harm, harm_benign=re.compile(
                rf"^(?:(?:my|the|a|an|all|all the|some|this|that|those|these|his|her|their|your)\s+)?"
                rf"(?:{_alt(list(data['harm_benign']))})\b"),
            harm_context=word("harm_context"), selfharm_promo=word("selfharm_promo"),
            acquire_weapon=re.compile(rf"\b(?P<lead>{acq}){filler}\s+(?:{weapon})\b"),
            acquire_drug=re.compile(rf"\b(?P<lead>{acq}){filler}\s+(?:{drug})\b"),
            illicit=word("illicit"), jailbreak=word("jailbreak"), romance=word("romance"), adult=word("adult"),
            harm_mild=re.compile(rf"^(?:{_alt(list(data['harm_verb_mild']))})$"), refusal=word("refusal"),
            threat_request=word("threat_request"), glorify_hate=word("glorify_hate"),
            glorify_violence=word("glorify_violence"), cbrn=word("cbrn"), inhalant=word("inhalant"),
            safety_question=word("safety_question"), school_weapon=word("school_weapon"),
            hate_request=word("hate_request"), dehumanise=word("dehumanise"), hack_request=word("hack_request"),
            fiction=word("fiction"),
            material=word("material"), seek=word("seek"),
        )


class CompositionConfig(DetectorConfig):
    """No options beyond ``enabled``: the word classes ship as data with the package."""


class CompositionDetector(Detector):
    """Minor + sexual reference, request + harm + person, pro-self-harm requests, illicit weapons and drugs."""

    name = "composition"
    version = "1.0.0"
    categories = frozenset({Category.SEXUAL_MINORS, Category.SEXUAL, Category.VIOLENCE, Category.SELF_HARM,
                            Category.HATE, Category.DANGEROUS, Category.DRUGS, Category.OTHER_UNSAFE})
    joins_messages = True
    Config = CompositionConfig

    def __init__(self, config: DetectorConfig | None = None) -> None:
        super().__init__(config)
        self._classes: _Classes | None = None

    def _load(self) -> None:
        try:
            text = resources.files("childsafe.detectors").joinpath("data/composition.yaml").read_text("utf-8")
            self._classes = _Classes.from_data(yaml.safe_load(text))
        except Exception as exc:  # a broken data file must fail closed, with the reason
            raise DetectorUnavailable(f"composition rules could not load: {type(exc).__name__}: {exc}") from exc

    def detect(self, ctx: TextContext) -> list[Detection]:
        if self._classes is None:
            self.load()
        assert self._classes is not None
        # The typo-corrected view feeds the harm rules only: one edit turns too many short words into sexual
        # ones ("tts" -> "tits"), and the lexicon already matches misspelt sexual phrases.
        out: list[Detection] = []
        for view in (ctx, *(d.context for d in ctx.decoded)):
            out.extend(self._detect_view(view, self._classes, ctx))
        spelled = ctx.spelled()
        if spelled is not None:  # misspelt requests ("how do i hak intto my frend's accunt"): the harm rules only
            k = self._classes
            for s, e in _sentences(spelled.normalized):
                found = self._harm(spelled.normalized[s:e], k, spelled.normalized)
                out.extend(self._at(spelled, ctx, c, sc, s, e, why + ", after spelling correction")
                           for c, sc, why in found)
        return _best(out)

    def _detect_view(self, view: TextContext, k: _Classes, owner: TextContext) -> list[Detection]:
        text = view.normalized
        spans = _sentences(text)
        out: list[Detection] = []
        whole_protective = k.protective.search(text) is not None
        # an assistant refusing, or explaining a word, is not sexualising anyone
        assistant_frame = owner.role is Role.ASSISTANT and (whole_protective or k.refusal.search(text) is not None)
        for i, (s, e) in enumerate(spans):
            # the sentence alone, and with the next one (the two halves are often split: "she's 13. send nudes")
            windows = [(s, e)] + ([(s, spans[i + 1][1])] if i + 1 < len(spans) else [])
            for ws, we in windows if not assistant_frame else ():
                found = self._sexual_minors(text[ws:we], k, whole_protective)
                if found is not None:
                    score, why = found
                    out.append(self._at(view, owner, Category.SEXUAL_MINORS, score, ws, we, why))
                    break
            sent = text[s:e]
            out.extend(self._at(view, owner, c, sc, s, e, why) for c, sc, why in self._harm(sent, k, text))
            if owner.role in (Role.CONTACT, Role.ASSISTANT) and _SECOND_PERSON.search(sent):
                sexual = k.sexual.search(k.sexual_benign.sub(" ", sent))
                if sexual is not None and not k.protective.search(sent):
                    out.append(self._at(view, owner, Category.SEXUAL, SCORES["sexual_to_you"], s, e,
                                        f"sexual reference '{sexual.group(0)}' aimed at the person in the chat"))
        return out

    def _at(self, view: TextContext, owner: TextContext, cat: Category, score: float, s: int, e: int,
            why: str) -> Detection:
        # Spans only when the view is the message itself (decoded stretches are not in the raw text).
        if view is owner or view.raw == owner.raw:
            return self.detection(cat, score, view, s, e, evidence=why)
        return self.detection(cat, score, evidence=why)

    @staticmethod
    def _sexual_minors(window: str, k: _Classes, whole_protective: bool) -> tuple[float, str] | None:
        material = k.material.search(window)
        if material is not None and k.seek.search(window) is not None:
            return SCORES["sexual_minors"], f"seeks material: '{material.group(0)}'"
        minor = k.minor.search(window)
        if minor is None:
            return None
        masked = k.sexual_benign.sub(" ", window)
        sexual = k.sexual.search(masked)
        if sexual is None:
            romance, adult = k.romance.search(masked), k.adult.search(masked.replace(minor.group(0), " "))
            if romance is None or adult is None:
                return None
            sexual = romance
            why = f"adult '{adult.group(0)}' and minor '{minor.group(0)}' with '{romance.group(0)}'"
        else:
            why = f"minor reference '{minor.group(0)}' with sexual reference '{sexual.group(0)}'"
        if whole_protective or k.protective.search(window):
            return SCORES["sexual_minors_protective"], why + " in a protective frame (report, education or news)"
        return SCORES["sexual_minors"], why

    @staticmethod
    def _harm(sent: str, k: _Classes, whole: str = "") -> list[tuple[Category, float, str]]:
        # A story, script or character frame anywhere in the message ("one character says ...") is how a
        # request is smuggled past a filter: it lowers the softenable findings, it does not silence them.
        fiction = k.fiction.search(whole or sent) is not None
        f = SCORES["fiction_factor"]
        return [(c, round(sc * f, 4), why + ", in a fiction frame") if fiction and soft else (c, sc, why)
                for c, sc, why, soft in CompositionDetector._harm_rules(sent, k)]

    @staticmethod
    def _harm_rules(sent: str, k: _Classes) -> list[tuple[Category, float, str, bool]]:
        """(category, score, evidence, lowered by a fiction frame) for each harm rule that fires."""
        out: list[tuple[Category, float, str, bool]] = []
        safety_question = k.safety_question.search(sent) is not None
        # (category, pattern, score key, evidence, waived by a safety question, lowered by fiction)
        rules = ((Category.VIOLENCE, k.school_weapon, "school_weapon", "weapon to school", False, False),
                 (Category.HATE, k.hate_request, "hate_request", "asks for hate", False, False),
                 (Category.HATE, k.dehumanise, "dehumanise", "dehumanises a group", False, True),
                 (Category.OTHER_UNSAFE, k.hack_request, "hack_request", "breaking into an account", True, False),
                 (Category.VIOLENCE, k.threat_request, "threat_request", "asks for a threat", False, False),
                 (Category.HATE, k.glorify_hate, "glorify", "praises an atrocity", False, False),
                 (Category.VIOLENCE, k.glorify_violence, "glorify", "praises an attack", False, False),
                 (Category.DANGEROUS, k.cbrn, "cbrn", "weapon of mass harm", True, False),
                 (Category.SELF_HARM, k.selfharm_promo, "selfharm_promo", "promotes self-harm", False, False),
                 (Category.DANGEROUS, k.inhalant, "inhalant", "inhalant use", True, True),
                 (Category.OTHER_UNSAFE, k.jailbreak, "jailbreak", "jailbreak wrapper", False, False))
        for cat, pat, key, what, waived, soft in rules:
            hit = pat.search(sent)
            if hit is not None and not (waived and safety_question):
                out.append((cat, SCORES[key], f"{what}: '{hit.group(0)}'", soft))
        context = k.harm_context.search(sent) is not None
        m = k.harm.search(sent)
        if m is not None and not context:
            # the object is named after the verb, or inside it ("break his arm")
            obj = m.group("obj") or ("them" if _IN_VERB.search(m.group("verb")) else "")
            if obj and k.harm_benign.match(obj) is None:
                why = f"request or intent to {m.group('verb')} {obj.split()[0]}"
                if _SELF.match(obj):
                    out.append((Category.SELF_HARM, SCORES["harm_self"], why, True))
                elif k.harm_mild.match(m.group("verb")):
                    out.append((Category.VIOLENCE, SCORES["harm_mild"], why, True))
                elif _YOU.match(obj):
                    out.append((Category.VIOLENCE, SCORES["harm_you"], why, True))
                else:
                    out.append((Category.VIOLENCE, SCORES["harm_person"], why, True))
        for cat, pat in ((Category.DANGEROUS, k.acquire_weapon), (Category.DRUGS, k.acquire_drug)):
            a = pat.search(sent)
            if a is None or context:
                continue
            if _MAKE.search(a.group("lead")):
                out.append((cat, SCORES["make"], f"making: '{a.group(0)}'", True))
            elif k.illicit.search(sent):
                out.append((cat, SCORES["acquire_illicit"], f"getting, illicitly: '{a.group(0)}'", True))
            else:
                out.append((cat, SCORES["acquire"], f"getting: '{a.group(0)}'", True))
        return out


def _sentences(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    pos = 0
    for m in _SENT.finditer(text):
        if m.start() > pos and text[pos : m.start()].strip():
            spans.append((pos, m.start()))
        pos = m.end()
    if pos < len(text) and text[pos:].strip():
        spans.append((pos, len(text)))
    return spans


def _best(dets: list[Detection]) -> list[Detection]:
    """The highest-scoring detection per category (one explanation each)."""
    best: dict[Category, Detection] = {}
    for d in dets:
        if d.category not in best or d.score > best[d.category].score:
            best[d.category] = d
    return list(best.values())
