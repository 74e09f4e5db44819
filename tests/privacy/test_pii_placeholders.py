"""Placeholder redaction and restoration: round trip, reuse, and restoration refused where unsafe."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from childsafe.privacy.pii import PiiRedactor, PlaceholderVault
from childsafe.types import InvalidInputError, Role


@pytest.fixture(scope="module")
def redactor() -> PiiRedactor:
    return PiiRedactor()


def test_round_trip_restores_safe_details(redactor: PiiRedactor) -> None:
    vault = PlaceholderVault()
    red = redactor.redact("hi im sophie and i go to lincoln elementary, im 9", vault)
    assert "sophie" not in red.text and "lincoln" not in red.text and " 9" not in red.text
    assert "[CHILD_NAME_1]" in red.text and "[CHILD_SCHOOL_1]" in red.text and "[CHILD_AGE_1]" in red.text
    answer = "Hello [CHILD_NAME_1]! [CHILD_SCHOOL_1] sounds fun, and [CHILD_AGE_1] is a great age."
    back = redactor.restore(answer, vault)
    assert back.text == "Hello sophie! lincoln elementary sounds fun, and 9 is a great age."
    assert {p.token for p in back.restored} == {"[CHILD_NAME_1]", "[CHILD_SCHOOL_1]", "[CHILD_AGE_1]"}
    assert back.withheld == []


def test_same_detail_gets_the_same_placeholder_across_turns(redactor: PiiRedactor) -> None:
    vault = PlaceholderVault()
    first = redactor.redact("i go to Lincoln Elementary", vault)
    second = redactor.redact("my friends at lincoln elementary are mean", vault)
    other = redactor.redact("i used to go to oakwood academy", vault)
    assert first.placeholders[0].token == second.placeholders[0].token == "[CHILD_SCHOOL_1]"
    assert other.placeholders[0].token == "[CHILD_SCHOOL_2]"


def test_contact_details_are_redacted_and_never_restored(redactor: PiiRedactor) -> None:
    vault = PlaceholderVault()
    red = redactor.redact("my number is 07700 900123 and my snap is lilz_2013", vault)
    assert "07700" not in red.text and "lilz" not in red.text
    back = redactor.restore("I won't share [CHILD_PHONE_1] or [CHILD_HANDLE_1] with anyone.", vault)
    assert "07700" not in back.text and "lilz" not in back.text
    assert "your phone number" in back.text and "your username" in back.text
    assert {t for t, _ in back.withheld} == {"[CHILD_PHONE_1]", "[CHILD_HANDLE_1]"}


def test_no_restoration_into_a_sentence_that_asks_for_details(redactor: PiiRedactor) -> None:
    vault = PlaceholderVault()
    redactor.redact("i go to kennedy high", vault)
    back = redactor.restore("Nice! Is [CHILD_SCHOOL_1] near you? What is your home address?", vault)
    assert "kennedy" in back.text  # first sentence is safe
    back2 = redactor.restore("What school do you go to, is it [CHILD_SCHOOL_1]?", vault)
    assert "kennedy" not in back2.text and "your school" in back2.text
    assert back2.withheld and "asks" in back2.withheld[0][1]


def test_no_restoration_where_the_answer_passes_the_detail_on(redactor: PiiRedactor) -> None:
    vault = PlaceholderVault()
    redactor.redact("my name is emma johnson", vault)
    back = redactor.restore("You could tell him your name is [CHILD_FULL_NAME_1].", vault)
    assert "emma" not in back.text.lower()
    assert "pass" in back.withheld[0][1]


def test_no_restoration_for_a_contact_or_third_party(redactor: PiiRedactor) -> None:
    vault = PlaceholderVault()
    redactor.redact("i go to lincoln elementary", vault)
    for recipient in (Role.CONTACT, Role.ASSISTANT, "system"):
        back = redactor.restore("[CHILD_SCHOOL_1] is great", vault, recipient=recipient)
        assert "lincoln" not in back.text and back.restored == []


def test_unknown_placeholders_become_neutral(redactor: PiiRedactor) -> None:
    back = redactor.restore("See you at [CHILD_SCHOOL_7] and [CHILD_WHATEVER_2].", PlaceholderVault())
    assert "[" not in back.text and "your school" in back.text
    assert len(back.withheld) == 2


def test_clear_contact_detail_in_answer_is_masked(redactor: PiiRedactor) -> None:
    vault = PlaceholderVault()
    redactor.redact("my email is jake.smith2012@gmail.com", vault)
    back = redactor.restore("I have jake.smith2012@gmail.com on file.", vault)
    assert "jake.smith2012" not in back.text


def test_only_the_childs_own_messages_are_redacted(redactor: PiiRedactor) -> None:
    vault = PlaceholderVault()
    text = "text me on 07911 123456"
    assert redactor.redact(text, vault, role="contact").text == text
    assert len(vault) == 0


def test_vault_state_round_trips_through_json(redactor: PiiRedactor) -> None:
    vault = PlaceholderVault()
    redactor.redact("i go to lincoln elementary, my number is 07700 900123", vault)
    restored = PlaceholderVault(json.loads(json.dumps(vault.state())))
    assert restored.state() == vault.state()
    again = redactor.redact("lincoln elementary is ok", restored)
    assert again.placeholders[0].token == "[CHILD_SCHOOL_1]"
    assert restored.placeholder_for(vault.get("[CHILD_PHONE_1]").type, "07700 900999").token == "[CHILD_PHONE_2]"  # type: ignore[union-attr]


def test_malformed_vault_state_is_a_clear_error() -> None:
    with pytest.raises(InvalidInputError, match="malformed"):
        PlaceholderVault({"placeholders": [{"token": "[CHILD_X_1]", "type": "not-a-type", "value": "v"}]})


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=160))
def test_redact_then_restore_never_crashes_and_keeps_unredacted_text(text: str) -> None:
    redactor = PiiRedactor()
    vault = PlaceholderVault()
    red = redactor.redact(text, vault)
    back = redactor.restore(red.text, vault)
    if not red.placeholders and "[CHILD_" not in text:
        assert red.text == text and back.text == text
