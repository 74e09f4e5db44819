from __future__ import annotations

import re

import httpx

from .conftest import API_KEY, Site


def client(site: Site) -> httpx.Client:
    return httpx.Client(base_url=site.url, trust_env=False, timeout=10)


def login(site: Site, username: str, password: str) -> httpx.Client:
    c = client(site)
    page = c.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf is not None
    r = c.post("/login", data={"csrf": csrf.group(1), "username": username, "password": password})
    assert r.status_code == 303, r.text
    return c


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m is not None
    return m.group(1)


def test_appeal_api_round_trip(site: Site) -> None:
    site.decision("dec_block1", "block", "violence")
    auth = {"Authorization": f"Bearer {API_KEY}"}
    with client(site) as c:
        assert c.post("/v1/appeals", json={"decision_id": "dec_block1"}).status_code == 401
        missing = c.post("/v1/appeals", json={"decision_id": "dec_nope", "reason": "x"}, headers=auth)
        assert missing.status_code == 404 and missing.json()["error"]["param"] == "decision_id"
        assert "dec_nope" not in missing.text  # errors name the field, they do not echo the request
        r = c.post("/v1/appeals", json={"decision_id": "dec_block1", "reason": "homework"}, headers=auth)
        assert r.status_code == 201, r.text
        appeal = r.json()
        assert appeal["status"] == "pending" and appeal["message"]
        case_id = site.oversight.review.appeal(appeal["appeal_id"]).case_id
        site.oversight.review.claim(case_id, "mod")
        site.oversight.review.decide(case_id, "mod", "overturn", "history homework")
        told = c.get(f"/v1/appeals/{appeal['appeal_id']}").json()
        assert told["outcome"] == "overturn" and "you were right" in told["message"].lower()
        assert c.get("/v1/appeals/apl_unknown").status_code == 404


def test_engine_decisions_from_the_gateway_are_audited(site: Site) -> None:
    with client(site) as c:
        r = c.post(
            "/v1/check",
            json={"text": "what do octopuses eat", "age": 11},
            headers={"Authorization": f"Bearer {API_KEY}"},
        )
        assert r.status_code == 200, r.text
    assert site.oversight.sink.flush()
    records = list(site.oversight.audit.records())
    assert [x.type for x in records] == ["decision"] and records[0].data["decision_id"] == r.json()["decision_id"]


def test_roles_are_enforced(site: Site) -> None:
    users = site.app.state.web.users
    users.create("mod", "mod-password-1", "moderator")
    users.create("boss", "boss-password-1", "admin")
    with client(site) as anon:
        r = anon.get("/review")
        assert r.status_code == 303 and r.headers["location"].startswith("/login")
        assert anon.get("/admin/audit/export").status_code == 303
    bad = client(site)
    page = bad.get("/login")
    wrong = bad.post("/login", data={"csrf": csrf_of(page.text), "username": "mod", "password": "nope-nope"})
    assert wrong.status_code == 401 and "Wrong username or password" in wrong.text
    mod = login(site, "mod", "mod-password-1")
    assert mod.get("/review").status_code == 200
    assert mod.get("/admin/audit/export").status_code == 403  # a moderator cannot export the audit log
    assert mod.get("/guardian").status_code == 403
    admin = login(site, "boss", "boss-password-1")
    export = admin.get("/admin/audit/export")
    assert export.status_code == 200 and '"type": "login"' in export.text


def test_guardian_sees_only_own_children_and_no_message_text(site: Site) -> None:
    rec = site.store.apps.by_key(API_KEY)
    assert rec is not None
    other = site.store.children.upsert(rec.id, "other-family-kid", "13-15")
    site.guardian("gdn_a", [site.child_id])
    site.guardian("gdn_b", [other.id])
    site.decision("dec_g1", "escalate", "grooming")
    site.app.state.privacy.consent.record(  # activity counts are analytics: shown with that consent
        site.child_id, "10-12", "analytics", True, guardian_id="gdn_a", method="guardian_account", child_assent=True
    )
    site.app.state.web.users.create("parent-a", "parent-a-pass", "guardian", "gdn_a")
    parent = login(site, "parent-a", "parent-a-pass")
    home = parent.get("/guardian")
    assert home.status_code == 200 and "Last 7 days: 1 messages checked" in home.text
    assert "keep it secret" not in home.text and other.id not in home.text
    own = parent.get(f"/guardian/children/{site.child_id}")
    assert own.status_code == 200 and "Grooming signs" in own.text and "keep it secret" not in own.text
    assert parent.get(f"/guardian/children/{other.id}").status_code == 404
    assert parent.get("/review").status_code == 403


