from __future__ import annotations

import hashlib
import itertools
import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from childsafe.audit import (
    AuditEvent,
    AuditEventType,
    AuditLog,
    AuditSink,
    ContentKey,
    chain_hash,
    load_signing_key,
    open_audit_log,
)
from childsafe.audit.checkpoints import CHECKPOINT_FILE, checkpoint_file_path, checkpoint_path
from childsafe.audit.events import event_body
from childsafe.config import Config
from childsafe.detectors.lexicon import LexiconDetector
from childsafe.engine import Engine as SafetyEngine
from childsafe.store import Store
from childsafe.store.audit_sql import SqlAuditChain


def open_log(db_url: str, tmp_path: Path, every: int = 100) -> tuple[Store, AuditLog]:
    store = Store.open(db_url, tmp_path / "data")
    key = load_signing_key(None, tmp_path / "data")
    return store, AuditLog(store.engine, key, checkpoint_every=every)


def fill(log: AuditLog, n: int) -> list[str]:
    records = log.append_many(
        [
            AuditEvent(AuditEventType.MODERATOR_VIEW, {"case_id": f"case_{i}"}, actor="mod1", subject="ch_x")
            for i in range(n)
        ]
    )
    return [r.id for r in records]


def sql(engine: Engine, statement: str, **params: object) -> None:
    with engine.begin() as c:
        c.execute(text(statement), params)


def test_clean_log_verifies_and_chains(db_url: str, tmp_path: Path) -> None:
    store, log = open_log(db_url, tmp_path, every=4)
    ids = [i for _ in range(10) for i in fill(log, 1)]  # a checkpoint is due after a batch, here every 4th
    records = list(log.records())
    assert [r.id for r in records] == ids and [r.seq for r in records] == list(range(1, 11))
    for prev, cur in itertools.pairwise(records):
        assert cur.prev_hash == prev.hash == chain_hash(prev.prev_hash, prev.body())
    report = log.verify()
    assert report.ok, report.problems
    assert report.checkpoints == 2 and report.unsigned_tail == 2  # checkpoints at #4 and #8
    log.checkpoint()
    assert log.verify().unsigned_tail == 0
    store.close()


def test_edit_is_named(db_url: str, tmp_path: Path) -> None:
    store, log = open_log(db_url, tmp_path)
    ids = fill(log, 8)
    sql(store.engine, "UPDATE audit_events SET actor = 'someone-else' WHERE seq = 5")
    first = log.verify().first
    assert first is not None and first.kind == "altered" and first.event_id == ids[4] and first.seq == 5
    store.close()


def test_delete_is_named(db_url: str, tmp_path: Path) -> None:
    store, log = open_log(db_url, tmp_path)
    fill(log, 8)
    sql(store.engine, "DELETE FROM audit_events WHERE seq = 4")
    first = log.verify().first
    assert first is not None and first.kind == "removed" and first.seq == 4
    assert "#4 was removed" in first.message
    store.close()


def test_insert_with_renumbering_is_named(db_url: str, tmp_path: Path) -> None:
    store, log = open_log(db_url, tmp_path)
    fill(log, 8)
    prev = next(r for r in log.records() if r.seq == 4)
    # A forger who knows the format: renumber the tail and insert a well-formed event that links to #4.
    sql(store.engine, "UPDATE audit_events SET seq = seq + 1000 WHERE seq >= 5")
    sql(store.engine, "UPDATE audit_events SET seq = seq - 999 WHERE seq >= 1005")
    body = event_body("ae_forged", "moderator_decision", prev.at, "mod9", "ch_x", {"outcome": "overturn"})
    digest = chain_hash(prev.hash, body)
    sql(
        store.engine,
        "INSERT INTO audit_events (seq, id, type, at, actor, subject, data, prev_hash, hash) "
        "VALUES (5, 'ae_forged', 'moderator_decision', :at, 'mod9', 'ch_x', :data, :prev, :hash)",
        at=prev.at.replace(tzinfo=None),
        data=json.dumps({"outcome": "overturn"}),
        prev=prev.hash,
        hash=digest,
    )
    report = log.verify()
    first = report.first
    assert first is not None and first.kind == "inserted" and first.event_id == "ae_forged" and first.seq == 5
    store.close()


