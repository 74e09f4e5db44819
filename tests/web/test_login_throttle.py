"""Login flood (issue #17, item 3): backoff per account and per IP answered with 429 before any hashing,
password hashing on a small pool of its own, and a bounded audit trail of failed logins."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher

from childsafe.gateway.web.throttle import FailedLoginAudit, LoginGuard

from .conftest import Site


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Hashes:
    """Every argon2 verification: how many, on which threads, and how many at once."""

    calls: int = 0
    threads: set[str] = field(default_factory=set)
    running: int = 0
    most_at_once: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


@pytest.fixture
def hashes(monkeypatch: pytest.MonkeyPatch) -> Hashes:
    seen = Hashes()
    real = PasswordHasher.verify

    def counting(self: PasswordHasher, hash: str | bytes, password: str | bytes) -> Any:
        with seen.lock:
            seen.calls += 1
            seen.running += 1
            seen.most_at_once = max(seen.most_at_once, seen.running)
            seen.threads.add(threading.current_thread().name)
        try:
            return real(self, hash, password)
        finally:
            with seen.lock:
                seen.running -= 1

    monkeypatch.setattr(PasswordHasher, "verify", counting)
    return seen


@pytest.fixture
def clock(site: Site) -> Iterator[Clock]:
    """The site's login throttle and failed-login audit on a clock the test moves."""
    c = Clock()
    web = site.app.state.web
    web.login_guard = LoginGuard(clock=c)
    web.failed_logins = FailedLoginAudit(clock=c)
    site.app.state.web.users.create("mod", "mod-password-1", "moderator")
    yield c
    web.login_guard.close()


def form_client(site: Site) -> tuple[httpx.Client, str]:
    c = httpx.Client(base_url=site.url, trust_env=False, timeout=30)
    m = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text)
    assert m is not None
    return c, m.group(1)


def attempt(c: httpx.Client, csrf: str, username: str, password: str) -> httpx.Response:
    return c.post("/login", data={"csrf": csrf, "username": username, "password": password})


def login_events(site: Site, actor: str) -> list[dict[str, Any]]:
    return [r.data for r in site.oversight.audit.records() if r.type == "login" and r.actor == actor]


def test_failures_past_the_allowance_get_429_with_a_growing_retry_after_and_no_hashing(
    site: Site, clock: Clock, hashes: Hashes
) -> None:
    c, csrf = form_client(site)
    for _ in range(6):  # five free failures, and the sixth closes the account for 1 s
        assert attempt(c, csrf, "mod", "wrong-password").status_code == 401
    assert hashes.calls == 6
    refused = attempt(c, csrf, "mod", "mod-password-1")  # even the right password waits: no hashing at all
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"
    assert "Too many login attempts" in refused.text
    assert hashes.calls == 6
    clock.now += 1
    assert attempt(c, csrf, "mod", "wrong-password").status_code == 401
    assert attempt(c, csrf, "mod", "wrong-password").headers["Retry-After"] == "2"  # backoff doubles
    assert hashes.calls == 7
    metrics = httpx.get(site.url + "/metrics", trust_env=False).text
    assert 'childsafe_login_throttled_total{reason="account"} 2.0' in metrics


def test_the_right_password_after_the_backoff_logs_in(site: Site, clock: Clock, hashes: Hashes) -> None:
    c, csrf = form_client(site)
    for _ in range(6):
        attempt(c, csrf, "mod", "wrong-password")
    assert attempt(c, csrf, "mod", "mod-password-1").status_code == 429
    clock.now += 1.5
    ok = attempt(c, csrf, "mod", "mod-password-1")
    assert ok.status_code == 303 and c.get("/review").status_code == 200
    assert attempt(c, csrf, "mod", "wrong-password").status_code == 401  # the success reset the account's count


def test_one_ip_trying_many_accounts_is_throttled(site: Site, clock: Clock, hashes: Hashes) -> None:
    c, csrf = form_client(site)
    for n in range(21):  # twenty free failures per IP, across any accounts
        assert attempt(c, csrf, f"user-{n}", "wrong-password").status_code == 401
    refused = attempt(c, csrf, "someone-new", "wrong-password")
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"
    assert hashes.calls == 21


def test_a_concurrent_flood_hashes_a_few_on_the_login_pool_only(site: Site, clock: Clock, hashes: Hashes) -> None:
    c, csrf = form_client(site)
    cookies = dict(c.cookies)

    def one(_: int) -> httpx.Response:
        with httpx.Client(base_url=site.url, trust_env=False, timeout=60, cookies=cookies) as own:
            return attempt(own, csrf, "mod", "wrong-password")

    with ThreadPoolExecutor(40) as pool:
        responses = list(pool.map(one, range(40)))
    codes = [r.status_code for r in responses]
    assert set(codes) <= {401, 429} and codes.count(429) >= 30
    assert all(r.headers["Retry-After"] for r in responses if r.status_code == 429)
    # five free failures and the sixth, plus at most one already hashing on the other thread when it closed
    assert hashes.calls == codes.count(401) <= 7
    assert hashes.most_at_once <= 2 and all(name.startswith("childsafe-login") for name in hashes.threads)


def test_failed_logins_are_audited_once_per_account_per_minute_with_counts(
    site: Site, clock: Clock, hashes: Hashes
) -> None:
    c, csrf = form_client(site)
    for _ in range(12):  # six wrong (the last closes the account), then six refused with 429
        attempt(c, csrf, "mod", "wrong-password")
    assert login_events(site, "mod") == [{"success": False, "failures": 1, "throttled": 0}]
    clock.now += 61
    attempt(c, csrf, "mod", "wrong-password")  # the next attempt closes the minute: its summary, then itself
    assert login_events(site, "mod") == [
        {"success": False, "failures": 1, "throttled": 0},
        {"success": False, "failures": 5, "throttled": 6, "window_s": 60.0},
        {"success": False, "failures": 1, "throttled": 0},
    ]
