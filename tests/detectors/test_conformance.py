from typing import ClassVar

import pytest

from childsafe.detectors.base import Detector
from childsafe.detectors.lexicon import LexiconDetector
from childsafe.plugins import available_detectors, detector_class
from childsafe.testing import check_detector
from childsafe.text import TextContext
from childsafe.types import Category, Detection


@pytest.mark.parametrize("name", sorted(available_detectors()))
def test_every_installed_detector_conforms(name: str) -> None:
    check_detector(detector_class(name))


def test_kit_catches_undeclared_category() -> None:
    class Liar(Detector):
        name = "liar"
        version = "1"
        categories: ClassVar[frozenset[Category]] = frozenset({Category.HATE})

        def detect(self, ctx: TextContext) -> list[Detection]:
            return [self.detection(Category.DRUGS, 0.5)]

    with pytest.raises(AssertionError, match="undeclared category drugs"):
        check_detector(Liar)


def test_kit_catches_bad_name() -> None:
    class Bad(LexiconDetector):
        name = "Bad-Name"

    with pytest.raises(AssertionError, match="lower_snake"):
        check_detector(Bad)
