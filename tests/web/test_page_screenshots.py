"""Every HTML page of the web face in real headless Chromium (Debian's), at a phone (390 px) and a desktop
(1280 px) width: the page's key elements are visible, nothing overflows sideways, and a full-page screenshot
``<page>-<width>.png`` is saved to ``$CHILDSAFE_SCREENSHOTS`` (default: the test's tmp_path).

The data behind the pages is real: decisions in the store, the conversation in the (encrypted) message vault,
an appeal filed through the review service, a guardian with consents, and an invitation from the accounts
service."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from childsafe.store import DecisionEntry

from .conftest import Site
from .test_admin_browser import browser, log_in  # noqa: F401  (the browser fixture)
from .test_guardian_pages import family, flag

pytestmark = pytest.mark.browser

WIDTHS = (390, 1280)
PASSWORDS = {"mod": "mod-password-1", "boss": "boss-password-1", "parent": "parent-password"}
HOMES = {"mod": "/review", "boss": "/review", "parent": "/guardian"}
GROOMING = "a man from the game asked me for photos and said keep it secret"
GIFT = "he says he will send me a gift card if i send them tonight"
APPEAL_REASON = "he is my cousin, we were planning a surprise for grandma"


@dataclass
class World:
    """The ids the pages are opened with."""

    case_id: str
    appeal_id: str
    block_id: str
    invite_token: str


def _escalation(site: Site, decision_id: str, text: str, quote: str) -> None:
    """An escalated grooming decision with its detector finding, and the child's message in the vault."""
    start = text.index(quote)
    site.store.decisions.record(
        [
            DecisionEntry(
                id=decision_id,
                kind="input",
                action="escalate",
                categories=["grooming"],
                scores={"grooming": 0.86},
                reasons=["grooming score 0.86 >= 0.50 (escalate)"],
                policy_version="p1",
                age_band="10-12",
                role="child",
                excerpt=text,
                app_id=site.app_id,
                child_id=site.child_id,
                conversation_id="conv-web",
                extra={
                    "rules": ["grooming.escalate"],
                    "detections": [
                        {
                            "detector": "lexicon",
                            "version": "1",
                            "category": "grooming",
                            "score": 0.86,
                            "signal": "secrecy",
                            "span": [start, start + len(quote)],
                        }
                    ],
                },
            )
        ]
    )
    site.store.messages.put("conv-web", "user", text, decision_id)


def _world(site: Site) -> World:
    vault = site.store.messages
    assert vault is not None, "the site stores messages (store.store_messages)"
    vault.put("conv-web", "user", "hi, can you help me with my history homework?", None)
    vault.put("conv-web", "assistant", "Of course! Which period are you studying?", None)
    _escalation(site, "dec_shot_groom", GROOMING, "keep it secret")
    vault.put("conv-web", "assistant", "That sounds worrying. Please tell a trusted adult.", None)
    _escalation(site, "dec_shot_gift", GIFT, "gift card")
    flag(site, "dec_shot_block", "block", "violence")
    flag(site, "dec_shot_pi", "warn", "personal_info", role="child", days_ago=8)
    review = site.oversight.review
    review.import_escalations()
    appeal = review.file_appeal("dec_shot_groom", APPEAL_REASON)
    case = next(c for c in review.queue() if c.decision_id == "dec_shot_groom" and c.source != "appeal")

    family(site, analytics=True).close()  # guardian gdn_a, linked to the child, with "parent"'s login
    site.app.state.privacy.consent.record(  # the moderator may read the conversation
        site.child_id, "10-12", "human_review", True, guardian_id="gdn_a", method="guardian_account", child_assent=True
    )
    users = site.app.state.web.users
    users.create("mod", PASSWORDS["mod"], "moderator")
    users.create("boss", PASSWORDS["boss"], "admin")
    _invitation, token = site.app.state.accounts.invite("gdn_a", "gran", "boss")
    return World(case.id, appeal.id, "dec_shot_block", token)


# Each page: who opens it (None: nobody logged in), its path, and its key elements.
Elements = Callable[[Any], list[Any]]


def _nav(page: Any, *links: str) -> list[Any]:
    return [
        page.get_by_role("banner"),
        *(page.get_by_role("link", name=n, exact=True) for n in links),
        page.get_by_role("button", name="Log out"),
    ]


