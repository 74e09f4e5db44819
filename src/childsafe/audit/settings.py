"""Audit settings: the typed ``config.audit`` section, and opening the log (and its key) from it."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

from childsafe.audit.log import AuditLog
from childsafe.audit.signing import load_signing_key
from childsafe.config import AuditConfig

DEFAULT_DATA_DIR = "./childsafe-data"


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


def audit_config(config: object) -> AuditConfig:
    """``config.audit`` as the typed section (the defaults when ``config`` has none), for the entry points that
    are handed a whole :class:`childsafe.config.Config`."""
    section = getattr(config, "audit", None)
    if isinstance(section, AuditConfig):
        return section
    if section is None:
        return AuditConfig()
    if isinstance(section, dict):
        return AuditConfig.model_validate(section)
    return AuditConfig.model_validate(section, from_attributes=True)


def data_dir_of(config: object) -> Path:
    """``config.store.data_dir``, where the signing key (and by default the checkpoint file) is kept."""
    return Path(getattr(getattr(config, "store", None), "data_dir", DEFAULT_DATA_DIR))


def open_audit_log_for_store(store: object, section: AuditConfig, data_dir: str | Path) -> AuditLog:
    """The audit log over ``store`` (a Store, its engine or an audit chain repository), signing with the key
    from ``section`` or, when it names none, the key file in ``data_dir``."""
    key = load_signing_key(section.signing_key, Path(data_dir))
    return AuditLog(store, key, checkpoint_every=section.checkpoint_every)


def open_audit_log(engine: object, config: object) -> AuditLog:
    """The audit log over an open store's engine, with the signing key from config or the data directory."""
    return open_audit_log_for_store(engine, audit_config(config), data_dir_of(config))
