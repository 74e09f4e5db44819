"""Incremental checking of streamed model output: only text that has passed a check is released."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from childsafe.types import Decision

WindowCheck = Callable[[str], Awaitable[Decision]]


@dataclass(slots=True)
class GuardStep:
    """What the stream may send now (``release``) or, when ``blocked``, the decision that stopped it."""

    release: str = ""
    blocked: Decision | None = None


class StreamGuard:
    """Holds back streamed text until it has been checked in windows of about ``window`` characters.

    Each check covers the pending text plus up to one window of already-released text before it, so a
    phrase split across a window boundary is still seen whole. The cut is made at the last whitespace so
    a half-streamed word is never released before the rest of it has been checked.
    """

    def __init__(self, check: WindowCheck, window: int) -> None:
        self._check = check
        self.window = window
        self.text = ""
        self.released = 0
        self.blocked: Decision | None = None

    async def feed(self, piece: str) -> GuardStep:
        if self.blocked is not None:
            return GuardStep(blocked=self.blocked)
        self.text += piece
        if len(self.text) - self.released < self.window:
            return GuardStep()
        cut = self._cut_point()
        if cut <= self.released:
            return GuardStep()
        return await self._check_upto(cut)

    def _cut_point(self) -> int:
        end = len(self.text)
        for i in range(end - 1, self.released - 1, -1):
            if self.text[i].isspace():
                return i + 1
        # one unbroken "word" longer than a window: check and release it whole rather than hold forever
        return end if end - self.released >= 4 * self.window else self.released

    async def _check_upto(self, cut: int) -> GuardStep:
        start = max(0, self.released - self.window)
        decision = await self._check(self.text[start:cut])
        if decision.action.stops_content:
            self.blocked = decision
            return GuardStep(blocked=decision)
        out = self.text[self.released : cut]
        self.released = cut
        return GuardStep(release=out)

    def pending(self) -> str:
        """Text received but not yet released."""
        return self.text[self.released :]

    def release_rest(self) -> str:
        """After the final whole-text check passed: everything still held back."""
        out = self.text[self.released :]
        self.released = len(self.text)
        return out
