"""No escalation is lost while the database cannot be written (issue #17, item 2).

The database is made unwritable the way it happens in production: another connection holds an exclusive
write transaction on the SQLite file. The gateway's connections wait 0.2 s for the lock instead of the
production 10 s (a connect-time pragma added by the test), so holding the lock a few seconds is "longer than
the busy timeout" without the test sleeping for minutes; before the journal, the decisions of such an
outage were counted as failed and their escalations never reached the review queue.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from childsafe.engine import Engine
from childsafe.gateway import create_app
from childsafe.store import Store
from childsafe.store.recorder import JOURNAL_PREFIX

from .conftest import API_KEY, CHILD, HTTP, FakeUpstream, ServerThread, make_config

AUTH = {"Authorization": f"Bearer {API_KEY}"}
GROOMING = [
    {"role": "contact", "content": "hi there"},
    {"role": "contact", "content": "send me a pic and keep it our secret"},
]


@pytest.fixture
def sqlite_url(db_url: str) -> str:
    if not db_url.startswith("sqlite"):
        pytest.skip("the outage is made by locking the SQLite file")
    return db_url


def short_busy_timeout(store: Store) -> None:
    """New connections of this store wait 0.2 s for a lock (after the store's own pragmas set 10 s)."""

    def pragma(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA busy_timeout=200")

    event.listen(store.engine, "connect", pragma)
    store.engine.dispose()


@contextmanager
def database_locked(store: Store) -> Iterator[None]:
    """Another connection holds an exclusive write transaction: reads work, every write times out."""
    path = store.engine.url.database
    assert path
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


class Gateway:
    """A gateway on a given store, started and stopped by the test (a restart is a second instance)."""

    def __init__(self, sqlite_url: str, tmp_path: Path, upstream_url: str, engine: Engine, store: Store) -> None:
        config = make_config(sqlite_url, tmp_path, upstream_url)
        self.app = create_app(config, engine=engine, store=store)
        self.server = ServerThread(self.app).__enter__()
        self.url = self.server.url
        # the child exists before any outage (creating one is a write the request itself waits for)
        r = HTTP.post(self.url + "/v1/children", json={"id": CHILD, "age": 11}, headers=AUTH)
        assert r.status_code == 200, r.text

    @property
    def sink(self) -> Any:
        return self.app.state.gateway.sink

    def escalate(self, n: int) -> str:
        """One escalate/report decision (alternating chat and the check API); returns its decision id."""
        if n % 2 == 0:
            body = {"model": "t", "user": CHILD, "messages": [{"role": "user", "content": f"I want to die {n}"}]}
            r = HTTP.post(self.url + "/v1/chat/completions", json=body, headers=AUTH)
            assert r.status_code == 200, r.text
            cs = r.json()["childsafe"]
        else:
            # naming the child: a check naming none is recorded but not queued (review.queue_without_child)
            headers = {**AUTH, "X-Childsafe-Child": CHILD}
            r = HTTP.post(self.url + "/v1/check", json={"messages": GROOMING, "age": 11}, headers=headers)
            assert r.status_code == 200, r.text
            cs = r.json()
        assert cs["action"] in ("escalate", "report"), cs
        return str(cs["decision_id"])

    def stop(self) -> None:
        self.server.__exit__()


def wait_for(condition: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def metric(text: str, name: str) -> float:
    m = re.search(rf"^{re.escape(name)} ([0-9.e+-]+)$", text, re.MULTILINE)
    assert m is not None, name
    return float(m.group(1))


def in_review_queue(app: Any, decision_ids: list[str]) -> list[str]:
    review = app.state.oversight.review
    review.import_escalations()
    return sorted(c.decision_id for c in review.queue() if c.decision_id in decision_ids)


def test_escalations_made_while_the_database_is_locked_all_reach_the_review_queue(
    sqlite_url: str, tmp_path: Path, upstream: tuple[FakeUpstream, str], shared_engine: Engine
) -> None:
    store = Store.open(sqlite_url, tmp_path / "data")
    short_busy_timeout(store)
    gw = Gateway(sqlite_url, tmp_path, upstream[1], shared_engine, store)
    try:
        assert HTTP.get(gw.url + "/readyz").status_code == 200
        with database_locked(store):
            ids = [gw.escalate(n) for n in range(4)]
            ready = HTTP.get(gw.url + "/readyz")
            assert ready.status_code == 503 and ready.json()["checks"]["database"]["ok"] is False
            assert gw.sink.flush(20)  # the queued writes were tried (and failed) while the lock was held
            assert gw.sink.failed >= 4 and gw.sink.journal.pending_count == 4
            time.sleep(1.0)  # well past the busy timeout: the old writer had given these up by now
        wait_for(lambda: gw.sink.journal.pending_count == 0)
        assert in_review_queue(gw.app, ids) == sorted(ids)  # every one, each once
        assert sorted(e.decision_id for e in store.decisions.escalations()) == sorted(ids)
        assert HTTP.get(gw.url + "/readyz").status_code == 200
        text = HTTP.get(gw.url + "/metrics").text
        assert metric(text, 'childsafe_store_writer_failed_total{writer="decisions"}') >= 4
        assert metric(text, "childsafe_escalation_journal_replayed_total") >= 4
        assert metric(text, "childsafe_escalation_journal_pending") == 0
    finally:
        gw.stop()
        store.close()


def test_a_restart_replays_a_journal_left_non_empty(
    sqlite_url: str, tmp_path: Path, upstream: tuple[FakeUpstream, str], shared_engine: Engine
) -> None:
    store = Store.open(sqlite_url, tmp_path / "data")
    short_busy_timeout(store)
    first = Gateway(sqlite_url, tmp_path, upstream[1], shared_engine, store)
    with database_locked(store):
        ids = [first.escalate(n) for n in range(2)]
        assert first.sink.flush(20)
        first.stop()  # shut down while the database is still locked: the entries stay in the journal
    shared_engine.sinks.clear()
    store.close()
    journals = list((tmp_path / "data").glob(JOURNAL_PREFIX + "*.journal"))
    assert sum(len(p.read_bytes().splitlines()) for p in journals) == 2
    store = Store.open(sqlite_url, tmp_path / "data")
    assert store.decisions.escalations() == []  # nothing reached the database before the restart
    second = Gateway(sqlite_url, tmp_path, upstream[1], shared_engine, store)
    try:
        wait_for(lambda: second.sink.journal.pending_count == 0)
        assert in_review_queue(second.app, ids) == sorted(ids)
        assert all(p.read_bytes() == b"" for p in journals if p.exists())
    finally:
        second.stop()
        store.close()
