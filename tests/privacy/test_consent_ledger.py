"""Consent ledger on real SQLite and PostgreSQL: grants, withdrawals, assent, validation, audit events."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from childsafe.privacy.consent import Purpose
from childsafe.privacy.hooks import PrivacyEvent
from childsafe.privacy.service import PrivacyServices
from childsafe.privacy.settings import PrivacySettings
from childsafe.privacy.testing import ManualClock
from childsafe.store import Store
from childsafe.store.crypto import load_master_key
from childsafe.store.testing import isolated_database
from childsafe.types import InvalidInputError

PG_URL = os.environ.get("CHILDSAFE_TEST_PG_URL")
PG = pytest.param(
    "postgresql",
    marks=[pytest.mark.postgres, pytest.mark.skipif(not PG_URL, reason="CHILDSAFE_TEST_PG_URL is not set")],
)


@pytest.fixture(params=["sqlite", PG])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[PrivacyServices, list[PrivacyEvent]]]:
    clock = ManualClock()
    with isolated_database(request.param, tmp_path, PG_URL) as url:
        store = Store.open(url, tmp_path / "data", clock=clock)
        events: list[PrivacyEvent] = []
        services = PrivacyServices(
            store, load_master_key(None, tmp_path / "data"), PrivacySettings(), audit=events.append, clock=clock
        )
        try:
            yield services, events
        finally:
            store.close()


def _child(services: PrivacyServices, user: str, band: str) -> str:
    app = services.store.apps.ensure("app", "key-1", 100)
    return services.store.children.get_or_create(app.id, user, band).id


def test_grant_and_withdraw_take_effect_at_once(world: tuple[PrivacyServices, list[PrivacyEvent]]) -> None:
    services, events = world
    child = _child(services, "kid", "10-12")
    guardian, _token = services.create_guardian("Parent")
    services.link_child(guardian.id, child)
    state = services.consent.state(child)
    assert state.enrolled and not state.allows(Purpose.SAFETY_CHECKING)

    services.consent.record(
        child, "10-12", "safety_checking", True, guardian_id=guardian.id, method="signed_form", child_assent=True
    )
    assert services.consent.state(child).allows(Purpose.SAFETY_CHECKING)
    assert not services.consent.state(child).allows(Purpose.ANALYTICS)

    services.consent.record(
        child, "10-12", Purpose.SAFETY_CHECKING, False, guardian_id=guardian.id, method="email_plus"
    )
    assert not services.consent.state(child).allows(Purpose.SAFETY_CHECKING)

    history = services.consent.history(child)
    assert [(e.purpose, e.granted, e.method) for e in history] == [
        ("safety_checking", True, "signed_form"),
        ("safety_checking", False, "email_plus"),
    ]
    assert history[0].guardian_id == guardian.id and history[0].notice_version == "1"
    assert [e["type"] for e in events] == [
        "guardian.created",
        "guardian.linked",
        "consent.granted",
        "consent.withdrawn",
    ]
    granted = events[2]
    assert granted["child_id"] == child and granted["actor"] == guardian.id
    assert granted["details"]["purpose"] == "safety_checking" and granted["details"]["child_assent"] is True


def test_child_dissent_overrides_a_grant(world: tuple[PrivacyServices, list[PrivacyEvent]]) -> None:
    services, _ = world
    child = _child(services, "teen", "13-15")
    g, _ = services.create_guardian("Carer")
    services.link_child(g.id, child)
    services.consent.record(child, "13-15", "analytics", True, guardian_id=g.id, method="id_check", child_assent=False)
    assert not services.consent.state(child).allows(Purpose.ANALYTICS)


def test_assent_is_asked_from_age_ten_but_not_below(world: tuple[PrivacyServices, list[PrivacyEvent]]) -> None:
    services, _ = world
    g, _ = services.create_guardian("Parent")
    older = _child(services, "older", "10-12")
    with pytest.raises(InvalidInputError, match="child_assent"):
        services.consent.record(older, "10-12", "human_review", True, guardian_id=g.id, method="signed_form")
    young = _child(services, "young", "6-9")
    services.consent.record(young, "6-9", "human_review", True, guardian_id=g.id, method="signed_form")
    assert services.consent.state(young).allows(Purpose.HUMAN_REVIEW)


def test_only_older_teens_consent_alone(world: tuple[PrivacyServices, list[PrivacyEvent]]) -> None:
    services, events = world
    eleven = _child(services, "eleven", "10-12")
    with pytest.raises(InvalidInputError, match="cannot consent alone"):
        services.consent.record(eleven, "10-12", "safety_checking", True, guardian_id=None, method="child_self")
    sixteen = _child(services, "sixteen", "16-17")
    services.consent.record(sixteen, "16-17", "safety_checking", True, guardian_id=None, method="child_self")
    assert services.consent.state(sixteen).allows(Purpose.SAFETY_CHECKING)
    assert events[-1]["actor"] == f"child:{sixteen}"


def test_bad_purpose_and_method_are_named(world: tuple[PrivacyServices, list[PrivacyEvent]]) -> None:
    services, events = world
    child = _child(services, "kid", "6-9")
    with pytest.raises(InvalidInputError, match="unknown consent purpose 'advertising'"):
        services.consent.record(child, "6-9", "advertising", True, guardian_id="g", method="signed_form")
    with pytest.raises(InvalidInputError, match="unknown consent method 'tick_box'"):
        services.consent.record(child, "6-9", "analytics", True, guardian_id="g", method="tick_box")
    assert events == [] and services.consent.history(child) == []


def test_unmanaged_child_is_not_enrolled(world: tuple[PrivacyServices, list[PrivacyEvent]]) -> None:
    services, _ = world
    child = _child(services, "walk-in", "10-12")
    assert not services.consent.state(child).enrolled
    assert services.may_store_messages(child)  # the operator's setting governs children outside the ledger
    services.settings = PrivacySettings(consent_required=True)
    assert services.consent_applies(child) and not services.may_store_messages(child)
