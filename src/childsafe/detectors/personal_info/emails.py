"""Email addresses, written out ("jo@mail.com") or spoken ("jo (at) gmail (dot) com")."""

from __future__ import annotations

from collections.abc import Iterator

from childsafe.detectors.personal_info.base import PiiMatch, PiiType, Recognizer
from childsafe.text.context import TextContext


class EmailRecognizer(Recognizer):
    """On the raw text: normalisation would fold the leetspeak inside an address."""

    name = "email"

    def find(self, ctx: TextContext) -> Iterator[PiiMatch]:
        for finding in ("address", "spoken"):
            for m in self.pattern(finding).finditer(ctx.raw):
                yield self.hit(PiiType.EMAIL, m.start(), m.end(), finding)
