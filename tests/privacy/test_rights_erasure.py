"""Data rights on real SQLite and PostgreSQL: export round-trip, crypto-shredding erasure, legal holds,
age-band rectification and the retention purge."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidTag
from sqlalchemy import column, inspect, select, table, text

from childsafe.privacy.hooks import PrivacyEvent
from childsafe.privacy.rights import UnknownChild, load_export, render_summary
from childsafe.privacy.service import PrivacyServices
from childsafe.privacy.settings import PrivacySettings, RetentionSettings
from childsafe.privacy.testing import ManualClock
from childsafe.store import ConversationRecord, DecisionEntry, Store
from childsafe.store.crypto import MessageCipher, load_master_key
from childsafe.store.privacy_sql import HealthySettingsRecord, decrypt_with
from childsafe.store.testing import isolated_database
from childsafe.types import InvalidInputError

PG_URL = os.environ.get("CHILDSAFE_TEST_PG_URL")
PG = pytest.param(
    "postgresql",
    marks=[pytest.mark.postgres, pytest.mark.skipif(not PG_URL, reason="CHILDSAFE_TEST_PG_URL is not set")],
)
SECRET = "my school is lincoln elementary and my cat is Biscuit"
OTHER = "i like drawing dragons"


@dataclass
class World:
    services: PrivacyServices
    store: Store
    clock: ManualClock
    master: bytes
    events: list[PrivacyEvent]
    child: str
    other: str
    guardian: str


def _seed(s: PrivacyServices, store: Store, user: str, band: str, guardian: str, conv: str, said: str) -> str:
    app = store.apps.ensure("app", "key-1", 100)
    child = store.children.get_or_create(app.id, user, band).id
    s.link_child(guardian, child)
    for purpose in ("safety_checking", "conversation_storage"):
        s.consent.record(child, band, purpose, True, guardian_id=guardian, method="signed_form", child_assent=True)
    store.conversations.save(ConversationRecord(conv, app.id, child, {"risk": 0.1}, 2, True))
    vault = s.message_vault(30)
    vault.put(conv, "user", said, f"d-{conv}")
    vault.put(conv, "assistant", "That sounds lovely!", None)
    digest = hashlib.sha256(said.encode()).hexdigest()
    store.decisions.record(
        [
            DecisionEntry(
                id=f"d-{conv}",
                kind="input",
                action="escalate",
                categories=["personal_info"],
                scores={"personal_info": 0.9},
                reasons=["shares school name"],
                policy_version="1",
                age_band=band,
                role="child",
                content_sha256=digest,
                excerpt=f"redacted excerpt of {conv}",
                app_id=app.id,
                child_id=child,
                conversation_id=conv,
            )
        ]
    )
    s.healthy.set_settings(child, _settings(), guardian)
    s.healthy.check(child, band)
    return child


def _settings() -> HealthySettingsRecord:
    return HealthySettingsRecord(timezone="Europe/London", daily_limit_minutes=60)


@pytest.fixture(params=["sqlite", PG])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    clock = ManualClock()
    with isolated_database(request.param, tmp_path, PG_URL) as url:
        store = Store.open(url, tmp_path / "data", store_messages=True, clock=clock)
        master = load_master_key(None, tmp_path / "data")
        events: list[PrivacyEvent] = []
        s = PrivacyServices(store, master, PrivacySettings(), audit=events.append, clock=clock)
        g, _ = s.create_guardian("Parent")
        child = _seed(s, store, "kid", "10-12", g.id, "conv-kid", SECRET)
        other = _seed(s, store, "sibling", "6-9", g.id, "conv-sib", OTHER)
        try:
            yield World(s, store, clock, master, events, child, other, g.id)
        finally:
            store.close()


def _all_rows(store: Store) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    names = inspect(store.engine).get_table_names()
    with store.engine.connect() as c:
        for name in names:
            cols = [col["name"] for col in inspect(store.engine).get_columns(name)]
            t = table(name, *[column(col) for col in cols])
            out[name] = [dict(r._mapping) for r in c.execute(select(t))]
    return out


def _traces(rows: dict[str, list[dict[str, Any]]], needle: str) -> list[str]:
    found = []
    raw = needle.encode()
    for name, table_rows in rows.items():
        for row in table_rows:
            for col, value in row.items():
                if isinstance(value, (bytes, memoryview)) and raw in bytes(value):
                    found.append(f"{name}.{col}")
                elif value is not None and not isinstance(value, (bytes, memoryview)):
                    blob = value if isinstance(value, str) else json.dumps(value, default=str)
                    if needle.lower() in blob.lower():
                        found.append(f"{name}.{col}")
    return found


def test_messages_are_encrypted_with_the_childs_own_key(world: World) -> None:
    rows = _all_rows(world.store)
    assert _traces(rows, "Biscuit") == []  # never in clear, anywhere
    mine = [r for r in rows["messages"] if r["conversation_id"] == "conv-kid"]
    key = world.services.keyring.get(world.child)
    assert key is not None and len(key) == 32
    assert decrypt_with(key, bytes(mine[0]["nonce"]), bytes(mine[0]["ciphertext"]), "conv-kid") == SECRET
    sibling_key = world.services.keyring.get(world.other)
    assert sibling_key is not None and sibling_key != key
    assert decrypt_with(sibling_key, bytes(mine[0]["nonce"]), bytes(mine[0]["ciphertext"]), "conv-kid") is None
    assert world.services.message_vault(30).read("conv-kid")[0].text == SECRET


def test_export_round_trips_and_has_everything(world: World) -> None:
    text_out = world.services.rights.export_json(world.child, actor=world.guardian)
    data = load_export(text_out)
    assert json.loads(json.dumps(data)) == data
    assert data["child"]["id"] == world.child and data["child"]["age_band"] == "10-12"
    assert data["child"]["guardian"]["id"] == world.guardian
    assert data["consent"]["purposes"]["safety_checking"] is True
    assert data["consent"]["purposes"]["analytics"] is False
    assert [m["text"] for m in data["messages"]] == [SECRET, "That sounds lovely!"]
    assert [d["id"] for d in data["decisions"]] == ["d-conv-kid"]
    assert data["conversations"][0]["risk_state"] == {"risk": 0.1}
    assert data["healthy_use"]["settings"]["daily_limit_minutes"] == 60
    assert data["legal_holds"] == []
    assert OTHER not in text_out  # the sibling's data is not in this child's export
    summary = render_summary(data)
    assert summary == render_summary(load_export(text_out))
    assert "analytics: no" in summary and SECRET in summary and "## Legal holds\n- none" in summary
    assert world.events[-1]["type"] == "data.exported"
    with pytest.raises(InvalidInputError, match="format"):
        load_export(json.dumps({"format": "other"}))
    with pytest.raises(InvalidInputError, match="invalid JSON"):
        load_export("{nope")


def test_erasure_leaves_no_readable_trace(world: World) -> None:
    before = _all_rows(world.store)
    backup = [r for r in before["messages"] if r["conversation_id"] == "conv-kid"]  # a copy made before erasure
    assert len(backup) == 2

    report = world.services.rights.erase(world.child, actor=world.guardian)
    assert report.key_destroyed and report.deleted["messages"] == 2 and report.deleted["decisions"] == 1
    assert report.holds_kept == []

    after = _all_rows(world.store)
    for needle in ("Biscuit", "lincoln", world.child, "conv-kid", "excerpt of conv-kid"):
        assert _traces(after, needle) == [], needle
    assert world.services.keyring.get(world.child) is None
    # The old ciphertexts cannot be opened with anything the store still has.
    legacy = MessageCipher(world.master)
    remaining_keys = [k for k in (world.services.keyring.get(world.other),) if k]
    for row in backup:
        nonce, ct = bytes(row["nonce"]), bytes(row["ciphertext"])
        assert all(decrypt_with(k, nonce, ct, "conv-kid") is None for k in remaining_keys)
        with pytest.raises(InvalidTag):
            legacy.decrypt(nonce, ct, "conv-kid")
    # The sibling is untouched.
    assert [m.text for m in world.services.message_vault(30).read("conv-sib")] == [OTHER, "That sounds lovely!"]
    assert world.events[-1]["type"] == "data.erased" and world.events[-1]["child_id"] == world.child
    with pytest.raises(UnknownChild):
        world.services.rights.export(world.child)


def test_legal_hold_survives_erasure_and_is_shown(world: World) -> None:
    hold = world.services.rights.place_hold(world.child, "NCMEC-123", "grooming report", "moderator:7")
    assert hold.items == 3  # one decision, two messages
    exported = world.services.rights.export(world.child)
    assert exported["legal_holds"][0]["reference"] == "NCMEC-123"
    assert "NCMEC-123 (active)" in render_summary(exported)

    report = world.services.rights.erase(world.child)
    assert report.holds_kept == [hold.id]
    after = _all_rows(world.store)
    assert sorted(set(_traces(after, world.child))) == ["legal_holds.child_id"]
    assert _traces(after, "Biscuit") == []  # held text is encrypted with the hold key
    held = world.services.data.held_items(hold.id)
    assert sorted(i["kind"] for i in held) == ["decision", "message", "message"]
    assert SECRET in [i.get("text") for i in held]
    assert world.services.data.holds(world.child)[0].reference == "NCMEC-123"

    assert world.services.rights.release_hold(hold.id, "moderator:7")
    assert world.services.data.held_items(hold.id) == []
    assert world.services.data.holds(world.child)[0].released_at is not None
    assert _traces(_all_rows(world.store), "lincoln") == []


def test_rectify_age_band(world: World) -> None:
    assert world.services.rights.rectify_age_band(world.child, 14, actor=world.guardian) == "13-15"
    assert world.services.data.child(world.child).age_band == "13-15"  # type: ignore[union-attr]
    assert world.events[-1]["details"] == {"field": "age_band", "old": "10-12", "new": "13-15"}
    with pytest.raises(InvalidInputError):
        world.services.rights.rectify_age_band(world.child, "ancient")


def test_purge_deletes_by_age_per_kind(world: World) -> None:
    s = world.services
    s.settings = PrivacySettings(retention=RetentionSettings(messages=7, decisions=90, conversations=60, usage=30))
    assert s.purge() == {"messages": 0, "decisions": 0, "conversations": 0, "usage": 0, "upstream_errors": 0}
    assert all(e["type"] != "data.purged" for e in world.events)  # a run that deletes nothing is not audited
    world.clock.advance(days=8)
    counts = s.purge()
    assert counts["messages"] == 4 and counts["decisions"] == 0 and counts["conversations"] == 0
    world.clock.advance(days=60)
    counts = s.purge()
    assert counts["conversations"] == 2 and counts["usage"] == 2 and counts["decisions"] == 0
    world.clock.advance(days=30)
    assert s.purge()["decisions"] == 2
    with world.store.engine.connect() as c:
        assert c.execute(text("SELECT COUNT(*) FROM children")).scalar() == 2  # profiles are not data to purge
    assert world.events[-1]["type"] == "data.purged"


def test_other_services_join_erasure_and_export_through_hooks(world: World) -> None:
    erased: list[str] = []
    world.services.rights.export_hooks["review"] = lambda child: {"cases": [f"case-of-{child}"]}

    def erase_reviews(child: str) -> dict[str, int]:
        erased.append(child)
        return {"review_cases": 3}

    world.services.rights.erasure_hooks.append(erase_reviews)
    assert world.services.rights.export(world.child)["other"] == {"review": {"cases": [f"case-of-{world.child}"]}}
    report = world.services.rights.erase(world.child)
    assert erased == [world.child] and report.deleted["review_cases"] == 3
