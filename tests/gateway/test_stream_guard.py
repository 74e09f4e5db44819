"""The stream guard releases only checked text and never the part of a window that failed."""

from __future__ import annotations

import asyncio

from childsafe.engine import Engine
from childsafe.gateway.streaming import StreamGuard
from childsafe.types import Decision

UNSAFE = "What is your home address and which school do you go to?"


def run(pieces: list[str], window: int = 40) -> tuple[str, Decision | None, StreamGuard, list[str]]:
    engine = Engine.from_config()
    checked: list[str] = []

    async def check(text: str) -> Decision:
        checked.append(text)
        return await engine.acheck(text, age=11, role="assistant")

    async def main() -> tuple[str, Decision | None, StreamGuard]:
        guard = StreamGuard(check, window)
        out = ""
        for p in pieces:
            step = await guard.feed(p)
            out += step.release
            if step.blocked:
                return out, step.blocked, guard
        return out, None, guard

    out, blocked, guard = asyncio.run(main())
    return out, blocked, guard, checked


def chunks(text: str, n: int) -> list[str]:
    return [text[i : i + n] for i in range(0, len(text), n)]


def test_safe_text_is_released_in_windows_and_in_order() -> None:
    text = "The moon goes round the earth once a month. " * 6
    out, blocked, guard, checked = run(chunks(text, 3))
    assert blocked is None and len(checked) >= 4
    assert text.startswith(out) and len(out) > len(text) // 2
    assert out + guard.release_rest() == text


def test_half_words_are_held_back() -> None:
    out, _b, guard, _c = run(["a " * 25 + "unfinis"], window=20)
    assert out == "a " * 25 and guard.pending() == "unfinis"


def test_unsafe_phrase_split_across_pieces_is_never_released() -> None:
    text = "Hello there, lovely to chat with you today! " + UNSAFE + " more text follows here."
    for size in (1, 4, 13):
        out, blocked, _g, _c = run(chunks(text, size))
        assert blocked is not None and blocked.action.stops_content
        assert "home address" not in out and "which school" not in out
        assert text.startswith(out)


def test_window_checks_overlap_the_released_text() -> None:
    text = "x " * 30 + "home " + "address please tell me " * 3
    _o, _b, _g, checked = run(chunks(text, 2), window=20)
    assert any("home address" in c for c in checked)  # the boundary phrase is seen whole
