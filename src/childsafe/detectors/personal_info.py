"""Personal details a child discloses, or that someone asks a child for (detector ``personal_info``).

A small registry of recognizers, one per kind of detail (:class:`PiiType`), each returning
:class:`PiiMatch` objects that carry the recognizer and the rule that fired (the explanation), the way
Presidio's recognizers do, but with a closed type enum instead of free-string labels.

Structured values (phones, emails, handles, coordinates, dates) are matched on the RAW text, because
normalisation folds leetspeak inside tokens and would mangle ``tacoNinja77`` or ``jo@mail.com``.
Conversational cues ("i go to", "my snap is", "what school do you go to") are matched on the normalised
text, so "ur", "u", "pic", "snap" and odd spellings are already folded.

Role decides the score: a child's own detail is scored for redaction; an assistant or contact ASKING a
child for a detail scores high (the policy blocks it); a contact giving out their own contact details is
an off-platform move and scores high; an assistant quoting a number (a helpline) scores low.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from enum import StrEnum
from importlib import resources

from pydantic import Field

from childsafe.detectors.base import Detector, DetectorConfig, DetectorUnavailable
from childsafe.text.context import TextContext
from childsafe.types import Category, Detection, Role, Span


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

REQUEST_SCORE = 0.9
WEAK_REQUEST_SCORE = 0.7
CHILD_QUESTION_SCORE = 0.2
"""A child asking the assistant "where do you live?" is not a disclosure."""
CONTACT_SHARES_SCORE = 0.75
"""A contact handing a child their phone, handle or address: an attempt to move off-platform."""
ASSISTANT_VALUE_SCORE = 0.3
"""An assistant quoting a number or place (a helpline, a museum) is not the child's detail."""


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


# --------------------------------------------------------------------------------------------------
# word lists

_AGE_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
    "eighteen": 18, "nineteen": 19,
}  # fmt: skip
_AGE_NUM = r"(?:1[0-9]|[1-9]|" + "|".join(_AGE_WORDS) + r")"

# Common words that follow "i'm", "my name is", "my snap is"... and are not names or handles.
_STOP = frozenset(
    """
    a an the and or but so very really too not no yes yeah ok okay fine good bad great cool nice sad happy mad
    angry hungry thirsty tired sleepy bored boring scared sick ill sorry sure here there home back done out in on
    at to from with of for by about just still also only always never now then today tonight tomorrow later soon
    maybe going gonna trying playing doing eating watching reading writing walking talking coming leaving
    feeling getting having looking waiting staying sitting lying laughing crying joking kidding serious
    is are was were be been being am do does did have has had will would can could should may might must
    i me my mine you your yours he him his she her hers it its we us our they them their this that these those
    i've i'd i'll you've we've they've i'm you're we're they're it's that's
    what wat wot whut who where when why how which whatever whoever everyone everybody someone somebody anyone nobody
    old big small little tiny huge best worst better worse first last next same other another some any all
    into onto off over under up down near like as if than because since while until after before
    lol lmao omg btw idk tbh haha hehe hi hey hello bye plz please thanks thank welcome
    private secret hidden public broken banned deleted gone down hacked locked blocked weird dumb stupid annoying
    alone lonely busy free late early ready allowed grounded stuck lost fat thin tall short smart clever
    right next once anytime play watch football sir da
    years year old age turning born called named literally actually basically totally kinda sorta
    bed sleep school class work shops shop house mums dads mum dad mom
    mums moms nan nans grandmas grandads friends friend brother sister cousin aunt uncle grandma grandad
    maths math science english history art music homework test exam lunch break recess dinner breakfast
    an also again almost already enough every much many more most less few lot lots
    """.split()
)

