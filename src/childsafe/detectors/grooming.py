"""Per-message grooming stage signals: which step of a grooming pattern a message looks like.

One message rarely decides anything; the conversation tracker (``childsafe.conversation``) combines these
signals across messages. Scores here are fixed rule confidences, kept below typical block thresholds for
single weak signals (an age question alone is not grooming) and high only for sexualised requests aimed at
a child. Role matters: the same words from a contact or the assistant weigh more than from the child.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import ClassVar

from pydantic import Field

from childsafe.detectors.base import Detector, DetectorConfig
from childsafe.text.context import TextContext
from childsafe.types import Category, Detection, Role

STAGES: tuple[str, ...] = (
    "rapport",
    "age_probe",
    "circumstance_probe",
    "adult_age",
    "secrecy",
    "isolation",
    "gifts",
    "desensitisation",
    "sexual_talk",
    "photo_request",
    "off_platform",
    "meeting",
    "child_disclosure_age",
    "child_disclosure_location",
    "child_disclosure_alone",
)
"""Stage names, in the usual order of a grooming pattern (the child's disclosures last)."""

CHILD_DISCLOSURES: frozenset[str] = frozenset(
    {"child_disclosure_age", "child_disclosure_location", "child_disclosure_alone"}
)

_YOU = r"(?:you|your|you're|youre|yourself|u)"
_PARENT = r"(?:parents?|mom|mum|mommy|mummy|mother|dad|daddy|father|folks|step ?(?:mom|dad)|grandma|grandpa|family)"
_APPS = (
    r"(?:snapchat|kik|discord|telegram|whatsapp|instagram|skype|facebook|messenger|signal|wickr|line|tiktok|"
    r"yahoo|aim|msn|hangouts|viber|wechat|email|e-mail)"
)
_MEDIA = r"(?:picture|pictures|photo|photos|pic|pics|selfie|selfies|video|videos|vid|vids|cam|webcam|camera)"
_SEXUAL_WORDS = (
    r"(?:(?<!age )sex|sexy|sexual|naked|nude|nudes|horny|boobs?|breasts?|tits|dick|cock|penis|pussy|vagina|"
    r"masturbat\w*|"
    r"orgasm|cum|blowjob|suck\w*|fuck\w*|condom|virgin|porn\w*|erotic|kinky|turns? (?:me|you) on|turned on|hard for|"
    r"underwear|panties|bra|bikini|lingerie|thong|strip|undress\w*|without (?:any )?clothes|no clothes|topless)"
)
_BODY = r"(?:body|chest|legs|butt|ass|bum|private parts|privates|down there)"
# Objects a photo request may be about that make it ordinary (homework, pets, a game build).
_HARMLESS_OBJECT = re.compile(
    r"\bof (?:the |your |my |a |an |this |that |our )?(?:homework|worksheet|work|question|problem|answer|essay|"
    r"notes|page|dog|cat|puppy|kitten|pet|hamster|fish|drawing|painting|picture you drew|build|base|house in|"
    r"minecraft|roblox|lego|garden|cake|food|dinner|lunch|project|poster|model|screen|screenshot|score|"
    r"certificate|medal|trophy|report|book|map|room design|car|bike|sunset|view|beach|holiday|trip)\b"
)


@dataclass(frozen=True, slots=True)
class _Rule:
    stage: str
    pattern: re.Pattern[str]
    score: float
    category: Category = Category.GROOMING


def _r(stage: str, pattern: str, score: float, category: Category = Category.GROOMING) -> _Rule:
    return _Rule(stage, re.compile(pattern), score, category)


# Rules written by the other party (contact or assistant) to the child.
_OTHER_RULES: tuple[_Rule, ...] = (
    # rapport, flattery, special relationship
    _r("rapport", rf"\b{_YOU} (?:are |r |re )?(?:so |really |very |soo |such a )?(?:cute|pretty|beautiful|gorgeous|"
       r"hot|sexy|adorable|special|perfect|amazing|sweet|lovely|stunning|mature)\b", 0.2),
    _r("rapport", rf"\bmature for {_YOU} age\b|\b(?:act|seem|look|sound)s? (?:so |really )?(?:older|mature)\b", 0.4),
    _r("rapport", r"\b(?:you(?:'re| are)? (?:my|the) (?:special|favou?rite|best) (?:girl|boy|one|friend)|"
       r"special (?:friendship|bond|connection)|i (?:really )?(?:like|love|miss|adore) you|i care about you|"
       r"you(?:'re| are) not like other)\b", 0.2),
    _r("rapport", r"\byou can (?:always )?(?:trust|tell) me\b|\bi(?:'m| am) (?:always )?here for you\b", 0.25),
    # age probing
    _r("age_probe", rf"\bhow old (?:are |r |is )?{_YOU}\b|\bwhat(?:'s|s| is)? {_YOU} age\b|\bage sex location\b|"
       rf"\bwhat age (?:are |is )?{_YOU}\b|\bwhat (?:grade|year|class) (?:are |r )?{_YOU}(?: in)?\b|"
       rf"\b(?:are|r) {_YOU} (?:only |just |really |even )?(?:1[0-7]|[6-9]|a teen|a kid|underage|under 18|"
       r"in (?:middle|high|elementary|primary|secondary) school)\b|\bage\?|\bhow young\b", 0.3),
    _r("age_probe", rf"\bwhen(?:'s| is) {_YOU} birthday\b|\b{_YOU} (?:look|seem) (?:young|older)\b", 0.15),
    # circumstances: parents, being alone, school, location
    _r("circumstance_probe", rf"\b(?:are|is|r) (?:{_YOU} )?{_PARENT}s? (?:home|around|there|awake|asleep|in|out|"
       r"at work|gone|away|watching|nearby|checking)\b", 0.4),
    _r("circumstance_probe", rf"\b(?:are|r) {_YOU} (?:home )?alone\b|\bhome alone\b|\bby (?:yourself|your self)\b|"
       r"\bwho(?: else)? (?:is|are|r) (?:home|there|with you)\b|\banyone (?:else )?(?:home|around|with you)\b", 0.45),
    _r("circumstance_probe", rf"\bwhen (?:do|does|will) (?:{_YOU} )?{_PARENT}s? (?:get home|come home|leave|go to "
       rf"(?:bed|sleep|work)|get back)\b|\bdo {_YOU} {_PARENT}s? (?:check|read|look at|see) {_YOU}\b", 0.45),
    _r("circumstance_probe", rf"\b(?:what|which) school (?:do |does )?{_YOU}\b|\bwhere (?:do |does )?{_YOU} "
       r"(?:live|go to school|stay)\b|\bwhat(?:'s|s| is) {_YOU} (?:address|school|town|city)\b|"
       rf"\bdo {_YOU} have {_YOU}r? own (?:room|phone|computer|laptop)\b", 0.3),
    _r("circumstance_probe", rf"\bdo {_YOU} have a (?:boyfriend|girlfriend|bf|gf)\b|\b{_YOU} single\b", 0.25),
    # the other party says they are an adult (an adult-child age gap once the child's age is known)
    _r("adult_age", r"\bi(?:'m| am|m)\b[^.?!]{0,20}?\b(?:1[89]|[2-7]\d)(?: years old| yrs?| years)?\b(?! ?(?:minutes|"
       r"mins|hours|percent|dollars|pounds|points|days|weeks|months|times|km|miles|%|euros|quid|bucks|followers))|"
       r"^\W*(?:1[89]|[2-7]\d) ?[/,]? ?(?:m|f|male|female|guy|man|woman)\b|\b(?:1[89]|[2-7]\d) ?/ ?(?:m|f)\b", 0.3),
    # secrecy
    _r("secrecy", rf"\b(?:do not|don't|dont|never|shouldn't|wont|won't) (?:tell|show|say (?:anything )?to|mention "
       rf"(?:this |it )?to) (?:anyone|anybody|no one|nobody|{_YOU} {_PARENT}s?|{_YOU} friends?|{_YOU} teachers?|"
       rf"{_PARENT}s?)\b", 0.5),
    _r("secrecy", r"\b(?:our|a) (?:little |special |lil )?secret\b|\bkeep (?:this|it|that|us) (?:between us|"
       r"(?:a )?secret|quiet|private)\b|\bjust between (?:us|you and me|me and you)\b|"
       r"\b(?:no one|nobody) (?:has to|needs to|will|can|should) (?:ever )?know\b", 0.5),
    _r("secrecy", r"\bdelete (?:this|these|that|the|our|all|my|it|them|every)\w* ?(?:chat|messages?|convo|"
       r"conversation|pictures?|photos?|texts?|after|now|history|dms?)?\b|\bclear (?:your |the )?(?:history|chat|"
       r"messages)\b|\b(?:they|you|i|we)(?:'ll| will| would)? (?:get|be) in (?:so much |big )?trouble\b", 0.4),
    # isolation
    _r("isolation", rf"\b{_PARENT}s? (?:don't|dont|do not|doesn't|does not|never|wouldn't|would not|won't|will not)"
       r" (?:understand|get|care|listen|let)\b|\b(?:they|nobody|no one) (?:understands?|gets?|cares? about) you "
       r"like (?:i do|me)\b", 0.5),
    _r("isolation", r"\b(?:only i|i(?:'m| am) the only one who) (?:understand|get|care|really)\w*\b|\byou can trust "
       r"me more than\b|\byou don(?:'t|t| not) need (?:them|your (?:friends|parents|family))\b|\bthey(?:'re| are) "
       r"(?:just )?jealous\b|\b(?:your )?friends (?:are|r) (?:immature|kids|babies|childish)\b", 0.5),
    # gifts and offers
    _r("gifts", r"\b(?:i(?:'ll| will| can| could)|let me|want me to) (?:buy|get|send|give|gift|pay)\w* you\b|"
       r"\b(?:free|some|extra|\d+) (?:robux|v-?bucks|vbucks|gems|coins|skins|credits|money|cash)\b|"
       r"\bgift ?cards?\b|\b(?:robux|v-?bucks|vbucks)\b", 0.3),
    _r("gifts", r"\b(?:send|give|pay) you (?:money|cash|\$?\d+)|\bnew (?:phone|iphone|laptop|console)\b.*\byou\b", 0.3),
    # desensitisation: normalising secrecy/sexual contact
    _r("desensitisation", r"\b(?:it(?:'s| is)|that(?:'s| is)) (?:totally |completely |perfectly )?(?:normal|natural|"
       r"ok|okay|fine) (?:for|when|if|to)\b.*\b(?:touch|naked|nude|body|kiss|sex|adults?|older)\b|\beveryone (?:does|"
       r"is doing) (?:it|this)\b|\bnothing (?:wrong|bad) (?:with|about) (?:it|that|this)\b", 0.45),
    _r("desensitisation", r"\b(?:have|did) you ever (?:been )?(?:kiss|kissed|made out|touched|seen|watched|done)\b|"
       r"\bever (?:been kissed|kissed|made out|had sex|seen a)\b", 0.45),
    # sexual talk aimed at the child
    _r("sexual_talk", rf"\b(?:are|r) {_YOU} (?:still )?a virgin\b|\bdo {_YOU} (?:ever )?(?:touch|play with|rub) "
       rf"{_YOU}\b|\b(?:show|see) (?:me )?{_YOU} (?:boobs|breasts|chest|butt|privates)\b", 0.7,
       Category.SEXUAL_MINORS),
    _r("sexual_talk", rf"\bwhat (?:are|r) {_YOU} wearing\b|\b{_YOU} (?:body|boobs|chest|legs|butt)\b", 0.35),
    _r("sexual_talk", rf"\b{_SEXUAL_WORDS}\b", 0.55),
    # photos, video, webcam
    _r("photo_request", rf"\b(?:send|show|give|take|snap|post|get|share)\w* (?:me |us )?(?:a |an |some |more |"
       rf"another |the |your |ur )?(?:new |cute |nice |full |real |private |special )?(?:body )?{_MEDIA}\b", 0.45),
    _r("photo_request", rf"\b(?:can|could|may|let) (?:i|me) see (?:you|a {_MEDIA}|more|your {_MEDIA}|what you look)"
       rf"\b|\b{_MEDIA} of (?:you|yourself|your self|your face|your body)\b", 0.45),
    _r("photo_request", r"\b(?:turn on|use|get on|open|have|got) (?:a |your )?(?:cam|webcam|camera|video)\b|"
       r"\b(?:facetime|video (?:call|chat))\b|\bon cam\b", 0.4),
    # moving the chat elsewhere
    _r("off_platform", rf"\b(?:add|message|text|call|find|follow|hit) me (?:up )?(?:on|at) {_APPS}\b|"
       rf"\b(?:do )?{_YOU} (?:have|got|use) (?:a |an )?{_APPS}\b|\bwhat(?:'s|s| is) {_YOU} {_APPS}\b|"
       rf"\bmy {_APPS} is\b", 0.35),
    _r("off_platform", rf"\bwhat(?:'s|s| is) {_YOU} (?:phone |cell |mobile )?number\b|\b(?:text|call) me\b|"
       rf"\b(?:give|send) me {_YOU} (?:phone |cell )?number\b|\bmy (?:phone |cell )?number is\b|"
       r"\b(?:talk|chat|move|go) (?:somewhere|some place) (?:else|more private|private)\b|\bprivate (?:chat|room)\b|"
       r"\b\d{3}[ .-]?\d{3}[ .-]?\d{4}\b", 0.35),
    # meeting in person
    _r("meeting", r"\b(?:meet|see) (?:you |each other |up )?(?:in person|irl|in real life|for real|face to face)\b|"
       r"\b(?:want to|wanna|can we|could we|let's|lets|should we|we should|we could|when can we) (?:meet|hook up|"
       r"get together)\b|\bmeet (?:me|up) (?:at|after|tonight|tomorrow|somewhere|behind|near)\b", 0.4),
    _r("meeting", r"\bi(?:'ll| will| can| could) (?:pick you up|come (?:over|get you|to you|see you|to your)|drive "
       r"(?:to|over|up|down))\b|\bsneak out\b|\bcome (?:over|to my (?:house|place|car|hotel))\b|"
       r"\b(?:hotel|motel)\b", 0.4),
)

# Rules for what the child writes about themselves.
_CHILD_RULES: tuple[_Rule, ...] = (
    _r("child_disclosure_age", r"\bi(?:'m| am|m) (?:only |just |almost |nearly )?(?:[5-9]|1[0-7])(?: years old| yrs?"
       r"| and a half)?\b(?! (?:minutes|mins|hours|percent|dollars|pounds|points|days|weeks|months|times|km|miles))|"
       r"\bi(?:'m| am|m) in (?:year |grade )?(?:[1-9]|1[0-2])(?:st|nd|rd|th)? (?:grade|year)\b|"
       r"\bi(?:'m| am|m) in (?:middle|elementary|primary) school\b|\bmy age is (?:[5-9]|1[0-7])\b|"
       r"^\W*(?:[5-9]|1[0-7])(?: years old)?\W*$|^\W*(?:[5-9]|1[0-7]) ?[/,]? ?(?:m|f|male|female|boy|girl)\b",
       0.3, Category.PERSONAL_INFO),
    _r("child_disclosure_location", r"\bi live (?:in|on|at|near|by)\b|\bmy (?:home )?address is\b|\bi go to "
       r"[a-z ]{2,40} (?:school|elementary|middle|high|academy|primary)\b|\bmy school is\b|\bmy (?:phone |cell )?"
       r"number is\b|\b\d{3}[ .-]?\d{3}[ .-]?\d{4}\b|\b\d+ [a-z]+ (?:street|st|road|rd|avenue|ave|lane|drive)\b",
       0.45, Category.PERSONAL_INFO),
    _r("child_disclosure_alone", rf"\bi(?:'m| am|m) (?:home )?(?:all )?alone\b|\b(?:my )?{_PARENT}s? (?:is|are|r) "
       r"(?:not home|out|away|at work|asleep|gone|not here|not back)\b|\b(?:nobody|no one)(?:'s| is) (?:home|here)\b|"
       rf"\b{_PARENT}s? (?:left|went out|won't be back)\b", 0.4, Category.PERSONAL_INFO),
)

# The child asking the same things (two kids chatting) is ordinary; only a faint trace is kept.
_CHILD_ASKING_FACTOR = 0.35
# One grooming-stage message alone stays under the policy's grooming.warn (0.3) from a contact: the
# conversation risk decides. The same from the assistant (factor 1.3) reaches a warning on its own.
_GROOMING_SCALE = 0.5
_ASSISTANT_FACTOR = 1.3
_SEXUAL_CONTEXT = re.compile(rf"\b{_SEXUAL_WORDS}\b|\b{_BODY}\b|\bin (?:the )?(?:shower|bath|bed)\b")


class GroomingStageConfig(DetectorConfig):
    """Options of the grooming stage detector."""

    child_asking_factor: float = Field(_CHILD_ASKING_FACTOR, ge=0.0, le=1.0)
    assistant_factor: float = Field(_ASSISTANT_FACTOR, ge=1.0, le=3.0)


class GroomingStageDetector(Detector):
    """Rules that tag each message with the grooming stages it shows (signal = stage name)."""

    name: ClassVar[str] = "grooming_stages"
    version: ClassVar[str] = "1"
    categories: ClassVar[frozenset[Category]] = frozenset(
        {Category.GROOMING, Category.SEXUAL_MINORS, Category.PERSONAL_INFO}
    )
    Config: ClassVar[type[DetectorConfig]] = GroomingStageConfig

    def detect(self, ctx: TextContext) -> list[Detection]:
        text = ctx.normalized
        if not text or ctx.role is Role.SYSTEM:
            return []
        cfg = self.config
        assert isinstance(cfg, GroomingStageConfig)
        found: dict[str, Detection] = {}
        if ctx.role is Role.CHILD:
            for rule in _CHILD_RULES:
                m = rule.pattern.search(text)
                self._apply(rule, None if m is None else (m.start(), m.end()), ctx, 1.0, found)
            factor = cfg.child_asking_factor
        else:
            factor = cfg.assistant_factor if ctx.role is Role.ASSISTANT else 1.0
        if factor > 0:
            firsts, _masked = _scan_other(text)
            for rule, first in zip(_OTHER_RULES, firsts, strict=True):
                self._apply(rule, first, ctx, factor, found)
        out = list(found.values())
        # A sexualised photo request or sexual talk from the other party is aimed at a child: sexual_minors.
        photo = found.get("photo_request")
        if photo is not None and ctx.role is not Role.CHILD and _SEXUAL_CONTEXT.search(text):
            out.append(
                Detection(Category.SEXUAL_MINORS, min(1.0, 0.9 * factor), self.name, self.version, photo.span,
                          "photo_request: sexualised request to a child", "photo_request")
            )
        return out

    def _apply(
        self, rule: _Rule, span: tuple[int, int] | None, ctx: TextContext, factor: float, found: dict[str, Detection]
    ) -> None:
        if span is None:
            return
        start, end = span
        score = rule.score * factor
        if rule.category is Category.GROOMING:
            score *= _GROOMING_SCALE
        if rule.stage == "photo_request" and _HARMLESS_OBJECT.search(ctx.normalized, start):
            score *= 0.2  # "send me a picture of your homework": ordinary
        category = rule.category
        if ctx.role is Role.CHILD and category is Category.SEXUAL_MINORS:
            category = Category.GROOMING  # the child's own words are not an adult sexualising a child
        prev = found.get(rule.stage)
        if prev is not None and prev.score >= score:
            return
        found[rule.stage] = self.detection(
            category, score, ctx, start, end, f"{rule.stage}: {ctx.role.value} message", rule.stage
        )


# Stages whose phrases ordinary children's chats use too ("how old are you", "add me on discord"). The
# message model reads the text with these phrases removed, so they count once, through the stage
# features, whose weight the conversation model learns against children's ordinary chats.
MASKED_STAGES: frozenset[str] = frozenset(
    {"rapport", "age_probe", "circumstance_probe", "adult_age", "gifts", "photo_request", "off_platform", "meeting"}
)


@lru_cache(maxsize=256)
def _scan_other(normalized: str) -> tuple[tuple[tuple[int, int] | None, ...], str]:
    """One pass of the other-party rules: each rule's first match, and the text with masked stages removed.

    Cached because the conversation model reads the masked text of the message the detector just saw.
    """
    firsts: list[tuple[int, int] | None] = []
    spans: list[tuple[int, int]] = []
    for rule in _OTHER_RULES:
        if rule.stage in MASKED_STAGES:
            hits = [(m.start(), m.end()) for m in rule.pattern.finditer(normalized)]
            spans.extend(hits)
            firsts.append(hits[0] if hits else None)
        else:
            m = rule.pattern.search(normalized)
            firsts.append(None if m is None else (m.start(), m.end()))
    return tuple(firsts), blank_spans(normalized, spans)


def blank_spans(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` with each of ``spans`` (overlapping or not) replaced by one space."""
    if not spans:
        return text
    parts: list[str] = []
    pos = 0
    for start, end in sorted(spans):
        if end <= pos:
            continue
        if start > pos:
            parts.append(text[pos:start])
        parts.append(" ")
        pos = max(pos, end)
    parts.append(text[pos:])
    return "".join(parts)


def mask_stage_phrases(normalized: str) -> str:
    """``normalized`` with the phrases of :data:`MASKED_STAGES` replaced by spaces."""
    return _scan_other(normalized)[1]