def _login(page: Any) -> list[Any]:
    return [
        page.get_by_role("banner"),
        page.get_by_role("heading", name="Log in"),
        page.get_by_label("Username"),
        page.get_by_label("Password"),
        page.get_by_role("button", name="Log in"),
    ]


def _queue(page: Any) -> list[Any]:
    group = page.locator("section.group[data-conversation='conv-web']")
    assert group.locator("tr.case-row").count() >= 2, "the conversation's cases are grouped"
    assert "cases" in group.locator("h2").inner_text()
    return [
        *_nav(page, "Review queue"),
        page.get_by_role("heading", name="Review queue"),
        page.locator("#queue-counts"),
        group,
        group.locator("h2"),
        group.locator("table"),
        *(group.locator("tr.case-row").nth(i) for i in range(2)),
        group.locator("td.time-left").first,
    ]


def _case(page: Any) -> list[Any]:
    assert "keep it secret" in page.locator("#conversation li.flagged").inner_text()
    assert page.inner_text("#appeal-reason") == APPEAL_REASON
    return [
        *_nav(page, "Review queue"),
        page.get_by_role("heading", name="Case ", exact=False).first,
        page.locator("#case-status"),
        page.locator("#case-due"),
        page.get_by_role("heading", name="Why it was flagged"),
        page.locator("#explanation"),
        page.locator("#explanation tr.finding").first,
        page.locator("#conversation"),
        page.locator("#conversation li.flagged"),
        page.locator("#conversation li.flagged mark").first,
        page.locator("#appeal-reason"),
        page.get_by_role("button", name="Claim this case"),
    ]


def _audit(page: Any) -> list[Any]:
    assert "Verified" in page.inner_text("main")
    return [
        *_nav(page, "Review queue", "Audit log", "Accounts"),
        page.get_by_role("heading", name="Audit log"),
        page.get_by_text("Verified:"),
        page.get_by_role("link", name="Download the log (JSONL)"),
    ]


def _users(page: Any) -> list[Any]:
    return [
        *_nav(page, "Review queue", "Audit log", "Accounts"),
        page.get_by_role("heading", name="Accounts", exact=True),
        page.locator("#accounts"),
        page.locator("#account-mod"),
        page.locator("#account-parent"),
        page.get_by_role("button", name="Disable mod"),
        page.get_by_role("heading", name="Create an account"),
        page.get_by_label("Username", exact=True),
        page.get_by_label("Role"),
        page.get_by_role("button", name="Create account"),
        page.get_by_role("heading", name="Invite a guardian"),
        page.get_by_label("Guardian record id", exact=True),
        page.get_by_role("button", name="Create invitation link"),
        page.locator("#invitations"),
    ]


def _invite(page: Any) -> list[Any]:
    assert page.inner_text("#invite-username") == "gran"
    return [
        page.get_by_role("banner"),
        page.get_by_role("heading", name="Welcome"),
        page.locator("#invite-username"),
        page.get_by_label("New password", exact=True),
        page.get_by_label("New password again"),
        page.get_by_role("button", name="Set password and sign in"),
    ]


def _guardian(page: Any) -> list[Any]:
    return [
        *_nav(page, "My family"),
        page.get_by_role("heading", name="My family"),
        page.get_by_role("link", name="Child 1", exact=True),
        page.get_by_role("heading", name="What happened recently"),
        page.locator("#events-1"),
        page.locator("#events-1 li").first,
        page.locator("#week-chart-1 svg"),
        page.get_by_role("link", name="Details, consents and time limits for child 1"),
    ]


def _child(page: Any) -> list[Any]:
    return [
        *_nav(page, "My family"),
        page.get_by_role("heading", name="Your child (age band 10-12)"),
        page.get_by_role("heading", name="What happened and when"),
        page.locator("#event-list"),
        page.get_by_role("heading", name="Trends"),
        page.locator("#week-chart svg"),
        page.locator("#category-chart svg"),
        page.get_by_role("heading", name="Consents"),
        page.locator("#consent-table"),
        page.get_by_role("heading", name="Time limits, quiet hours and breaks"),
        page.get_by_label("Daily time limit (minutes)"),
        page.get_by_role("button", name="Save time limits"),
        page.get_by_label("To erase all of this child's data, type ERASE"),
        page.get_by_role("button", name="Erase all data"),
    ]


