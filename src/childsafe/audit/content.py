"""Keyed digests of message content for the audit log.

The audit log is kept for years and outlives a child's erasure, so it must not hold anything that gives the
child's words back. A plain SHA-256 of a short message does: anyone can hash guesses ("i am 11", a name, a
school) until one matches. The log therefore stores ``HMAC-SHA256(key, SHA-256(text))``: only a holder of the
key can test a guess, and it still identifies the content (an investigator with the key computes the same
digest from a message and finds its events).

The key is derived from the store's master key (``store.encryption_key``, or ``store.key`` in
``store.data_dir``) with the label ``childsafe/audit-content``; ``key_id`` (recorded with each digest) names
it, so a digest made under an older master key is recognised as such rather than as a mismatch.
"""

from __future__ import annotations

import hashlib
import hmac

from childsafe.events import sha256_text


class ContentKey:
    """Computes the audit log's keyed content digests."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 32:
            raise ValueError("the audit content key must have at least 32 bytes")
        self._key = key
        self.key_id = hmac.new(key, b"key-id", hashlib.sha256).hexdigest()[:16]

    @classmethod
    def from_master(cls, master_key: bytes) -> ContentKey:
        return cls(hmac.new(master_key, b"childsafe/audit-content", hashlib.sha256).digest())

    @classmethod
    def from_config(cls, config: object) -> ContentKey:
        """The key of the deployment ``config`` describes (its master key, from config or the data folder)."""
        from childsafe.store.crypto import load_master_key

        store = getattr(config, "store", None)
        return cls.from_master(
            load_master_key(getattr(store, "encryption_key", None), getattr(store, "data_dir", "./childsafe-data"))
        )

    def of_sha256(self, content_sha256: str) -> str:
        """The digest for content whose SHA-256 (hex) is known, as the engine reports it."""
        return hmac.new(self._key, content_sha256.lower().encode("ascii"), hashlib.sha256).hexdigest()

    def of_text(self, text: str) -> str:
        """The digest of a message, to find its events in the log."""
        return self.of_sha256(sha256_text(text))
