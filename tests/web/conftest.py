"""A real gateway (uvicorn on loopback) with the oversight pages, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlalchemy import insert

from childsafe.config import Config
from childsafe.detectors.lexicon import LexiconDetector
from childsafe.engine import Engine
from childsafe.gateway import create_app
from childsafe.store import ConversationRecord, DecisionEntry, Store
from childsafe.store.schema import Base

API_KEY = "sk-web-test"


@dataclass
class Site:
    url: str
    store: Store
    app: Any
    app_id: int
    child_id: str

    @property
    def oversight(self) -> Any:
        return self.app.state.oversight

    def decision(self, decision_id: str, action: str, category: str, child_id: str | None = None) -> None:
        self.store.decisions.record(
            [
                DecisionEntry(
                    id=decision_id,
                    kind="input",
                    action=action,
                    categories=[category],
                    scores={category: 0.9},
                    reasons=["test"],
                    policy_version="p1",
                    age_band="10-12",
                    role="contact",
                    excerpt="an adult asks the child for photos and to keep it secret",
                    app_id=self.app_id,
                    child_id=child_id or self.child_id,
                    conversation_id="conv-web",
                )
            ]
        )

    def guardian(self, guardian_id: str, child_ids: list[str]) -> None:
        from datetime import UTC, datetime

        now = datetime.now(UTC)
        with self.store.engine.begin() as c:
            c.execute(
                insert(Base.metadata.tables["guardians"]).values(
                    id=guardian_id, display_name=guardian_id, token_hash=guardian_id.ljust(64, "0"), created_at=now
                )
            )
            for cid in child_ids:
                c.execute(
                    insert(Base.metadata.tables["guardian_children"]).values(
                        child_id=cid, guardian_id=guardian_id, created_at=now
                    )
                )


@pytest.fixture
def site(db_url: str, tmp_path: Path) -> Iterator[Site]:
    config = Config.model_validate(
        {
            "store": {"url": db_url, "data_dir": str(tmp_path / "data"), "store_messages": True},
            "server": {"apps": [{"name": "web-app", "key": API_KEY}]},
        }
    )
    store = Store.from_config(config.store)
    engine = Engine(detectors=[LexiconDetector()], config=config)
    app = create_app(config, engine=engine, store=store)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "server did not start"
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    rec = store.apps.by_key(API_KEY)
    assert rec is not None
    child = store.children.upsert(rec.id, "kid-web", "10-12")
    store.conversations.save(ConversationRecord("conv-web", rec.id, child.id, None, 1, False))
    yield Site(f"http://127.0.0.1:{port}", store, app, rec.id, child.id)
    server.should_exit = True
    thread.join(20)
    store.close()
