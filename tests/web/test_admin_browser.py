"""The admin's account page and a guardian's invitation, driven in real headless Chromium (Debian's), with a
screenshot of the admin page (saved under pytest's tmp_path, not in the repository)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import Site

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
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
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (no browser download)")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (apt-get install -y chromium)")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def new_page(browser: Any) -> Any:
    """A page in a context of its own: its own cookies, as a second person's browser."""
    return browser.new_context(viewport={"width": 1100, "height": 800}).new_page()


def log_in(page: Any, site: Site, username: str, password: str, landing: str) -> None:
    page.goto(site.url + "/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"**{landing}")


def test_admin_creates_and_disables_a_moderator_in_chromium(site: Site, browser: Any) -> None:
    site.app.state.web.users.create("boss", "boss-password-1", "admin")
    admin = new_page(browser)
    log_in(admin, site, "boss", "boss-password-1", "/review")
    admin.get_by_role("link", name="Accounts").click()
    admin.wait_for_url("**/admin/users")
    admin.get_by_label("Username", exact=True).fill("newmod")
    admin.get_by_label("Role").select_option("moderator")
    admin.get_by_role("button", name="Create account").click()
    password = admin.inner_text("#secret-value").strip()
    assert len(password) >= 12 and "newmod" in admin.inner_text("#notice")

    mod = new_page(browser)
    log_in(mod, site, "newmod", password, "/review")
    admin.get_by_role("button", name="Disable newmod").click()
    admin.wait_for_selector("#notice")
    assert admin.inner_text("#account-newmod .state") == "disabled"
    mod.goto(site.url + "/review")
    assert "/login" in mod.url  # the moderator's open session ended
    mod.get_by_label("Username").fill("newmod")
    mod.get_by_label("Password").fill(password)
    mod.get_by_role("button", name="Log in").click()
    assert "Wrong username or password" in mod.inner_text("main")


def test_guardian_sets_a_password_from_an_invitation_in_chromium(site: Site, browser: Any) -> None:
    site.guardian("gd_family", [site.child_id])
    site.app.state.web.users.create("boss", "boss-password-1", "admin")
    admin = new_page(browser)
    log_in(admin, site, "boss", "boss-password-1", "/review")
    admin.goto(site.url + "/admin/users")
    admin.get_by_label("Guardian record id", exact=True).fill("gd_family")
    admin.get_by_label("Username for the guardian").fill("mum")
    admin.get_by_role("button", name="Create invitation link").click()
    link = admin.inner_text("#secret-value").strip()
    assert "/invite/inv_" in link and "mum" in admin.inner_text("#invitations")

    guardian = new_page(browser)
    guardian.goto(link)
    assert guardian.inner_text("#invite-username") == "mum"
    guardian.get_by_label("New password", exact=True).fill("mum-password-12")
    guardian.get_by_label("New password again").fill("mum-password-12")
    guardian.get_by_role("button", name="Set password and sign in").click()
    guardian.wait_for_url("**/guardian")
    assert guardian.locator(f"a[href='/guardian/children/{site.child_id}']").is_visible()
    guardian.goto(link)
    assert "expired or was already used" in guardian.inner_text("main")


def test_admin_page_screenshot_shows_its_key_elements(site: Site, browser: Any, tmp_path: Path) -> None:
    site.app.state.web.users.create("boss", "boss-password-1", "admin")
    site.app.state.web.users.create("mod", "mod-password-1", "moderator")
    site.guardian("gd_family", [site.child_id])
    page = new_page(browser)
    log_in(page, site, "boss", "boss-password-1", "/review")
    page.goto(site.url + "/admin/users")
    page.get_by_label("Username", exact=True).fill("gran")
    page.get_by_label("Role").select_option("guardian")
    page.get_by_label("Guardian record id (guardian accounts only)").fill("gd_family")
    page.get_by_role("button", name="Create account").click()
    page.wait_for_selector("#secret")
    shot = tmp_path / "admin-users.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000

    key_elements = [
        page.get_by_role("heading", name="Accounts", exact=True),
        page.get_by_role("link", name="Accounts"),
        page.locator("#notice"),
        page.locator("#secret-value"),
        page.locator("#accounts"),
        page.locator("#account-mod"),
        page.locator("#account-gran"),
        page.get_by_role("button", name="Disable mod"),
        page.get_by_role("button", name="Reset the password of mod"),
        page.get_by_role("button", name="Create account"),
        page.get_by_role("heading", name="Invite a guardian"),
        page.get_by_role("button", name="Create invitation link"),
    ]
    for element in key_elements:
        assert element.is_visible(), element
        box = element.bounding_box()
        assert box is not None and box["width"] > 0 and box["height"] > 0
    assert page.inner_text("#account-gran").count("gd_family") == 1
    assert page.get_by_role("button", name="Disable boss").count() == 0  # no button to lock yourself out
