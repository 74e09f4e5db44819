"""What the guardian pages read about one child's decisions: when, what was done, which categories, who wrote
it. Never the excerpt or any other words: the columns selected here are the whole of what a parent is shown."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, select

from childsafe.store.schema import Base

# Bounds the rows read for one page; a child with more flagged decisions in the window sees the newest.
MAX_ROWS = 10_000


@dataclass(frozen=True, slots=True)
class ChildDecision:
    """One decision about a child's conversation, without content."""

    created_at: datetime
    action: str
    categories: tuple[str, ...]
    role: str
    kind: str


def flagged_decisions(engine: Engine, child_id: str, since: datetime, limit: int = MAX_ROWS) -> list[ChildDecision]:
    """The child's decisions other than ``allow`` since ``since``, newest first."""
    d = Base.metadata.tables["decisions"]
    q = (
        select(d.c.created_at, d.c.action, d.c.categories, d.c.role, d.c.kind)
        .where(d.c.child_id == child_id, d.c.created_at >= since, d.c.action != "allow")
        .order_by(d.c.created_at.desc(), d.c.id)
        .limit(limit)
    )
    with engine.connect() as c:
        rows = c.execute(q).all()
    return [
        ChildDecision(
            r.created_at if r.created_at.tzinfo else r.created_at.replace(tzinfo=UTC),
            r.action,
            tuple(r.categories or ()),
            r.role,
            r.kind,
        )
        for r in rows
    ]