_PLATFORMS = (
    r"snapchat|instagram|tiktok|tik tok|discord|roblox|fortnite|xbox|psn|playstation|steam|minecraft|kik"
    r"|telegram|twitter|youtube|twitch|facebook|whatsapp|wechat|line|signal|threads|bereal|epic|epic games"
)
_HANDLE_SOLO = r"gamertag|gamer tag|username|user name|user|handle|ign|discord tag"
_HANDLE_NOUNS = r"gamertag|gamer tag|username|user name|user|handle|tag|id|name|ign|account|acc|code"
_SKOOL = r"(?:school|skool|scool|skl|schl)"
_SCHOOL_SUFFIX = (
    r"(?:elementary|elementry|elemantary|elementery|elem|primary|primery|middle|middel|junior high|high|hi|secondary"
    rf"|grammar|prep|infant|junior|community|catholic|christian) {_SKOOL}|academy|acadamy|akademy|elementry|elemantary"
    r"|elementary school|elementary|primary school|primary academy|primary|middle school|junior high school"
    r"|junior high|high school|secondary school|secondary|grammar school|grammar|prep school|academy"
    r"|infant school|junior school|juniors|infants|community school|school|skool|college|middle|high"
)
_STREET_SUFFIX = (
    r"street|st|road|rd|avenue|ave|lane|ln|drive|dr|close|way|court|ct|boulevard|blvd|place|pl|crescent|cres"
    r"|terrace|grove|gardens|gdns|row|square|sq|parkway|mews|walk|hill|circle|cir|highway|hwy"
)
_MONTHS = (
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?"
    r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
_DAY = r"(?:[12][0-9]|3[01]|0?[1-9])(?:st|nd|rd|th)?"

# --------------------------------------------------------------------------------------------------
# patterns on RAW text (case-insensitive)

_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63})*\.[a-z]{2,24}\b", re.I)
_EMAIL_SPOKEN = re.compile(
    r"\b[\w.]{2,40}\s*(?:\(at\)|\[at\]|\bat\b)\s*(?:gmail|hotmail|yahoo|outlook|icloud|aol|live|protonmail|proton"
    r"|btinternet|mail)\s*(?:\(dot\)|\[dot\]|\bdot\b|\.)\s*(?:com|co\s*(?:\.|dot)\s*uk|net|org|me)\b",
    re.I,
)
_PHONE_CAND = re.compile(r"(?<![\w.,/+-])(?:\+|00)?\(?\d[\d \t().-]{5,22}\d(?![\w/]|[.,]\d)")
_COORDS = re.compile(r"(?<![\w.])-?\d{1,2}\.\d{3,}\s*[,;/ ]\s*-?\d{1,3}\.\d{3,}(?![\w.])")
_COORDS_DMS = re.compile(r"\d{1,3}\s?°\s?\d{1,2}\s?['′]\s?(?:\d{1,2}(?:\.\d+)?\s?[\"″])?\s?[NSEW]\b", re.I)
_MAP_LINK = re.compile(
    r"\b(?:maps\.google\.\S+|goo\.gl/maps/\S+|maps\.app\.goo\.gl/\S+|maps\.apple\.com/\S+)|///\w+\.\w+\.\w+", re.I
)
_AT_HANDLE = re.compile(r"(?<![\w@.])@[A-Za-z0-9_][\w.]{1,30}\b")
_POSTCODE_UK = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}\b", re.I)
_ZIP = re.compile(r"\b(?:zip|zip code|zipcode)\s*(?:is|:)?\s*(\d{5}(?:-\d{4})?)\b", re.I)
_DATE_NUMERIC = re.compile(r"\b(?:\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})|\d{4}-\d{1,2}-\d{1,2})\b")
_DATE_WORDS = re.compile(
    r"\b(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day,? )?"
    rf"(?:(?:the\s+)?{_DAY}\s+(?:of\s+)?(?:{_MONTHS})|(?:{_MONTHS})\s+(?:the\s+)?{_DAY})\b(?:,?\s+(?:19|20)\d\d)?",
    re.I,
)
_BIRTH_YEAR = re.compile(r"\bborn\s+in\s+((?:19|20)\d\d)\b", re.I)
_BIRTH_CUE = re.compile(
    r"\b(?:birthday|bday|b-day|born|dob|d\.o\.b|date of birth|birth date"
    r"|(?:i'll|ill|i will) be \w+ on|(?:i'm |im |i am )?turning \w+ on|i turn \w+ on)\b",
    re.I,
)
_NON_DIGIT = re.compile(r"\D")
_DIGITS = re.compile(r"\d+")
_NEGATIVE = re.compile(r"(?:^|\s)-\d|\d-\s|\s-\s")
_NOT_PHONE_BEFORE = re.compile(r"\b(?:isbn|page|pages|chapter|score|year|years)\s*:?\s*$", re.I)
_PHONE_CUE = re.compile(
    r"\b(?:number|num|no|digits|phone|mobile|cell|call|ring|text|txt|whatsapp|sms|tel|contact)\b", re.I
)
_MATH_NEAR = re.compile(r"[+*/=×÷^<>]|\b(?:x|times|plus|minus|divided|equals)\b", re.I)

# --------------------------------------------------------------------------------------------------
# patterns on NORMALISED text

_W = r"[a-z][a-z'.-]*"  # a name-ish word in normalised text
_SUBJ = r"(?:i am|im|i'm|iam)"

