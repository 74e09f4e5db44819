"""The composition root (``childsafe.services``) on real SQLite and PostgreSQL: one ``Services.open`` wires
privacy, audit, review and reporting as the gateway and the CLI both need them, and its use cases run the same
steps for every face."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from childsafe.config import Config
from childsafe.detectors.lexicon import LexiconDetector
from childsafe.engine import Engine
from childsafe.privacy.service import PrivacyServices
from childsafe.services import Services
from childsafe.store import DecisionScope, Store, scoped

CONTACT_REQUEST = "send me a pic of u naked and dont tell ur mom"


def config_for(db_url: str, tmp_path: Path) -> Config:
    return Config.model_validate({"store": {"url": db_url, "data_dir": str(tmp_path / "data"), "store_messages": True}})


@pytest.fixture
def checking(db_url: str, tmp_path: Path) -> Iterator[Services]:
    config = config_for(db_url, tmp_path)
    engine = Engine(detectors=[LexiconDetector()], config=config)
    services = Services.open(config, engine=engine)
    yield services
    services.close()


def _escalate(services: Services, child_external: str = "kid-1") -> tuple[str, str]:
    """A contact's grooming request to a child, checked by the engine; returns (child id, decision id)."""
    app = services.store.apps.ensure("app", "key-services", 100)
    child = services.store.children.get_or_create(app.id, child_external, "10-12")
    assert services.engine is not None
    with scoped(DecisionScope(app.id, child.id, "conv-services")):
        decision = services.engine.check(CONTACT_REQUEST, age=11, role="contact")
    assert decision.action.value in ("escalate", "report"), decision.action
    return child.id, decision.decision_id


def test_the_gateway_wiring_puts_every_sink_on_the_engine(checking: Services) -> None:
    assert checking.engine is not None
    sinks = checking.engine.sinks
    assert checking.decision_sink in sinks and checking.audit_sink in sinks and checking.intake in sinks
    assert sinks.index(checking.decision_sink) < sinks.index(checking.intake)  # a case opens on a stored decision
    assert checking.checkpoints is not None and checking.journal is not None


def test_an_escalation_reaches_the_audit_chain_and_the_review_queue(checking: Services) -> None:
    _child, decision_id = _escalate(checking)
    checking.flush()
    assert checking.intake is not None
    for _ in range(100):  # the intake opens cases on its own thread
        if any(c.decision_id == decision_id for c in checking.review.queue()):
            break
        checking.review.import_escalations()
    assert any(c.decision_id == decision_id for c in checking.review.queue())
    assert checking.audit_sink is not None and checking.audit_sink.flush()
    assert checking.audit.verify().ok and checking.audit.head_seq() > 0


def test_erase_child_lands_queued_writes_first_then_caches_forget(checking: Services) -> None:
    child_id, decision_id = _escalate(checking)
    forgotten: list[str] = []
    checking.child_hooks.append(forgotten.append)
    checking.child_hooks.insert(0, lambda _c: 1 / 0)  # a broken cache must not undo the erasure
    report = checking.erase_child(child_id, "operator:test")
    assert report.to_dict()["child_id"] == child_id
    assert forgotten == [child_id]
    checking.flush()
    assert checking.store.decisions.get(decision_id) is None  # the queued decision did not come back
    assert all(c.child_id != child_id for c in checking.review.queue())


def test_file_appeal_waits_once_for_a_decision_still_queued(checking: Services) -> None:
    _child, decision_id = _escalate(checking, "kid-appeal")
    appeal = checking.file_appeal(decision_id, "i was only asking what it means", "child")
    assert appeal.public()["status"] in ("open", "pending", "received")


def test_the_cli_wiring_has_no_engine_but_the_same_privacy_audit_and_review(db_url: str, tmp_path: Path) -> None:
    with Services.open(config_for(db_url, tmp_path)) as services:
        assert services.engine is None and services.decision_sink is None and services.alerter is None
        before = services.audit.head_seq()
        guardian, _token = services.privacy.create_guardian("A parent", actor="operator:test")
        assert services.audit.head_seq() > before  # privacy events go into the audit chain
        assert services.review.erase_child in services.privacy.rights.erasure_hooks
        assert services.accounts is services.accounts  # built once
        assert guardian.id


def test_close_stops_once_and_closes_only_a_store_it_opened(db_url: str, tmp_path: Path) -> None:
    config = config_for(db_url, tmp_path)
    store = Store.from_config(config.store)
    try:
        services = Services.open(config, store=store)
        order: list[str] = []
        services.closers.append(lambda: order.append("face"))
        services.close()
        services.close()
        assert order == ["face"]
        assert store.apps.ensure("still-open", "key-open", 1).name == "still-open"  # not closed by the services
    finally:
        store.close()


def test_a_failure_while_wiring_closes_the_store_it_opened(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed: list[Store] = []
    real = Store.from_config

    def spy(*args: object, **kwargs: object) -> Store:
        store = real(*args, **kwargs)  # type: ignore[arg-type]
        close = store.close
        monkeypatch.setattr(store, "close", lambda: (closed.append(store), close())[1])
        return store

    def broken(*_a: object, **_k: object) -> PrivacyServices:
        raise RuntimeError("no key")

    monkeypatch.setattr(Store, "from_config", spy)
    monkeypatch.setattr(PrivacyServices, "from_config", broken)
    with pytest.raises(RuntimeError, match="no key"):
        Services.open(config_for(db_url, tmp_path))
    assert len(closed) == 1


def test_a_failure_while_building_the_engine_stops_what_was_started_and_closes_the_store(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed: list[str] = []
    real = Store.from_config

    def spy(*args: object, **kwargs: object) -> Store:
        store = real(*args, **kwargs)  # type: ignore[arg-type]
        close = store.close
        monkeypatch.setattr(store, "close", lambda: (closed.append("store"), close())[1])
        return store

    def broken(*_a: object, **_k: object) -> Engine:
        raise RuntimeError("model missing")

    monkeypatch.setattr(Store, "from_config", spy)
    monkeypatch.setattr(Engine, "from_config", broken)
    with pytest.raises(RuntimeError, match="model missing"):
        Services.open(config_for(db_url, tmp_path), checking=True)
    assert closed == ["store"]
