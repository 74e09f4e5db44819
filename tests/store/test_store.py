from __future__ import annotations

import base64
import os
import stat
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidTag
from sqlalchemy import inspect, text

from childsafe.store import ConversationRecord, DecisionEntry, DecisionScope, Store, StoreError, StoreEventSink, scoped
from childsafe.store.database import current_revision, head_revision
from childsafe.types import Action, AgeBand, Category, Decision, Role


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def open_store(url: str, tmp_path: Path, **kw: Any) -> Store:
    return Store.open(url, tmp_path / "data", **kw)


def entry(decision_id: str, action: str = "allow", **kw: Any) -> DecisionEntry:
    return DecisionEntry(
        id=decision_id,
        kind="input",
        action=action,
        categories=["grooming"] if action != "allow" else [],
        scores={"grooming": 0.9 if action != "allow" else 0.0},
        reasons=["test"],
        policy_version="p1",
        age_band="10-12",
        role="child",
        **kw,
    )


def test_migrations_create_all_tables_and_are_idempotent(db_url: str, tmp_path: Path) -> None:
    store = open_store(db_url, tmp_path)
    tables = set(inspect(store.engine).get_table_names())
    assert {"apps", "children", "conversations", "decisions", "escalations", "messages", "upstream_errors"} <= tables
    assert current_revision(store.engine) == head_revision() is not None
    store.close()
    again = open_store(db_url, tmp_path)  # second start: nothing to do, data kept
    assert current_revision(again.engine) == head_revision()
    again.close()


def test_sqlite_default_lives_in_data_dir_in_wal_mode(tmp_path: Path) -> None:
    store = Store.open(None, tmp_path / "data")
    assert (tmp_path / "data" / "childsafe.db").exists()
    with store.engine.connect() as c:
        assert c.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    assert store.backend == "sqlite" and store.ping()
    store.close()


def test_bad_url_is_a_clear_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="not a valid database URL"):
        Store.open("::not a url::", tmp_path)
    with pytest.raises(StoreError, match="cannot migrate database"):
        Store.open("postgresql+psycopg://nobody:x@127.0.0.1:1/none", tmp_path)


def test_api_keys_are_stored_hashed(db_url: str, tmp_path: Path) -> None:
    store = open_store(db_url, tmp_path)
    app = store.apps.ensure("kids-app", "sk-secret-123", 60)
    assert store.apps.by_key("sk-secret-123") == app
    assert store.apps.by_key("sk-other") is None
    with store.engine.connect() as c:
        dump = repr(c.execute(text("SELECT * FROM apps")).all())
    assert "sk-secret-123" not in dump
    rotated = store.apps.ensure("kids-app", "sk-new", 120)
    assert rotated.id == app.id and rotated.rate_limit_per_minute == 120
    assert store.apps.by_key("sk-secret-123") is None
    store.close()


def test_child_profiles_are_pseudonymous_and_scoped_per_app(db_url: str, tmp_path: Path) -> None:
    store = open_store(db_url, tmp_path)
    a = store.apps.ensure("a", "ka", 60)
    b = store.apps.ensure("b", "kb", 60)
    assert store.children.get(a.id, "user-42") is None
    child = store.children.upsert(a.id, "user-42", "10-12")
    assert child.id.startswith("ch_") and "user-42" not in child.id
    assert store.children.get(a.id, "user-42") == child
    assert store.children.get(b.id, "user-42") is None  # same user id, different app: a different child
    assert store.children.get_or_create(a.id, "user-42", "adult").age_band == "10-12"
    assert store.children.upsert(a.id, "user-42", "13-15").age_band == "13-15"
    with store.engine.connect() as c:
        assert "user-42" not in repr(c.execute(text("SELECT * FROM children")).all())
    store.close()


