"""A conformance kit for detector plugin authors.

    from childsafe.testing import check_detector
    check_detector(MyDetector)          # raises AssertionError naming the broken rule

It checks the contract in :mod:`childsafe.detectors.base`: a stable lower_snake name and a version,
declared categories, cheap construction (no loading until ``load()``), typed detections whose categories
are declared, scores in [0, 1], spans inside the original text, and no crash on awkward input.
"""

from __future__ import annotations

import re
import time

from childsafe.detectors.base import Detector
from childsafe.text.context import TextContext
from childsafe.types import Category, Detection, Role

AWKWARD_INPUTS = (
    "",
    " ",
    "hello",
    "\u200b\u200b\u200b",
    "ｓｅｘ ѕех s e x",
    "😀" * 50,
    "a" * 5000,
    "\x00\x01 control chars",
    "مرحبا كيف حالك",
    "你好，你今年几岁？",
    "you are a loser. I want to kill myself. dont tell your parents",
    "my number is +44 7700 900123 and my email is kid@example.com",
)

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def check_detector(cls: type[Detector], construct_budget_s: float = 0.05) -> None:
    """Assert that ``cls`` follows the detector contract."""
    assert issubclass(cls, Detector), f"{cls!r} must subclass childsafe.detectors.base.Detector"
    assert isinstance(getattr(cls, "name", None), str) and _NAME.match(cls.name), (
        f"{cls.__name__}.name must be lower_snake, got {getattr(cls, 'name', None)!r}"
    )
    assert isinstance(getattr(cls, "version", None), str) and cls.version, f"{cls.name}: version must be a string"
    assert cls.categories and all(isinstance(c, Category) for c in cls.categories), (
        f"{cls.name}: categories must be a non-empty set of Category"
    )
    started = time.perf_counter()
    det = cls()
    assert time.perf_counter() - started < construct_budget_s, f"{cls.name}: construction must be cheap (load lazily)"
    assert not det.loaded, f"{cls.name}: must not be loaded before load()"
    det.load()
    det.load()  # idempotent
    assert det.loaded
    for role in (Role.CHILD, Role.CONTACT, Role.ASSISTANT):
        ctxs = [TextContext.from_text(t, role) for t in AWKWARD_INPUTS]
        batch = det.detect_batch(ctxs)
        assert len(batch) == len(ctxs), f"{cls.name}: detect_batch must return one list per input"
        for ctx, found in zip(ctxs, batch, strict=True):
            single = det.detect(ctx)
            assert isinstance(single, list), f"{cls.name}: detect must return a list"
            for d in [*single, *found]:
                _check_detection(cls, d, ctx)


def _check_detection(cls: type[Detector], d: Detection, ctx: TextContext) -> None:
    assert isinstance(d, Detection), f"{cls.name}: detections must be Detection objects, got {type(d).__name__}"
    assert d.category in cls.categories, f"{cls.name}: emitted undeclared category {d.category.value}"
    assert 0.0 <= d.score <= 1.0
    assert d.detector == cls.name and d.detector_version == cls.version, f"{cls.name}: detection not stamped"
    if d.span is not None:
        assert 0 <= d.span.start <= d.span.end <= len(ctx.raw), f"{cls.name}: span outside the original text"


__all__ = ["AWKWARD_INPUTS", "check_detector"]
