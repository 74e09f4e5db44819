"""A ready review environment over a real store, for tests of the review, appeal and reporting services."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from childsafe.audit import AuditLog, load_signing_key
from childsafe.review import ReviewService
from childsafe.store import ConversationRecord, DecisionEntry, Store


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now


class OversightEnv:
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