def test_reorder_is_named(db_url: str, tmp_path: Path) -> None:
    store, log = open_log(db_url, tmp_path)
    ids = fill(log, 8)
    sql(store.engine, "UPDATE audit_events SET seq = -1 WHERE seq = 3")
    sql(store.engine, "UPDATE audit_events SET seq = 3 WHERE seq = 6")
    sql(store.engine, "UPDATE audit_events SET seq = 6 WHERE seq = -1")
    first = log.verify().first
    assert first is not None and first.kind == "reordered" and first.seq == 3 and first.event_id == ids[5]
    store.close()


def test_rebuilt_chain_is_caught_by_signed_checkpoint(db_url: str, tmp_path: Path) -> None:
    store, log = open_log(db_url, tmp_path, every=5)
    fill(log, 5)
    fill(log, 3)
    # Rewrite event 2 and recompute every hash after it: the chain is self-consistent again,
    # but the checkpoint signed at #5 names the old head.
    records = list(log.records())
    prev = records[0].hash
    for r in records[1:]:
        data = {"case_id": "rewritten"} if r.seq == 2 else r.data
        digest = chain_hash(prev, event_body(r.id, r.type, r.at, r.actor, r.subject, data))
        sql(
            store.engine,
            "UPDATE audit_events SET data = :data, prev_hash = :prev, hash = :hash WHERE seq = :seq",
            data=json.dumps(data),
            prev=prev,
            hash=digest,
            seq=r.seq,
        )
        prev = digest
    report = log.verify()
    assert [p.kind for p in report.problems] == ["altered"] and report.problems[0].seq == 5
    # Forging the checkpoint too needs the private key: a new signature from another key is rejected.
    sql(store.engine, "UPDATE audit_checkpoints SET head_hash = :h WHERE seq = 5", h=records[4].hash)
    assert log.verify().first is not None
    other = load_signing_key(None, tmp_path / "other")
    assert not AuditLog(store.engine, other).verify().ok
    store.close()


def test_tail_truncation_is_caught_by_checkpoint(db_url: str, tmp_path: Path) -> None:
    store, log = open_log(db_url, tmp_path, every=6)
    fill(log, 6)
    sql(store.engine, "DELETE FROM audit_events WHERE seq >= 5")
    first = log.verify().first
    assert first is not None and first.kind == "removed" and first.seq == 5
    store.close()


def test_engine_decisions_land_in_the_log_without_raw_text(db_url: str, tmp_path: Path) -> None:
    store, log = open_log(db_url, tmp_path)
    key = ContentKey.from_master(b"k" * 32)
    sink = AuditSink(log, content_key=key)
    engine = SafetyEngine(detectors=[LexiconDetector()], sinks=[sink])
    secret = "send me a photo of you and keep it our secret, you are 12 right"
    decision = engine.check(secret, age=12)
    engine.check("what do octopuses eat", age=12)
    assert sink.flush()
    sink.close()
    records = list(log.records())
    assert [r.type for r in records] == ["decision", "decision"]
    assert records[0].data["decision_id"] == decision.decision_id
    assert records[0].data["action"] == decision.action.value
    # a keyed digest, not a plain SHA-256 anyone could recompute from a guessed message
    assert "content_sha256" not in records[0].data
    assert records[0].data["content_hmac"] == key.of_text(secret) != hashlib.sha256(secret.encode()).hexdigest()
    assert records[0].data["content_key_id"] == key.key_id
    assert ContentKey.from_master(b"x" * 32).of_text(secret) != key.of_text(secret)
    with store.engine.connect() as c:
        dump = repr(c.execute(text("SELECT * FROM audit_events")).all())
    assert "keep it our secret" not in dump and "photo of you" not in dump
    assert log.verify().ok
    store.close()


