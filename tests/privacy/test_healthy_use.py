"""Healthy use with a controllable clock: daily limit, time-zone-aware quiet hours, breaks (both databases)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, time
from pathlib import Path

import pytest

from childsafe.privacy.healthy import HealthyUse, in_quiet_hours, kind_message, validate_settings
from childsafe.privacy.hooks import PrivacyEvent
from childsafe.privacy.service import PrivacyServices
from childsafe.privacy.testing import ManualClock
from childsafe.store import Store
from childsafe.store.crypto import load_master_key
from childsafe.store.privacy_sql import HealthySettingsRecord
from childsafe.store.testing import isolated_database
from childsafe.types import InvalidInputError

PG_URL = os.environ.get("CHILDSAFE_TEST_PG_URL")
PG = pytest.param(
    "postgresql",
    marks=[pytest.mark.postgres, pytest.mark.skipif(not PG_URL, reason="CHILDSAFE_TEST_PG_URL is not set")],
)


@pytest.fixture(params=["sqlite", PG])
def setup(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[HealthyUse, ManualClock, str, list[PrivacyEvent]]]:
    # 12:00 UTC on a March Monday is 12:00 in London and 07:00 in New York.
    clock = ManualClock(datetime(2026, 3, 2, 12, 0, tzinfo=UTC))
    with isolated_database(request.param, tmp_path, PG_URL) as url:
        store = Store.open(url, tmp_path / "data", clock=clock)
        events: list[PrivacyEvent] = []
        s = PrivacyServices(store, load_master_key(None, tmp_path / "data"), audit=events.append, clock=clock)
        app = store.apps.ensure("app", "k", 100)
        child = store.children.get_or_create(app.id, "kid", "10-12").id
        try:
            yield s.healthy, clock, child, events
        finally:
            store.close()


Setup = tuple[HealthyUse, ManualClock, str, list[PrivacyEvent]]


def test_no_settings_means_no_limits(setup: Setup) -> None:
    healthy, clock, child, _ = setup
    for _ in range(100):
        assert healthy.check(child, "10-12").allowed
        clock.advance(minutes=4)


def test_daily_limit_counts_continuous_use_and_resets_at_local_midnight(setup: Setup) -> None:
    healthy, clock, child, events = setup
    healthy.set_settings(child, HealthySettingsRecord(timezone="America/New_York", daily_limit_minutes=20), "g1")
    assert events[-1]["type"] == "healthy_use.updated" and events[-1]["details"]["daily_limit_minutes"] == 20
    allowed = 0
    verdict = healthy.check(child, "10-12")
    while verdict.allowed:
        allowed += 1
        clock.advance(minutes=1)
        verdict = healthy.check(child, "10-12")
    # one message a minute: the message at minute 20 finds the 20 minutes used up
    assert allowed == 20 and verdict.reason == "time_limit"
    assert verdict.message is not None and "today" in verdict.message
    assert verdict.resume_at is not None and verdict.resume_at.astimezone(UTC) == datetime(2026, 3, 3, 5, 0, tzinfo=UTC)
    assert healthy.usage_today(child) == pytest.approx(20.0)
    # Long gaps are not counted as use.
    clock.set(datetime(2026, 3, 3, 4, 59, tzinfo=UTC))  # 23:59 in New York: still the same local day
    assert healthy.check(child, "10-12").reason == "time_limit"
    clock.set(datetime(2026, 3, 3, 5, 1, tzinfo=UTC))  # 00:01 in New York: a new day
    assert healthy.check(child, "10-12").allowed


def test_gaps_longer_than_five_minutes_count_only_five(setup: Setup) -> None:
    healthy, clock, child, _ = setup
    healthy.set_settings(child, HealthySettingsRecord(daily_limit_minutes=60, break_minutes=30), "g1")
    healthy.check(child, "10-12")
    clock.advance(minutes=9)
    healthy.check(child, "10-12")
    assert healthy.usage_today(child) == pytest.approx(5.0)


def test_quiet_hours_follow_the_childs_time_zone(setup: Setup) -> None:
    healthy, clock, child, _ = setup
    s = HealthySettingsRecord(timezone="Asia/Tokyo", quiet_start="20:30", quiet_end="07:00")
    healthy.set_settings(child, s, "g1")
    # 12:00 UTC is 21:00 in Tokyo: quiet
    v = healthy.check(child, "6-9")
    assert not v.allowed and v.reason == "quiet_hours"
    assert v.message == "It's rest time now. I'll be here again at 07:00. Sleep well!"
    clock.set(datetime(2026, 3, 2, 22, 0, tzinfo=UTC))  # 07:00 Tokyo
    assert healthy.check(child, "6-9").allowed
    clock.set(datetime(2026, 3, 2, 11, 29, tzinfo=UTC))  # 20:29 Tokyo
    assert healthy.check(child, "6-9").allowed
    # The same settings in London: 12:00 is daytime.
    healthy.set_settings(
        child, HealthySettingsRecord(timezone="Europe/London", quiet_start="20:30", quiet_end="07:00"), "g"
    )
    clock.set(datetime(2026, 3, 2, 12, 0, tzinfo=UTC))
    assert healthy.check(child, "6-9").allowed


def test_break_after_continuous_use_then_resume(setup: Setup) -> None:
    healthy, clock, child, _ = setup
    healthy.set_settings(child, HealthySettingsRecord(break_after_minutes=30, break_minutes=10), "g1")
    for _ in range(30):
        assert healthy.check(child, "13-15").allowed
        clock.advance(minutes=1)
    v = healthy.check(child, "13-15")
    assert v.reason == "break" and v.message is not None and "10-minute break" in v.message
    clock.advance(minutes=5)  # asking again during the break does not end it
    assert healthy.check(child, "13-15").reason == "break"
    clock.advance(minutes=6)  # 11 minutes after the last allowed message: the break is over
    assert healthy.check(child, "13-15").allowed


def test_quiet_hours_window() -> None:
    assert in_quiet_hours(time(22, 0), time(21, 0), time(7, 0))
    assert in_quiet_hours(time(6, 59), time(21, 0), time(7, 0))
    assert not in_quiet_hours(time(7, 0), time(21, 0), time(7, 0))
    assert in_quiet_hours(time(13, 0), time(13, 0), time(15, 0))
    assert not in_quiet_hours(time(15, 0), time(13, 0), time(15, 0))


@pytest.mark.parametrize("band", ["0-5", "6-9", "10-12", "13-15", "16-17"])
@pytest.mark.parametrize("reason", ["quiet_hours", "time_limit", "break"])
def test_messages_are_short_and_kind(band: str, reason: str) -> None:
    msg = kind_message(reason, band, resume="07:00", break_minutes=10)
    assert 20 < len(msg) < 140
    assert not any(word in msg.lower() for word in ("denied", "error", "forbidden", "violation", "blocked"))


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        (HealthySettingsRecord(timezone="Mars/Base"), "time zone"),
        (HealthySettingsRecord(quiet_start="21:00"), "together"),
        (HealthySettingsRecord(quiet_start="9pm", quiet_end="07:00"), "quiet_start"),
        (HealthySettingsRecord(daily_limit_minutes=-5), "daily_limit_minutes"),
        (HealthySettingsRecord(break_after_minutes=0), "break_after_minutes"),
    ],
)
def test_bad_settings_are_named(settings: HealthySettingsRecord, field: str) -> None:
    with pytest.raises(InvalidInputError, match=field):
        validate_settings(settings)
