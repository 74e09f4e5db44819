"""Login throttling: backoff per IP and per account, a pool of its own for password hashing, and a bounded
audit trail of failed logins.

Why: an argon2id hash costs 64 MiB and tens of milliseconds on purpose, so that guessing is slow; when anyone
can ask for hashes, that cost is ours. 40 concurrent wrong logins took the gateway from 218 MB to 1.9 GB and
the safety checks from 8 ms to 2 s, because the hashes ran on the threads the checks use. So:

* an IP or an account that failed too often recently gets 429 with ``Retry-After`` before any hashing, with
  exponential backoff (the first failures are free, for typos);
* hashing runs on a pool of its own (two threads), and only a short line may wait for it; the throttle is
  checked again when an attempt's turn comes, so a burst that queued up is refused instead of hashed;
* failed logins reach the audit log once per account per minute, with counts, not once per attempt.

The IP is the TCP peer: behind a reverse proxy every user shares the proxy's address, which is why the
per-IP allowance is larger than the per-account one.
"""

from __future__ import annotations

import asyncio
import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from time import monotonic
from typing import Any, TypeVar

from childsafe.audit import AuditEvent, AuditEventType

T = TypeVar("T")
Clock = Callable[[], float]


class LoginThrottled(Exception):
    """The attempt was refused before any password check; retry after ``retry_after_s`` seconds."""

    def __init__(self, retry_after_s: float, reason: str) -> None:
        super().__init__(f"too many login attempts ({reason}); retry in {retry_after_s:.0f} s")
        self.retry_after_s = retry_after_s
        self.reason = reason

    @property
    def retry_after(self) -> int:
        """Whole seconds for the ``Retry-After`` header (at least 1)."""
        return max(1, math.ceil(self.retry_after_s))


@dataclass
class _Failures:
    count: int = 0
    blocked_until: float = 0.0
    last: float = 0.0


class Backoff:
    """Recent failures per key (an IP or an account name): after ``free`` failures each further one blocks
    the key for ``base_s * 2**n`` seconds (at most ``max_s``). A key is forgotten ``forget_s`` after its last
    failure; at most ``max_keys`` are kept (the least recently failed go first), so memory stays bounded."""

    def __init__(
        self,
        *,
        free: int,
        base_s: float = 1.0,
        max_s: float = 900.0,
        forget_s: float = 900.0,
        max_keys: int = 50_000,
        clock: Clock = monotonic,
    ) -> None:
        self._free, self._base, self._max, self._forget, self._max_keys = free, base_s, max_s, forget_s, max_keys
        self._clock = clock
        self._keys: OrderedDict[str, _Failures] = OrderedDict()
        self._lock = threading.Lock()

    def wait(self, key: str) -> float:
        """Seconds until ``key`` may try again (0: now)."""
        now = self._clock()
        with self._lock:
            f = self._keys.get(key)
            if f is None:
                return 0.0
            if self._stale(f, now):
                del self._keys[key]
                return 0.0
            return max(0.0, f.blocked_until - now)

    def failure(self, key: str) -> None:
        now = self._clock()
        with self._lock:
            f = self._keys.pop(key, None) or _Failures()
            if self._stale(f, now):
                f = _Failures()
            f.count += 1
            f.last = now
            over = f.count - self._free
            if over > 0:
                f.blocked_until = now + min(self._max, self._base * 2 ** min(over - 1, 32))
            self._keys[key] = f  # to the end: the least recently failed are evicted first
            while len(self._keys) > self._max_keys:
                self._keys.popitem(last=False)

    def _stale(self, f: _Failures, now: float) -> bool:
        """Failures long past, with no backoff running: forgotten."""
        return now - f.last > self._forget and now >= f.blocked_until

    def reset(self, key: str) -> None:
        with self._lock:
            self._keys.pop(key, None)


