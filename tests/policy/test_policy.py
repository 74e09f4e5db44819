from pathlib import Path

import pytest

from childsafe.config import ConfigError
from childsafe.policy import decide, load_policy
from childsafe.types import Action, AgeBand, Category, Detection, Role

POLICY = load_policy()


def det(cat: Category, score: float) -> Detection:
    return Detection(cat, score, "test", "1")


# category, score, band, role -> expected action
CASES = [
    (Category.SEXUAL_MINORS, 0.6, "16-17", Role.CHILD, Action.REPORT),
    (Category.SEXUAL_MINORS, 0.6, "adult", Role.CONTACT, Action.REPORT),
    (Category.SEXUAL_MINORS, 0.35, "10-12", Role.CONTACT, Action.ESCALATE),
    (Category.GROOMING, 0.6, "10-12", Role.CONTACT, Action.ESCALATE),
    (Category.GROOMING, 0.35, "13-15", Role.CONTACT, Action.BLOCK),
    (Category.GROOMING, 0.4, "13-15", Role.CHILD, Action.WARN),
    (Category.SELF_HARM, 0.6, "13-15", Role.CHILD, Action.ESCALATE),
    (Category.SELF_HARM, 0.6, "13-15", Role.ASSISTANT, Action.BLOCK),
    (Category.SELF_HARM, 0.5, "13-15", Role.ASSISTANT, Action.ALLOW),  # supportive answers about self-harm
    (Category.VIOLENCE, 0.3, "6-9", Role.CHILD, Action.WARN),
    (Category.VIOLENCE, 0.5, "6-9", Role.CHILD, Action.BLOCK),
    (Category.VIOLENCE, 0.3, "13-15", Role.CHILD, Action.ALLOW),
    (Category.VIOLENCE, 0.4, "13-15", Role.CHILD, Action.WARN),
    (Category.VIOLENCE, 0.5, "13-15", Role.CHILD, Action.BLOCK),  # a request to hurt someone is stopped
    (Category.VIOLENCE, 0.7, "adult", Role.CHILD, Action.ALLOW),
    (Category.SEXUAL, 0.4, "6-9", Role.CHILD, Action.BLOCK),
    (Category.SEXUAL, 0.2, "16-17", Role.CHILD, Action.ALLOW),
    (Category.SEXUAL, 0.4, "16-17", Role.CHILD, Action.BLOCK),
    (Category.SEXUAL, 0.6, "adult", Role.CHILD, Action.ALLOW),
    (Category.DANGEROUS, 0.5, "13-15", Role.CHILD, Action.BLOCK),
    (Category.DANGEROUS, 0.5, "adult", Role.CHILD, Action.WARN),
    (Category.DRUGS, 0.4, "13-15", Role.CHILD, Action.BLOCK),
    (Category.DRUGS, 0.7, "10-12", Role.CHILD, Action.BLOCK),
    (Category.DRUGS, 0.6, "adult", Role.CHILD, Action.ALLOW),
    (Category.PERSONAL_INFO, 0.9, "10-12", Role.CHILD, Action.REDACT),
    (Category.PERSONAL_INFO, 0.9, "10-12", Role.ASSISTANT, Action.BLOCK),
    (Category.HARASSMENT, 0.2, "10-12", Role.CHILD, Action.ALLOW),
    (Category.OTHER_UNSAFE, 0.5, "13-15", Role.CHILD, Action.WARN),
    (Category.OTHER_UNSAFE, 0.7, "13-15", Role.CHILD, Action.BLOCK),
]


@pytest.mark.parametrize(("cat", "score", "band", "role", "expected"), CASES)
def test_policy_table(cat: Category, score: float, band: str, role: Role, expected: Action) -> None:
    d = decide(POLICY, [det(cat, score)], AgeBand.parse(band), role)
    assert d.action is expected
    assert (cat in d.categories) == (expected is not Action.ALLOW)
    assert d.policy_version == POLICY.version


def test_most_severe_wins_and_scores_cover_every_category() -> None:
    d = decide(POLICY, [det(Category.HARASSMENT, 0.5), det(Category.SELF_HARM, 0.9)], AgeBand.AGE_10_12, Role.CHILD)
    assert d.action is Action.ESCALATE
    assert set(d.categories) == {Category.HARASSMENT, Category.SELF_HARM}
    assert set(d.scores) == set(Category)
    assert len(d.rules) == 2 and len(d.reasons) == 2


def test_fail_closed_on_detector_error() -> None:
    d = decide(POLICY, [], AgeBand.AGE_10_12, Role.CHILD, {"errors": ["classifier"]})
    assert d.action is Action.BLOCK
    assert d.reasons[0].startswith("safety check unavailable")


def test_operator_policy_validation_names_key_and_line(tmp_path: Path) -> None:
    p = tmp_path / "p.yaml"
    p.write_text(
        'version: "x"\nrules:\n  - {id: a, category: violence, min_score: 0.5, action: block}\n'
        "  - id: b\n    category: violense\n    min_score: 0.5\n    action: block\n"
    )
    with pytest.raises(ConfigError) as exc:
        load_policy(p)
    msg = str(exc.value)
    assert "rules.1.category" in msg and "line 5" in msg


def test_duplicate_rule_ids_rejected(tmp_path: Path) -> None:
    p = tmp_path / "p.yaml"
    rule = "{id: a, category: hate, min_score: 0.5, action: block}"
    p.write_text(f'version: "x"\nrules:\n  - {rule}\n  - {rule}\n')
    with pytest.raises(ConfigError, match="duplicate rule id"):
        load_policy(p)