_NAME_CUE = re.compile(
    r"\b(?:my (?:full |real |first |last |sur)?name(?:'s| is|s)|my surname is|(?:i am|im|i'm) called|they call me"
    r"|you can call me|just call me|everyone calls me|my friends call me|my names)\s+"
)
_GREETING_NAME = re.compile(rf"\b(?:hi|hey|hello|hiya|heya|yo|sup)\b[ ,!]*(?:{_SUBJ}|it's|its)\s+")
_IM_NAME = re.compile(rf"(?:^|[.!?,;] *|\b(?:and|btw|lol|also|oh|well|nice|so)\s+){_SUBJ}\s+")
_SCHOOL_SUFFIX_RE = re.compile(rf"\b(?:{_SCHOOL_SUFFIX})\b")
_SCHOOL_CUE = re.compile(
    r"\b(?:go to|goto|go 2|going to|attend|attends|at|from|student at|pupil at|year \d+ at|grade \d+ at"
    r"|teachers? (?:is |are )?at|school is|school's|school is called|in)\s*$"
)
_SCHOOL_SAINT = re.compile(r"\b(?:go to|goto|go 2|attend|student at|pupil at|school is)\s+((?:st|saint)\.? [a-z']+)")
_SCHOOL_IS = re.compile(r"\bmy school (?:is called|is named|is|'s)\s+")
_ADDRESS_NUM = re.compile(rf"\b(\d{{1,5}})[a-z]?,? +((?:{_W} +){{1,3}}?)(?P<suffix>{_STREET_SUFFIX})\b\.?")
_STRONG_STREET = r"street|st|road|rd|avenue|ave|lane|ln|drive|dr|crescent|cres|boulevard|blvd|terrace|grove|gardens"
_STREET = re.compile(
    rf"\b(?:on|at|in|near|off|along|down|up|by|live on|lives on)\s+((?:{_W} +){{1,2}}?)(?:{_STRONG_STREET})\b\.?"
)
_ADDRESS_IS = re.compile(r"\b(?:my (?:home )?address is|my address's|i live at|my addy is|our address is)\s+")
_LOCATION_CUE = re.compile(
    r"\b(?:i|we) (?:live|stay|living|staying) (?:in|near|by|right by|next to|close to|around)\s+"
    r"|\b(?:i'm|im|i am) from\s+|\bmy (?:town|city|village|location) is\s+"
    r"|\bmy (?:house|home|flat) is (?:near|by|next to|in)\s+"
)
_IM_IN = re.compile(r"\b(?:i'm|im|i am) in\s+")
_NOT_PLACE = re.compile(
    r"(?:year|grade|class|form|bed|trouble|love|charge|pain|detention|reception|kindergarten|nursery|period|lesson)\b"
)
_LOCATION_CHAIN = re.compile(r"\s*(?:,|in)\s+")
_POSTCODE_CUE = re.compile(r"\bmy (?:post ?code|zip ?code|zip) is\s+")
_HANDLE_CUE = re.compile(
    rf"\b(?:my (?:{_PLATFORMS})(?: (?:{_HANDLE_NOUNS}))?|my (?:{_HANDLE_SOLO})(?: on (?:{_PLATFORMS}))?)"
    r"(?: (?:is|its|it's|=|:)| ?:| -)\s*"
    rf"|\b(?:(?:add|follow|find|hit|dm|message|friend) me (?:up )?on (?:{_PLATFORMS})"
    rf"|(?:add|follow|friend) me on|on (?:{_PLATFORMS}) i'm|on (?:{_PLATFORMS}) im"
    rf"|(?:snapchat|message|dm|hmu|hit me up) me (?:at|on) (?:{_PLATFORMS})?|hmu on (?:{_PLATFORMS}))"
    r"(?: (?:is|its|it's|=|:)| ?:| -)?\s*"
)
_HANDLE_WHOLE = re.compile(rf"\b(?:add|follow|friend|message|dm) me\b|\b(?:{_PLATFORMS})\b")
_NOT_AGE_UNIT = (
    r"(?! ?(?:%|percent|mins?\b|minutes|hours?|hrs?\b|seconds?|secs?\b|o'clock|am\b|pm\b|pounds|dollars|quid|points"
    r"|feet|foot|ft\b|cm\b|m\b|km\b|miles|times|x\b|days?\b|weeks?\b|more|of\b|out\b|levels?|steps?|goals?))"
)
_AGE_TURN = re.compile(
    rf"\b(?:i turn(?:ed)?|i'll be|ill be|i will be|i just turned|i am turning|im turning|i'm turning|my age is|aged)"
    rf"\s+({_AGE_NUM})\b{_NOT_AGE_UNIT}"
)
_AGE_IM = re.compile(
    rf"\b(?:{_SUBJ}|age)\s+({_AGE_NUM})"
    r"(?= *(?:$|[.,!?;:)&]|and\b|years?\b|yrs?\b|years old|yo\b|y/o|yr old|btw|lol|now|too|but|so\b|in\b|next|this"
    r"|soon|tho|though|haha|:\)|x\b)|yo\b)"
)
_AGE_YEARS_OLD = re.compile(rf"\b({_AGE_NUM}) ?(?:years old|year old|yrs old|yr old|years|yo)\b")
_AGE_SUBJ_BEFORE = re.compile(rf"\b(?:{_SUBJ}|i'll be|ill be|i will be|i turn(?:ed)?|i just turned)\s*$")
_PHOTO_CHILD = re.compile(
    r"\b(?:send|give|show) you (?:a |some |my )?(?:picture|pictures|photo|photos|selfie|selfies|video|vid)"
    r"(?: of (?:me|myself))?"
    r"|\b(?:want|wanna|want to see) (?:a |some )?(?:picture|pictures|photo|photos|selfie|video) of me\b"
    r"|\bhere(?:'s| is) (?:a )?(?:picture|photo|selfie) of me\b"
)
_PHOTO_ASK = re.compile(
    r"\b(?:send|show|give|share|post|dm|text|snapchat|take)\s+(?:me\s+)?(?:a\s+|some\s+|your\s+|more\s+"
    r"|another\s+|any\s+)?(?:new\s+|cute\s+|real\s+)?"
    r"(?P<what>pictures|picture|photos|photo|selfies|selfie|videos|video|vids|vid|images|image|face|body|pics)"
    r"(?P<of>\s+of\s+(?P<obj>[a-z']+(?:\s+[a-z']+)?))?"
    r"|\b(?:can|could|may|let) (?:i|me) see (?:you|your face|what you look like|a picture of you)\b"
    r"|\bwhat do you look like\b|\b(?:video call|videocall|facetime|face time) (?:me|with me)?"
    r"|\b(?:send|show|trade|swap) (?:me )?(?:some |your |any )?(?:nudes|nude pictures|nude pics)\b"
    r"|\bcan you (?:video call|videocall|facetime)\b"
    r"|\b(?:turn on|switch on|put on|go on) (?:your |the )?(?:camera|cam|webcam)\b"
    r"|\b(?:turn|switch|put) (?:your |the )?(?:camera|cam|webcam) on\b"
)
_PHOTO_SELF_OBJ = re.compile(r"^(?:you|yourself|your ?self|urself|your (?:face|body|outfit|room|legs|feet|hair|self)"
                             r"|what you look like|u)\b")