class LoginGuard:
    """Runs password checks behind the throttles and on a pool of their own (see the module docstring)."""

    def __init__(
        self,
        *,
        ip_free: int = 20,
        account_free: int = 5,
        base_s: float = 1.0,
        max_s: float = 900.0,
        hash_threads: int = 2,
        max_waiting: int = 16,
        clock: Clock = monotonic,
    ) -> None:
        self.by_ip = Backoff(free=ip_free, base_s=base_s, max_s=max_s, clock=clock)
        self.by_account = Backoff(free=account_free, base_s=base_s, max_s=max_s, clock=clock)
        self._hash_threads = hash_threads
        self._max_in_flight = hash_threads + max_waiting
        self._in_flight = 0  # touched on the event loop only
        self._executor: ThreadPoolExecutor | None = None

    def check(self, ip: str, account: str) -> None:
        """Raise :class:`LoginThrottled` when the IP or the account must wait."""
        wait_ip, wait_account = self.by_ip.wait(ip), self.by_account.wait(account)
        if wait_ip or wait_account:
            reason = "ip" if wait_ip >= wait_account else "account"
            raise LoginThrottled(max(wait_ip, wait_account), reason)

    async def attempt(self, ip: str, account: str, verify: Callable[[], T | None]) -> T | None:
        """``verify()`` (the password check) on the login pool, unless throttled; records the outcome.

        Raises :class:`LoginThrottled` before ``verify`` runs when the IP or account must wait, when too many
        attempts already wait for the pool, or when the throttle closed while this attempt waited its turn."""
        self.check(ip, account)
        if self._in_flight >= self._max_in_flight:
            raise LoginThrottled(1.0, "busy")
        self._in_flight += 1
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._pool(), self._run, ip, account, verify)
        finally:
            self._in_flight -= 1

    def _run(self, ip: str, account: str, verify: Callable[[], T | None]) -> T | None:
        self.check(ip, account)  # earlier attempts in the line may have failed meanwhile
        result = verify()
        if result is None:
            self.by_ip.failure(ip)
            self.by_account.failure(account)
        else:
            self.by_account.reset(account)  # not the IP: a valid login of one's own must not buy more guesses
        return result

    def _pool(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self._hash_threads, thread_name_prefix="childsafe-login")
        return self._executor

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False)


@dataclass
class _Window:
    start: float
    failures: int = 0
    throttled: int = 0


class FailedLoginAudit:
    """At most one audit event per account per ``window_s`` for failed and throttled logins, with counts.

    The first failure for an account is an event at once (``failures``/``throttled`` = 1); further ones in the
    window are counted and become one summary event (with ``window_s``) when the window ends, seen at the next
    login attempt or at :meth:`flush`. Past ``max_accounts`` open windows, further accounts share one window
    under the actor ``"*"``, so a spray of made-up names cannot grow the log either."""

    SHARED = "*"

    def __init__(self, *, window_s: float = 60.0, max_accounts: int = 1000, clock: Clock = monotonic) -> None:
        self._window_s = window_s
        self._max_accounts = max_accounts
        self._clock = clock
        self._windows: OrderedDict[str, _Window] = OrderedDict()
        self._lock = threading.Lock()

    def record(self, account: str, *, throttled: bool) -> list[AuditEvent]:
        """Count one failed (or throttled) attempt; returns the events to append now (often none)."""
        now = self._clock()
        with self._lock:
            events = self._expire(now)
            if account not in self._windows and len(self._windows) >= self._max_accounts:
                account = self.SHARED
            window = self._windows.get(account)
            if window is None:
                self._windows[account] = _Window(now)
                events.append(self._event(account, int(not throttled), int(throttled), summary=False))
            elif throttled:
                window.throttled += 1
            else:
                window.failures += 1
            return events

    def flush(self) -> list[AuditEvent]:
        """Summaries of every open window (at shutdown)."""
        with self._lock:
            return self._expire(math.inf)

    def _expire(self, now: float) -> list[AuditEvent]:
        events: list[AuditEvent] = []
        while self._windows:
            account, window = next(iter(self._windows.items()))
            if now < window.start + self._window_s:
                break
            del self._windows[account]
            if window.failures or window.throttled:
                events.append(self._event(account, window.failures, window.throttled, summary=True))
        return events

    def _event(self, account: str, failures: int, throttled: int, *, summary: bool) -> AuditEvent:
        data: dict[str, Any] = {"success": False, "failures": failures, "throttled": throttled}
        if summary:
            data["window_s"] = self._window_s
        return AuditEvent(AuditEventType.LOGIN, data, actor=account)
