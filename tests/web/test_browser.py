"""End-to-end: real headless Chromium (Debian's) drives the pages; screenshots go to test-artifacts/."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import Site

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def page(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (no browser download)")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (apt-get install -y chromium)")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1100, "height": 800})
        yield page
        browser.close()


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_moderator_resolves_a_case_in_chromium(site: Site, page) -> None:  # type: ignore[no-untyped-def]
    site.decision("dec_browser1", "escalate", "grooming")
    site.app.state.web.users.create("mod", "mod-password-1", "moderator")
    page.goto(site.url + "/review")
    assert "/login" in page.url
    page.get_by_label("Username").fill("mod")
    page.get_by_label("Password").fill("mod-password-1")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/review")
    shot(page, "1-queue")
    page.locator("a[href^='/review/cases/']").first.click()
    page.get_by_role("button", name="Claim this case").click()
    page.get_by_label("Confirm").check()
    page.get_by_label("Reason").fill("adult asks a child for photos and secrecy")
    shot(page, "2-case-claimed")
    page.get_by_role("button", name="Save decision").click()
    page.wait_for_selector("#outcome")
    assert "confirm" in page.inner_text("#outcome")
    shot(page, "3-case-resolved")
    case = site.oversight.review.queue("resolved")[0]
    assert case.decision_id == "dec_browser1" and case.outcome == "confirm" and case.resolved_by == "mod"
    assert site.oversight.audit.verify().ok


def test_child_appeals_in_chromium(site: Site, page) -> None:  # type: ignore[no-untyped-def]
    site.decision("dec_browser2", "block", "violence")
    page.goto(site.url + "/appeal?decision_id=dec_browser2")
    page.get_by_label("Tell us why").fill("it was for my history homework")
    shot(page, "4-appeal-form")
    page.get_by_role("button", name="Ask to check again").click()
    page.wait_for_selector("#appeal-message")
    assert "safety team" in page.inner_text("#appeal-message")
    shot(page, "5-appeal-status")


def test_guardian_withdraws_consent_and_erases_in_chromium(site: Site, page) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    site.guardian("gdn_a", [site.child_id])
    site.decision("dec_erase_me", "escalate", "grooming")
    site.oversight.review.import_escalations()
    privacy = site.app.state.privacy
    for purpose in ("safety_checking", "analytics"):
        privacy.consent.record(
            site.child_id, "10-12", purpose, True, guardian_id="gdn_a", method="guardian_account", child_assent=True
        )
    site.app.state.web.users.create("parent", "parent-password", "guardian", "gdn_a")
    page.goto(site.url + "/login")
    page.get_by_label("Username").fill("parent")
    page.get_by_label("Password").fill("parent-password")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/guardian")
    shot(page, "6-guardian-home")
    page.locator(f"a[href='/guardian/children/{site.child_id}']").click()
    assert page.inner_text("#consent-analytics") == "yes"
    page.get_by_role("button", name="Withdraw consent for activity counts").click()
    page.wait_for_selector("#notice")
    assert page.inner_text("#consent-analytics") == "no" and page.inner_text("#consent-safety_checking") == "yes"
    shot(page, "7-consent-withdrawn")
    page.get_by_label("To erase all of this child's data, type ERASE").fill("ERASE")
    page.get_by_role("button", name="Erase all data").click()
    page.wait_for_selector("text=erased")
    shot(page, "8-erased")
    with site.store.engine.connect() as c:
        left = c.execute(text("SELECT count(*) FROM children WHERE id = :i"), {"i": site.child_id}).scalar()
    assert left == 0
    assert site.oversight.review.queue() == []  # the child's review case went with the erasure
    types = [r.data.get("event") for r in site.oversight.audit.records() if r.type in ("consent_change", "data_rights")]
    assert "consent.withdrawn" in types and "data.erased" in types
