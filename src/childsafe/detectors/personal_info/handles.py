"""Social and game handles: the value after "my snap is", "add me on discord", and @mentions."""

from __future__ import annotations

from collections.abc import Iterator

from childsafe.detectors.personal_info.base import Common, PiiMatch, PiiType, Recognizer, raw_value
from childsafe.text.context import TextContext


class HandleRecognizer(Recognizer):
    """Cues on the normalised text, values on the raw text (normalisation would mangle ``tacoNinja77``)."""

    name = "handle"

    def __init__(self, common: Common) -> None:
        super().__init__(common)
        fragments = self.data.fragments
        self._platform_words = frozenset(fragments["platforms"].split("|")) | frozenset(
            fragments["handle_nouns"].split("|")
        )
        """"my snap is snapchat", "my discord tag": a platform or handle noun is not a value."""

    def find(self, ctx: TextContext) -> Iterator[PiiMatch]:
        text = ctx.normalized
        taken: list[tuple[int, int]] = []
        for m in self.pattern("cue").finditer(text):
            val = raw_value(ctx, m.end(), self.pattern("value"))
            if val is None:
                continue
            s, e = val
            word = ctx.raw[s:e].lower().lstrip("@")
            if word in self.common.stop or not word or word in self._platform_words:
                continue
            taken.append((s, e))
            yield self.hit(PiiType.HANDLE, s, e, "after_cue", cue=m.group(0).strip())
        finding = "at_handle_near_platform" if self.pattern("platform_near").search(text) else "at_handle"
        email, group_mentions = self.pattern("email"), self.data.words["group_mentions"]
        for m in self.pattern("at_handle").finditer(ctx.raw):
            if any(a <= m.start() < b for a, b in taken) or m.group(0).lower() in group_mentions:
                continue
            if email.match(ctx.raw, max(0, m.start() - 64)) and "@" in ctx.raw[max(0, m.start() - 1) : m.start()]:
                continue
            yield self.hit(PiiType.HANDLE, m.start(), m.end(), finding)