def test_moderator_flow_needs_csrf_and_is_audited(site: Site) -> None:
    site.decision("dec_e1", "escalate", "grooming")
    site.app.state.web.users.create("mod", "mod-password-1", "moderator")
    mod = login(site, "mod", "mod-password-1")
    queue = mod.get("/review")
    case_id = re.search(r'href="/review/cases/(case_[0-9a-f]+)"', queue.text)
    assert case_id is not None
    url = f"/review/cases/{case_id.group(1)}"
    page = mod.get(url)
    assert "keep it secret" in page.text  # the moderator sees the (redacted) excerpt
    assert mod.post(url + "/claim", data={"csrf": "forged"}).status_code == 403
    assert mod.post(url + "/claim", data={"csrf": csrf_of(page.text)}).status_code == 303
    page = mod.get(url)
    done = mod.post(url + "/decide", data={"csrf": csrf_of(page.text), "outcome": "confirm", "reason": "clear"})
    assert done.status_code == 303
    assert "Resolved by mod" in mod.get(url).text
    types = [r.type for r in site.oversight.audit.records()]
    assert types.count("moderator_view") == 3 and "moderator_decision" in types
    assert site.oversight.audit.verify().ok


def test_child_appeal_page(site: Site) -> None:
    site.decision("dec_b2", "block", "violence")
    with client(site) as c:
        form = c.get("/appeal", params={"decision_id": "dec_b2"})
        assert form.status_code == 200 and "check again" in form.text
        r = c.post("/appeal", data={"csrf": csrf_of(form.text), "decision_id": "dec_b2", "reason": "homework"})
        assert r.status_code == 303
        status = c.get(r.headers["location"])
        assert "safety team will look at it soon" in status.text
        assert c.post("/appeal", data={"csrf": "x", "decision_id": "dec_b2"}).status_code == 403


def test_privacy_events_land_in_the_audit_chain(site: Site) -> None:
    privacy = site.app.state.privacy
    guardian, _token = privacy.create_guardian("Parent", actor="operator")
    privacy.link_child(guardian.id, site.child_id, actor="operator")
    records = [r for r in site.oversight.audit.records() if r.actor == "operator"]
    assert [r.data["event"] for r in records] == ["guardian.created", "guardian.linked"]
    assert records[1].subject == site.child_id
    assert site.oversight.audit.verify().ok


def test_guardian_data_rights_only_for_own_children(site: Site) -> None:
    rec = site.store.apps.by_key(API_KEY)
    assert rec is not None
    other = site.store.children.upsert(rec.id, "other-family-kid", "13-15")
    site.guardian("gdn_a", [site.child_id])
    site.guardian("gdn_b", [other.id])
    site.app.state.web.users.create("parent-a", "parent-a-pass", "guardian", "gdn_a")
    parent = login(site, "parent-a", "parent-a-pass")
    token = csrf_of(parent.get(f"/guardian/children/{site.child_id}").text)
    assert (
        parent.post(f"/guardian/children/{other.id}/erase", data={"csrf": token, "confirm": "ERASE"}).status_code == 404
    )
    assert parent.get(f"/guardian/children/{other.id}/export").status_code == 404
    unconfirmed = parent.post(f"/guardian/children/{site.child_id}/erase", data={"csrf": token, "confirm": "no"})
    assert unconfirmed.status_code == 303 and "ERASE" in parent.get(unconfirmed.headers["location"]).text
    export = parent.get(f"/guardian/children/{site.child_id}/export")
    assert export.status_code == 200 and site.child_id in export.text
    assert site.store.children.get(rec.id, "other-family-kid") is not None
