"""A child's name: "my name is Emma Johnson", "hi im Sam", "everyone calls me Jo"."""

from __future__ import annotations

from collections.abc import Iterator

from childsafe.detectors.personal_info.base import PiiMatch, PiiType, Recognizer, span
from childsafe.text.context import TextContext

CUES: tuple[tuple[str, bool], ...] = (("name_cue", False), ("greeting", False), ("im_name", True))
"""Cue patterns in order; strict ones ("i'm ...") say far less, so the words after them must look like a name."""


class NameRecognizer(Recognizer):
    """On the normalised text; two or more words, or a surname cue, make a full name."""

    name = "name"

    def find(self, ctx: TextContext) -> Iterator[PiiMatch]:
        text = ctx.normalized
        call_me = tuple(self.data.words["call_me"])
        surname_markers = self.data.words["surname_markers"]
        for finding, strict in CUES:
            for m in self.pattern(finding).finditer(text):
                capital = False
                if strict and m.end() < len(text):
                    raw_at = ctx.to_original(m.end(), m.end() + 1).start
                    capital = ctx.raw[raw_at : raw_at + 1].isupper()
                max_words = 2 if strict else 3
                found = self.common.name_tokens(text, m.end(), strict, max_words=max_words, capitalised=capital)
                if found is None:
                    continue
                s, e, n = found
                cue = m.group(0)
                if finding == "name_cue" and cue.startswith(call_me) and n > 2:
                    continue
                surname = any(marker in cue for marker in surname_markers)
                kind = PiiType.FULL_NAME if n >= 2 or surname else PiiType.NAME
                rs, re_ = span(ctx, s, e)
                yield self.hit(kind, rs, re_, finding, cue=cue.strip())
