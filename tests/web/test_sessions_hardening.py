"""Sessions and pages (issue #17, item 8): server-side logout, Secure cookies, security headers, /docs and
/metrics exposure, and demo accounts that never outlive the demo."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select
from starlette.testclient import TestClient

from childsafe.accounts import WebUsers
from childsafe.config import Config
from childsafe.detectors.lexicon import LexiconDetector
from childsafe.engine import Engine
from childsafe.gateway import create_app
from childsafe.gateway.web import DEMO_ACCOUNTS
from childsafe.gateway.web.headers import CONTENT_SECURITY_POLICY
from childsafe.store import Store
from childsafe.store.schema import Base

from .conftest import Site
from .test_pages import client, csrf_of, login


def _config(db_url: str, tmp_path: Path, **server: Any) -> Config:
    return Config.model_validate(
        {"store": {"url": db_url, "data_dir": str(tmp_path / "data")}, "server": {"apps": [], **server}}
    )


@contextmanager
def _app(db_url: str, tmp_path: Path, **server: Any) -> Iterator[tuple[FastAPI, Store]]:
    """A gateway app over its own store (closed afterwards), for settings the shared ``site`` does not use."""
    config = _config(db_url, tmp_path, **server)
    store = Store.from_config(config.store)
    try:
        yield create_app(config, engine=Engine(detectors=[LexiconDetector()], config=config), store=store), store
    finally:
        store.close()


def _usernames(store: Store) -> set[str]:
    users = Base.metadata.tables["web_users"]
    with store.engine.connect() as c:
        return {r.username for r in c.execute(select(users.c.username))}


def test_a_session_cookie_captured_before_logout_is_refused_after_it(site: Site) -> None:
    WebUsers(site.store.engine).create("mod", "moderator-pass", "moderator")
    browser = login(site, "mod", "moderator-pass")
    stolen = browser.cookies["cs_session"]
    with client(site) as thief:
        thief.cookies.set("cs_session", stolen)
        assert thief.get("/review").status_code == 200  # the copy works while the session is live
        page = browser.get("/review")
        assert browser.post("/logout", data={"csrf": csrf_of(page.text)}).status_code == 303
        after = thief.get("/review")
    assert after.status_code == 303 and after.headers["location"].startswith("/login")
    browser.close()


def test_a_password_change_ends_existing_sessions(site: Site) -> None:
    users = WebUsers(site.store.engine)
    users.create("mod", "moderator-pass", "moderator")
    browser = login(site, "mod", "moderator-pass")
    assert browser.get("/review").status_code == 200
    users.create("mod", "a-new-password", "moderator")
    r = browser.get("/review")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    browser.close()


def _login_set_cookie(tc: TestClient) -> str:
    """Log in as admin on ``tc`` and return the session's Set-Cookie header (cookies passed by hand, since a
    Secure cookie is not sent back over plain http by the client's jar)."""
    page = tc.get("/login")
    anon = re.search(r"cs_csrf=([^;]+)", page.headers["set-cookie"])
    assert anon is not None
    r = tc.post(
        "/login",
        data={"csrf": csrf_of(page.text), "username": "admin", "password": "admin-password"},
        headers={"Cookie": f"cs_csrf={anon.group(1)}"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return str(r.headers["set-cookie"])


def test_session_cookie_is_secure_by_default_outside_demo(db_url: str, tmp_path: Path) -> None:
    with _app(db_url, tmp_path) as (app, store), TestClient(app, base_url="http://gateway.example") as tc:
        WebUsers(store.engine).create("admin", "admin-password", "admin")
        cookie = _login_set_cookie(tc)
    assert cookie.startswith("cs_session=") and "secure" in cookie.lower() and "httponly" in cookie.lower()


def test_secure_cookies_can_be_turned_off(db_url: str, tmp_path: Path) -> None:
    web = {"secure_cookies": False}
    with _app(db_url, tmp_path, web=web) as (app, store), TestClient(app, base_url="http://gateway.example") as tc:
        WebUsers(store.engine).create("admin", "admin-password", "admin")
        cookie = _login_set_cookie(tc)
    assert cookie.startswith("cs_session=") and "secure" not in cookie.lower()


def _assert_security_headers(r: httpx.Response) -> None:
    assert r.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["cache-control"] == "no-store"


def test_security_headers_on_a_page_and_an_export(site: Site) -> None:
    WebUsers(site.store.engine).create("admin", "admin-password", "admin")
    admin = login(site, "admin", "admin-password")
    page = admin.get("/admin/audit")
    export = admin.get("/admin/audit/export")
    admin.close()
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert export.status_code == 200 and "attachment" in export.headers["content-disposition"]
    _assert_security_headers(page)
    _assert_security_headers(export)


def test_api_docs_are_off_outside_demo(site: Site) -> None:
    with client(site) as c:
        assert [c.get(p).status_code for p in ("/docs", "/redoc", "/openapi.json")] == [404, 404, 404]


def test_api_docs_can_be_turned_on(db_url: str, tmp_path: Path) -> None:
    with _app(db_url, tmp_path, web={"docs": True}) as (app, _), TestClient(app) as tc:
        assert tc.get("/openapi.json").status_code == 200
        docs = tc.get("/docs")
    assert docs.status_code == 200 and "content-security-policy" not in docs.headers  # Swagger UI loads a CDN
    assert docs.headers["x-frame-options"] == "DENY"


def test_metrics_only_for_direct_loopback_clients_by_default(site: Site, db_url: str, tmp_path: Path) -> None:
    with client(site) as c:
        assert c.get("/metrics").status_code == 200  # a scraper on this machine
        proxied = c.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})  # relayed by a local proxy
    assert proxied.status_code == 403 and "server.web.metrics" in proxied.json()["error"]["message"]
    with _app(db_url, tmp_path) as (app, _), TestClient(app, client=("203.0.113.9", 5000)) as tc:
        assert tc.get("/metrics").status_code == 403


def test_metrics_setting_on_and_off(db_url: str, tmp_path: Path) -> None:
    with _app(db_url, tmp_path, web={"metrics": "on"}) as (app, _), TestClient(app, client=("203.0.113.9", 1)) as tc:
        assert tc.get("/metrics").status_code == 200
    with _app(db_url, tmp_path, web={"metrics": "off"}) as (app, _), TestClient(app, client=("127.0.0.1", 1)) as tc:
        off = tc.get("/metrics")
    assert off.status_code == 403 and "off" in off.json()["error"]["message"]


def test_demo_accounts_are_never_created_outside_demo(db_url: str, tmp_path: Path) -> None:
    with _app(db_url, tmp_path) as (app, store), TestClient(app):  # built and started
        assert _usernames(store) == set()


def test_demo_accounts_are_removed_when_demo_is_off(db_url: str, tmp_path: Path) -> None:
    config = _config(db_url, tmp_path)
    store = Store.from_config(config.store)
    try:
        demo = _config(db_url, tmp_path, demo=True)
        create_app(demo, engine=Engine(detectors=[LexiconDetector()], config=demo), store=store)
        assert {u for u, _, _ in DEMO_ACCOUNTS} <= _usernames(store)
        WebUsers(store.engine).create("moderator", "a-real-password", "moderator")  # a real account of that name
        create_app(config, engine=Engine(detectors=[LexiconDetector()], config=config), store=store)
        assert _usernames(store) == {"moderator"}  # public demo passwords gone, the real account kept
    finally:
        store.close()
