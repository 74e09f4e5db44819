import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from childsafe.text import TextContext, normalize


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("s3x", "sex"),
        ("k1ll", "kill"),
        ("ѕех", "sex"),  # Cyrillic homoglyphs
        ("ｓéx", "sex"),  # full-width and accent
        ("s e x", "sex"),
        ("k.i.l.l", "kill"),
        ("z\u200be\u200br\u200bo", "zero"),
        ("soooooo", "soo"),
        ("wyd", "what are you doing"),
        ("asl?", "age sex location?"),
        ("send me a pic", "send me a picture"),
        ("add me on snap", "add me on snapchat"),
        ("ur cute", "your cute"),
        ("I have 3 cats", "i have 3 cats"),
        ("mp3 ps5 covid19", "mp3 ps5 covid19"),
        ("u r a loser", "you are a loser"),
        ("12 yo", "12 years old"),
        ("yo what's up", "yo whats up"),
        ("don't tell", "dont tell"),  # apostrophes inside words are folded
        ("whats yo address", "whats your address"),
    ],
)
def test_folding(raw: str, expected: str) -> None:
    assert normalize(raw).text == expected


def test_spans_point_into_original() -> None:
    raw = "hey  K.I.L.L y0urself!!"
    ctx = TextContext.from_text(raw)
    i = ctx.normalized.index("kill")
    span = ctx.to_original(i, i + len("kill"))
    assert raw[span.start : span.end] == "K.I.L.L"
    j = ctx.normalized.index("yourself")
    span2 = ctx.to_original(j, j + len("yourself"))
    assert raw[span2.start : span2.end] == "y0urself"


def test_abbreviation_maps_to_whole_token() -> None:
    raw = "wyd rn"
    ctx = TextContext.from_text(raw)
    assert ctx.normalized == "what are you doing right now"
    span = ctx.to_original(0, len("what are you doing"))
    assert raw[span.start : span.end] == "wyd"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("see u l8r", "see you later"),  # a digit inside text-speak is not leetspeak ("lbr")
        ("meet me 2moro", "meet me tomorrow"),
        ("some1 told me", "someone told me"),
        ("gr8 game m8", "great game mate"),
        ("k1ll urs3lf", "kill urself"),  # leetspeak is still folded
    ],
)
def test_text_speak_with_digits_is_expanded(raw: str, expected: str) -> None:
    assert normalize(raw).text == expected


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_idempotent(raw: str) -> None:
    once = normalize(raw).text
    assert normalize(once).text == once


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_offsets_always_valid(raw: str) -> None:
    n = normalize(raw)
    assert len(n.starts) == len(n.ends) == len(n.text)
    for s, e in zip(n.starts, n.ends, strict=True):
        assert 0 <= s < e <= len(raw)
    ctx = TextContext.from_text(raw)
    for a in range(len(ctx.normalized)):
        span = ctx.to_original(a, min(len(ctx.normalized), a + 3))
        assert 0 <= span.start <= span.end <= len(raw)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=40))
def test_no_crash_on_any_unicode(raw: str) -> None:
    TextContext.from_text(raw)


@pytest.mark.parametrize(
    ("typed", "folded"),
    [
        ("how do i poiison it", "how do i poison it"),
        ("see you tonighht", "see you tonight"),
        ("my pareents are out", "my parents are out"),
        ("a looser jumper", "a looser jumper"),  # a real word outside the vocabulary stays
        ("the committee met", "the committee met"),
        ("show me your butt", "show me your butt"),
    ],
)
def test_doubled_letter_typos_fold_only_into_known_words(typed: str, folded: str) -> None:
    n = normalize(typed)
    assert n.text == folded
    assert normalize(n.text).text == n.text
    start = n.text.find("poison")
    if start >= 0:  # the kept letter's span covers both typed letters
        assert typed[n.starts[start] : n.ends[start + 5]] == "poiison"
