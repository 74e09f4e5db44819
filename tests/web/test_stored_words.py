"""A child's stored words (excerpts, appeal reasons) through the real gateway: sealed at rest under the child's
key, shown to moderators only with ``human_review`` consent (or under an audited legal override), unreadable
once the key is destroyed; per-child activity counts only with ``analytics`` consent."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import text

from .conftest import API_KEY, Site
from .test_pages import login

EXCERPT_WORDS = "keep it secret"  # in every excerpt Site.decision records


def _case_url(mod: httpx.Client, decision_id: str, site: Site) -> str:
    mod.get("/review")  # imports the escalations into cases
    case = next(c for c in site.oversight.review.queue() if c.decision_id == decision_id)
    return f"/review/cases/{case.id}"


def _enrol(site: Site, *purposes: str) -> str:
    """Link the site's child to a guardian with safety_checking and ``purposes`` granted; returns the guardian."""
    privacy = site.app.state.privacy
    guardian, _ = privacy.create_guardian("Parent")
    privacy.link_child(guardian.id, site.child_id)
    for purpose in ("safety_checking", *purposes):
        privacy.consent.record(
            site.child_id, "10-12", purpose, True, guardian_id=guardian.id, method="signed_form", child_assent=True
        )
    return str(guardian.id)


def _last_view(site: Site) -> dict[str, object]:
    views = [r for r in site.oversight.audit.records() if r.type == "moderator_view"]
    return dict(views[-1].data)


def test_excerpts_and_appeal_reasons_are_sealed_and_unreadable_once_the_key_is_gone(site: Site) -> None:
    site.decision("dec_s1", "block", "violence")
    with httpx.Client(base_url=site.url, trust_env=False, timeout=10) as c:
        r = c.post(
            "/v1/appeals",
            json={"decision_id": "dec_s1", "reason": "it was homework about my hamster Biscuit"},
            headers={"Authorization": f"Bearer {API_KEY}"},
        )
        assert r.status_code == 201, r.text
    with site.store.engine.connect() as conn:
        stored = [
            *conn.execute(text("SELECT excerpt FROM decisions")).scalars(),
            *conn.execute(text("SELECT excerpt FROM review_cases")).scalars(),
            *conn.execute(text("SELECT reason FROM appeals")).scalars(),
        ]
    assert len(stored) == 3 and all(v.startswith("cs1:c:") for v in stored)  # sealed under the child's key
    assert not any(EXCERPT_WORDS in v or "Biscuit" in v for v in stored)

    site.app.state.web.users.create("mod", "mod-password-1", "moderator")
    mod = login(site, "mod", "mod-password-1")
    url = _case_url(mod, "dec_s1", site)
    page = mod.get(url).text
    assert EXCERPT_WORDS in page and "hamster Biscuit" in page  # opened where a moderator needs them

    # Erasure destroys the child's key; a case kept for an incident report keeps only ciphertext.
    assert site.app.state.privacy.keyring.destroy(site.child_id)
    page = mod.get(url).text
    assert '<em id="words-erased">(unreadable: the child\'s data was erased)</em>' in page
    assert EXCERPT_WORDS not in page and "Biscuit" not in page
    assert site.store.decisions.get("dec_s1").excerpt is None  # type: ignore[union-attr]


def test_without_human_review_consent_moderators_see_categories_and_scores_only(site: Site) -> None:
    guardian = _enrol(site)  # safety_checking only
    site.decision("dec_h1", "escalate", "grooming")
    site.app.state.web.users.create("mod", "mod-password-1", "moderator")
    mod = login(site, "mod", "mod-password-1")
    url = _case_url(mod, "dec_h1", site)

    page = mod.get(url).text
    assert "Human review consent withheld" in page and EXCERPT_WORDS not in page
    assert "grooming 0.90" in page and "category grooming" in page
    view = _last_view(site)
    assert view["decision_id"] == "dec_h1" and view["human_review_consent"] is False
    assert view["words_shown"] is False and view["messages_shown"] == 0

    privacy = site.app.state.privacy
    privacy.consent.record(
        site.child_id, "10-12", "human_review", True, guardian_id=guardian, method="signed_form", child_assent=True
    )
    page = mod.get(url).text
    assert EXCERPT_WORDS in page and "consent withheld" not in page
    assert _last_view(site)["words_shown"] is True and "human_review_consent" not in _last_view(site)

    privacy.consent.record(site.child_id, "10-12", "human_review", False, guardian_id=guardian, method="signed_form")
    assert EXCERPT_WORDS not in mod.get(url).text  # a withdrawal counts from the next view


def test_a_legal_obligation_overrides_withheld_consent_and_is_audited(site: Site) -> None:
    _enrol(site)  # no human_review consent
    site.decision("dec_r1", "report", "sexual_minors")
    site.decision("dec_e1", "escalate", "grooming")
    site.app.state.web.users.create("mod", "mod-password-1", "moderator")
    mod = login(site, "mod", "mod-password-1")

    page = mod.get(_case_url(mod, "dec_r1", site)).text  # a report must be assessed whatever the consents
    assert EXCERPT_WORDS in page and "legal obligation (mandatory_report)" in page
    view = _last_view(site)
    assert view["legal_override"] == "mandatory_report" and view["human_review_consent"] is False
    assert view["words_shown"] is True

    escalated = _case_url(mod, "dec_e1", site)
    assert EXCERPT_WORDS not in mod.get(escalated).text
    site.app.state.privacy.rights.place_hold(site.child_id, "IR-7", "incident report", "operator")
    page = mod.get(escalated).text
    assert EXCERPT_WORDS in page and "legal obligation (legal_hold)" in page
    assert _last_view(site)["legal_override"] == "legal_hold"


def test_guardian_activity_counts_need_analytics_consent(site: Site) -> None:
    guardian = _enrol(site)
    site.decision("dec_a1", "escalate", "grooming")
    site.app.state.web.users.create("parent", "parent-pass-1", "guardian", guardian)
    parent = login(site, "parent", "parent-pass-1")
    child_page = f"/guardian/children/{site.child_id}"
    for path in ("/guardian", child_page):
        page = parent.get(path).text
        assert "Activity counts are off" in page and "messages checked" not in page and "<svg" not in page, path

    site.app.state.privacy.consent.record(
        site.child_id, "10-12", "analytics", True, guardian_id=guardian, method="guardian_account", child_assent=True
    )
    assert "Last 7 days: 1 messages checked" in parent.get("/guardian").text
    page = parent.get(child_page).text
    assert "Grooming signs" in page and not re.search("Activity counts are off", page)
