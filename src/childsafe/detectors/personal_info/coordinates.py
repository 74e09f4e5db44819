"""Coordinates ("51.5072, -0.1276", "51°30'N") and map or what3words links."""

from __future__ import annotations

from collections.abc import Iterator

from childsafe.detectors.personal_info.base import PiiMatch, PiiType, Recognizer
from childsafe.text.context import TextContext


class CoordinatesRecognizer(Recognizer):
    """On the raw text; a decimal pair counts only when it is a latitude and a longitude."""

    name = "coordinates"

    def find(self, ctx: TextContext) -> Iterator[PiiMatch]:
        for m in self.pattern("decimal").finditer(ctx.raw):
            nums = [float(x) for x in self.pattern("number").findall(m.group(0))]
            if len(nums) == 2 and abs(nums[0]) <= 90 and abs(nums[1]) <= 180:
                yield self.hit(PiiType.COORDINATES, m.start(), m.end(), "decimal")
        for m in self.pattern("degrees").finditer(ctx.raw):
            yield self.hit(PiiType.COORDINATES, m.start(), m.end(), "degrees")
        for m in self.pattern("map_link").finditer(ctx.raw):
            yield self.hit(PiiType.LOCATION, m.start(), m.end(), "map_link")