def _appeal(page: Any) -> list[Any]:
    return [
        page.get_by_role("banner"),
        page.get_by_role("heading", name="Do you think we got it wrong?"),
        page.get_by_label("Tell us why"),
        page.get_by_label("Who is asking?"),
        page.get_by_role("button", name="Ask to check again"),
    ]


def _appeal_status(page: Any) -> list[Any]:
    assert "safety team" in page.inner_text("#appeal-message")
    return [
        page.get_by_role("banner"),
        page.get_by_role("heading", name="Your request"),
        page.locator("#appeal-message"),
        page.get_by_text("Request number:"),
    ]


def _not_found(page: Any) -> list[Any]:
    return [
        *_nav(page, "My family"),
        page.get_by_role("heading", name="Not available"),
        page.get_by_role("alert"),
    ]


PAGES: dict[str, tuple[str | None, Callable[[Site, World], str], Elements, int]] = {
    "login": (None, lambda s, w: "/login", _login, 200),
    "review-queue": ("mod", lambda s, w: "/review", _queue, 200),
    "review-case": ("mod", lambda s, w: f"/review/cases/{w.case_id}", _case, 200),
    "admin-audit": ("boss", lambda s, w: "/admin/audit", _audit, 200),
    "admin-users": ("boss", lambda s, w: "/admin/users", _users, 200),
    "invite": (None, lambda s, w: f"/invite/{w.invite_token}", _invite, 200),
    "guardian": ("parent", lambda s, w: "/guardian", _guardian, 200),
    "guardian-child": ("parent", lambda s, w: f"/guardian/children/{s.child_id}", _child, 200),
    "appeal": (None, lambda s, w: f"/appeal?decision_id={w.block_id}", _appeal, 200),
    "appeal-status": (None, lambda s, w: f"/appeal/{w.appeal_id}", _appeal_status, 200),
    "error-404": ("parent", lambda s, w: "/guardian/children/chd_not_in_this_family", _not_found, 404),
}


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("CHILDSAFE_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _overflow(page: Any) -> int:
    """How many CSS pixels the page is wider than the viewport (0: no horizontal scrolling)."""
    return int(page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth"))


# The elements reaching past the viewport's right edge, to name in a failure: the outermost boxes that do, or
# else the innermost elements whose content (a long unbroken word) spills out of their box.
WIDE = """() => {
  const w = document.documentElement.clientWidth + 0.5, boxes = [], spills = [];
  const name = (e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className ? '.' + e.className : '');
  for (const e of document.body.querySelectorAll('*')) {
    const r = e.getBoundingClientRect(), p = e.parentElement;
    if (r.right > w && !(p && p !== document.body && p.getBoundingClientRect().right > w)) boxes.push(name(e));
    if (r.left + e.scrollWidth > w && ![...e.children].some((c) => c.getBoundingClientRect().left + c.scrollWidth > w))
      spills.push(name(e));
  }
  return (boxes.length ? boxes : spills).slice(0, 5);
}"""


@pytest.mark.parametrize("name", list(PAGES))
def test_page_in_chromium(name: str, site: Site, browser: Any, shots: Path) -> None:  # noqa: F811  (browser fixture)
    from playwright.sync_api import expect

    world = _world(site)
    user, path_of, elements, status = PAGES[name]
    context = browser.new_context(viewport={"width": WIDTHS[-1], "height": 800})
    page = context.new_page()
    page.set_default_timeout(10_000)
    if user is not None:
        log_in(page, site, user, PASSWORDS[user], HOMES[user])
    overflowing = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})
        response = page.goto(site.url + path_of(site, world))
        assert response is not None and response.status == status, (name, width)
        for element in elements(page):
            expect(element).to_be_visible()
        wide = _overflow(page)
        if wide > 0:  # reported after both widths are checked and shot
            overflowing.append(f"{name} scrolls sideways by {wide} px at {width} px: {page.evaluate(WIDE)}")
        shot = shots / f"{name}-{width}.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 5_000, shot
    context.close()
    assert not overflowing, "; ".join(overflowing)
