"""TextContext: one per message, computed once and shared by every detector."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from childsafe.text.decode import find_encoded
from childsafe.text.language import LanguageGuess, identify, reads
from childsafe.text.normalize import normalize
from childsafe.types import Role, Span

_WORD = re.compile(r"[a-z0-9']+")
_ENGLISH = frozenset({"en"})


def _tokens(text: str) -> list[tuple[str, int, int]]:
    """Tokens of a normalised text with their offsets."""
    return [(m.group(0), m.start(), m.end()) for m in _WORD.finditer(text)]


@dataclass(frozen=True, slots=True)
class DecodedView:
    """An encoded stretch of the message (``span`` in raw) and the decoded text as its own context."""

    kind: str
    """How it was encoded: "base64" or "rot13"."""
    span: Span
    context: TextContext


@dataclass(frozen=True, slots=True)
class TextContext:
    """A message as every detector sees it.

    ``raw`` is the original text; ``normalized`` is the folded text (see ``childsafe.text.normalize``).
    Detectors search ``normalized`` and report spans through :meth:`to_original`, so a span always points
    into ``raw``. ``role`` says who wrote the message; ``index`` is its position in a conversation.
    ``decoded`` holds the stretches that were encoded (base64, rot13) decoded and normalised: a detector that
    scans them reports a finding on the encoded stretch (``DecodedView.span``), since the decoded words are
    not in ``raw``.
    """

    raw: str
    normalized: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]
    role: Role = Role.CHILD
    index: int = 0
    _words: list[tuple[str, int, int]] = field(default_factory=list, compare=False, repr=False)
    decoded: tuple[DecodedView, ...] = field(default=(), compare=False, repr=False)
    _spelled: list[TextContext | None] = field(default_factory=list, compare=False, repr=False)
    default_language: str = field(default="en", compare=False)
    """The deployment's or the child's language: what a short or unsure message is taken to be."""
    _language: list[LanguageGuess] = field(default_factory=list, compare=False, repr=False)

    @classmethod
    def from_text(
        cls, raw: str, role: Role = Role.CHILD, index: int = 0, decode: bool = True, language: str = "en"
    ) -> TextContext:
        n = normalize(raw)
        words = _tokens(n.text)
        views: tuple[DecodedView, ...] = ()
        if decode:
            views = tuple(
                DecodedView(
                    e.kind, Span(e.start, e.end), cls.from_text(e.text, role, index, decode=False, language=language)
                )
                for e in find_encoded(raw)
            )
        return cls(
            raw=raw, normalized=n.text, starts=n.starts, ends=n.ends, role=role, index=index, _words=words,
            decoded=views, default_language=language,
        )

    @property
    def language(self) -> LanguageGuess:
        """The message's language (identified once, on first use)."""
        if not self._language:
            self._language.append(identify(self.raw, self.default_language))
        return self._language[0]

    @property
    def words(self) -> list[tuple[str, int, int]]:
        """Tokens of the normalised text with their normalised offsets."""
        return self._words

    def spelled(self) -> TextContext | None:
        """This message with typos corrected ("yur paretns" -> "your parents"), or None when none were found.

        Same ``raw``; a corrected word maps back to the whole typed word, so spans found in it point into
        ``raw`` like any other. Computed once per message, on first use (see ``childsafe.text.spelling``)."""
        if not self._spelled:
            # Not for a message identified as another language: English spelling "corrects" other languages into
            # false matches ("vapeo" -> "vape", "dedos" -> "ddos").
            self._spelled.append(self._spell() if reads(_ENGLISH, self.language) else None)
        return self._spelled[0]

    def _spell(self) -> TextContext | None:
        from childsafe.text.spelling import default_corrector

        fixes = default_corrector().corrections(self.words)
        if not fixes:
            return None
        text: list[str] = []
        starts: list[int] = []
        ends: list[int] = []
        pos = 0
        for a, b, word in fixes:
            text.append(self.normalized[pos:a])
            starts.extend(self.starts[pos:a])
            ends.extend(self.ends[pos:a])
            text.append(word)
            starts.extend([self.starts[a]] * len(word))
            ends.extend([self.ends[b - 1]] * len(word))
            pos = b
        text.append(self.normalized[pos:])
        starts.extend(self.starts[pos:])
        ends.extend(self.ends[pos:])
        fixed = "".join(text)
        words = _tokens(fixed)
        return TextContext(
            raw=self.raw, normalized=fixed, starts=tuple(starts), ends=tuple(ends), role=self.role,
            index=self.index, _words=words, _spelled=[None], default_language=self.default_language,
            _language=self._language,
        )

    def to_original(self, start: int, end: int) -> Span:
        """Map a half-open range of ``normalized`` to the original text."""
        if not self.starts:
            return Span(0, 0)
        start = max(0, min(start, len(self.starts) - 1))
        end = max(start + 1, min(end, len(self.ends)))
        return Span(self.starts[start], max(self.starts[start], self.ends[end - 1]))
