"""Ed25519 keys that sign audit checkpoints."""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from childsafe.audit.events import canonical_json
from childsafe.types import ChildsafeError

KEY_FILE = "audit-signing.key"


class AuditKeyError(ChildsafeError):
    """The signing or verification key is missing or unreadable."""


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def checkpoint_message(seq: int, head_hash: str, at_iso: str, kid: str) -> bytes:
    return canonical_json({"seq": seq, "head_hash": head_hash, "at": at_iso, "key_id": kid}).encode("utf-8")


def load_signing_key(configured: str | None, data_dir: str | Path) -> Ed25519PrivateKey:
    """The configured base64 32-byte seed, or a key generated once in ``data_dir`` (mode 0600)."""
    if configured:
        try:
            seed = base64.b64decode(configured, validate=True)
        except (binascii.Error, ValueError):
            raise AuditKeyError("audit.signing_key is not valid base64") from None
        if len(seed) != 32:
            raise AuditKeyError(f"audit.signing_key must decode to 32 bytes, got {len(seed)}")
        return Ed25519PrivateKey.from_private_bytes(seed)
    path = Path(data_dir).expanduser() / KEY_FILE
    try:
        if path.exists():
            seed = base64.b64decode(path.read_text(encoding="ascii").strip())
            if len(seed) != 32:
                raise AuditKeyError(f"audit key file {path} is damaged (expected 32 bytes)")
            return Ed25519PrivateKey.from_private_bytes(seed)
        path.parent.mkdir(parents=True, exist_ok=True)
        key = Ed25519PrivateKey.generate()
        seed = key.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(base64.b64encode(seed).decode("ascii"))
        return key
    except OSError as exc:
        raise AuditKeyError(f"cannot read or create audit key file {path}: {exc.strerror}") from None


def load_public_key(path: str | Path) -> Ed25519PublicKey:
    """A public key file as written by ``public_key_text`` (base64 raw 32 bytes), for auditors without the seed."""
    try:
        raw = base64.b64decode(Path(path).read_text(encoding="ascii").strip(), validate=True)
    except OSError as exc:
        raise AuditKeyError(f"cannot read public key file {path}: {exc.strerror}") from None
    except (binascii.Error, ValueError):
        raise AuditKeyError(f"public key file {path} is not base64") from None
    if len(raw) != 32:
        raise AuditKeyError(f"public key file {path} must hold 32 bytes, got {len(raw)}")
    return Ed25519PublicKey.from_public_bytes(raw)


def public_key_text(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def sign(key: Ed25519PrivateKey, message: bytes) -> str:
    return base64.b64encode(key.sign(message)).decode("ascii")


def signature_valid(public: Ed25519PublicKey, message: bytes, signature: str) -> bool:
    try:
        public.verify(base64.b64decode(signature, validate=True), message)
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True
