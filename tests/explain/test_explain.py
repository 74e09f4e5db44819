import pytest

from childsafe.explain import GRADE_TARGET, child_message, fk_grade, level_for
from childsafe.explain.messages import _APPEAL, _CRISIS, _HELP, _TOPIC, _UNAVAILABLE, _WARN_PREFIX
from childsafe.policy import decide, load_policy
from childsafe.types import Action, AgeBand, Category, Detection, Role


@pytest.mark.parametrize("level", ["young", "middle", "teen", "adult"])
def test_every_message_meets_its_readability_target(level: str) -> None:
    texts = [t[level] for t in _TOPIC.values()] + [
        _CRISIS[level], _HELP[level], _UNAVAILABLE[level], _APPEAL[level]
    ]
    # The warning prefix and the appeal line are only ever shown joined to a topic message.
    texts += [f"{_WARN_PREFIX[level]} {t[level]}" for t in _TOPIC.values()]
    texts += [f"{t[level]} {_APPEAL[level]}" for t in _TOPIC.values()]
    for text in texts:
        assert fk_grade(text) <= GRADE_TARGET[level], (level, round(fk_grade(text), 1), text)


def test_readability_measure_distinguishes_hard_text() -> None:
    hard = "Notwithstanding institutional considerations, comprehensive psychological evaluation is recommended."
    assert fk_grade(hard) > GRADE_TARGET["adult"]


@pytest.mark.parametrize("band", list(AgeBand))
def test_self_harm_message_points_to_help(band: AgeBand) -> None:
    d = decide(load_policy(), [Detection(Category.SELF_HARM, 0.9, "t", "1")], band, Role.CHILD)
    msg = child_message(d)
    assert msg is not None and ("988" in msg or "helpline" in msg)


def test_allow_has_no_message_and_block_invites_appeal() -> None:
    pol = load_policy()
    allowed = decide(pol, [], AgeBand.AGE_6_9, Role.CHILD)
    assert child_message(allowed) is None
    blocked = decide(pol, [Detection(Category.HATE, 0.9, "t", "1")], AgeBand.AGE_6_9, Role.CHILD)
    assert blocked.action is Action.BLOCK
    msg = child_message(blocked)
    assert msg is not None and "grown-up" in msg and level_for(AgeBand.AGE_6_9) == "young"
