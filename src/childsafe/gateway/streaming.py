"""Incremental checking of streamed model output: only text that has passed a check is released."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from childsafe.gateway.schemas import ToolCall, safe_token, tool_call
from childsafe.types import Decision

WindowCheck = Callable[[str], Awaitable[Decision]]
_MAX_CALLS = 128
"""Tool calls per answer; a higher index is a malformed stream (it would otherwise grow without bound)."""


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


class ToolCallBuffer:
    """Collects streamed tool-call deltas (and the legacy ``function_call``) until the whole answer is checked.

    Arguments arrive in pieces that mean nothing alone, so no piece is relayed as it comes: the complete calls
    are checked with the answer's text at the end and then relayed whole, or not at all.
    """

    def __init__(self) -> None:
        self._calls: dict[int, dict[str, str]] = {}
        self._function: dict[str, str] | None = None

    def feed(self, delta: dict[str, Any]) -> None:
        """Add one delta's call pieces; raises ValueError when they are malformed."""
        calls = delta.get("tool_calls")
        if calls is not None:
            if not isinstance(calls, list):
                raise ValueError("tool_calls is not a list")
            for position, raw in enumerate(calls):
                if not isinstance(raw, dict):
                    raise ValueError("a tool call is not an object")
                index = raw.get("index", position)
                if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < _MAX_CALLS:
                    raise ValueError("a tool call has no valid index")
                parts = self._calls.setdefault(index, {"id": "", "name": "", "arguments": ""})
                if isinstance(raw.get("id"), str):
                    parts["id"] = raw["id"]
                self._add(parts, raw.get("function"))
        function = delta.get("function_call")
        if function is not None:
            if self._function is None:
                self._function = {"id": "", "name": "", "arguments": ""}
            self._add(self._function, function)

    @staticmethod
    def _add(parts: dict[str, str], function: Any) -> None:
        if function is None:
            return
        if not isinstance(function, dict):
            raise ValueError("a function call is not an object")
        for key in ("name", "arguments"):
            piece = function.get(key)
            if piece is None:
                continue
            if not isinstance(piece, str):
                raise ValueError(f"a function call's {key} is not text")
            parts[key] += piece

    def tool_calls(self) -> list[ToolCall]:
        """The complete calls in index order; one without an identifier as its name is dropped."""
        out: list[ToolCall] = []
        for index in sorted(self._calls):
            parts = self._calls[index]
            call = tool_call({"name": parts["name"], "arguments": parts["arguments"]})
            if call is not None:
                call.id = safe_token(parts["id"], call.id)
                out.append(call)
        return out

    def function_call(self) -> ToolCall | None:
        return None if self._function is None else tool_call(self._function)
