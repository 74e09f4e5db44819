"""Where a child lives or is: "i live in Leeds", "im from Ohio", "I'm in Paris", "my postcode is ..."."""

from __future__ import annotations

from collections.abc import Iterator

from childsafe.detectors.personal_info.base import PiiMatch, PiiType, Recognizer, raw_value, span
from childsafe.text.context import TextContext


class LocationRecognizer(Recognizer):
    """On the normalised text. After "i'm in" only name-like words count, and lowercase ones score lower."""

    name = "location"

    def find(self, ctx: TextContext) -> Iterator[PiiMatch]:
        text, common = ctx.normalized, self.common
        for m in self.pattern("cue").finditer(text):
            found = common.name_tokens(text, m.end(), strict=False, max_words=3)
            if found is None:
                continue
            s, e, _n = found
            if common.not_place.match(text, s):
                continue
            rs, re_ = span(ctx, s, e)
            yield self.hit(PiiType.LOCATION, rs, re_, "cue", cue=m.group(0).strip())
            yield from common.chained_location(ctx, e)
        not_town = self.data.words["not_town"]
        for m in self.pattern("im_in").finditer(text):
            # "i'm in office / in the bus / in year 5" are not places: one name-like word, not a common noun
            found = common.name_tokens(text, m.end(), strict=False, max_words=2)
            if found is None or common.not_place.match(text, found[0]):
                continue
            if text[found[0] : found[1]].split()[0] in not_town:
                continue
            rs, re_ = span(ctx, found[0], found[1])
            finding = "im_in_capitalised" if ctx.raw[rs : rs + 1].isupper() else "im_in"
            yield self.hit(PiiType.LOCATION, rs, re_, finding)
        for m in self.pattern("postcode_cue").finditer(text):
            val = raw_value(ctx, m.end(), self.pattern("value"))
            if val is not None:
                yield self.hit(PiiType.POSTCODE, val[0], val[1], "postcode_cue", by="address")