_REQUESTS: tuple[tuple[PiiType, float, re.Pattern[str]], ...] = (
    (PiiType.SCHOOL, REQUEST_SCORE, re.compile(
        rf"\b(?:what|which|wat|wot|wich|whut) {_SKOOL} (?:do |are |did |does )?you (?:go to|goto|go|attend|at|in"
        rf"|going to)\b|\bwhere do you go to {_SKOOL}\b|\bwhat(?:'s| is|s) (?:the name of )?your {_SKOOL}(?: called"
        rf"| name)?\b|\bwhich {_SKOOL} (?:are you|you) (?:at|in)\b|\bwhich {_SKOOL} do you attend\b")),
    (PiiType.ADDRESS, REQUEST_SCORE, re.compile(
        r"\b(?:what(?:'s| is|s) your|give me your|send me your|tell me your|i need your) (?:home |house )?"
        r"(?:address|addy|postcode|post code|zip code|zip)\b|\bwhat street do you live on\b")),
    (PiiType.LOCATION, REQUEST_SCORE, re.compile(
        r"\b(?:where|wer|wher|whr|were)(?: abouts| about|abouts)? (?:do|did|d) you (?:live|liv|life|stay)\b"
        r"|\bwhere do you stay\b|\bare you (?:home alone|alone at home|by yourself at home)\b"
        r"|\bwhat (?:town|city|area|country|street|village|part of \w+|neighbou?rhood) (?:do )?you live(?: in)?\b"
        r"|\b(?:send|share|give|drop|tell) me your (?:location|live location|pin)\b"
        r"|\bwhere(?: abouts| about|abouts) (?:are|r) you\b|\bwhere are you (?:based|living)\b"
        r"|\b(?:which|what) (?:town|city|area|country|village|county|state) (?:do )?you live(?: in)?\b"
        r"|\b(?:turn on|switch on|share) your (?:location|live location|gps)\b|\bwhere are you (?:right )?now\b"
        r"|\bwhat (?:town|city|area) are you in\b")),
    (PiiType.LOCATION, WEAK_REQUEST_SCORE, re.compile(r"\bwhere are you from\b|\bwhere you from\b")),
    (PiiType.PHONE, REQUEST_SCORE, re.compile(
        r"\b(?:what(?:'s| is|s)|give me|send me|can i (?:have|get)|could i (?:have|get)|tell me|i need|text me)"
        r" your (?:phone |fone |phne |mobile |cell |home |real )?(?:number|numba|numbr|num|digits|phone|fone|mobile"
        r"|cell|no)\b")),
    (PiiType.EMAIL, REQUEST_SCORE, re.compile(
        r"\b(?:what(?:'s| is|s)|give me|send me|can i (?:have|get)|tell me) your (?:email|e-mail|email address)\b")),
    (PiiType.HANDLE, REQUEST_SCORE, re.compile(
        rf"\b(?:what(?:'s| is|s)|give me|send me|can i (?:have|get)|tell me) your (?:{_PLATFORMS})"
        rf"(?: (?:{_HANDLE_NOUNS}))?\b|\b(?:do|have) you (?:have|got) (?:a |an )?(?:{_PLATFORMS})\b"
        rf"|\b(?:add|follow) me on (?:{_PLATFORMS})\s*(?:$|[.!?]|and\b)"
        rf"|\bwhat(?:'s| is|s) your (?:gamertag|gamer tag|username|user name|handle)\b"
        rf"|\b(?:you|u) (?:got|have|on) (?:a |an )?(?:{_PLATFORMS})\s*(?:$|\?)")),
    (PiiType.FULL_NAME, REQUEST_SCORE, re.compile(
        r"\bwhat(?:'s| is|s) your (?:full|real|last|sur|second|family) ?name\b|\bwhat(?:'s| is|s) your surname\b")),
    (PiiType.AGE, REQUEST_SCORE, re.compile(
        r"\bh(?:o)?w old (?:are|r) you\b|\bwhat(?:'s| is|s) your age\b|\bage sex location\b|\bhow old you are\b")),
    (PiiType.AGE, WEAK_REQUEST_SCORE, re.compile(
        r"\bwhat (?:grade|year|class) (?:are you|you) in\b|\bare you (?:over|under) (?:1[0-9]|18|eighteen)\b")),
    (PiiType.DATE_OF_BIRTH, REQUEST_SCORE, re.compile(
        r"\bwhen(?:'s| is|s) your (?:birthday|bday|birth date|date of birth)\b"
        r"|\bwhat(?:'s| is|s) your (?:birthday|bday|date of birth|dob|birth date)\b|\bwhen were you born\b"
        r"|\bwhat year were you born\b")),
)
_PLACEHOLDER = re.compile(r"\[[A-Z_]+_\d+\]")


class PersonalInfoConfig(DetectorConfig):
    regions: list[str] = Field(
        default_factory=lambda: ["GB", "US", "CA", "AU", "NZ", "IE", "IN", "ZA", "NG", "DE", "FR", "ES", "IT", "NL"]
    )
    """Regions tried, in order, for phone numbers written without a country code (+CC numbers need none)."""


