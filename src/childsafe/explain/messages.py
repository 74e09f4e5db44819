"""Child-facing explanations per category, age band and language, the AI disclosure, and reviewer explanations.

Messages are kind and non-shaming, say what to do next and who can help. They are written per
reading level: ``young`` (0-9), ``middle`` (10-12), ``teen`` (13-17) and ``adult``, and per language in
``explain/data/messages/<language>.yaml`` (English plus the ten languages of docs/languages.md, written by
native-speaking writers, not machine-translated). Tests hold the English ones to a readability target (see
:mod:`childsafe.explain.readability`) and every language to the same keys and shorter-than-English bounds.

The crisis message names helplines for a country: ``helplines_for`` picks them from the deployment's
``country`` (or, without one, from the message's language) and the operator's ``helplines`` override the
shipped entries. Where no country is known the message points to findahelpline.com, which lists free helplines
for every country.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache, lru_cache
from importlib import resources
from typing import Any

import yaml

from childsafe.types import Action, AgeBand, Category, Decision

LANGUAGES = ("en", "es", "fr", "de", "pt", "it", "ar", "hi", "zh", "ru", "tr")

HELPLINES: dict[str, tuple[str, ...]] = {
    "GB": ("0800 1111 (Childline UK)",),
    "US": ("988 (US)",),
    "IE": ("1800 66 66 66 (Childline Ireland)",),
    "DE": ("116 111 (Nummer gegen Kummer)",),
    "AT": ("147 (Rat auf Draht)",),
    "FR": ("119", "3114"),
    "ES": ("900 20 20 10 (ANAR)", "024"),
    "IT": ("19696 (Telefono Azzurro)",),
    "PT": ("116 111 (SOS Criança)",),
    "BR": ("188 (CVV)",),
    "IN": ("1098 (Childline India)",),
    "RU": ("8-800-2000-122",),
    "TR": ("183",),
}
"""Free helplines for children and young people by ISO 3166 country code, as shown in the crisis message. An
operator's ``helplines`` setting replaces a country's entry; check the numbers for your country before launch."""

DEFAULT_COUNTRIES: dict[str, tuple[str, ...]] = {
    "en": ("GB", "US"), "es": ("ES",), "fr": ("FR",), "de": ("DE",), "pt": ("BR", "PT"), "it": ("IT",),
    "hi": ("IN",), "ru": ("RU",), "tr": ("TR",), "ar": (), "zh": (),
}
"""Whose helplines a message in each language names when the deployment sets no ``country``."""

FALLBACK_HELPLINE = "findahelpline.com"

_LEVEL = {
    AgeBand.AGE_0_5: "young",
    AgeBand.AGE_6_9: "young",
    AgeBand.AGE_10_12: "middle",
    AgeBand.AGE_13_15: "teen",
    AgeBand.AGE_16_17: "teen",
    AgeBand.ADULT: "adult",
}

# Readability ceilings (Flesch-Kincaid grade) per level, enforced by tests (English).
GRADE_TARGET = {"young": 3.5, "middle": 5.5, "teen": 8.0, "adult": 10.0}


@cache
def messages(language: str) -> dict[str, Any]:
    """The message set of ``language`` (English for a language without one)."""
    code = language if language in LANGUAGES else "en"
    res = resources.files("childsafe.explain") / "data" / "messages" / f"{code}.yaml"
    if not res.is_file():
        code = "en"
        res = resources.files("childsafe.explain") / "data" / "messages" / "en.yaml"
    data: dict[str, Any] = yaml.safe_load(res.read_text(encoding="utf-8"))
    return data


@lru_cache(maxsize=1)
def available_languages() -> tuple[str, ...]:
    """The languages with a message set shipped."""
    root = resources.files("childsafe.explain") / "data" / "messages"
    return tuple(code for code in LANGUAGES if (root / f"{code}.yaml").is_file())


def helplines_for(
    language: str = "en", country: str | None = None, overrides: Mapping[str, Sequence[str]] | None = None
) -> str:
    """The helplines the crisis message names, joined for display."""
    table: dict[str, tuple[str, ...]] = {**HELPLINES, **{k: tuple(v) for k, v in (overrides or {}).items()}}
    countries = (country,) if country else DEFAULT_COUNTRIES.get(language, ())
    lines = [line for c in countries for line in table.get(c, ())]
    return ", ".join(lines) if lines else FALLBACK_HELPLINE


def _en(key: str) -> dict[str, str]:
    return dict(messages("en")[key])


AI_DISCLOSURE: str = messages("en")["ai_disclosure"]
_HELP = _en("help")
_CRISIS = {level: text.replace("{helplines}", helplines_for("en")) for level, text in _en("crisis").items()}
_TOPIC = {Category(k): dict(v) for k, v in messages("en")["topic"].items()}
_UNAVAILABLE = _en("unavailable")
_APPEAL = _en("appeal")
_WARN_PREFIX = _en("warn_prefix")


def ai_disclosure(language: str = "en") -> str:
    return str(messages(language)["ai_disclosure"])


def level_for(band: AgeBand) -> str:
    return _LEVEL[band]


def topic_message(category: Category, band: AgeBand, language: str = "en") -> str:
    return str(messages(language)["topic"][category.value][_LEVEL[band]])


def crisis_message(
    band: AgeBand, language: str = "en", country: str | None = None,
    helplines: Mapping[str, Sequence[str]] | None = None,
) -> str:
    text = str(messages(language)["crisis"][_LEVEL[band]])
    return text.replace("{helplines}", helplines_for(language, country, helplines))


def help_line(band: AgeBand, language: str = "en") -> str:
    return str(messages(language)["help"][_LEVEL[band]])


def child_message(
    decision: Decision,
    unavailable: bool = False,
    language: str = "en",
    country: str | None = None,
    helplines: Mapping[str, Sequence[str]] | None = None,
) -> str | None:
    """The short message shown to the child for a non-allow decision (None when allowed), in ``language``."""
    if decision.action is Action.ALLOW:
        return None
    level = _LEVEL[decision.age_band]
    m = messages(language)
    if unavailable:
        return str(m["unavailable"][level])
    if not decision.categories:
        return None
    # The most severe category leads; self-harm always gets the crisis message.
    if Category.SELF_HARM in decision.categories:
        main = crisis_message(decision.age_band, language, country, helplines)
    else:
        main = str(m["topic"][_first_category(decision).value][level])
    if decision.action is Action.WARN:
        return f"{m['warn_prefix'][level]} {main}"
    if decision.action.stops_content and Category.SELF_HARM not in decision.categories:
        return f"{main} {m['appeal'][level]}"
    return main


_SEVERITY_ORDER = [
    Category.SEXUAL_MINORS,
    Category.GROOMING,
    Category.SELF_HARM,
    Category.SEXUAL,
    Category.VIOLENCE,
    Category.DANGEROUS,
    Category.HATE,
    Category.HARASSMENT,
    Category.DRUGS,
    Category.OTHER_UNSAFE,
    Category.PERSONAL_INFO,
]


def _first_category(decision: Decision) -> Category:
    for c in _SEVERITY_ORDER:
        if c in decision.categories:
            return c
    return decision.categories[0]


def reviewer_explanation(decision: Decision, text: str | None = None) -> str:
    """Which detector found what, where, and which rule decided. For guardians and reviewers."""
    parts = [f"action={decision.action.value} (policy {decision.policy_version}, band {decision.age_band.value}, "
             f"role {decision.role.value})"]
    if decision.rules:
        parts.append("rules: " + ", ".join(decision.rules))
    flagged = set(decision.categories)
    for d in sorted(decision.detections, key=lambda d: -d.score):
        if d.category not in flagged and d.score < 0.3:
            continue
        where = ""
        if d.span is not None:
            where = f" at {d.span.start}-{d.span.end}"
            if text is not None:
                excerpt = text[d.span.start : d.span.end]
                if len(excerpt) > 40:
                    excerpt = excerpt[:37] + "..."
                where += f" {excerpt!r}"
        sig = f" [{d.signal}]" if d.signal else ""
        parts.append(f"{d.detector}@{d.detector_version}: {d.category.value} {d.score:.2f}{sig}{where} ({d.evidence})")
    for r in decision.reasons:
        if r.startswith("safety check unavailable"):
            parts.append(r)
    return "; ".join(parts)
