from __future__ import annotations

from collections.abc import Callable

import pytest

from childsafe.conversation import ConversationTracker
from childsafe.detectors.grooming import GroomingStageDetector
from childsafe.text import TextContext
from childsafe.types import Role

Script = list[tuple[str, str]]


@pytest.fixture(scope="session")
def detector() -> GroomingStageDetector:
    return GroomingStageDetector()


@pytest.fixture
def run(detector: GroomingStageDetector) -> Callable[[Script], ConversationTracker]:
    """Stream a (role, text) script through the stage detector and a fresh tracker."""

    def _run(script: Script, tracker: ConversationTracker | None = None, start: int = 0) -> ConversationTracker:
        tr = tracker or ConversationTracker()
        for i, (role, text) in enumerate(script, start=start):
            ctx = TextContext.from_text(text, role=Role.parse(role), index=i)
            tr.add(ctx, detector.detect(ctx))
        return tr

    return _run


# Non-graphic, described by intent: an adult builds trust, probes age and parents, asks for secrecy,
# moves the chat off-platform and asks for a photo.
GROOMING: Script = [
    ("contact", "hey saw ur profile u seem really cool"),
    ("child", "thanks"),
    ("contact", "how old r u"),
    ("child", "12"),
    ("contact", "ur so mature for ur age"),
    ("contact", "r ur parents home?"),
    ("child", "no my mum is at work"),
    ("contact", "dont tell ur mom we talk ok its our secret"),
    ("contact", "add me on snap its more private"),
    ("contact", "send me a pic of u just for me"),
]

KIDS: Script = [
    ("contact", "how old are you"),
    ("child", "11 wbu"),
    ("contact", "same!! what school do u go to"),
    ("child", "st marys"),
    ("contact", "do u play roblox"),
    ("child", "yeah"),
    ("contact", "add me on discord we can play with leo"),
    ("child", "ok"),
    ("contact", "send me a pic of ur new puppy"),
    ("child", "here he is"),
    ("contact", "omg so cute lets meet at the park saturday my mum can take us"),
]

TUTOR: Script = [
    ("contact", "Hi! Before we start, what grade are you in?"),
    ("child", "6th grade"),
    ("contact", "Great. Can you send me a picture of your worksheet?"),
    ("child", "ok sent"),
    ("contact", "Thanks. What is 3/4 plus 1/8?"),
    ("child", "7/8"),
    ("contact", "Exactly right, well done! Ask your mum to check your homework."),
]


@pytest.fixture
def grooming_script() -> Script:
    return list(GROOMING)


@pytest.fixture
def safe_scripts() -> dict[str, Script]:
    return {"kids": list(KIDS), "tutor": list(TUTOR)}
