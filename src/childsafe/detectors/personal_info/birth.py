"""A date of birth: a date shortly after "birthday", "born", "dob", "i'll be 12 on"; a year after "born in"."""

from __future__ import annotations

from collections.abc import Iterator

from childsafe.detectors.personal_info.base import PiiMatch, PiiType, Recognizer
from childsafe.text.context import TextContext

CUE_WINDOW = 40
"""How far before a date (in characters) the birth cue may be: a date elsewhere is a plan, not a birthday."""


class BirthRecognizer(Recognizer):
    """On the raw text, where dates keep their digits and separators."""

    name = "birth"

    def find(self, ctx: TextContext) -> Iterator[PiiMatch]:
        raw = ctx.raw
        cue = self.pattern("cue")
        if cue.search(raw) is None:
            return
        for pattern in (self.pattern("numeric_date"), self.pattern("word_date")):
            for m in pattern.finditer(raw):
                if cue.search(raw[max(0, m.start() - CUE_WINDOW) : m.start()]):
                    yield self.hit(PiiType.DATE_OF_BIRTH, m.start(), m.end(), "date")
        for m in self.pattern("year").finditer(raw):
            yield self.hit(PiiType.DATE_OF_BIRTH, m.start(1), m.end(1), "year")
