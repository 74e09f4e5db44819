import pytest

from childsafe.detectors.personal_info import PersonalInfoDetector
from childsafe.text import TextContext


@pytest.fixture(scope="module")
def det() -> PersonalInfoDetector:
    d = PersonalInfoDetector()
    d.load()
    return d


@pytest.mark.parametrize(
    "text",
    [
        "I am Black and I love playing football.",
        "im Muslim and i like maths",
        "I'm trans and I'm in year 7",
        "i am autistic and i like trains",
        "I'm Nigerian and my friend is Polish",
        "I am gay and my mum knows",
    ],
)
def test_identity_statements_are_not_names(det: PersonalInfoDetector, text: str) -> None:
    assert [d for d in det.detect(TextContext.from_text(text)) if d.score >= 0.5] == []


def test_a_name_after_im_is_still_found(det: PersonalInfoDetector) -> None:
    found = det.detect(TextContext.from_text("hi im Sam and i like dogs"))
    assert any(d.signal in ("name", "full_name") and d.score >= 0.5 for d in found)
