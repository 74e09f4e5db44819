from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from childsafe.audit import AuditLog, load_signing_key
from childsafe.review import ReviewService
from childsafe.store import ConversationRecord, DecisionEntry, Store
from childsafe.store.testing import isolated_database

PG_URL = os.environ.get("CHILDSAFE_TEST_PG_URL")


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param(
            "postgresql",
            marks=[
                pytest.mark.postgres,
                pytest.mark.skipif(not PG_URL, reason="CHILDSAFE_TEST_PG_URL is not set (see .ci/postgres.sh)"),
            ],
        ),
    ]
)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with isolated_database(request.param, tmp_path, PG_URL) as url:
        yield url


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now


class Env:
    def __init__(self, db_url: str, tmp_path: Path) -> None:
        self.clock = Clock()
        self.store = Store.open(db_url, tmp_path / "data", store_messages=True, clock=self.clock)
        self.audit = AuditLog(self.store.engine, load_signing_key(None, tmp_path / "data"), clock=self.clock)
        self.review = ReviewService(
            self.store.engine, self.store.decisions, self.audit, self.store.messages, clock=self.clock
        )
        app = self.store.apps.ensure("app", "sk-x", 60)
        self.app_id = app.id
        self.child = self.store.children.upsert(app.id, "kid", "10-12")
        self.store.conversations.save(ConversationRecord("conv1", app.id, self.child.id, None, 1, False))

    def decision(self, decision_id: str, action: str, categories: list[str], text_: str, **kw: Any) -> None:
        self.store.decisions.record(
            [
                DecisionEntry(
                    id=decision_id,
                    kind="input",
                    action=action,
                    categories=categories,
                    scores={c: 0.9 for c in categories},
                    reasons=["test"],
                    policy_version="p1",
                    age_band="10-12",
                    role="child",
                    excerpt="[redacted excerpt]",
                    app_id=self.app_id,
                    child_id=self.child.id,
                    conversation_id="conv1",
                    **kw,
                )
            ]
        )
        assert self.store.messages is not None
        self.store.messages.put("conv1", "contact", text_, decision_id)


@pytest.fixture
def env(db_url: str, tmp_path: Path) -> Any:
    e = Env(db_url, tmp_path)
    yield e
    e.store.close()
