"""TextContext: one per message, computed once and shared by every detector."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from childsafe.text.normalize import normalize
from childsafe.types import Role, Span

_WORD = re.compile(r"[a-z0-9']+")


@dataclass(frozen=True, slots=True)
class TextContext:
    """A message as every detector sees it.

    ``raw`` is the original text; ``normalized`` is the folded text (see ``childsafe.text.normalize``).
    Detectors search ``normalized`` and report spans through :meth:`to_original`, so a span always points
    into ``raw``. ``role`` says who wrote the message; ``index`` is its position in a conversation.
    """

    raw: str
    normalized: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]
    role: Role = Role.CHILD
    index: int = 0
    _words: list[tuple[str, int, int]] = field(default_factory=list, compare=False, repr=False)

    @classmethod
    def from_text(cls, raw: str, role: Role = Role.CHILD, index: int = 0) -> TextContext:
        n = normalize(raw)
        words = [(m.group(0), m.start(), m.end()) for m in _WORD.finditer(n.text)]
        return cls(raw=raw, normalized=n.text, starts=n.starts, ends=n.ends, role=role, index=index, _words=words)

    @property
    def words(self) -> list[tuple[str, int, int]]:
        """Tokens of the normalised text with their normalised offsets."""
        return self._words

    def to_original(self, start: int, end: int) -> Span:
        """Map a half-open range of ``normalized`` to the original text."""
        if not self.starts:
            return Span(0, 0)
        start = max(0, min(start, len(self.starts) - 1))
        end = max(start + 1, min(end, len(self.ends)))
        return Span(self.starts[start], max(self.starts[start], self.ends[end - 1]))
