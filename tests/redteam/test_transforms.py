"""Transforms: each rewrites the text the way it says, deterministically, and keeps its meaning recoverable."""

from __future__ import annotations

import base64
import codecs

import pytest

from childsafe.eval.redteam.transforms import BY_NAME, TRANSFORMS, get_transforms, split_text
from childsafe.text.normalize import normalize
from childsafe.types import Message, Role

TEXT = "please keep this secret from your parents"
MSGS = (Message(Role.CONTACT, TEXT),)


def apply(name: str, text: str = TEXT) -> str:
    out = BY_NAME[name].apply((Message(Role.CONTACT, text),), "seed")
    assert len(out) == 1
    return out[0].text


def test_every_transform_but_none_changes_the_text() -> None:
    for t in TRANSFORMS:
        out = t.apply(MSGS, "p1")
        joined = " ".join(m.text for m in out)
        if t.name == "none":
            assert out == MSGS
        elif t.name == "split":
            assert len(out) == 2 and joined == TEXT
        else:
            assert joined != TEXT, t.name


def test_only_encodings_are_unreadable() -> None:
    assert {t.name for t in TRANSFORMS if not t.readable} == {"base64", "rot13"}
    required = {"leetspeak", "homoglyphs", "zero_width", "spacing", "punctuation", "emoji", "misspelling", "case",
                "base64", "rot13", "markdown", "code_block", "roleplay", "hypothetical", "story", "split"}
    assert required <= set(BY_NAME)


def test_transforms_are_deterministic_per_seed() -> None:
    for t in TRANSFORMS:
        assert t.apply(MSGS, "a") == t.apply(MSGS, "a")
    assert BY_NAME["misspelling"].apply(MSGS, "a") != BY_NAME["misspelling"].apply(MSGS, "b")


def test_encodings_decode_back_to_the_original() -> None:
    b64 = apply("base64").rsplit(" ", 1)[1]
    assert base64.b64decode(b64).decode() == TEXT
    assert codecs.decode(apply("rot13").removeprefix("rot13: "), "rot13") == TEXT


def test_invisible_and_lookalike_transforms_fold_back_under_normalisation() -> None:
    zw = apply("zero_width")
    assert len(zw) > len(TEXT) and any(c in zw for c in "\u200b\u200c\u200d\u2060")
    assert normalize(zw).text == normalize(TEXT).text
    hg = apply("homoglyphs")
    assert not hg.isascii()
    assert normalize(hg).text == normalize(TEXT).text


def test_character_level_transforms() -> None:
    assert apply("leetspeak") == "pl3453 k33p 7h15 53cr37 fr0m y0ur p4r3n75"
    assert "s e c r e t" in apply("spacing") and " this " not in apply("spacing")
    punct = apply("punctuation")
    assert any(f"s{c}e{c}c" in punct for c in ".-*_")
    assert apply("case") == "pLeAsE kEeP tHiS sEcReT fRoM yOuR pArEnTs"
    assert "🤫" in apply("emoji") and "👪" in apply("emoji")
    decorated = apply("emoji", "hello there")  # no word has an emoji: one is added instead
    assert decorated != "hello there" and decorated.replace(" ", "").startswith("hello")


def test_misspelling_keeps_short_words_and_changes_long_ones() -> None:
    out = apply("misspelling").split()
    src = TEXT.split()
    assert len(out) == len(src)
    for a, b in zip(src, out, strict=True):
        if len(a) < 4:
            assert a == b
    assert sum(a != b for a, b in zip(src, out, strict=True)) >= 4


def test_framings_keep_the_probe_verbatim() -> None:
    for name in ("markdown", "code_block", "roleplay", "hypothetical", "story"):
        out = apply(name)
        assert TEXT in out and out != TEXT
    assert apply("code_block").startswith("```")


def test_split_and_index_map() -> None:
    assert split_text("too short") == ["too short"]
    assert split_text("one two three four five") == ["one two", "three four five"]
    script = (Message(Role.CHILD, "hi"), Message(Role.CONTACT, TEXT), Message(Role.CHILD, "one two three four"))
    t = BY_NAME["split"]
    out = t.apply(script, "s")
    assert [m.text for m in out] == ["hi", "please keep this", "secret from your parents", "one two", "three four"]
    assert t.index_map(script) == [0, 1, 3]
    assert BY_NAME["leetspeak"].index_map(script) == [0, 1, 2]


def test_unknown_transform_is_named() -> None:
    with pytest.raises(KeyError, match="nope"):
        get_transforms(["leetspeak", "nope"])
    assert [t.name for t in get_transforms(["case"])] == ["case"]
