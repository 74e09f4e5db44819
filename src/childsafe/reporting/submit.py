"""Submission adapters: send a report package somewhere, with retries and an idempotency key."""

from __future__ import annotations

import time
from typing import Any, Protocol

import httpx


class SubmissionError(Exception):
    """The report could not be submitted (after retries, or rejected); the message says why."""


class SubmissionAdapter(Protocol):
    """Delivers one report package and returns the receiver's id for it.

    ``idempotency_key`` is the same on every attempt for one report, so a receiver that already accepted
    the report (the reply was lost, the process restarted) answers with the same id instead of filing a
    second report. Adapters retry transient failures themselves and raise :class:`SubmissionError` when
    they give up; the reporting service records every attempt.
    """

    def submit(self, package: dict[str, Any], xml: str, idempotency_key: str) -> str: ...


class HttpSubmissionAdapter:
    """POSTs the XML package to an HTTP endpoint; retries 5xx, 429 and connection errors with backoff."""

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        retries: int = 4,
        backoff_s: float = 0.5,
        timeout_s: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url
        self._headers = {"Content-Type": "application/xml"}
        if token:
            self._headers["Authorization"] = f"Bearer {token}"
        self._retries = retries
        self._backoff = backoff_s
        self._client = httpx.Client(timeout=timeout_s, transport=transport, trust_env=False)
        self.attempts = 0

    def submit(self, package: dict[str, Any], xml: str, idempotency_key: str) -> str:
        last = "no attempt made"
        for attempt in range(self._retries + 1):
            if attempt:
                time.sleep(self._backoff * 2 ** (attempt - 1))
            self.attempts += 1
            try:
                resp = self._client.post(
                    self.url, content=xml.encode("utf-8"), headers={**self._headers, "Idempotency-Key": idempotency_key}
                )
            except httpx.HTTPError as exc:
                last = f"{type(exc).__name__} contacting {self.url}"
                continue
            if resp.status_code >= 500 or resp.status_code == 429:
                last = f"HTTP {resp.status_code} from {self.url}"
                continue
            if resp.status_code >= 400:
                raise SubmissionError(f"report rejected: HTTP {resp.status_code}: {resp.text[:200]}")
            try:
                remote = resp.json().get("reportId")
            except ValueError:
                remote = None
            if not remote:
                raise SubmissionError("receiver accepted the report but returned no reportId")
            return str(remote)
        raise SubmissionError(f"gave up after {self._retries + 1} attempts: {last}")

    def close(self) -> None:
        self._client.close()
