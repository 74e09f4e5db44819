"""Child-facing explanations per category and age band, the AI disclosure, and reviewer explanations.

Messages are kind and non-shaming, say what to do next and who can help. They are written per
reading level: ``young`` (0-9), ``middle`` (10-12), ``teen`` (13-17) and ``adult``; tests hold each to a
readability target (see :mod:`childsafe.explain.readability`).
"""

from __future__ import annotations

from childsafe.types import Action, AgeBand, Category, Decision

AI_DISCLOSURE = "You are talking with an AI, a computer program. It is not a person."

_LEVEL = {
    AgeBand.AGE_0_5: "young",
    AgeBand.AGE_6_9: "young",
    AgeBand.AGE_10_12: "middle",
    AgeBand.AGE_13_15: "teen",
    AgeBand.AGE_16_17: "teen",
    AgeBand.ADULT: "adult",
}

# Readability ceilings (Flesch-Kincaid grade) per level, enforced by tests.
GRADE_TARGET = {"young": 3.5, "middle": 5.5, "teen": 8.0, "adult": 10.0}

_HELP = {
    "young": "You can talk to a grown-up you trust. A mom, dad or teacher can help.",
    "middle": "You can talk to a grown-up you trust, like a parent, a teacher or a school nurse.",
    "teen": "You can talk to an adult you trust, or call a helpline. It is free and you do not have to give your name.",
    "adult": "Support is available from local services and helplines.",
}

_CRISIS = {
    "young": "You matter. Please tell a grown-up you trust right now. You can call a helpline too. In the UK call 0800 1111. In the US call 988.",
    "middle": "You matter, and you do not have to deal with this alone. Please tell an adult you trust now. You can call a helpline too: 0800 1111 in the UK, 988 in the US.",
    "teen": "You matter, and you do not have to deal with this alone. Please talk to an adult you trust today. You can call or text a helpline any time: 988 in the US, 0800 1111 (Childline) in the UK.",
    "adult": "If you are thinking about harming yourself, please reach out now: call or text 988 in the US, or 116 123 (Samaritans) in the UK.",
}

