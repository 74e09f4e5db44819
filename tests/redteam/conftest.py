"""Fixtures for the stress-testing suites: a keyword detector whose decisions the tests can predict."""

from __future__ import annotations

from pathlib import Path

import pytest

from childsafe.detectors.base import Detector
from childsafe.engine import Engine
from childsafe.text.context import TextContext
from childsafe.types import Category, Detection

REPO = Path(__file__).resolve().parents[2]


class KeywordDetector(Detector):
    """Flags 'zzharm' as violence (blocks at 10-12) and 'zzmild' as violence (warns at 10-12)."""

    name = "keyword_test"
    version = "1"
    categories = frozenset({Category.VIOLENCE})

    def detect(self, ctx: TextContext) -> list[Detection]:
        out = []
        if "zzharm" in ctx.normalized:
            out.append(self.detection(Category.VIOLENCE, 0.99, evidence="zzharm"))
        elif "zzmild" in ctx.normalized:
            out.append(self.detection(Category.VIOLENCE, 0.5, evidence="zzmild"))
        return out


class Broken(Detector):
    name = "broken_test"
    version = "1"
    categories = frozenset({Category.VIOLENCE})

    def detect(self, ctx: TextContext) -> list[Detection]:
        raise RuntimeError("boom")


@pytest.fixture
def keyword_engine() -> Engine:
    return Engine(detectors=[KeywordDetector()])


@pytest.fixture
def broken_engine() -> Engine:
    return Engine(detectors=[Broken()])
