"""Photos and video: someone asking for a child's picture or camera, or a child offering their own."""

from __future__ import annotations

from collections.abc import Iterator

from childsafe.detectors.personal_info.base import PiiMatch, PiiType, Recognizer, span
from childsafe.text.context import TextContext
from childsafe.types import Role


class PhotoRecognizer(Recognizer):
    """On the normalised text. An ask is a request whatever the role; only a child can offer their own photo."""

    name = "photo"

    def find(self, ctx: TextContext) -> Iterator[PiiMatch]:
        text = ctx.normalized
        own = self.data.words["own"]
        for m in self.pattern("ask").finditer(text):
            what = m.group("what")
            if what is not None and m.group("of") is not None:
                if not self.pattern("self_object").match(m.group("obj") or ""):
                    continue
            elif what is not None and what not in own:
                if self.pattern("other_object").match(text[m.end() : m.end() + 12]):
                    continue
            s, e = span(ctx, m.start(), m.end())
            yield self.hit(PiiType.PHOTO_REQUEST, s, e, "ask", request=True)
        if ctx.role is Role.CHILD:
            for m in self.pattern("offer").finditer(text):
                s, e = span(ctx, m.start(), m.end())
                yield self.hit(PiiType.PHOTO_REQUEST, s, e, "offer")
