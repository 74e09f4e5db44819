"""Typo correction: the corrector, the spelled view of a message, and the detectors that read it."""

import pytest

from childsafe.detectors.lexicon import LexiconConfig, LexiconDetector
from childsafe.engine import Engine
from childsafe.text import TextContext
from childsafe.text.spelling import SpellingCorrector, _edits, chat_words, default_corrector
from childsafe.types import Action, Category


@pytest.fixture(scope="module")
def corrector() -> SpellingCorrector:
    c = default_corrector()
    assert c.wait(30), c.error
    return c


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("paretns", "parents"),  # swapped letters
        ("withut", "without"),  # a missing letter
        ("alonne", "alone"),  # a doubled key
        ("intellignt", "intelligent"),
        ("hme", "home"),  # not "he": no correction to a word shorter than three letters
        ("fre", "free"),  # not "are": a far-away replaced key costs more than a missing letter
        ("wats", "whats"),  # apostrophes are gone after normalisation, the word list knows that
    ],
)
def test_common_typos_are_corrected(corrector: SpellingCorrector, typed: str, meant: str) -> None:
    assert corrector.word(typed) == meant


@pytest.mark.parametrize("word", ["lol", "sus", "yeet", "skool", "roblox", "axolotl", "vape", "hijab", "okonkwo"])
def test_slang_names_and_rare_words_are_kept(corrector: SpellingCorrector, word: str) -> None:
    assert corrector.word(word) == word


def test_slang_list_is_loaded() -> None:
    assert {"lol", "rizz", "bruh"} <= chat_words()


def test_edits_rank_a_swap_above_a_far_replacement() -> None:
    e = _edits("thta")
    assert e["that"] > e.get("thea", float("-inf"))


def test_text_correction_keeps_everything_but_the_words(corrector: SpellingCorrector) -> None:
    assert corrector.correct("are yur paretns arund? 12pm, ok") == "are your parents around? 12pm, ok"
    assert corrector.corrections(TextContext.from_text("all fine here, ps5 x2").words) == []
    assert corrector.corrections(TextContext.from_text("yur ok").words) == [(0, 3, "your")]


def test_spelled_view_maps_corrected_words_back_to_the_typed_ones(corrector: SpellingCorrector) -> None:
    ctx = TextContext.from_text("Are yur PARETNS home?")
    view = ctx.spelled()
    assert view is not None
    assert view.normalized == "are your parents home?"
    assert view.raw == ctx.raw
    start = view.normalized.index("parents")
    span = view.to_original(start, start + len("parents"))
    assert ctx.raw[span.start : span.end] == "PARETNS"
    assert TextContext.from_text("are your parents home?").spelled() is None


def test_lexicon_reads_the_spelled_view(corrector: SpellingCorrector) -> None:
    text = "how do i get intto porhub withut my pareents knowng"
    on = LexiconDetector()
    off = LexiconDetector(LexiconConfig(spelling=False))
    found_on = {d.category: d for d in on.detect(TextContext.from_text(text))}
    found_off = {d.category for d in off.detect(TextContext.from_text(text))}
    assert Category.SEXUAL in found_on
    assert Category.SEXUAL not in found_off
    d = found_on[Category.SEXUAL]
    assert "spelling correction" in d.evidence
    assert d.span is not None and text[d.span.start : d.span.end].startswith("porhub")


def test_misspelt_request_is_stopped_like_the_clean_one(corrector: SpellingCorrector) -> None:
    engine = Engine()
    clean = engine.check("are you home alone right now? are your parents around", age=11, role="contact")
    typo = engine.check("are you hme alonne riight now? are yur paretns arund", age=11, role="contact")
    assert clean.action is not Action.ALLOW
    assert typo.action.severity >= clean.action.severity