def test_cli_verify_and_export(db_url: str, tmp_path: Path) -> None:
    import typer

    from childsafe.cli.audit_cmd import register

    cli = typer.Typer()
    register(cli)
    config = tmp_path / "cfg.yaml"
    config.write_text(f"store:\n  url: '{db_url}'\n  data_dir: '{tmp_path / 'data'}'\n")
    store, log = open_log(db_url, tmp_path)
    ids = fill(log, 6)
    runner = CliRunner()
    ok = runner.invoke(cli, ["audit", "verify", "--config", str(config)])
    assert ok.exit_code == 0, ok.output
    assert "6 events" in ok.output
    out = tmp_path / "audit.jsonl"
    exp = runner.invoke(
        cli, ["audit", "export", "--config", str(config), "--from", "2", "--to", "4", "--out", str(out)]
    )
    assert exp.exit_code == 0, exp.output
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    events = [x for x in lines if x["record"] == "event"]
    assert [e["id"] for e in events] == ids[1:4]
    assert events[1]["prev_hash"] == events[0]["hash"]
    sql(store.engine, "UPDATE audit_events SET data = :d WHERE seq = 3", d=json.dumps({"case_id": "x"}))
    bad = runner.invoke(cli, ["audit", "verify", "--config", str(config)])
    assert bad.exit_code == 1
    assert ids[2] in bad.output and "altered" in bad.output
    signed = runner.invoke(cli, ["audit", "checkpoint", "--config", str(config)])
    assert signed.exit_code == 0 and "#6" in signed.output
    usage = runner.invoke(cli, ["audit", "export", "--config", str(config), "--from", "yesterday", "--out", str(out)])
    assert usage.exit_code == 2 and "--from" in usage.output
    store.close()


@pytest.mark.parametrize("n", [3])
def test_concurrent_appends_never_fork_the_chain(db_url: str, tmp_path: Path, n: int) -> None:
    import threading

    store, log = open_log(db_url, tmp_path)
    other = AuditLog(store.engine, load_signing_key(None, tmp_path / "data"))  # a second writer, own lock

    def work(target: AuditLog) -> None:
        for _ in range(10):
            fill(target, n)

    threads = [threading.Thread(target=work, args=(x,)) for x in (log, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    report = log.verify()
    assert report.ok and report.events == 2 * 10 * n
    store.close()


def test_log_opens_over_the_store_its_engine_or_a_chain_repository(db_url: str, tmp_path: Path) -> None:
    store, log = open_log(db_url, tmp_path, every=2)
    ids = fill(log, 3)
    key = load_signing_key(None, tmp_path / "data")
    for handle in (store, store.engine, SqlAuditChain(store.engine)):
        other = AuditLog(handle, key)
        assert [r.id for r in other.records()] == ids
        assert other.head_seq() == 3
        second = other.record(2)
        assert second is not None and second.id == ids[1]
        assert other.record(4) is None
    newest = log.newest_checkpoint()
    assert newest is not None and newest.seq == 3  # one batch of three: signed at its end
    with pytest.raises(TypeError, match="no audit chain"):
        AuditLog(object(), None)
    store.close()


def test_open_audit_log_reads_the_typed_section(db_url: str, tmp_path: Path) -> None:
    store = Store.open(db_url, tmp_path / "data")
    config = Config.model_validate({"store": {"data_dir": str(tmp_path / "data")}, "audit": {"checkpoint_every": 2}})
    log = open_audit_log(store.engine, config)
    fill(log, 2)
    assert [cp.seq for cp in log.checkpoints()] == [2]
    assert checkpoint_file_path(config) == tmp_path / "data" / CHECKPOINT_FILE
    config.audit.checkpoint_dir = str(tmp_path / "elsewhere")
    assert checkpoint_path(config.audit, "unused") == tmp_path / "elsewhere" / CHECKPOINT_FILE
    store.close()
