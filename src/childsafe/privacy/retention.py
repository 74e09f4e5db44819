"""Retention: delete each kind of data once it is older than its configured number of days."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from childsafe.privacy.hooks import AuditHook, no_audit
from childsafe.privacy.settings import RetentionSettings
from childsafe.store.privacy_sql import SqlChildData


def cutoffs(retention: RetentionSettings, now: datetime) -> dict[str, datetime]:
    """The oldest timestamp still kept, per data kind (0 days keeps nothing)."""
    return {kind: now - timedelta(days=days) for kind, days in retention.model_dump().items()}


def purge(
    data: SqlChildData,
    retention: RetentionSettings,
    clock: Callable[[], datetime],
    audit: AuditHook = no_audit,
    actor: str = "retention-job",
) -> dict[str, int]:
    """Run the purge job once; returns the rows deleted per kind. Evidence under legal hold is not touched.

    A run that deletes something is audited; an empty run (the hourly job, most hours) changes no data and is
    not."""
    now = clock()
    counts = data.purge(cutoffs(retention, now))
    if any(counts.values()):
        audit({"type": "data.purged", "at": now.isoformat(), "actor": actor, "child_id": None, "details": counts})
    return counts