def test_conversation_state_round_trips_and_is_bound_to_its_child(db_url: str, tmp_path: Path) -> None:
    store = open_store(db_url, tmp_path)
    app = store.apps.ensure("a", "ka", 60)
    c1 = store.children.upsert(app.id, "u1", "6-9")
    c2 = store.children.upsert(app.id, "u2", "6-9")
    assert store.conversations.load("conv-1") is None
    rec = ConversationRecord("conv-1", app.id, c1.id, {"risk": [0.1, 0.2], "stage": "trust"}, 3, True)
    store.conversations.save(rec)
    assert store.conversations.load("conv-1") == rec
    store.conversations.save(ConversationRecord("conv-1", app.id, c1.id, {"risk": [0.3]}, 5, True))
    loaded = store.conversations.load("conv-1")
    assert loaded is not None and loaded.state == {"risk": [0.3]} and loaded.messages_seen == 5
    with pytest.raises(PermissionError):
        store.conversations.save(ConversationRecord("conv-1", app.id, c2.id, None, 1, False))
    store.close()


def test_decisions_and_escalations(db_url: str, tmp_path: Path) -> None:
    store = open_store(db_url, tmp_path)
    app = store.apps.ensure("a", "ka", 60)
    child = store.children.upsert(app.id, "u1", "10-12")
    store.decisions.record(
        [
            entry("dec_1", app_id=app.id, child_id=child.id, conversation_id="c1"),
            entry("dec_2", "escalate", app_id=app.id, child_id=child.id, conversation_id="c1"),
            entry("dec_3", "block", conversation_id="c2"),
        ]
    )
    store.decisions.record([entry("dec_2", "escalate", app_id=app.id, child_id=child.id, conversation_id="c1")])
    got = store.decisions.get("dec_2")
    assert got is not None and got.action == "escalate" and got.categories == ["grooming"] and got.created_at
    assert {e.id for e in store.decisions.recent(conversation_id="c1")} == {"dec_1", "dec_2"}
    escalations = store.decisions.escalations()
    assert [(e.decision_id, e.child_id, e.status) for e in escalations] == [("dec_2", child.id, "open")]
    assert store.decisions.get("dec_missing") is None
    store.close()


def test_messages_are_off_by_default(db_url: str, tmp_path: Path) -> None:
    store = open_store(db_url, tmp_path)
    assert store.messages is None
    store.close()


def test_messages_are_encrypted_and_expire(db_url: str, tmp_path: Path) -> None:
    clock = Clock()
    store = open_store(db_url, tmp_path, store_messages=True, retention_days=7, clock=clock)
    app = store.apps.ensure("a", "ka", 60)
    child = store.children.upsert(app.id, "u1", "10-12")
    store.conversations.save(ConversationRecord("conv-m", app.id, child.id, None, 0, False))
    assert store.messages is not None
    store.messages.put("conv-m", "child", "my favourite colour is green", "dec_9")
    with store.engine.connect() as c:
        raw = c.execute(text("SELECT ciphertext FROM messages")).scalar_one()
    assert b"green" not in bytes(raw)
    [msg] = store.messages.read("conv-m")
    assert msg.text == "my favourite colour is green" and msg.expires_at == clock.now + timedelta(days=7)
    clock.now += timedelta(days=8)
    assert store.messages.read("conv-m") == []
    assert store.messages.purge_expired() == 1
    store.close()


def test_a_different_key_cannot_read_messages(db_url: str, tmp_path: Path) -> None:
    key1 = base64.b64encode(os.urandom(32)).decode()
    key2 = base64.b64encode(os.urandom(32)).decode()
    store = open_store(db_url, tmp_path, store_messages=True, encryption_key=key1)
    app = store.apps.ensure("a", "ka", 60)
    child = store.children.upsert(app.id, "u1", "10-12")
    store.conversations.save(ConversationRecord("conv-k", app.id, child.id, None, 0, False))
    assert store.messages is not None
    store.messages.put("conv-k", "child", "hello", None)
    store.close()
    other = open_store(db_url, tmp_path, store_messages=True, encryption_key=key2)
    assert other.messages is not None
    with pytest.raises(InvalidTag):
        other.messages.read("conv-k")
    other.close()


