"""What the guardian pages read about one child's decisions: when, what was done, which categories, who wrote
it. Never the excerpt or any other words: the columns selected here are the whole of what a parent is shown.

Also the guardian's family (which children a guardian record is linked to), and the demo family's seeding."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, insert, select

import childsafe.store.privacy_schema  # noqa: F401  (registers guardians, guardian_children, consent_events)
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


@dataclass(frozen=True, slots=True)
class FamilyChild:
    """A child linked to a guardian record: its id and age band, nothing else."""

    id: str
    age_band: str


def guardian_children(engine: Engine, guardian_id: str) -> list[FamilyChild]:
    """The children linked to ``guardian_id``, oldest profile first."""
    links = Base.metadata.tables["guardian_children"]
    children = Base.metadata.tables["children"]
    q = (
        select(children.c.id, children.c.age_band)
        .join(links, links.c.child_id == children.c.id)
        .where(links.c.guardian_id == guardian_id)
        .order_by(children.c.created_at)
    )
    with engine.connect() as c:
        return [FamilyChild(r.id, r.age_band) for r in c.execute(q)]


@dataclass(frozen=True, slots=True)
class DecisionTally:
    """One decision as the activity counts see it: what was done and which categories."""

    action: str
    categories: tuple[str, ...]


def decision_tallies(engine: Engine, child_id: str, since: datetime, limit: int = 100_000) -> list[DecisionTally]:
    """Every decision about the child since ``since`` (bounded by ``limit``), to be counted by the caller:
    JSON columns cannot be grouped on PostgreSQL."""
    d = Base.metadata.tables["decisions"]
    q = select(d.c.action, d.c.categories).where(d.c.child_id == child_id, d.c.created_at >= since).limit(limit)
    with engine.connect() as c:
        return [DecisionTally(r.action, tuple(r.categories or ())) for r in c.execute(q)]


def seed_guardian_family(
    engine: Engine, guardian_id: str, display_name: str, child_id: str, purposes: Iterable[str], now: datetime
) -> None:
    """Create the guardian record ``guardian_id`` if missing, and link ``child_id`` to it with a guardian's
    consent (the child assenting) to each of ``purposes`` if the child is not linked yet. Idempotent: a later
    run leaves consent changes made since alone (the demo family)."""
    guardians = Base.metadata.tables["guardians"]
    links = Base.metadata.tables["guardian_children"]
    consents = Base.metadata.tables["consent_events"]
    with engine.begin() as c:
        if c.execute(select(guardians.c.id).where(guardians.c.id == guardian_id)).first() is None:
            c.execute(
                insert(guardians).values(
                    id=guardian_id, display_name=display_name, token_hash=uuid.uuid4().hex, created_at=now
                )
            )
        if c.execute(select(links.c.child_id).where(links.c.child_id == child_id)).first() is None:
            c.execute(insert(links).values(child_id=child_id, guardian_id=guardian_id, created_at=now))
            for purpose in purposes:
                c.execute(
                    insert(consents).values(
                        child_id=child_id,
                        guardian_id=guardian_id,
                        purpose=purpose,
                        granted=True,
                        method="guardian_account",
                        notice_version="1",
                        child_assent=True,
                        created_at=now,
                    )
                )
