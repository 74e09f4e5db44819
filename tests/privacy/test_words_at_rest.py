"""A child's words at rest, on a real store: erasure leaves no bytes in the SQLite files, legacy plaintext is
sealed by the retention job, held excerpts stay encrypted, files are owner-only, consents reach the feedback
export, and the audit log's content digests are keyed."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import typer
from sqlalchemy import text
from typer.testing import CliRunner

from childsafe.audit import AuditLog, AuditSink, ContentKey, load_signing_key
from childsafe.cli import audit_cmd, data_cmd
from childsafe.config import load_config
from childsafe.detectors.lexicon import LexiconDetector
from childsafe.engine import Engine
from childsafe.privacy.service import PrivacyServices
from childsafe.privacy.testing import ManualClock
from childsafe.review.testing import OversightEnv
from childsafe.store import ConversationRecord, DecisionEntry, Store
from childsafe.store.crypto import load_master_key
from childsafe.store.database import SQLITE_FILE

WORDS = "my cat Biscuit and i go to lincoln elementary"


def _cli() -> typer.Typer:
    app = typer.Typer()
    audit_cmd.register(app)
    data_cmd.register(app)
    return app


def _run(*args: str | Path) -> str:
    result = CliRunner().invoke(_cli(), [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.output


@contextmanager
def _umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _decision(decision_id: str, child_id: str, app_id: int, conv: str, action: str = "escalate") -> DecisionEntry:
    return DecisionEntry(
        id=decision_id,
        kind="input",
        action=action,
        categories=["personal_info"],
        scores={"personal_info": 0.9},
        reasons=["shares school"],
        policy_version="p1",
        age_band="10-12",
        role="child",
        excerpt=WORDS,
        app_id=app_id,
        child_id=child_id,
        conversation_id=conv,
    )


@pytest.fixture
def sqlite_world(tmp_path: Path) -> Iterator[tuple[Store, PrivacyServices, str]]:
    data = tmp_path / "data"
    store = Store.open(None, data, store_messages=True, clock=ManualClock())
    services = PrivacyServices(store, load_master_key(None, data), clock=store.clock)
    app = store.apps.ensure("app", "k", 10)
    child = store.children.get_or_create(app.id, "kid", "10-12").id
    store.conversations.save(ConversationRecord("conv-1", app.id, child, None, 1, False))
    services.message_vault(30).put("conv-1", "user", WORDS, "d-1")
    store.decisions.record([_decision("d-1", child, app.id, "conv-1")])
    yield store, services, child
    store.close()


@pytest.fixture
def plain_delete_sqlite(monkeypatch: pytest.MonkeyPatch) -> None:
    """Connections start with ``secure_delete`` off, as in an SQLite built with the upstream default (some
    distributions, Debian among them, build it on)."""
    real = sqlite3.dbapi2.connect

    def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        conn = real(*args, **kwargs)
        conn.execute("PRAGMA secure_delete=OFF")
        return conn

    monkeypatch.setattr(sqlite3.dbapi2, "connect", connect)


def test_erasure_leaves_no_erased_bytes_in_the_sqlite_files(
    plain_delete_sqlite: None, sqlite_world: tuple[Store, PrivacyServices, str]
) -> None:
    store, services, child = sqlite_world
    with store.engine.connect() as c:
        wrapped = bytes(c.execute(text("SELECT wrapped_key FROM child_keys")).scalar_one())
        sealed = c.execute(text("SELECT excerpt FROM decisions")).scalar_one()
    services.rights.erase(child)
    db = Path(store.engine.url.database or "")
    wal = db.with_name(db.name + "-wal")
    raw = db.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    # the wrapped key is what crypto-shredding destroys: a copy in a free page or the WAL would undo it
    assert wrapped not in raw
    assert sealed.encode() not in raw and child.encode() not in raw


def test_plaintext_from_before_sealing_is_sealed_by_the_retention_job(
    sqlite_world: tuple[Store, PrivacyServices, str],
) -> None:
    store, services, child = sqlite_world
    with store.engine.begin() as c:  # as an older version stored it
        c.execute(text("UPDATE decisions SET excerpt = :w"), {"w": WORDS})
        c.execute(
            text(
                "INSERT INTO decisions (id, kind, action, categories, scores, reasons, policy_version, "
                "age_band, role, excerpt, created_at) SELECT 'd-nochild', kind, action, categories, scores, "
                "reasons, policy_version, age_band, role, 'checked without a child', created_at FROM decisions"
            )
        )
    assert store.decisions.get("d-1").excerpt == WORDS  # type: ignore[union-attr]  # still read
    services.purge()
    with store.engine.connect() as c:
        stored = dict(c.execute(text("SELECT id, excerpt FROM decisions")).all())
    assert stored["d-1"].startswith("cs1:c:") and stored["d-nochild"].startswith("cs1:d:")
    assert store.decisions.get("d-1").excerpt == WORDS  # type: ignore[union-attr]
    assert store.decisions.get("d-nochild").excerpt == "checked without a child"  # type: ignore[union-attr]
    services.keyring.destroy(child)
    assert store.decisions.get("d-1").excerpt is None  # type: ignore[union-attr]


def test_a_held_excerpt_is_encrypted_under_the_hold_key(sqlite_world: tuple[Store, PrivacyServices, str]) -> None:
    store, services, child = sqlite_world
    hold = services.rights.place_hold(child, "IR-1", "grooming report", "operator")
    services.rights.erase(child)
    with store.engine.connect() as c:
        records = " ".join(str(r) for r in c.execute(text("SELECT record FROM held_items")).scalars())
    assert "Biscuit" not in records
    (decision,) = [i for i in services.data.held_items(hold.id) if i["kind"] == "decision"]
    assert decision["record"]["excerpt"] == WORDS


def test_database_and_exports_are_owner_only(tmp_path: Path) -> None:
    data = tmp_path / "data"
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(f"store:\n  data_dir: '{data}'\n  store_messages: true\n")
    with _umask(0o022):  # the usual umask: files readable by every local account unless created private
        store = Store.open(None, data)
        app = store.apps.ensure("app", "k", 10)
        child = store.children.get_or_create(app.id, "kid", "10-12").id
        try:  # SQLite removes -wal and -shm when the last connection closes: look while it is open
            assert _mode(data) == 0o700
            for name in (SQLITE_FILE, SQLITE_FILE + "-wal", SQLITE_FILE + "-shm"):
                assert _mode(data / name) == 0o600, name
        finally:
            store.close()
        out, summary, audit_out = tmp_path / "export.json", tmp_path / "export.md", tmp_path / "audit.jsonl"
        summary.write_text("an old file, readable by all")
        _run("data", "export", child, "-c", cfg, "--out", out, "--summary", summary)
        _run("audit", "export", "-c", cfg, "--out", audit_out)
        _run("feedback", "export", "-c", cfg, "--out", tmp_path / "feedback.jsonl")
    for path in (out, summary, audit_out, tmp_path / "feedback.jsonl"):
        assert _mode(path) == 0o600, path.name


def test_feedback_export_leaves_out_children_without_model_improvement(db_url: str, tmp_path: Path) -> None:
    env = OversightEnv(db_url, tmp_path)
    try:
        services = PrivacyServices(env.store, load_master_key(None, tmp_path / "data"), clock=env.clock)
        guardian, _ = services.create_guardian("Parent")
        agreed = env.store.children.upsert(env.app_id, "kid-2", "10-12").id
        env.store.conversations.save(ConversationRecord("conv2", env.app_id, agreed, None, 1, False))
        for child in (env.child.id, agreed):
            services.link_child(guardian.id, child)
        services.consent.record(
            agreed, "10-12", "model_improvement", True, guardian_id=guardian.id, method="signed_form", child_assent=True
        )
        env.decision("d-declined", "escalate", ["grooming"], "asks a 12-year-old for photos")
        env.store.decisions.record([_decision("d-agreed", agreed, env.app_id, "conv2")])
        env.review.import_escalations()
        for case in env.review.queue():
            env.review.claim(case.id, "mod1")
            env.review.decide(case.id, "mod1", "confirm", "checked")
        cfg = tmp_path / "cfg.yaml"
        cfg.write_text(f"store:\n  url: '{db_url}'\n  data_dir: '{tmp_path / 'data'}'\n  store_messages: true\n")
        out = tmp_path / "feedback.jsonl"
        _run("feedback", "export", "--config", cfg, "--out", out)
        rows = [json.loads(line) for line in out.read_text().splitlines()]
        assert [(r["decision_id"], r["text"]) for r in rows] == [("d-agreed", WORDS)]
    finally:
        env.store.close()


def test_audit_digests_are_keyed_and_the_cli_recomputes_them(db_url: str, tmp_path: Path) -> None:
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(f"store:\n  url: '{db_url}'\n  data_dir: '{tmp_path / 'data'}'\n")
    store = Store.open(db_url, tmp_path / "data")
    try:
        log = AuditLog(store.engine, load_signing_key(None, tmp_path / "data"))
        sink = AuditSink(log, content_key=ContentKey.from_config(load_config(cfg)))
        message = "im 11 and i live on oak road"
        Engine(detectors=[LexiconDetector()], sinks=[sink]).check(message, age=11)
        assert sink.flush()
        sink.close()
        (event,) = log.records()
        message_file = tmp_path / "message.txt"
        message_file.write_text(message + "\n")
        found = json.loads(_run("audit", "content-hmac", "-c", cfg, "--text-file", message_file))
        assert found == {"content_hmac": event.data["content_hmac"], "content_key_id": event.data["content_key_id"]}
        assert "content_sha256" not in event.data and log.verify().ok
    finally:
        store.close()