class PersonalInfoDetector(Detector):
    """Recognizer registry for a child's contact, location and identity details, and requests for them."""

    name = "personal_info"
    version = "2026.11.1"
    categories = frozenset({Category.PERSONAL_INFO})
    Config = PersonalInfoConfig

    def _load(self) -> None:
        try:
            import phonenumbers
        except ImportError as exc:
            raise DetectorUnavailable(f"personal_info: the phonenumbers package is not installed ({exc})") from None
        cfg = self.config
        assert isinstance(cfg, PersonalInfoConfig)
        unknown = [r for r in cfg.regions if r.upper() not in phonenumbers.SUPPORTED_REGIONS]
        if unknown:
            raise DetectorUnavailable(f"personal_info: unknown phone regions {unknown}")
        self._pn = phonenumbers
        for region in cfg.regions:  # metadata loads lazily per region: pay it here, not on a child's message
            phonenumbers.is_valid_number(phonenumbers.parse("0123456789", region.upper()))
        self._regions = [r.upper() for r in cfg.regions]
        self._recognizers: tuple[tuple[str, Callable[[TextContext], Iterator[PiiMatch]]], ...] = (
            ("requests", self._requests),
            ("email", self._emails),
            ("phone", self._phones),
            ("coordinates", self._coordinates),
            ("handle", self._handles),
            ("name", self._names),
            ("school", self._schools),
            ("address", self._addresses),
            ("location", self._locations),
            ("birth", self._birth),
            ("age", self._ages),
            ("photo", self._photos),
        )

    # -- public --------------------------------------------------------------------------------------
    def detect(self, ctx: TextContext) -> list[Detection]:
        out: list[Detection] = []
        for m in self.find(ctx):
            kind = "asks for" if m.request else "gives"
            evidence = f"{m.recognizer}: {m.rule}; {ctx.role.value} {kind} {m.type.value}"
            out.append(
                Detection(
                    category=Category.PERSONAL_INFO,
                    score=m.score,
                    detector=self.name,
                    detector_version=self.version,
                    span=Span(m.start, m.end),
                    evidence=evidence,
                    signal=m.type.value,
                )
            )
        for view in ctx.decoded:
            # details hidden in base64/rot13: the encoded stretch is what gets redacted
            out.extend(
                replace(d, span=view.span, evidence=f"{d.evidence}, decoded from {view.kind}")
                for d in self.detect(view.context)
            )
        return out

    def find(self, ctx: TextContext) -> list[PiiMatch]:
        """All recognised details with role-adjusted scores, overlaps resolved (highest score wins)."""
        self.load()
        if not ctx.raw.strip():
            return []
        found: list[PiiMatch] = []
        for _name, recognizer in self._recognizers:
            found.extend(recognizer(ctx))
        found = [self._role_score(m, ctx.role) for m in found]
        found = [m for m in found if not _inside_placeholder(ctx.raw, m.start, m.end)]
        found.sort(key=lambda m: (-m.score, -(m.end - m.start), m.start))
        kept: list[PiiMatch] = []
        for m in found:
            if all(m.end <= k.start or m.start >= k.end for k in kept):
                kept.append(m)
        kept.sort(key=lambda m: m.start)
        return kept

    # -- role ----------------------------------------------------------------------------------------
    @staticmethod
    def _role_score(m: PiiMatch, role: Role) -> PiiMatch:
        if m.request:
            if role is Role.CHILD or role is Role.SYSTEM:
                return _rescore(m, min(m.score, CHILD_QUESTION_SCORE), "a question from the child")
            return m
        if role is Role.CONTACT:
            if m.type in CONTACT_TYPES:
                return _rescore(m, max(m.score, CONTACT_SHARES_SCORE), "contact shares contact details")
            return _rescore(m, min(m.score, ASSISTANT_VALUE_SCORE), "contact's own detail")
        if role in (Role.ASSISTANT, Role.SYSTEM):
            return _rescore(m, min(m.score, ASSISTANT_VALUE_SCORE), "in assistant text, not a request")
        return m

    # -- helpers -------------------------------------------------------------------------------------
    def _span(self, ctx: TextContext, start: int, end: int) -> tuple[int, int]:
        s = ctx.to_original(start, end)
        return s.start, s.end

    def _raw_value(self, ctx: TextContext, norm_end: int, pattern: re.Pattern[str]) -> tuple[int, int] | None:
        """The raw-text value right after a cue that ends at ``norm_end`` in the normalised text."""
        if norm_end >= len(ctx.normalized):
            return None
        pos = ctx.to_original(norm_end, norm_end + 1).start
        m = pattern.match(ctx.raw, pos)
        if m is None:
            return None
        return m.start(1), m.end(1)

    # -- recognizers ---------------------------------------------------------------------------------
    def _requests(self, ctx: TextContext) -> Iterator[PiiMatch]:
        text = ctx.normalized
        for pii, score, pattern in _REQUESTS:
            for m in pattern.finditer(text):
                s, e = self._span(ctx, m.start(), m.end())
                yield PiiMatch(pii, s, e, score, "request", f"asks {m.group(0)!r}", True)

    def _emails(self, ctx: TextContext) -> Iterator[PiiMatch]:
        for m in _EMAIL.finditer(ctx.raw):
            yield PiiMatch(PiiType.EMAIL, m.start(), m.end(), 0.95, "email", "address pattern")
        for m in _EMAIL_SPOKEN.finditer(ctx.raw):
            yield PiiMatch(PiiType.EMAIL, m.start(), m.end(), 0.85, "email", "spelled-out address")

    def _phones(self, ctx: TextContext) -> Iterator[PiiMatch]:
        raw = ctx.raw
        for m in _PHONE_CAND.finditer(raw):
            cand = m.group(0).rstrip(" .-(\t")
            start, end = m.start(), m.start() + len(cand)
            digits = _NON_DIGIT.sub("", cand)
            if not 7 <= len(digits) <= 15 or _DATE_NUMERIC.fullmatch(cand.strip()):
                continue
            groups = _DIGITS.findall(cand)
            spaced = all(len(g) == 1 for g in groups)  # "0 7 7 0 0 9 0 0 1 2 3"
            if _NEGATIVE.search(cand) or (len(groups[-1]) < 2 and not spaced):
                continue  # a negative number, as in game coordinates
            if sum(1 for g in groups if len(g) == 1) >= 3 and not spaced:
                continue  # a list of small numbers ("10 9 8 7 6 ...")
            before, after = raw[max(0, start - 12) : start], raw[end : end + 12]
            if _MATH_NEAR.search(before[-4:]) or _MATH_NEAR.search(after[:4]):
                continue
            if _NOT_PHONE_BEFORE.search(before):
                continue
            context = _PHONE_CUE.search(raw[max(0, start - 40) : start]) is not None
            valid_in, possible = self._validate(cand)
            if valid_in is not None:
                score = 0.95 if context else 0.85
                yield PiiMatch(PiiType.PHONE, start, end, score, "phone", f"valid number ({valid_in})")
            elif context and (possible or len(digits) >= 9):
                yield PiiMatch(PiiType.PHONE, start, end, 0.7, "phone", "number-shaped digits after a phone cue")

    def _validate(self, cand: str) -> tuple[str | None, bool]:
        """(region where ``cand`` is a valid number or None, whether it is at least a possible number)."""
        pn = self._pn
        result: tuple[str | None, bool] = (None, False)
        if cand.startswith(("+", "00")):
            try:
                num = pn.parse("+" + cand[2:] if cand.startswith("00") else cand, None)
                if pn.is_valid_number(num):
                    result = (pn.region_code_for_number(num) or "?", True)
                else:
                    result = (None, bool(pn.is_possible_number(num)))
            except pn.NumberParseException:
                pass
        else:
            possible = False
            for region in self._regions:
                try:
                    num = pn.parse(cand, region)
                except pn.NumberParseException:
                    continue
                # checking the one region is much cheaper than is_valid_number's search over all regions
                if pn.is_valid_number_for_region(num, region):
                    possible = True
                    result = (region, True)
                    break
                possible = possible or bool(pn.is_possible_number(num))
            else:
                result = (None, possible)
        return result

    def _coordinates(self, ctx: TextContext) -> Iterator[PiiMatch]:
        for m in _COORDS.finditer(ctx.raw):
            nums = [float(x) for x in re.findall(r"-?\d+\.\d+", m.group(0))]
            if len(nums) == 2 and abs(nums[0]) <= 90 and abs(nums[1]) <= 180:
                yield PiiMatch(PiiType.COORDINATES, m.start(), m.end(), 0.9, "coordinates", "latitude, longitude")
        for m in _COORDS_DMS.finditer(ctx.raw):
            yield PiiMatch(PiiType.COORDINATES, m.start(), m.end(), 0.9, "coordinates", "degrees-minutes")
        for m in _MAP_LINK.finditer(ctx.raw):
            yield PiiMatch(PiiType.LOCATION, m.start(), m.end(), 0.9, "coordinates", "map link or what3words")

    def _handles(self, ctx: TextContext) -> Iterator[PiiMatch]:
        text = ctx.normalized
        taken: list[tuple[int, int]] = []
        for m in _HANDLE_CUE.finditer(text):
            val = self._raw_value(ctx, m.end(), _HANDLE_VALUE)
            if val is None:
                continue
            s, e = val
            word = ctx.raw[s:e].lower().lstrip("@")
            if word in _STOP or not word or word in _PLATFORM_WORDS:
                continue
            taken.append((s, e))
            yield PiiMatch(PiiType.HANDLE, s, e, 0.9, "handle", f"after {m.group(0).strip()!r}")
        platform_near = _HANDLE_WHOLE.search(text) is not None
        for m in _AT_HANDLE.finditer(ctx.raw):
            if any(a <= m.start() < b for a, b in taken) or m.group(0).lower() in ("@everyone", "@here", "@all"):
                continue
            if _EMAIL.match(ctx.raw, max(0, m.start() - 64)) and "@" in ctx.raw[max(0, m.start() - 1) : m.start()]:
                continue
            score = 0.85 if platform_near else 0.45
            yield PiiMatch(PiiType.HANDLE, m.start(), m.end(), score, "handle", "@handle")

    def _names(self, ctx: TextContext) -> Iterator[PiiMatch]:
        text = ctx.normalized
        for cue, score, strict in ((_NAME_CUE, 0.85, False), (_GREETING_NAME, 0.75, False), (_IM_NAME, 0.6, True)):
            for m in cue.finditer(text):
                capital = False
                if strict and m.end() < len(text):
                    raw_at = ctx.to_original(m.end(), m.end() + 1).start
                    capital = ctx.raw[raw_at : raw_at + 1].isupper()
                span = _name_tokens(text, m.end(), strict, max_words=2 if strict else 3, capitalised=capital)
                if span is None:
                    continue
                s, e, n = span
                if cue is _NAME_CUE and m.group(0).startswith(("call me", "you can call me")) and n > 2:
                    continue
                last = "last" in m.group(0) or "sur" in m.group(0)
                kind = PiiType.FULL_NAME if n >= 2 or last else PiiType.NAME
                rs, re_ = self._span(ctx, s, e)
                yield PiiMatch(kind, rs, re_, score, "name", f"after {m.group(0).strip()!r}")

    def _schools(self, ctx: TextContext) -> Iterator[PiiMatch]:
        text = ctx.normalized
        for m in _SCHOOL_SUFFIX_RE.finditer(text):
            suffix = m.group(0)
            if m.start() > 0 and text[m.start() - 1] in "_[":
                continue
            lo = max(0, m.start() - 60)
            tokens = list(_TOKEN.finditer(text, lo, m.start()))
            name: list[re.Match[str]] = []
            for w in reversed(tokens):
                tok = w.group(0)
                if not tok[0].isalpha() or tok in _STOP or tok in _SCHOOL_CUE_WORDS or _possessive(tok):
                    break
                if len(name) == 3:
                    break
                name.append(w)
            if not name:
                continue
            name_start = name[-1].start()
            cued = _SCHOOL_CUE.search(text[max(0, name_start - 30) : name_start]) is not None
            if suffix in ("middle", "high", "college", "secondary", "primary") and not cued:
                continue
            if not cued and re.search(_SKOOL + "$", suffix):
                # "high school football", "a fun school": without a cue, only capitalised name words count
                while name and not ctx.raw[ctx.to_original(name[-1].start(), name[-1].start() + 1).start].isupper():
                    name.pop()
                if not name:
                    continue
                name_start = name[-1].start()
            score = 0.9 if cued else 0.7
            s, e = self._span(ctx, name_start, m.end())
            rule = f"name + {suffix!r}" + (" after a cue" if cued else "")
            yield PiiMatch(PiiType.SCHOOL, s, e, score, "school", rule)
            yield from self._chained_location(ctx, m.end())
        for m in _SCHOOL_SAINT.finditer(text):
            s, e = self._span(ctx, m.start(1), m.end(1))
            yield PiiMatch(PiiType.SCHOOL, s, e, 0.85, "school", "saint's name after a school cue")
        for m in _SCHOOL_IS.finditer(text):
            span = _name_tokens(text, m.end(), strict=False, max_words=4)
            if span is not None:
                s, e = self._span(ctx, span[0], span[1])
                yield PiiMatch(PiiType.SCHOOL, s, e, 0.85, "school", "after 'my school is'")

    def _addresses(self, ctx: TextContext) -> Iterator[PiiMatch]:
        text = ctx.normalized
        for m in _ADDRESS_NUM.finditer(text):
            words = m.group(2).split()
            if any(w in _STOP or _possessive(w) for w in words):
                continue
            if m.group(1) in ("2", "4") and not re.fullmatch(_STRONG_STREET, m.group("suffix")):
                continue  # chat "2"/"4" for "to"/"for": "2 ne way", "4 lane roads"
            s, e = self._span(ctx, m.start(), m.end())
            yield PiiMatch(PiiType.ADDRESS, s, e, 0.9, "address", "house number + street")
            yield from self._chained_location(ctx, m.end())
        for m in _STREET.finditer(text):
            words = m.group(1).split()
            if not words or any(w in _STOP or _possessive(w) for w in words):
                continue
            s, e = self._span(ctx, m.start(1), m.end())
            yield PiiMatch(PiiType.STREET, s, e, 0.8, "address", "street name")
            yield from self._chained_location(ctx, m.end())
        for m in _ADDRESS_IS.finditer(text):
            stop = re.search(r"[.!?;]| and | but | its | it's | lol| btw", text[m.end() :])
            end = m.end() + (stop.start() if stop else len(text) - m.end())
            end = min(end, m.end() + 60)
            value = text[m.end() : end].split()
            content = [w for w in value if w not in _STOP]
            if value and value[0] not in _STOP and (any(c.isdigit() for c in "".join(value)) or len(content) >= 2):
                s, e = self._span(ctx, m.end(), end)
                yield PiiMatch(PiiType.ADDRESS, s, e, 0.85, "address", "after an address cue")
        for m in _POSTCODE_UK.finditer(ctx.raw):
            tok = m.group(0)
            if not any(c.isdigit() for c in tok[-3:]) or tok.lower() in ("mp3", "ps4", "ps5"):
                continue
            cued = re.search(r"post ?code|address|live", ctx.raw[max(0, m.start() - 40) : m.start()], re.I)
            near_address = re.search(rf"\b(?:{_STREET_SUFFIX})\b\.?,?\s*$", ctx.raw[: m.start()], re.I)
            if cued or near_address or " " in tok:
                yield PiiMatch(PiiType.POSTCODE, m.start(), m.end(), 0.85, "address", "uk postcode")
        for m in _ZIP.finditer(ctx.raw):
            yield PiiMatch(PiiType.POSTCODE, m.start(1), m.end(1), 0.85, "address", "zip code")

    def _chained_location(self, ctx: TextContext, end: int) -> Iterator[PiiMatch]:
        """"... in manchester" right after an address or place."""
        text = ctx.normalized
        m = _LOCATION_CHAIN.match(text, end)
        if m is None:
            return
        span = _name_tokens(text, m.end(), strict=False, max_words=3)
        if span is not None and not _NOT_PLACE.match(text, span[0]):
            s, e = self._span(ctx, span[0], span[1])
            yield PiiMatch(PiiType.LOCATION, s, e, 0.8, "location", "place after an address")

    def _locations(self, ctx: TextContext) -> Iterator[PiiMatch]:
        text = ctx.normalized
        for m in _LOCATION_CUE.finditer(text):
            span = _name_tokens(text, m.end(), strict=False, max_words=3)
            if span is None:
                continue
            s, e, _n = span
            if _NOT_PLACE.match(text, s):
                continue
            rs, re_ = self._span(ctx, s, e)
            yield PiiMatch(PiiType.LOCATION, rs, re_, 0.75, "location", f"after {m.group(0).strip()!r}")
            yield from self._chained_location(ctx, e)
        for m in _IM_IN.finditer(text):
            # "i'm in office / in the bus / in year 5" are not places: one name-like word, not a common noun
            span = _name_tokens(text, m.end(), strict=False, max_words=2)
            if span is None or _NOT_PLACE.match(text, span[0]) or text[span[0] : span[1]].split()[0] in _NOT_TOWN:
                continue
            rs, re_ = self._span(ctx, span[0], span[1])
            capital = ctx.raw[rs : rs + 1].isupper()
            yield PiiMatch(PiiType.LOCATION, rs, re_, 0.75 if capital else 0.55, "location", "after 'i'm in'")
        for m in _POSTCODE_CUE.finditer(text):
            val = self._raw_value(ctx, m.end(), _HANDLE_VALUE)
            if val is not None:
                yield PiiMatch(PiiType.POSTCODE, val[0], val[1], 0.85, "address", "after 'my postcode is'")

    def _birth(self, ctx: TextContext) -> Iterator[PiiMatch]:
        raw = ctx.raw
        if _BIRTH_CUE.search(raw) is None:
            return
        for pattern in (_DATE_NUMERIC, _DATE_WORDS):
            for m in pattern.finditer(raw):
                if _BIRTH_CUE.search(raw[max(0, m.start() - 40) : m.start()]):
                    yield PiiMatch(PiiType.DATE_OF_BIRTH, m.start(), m.end(), 0.85, "birth", "date after a birth cue")
        for m in _BIRTH_YEAR.finditer(raw):
            yield PiiMatch(PiiType.DATE_OF_BIRTH, m.start(1), m.end(1), 0.7, "birth", "year of birth")

    def _ages(self, ctx: TextContext) -> Iterator[PiiMatch]:
        text = ctx.normalized
        for pattern in (_AGE_IM, _AGE_TURN):
            for m in pattern.finditer(text):
                s, e = self._span(ctx, m.start(1), m.end(1))
                yield PiiMatch(PiiType.AGE, s, e, 0.8, "age", "first-person age statement")
        for m in _AGE_YEARS_OLD.finditer(text):
            if _AGE_SUBJ_BEFORE.search(text[max(0, m.start() - 20) : m.start()]):
                s, e = self._span(ctx, m.start(1), m.end(1))
                yield PiiMatch(PiiType.AGE, s, e, 0.8, "age", "'N years old' about oneself")

    def _photos(self, ctx: TextContext) -> Iterator[PiiMatch]:
        text = ctx.normalized
        for m in _PHOTO_ASK.finditer(text):
            what = m.group("what")
            if what is not None and m.group("of") is not None:
                if not _PHOTO_SELF_OBJ.match(m.group("obj") or ""):
                    continue
            elif what is not None and what not in ("face", "body", "selfie", "selfies"):
                # "send me a picture" with no object is a request for the child's photo only from others
                after = text[m.end() : m.end() + 12]
                if re.match(r"\s*(?:of|for|to|from|with|about)\b", after):
                    continue
            s, e = self._span(ctx, m.start(), m.end())
            yield PiiMatch(PiiType.PHOTO_REQUEST, s, e, REQUEST_SCORE, "photo", "asks for a photo or video", True)
        if ctx.role is Role.CHILD:
            for m in _PHOTO_CHILD.finditer(text):
                s, e = self._span(ctx, m.start(), m.end())
                yield PiiMatch(PiiType.PHOTO_REQUEST, s, e, 0.6, "photo", "offers a photo of themself")


