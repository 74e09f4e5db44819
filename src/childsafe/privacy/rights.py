"""Data rights: export everything about a child, erase it by crypto-shredding, rectify the age band."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from childsafe.privacy.consent import ConsentLedger
from childsafe.privacy.healthy import HealthyUse
from childsafe.privacy.hooks import AuditHook, no_audit
from childsafe.store.privacy_sql import HoldRecord, SqlChildData, SqlGuardians
from childsafe.types import AgeBand, InvalidInputError

EXPORT_FORMAT = "childsafe.export/1"

log = logging.getLogger("childsafe.privacy")

ErasureHook = Callable[[str], Mapping[str, int]]
"""Erases a child's rows in another service's tables (review cases, ...); returns rows deleted per table."""
ExportHook = Callable[[str], Mapping[str, Any]]
"""Returns what another service stores about a child, JSON-ready, for the export's ``other`` section."""


class UnknownChild(InvalidInputError):
    """No child with that id is stored (never existed, or already erased)."""


@dataclass(frozen=True, slots=True)
class ErasureReport:
    child_id: str
    deleted: dict[str, int]
    key_destroyed: bool
    holds_kept: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "child_id": self.child_id,
            "deleted": dict(self.deleted),
            "key_destroyed": self.key_destroyed,
            "legal_holds_kept": list(self.holds_kept),
        }


