"""Per-app token-bucket rate limiting (in process), weighted by what a request costs to check."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from childsafe.config import LimitsConfig
from childsafe.gateway.errors import ApiError


class RateLimiter:
    """``limit`` units per minute per key, with bursts up to ``limit``.

    A request is admitted with one unit (:meth:`acquire`); what it costs beyond that is charged once it is
    known (:meth:`charge`) and may leave the bucket in debt, so a request that is expensive to check holds
    back the app's next requests for as long as its cost takes to refill. The sustained rate of work is then
    ``limit`` units per minute whatever the size of the requests.
    """

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._now = monotonic
        self._buckets: dict[int, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def _refilled(self, key: int, limit_per_minute: int, now: float) -> float:
        tokens, last = self._buckets.get(key, (float(limit_per_minute), now))
        return min(float(limit_per_minute), tokens + (now - last) * limit_per_minute / 60.0)

    def acquire(self, key: int, limit_per_minute: int) -> int:
        """Admit one request (one unit); returns 0, or the seconds to wait before the next one is admitted."""
        rate = limit_per_minute / 60.0
        now = self._now()
        with self._lock:
            tokens = self._refilled(key, limit_per_minute, now)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0
            self._buckets[key] = (tokens, now)
            return max(1, math.ceil((1.0 - tokens) / rate))

    def charge(self, key: int, limit_per_minute: int, units: int) -> None:
        """Charge an admitted request's extra cost; the bucket may go below zero (into debt)."""
        if units <= 0:
            return
        now = self._now()
        with self._lock:
            self._buckets[key] = (self._refilled(key, limit_per_minute, now) - units, now)


def extra_units(limits: LimitsConfig, checked_chars: int, checked_texts: int) -> int:
    """Rate-limit units a request costs beyond its admission unit: one per ``chars_per_rate_unit`` characters
    and one per ``messages_per_rate_unit`` texts checked (many short messages cost more than their length)."""
    return max(0, checked_chars) // limits.chars_per_rate_unit + max(0, checked_texts) // limits.messages_per_rate_unit


def enforce_request_size(limits: LimitsConfig, *, messages: int, chars: int, param: str) -> None:
    """Refuse (413) a request over ``server.limits`` before anything is checked; the message names the limit."""
    if messages > limits.max_messages:
        raise ApiError(
            413,
            f"field '{param}' has {messages} messages; the limit is {limits.max_messages} per request "
            "(server.limits.max_messages)",
            "request_too_large",
            param=param,
            code="too_many_messages",
        )
    if chars > limits.max_checked_chars:
        raise ApiError(
            413,
            f"field '{param}' has {chars} characters of text to check; the limit is {limits.max_checked_chars} "
            "per request (server.limits.max_checked_chars)",
            "request_too_large",
            param=param,
            code="too_many_characters",
        )
