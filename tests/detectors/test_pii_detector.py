"""personal_info detector: examples, roles, spans into the original text, odd Unicode, engine integration."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from childsafe.detectors.base import DetectorUnavailable
from childsafe.detectors.lexicon import LexiconDetector
from childsafe.detectors.personal_info import GROUPS, PersonalInfoConfig, PersonalInfoDetector, PiiType
from childsafe.engine import Engine
from childsafe.testing import check_detector
from childsafe.text.context import TextContext
from childsafe.types import Action, Category, Role

DATA = Path(__file__).resolve().parents[2] / "data" / "pii"


@pytest.fixture(scope="module")
def det() -> PersonalInfoDetector:
    d = PersonalInfoDetector()
    d.load()
    return d


def found(det: PersonalInfoDetector, text: str, role: Role = Role.CHILD) -> dict[str, tuple[str, float]]:
    """signal -> (original text under the span, score) for detections at the policy threshold."""
    out: dict[str, tuple[str, float]] = {}
    for d in det.detect(TextContext.from_text(text, role)):
        assert d.category is Category.PERSONAL_INFO and d.span is not None and d.signal is not None
        assert d.detector == "personal_info" and d.evidence
        if d.score >= 0.5:
            out[d.signal] = (text[d.span.start : d.span.end], d.score)
    return out


@pytest.mark.parametrize(
    ("text", "signal", "value"),
    [
        ("i go to lincoln elementary and its fun", "school", "lincoln elementary"),
        ("my snap is lilz_2013", "handle", "lilz_2013"),
        ("my number is 07700 900123", "phone", "07700 900123"),
        ("call me on +1 (415) 555-2671", "phone", "+1 (415) 555-2671"),
        ("whatsapp +91 98765 43210", "phone", "+91 98765 43210"),
        ("email me jake.smith2012@gmail.com", "email", "jake.smith2012@gmail.com"),
        ("i live at 42 maple street", "address", "42 maple street"),
        ("we are at 51.5072, -0.1276", "coordinates", "51.5072, -0.1276"),
        ("my name is emma johnson", "full_name", "emma johnson"),
        ("im 11 years old", "age", "11"),
        ("i was born on 14/02/2014", "date_of_birth", "14/02/2014"),
        ("my discord is shadow#4821", "handle", "shadow#4821"),
        ("MY NAME IS EMMA JOHNSON", "full_name", "EMMA JOHNSON"),
        ("i go to lincon elementry", "school", "lincon elementry"),
        ("my number is 0 7 7 0 0 9 0 0 1 2 3", "phone", "0 7 7 0 0 9 0 0 1 2 3"),
        ("jake (at) gmail (dot) com", "email", "jake (at) gmail (dot) com"),
    ],
)
def test_child_disclosures_are_found_with_exact_spans(
    det: PersonalInfoDetector, text: str, signal: str, value: str
) -> None:
    got = found(det, text)
    assert signal in got, got
    assert got[signal][0] == value


@pytest.mark.parametrize(
    "text",
    [
        "i go to bed at 8",
        "my favourite number is 7",
        "the year 1984 was a good book",
        "call me maybe",
        "lincoln was a president",
        "what is 245 x 36",
        "1, 2, 3, 4, 5, 6, 7, 8, 9, 10",
        "my dog is 3 years old",
        "my school is so boring",
        "my minecraft base is at 120 64 -300",
        "can you send me a picture of a cat",
        "my snapchat is broken",
        "count 10 9 8 7 6 5 4 3 2 1",
        "i'm in office now",
        "call me once you are free",
        "on my way 2 walk home",
        "high school football is fun",
    ],
)
def test_hard_negatives_are_not_flagged(det: PersonalInfoDetector, text: str) -> None:
    assert found(det, text) == {}


@pytest.mark.parametrize(
    ("text", "signal"),
    [
        ("what school do you go to?", "school"),
        ("where do u live", "location"),
        ("send me a pic of u", "photo_request"),
        ("whats ur number", "phone"),
        ("how old r u", "age"),
        ("what is your full name", "full_name"),
        ("wat skool u go 2", "school"),
        ("wer do u liv", "location"),
        ("whats ur fone number", "phone"),
        ("u got snap?", "handle"),
        ("send nudes", "photo_request"),
    ],
)
def test_requests_score_by_role(det: PersonalInfoDetector, text: str, signal: str) -> None:
    for role in (Role.ASSISTANT, Role.CONTACT):
        got = found(det, text, role)
        assert signal in got and got[signal][1] >= 0.85, (role, got)
    # the child asking the assistant the same question is not a disclosure
    assert found(det, text, Role.CHILD) == {}


def test_assistant_helpline_is_allowed_but_a_contact_sharing_a_number_is_not(det: PersonalInfoDetector) -> None:
    assert found(det, "call childline free on 0800 1111", Role.ASSISTANT) == {}
    got = found(det, "text me on 07911 123456 dont tell ur mum", Role.CONTACT)
    assert got["phone"][0] == "07911 123456" and got["phone"][1] >= 0.7


def test_spans_point_into_the_original_text_after_normalisation(det: PersonalInfoDetector) -> None:
    # zero-width characters, full-width digits and abbreviations shift normalised offsets
    text = "ｈｉ\u200b!! i go 2 ROOSEVELT Elementary School, my snap is Big_Bro\u200b99"
    got = found(det, text)
    assert got["school"][0] == "ROOSEVELT Elementary School"
    assert got["handle"][0].startswith("Big_Bro")


def test_overlapping_matches_resolve_to_one(det: PersonalInfoDetector) -> None:
    dets = det.detect(TextContext.from_text("i live at 17 baker st nw1 6xe"))
    spans = sorted((d.span.start, d.span.end) for d in dets if d.span is not None)
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))
    assert {d.signal for d in dets} == {"address", "postcode"}


def test_placeholders_are_not_detected_again(det: PersonalInfoDetector) -> None:
    assert found(det, "i go to [CHILD_SCHOOL_1] and my number is [CHILD_PHONE_1]") == {}


def test_unknown_region_fails_to_load_clearly() -> None:
    d = PersonalInfoDetector(PersonalInfoConfig(regions=["GB", "ZZ"]))
    with pytest.raises(DetectorUnavailable, match="ZZ"):
        d.load()


def test_every_gold_type_has_a_group() -> None:
    for split in ("dev", "test", "fresh"):
        for line in (DATA / f"{split}.jsonl").read_text(encoding="utf-8").splitlines():
            rec = json.loads(line)
            for ent in rec["entities"]:
                assert rec["text"][ent["start"] : ent["end"]] == ent["text"]
                assert PiiType(ent["type"]) in GROUPS


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=200))
def test_no_crash_and_spans_in_range_on_any_unicode(text: str) -> None:
    d = PersonalInfoDetector()
    for role in (Role.CHILD, Role.CONTACT):
        for det_ in d.detect(TextContext.from_text(text, role)):
            assert det_.span is not None
            assert 0 <= det_.span.start <= det_.span.end <= len(text)


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(["07700 900123", "+44 7700 900456", "(415) 555-2671"]),
    st.text(alphabet=" \u200b\u00a0\ufeff", max_size=3),
)
def test_phone_survives_invisible_padding(phone: str, pad: str) -> None:
    text = f"my number is{pad} {phone}{pad} ok"
    got = found(PersonalInfoDetector(), text)
    assert got["phone"][0] == phone


def test_engine_redacts_a_childs_number() -> None:
    engine = Engine(detectors=[LexiconDetector(), PersonalInfoDetector()])
    decision = engine.check("my number is 07700 900123", age=11)
    assert decision.action is Action.REDACT
    assert decision.redacted_text is not None
    assert "07700" not in decision.redacted_text and "900123" not in decision.redacted_text
    assert any(d.detector == "personal_info" and d.signal == "phone" for d in decision.detections)


def test_engine_blocks_an_assistant_asking_for_the_school() -> None:
    engine = Engine(detectors=[PersonalInfoDetector()])
    decision = engine.check("Great! What school do you go to?", age=9, role="assistant")
    assert decision.action is Action.BLOCK
    assert decision.categories == [Category.PERSONAL_INFO]
    allowed = engine.check("What is your favourite school subject?", age=9, role="assistant")
    assert allowed.action is Action.ALLOW


def test_conforms_to_the_detector_contract() -> None:
    check_detector(PersonalInfoDetector)
    d = PersonalInfoDetector()
    assert not d.loaded  # construction does no work; loading is lazy
    d.detect(TextContext.from_text("hi"))
    assert d.loaded


def test_engine_blocks_a_contact_moving_a_child_off_platform() -> None:
    engine = Engine(detectors=[PersonalInfoDetector()])
    decision = engine.check("add me on snap its bigbro_mike", age=12, role="contact")
    assert decision.action is Action.BLOCK


def test_details_hidden_in_base64_are_found_on_the_encoded_stretch(det: PersonalInfoDetector) -> None:
    import base64

    blob = base64.b64encode(b"my phone number is 07700 900123 and i live at 14 Elm Close").decode()
    text = "decode this: " + blob
    found = det.detect(TextContext.from_text(text))
    assert found and all(d.category is Category.PERSONAL_INFO for d in found)
    assert {(d.span.start, d.span.end) for d in found if d.span} == {(text.index(blob), len(text))}
    assert all("decoded from base64" in d.evidence for d in found)
