"""A child's own age: "im 11", "i turned twelve", "11 years old" said about oneself."""

from __future__ import annotations

from collections.abc import Iterator

from childsafe.detectors.personal_info.base import PiiMatch, PiiType, Recognizer, span
from childsafe.text.context import TextContext


class AgeRecognizer(Recognizer):
    """On the normalised text; "N years old" counts only after a first-person subject ("my dog is 3" does not)."""

    name = "age"

    def find(self, ctx: TextContext) -> Iterator[PiiMatch]:
        text = ctx.normalized
        for pattern in (self.pattern("im_age"), self.pattern("turn")):
            for m in pattern.finditer(text):
                s, e = span(ctx, m.start(1), m.end(1))
                yield self.hit(PiiType.AGE, s, e, "statement")
        subject_before = self.pattern("subject_before")
        for m in self.pattern("years_old").finditer(text):
            if subject_before.search(text[max(0, m.start() - 20) : m.start()]):
                s, e = span(ctx, m.start(1), m.end(1))
                yield self.hit(PiiType.AGE, s, e, "years_old")
