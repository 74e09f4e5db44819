"""The guardian pages in real headless Chromium (Debian's): a screenshot of the overview and of the child page
with their key elements visible (saved under pytest's tmp_path, not in the repository), and the consent and
time-limit forms used as a parent would."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .conftest import Site
from .test_admin_browser import browser, log_in, new_page  # noqa: F401  (the browser fixture)
from .test_guardian_pages import WORDS, flag

pytestmark = pytest.mark.browser


def _family(site: Site, *, analytics: bool) -> None:
    site.guardian("gdn_a", [site.child_id])
    if analytics:
        site.app.state.privacy.consent.record(
            site.child_id, "10-12", "analytics", True, guardian_id="gdn_a", method="guardian_account", child_assent=True
        )
    site.app.state.web.users.create("parent", "parent-password", "guardian", "gdn_a")


def _all_visible(elements: list[Any]) -> None:
    for element in elements:
        assert element.is_visible(), element
        box = element.bounding_box()
        assert box is not None and box["width"] > 0 and box["height"] > 0, element


def test_guardian_pages_screenshots_show_their_key_elements(site: Site, browser: Any, tmp_path: Path) -> None:  # noqa: F811
    flag(site, "dec_g", "escalate", "grooming")
    flag(site, "dec_p", "warn", "personal_info", role="child", days_ago=8)
    flag(site, "dec_h", "block", "harassment", days_ago=20)
    _family(site, analytics=True)
    page = new_page(browser)
    log_in(page, site, "parent", "parent-password", "/guardian")
    overview = tmp_path / "guardian-overview.png"
    page.screenshot(path=str(overview), full_page=True)
    assert overview.stat().st_size > 10_000
    _all_visible(
        [
            page.get_by_role("heading", name="My family"),
            page.get_by_role("link", name="Child 1", exact=True),
            page.get_by_role("heading", name="What happened recently"),
            page.locator("#events-1 li").first,
            page.locator("#week-chart-1 svg"),
            page.get_by_role("link", name="Details, consents and time limits for child 1"),
        ]
    )
    assert page.locator("#events-1 li").count() == 3
    assert "someone asking for photos or secrets" in page.inner_text("#events-1")

    page.get_by_role("link", name="Child 1", exact=True).click()
    page.wait_for_url(f"**/guardian/children/{site.child_id}")
    child = tmp_path / "guardian-child.png"
    page.screenshot(path=str(child), full_page=True)
    assert child.stat().st_size > 20_000
    _all_visible(
        [
            page.get_by_role("heading", name="What happened and when"),
            page.locator("#event-list"),
            page.get_by_role("heading", name="Trends"),
            page.locator("#week-chart svg"),
            page.locator("#category-chart svg"),
            page.get_by_role("heading", name="Consents"),
            page.get_by_role("button", name="Withdraw consent for activity counts"),
            page.get_by_role("button", name="Give consent for improve the checks"),
            page.get_by_role("heading", name="Time limits, quiet hours and breaks"),
            page.get_by_label("Daily time limit (minutes)"),
            page.get_by_label("Quiet hours start"),
            page.get_by_label("Quiet hours end"),
            page.get_by_label("Break after (minutes of chat)"),
            page.get_by_role("button", name="Save time limits"),
        ]
    )
    assert page.locator("#event-list tbody tr").count() == 3
    # the screen-reader tables carry the charts' numbers
    assert page.get_by_role("table", name="Flagged messages by kind").count() == 1
    assert "Grooming signs" in page.locator("#category-table").inner_text()
    assert "zebra-lantern" not in page.content() and WORDS not in page.content()


def test_guardian_changes_consents_and_limits_in_chromium(site: Site, browser: Any) -> None:  # noqa: F811
    flag(site, "dec_h", "block", "harassment")
    _family(site, analytics=False)
    privacy = site.app.state.privacy
    page = new_page(browser)
    log_in(page, site, "parent", "parent-password", "/guardian")
    page.goto(f"{site.url}/guardian/children/{site.child_id}")
    assert page.locator("#analytics-off").is_visible() and page.locator("#week-chart").count() == 0

    page.get_by_role("button", name="Give consent for activity counts").click()  # without the child's agreement
    page.wait_for_selector("#errors")
    assert "children aged 10 and over are asked too" in page.inner_text("#errors")
    page.locator("#assent-analytics").check()
    page.get_by_role("button", name="Give consent for activity counts").click()
    page.wait_for_selector("#notice")
    assert page.inner_text("#consent-analytics") == "yes" and page.locator("#week-chart svg").is_visible()
    page.get_by_role("button", name="Withdraw consent for activity counts").click()
    page.wait_for_selector("#analytics-off")
    assert page.inner_text("#consent-analytics") == "no"

    page.get_by_label("Daily time limit (minutes)").fill("60")
    page.get_by_label("Quiet hours start").fill("21:00")
    page.get_by_label("Quiet hours end").fill("07:00")
    page.get_by_label("Break after (minutes of chat)").fill("30")
    page.get_by_label("Time zone", exact=False).fill("Europe/London")
    page.get_by_role("button", name="Save time limits").click()
    page.wait_for_selector("#notice")
    assert "Time limits saved" in page.inner_text("#notice")
    assert page.get_by_label("Quiet hours start").input_value() == "21:00"
    s = privacy.healthy.settings(site.child_id)
    assert (s.daily_limit_minutes, s.quiet_start, s.quiet_end, s.break_after_minutes) == (60, "21:00", "07:00", 30)
    assert s.timezone == "Europe/London"

    page.get_by_label("Daily time limit (minutes)").fill("5000")
    page.get_by_role("button", name="Save time limits").click()
    page.wait_for_selector("#errors")
    assert "Daily time limit (minutes): enter whole minutes from 0 to 1440" in page.inner_text("#errors")
    assert page.get_by_label("Daily time limit (minutes)").get_attribute("aria-invalid") == "true"
    assert "5000" not in page.content()
    assert privacy.healthy.settings(site.child_id).daily_limit_minutes == 60  # unchanged
