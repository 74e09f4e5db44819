"""personal_info recognizers: their data files, and the one recognizer the detector tests leave without a positive."""

from __future__ import annotations

import pytest

from childsafe.detectors.base import DetectorUnavailable
from childsafe.detectors.personal_info import PersonalInfoDetector
from childsafe.detectors.personal_info.base import RecognizerData
from childsafe.detectors.personal_info.requests import RequestRecognizer
from childsafe.text.context import TextContext


@pytest.fixture(scope="module")
def det() -> PersonalInfoDetector:
    d = PersonalInfoDetector()
    d.load()
    return d


def test_every_finding_has_a_score_and_a_rule(det: PersonalInfoDetector) -> None:
    for recognizer in det.recognizers:
        data = recognizer.data
        if isinstance(recognizer, RequestRecognizer):
            assert set(data.scores) == set(data.patterns) and set(data.rules) == {"asks"}
            assert all(p.entity is not None for p in data.patterns.values())
        else:
            assert set(data.scores) == set(data.rules), recognizer.name
        assert all(0 < s <= 1 for s in data.scores.values()), recognizer.name


def test_a_pattern_naming_an_unknown_fragment_fails_to_load() -> None:
    with pytest.raises(DetectorUnavailable, match="nope"):
        RecognizerData.from_mapping("broken", {"patterns": {"p": "{{nope}}"}}, {})


@pytest.mark.parametrize(
    ("text", "value"),
    [("i live in Leeds with my mum", "Leeds"), ("I am in Paris and its sunny", "Paris")],
)
def test_location_after_a_cue(det: PersonalInfoDetector, text: str, value: str) -> None:
    found = [d for d in det.detect(TextContext.from_text(text)) if d.signal == "location" and d.span is not None]
    assert [text[d.span.start : d.span.end] for d in found] == [value]


@pytest.mark.parametrize("text", ["im in year 5 lol", "i live in trouble"])
def test_location_near_misses(det: PersonalInfoDetector, text: str) -> None:
    assert det.detect(TextContext.from_text(text)) == []
