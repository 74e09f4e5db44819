"""The guardian pages through the real app (uvicorn on loopback, SQLite and PostgreSQL): events in plain words,
trend charts gated by the analytics consent, consent and time-limit forms, and the demo family."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from childsafe.config import Config
from childsafe.detectors.lexicon import LexiconDetector
from childsafe.engine import Engine
from childsafe.gateway import create_app
from childsafe.gateway.demo import DEMO_CHILD, DEMO_KEY
from childsafe.privacy.consent import Purpose
from childsafe.store import DecisionEntry

from .conftest import Site
from .test_pages import csrf_of, login

WORDS = "zebra-lantern keep it secret"  # stands for the child's words: must never reach a guardian page


def flag(site: Site, did: str, action: str, category: str, *, role: str = "contact", days_ago: float = 0) -> datetime:
    at = datetime.now(UTC) - timedelta(days=days_ago)
    site.store.decisions.record(
        [
            DecisionEntry(
                id=did,
                kind="input",
                action=action,
                categories=[category],
                scores={category: 0.9},
                reasons=["test"],
                policy_version="p1",
                age_band="10-12",
                role=role,
                excerpt=WORDS,
                app_id=site.app_id,
                child_id=site.child_id,
                conversation_id="conv-web",
                created_at=at,
            )
        ]
    )
    return at


def family(site: Site, *, analytics: bool) -> httpx.Client:
    site.guardian("gdn_a", [site.child_id])
    if analytics:
        site.app.state.privacy.consent.record(
            site.child_id, "10-12", "analytics", True, guardian_id="gdn_a", method="guardian_account", child_assent=True
        )
    site.app.state.web.users.create("parent", "parent-password", "guardian", "gdn_a")
    return login(site, "parent", "parent-password")


def table_rows(html: str, table_id: str) -> list[tuple[str, int]]:
    m = re.search(rf'<table[^>]*id="{table_id}".*?<tbody>(.*?)</tbody>', html, re.S)
    assert m is not None, table_id
    return [(a, int(b)) for a, b in re.findall(r"<tr><td>([^<]*)</td><td>(\d+)</td></tr>", m.group(1))]


def test_events_are_plain_words_with_time_and_action_never_the_childs_words(site: Site) -> None:
    at = flag(site, "dec_g", "escalate", "grooming")
    flag(site, "dec_p", "redact", "personal_info", role="child", days_ago=2)
    flag(site, "dec_ok", "allow", "grooming", days_ago=1)  # not flagged: not an event
    flag(site, "dec_old", "block", "violence", days_ago=40)  # older than the list's 30 days
    parent = family(site, analytics=False)
    page = parent.get(f"/guardian/children/{site.child_id}").text
    rows = re.findall(
        r"<tr><td><time datetime=\"([^\"]+)\">[^<]+</time></td><td>([^<]+)</td><td>([^<]+)</td></tr>", page
    )
    assert [r[0] for r in rows] == [at.isoformat(timespec="seconds"), rows[1][0]] and len(rows) == 2
    assert rows[0][1] == (
        "A message someone sent to your child that looked like someone asking for photos or secrets, "
        "or trying to get too close to a child."
    )
    assert "a trained safety reviewer was asked to look at it" in rows[0][2]
    assert rows[1][1].startswith("A message your child wrote that looked like personal details being shared")
    assert "personal details were hidden" in rows[1][2]
    home = parent.get("/guardian").text
    assert "someone asking for photos or secrets" in home and "personal details were hidden" in home
    for html in (page, home):
        assert "zebra-lantern" not in html and "keep it secret" not in html
        assert "personal_info" not in html and "escalate" not in html  # no codes


def test_trend_charts_per_week_and_category_with_a_table_fallback(site: Site) -> None:
    flag(site, "dec_1", "block", "harassment")
    flag(site, "dec_2", "warn", "harassment", role="child")
    flag(site, "dec_3", "block", "violence", days_ago=14)
    parent = family(site, analytics=True)
    page = parent.get(f"/guardian/children/{site.child_id}").text
    weeks = table_rows(page, "week-table")
    assert len(weeks) == 8 and [n for _, n in weeks][-3:] == [1, 0, 2] and sum(n for _, n in weeks) == 3
    assert table_rows(page, "category-table") == [("Bullying or harassment", 2), ("Violence", 1)]
    week_svg = re.search(r'id="week-chart">.*?(<svg.*?</svg>)', page, re.S)
    assert week_svg is not None and week_svg.group(1).count("<rect") == 8
    heights = [int(h) for h in re.findall(r'<rect [^>]*height="(\d+)"', week_svg.group(1))]
    assert heights[-1] == 2 * heights[-3] > 0 and heights[-2] == 0  # bars in proportion to the counts
    assert page.count('<svg class="chart"') == 2 and "<script" not in page
    home = parent.get("/guardian").text
    assert table_rows(home.replace('<table class="sr-only">', '<table class="sr-only" id="w">'), "w")[-1] == (
        weeks[-1][0],
        2,
    )


def test_counts_and_charts_are_withheld_without_analytics_consent(site: Site) -> None:
    flag(site, "dec_1", "block", "harassment")
    parent = family(site, analytics=False)
    page = parent.get(f"/guardian/children/{site.child_id}").text
    assert 'id="analytics-off"' in page and "activity counts" in page
    assert "<svg" not in page and "week-table" not in page and "messages checked" not in page
    assert "looked like bullying or harassment" in page  # the list of events is still the parent's to see
    home = parent.get("/guardian").text
    assert "Activity counts are off" in home and "<svg" not in home


def test_guardian_grants_and_withdraws_consent_from_the_page(site: Site) -> None:
    parent = family(site, analytics=False)
    privacy = site.app.state.privacy
    url = f"/guardian/children/{site.child_id}"
    token = csrf_of(parent.get(url).text)
    refused = parent.post(f"{url}/consent/analytics/grant", data={"csrf": token})
    assert refused.status_code == 400 and "Activity counts: children aged 10 and over are asked too" in refused.text
    assert not privacy.allows(site.child_id, Purpose.ANALYTICS)
    assert parent.post(f"{url}/consent/analytics/grant", data={"child_assent": "yes"}).status_code == 403
    granted = parent.post(f"{url}/consent/analytics/grant", data={"csrf": token, "child_assent": "yes"})
    assert granted.status_code == 303 and privacy.allows(site.child_id, Purpose.ANALYTICS)
    entry = privacy.consent.history(site.child_id)[-1]
    assert (entry.guardian_id, entry.method, entry.child_assent) == ("gdn_a", "guardian_account", True)
    after = parent.get(granted.headers["location"]).text
    assert "Consent for activity counts given." in after and 'id="consent-analytics">yes' in after
    withdrawn = parent.post(f"{url}/consent/analytics/withdraw", data={"csrf": token})
    assert withdrawn.status_code == 303 and not privacy.allows(site.child_id, Purpose.ANALYTICS)
    unknown = parent.post(f"{url}/consent/zz-purpose/grant", data={"csrf": token, "child_assent": "yes"})
    assert unknown.status_code == 404 and "zz-purpose" not in unknown.text


def test_guardian_sets_limits_quiet_hours_and_breaks_from_the_page(site: Site) -> None:
    parent = family(site, analytics=False)
    privacy = site.app.state.privacy
    url = f"/guardian/children/{site.child_id}"
    token = csrf_of(parent.get(url).text)
    form = {
        "csrf": token,
        "daily_limit_minutes": "45",
        "quiet_start": "20:30",
        "quiet_end": "07:00",
        "break_after_minutes": "30",
        "break_minutes": "10",
        "timezone": "Europe/London",
    }
    saved = parent.post(f"{url}/healthy-use", data=form)
    assert saved.status_code == 303, saved.text
    s = privacy.healthy.settings(site.child_id)
    assert (s.timezone, s.daily_limit_minutes, s.quiet_start, s.quiet_end) == ("Europe/London", 45, "20:30", "07:00")
    assert (s.break_after_minutes, s.break_minutes) == (30, 10)
    page = parent.get(saved.headers["location"]).text
    assert 'name="quiet_start" type="time" value="20:30"' in page and "Times are shown in Europe/London" in page
    none_today = {**form, "daily_limit_minutes": "0", "quiet_start": "", "quiet_end": "", "break_after_minutes": ""}
    assert parent.post(f"{url}/healthy-use", data=none_today).status_code == 303
    verdict = privacy.healthy.check(site.child_id, "10-12", record=False)
    assert not verdict.allowed and verdict.reason == "time_limit"  # the gateway's gate reads the same settings


def test_bad_limits_are_refused_naming_the_field_without_echoing_it(site: Site) -> None:
    parent = family(site, analytics=False)
    url = f"/guardian/children/{site.child_id}"
    token = csrf_of(parent.get(url).text)
    bad = {
        "csrf": token,
        "daily_limit_minutes": "9999zz",
        "quiet_start": "25:99",
        "quiet_end": "",
        "break_after_minutes": "-3",
        "break_minutes": "0",
        "timezone": "Mars/Olympus_Mons",
    }
    r = parent.post(f"{url}/healthy-use", data=bad)
    assert r.status_code == 400
    for field in (
        "Daily time limit (minutes)",
        "Quiet hours start",
        "Quiet hours: set both",
        "Break after",
        "Break length",
        "Time zone",
    ):
        assert field in r.text, field
    for value in ("9999zz", "25:99", "-3", "Olympus"):
        assert value not in r.text, value
    assert 'id="daily_limit_minutes" name="daily_limit_minutes"' in r.text and 'aria-invalid="true"' in r.text
    assert site.app.state.privacy.healthy.settings(site.child_id) is None  # nothing saved


def test_demo_guardian_sees_the_demo_child_and_controls_its_chat(tmp_path: Path) -> None:
    config = Config.model_validate({"store": {"data_dir": str(tmp_path)}, "server": {"demo": True}})
    app = create_app(config, engine=Engine(detectors=[LexiconDetector()], config=config))
    chat = {"model": "demo", "user": DEMO_CHILD, "messages": [{"role": "user", "content": "hello"}]}
    auth = {"Authorization": f"Bearer {DEMO_KEY}"}
    with TestClient(app, follow_redirects=False) as tc:
        assert tc.post("/v1/chat/completions", json=chat, headers=auth).status_code == 200
        store = app.state.gateway.store
        demo_app = store.apps.by_key(DEMO_KEY)
        child = store.children.get(demo_app.id, DEMO_CHILD)
        token = csrf_of(tc.get("/login").text)
        r = tc.post("/login", data={"csrf": token, "username": "guardian", "password": "guardian-demo"})
        assert r.status_code == 303 and r.headers["location"] == "/guardian"
        home = tc.get("/guardian").text
        assert f'href="/guardian/children/{child.id}"' in home
        assert "someone asking for photos or secrets" in home and '<svg class="chart"' in home
        page = tc.get(f"/guardian/children/{child.id}").text
        assert sum(n for _, n in table_rows(page, "week-table")) >= 6  # the seeded weeks draw a trend
        withdrawn = tc.post(
            f"/guardian/children/{child.id}/consent/safety_checking/withdraw", data={"csrf": csrf_of(page)}
        )
        assert withdrawn.status_code == 303
        assert tc.post("/v1/chat/completions", json=chat, headers=auth).status_code == 403  # the link is real


def test_erasure_from_the_page_runs_the_api_steps_queued_writes_first_then_caches_forget(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page used to call the erasure alone: writes still queued for the child could land after it and
    recreate rows, and the gateway kept serving the erased child's cached profile and conversation state."""
    parent = family(site, analytics=False)
    gw = site.app.state.gateway
    child = site.store.children.get(site.app_id, "kid-web")
    assert child is not None
    gw.remember_child("kid-web", child)
    gw.save_conversation(gw.load_conversation("conv-web"))  # the conversation's state is cached
    steps: list[str] = []
    flush, erase = gw.sink.flush, site.app.state.privacy.rights.erase
    monkeypatch.setattr(gw.sink, "flush", lambda *a, **k: (steps.append("flush"), flush(*a, **k))[1])
    monkeypatch.setattr(
        site.app.state.privacy.rights, "erase", lambda *a, **k: (steps.append("erase"), erase(*a, **k))[1]
    )
    url = f"/guardian/children/{site.child_id}"
    done = parent.post(f"{url}/erase", data={"csrf": csrf_of(parent.get(url).text), "confirm": "ERASE"})
    assert done.status_code == 200 and "data was erased." in done.text
    assert steps[:2] == ["flush", "erase"]
    assert all(c.id != site.child_id for c in gw._children.values())
    assert gw.load_conversation("conv-web") is None
