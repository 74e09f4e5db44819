"""Phone numbers: digits that libphonenumber accepts in a configured region, or number-shaped after a cue."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from types import ModuleType

from childsafe.detectors.personal_info.base import Common, PiiMatch, PiiType, Recognizer
from childsafe.text.context import TextContext

CUE_WINDOW = 40
"""How far before a number (in characters) "call", "my number"... count as its cue."""


class PhoneRecognizer(Recognizer):
    """On the raw text. Dates, negative numbers, counts, sums and page numbers are ruled out before validation."""

    name = "phone"

    def __init__(self, common: Common, phonenumbers: ModuleType, regions: Sequence[str]) -> None:
        super().__init__(common)
        self._pn = phonenumbers
        self._regions = list(regions)

    def find(self, ctx: TextContext) -> Iterator[PiiMatch]:
        raw = ctx.raw
        digits_re, math_near = self.pattern("digits"), self.pattern("math_near")
        for m in self.pattern("candidate").finditer(raw):
            cand = m.group(0).rstrip(" .-(\t")
            start, end = m.start(), m.start() + len(cand)
            digits = self.pattern("non_digit").sub("", cand)
            if not 7 <= len(digits) <= 15 or self.pattern("date").fullmatch(cand.strip()):
                continue
            groups = digits_re.findall(cand)
            spaced = all(len(g) == 1 for g in groups)  # "0 7 7 0 0 9 0 0 1 2 3"
            if self.pattern("negative").search(cand) or (len(groups[-1]) < 2 and not spaced):
                continue  # a negative number, as in game coordinates
            if sum(1 for g in groups if len(g) == 1) >= 3 and not spaced:
                continue  # a list of small numbers ("10 9 8 7 6 ...")
            before, after = raw[max(0, start - 12) : start], raw[end : end + 12]
            if math_near.search(before[-4:]) or math_near.search(after[:4]):
                continue
            if self.pattern("not_phone_before").search(before):
                continue
            cued = self.pattern("cue").search(raw[max(0, start - CUE_WINDOW) : start]) is not None
            valid_in, possible = self._validate(cand)
            if valid_in is not None:
                yield self.hit(PiiType.PHONE, start, end, "valid_after_cue" if cued else "valid", region=valid_in)
            elif cued and (possible or len(digits) >= 9):
                yield self.hit(PiiType.PHONE, start, end, "shaped_after_cue")

    def _validate(self, cand: str) -> tuple[str | None, bool]:
        """(region where ``cand`` is a valid number or None, whether it is at least a possible number)."""
        pn = self._pn
        result: tuple[str | None, bool] = (None, False)
        if cand.startswith(("+", "00")):
            try:
                num = pn.parse("+" + cand[2:] if cand.startswith("00") else cand, None)
                if pn.is_valid_number(num):
                    result = (pn.region_code_for_number(num) or "?", True)
                else:
                    result = (None, bool(pn.is_possible_number(num)))
            except pn.NumberParseException:
                pass
        else:
            possible = False
            for region in self._regions:
                try:
                    num = pn.parse(cand, region)
                except pn.NumberParseException:
                    continue
                # checking the one region is much cheaper than is_valid_number's search over all regions
                if pn.is_valid_number_for_region(num, region):
                    possible = True
                    result = (region, True)
                    break
                possible = possible or bool(pn.is_possible_number(num))
            else:
                result = (None, possible)
        return result
