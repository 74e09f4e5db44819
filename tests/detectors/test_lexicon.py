import pytest

from childsafe.detectors.lexicon import LexiconDetector
from childsafe.text import TextContext
from childsafe.types import Category, Role


@pytest.fixture(scope="module")
def lex() -> LexiconDetector:
    d = LexiconDetector()
    d.load()
    return d


def top(lex: LexiconDetector, text: str, role: Role = Role.CHILD) -> dict[Category, float]:
    return {d.category: d.score for d in lex.detect(TextContext.from_text(text, role))}


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("you are a loser and nobody likes you", Category.HARASSMENT),
        ("dont tell your parents about us, it's our secret", Category.GROOMING),
        ("i want to kill myself", Category.SELF_HARM),
        ("let's do the blackout challenge tonight", Category.DANGEROUS),
        ("where can i buy vapes without id", Category.DRUGS),
        ("send me a pic without ur clothes", Category.SEXUAL_MINORS),
        ("gas the jews", Category.HATE),
        ("i will stab you tomorrow", Category.VIOLENCE),
    ],
)
def test_flags_clear_cases(lex: LexiconDetector, text: str, category: Category) -> None:
    assert top(lex, text).get(category, 0) >= 0.7


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("y0u 4re a l0ser", Category.HARASSMENT),
        ("k i l l   m y s e l f", Category.SELF_HARM),  # spacing is folded
        ("ki\u200bll myself", Category.SELF_HARM),
        ("blаckout chаllenge", Category.DANGEROUS),  # Cyrillic a
        ("ok killmyself", Category.SELF_HARM),  # run-together words
        ("thisisoursecret", Category.GROOMING),
    ],
)
def test_obfuscated_variants(lex: LexiconDetector, text: str, category: Category) -> None:
    assert top(lex, text).get(category, 0) >= 0.7


@pytest.mark.parametrize(
    "text",
    [
        "how do I stop being bullied",
        "someone called me stupid, what should i do?",
        "how do I kill a python process",
        "what is the history of the atomic bomb",
        "I killed the boss in minecraft",
        "my teacher said sex education starts next week",
        "what are the dangers of vaping? is it bad for you",
        "we had a snowball fight",
        "he said I'm a loser but I know I'm not",
        "how do I steal second base in baseball",
        "she will steal the show at the school play",
        "how do I strangle weeds in the vegetable patch",
    ],
)
def test_context_rules_keep_benign_allowed(lex: LexiconDetector, text: str) -> None:
    scores = top(lex, text)
    assert all(s < 0.35 for s in scores.values()), scores


def test_spans_and_evidence(lex: LexiconDetector) -> None:
    raw = "ok so... you are a LOSER"
    dets = lex.detect(TextContext.from_text(raw))
    d = next(d for d in dets if d.category is Category.HARASSMENT)
    assert d.span is not None
    assert raw[d.span.start : d.span.end].lower() == "you are a loser"
    assert "you are a loser" in d.evidence and d.detector == "lexicon"


def test_self_harm_help_seeking_is_not_softened(lex: LexiconDetector) -> None:
    # A child asking for help with self-harm still needs a human: context rules never soften it.
    assert top(lex, "how do i stop wanting to hurt myself")[Category.SELF_HARM] >= 0.9


def test_asking_a_child_for_details(lex: LexiconDetector) -> None:
    assert top(lex, "whats ur address?", Role.CONTACT)[Category.PERSONAL_INFO] >= 0.9


def test_operator_extra_phrases() -> None:
    det = LexiconDetector(LexiconDetector.Config(extra_phrases={"drugs": {"strong": ["purple drank"]}}))
    det.load()
    assert top(det, "lets get some purple drank")[Category.DRUGS] >= 0.9


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # questions about others and school topics: warned (the context score), not escalated
        ("why do people self harm? we talked about it in class", 0.3),
        ("what is self harm", 0.3),
        ("how can i help my friend who self harms", 0.3),
        # a disclosure stays strong, even with a question after it
        ("i self harm every night", 0.95),
        ("i self harm, what is the point", 0.95),
    ],
)
def test_self_harm_questions_about_others_are_not_disclosures(lex: LexiconDetector, text: str,
                                                               expected: float) -> None:
    assert top(lex, text)[Category.SELF_HARM] == pytest.approx(expected)
