"""The admin's account page and guardian invitations, over the real HTTP app (httpx against uvicorn)."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select, update

from childsafe.store.schema import Base

from .conftest import Site
from .test_pages import client, csrf_of, login


def admin(site: Site) -> httpx.Client:
    site.app.state.web.users.create("boss", "boss-password-1", "admin")
    return login(site, "boss", "boss-password-1")


def shown_secret(html: str) -> str:
    m = re.search(r'<code id="secret-value"[^>]*>([^<]+)</code>', html)
    assert m is not None, html
    return m.group(1)


def test_only_admins_open_the_account_page_and_forms_need_the_token(site: Site) -> None:
    site.app.state.web.users.create("mod", "mod-password-1", "moderator")
    with client(site) as anon:
        r = anon.get("/admin/users")
        assert r.status_code == 303 and r.headers["location"].startswith("/login")
        assert anon.post("/admin/users", data={"username": "x", "role": "admin"}).status_code == 303
    mod = login(site, "mod", "mod-password-1")
    assert mod.get("/admin/users").status_code == 403
    token = csrf_of(mod.get("/review").text)
    made = mod.post("/admin/users", data={"csrf": token, "username": "x", "role": "admin"})
    assert made.status_code == 403
    boss = admin(site)
    page = boss.get("/admin/users")
    assert page.status_code == 200 and 'id="accounts"' in page.text and "mod" in page.text
    assert "$argon2" not in page.text
    forged = boss.post("/admin/users", data={"csrf": "forged", "username": "x", "role": "admin"})
    assert forged.status_code == 403
    assert boss.post("/admin/users/mod/disable", data={}).status_code == 403
    assert {a.username for a in site.app.state.web.users.accounts()} == {"mod", "boss"}


def test_admin_creates_disables_and_resets_accounts(site: Site) -> None:
    boss = admin(site)
    token = csrf_of(boss.get("/admin/users").text)
    made = boss.post("/admin/users", data={"csrf": token, "username": "newmod", "role": "moderator"})
    assert made.status_code == 200 and "shown only once" in made.text
    password = shown_secret(made.text)
    assert len(password) >= 12
    assert password not in boss.get("/admin/users").text  # shown once, never again
    mod = login(site, "newmod", password)
    assert mod.get("/review").status_code == 200

    bad = boss.post("/admin/users", data={"csrf": token, "username": "newmod", "role": "moderator"})
    assert bad.status_code == 400 and "already exists" in bad.text
    no_record = boss.post("/admin/users", data={"csrf": token, "username": "gma", "role": "guardian"})
    assert no_record.status_code == 400 and "needs the id of its guardian record" in no_record.text
    unknown = boss.post(
        "/admin/users", data={"csrf": token, "username": "gma", "role": "guardian", "guardian_id": "gd_nope"}
    )
    assert unknown.status_code == 400 and "no guardian record with id" in unknown.text
    site.guardian("gd_family", [site.child_id])
    parent = boss.post(
        "/admin/users", data={"csrf": token, "username": "gma", "role": "guardian", "guardian_id": "gd_family"}
    )
    assert parent.status_code == 200
    gma = login(site, "gma", shown_secret(parent.text))
    assert f"/guardian/children/{site.child_id}" in gma.get("/guardian").text

    self_disable = boss.post("/admin/users/boss/disable", data={"csrf": token})
    assert self_disable.status_code == 400 and "your own account" in self_disable.text
    off = boss.post("/admin/users/newmod/disable", data={"csrf": token})
    assert off.status_code == 200 and "disabled" in off.text
    assert mod.get("/review").status_code == 303  # its session ended
    on = boss.post("/admin/users/newmod/enable", data={"csrf": token})
    assert on.status_code == 200
    mod = login(site, "newmod", password)
    reset = boss.post("/admin/users/newmod/reset-password", data={"csrf": token})
    assert reset.status_code == 200
    fresh = shown_secret(reset.text)
    assert fresh != password and mod.get("/review").status_code == 303
    login(site, "newmod", fresh)
    assert boss.post("/admin/users/ghost/reset-password", data={"csrf": token}).status_code == 404
    events = [r for r in site.oversight.audit.records() if str(r.data.get("event", "")).startswith("account.")]
    assert {r.actor for r in events} == {"boss"}
    assert not any(password in str(r.data) or fresh in str(r.data) for r in events)


def test_guardian_invitation_is_one_time_and_expires(site: Site) -> None:
    site.guardian("gd_family", [site.child_id])
    boss = admin(site)
    token = csrf_of(boss.get("/admin/users").text)
    assert (
        "no guardian record"
        in boss.post("/admin/invitations", data={"csrf": token, "guardian_id": "gd_nope", "username": "mum"}).text
    )
    made = boss.post("/admin/invitations", data={"csrf": token, "guardian_id": "gd_family", "username": "mum"})
    assert made.status_code == 200
    link = shown_secret(made.text)
    assert link.startswith(site.url + "/invite/inv_")
    invite_token = link.rsplit("/", 1)[1]
    table = Base.metadata.tables["guardian_invitations"]
    with site.store.engine.connect() as c:
        row = c.execute(select(table)).one()
    assert row.token_hash == hashlib.sha256(invite_token.encode()).hexdigest()  # stored hashed only
    assert invite_token not in str(tuple(row))
    assert timedelta(hours=71) < row.expires_at - datetime.now(UTC) <= timedelta(hours=72)
    assert "mum" in boss.get("/admin/users").text and 'id="invitations"' in boss.get("/admin/users").text

    guest = client(site)
    form = guest.get(link.removeprefix(site.url))
    assert form.status_code == 200 and "mum" in form.text
    path = link.removeprefix(site.url)
    csrf = csrf_of(form.text)
    short = guest.post(path, data={"csrf": csrf, "password": "short", "confirm": "short"})
    assert short.status_code == 400 and "at least 12 characters" in short.text
    differ = guest.post(path, data={"csrf": csrf, "password": "mum-password-12", "confirm": "mum-password-13"})
    assert differ.status_code == 400 and "not the same" in differ.text
    assert guest.post(path, data={"password": "mum-password-12", "confirm": "mum-password-12"}).status_code == 403
    done = guest.post(path, data={"csrf": csrf, "password": "mum-password-12", "confirm": "mum-password-12"})
    assert done.status_code == 303 and done.headers["location"] == "/guardian"
    assert f"/guardian/children/{site.child_id}" in guest.get("/guardian").text  # signed in as the guardian
    account = site.app.state.web.users.account("mum")
    assert account is not None and account.role == "guardian" and account.guardian_id == "gd_family"

    again = client(site)
    assert again.get(path).status_code == 404  # one time only
    anon_csrf = csrf_of(again.get("/login").text)
    reuse = again.post(path, data={"csrf": anon_csrf, "password": "x" * 12, "confirm": "x" * 12})
    assert reuse.status_code == 404 and "expired or was already used" in reuse.text
    assert again.get("/invite/inv_made-up").status_code == 404
    login(site, "mum", "mum-password-12")

    second = boss.post("/admin/invitations", data={"csrf": token, "guardian_id": "gd_family", "username": "dad"})
    expired_path = shown_secret(second.text).removeprefix(site.url)
    with site.store.engine.begin() as c:
        c.execute(update(table).where(table.c.username == "dad").values(expires_at=datetime.now(UTC)))
    assert client(site).get(expired_path).status_code == 404
    taken = boss.post("/admin/invitations", data={"csrf": token, "guardian_id": "gd_family", "username": "mum"})
    assert taken.status_code == 400 and "already exists" in taken.text


def test_the_invitation_link_uses_the_public_url_behind_a_proxy(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    site.guardian("gd_family", [site.child_id])
    monkeypatch.setattr(site.app.state.gateway.server, "public_url", "https://safety.example.com/console/")
    boss = admin(site)
    token = csrf_of(boss.get("/admin/users").text)
    made = boss.post("/admin/invitations", data={"csrf": token, "guardian_id": "gd_family", "username": "mum"})
    assert made.status_code == 200
    link = shown_secret(made.text)
    assert link.startswith("https://safety.example.com/console/invite/inv_"), link
    assert site.url not in link  # not the address the request came to (the proxy's internal one)
    opened = client(site).get("/invite/" + link.rsplit("/", 1)[1])
    assert opened.status_code == 200 and "mum" in opened.text
