import dataclasses

import pytest

from childsafe.types import (
    Action,
    AgeBand,
    Category,
    Decision,
    Detection,
    InvalidInputError,
    Message,
    Role,
    Span,
)


@pytest.mark.parametrize(
    ("value", "band"),
    [
        (0, AgeBand.AGE_0_5),
        (5, AgeBand.AGE_0_5),
        (6, AgeBand.AGE_6_9),
        (11, AgeBand.AGE_10_12),
        ("11", AgeBand.AGE_10_12),
        ("10-12", AgeBand.AGE_10_12),
        (13, AgeBand.AGE_13_15),
        (17, AgeBand.AGE_16_17),
        (18, AgeBand.ADULT),
        ("adult", AgeBand.ADULT),
        ("18+", AgeBand.ADULT),
    ],
)
def test_age_band_parse(value: object, band: AgeBand) -> None:
    assert AgeBand.parse(value) is band  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["eleven", "10-13", "-1", 151, "", "9-10"])
def test_age_band_rejects_with_clear_message(bad: object) -> None:
    with pytest.raises(InvalidInputError) as exc:
        AgeBand.parse(bad)  # type: ignore[arg-type]
    assert "age" in str(exc.value)


def test_role_accepts_openai_user_as_child() -> None:
    assert Role.parse("user") is Role.CHILD
    assert Role.parse("Contact") is Role.CONTACT
    with pytest.raises(InvalidInputError, match="unknown role 'teacher'"):
        Role.parse("teacher")


def test_action_order_and_most_severe() -> None:
    order = [Action.ALLOW, Action.WARN, Action.REDACT, Action.BLOCK, Action.ESCALATE, Action.REPORT]
    assert [a.severity for a in order] == sorted(a.severity for a in order)
    assert Action.most_severe([Action.WARN, Action.ESCALATE, Action.BLOCK]) is Action.ESCALATE
    assert Action.most_severe([]) is Action.ALLOW
    assert not Action.REDACT.stops_content and Action.BLOCK.stops_content


def test_category_taxonomy_is_complete() -> None:
    assert {c.value for c in Category} == {
        "sexual_minors",
        "grooming",
        "sexual",
        "self_harm",
        "violence",
        "harassment",
        "hate",
        "dangerous",
        "drugs",
        "personal_info",
        "other_unsafe",
    }
    with pytest.raises(InvalidInputError, match="unknown category"):
        Category.parse("spam")


def test_detection_validates_score_and_span() -> None:
    with pytest.raises(ValueError):
        Detection(Category.HATE, 1.5, "x", "1")
    with pytest.raises(ValueError):
        Span(5, 2)


def test_message_parse() -> None:
    m = Message.parse({"role": "user", "content": "hi"})
    assert m == Message(Role.CHILD, "hi")
    with pytest.raises(InvalidInputError, match="no 'role'"):
        Message.parse({"text": "hi"})
    with pytest.raises(InvalidInputError, match="text"):
        Message.parse({"role": "child"})


def test_decision_is_frozen() -> None:
    d = Decision(
        Action.REDACT,
        [Category.HATE],
        {Category.HATE: 0.9},
        ["r"],
        ["hate.redact"],
        "1",
        AgeBand.AGE_10_12,
        Role.ASSISTANT,
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.action = Action.BLOCK  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.child_message = "no"  # type: ignore[misc]
    blocked = dataclasses.replace(d, action=Action.BLOCK)
    assert d.action is Action.REDACT and blocked.action is Action.BLOCK
    assert blocked.decision_id == d.decision_id
