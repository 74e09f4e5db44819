"""Encryption of a child's stored words in text columns: decision excerpts, review-case excerpts, appeal reasons.

A redacted excerpt masks personal details only, so it is still, most of the time, the child's own words; an
appeal reason is the child's words by definition. Each is stored as ``cs1:<k>:<base64(nonce + AES-GCM
ciphertext)>`` in the same text column, where ``<k>`` names the key:

* ``c``: the child's own content key (``child_keys``, wrapped under the master key). Erasing the child
  deletes that key, so every copy of these columns (a stray row, a replica) becomes unreadable.
* ``d``: a subkey of the store's master key, for rows that belong to no child (a decision checked without a
  child, e.g. ``POST /v1/check``); these go when their row is deleted (retention), not by erasure.

The associated data names the table, column and row, so a sealed value cannot be moved to another row or
another child. A value without the prefix is plaintext written before sealing existed; it is still read, and
:meth:`childsafe.store.privacy_sql.SqlChildData.seal_legacy_words` seals such rows in place.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.exc import IntegrityError

SEALED_PREFIX = "cs1:"
_CHILD, _DEPLOYMENT = "c", "d"


class ChildKeys(Protocol):
    """The per-child keyring (``childsafe.store.privacy_sql.ChildKeyring``)."""

    def get(self, child_id: str) -> bytes | None: ...

    def get_or_create(self, child_id: str) -> bytes: ...


def is_sealed(value: str | None) -> bool:
    return value is not None and value.startswith(SEALED_PREFIX)


def words_context(table: str, column: str, row_id: str) -> str:
    """The associated data binding a sealed value to its table, column and row."""
    return f"{table}.{column}:{row_id}"


class WordSealer:
    """Seals and opens a child's words; ``keys`` may be looked up once per call site with :meth:`key_for`."""

    def __init__(self, keys: ChildKeys, master_key: bytes) -> None:
        self._keys = keys
        self._deployment = AESGCM(hmac.new(master_key, b"childsafe/stored-words", hashlib.sha256).digest())

    def key_for(self, child_id: str | None) -> bytes | None:
        """The key that would seal words of ``child_id`` (created on first use); None when it cannot exist.

        A child erased meanwhile has no profile, so no key can be created for it: its words are not stored."""
        if child_id is None:
            return None
        try:
            return self._keys.get_or_create(child_id)
        except IntegrityError:  # the child row is gone (erased): the key's foreign key refuses a new key
            return self._keys.get(child_id)

    def seal(self, child_id: str | None, text: str | None, context: str, *, key: bytes | None = None) -> str | None:
        """The sealed form of ``text`` (None stays None). Raises ``LookupError`` for an erased child."""
        if text is None:
            return None
        nonce = os.urandom(12)
        if child_id is None:
            tag, aead = _DEPLOYMENT, self._deployment
        else:
            child_key = key if key is not None else self.key_for(child_id)
            if child_key is None:
                raise LookupError("the child has no content key (erased)")
            tag, aead = _CHILD, AESGCM(child_key)
        ct = aead.encrypt(nonce, text.encode("utf-8"), context.encode("utf-8"))
        return f"{SEALED_PREFIX}{tag}:{base64.b64encode(nonce + ct).decode('ascii')}"

    def open(self, child_id: str | None, value: str | None, context: str, *, key: bytes | None = None) -> str | None:
        """The words, or None when there are none or they cannot be read any more (the child's key is gone).

        ``key``: the child's key when the caller already has it (``self.child_key``), saving a lookup."""
        if value is None or not is_sealed(value):
            return value  # None, or plaintext from before sealing
        tag, _, body = value[len(SEALED_PREFIX) :].partition(":")
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            return None
        if tag == _DEPLOYMENT:
            aead = self._deployment
        elif tag == _CHILD and child_id is not None:
            child_key = key if key is not None else self._keys.get(child_id)
            if child_key is None:
                return None
            aead = AESGCM(child_key)
        else:
            return None
        try:
            return aead.decrypt(raw[:12], raw[12:], context.encode("utf-8")).decode("utf-8")
        except (InvalidTag, ValueError):
            return None

    def child_key(self, child_id: str | None) -> bytes | None:
        """The child's existing key (never creates one), for opening many values of one child."""
        return None if child_id is None else self._keys.get(child_id)
