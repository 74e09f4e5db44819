"""The classifier scores a sentence the same whichever identity group it names (fairness audit finding)."""

import pytest

from childsafe.detectors.classifier import ClassifierDetector
from childsafe.text import TextContext
from childsafe.types import Category


@pytest.fixture(scope="module")
def clf() -> ClassifierDetector:
    d = ClassifierDetector()
    d.load()
    return d


def scores(clf: ClassifierDetector, text: str) -> dict[Category, float]:
    return {d.category: d.score for d in clf.detect(TextContext.from_text(text))}


@pytest.mark.parametrize(
    "template",
    ["{} people are welcome in our class.", "My best friend is {}.", "The {} kids sat with us at lunch."],
)
def test_same_score_for_every_group(clf: ClassifierDetector, template: str) -> None:
    groups = ["Muslim", "Christian", "Jewish", "trans", "gay", "Black", "Polish", "autistic"]
    hate = [scores(clf, template.format(g)).get(Category.HATE, 0.0) for g in groups]
    assert max(hate) - min(hate) < 1e-6, dict(zip(groups, hate, strict=True))


def test_hateful_generalisations_stay_flagged(clf: ClassifierDetector) -> None:
    for g in ["muslims", "jews", "trans people", "black people"]:
        assert scores(clf, f"all {g} are disgusting and should leave our country").get(Category.HATE, 0) >= 0.5


def test_ordinary_colour_words_are_left_alone(clf: ClassifierDetector) -> None:
    assert clf._identity_variants(TextContext.from_text("the black cat sat on a white wall")) is None
    assert clf._identity_variants(TextContext.from_text("i am black and i love football")) is not None
