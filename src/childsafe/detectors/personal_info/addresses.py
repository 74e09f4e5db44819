"""A home address: "42 maple street", "i live on baker st", "my address is ...", UK postcodes, US zip codes."""

from __future__ import annotations

from collections.abc import Iterator

from childsafe.detectors.personal_info.base import PiiMatch, PiiType, Recognizer, span
from childsafe.text.context import TextContext

ADDRESS_MAX = 60
"""The most characters taken after "my address is"."""


class AddressRecognizer(Recognizer):
    """Streets on the normalised text; postcodes on the raw text, where their letters and digits are intact."""

    name = "address"

    def find(self, ctx: TextContext) -> Iterator[PiiMatch]:
        yield from self._streets(ctx)
        yield from self._after_cue(ctx)
        yield from self._postcodes(ctx)

    def _streets(self, ctx: TextContext) -> Iterator[PiiMatch]:
        text, common = ctx.normalized, self.common
        chat_numbers, strong_street = self.data.words["chat_numbers"], self.pattern("strong_street")
        for m in self.pattern("house_number").finditer(text):
            words = m.group(2).split()
            if any(w in common.stop or common.possessive(w) for w in words):
                continue
            if m.group(1) in chat_numbers and not strong_street.fullmatch(m.group("suffix")):
                continue  # chat "2"/"4" for "to"/"for": "2 ne way", "4 lane roads"
            s, e = span(ctx, m.start(), m.end())
            yield self.hit(PiiType.ADDRESS, s, e, "house_number")
            yield from common.chained_location(ctx, m.end())
        for m in self.pattern("street").finditer(text):
            words = m.group(1).split()
            if not words or any(w in common.stop or common.possessive(w) for w in words):
                continue
            s, e = span(ctx, m.start(1), m.end())
            yield self.hit(PiiType.STREET, s, e, "street")
            yield from common.chained_location(ctx, m.end())

    def _after_cue(self, ctx: TextContext) -> Iterator[PiiMatch]:
        text, stop = ctx.normalized, self.common.stop
        for m in self.pattern("address_is").finditer(text):
            ends = self.pattern("address_end").search(text[m.end() :])
            end = m.end() + (ends.start() if ends else len(text) - m.end())
            end = min(end, m.end() + ADDRESS_MAX)
            value = text[m.end() : end].split()
            content = [w for w in value if w not in stop]
            if value and value[0] not in stop and (any(c.isdigit() for c in "".join(value)) or len(content) >= 2):
                s, e = span(ctx, m.end(), end)
                yield self.hit(PiiType.ADDRESS, s, e, "address_is")

    def _postcodes(self, ctx: TextContext) -> Iterator[PiiMatch]:
        raw, not_postcodes = ctx.raw, self.data.words["not_postcodes"]
        for m in self.pattern("uk_postcode").finditer(raw):
            tok = m.group(0)
            if not any(c.isdigit() for c in tok[-3:]) or tok.lower() in not_postcodes:
                continue
            cued = self.pattern("postcode_cue").search(raw[max(0, m.start() - 40) : m.start()])
            near_address = self.pattern("after_street").search(raw[: m.start()])
            if cued or near_address or " " in tok:
                yield self.hit(PiiType.POSTCODE, m.start(), m.end(), "uk_postcode")
        for m in self.pattern("zip").finditer(raw):
            yield self.hit(PiiType.POSTCODE, m.start(1), m.end(1), "zip")