_TOKEN = re.compile(r"[a-z][a-z'.]*|[^\sa-z]")
_HANDLE_VALUE = re.compile(r"[\s:=\-\"'“”]*([@]?[\w][\w.#@\-]{1,39}(?: \d{2,4}\b)?)", re.UNICODE)
_PLATFORM_WORDS = frozenset(_PLATFORMS.split("|")) | frozenset(_HANDLE_NOUNS.split("|"))
_SCHOOL_CUE_WORDS = frozenset(
    "go goto to at attend attends from in student pupil teacher teachers year grade is are was called named my "
    "the a our their his her your this that".split()
)


_ALPHA_WORD = re.compile(r"[a-z][a-z'-]*")

def _identity_terms() -> frozenset[str]:
    raw = resources.files("childsafe.detectors").joinpath("data/identity_terms.txt").read_text(encoding="utf-8")
    return frozenset(w.strip() for w in raw.splitlines() if w.strip() and not w.startswith("#"))


IDENTITY_TERMS = _identity_terms()
"""Identity descriptors ("I'm Black and ..."): statements of who a child is, never names."""

_STRICT_STOP = frozenset(
    """new fine here ready back well alright awesome glad excited honest jealous curious impressed surprised shocked
    afraid aware sorry sure certain pretty quite kind sort huge big fan member part one both real nt not outside
    inside waiting coming""".split()
)


