"""A child's school: "i go to Lincoln Elementary", "st mary's", "my school is called Oak Park"."""

from __future__ import annotations

import re
from collections.abc import Iterator

from childsafe.detectors.personal_info.base import PiiMatch, PiiType, Recognizer, span
from childsafe.text.context import TextContext

CUE_WINDOW = 30
"""How far before the name (in characters) a cue such as "i go to" may start."""


class SchoolRecognizer(Recognizer):
    """On the normalised text. Up to three name words before a school word; a place may follow ("..., in Leeds")."""

    name = "school"

    def find(self, ctx: TextContext) -> Iterator[PiiMatch]:
        yield from self._named(ctx)
        text = ctx.normalized
        for m in self.pattern("saint").finditer(text):
            s, e = span(ctx, m.start(1), m.end(1))
            yield self.hit(PiiType.SCHOOL, s, e, "saint")
        for m in self.pattern("my_school_is").finditer(text):
            found = self.common.name_tokens(text, m.end(), strict=False, max_words=4)
            if found is not None:
                s, e = span(ctx, found[0], found[1])
                yield self.hit(PiiType.SCHOOL, s, e, "my_school_is")

    def _named(self, ctx: TextContext) -> Iterator[PiiMatch]:
        text = ctx.normalized
        cue, needs_cue = self.pattern("cue"), self.data.words["needs_cue"]
        for m in self.pattern("suffix").finditer(text):
            suffix = m.group(0)
            if m.start() > 0 and text[m.start() - 1] in "_[":
                continue
            name = self._name_before(text, m.start())
            if not name:
                continue
            name_start = name[-1].start()
            cued = cue.search(text[max(0, name_start - CUE_WINDOW) : name_start]) is not None
            if suffix in needs_cue and not cued:
                continue
            if not cued and self.pattern("bare_school").search(suffix):
                # "high school football", "a fun school": without a cue, only capitalised name words count
                while name and not ctx.raw[ctx.to_original(name[-1].start(), name[-1].start() + 1).start].isupper():
                    name.pop()
                if not name:
                    continue
                name_start = name[-1].start()
            s, e = span(ctx, name_start, m.end())
            yield self.hit(PiiType.SCHOOL, s, e, "cued" if cued else "named", suffix=suffix)
            yield from self.common.chained_location(ctx, m.end())

    def _name_before(self, text: str, end: int) -> list[re.Match[str]]:
        """Up to three name words right before ``end``, nearest first."""
        tokens = list(self.pattern("token").finditer(text, max(0, end - 60), end))
        cue_words, common = self.data.words["cue_words"], self.common
        name: list[re.Match[str]] = []
        for w in reversed(tokens):
            tok = w.group(0)
            if not tok[0].isalpha() or tok in common.stop or tok in cue_words or common.possessive(tok):
                break
            if len(name) == 3:
                break
            name.append(w)
        return name
