"""Audit settings, read from ``config.audit`` when the config has that section (defaults otherwise)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

from childsafe.audit.log import AuditLog
from childsafe.audit.signing import load_signing_key


class AuditSettings(BaseModel):
    signing_key: str | None = Field(None, description="Base64 Ed25519 seed; default: generated in store.data_dir")
    checkpoint_every: int = Field(100, ge=1, description="Sign a checkpoint every N events")
    only_flagged: bool = Field(False, description="Log only decisions other than allow")

    @classmethod
    def from_config(cls, config: object) -> AuditSettings:
        section = getattr(config, "audit", None)
        if section is None:
            return cls()
        if isinstance(section, dict):
            return cls.model_validate(section)
        return cls.model_validate(section, from_attributes=True)


def open_audit_log(engine: object, config: object) -> AuditLog:
    """The audit log over an open store's engine, with the signing key from config or the data directory."""
    from sqlalchemy import Engine

    assert isinstance(engine, Engine)
    settings = AuditSettings.from_config(config)
    data_dir = Path(getattr(getattr(config, "store", None), "data_dir", "./childsafe-data"))
    key = load_signing_key(settings.signing_key, data_dir)
    return AuditLog(engine, key, checkpoint_every=settings.checkpoint_every)