_NOT_TOWN = frozenset(
    """office bus car train taxi cab plane class room bedroom kitchen bathroom shower bath bed hospital queue line
    meeting lesson lessons town city need love pain trouble charge shock tears bits heaven hell luck front middle
    touch public private space goal year grade form reception detention isolation lockdown""".split()
)
_OWNERS = frozenset("son daughter kid child town city country state team friend cousin neighbour neighbor".split())


def _possessive(tok: str) -> bool:
    """"my son's", "the town's": a possessive of a common noun, not part of a school's name."""
    return tok.endswith("'s") and (tok[:-2] in _STOP or tok[:-2] in _OWNERS)


def _name_tokens(
    text: str, pos: int, strict: bool, max_words: int = 3, capitalised: bool = False
) -> tuple[int, int, int] | None:
    """Name-like words at ``pos`` of the normalised text: (start, end, word count) or None."""
    words = list(re.finditer(r"[a-z][a-z'-]*(?![a-z0-9'-])|[^\s,.!?;:]+|\S", text[pos : pos + 80]))
    taken: list[re.Match[str]] = []
    for w in words:
        tok = w.group(0)
        if not _ALPHA_WORD.fullmatch(tok) or tok in _STOP or tok in _AGE_WORDS or len(taken) == max_words:
            break
        if strict and (
            tok in _STRICT_STOP or tok in IDENTITY_TERMS or (tok.endswith(("ing", "ed", "ly")) and len(tok) > 4)
        ):
            break
        taken.append(w)
    if not taken:
        return None
    if strict:
        nxt = words[len(taken)].group(0) if len(taken) < len(words) else ""
        if nxt not in ("and", "btw", "from", "here", "lol", "&", "im", "i'm", "i", "x") and not (
            capitalised and nxt in ("", ",", ".", "!", "?")
        ):
            return None
    return pos + taken[0].start(), pos + taken[-1].end(), len(taken)


def _rescore(m: PiiMatch, score: float, why: str) -> PiiMatch:
    return PiiMatch(m.type, m.start, m.end, score, m.recognizer, f"{m.rule} ({why})", m.request)


def _inside_placeholder(raw: str, start: int, end: int) -> bool:
    """True when the match sits inside a placeholder such as ``[CHILD_SCHOOL_1]`` left by redaction."""
    for p in _PLACEHOLDER.finditer(raw, max(0, start - 40), min(len(raw), end + 40)):
        if p.start() <= start and end <= p.end():
            return True
    return False