def test_generated_key_file_is_private_and_reused(tmp_path: Path) -> None:
    s1 = Store.open(None, tmp_path / "d", store_messages=True)
    mode = stat.S_IMODE((tmp_path / "d" / "store.key").stat().st_mode)
    assert mode == 0o600
    app = s1.apps.ensure("a", "ka", 60)
    child = s1.children.upsert(app.id, "u1", "10-12")
    s1.close()
    s2 = Store.open(None, tmp_path / "d", store_messages=True)
    assert s2.children.get(app.id, "u1") == child  # same pseudonym key after restart
    s2.close()


@pytest.mark.parametrize(
    ("key", "message"), [("not base64!!", "not valid base64"), (base64.b64encode(b"short").decode(), "32 bytes")]
)
def test_bad_encryption_key_is_rejected(tmp_path: Path, key: str, message: str) -> None:
    with pytest.raises(StoreError, match=message):
        Store.open(None, tmp_path, encryption_key=key)


@dataclass
class FakeEvent:
    decision: Decision
    kind: str
    content_sha256: str
    excerpt: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


def make_decision(action: Action) -> Decision:
    cats = [Category.GROOMING] if action is not Action.ALLOW else []
    return Decision(
        action=action,
        categories=cats,
        scores={Category.GROOMING: 0.95 if cats else 0.0},
        reasons=["asks the child to keep a secret"] if cats else [],
        rules=["grooming.high"] if cats else [],
        policy_version="p-test",
        age_band=AgeBand.AGE_10_12,
        role=Role.CONTACT,
    )


def test_event_sink_records_decisions_with_scope(db_url: str, tmp_path: Path) -> None:
    store = open_store(db_url, tmp_path)
    app = store.apps.ensure("a", "ka", 60)
    child = store.children.upsert(app.id, "u1", "10-12")
    sink = StoreEventSink(store.decisions)
    allow = make_decision(Action.ALLOW)
    escalate = make_decision(Action.ESCALATE)
    with scoped(DecisionScope(app.id, child.id, "conv-e")):
        sink.emit(FakeEvent(allow, "input", "a" * 64))
        sink.emit(FakeEvent(escalate, "conversation", "b" * 64, excerpt="keep it [REDACTED]"))
    sink.emit(FakeEvent(make_decision(Action.BLOCK), "output", "c" * 64))  # outside any scope
    assert sink.flush()
    got = store.decisions.get(escalate.decision_id)
    assert got is not None
    assert (got.kind, got.action, got.child_id, got.conversation_id) == ("conversation", "escalate", child.id, "conv-e")
    assert got.excerpt == "keep it [REDACTED]" and got.content_sha256 == "b" * 64
    assert got.scores["grooming"] == 0.95 and got.extra == {"rules": ["grooming.high"]}
    assert [e.decision_id for e in store.decisions.escalations()] == [escalate.decision_id]
    assert len(store.decisions.recent()) == 3 and sink.written == 3 and sink.failed == 0
    sink.close()
    store.close()


def test_sink_batches_conversation_states_and_keeps_the_newest(db_url: str, tmp_path: Path) -> None:
    store = open_store(db_url, tmp_path)
    app = store.apps.ensure("a", "ka", 60)
    c1 = store.children.upsert(app.id, "u1", "10-12")
    c2 = store.children.upsert(app.id, "u2", "10-12")
    store.conversations.save(ConversationRecord("taken", app.id, c2.id, None, 1, False))
    sink = StoreEventSink(store.decisions, store.conversations)
    for n in range(1, 6):
        sink.save_conversation(ConversationRecord("conv-b", app.id, c1.id, {"n": n}, n, True))
    sink.save_conversation(ConversationRecord("taken", app.id, c1.id, {"n": 0}, 9, True))  # another child's id
    sink.save_conversation(ConversationRecord("conv-c", app.id, c1.id, {"n": 7}, 7, False))
    assert sink.flush()
    got = store.conversations.load("conv-b")
    assert got is not None and got.state == {"n": 5} and got.messages_seen == 5
    taken = store.conversations.load("taken")
    assert taken is not None and taken.child_id == c2.id and taken.messages_seen == 1  # not overwritten
    assert store.conversations.load("conv-c") is not None  # saved although its batch had a bad record
    assert sink.failed == 1
    sink.close()
    store.close()
