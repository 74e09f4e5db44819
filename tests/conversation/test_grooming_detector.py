from __future__ import annotations

import pytest

from childsafe.detectors.grooming import GroomingStageDetector
from childsafe.text import TextContext
from childsafe.types import Category, Role


def _signals(det: GroomingStageDetector, text: str, role: Role = Role.CONTACT) -> dict[str, tuple[Category, float]]:
    out: dict[str, tuple[Category, float]] = {}
    for d in det.detect(TextContext.from_text(text, role=role)):
        assert d.signal is not None
        assert d.detector == "grooming_stages"
        prev = out.get(d.signal)
        if prev is None or d.score > prev[1]:
            out[d.signal] = (d.category, d.score)
    return out


@pytest.mark.parametrize(
    ("text", "stage"),
    [
        ("hey u there? how old r u", "age_probe"),
        ("asl?", "age_probe"),
        ("r ur parents home?", "circumstance_probe"),
        ("are you home alone rn", "circumstance_probe"),
        ("what school do u go to", "circumstance_probe"),
        ("dont tell ur mom about us", "secrecy"),
        ("this is our little secret", "secrecy"),
        ("delete this chat after ok", "secrecy"),
        ("ur parents dont understand u like i do", "isolation"),
        ("i can get u free robux", "gifts"),
        ("send me a pic of urself", "photo_request"),
        ("turn on ur cam", "photo_request"),
        ("add me on snap", "off_platform"),
        ("whats ur number", "off_platform"),
        ("wanna meet up irl? i can pick u up", "meeting"),
        ("ur so mature for ur age", "rapport"),
        ("have you ever kissed anyone", "desensitisation"),
    ],
)
def test_stage_signals_from_contact(detector: GroomingStageDetector, text: str, stage: str) -> None:
    found = _signals(detector, text)
    assert stage in found, found
    assert found[stage][0] in (Category.GROOMING, Category.SEXUAL_MINORS)


def test_ordinary_messages_have_no_stage(detector: GroomingStageDetector) -> None:
    for text in ("lol that game was sick", "i have 5 minutes", "what did you get on the test", "gg"):
        assert detector.detect(TextContext.from_text(text, role=Role.CONTACT)) == []


def test_sexualised_photo_request_is_sexual_minors(detector: GroomingStageDetector) -> None:
    dets = detector.detect(TextContext.from_text("send me a pic in ur underwear", role=Role.CONTACT))
    sm = [d for d in dets if d.category is Category.SEXUAL_MINORS]
    assert sm and max(d.score for d in sm) >= 0.85
    plain = detector.detect(TextContext.from_text("send me a pic of urself", role=Role.CONTACT))
    assert all(d.category is not Category.SEXUAL_MINORS for d in plain)


def test_photo_of_homework_is_downweighted(detector: GroomingStageDetector) -> None:
    homework = _signals(detector, "send me a picture of your homework")["photo_request"][1]
    selfie = _signals(detector, "send me a picture of yourself")["photo_request"][1]
    assert homework < selfie / 2


def test_role_changes_weight(detector: GroomingStageDetector) -> None:
    text = "how old are you? are your parents home?"
    contact = _signals(detector, text, Role.CONTACT)
    child = _signals(detector, text, Role.CHILD)
    assistant = _signals(detector, text, Role.ASSISTANT)
    assert child["age_probe"][1] < contact["age_probe"][1] < assistant["age_probe"][1]
    assert detector.detect(TextContext.from_text(text, role=Role.SYSTEM)) == []


@pytest.mark.parametrize(
    ("text", "stage"),
    [
        ("im 12", "child_disclosure_age"),
        ("i'm 11 years old", "child_disclosure_age"),
        ("im in 6th grade", "child_disclosure_age"),
        ("i live in leeds", "child_disclosure_location"),
        ("im home alone my mom is at work", "child_disclosure_alone"),
    ],
)
def test_child_disclosures_are_personal_info(detector: GroomingStageDetector, text: str, stage: str) -> None:
    found = _signals(detector, text, Role.CHILD)
    assert found[stage][0] is Category.PERSONAL_INFO
    # the same words from the contact are not the child's disclosure
    assert stage not in _signals(detector, text, Role.CONTACT)


def test_durations_are_not_ages(detector: GroomingStageDetector) -> None:
    assert "child_disclosure_age" not in _signals(detector, "im 5 minutes away", Role.CHILD)


def test_spans_point_into_original_text(detector: GroomingStageDetector) -> None:
    raw = "Hey!! r ur P4RENTS home??"
    d = next(x for x in detector.detect(TextContext.from_text(raw, role=Role.CONTACT)) if x.signal)
    assert d.span is not None
    assert "P4RENTS" in raw[d.span.start : d.span.end]


def test_detector_follows_the_plugin_contract() -> None:
    from childsafe.testing import check_detector

    check_detector(GroomingStageDetector)
