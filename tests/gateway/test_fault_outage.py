"""Issue #17, tests: a long database outage during traffic loses no escalation.

The issue asks for a 60 s outage. Time is scaled instead of waited out: the gateway's connections wait 0.2 s
for a lock here instead of the production 10 s (50 times shorter), and the database stays locked for 6 s
while three clients keep sending a mix of ordinary chat, self-harm chat and grooming checks. That is 30 busy
timeouts, against the 6 of a 60 s outage in production, so every way a long outage loses writes happens here
more often: batches fail after the busy timeout, the writer gives up on them and counts them failed, the
replay fails and backs off again and again. What a real 60 s adds beyond that is only a longer backoff before
the replay after the outage (capped at 30 s), which the wait at the end allows for.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from childsafe.engine import Engine
from childsafe.store import Store

from .conftest import API_KEY, CHILD, HTTP, FakeUpstream
from .test_journal_outage import GROOMING, Gateway, database_locked, short_busy_timeout, wait_for

AUTH = {"Authorization": f"Bearer {API_KEY}"}
OUTAGE_S = 6.0


class Traffic:
    """Clients sending requests until stopped; keeps the decision id of every escalate/report answer."""

    def __init__(self, url: str, clients: int = 3) -> None:
        self.url = url
        self.escalations: list[str] = []
        self.served = 0
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(clients)]

    def __enter__(self) -> Traffic:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(30)

    def _run(self, client: int) -> None:
        n = 0
        while not self._stop.is_set():
            n += 1
            try:
                self._one(client, n)
            except Exception as exc:  # reported by the test, not lost in a thread
                with self._lock:
                    self.errors.append(f"{type(exc).__name__}: {exc}")

    def _one(self, client: int, n: int) -> None:
        kind = n % 3
        if kind == 2:
            headers = {**AUTH, "X-Childsafe-Child": CHILD}  # a child's check: queued (review.queue_without_child)
            r = HTTP.post(self.url + "/v1/check", json={"messages": GROOMING, "age": 11}, headers=headers)
        else:
            text = "tell me about octopuses" if kind == 0 else "I want to die"
            body = {"model": "t", "user": CHILD, "messages": [{"role": "user", "content": f"{text} {client}-{n}"}]}
            r = HTTP.post(self.url + "/v1/chat/completions", json=body, headers=AUTH)
        assert r.status_code == 200, r.text
        data = r.json()
        outcome = data if kind == 2 else data["childsafe"]
        with self._lock:
            self.served += 1
            if outcome["action"] in ("escalate", "report"):
                self.escalations.append(str(outcome["decision_id"]))


def test_a_long_database_outage_during_traffic_loses_no_escalation(
    db_url: str, tmp_path: Path, upstream: tuple[FakeUpstream, str], shared_engine: Engine
) -> None:
    if not db_url.startswith("sqlite"):
        pytest.skip("the outage is made by locking the SQLite file")
    store = Store.open(db_url, tmp_path / "data")
    short_busy_timeout(store)
    gw = Gateway(db_url, tmp_path, upstream[1], shared_engine, store)
    try:
        with Traffic(gw.url) as traffic:
            time.sleep(0.5)
            with database_locked(store):
                locked_at = traffic.served
                time.sleep(OUTAGE_S)
                during = traffic.served - locked_at
                ready = HTTP.get(gw.url + "/readyz")
            time.sleep(0.5)
        assert traffic.errors == []
        assert during > 30, "the gateway stopped serving during the outage"
        assert ready.status_code == 503  # the outage was real: the database refused writes
        sink: Any = gw.sink
        assert sink.failed > 0  # and the writer's ordinary writes failed during it
        ids = traffic.escalations
        assert len(ids) > 20
        wait_for(lambda: sink.journal.pending_count == 0, timeout=60)
        assert sink.flush(20)
        stored = {e.decision_id for e in store.decisions.escalations(limit=10_000)}
        assert sorted(set(ids) - stored) == []  # every escalation is in the database ...
        review = gw.app.state.oversight.review
        review.import_escalations(limit=10_000)
        queued = [c.decision_id for c in review.queue(limit=10_000) if c.decision_id in set(ids)]
        assert sorted(queued) == sorted(ids)  # ... and in the review queue, each once
    finally:
        gw.stop()
        store.close()
