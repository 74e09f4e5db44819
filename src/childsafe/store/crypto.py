"""AES-GCM encryption for stored message text, and keyed pseudonyms for external ids."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from childsafe.store.database import StoreError

KEY_FILE = "store.key"


def _derive(master: bytes, purpose: str) -> bytes:
    # Separate subkeys so the pseudonym key never doubles as the encryption key.
    return hmac.new(master, b"childsafe/" + purpose.encode(), hashlib.sha256).digest()


def load_master_key(encryption_key: str | None, data_dir: str | Path) -> bytes:
    """The configured base64 key (32 bytes), or one generated once and kept in ``data_dir`` (mode 0600)."""
    if encryption_key:
        try:
            key = base64.b64decode(encryption_key, validate=True)
        except (binascii.Error, ValueError):
            raise StoreError("store.encryption_key is not valid base64") from None
        if len(key) != 32:
            raise StoreError(f"store.encryption_key must decode to 32 bytes, got {len(key)}")
        return key
    path = Path(data_dir).expanduser() / KEY_FILE
    try:
        if path.exists():
            key = base64.b64decode(path.read_text(encoding="ascii").strip())
            if len(key) != 32:
                raise StoreError(f"key file {path} is damaged (expected 32 bytes)")
            return key
        path.parent.mkdir(parents=True, exist_ok=True)
        key = os.urandom(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(base64.b64encode(key).decode("ascii"))
        return key
    except OSError as exc:
        raise StoreError(f"cannot read or create key file {path}: {exc.strerror}") from None


class MessageCipher:
    """Encrypts message text with AES-256-GCM; the conversation id is bound in as associated data."""

    def __init__(self, master_key: bytes) -> None:
        self._aead = AESGCM(_derive(master_key, "messages"))

    def encrypt(self, text: str, associated: str) -> tuple[bytes, bytes]:
        nonce = os.urandom(12)
        return nonce, self._aead.encrypt(nonce, text.encode("utf-8"), associated.encode("utf-8"))

    def decrypt(self, nonce: bytes, ciphertext: bytes, associated: str) -> str:
        return self._aead.decrypt(nonce, ciphertext, associated.encode("utf-8")).decode("utf-8")


class Pseudonymizer:
    """Keyed hashes of identifiers apps send (user ids), so the store never holds them in clear."""

    def __init__(self, master_key: bytes) -> None:
        self._key = _derive(master_key, "pseudonyms")

    def __call__(self, scope: str, value: str) -> str:
        return hmac.new(self._key, f"{scope}\x00{value}".encode(), hashlib.sha256).hexdigest()


def hash_api_key(key: str) -> str:
    """API keys are random secrets, so a plain SHA-256 is enough to store them safely."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()