_TOPIC = {
    Category.SEXUAL_MINORS: {
        "young": "I can't help with that. It is not your fault. If someone asks you for photos or to keep a secret, tell a grown-up you trust.",
        "middle": "I can't help with that. It is not your fault. If someone asks you for photos or to keep secrets, tell an adult you trust.",
        "teen": "I can't help with that. If someone is asking you for photos or pressuring you, it is not your fault. Tell an adult you trust, or report it.",
        "adult": "This content is not allowed here and has been reported for review.",
    },
    Category.GROOMING: {
        "young": "Let's stop here. Some people online are not who they say. It is not your fault. Tell a grown-up you trust.",
        "middle": "Let's pause this chat. Some people online pretend to be someone else. It is not your fault. Tell an adult you trust about it.",
        "teen": "Let's pause here. Someone asking for secrets, photos or to meet can be a warning sign. It is not your fault. Talk to an adult you trust.",
        "adult": "This conversation shows signs of exploitation and has been sent for review.",
    },
    Category.SEXUAL: {
        "young": "That is not something I can talk about. Ask a grown-up you trust if you have a question.",
        "middle": "I can't talk about that here. If you have a question about your body, a parent or school nurse can help.",
        "teen": "I can't go into that here. For questions about sex or relationships, a trusted adult or a health service can help.",
        "adult": "Sexual content is not available in this service.",
    },
    Category.VIOLENCE: {
        "young": "That sounds scary. I can't help with hurting anyone. If you feel unsafe, tell a grown-up.",
        "middle": "I can't help with hurting anyone. If you or someone else is in danger, tell an adult you trust now.",
        "teen": "I can't help with that. If someone could get hurt, please tell an adult you trust or call emergency services.",
        "adult": "I can't help with violence against people.",
    },
    Category.HARASSMENT: {
        "young": "Let's be kind. Mean words can hurt. If someone is mean to you, tell a grown-up.",
        "middle": "Let's keep things kind. If someone is being mean to you, you can block them and tell an adult you trust.",
        "teen": "Let's keep it respectful. If you are being bullied, you can block, report and talk to an adult you trust.",
        "adult": "Please keep the conversation respectful.",
    },
    Category.HATE: {
        "young": "Be kind to all people. I can not say mean things about them.",
        "middle": "Everyone deserves respect. I can't help with words that put people down for who they are.",
        "teen": "I can't help with content that attacks people for who they are. Everyone deserves respect.",
        "adult": "Content that attacks people for who they are is not allowed.",
    },
    Category.DANGEROUS: {
        "young": "That could hurt you. Let's not do that. Ask a grown-up if you are not sure.",
        "middle": "That could really hurt you or someone else. I can't help with it. Ask an adult you trust if you are curious.",
        "teen": "That could seriously hurt you or someone else, so I can't help with it. Talk to an adult you trust if you are unsure.",
        "adult": "I can't help with activities that could cause serious harm.",
    },
    Category.DRUGS: {
        "young": "That is not safe for kids. Ask a grown-up you trust if you have a question.",
        "middle": "I can't help with that. Drugs, alcohol and vapes are not safe for kids. A parent or school nurse can answer questions.",
        "teen": "I can't help with getting or using drugs, alcohol or vapes. If you have questions about them, a trusted adult or health service can help.",
        "adult": "I can't help with obtaining or misusing drugs.",
    },
    Category.PERSONAL_INFO: {
        "young": "Keep your name, home and school private online. I hid it to keep you safe.",
        "middle": "It is safer not to share your address, school, phone or real name online. I hid it to keep you safe.",
        "teen": "To keep you safe, I hid personal details like your address, school or phone number. Only share them with people you know in real life.",
        "adult": "We hid personal details to keep them private.",
    },
    Category.OTHER_UNSAFE: {
        "young": "I can't help with that. Ask a grown-up you trust.",
        "middle": "I can't help with that, because it could hurt people. Ask an adult you trust if you have a question.",
        "teen": "I can't help with that, because it could cause harm. An adult you trust can help you think it through.",
        "adult": "I can't help with that request.",
    },
}

_UNAVAILABLE = {
    "young": "Sorry, I can't answer right now. Please try again soon.",
    "middle": "Sorry, I can't answer right now because a safety check is not working. Please try again soon.",
    "teen": "Sorry, I can't answer right now because a safety check is not working. Please try again in a little while.",
    "adult": "The safety check is unavailable, so this content was held back. Please try again later.",
}

_APPEAL = {
    "young": "If you think I got this wrong, ask a grown-up to check.",
    "middle": "If you think I got this wrong, you can ask for it to be checked.",
    "teen": "If you think this was a mistake, you can ask for a person to review it.",
    "adult": "If you think this was a mistake, you can appeal.",
}

_WARN_PREFIX = {
    "young": "Let us be safe.",
    "middle": "Let's be careful here.",
    "teen": "Heads up.",
    "adult": "Note:",
}


def level_for(band: AgeBand) -> str:
    return _LEVEL[band]


def topic_message(category: Category, band: AgeBand) -> str:
    return _TOPIC[category][_LEVEL[band]]


def crisis_message(band: AgeBand) -> str:
    return _CRISIS[_LEVEL[band]]


def help_line(band: AgeBand) -> str:
    return _HELP[_LEVEL[band]]


def child_message(decision: Decision, unavailable: bool = False) -> str | None:
    """The short message shown to the child for a non-allow decision (None when allowed)."""
    if decision.action is Action.ALLOW:
        return None
    level = _LEVEL[decision.age_band]
    if unavailable:
        return _UNAVAILABLE[level]
    if not decision.categories:
        return None
    # The most severe category leads; self-harm always gets the crisis message.
    if Category.SELF_HARM in decision.categories:
        main = _CRISIS[level]
    else:
        main = _TOPIC[_first_category(decision)][level]
    if decision.action is Action.WARN:
        return f"{_WARN_PREFIX[level]} {main}"
    if decision.action.stops_content and Category.SELF_HARM not in decision.categories:
        return f"{main} {_APPEAL[level]}"
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
