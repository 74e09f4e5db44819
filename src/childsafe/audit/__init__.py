"""Tamper-evident audit log: typed events, SHA-256 hash chain, Ed25519-signed checkpoints, verification."""

from childsafe.audit.content import ContentKey
from childsafe.audit.events import GENESIS_HASH, AuditEvent, AuditEventType, AuditRecord, canonical_json, chain_hash
from childsafe.audit.log import AuditLog, Checkpoint, Problem, VerifyReport
from childsafe.audit.settings import AuditSettings, open_audit_log, open_audit_log_for_store
from childsafe.audit.signing import AuditKeyError, load_public_key, load_signing_key, public_key_text
from childsafe.audit.sink import AuditSink, decision_audit_event

__all__ = [
    "GENESIS_HASH",
    "AuditEvent",
    "AuditEventType",
    "AuditKeyError",
    "AuditLog",
    "AuditRecord",
    "AuditSettings",
    "AuditSink",
    "Checkpoint",
    "ContentKey",
    "Problem",
    "VerifyReport",
    "canonical_json",
    "chain_hash",
    "decision_audit_event",
    "load_public_key",
    "load_signing_key",
    "open_audit_log",
    "open_audit_log_for_store",
    "public_key_text",
]