def load_export(text: str) -> dict[str, Any]:
    """Parse an export written by :meth:`DataRights.export_json`; raises InvalidInputError if it is not one."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInputError(f"not a childsafe export: invalid JSON at line {exc.lineno}") from None
    if not isinstance(data, dict) or data.get("format") != EXPORT_FORMAT:
        raise InvalidInputError(f"not a childsafe export: 'format' must be {EXPORT_FORMAT!r}")
    return data


def render_summary(export: dict[str, Any]) -> str:
    """A readable Markdown summary of an export, for the guardian and the child."""
    child = export["child"]
    lines = [
        f"# What childsafe stores about child {child['id']}",
        "",
        f"Exported {export['exported_at']}. Age band: {child['age_band']}. Profile created {child['created_at']}.",
        "",
        "## Consent",
    ]
    purposes = export["consent"]["purposes"]
    for purpose, allowed in purposes.items():
        lines.append(f"- {purpose}: {'yes' if allowed else 'no'}")
    lines.append(f"- consent changes recorded: {len(export['consent']['history'])}")
    lines += ["", "## Conversations and messages"]
    lines.append(f"- conversations: {len(export['conversations'])}")
    msgs = export["messages"]
    lines.append(f"- stored messages: {len(msgs)} (kept encrypted; each expires after the retention period)")
    for m in msgs:
        text = m["text"] if m["readable"] else "(unreadable)"
        lines.append(f"  - {m['created_at']} {m['role']}: {text}")
    lines += ["", "## Safety decisions"]
    decisions = export["decisions"]
    lines.append(f"- decisions: {len(decisions)}")
    for d in decisions:
        cats = ", ".join(d["categories"]) or "none"
        lines.append(f"  - {d['created_at']} {d['kind']} {d['action']} (categories: {cats})")
    lines += ["", "## Healthy use"]
    hs = export["healthy_use"]["settings"]
    if hs:
        lines.append(
            f"- time zone {hs['timezone']}; daily limit {hs['daily_limit_minutes'] or 'none'} min; "
            f"quiet hours {hs['quiet_start'] or '-'} to {hs['quiet_end'] or '-'}; "
            f"break after {hs['break_after_minutes'] or 'never'} min"
        )
    else:
        lines.append("- no limits set")
    for u in export["healthy_use"]["usage"]:
        lines.append(f"  - {u['day']}: {u['minutes']} minutes")
    lines += ["", "## Legal holds"]
    holds = export["legal_holds"]
    if not holds:
        lines.append("- none")
    for h in holds:
        state = f"released {h['released_at']}" if h["released_at"] else "active"
        lines.append(
            f"- {h['reference']} ({state}), since {h['created_at']}: {h['items']} items kept for an incident report "
            "even if the rest is erased"
        )
    lines += ["", "## How long data is kept (days)"]
    for kind, days in export["retention"].items():
        lines.append(f"- {kind}: {days}")
    return "\n".join(lines) + "\n"


class DataRights:
    """Export, erasure, rectification and legal holds for one store."""

    def __init__(
        self,
        data: SqlChildData,
        guardians: SqlGuardians,
        consent: ConsentLedger,
        healthy: HealthyUse,
        retention_days: dict[str, int],
        clock: Callable[[], datetime],
        audit: AuditHook = no_audit,
    ) -> None:
        self._data = data
        self._guardians = guardians
        self._consent = consent
        self._healthy = healthy
        self._retention = retention_days
        self._clock = clock
        self.audit = audit
        # Services with their own tables (review, reporting) register here so erasure and export reach them.
        self.erasure_hooks: list[ErasureHook] = []
        self.export_hooks: dict[str, ExportHook] = {}

    def _require(self, child_id: str) -> None:
        if self._data.child(child_id) is None:
            raise UnknownChild(f"no stored child with id {child_id!r}")

    def export(self, child_id: str, actor: str = "operator") -> dict[str, Any]:
        """Everything stored about the child, as JSON-ready data."""
        child = self._data.child(child_id)
        if child is None:
            raise UnknownChild(f"no stored child with id {child_id!r}")
        created = self._data.child_created_at(child_id)
        guardian_id = self._guardians.guardian_of(child_id)
        guardian = self._guardians.get(guardian_id) if guardian_id else None
        consent = self._consent.state(child_id)
        settings = self._healthy.settings(child_id)
        usage = self._healthy_usage(child_id)
        collected = self._data.collect(child_id)
        now = self._clock()
        out: dict[str, Any] = {
            "format": EXPORT_FORMAT,
            "exported_at": now.isoformat(),
            "child": {
                "id": child.id,
                "age_band": child.age_band,
                "created_at": created.isoformat() if created else None,
                "guardian": {"id": guardian.id, "display_name": guardian.display_name} if guardian else None,
            },
            "consent": {
                "purposes": consent.to_dict()["purposes"],
                "history": [e.to_dict() for e in self._consent.history(child_id)],
            },
            "healthy_use": {"settings": settings.to_dict() if settings else None, "usage": usage},
            **collected,
            "legal_holds": [h.to_dict() for h in self._data.holds(child_id)],
            "retention": dict(self._retention),
            "other": {name: dict(hook(child_id)) for name, hook in self.export_hooks.items()},
        }
        self.audit(
            {
                "type": "data.exported",
                "at": now.isoformat(),
                "actor": actor,
                "child_id": child_id,
                "details": {"messages": len(out["messages"]), "decisions": len(out["decisions"])},
            }
        )
        return out

    def _healthy_usage(self, child_id: str) -> list[dict[str, Any]]:
        return [{"day": u.day, "minutes": round(u.seconds / 60, 1)} for u in self._healthy.usage_history(child_id)]

    def export_json(self, child_id: str, actor: str = "operator") -> str:
        return json.dumps(self.export(child_id, actor), indent=2, ensure_ascii=False, sort_keys=True)

    def erase(self, child_id: str, actor: str = "operator") -> ErasureReport:
        """Delete all rows about the child and destroy its key; active legal holds are kept (and say so)."""
        self._require(child_id)
        holds = [h.id for h in self._data.holds(child_id) if h.released_at is None]
        deleted = dict(self._data.erase(child_id))
        for hook in self.erasure_hooks:
            for table_name, n in hook(child_id).items():
                deleted[table_name] = deleted.get(table_name, 0) + n
        if not self._data.scrub():  # no erased bytes left in the database's free pages or write-ahead log
            log.warning("erasure: readers kept the write-ahead log from being emptied; the next checkpoint empties it")
        report = ErasureReport(child_id, deleted, bool(deleted.get("child_keys")), holds)
        self.audit(
            {
                "type": "data.erased",
                "at": self._clock().isoformat(),
                "actor": actor,
                "child_id": child_id,
                "details": report.to_dict(),
            }
        )
        return report

    def rectify_age_band(self, child_id: str, age: str | int, actor: str = "operator") -> str:
        """Correct the child's age band (an age or a band); returns the new band."""
        child = self._data.child(child_id)
        if child is None:
            raise UnknownChild(f"no stored child with id {child_id!r}")
        band = AgeBand.parse(age).value
        self._data.set_age_band(child_id, band)
        self.audit(
            {
                "type": "child.rectified",
                "at": self._clock().isoformat(),
                "actor": actor,
                "child_id": child_id,
                "details": {"field": "age_band", "old": child.age_band, "new": band},
            }
        )
        return band

    def place_hold(self, child_id: str, reference: str, reason: str, actor: str) -> HoldRecord:
        """Keep the child's current evidence for an incident report, even through erasure."""
        self._require(child_id)
        if not reference.strip():
            raise InvalidInputError("a legal hold needs a reference (e.g. the incident report id)")
        hold = self._data.create_hold(child_id, reference.strip(), reason, actor)
        self.audit(
            {
                "type": "legal_hold.created",
                "at": hold.created_at.isoformat(),
                "actor": actor,
                "child_id": child_id,
                "details": {"hold_id": hold.id, "reference": hold.reference, "items": hold.items},
            }
        )
        return hold

    def release_hold(self, hold_id: str, actor: str) -> bool:
        released = self._data.release_hold(hold_id)
        if released:
            self.audit(
                {
                    "type": "legal_hold.released",
                    "at": self._clock().isoformat(),
                    "actor": actor,
                    "child_id": None,
                    "details": {"hold_id": hold_id},
                }
            )
        return released
