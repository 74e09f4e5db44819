"""Someone asking for a detail: "what school do you go to?", "whats ur number", "how old r u"."""

from __future__ import annotations

from collections.abc import Iterator

from childsafe.detectors.personal_info.base import PiiMatch, Recognizer, span
from childsafe.text.context import TextContext


class RequestRecognizer(Recognizer):
    """Each pattern names the detail it asks for; matches are ``request`` so the detector scores them by role."""

    name = "request"

    def find(self, ctx: TextContext) -> Iterator[PiiMatch]:
        text = ctx.normalized
        rule = self.data.rules["asks"]
        for p in self.data.patterns.values():
            assert p.entity is not None, f"request.yaml: {p.name} names no entity"
            score = self.data.scores[p.name]
            for m in p.regex.finditer(text):
                s, e = span(ctx, m.start(), m.end())
                yield PiiMatch(p.entity, s, e, score, self.name, rule.format(text=m.group(0)), True)
