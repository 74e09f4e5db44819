"""Signal types: the kinds of hash childsafe can match (pdq, md5, sha256).

A *signal type* knows one hash format and nothing about where content comes from or how a list is stored.
Keeping those three apart (signal type, content hashing, index) follows python-threatexchange's
SignalType / ContentType / Index separation, for the same reason: a new hash (say, a video hash) should
need one new signal class and one hasher, and every list format, index and report keeps working.

Why the contract looks like this:

* **Instances, not classmethods.** A signal type is a small immutable object registered by its
  lower_snake ``name``; that name appears in hash lists, manifests and incident reports, so it is stable.
* **Validation normalises.** ``validate`` returns the canonical form (lowercase hex, surrounding
  whitespace removed) or raises :class:`InvalidHashError` naming what is wrong, so every index stores one
  spelling of each hash and a list with a typo is reported line by line.
* **Distance is the matching contract.** ``distance`` is an integer: 0/1 for exact signals, Hamming bits
  for PDQ. ``threshold`` is the largest distance that counts as a match (0 for exact signals, 31 for PDQ,
  the value PDQ's authors recommend for confident matches).
* **Example hashes ship with the type** so tests, demos and documentation have valid values without a
  real list of abuse hashes. They are hashes of generated images/strings, never of real content.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from typing import ClassVar

from childsafe.types import ChildsafeError, InvalidInputError

PDQ_BITS = 256
PDQ_DEFAULT_THRESHOLD = 31
"""Hamming distance at or below which two PDQ hashes are taken as the same picture."""
PDQ_MIN_QUALITY = 50
"""PDQ quality below this (flat or near-blank images) is too unreliable to match on: recorded, not matched."""


class HashingError(ChildsafeError):
    """A hashing problem with a clear message (bad list, unknown signal type, unreadable image)."""


class InvalidHashError(HashingError, InvalidInputError):
    """A hash string that is not valid for its signal type."""


class SignalType(ABC):
    """One hash format. See the module docstring for the contract."""

    name: ClassVar[str]
    hex_length: ClassVar[int]
    threshold: ClassVar[int]
    """Default largest distance that counts as a match."""
    exact: ClassVar[bool]
    """True when only identical hashes match (an exact index is enough)."""
    description: ClassVar[str]

    _HEX: ClassVar[re.Pattern[str]] = re.compile(r"[0-9a-f]+")

    def validate(self, value: str) -> str:
        """Return the canonical form of ``value`` or raise :class:`InvalidHashError`."""
        if len(value) == self.hex_length and self._HEX.fullmatch(value):
            return value  # already canonical: the common case in large lists
        text = value.strip().lower()
        if text.startswith("0x"):
            text = text[2:]
        if not text:
            raise InvalidHashError(f"empty {self.name} hash")
        if len(text) != self.hex_length:
            raise InvalidHashError(
                f"a {self.name} hash has {self.hex_length} hex digits, got {len(text)} ({_excerpt(value)})"
            )
        if not self._HEX.fullmatch(text):
            raise InvalidHashError(f"a {self.name} hash must be hexadecimal ({_excerpt(value)})")
        return text

    def is_valid(self, value: str) -> bool:
        try:
            self.validate(value)
        except InvalidHashError:
            return False
        return True

    @abstractmethod
    def distance(self, a: str, b: str) -> int:
        """Distance between two canonical hashes (0 means identical)."""

    def matches(self, a: str, b: str, threshold: int | None = None) -> bool:
        return self.distance(a, b) <= (self.threshold if threshold is None else threshold)

    @abstractmethod
    def examples(self) -> list[str]:
        """Valid example hashes (of generated, harmless content) for tests and demos."""

    def __repr__(self) -> str:
        return f"<SignalType {self.name}>"


class _ExactSignal(SignalType):
    threshold = 0
    exact = True

    def distance(self, a: str, b: str) -> int:
        return 0 if self.validate(a) == self.validate(b) else 1


class Md5Signal(_ExactSignal):
    """MD5 of the file bytes: finds byte-identical copies only."""

    name = "md5"
    hex_length = 32
    description = "MD5 of the exact file bytes (identical copies only)"

    def examples(self) -> list[str]:
        return ["d41d8cd98f00b204e9800998ecf8427e", "da86501c50fe34b5b4f10052f97fc2c9"]  # b"", b"childsafe"


class Sha256Signal(_ExactSignal):
    """SHA-256 of the file bytes: finds byte-identical copies only."""

    name = "sha256"
    hex_length = 64
    description = "SHA-256 of the exact file bytes (identical copies only)"

    def examples(self) -> list[str]:
        return [
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",  # b""
            "a17cfbb4ae3e1b154fa442603bddca62a5ed092ab3c109541dbd333aa1711833",  # b"childsafe"
        ]


class Sha1Signal(_ExactSignal):
    """SHA-1 of the file bytes: kept because incident reports (CyberTipline) ask for it."""

    name = "sha1"
    hex_length = 40
    description = "SHA-1 of the exact file bytes (identical copies only)"

    def examples(self) -> list[str]:
        return ["da39a3ee5e6b4b0d3255bfef95601890afd80709"]  # sha1 of b""


class PdqSignal(SignalType):
    """PDQ perceptual hash (256 bits): finds resized, re-encoded and lightly edited copies of a picture."""

    name = "pdq"
    hex_length = 64
    threshold = PDQ_DEFAULT_THRESHOLD
    exact = False
    description = "PDQ perceptual image hash (256 bits, Hamming distance, match at <= 31)"

    def distance(self, a: str, b: str) -> int:
        return (int(self.validate(a), 16) ^ int(self.validate(b), 16)).bit_count()

    def examples(self) -> list[str]:
        # PDQ of childsafe.scan.synthetic.structured_image(1) and (2): generated shapes, checked in tests.
        return [
            "037e7c0f401457af57f095f8908181d0ba85abd003fa5e0f7c0f542bad5aaffa",
            "c169d2e98bf1d93e6d26eb6107e9c1792fa64db6f78042a9ea976d960816a501",
        ]


def _excerpt(value: str) -> str:
    text = value.strip()
    return repr(text if len(text) <= 24 else text[:21] + "...")


SIGNAL_TYPES: dict[str, SignalType] = {s.name: s for s in (PdqSignal(), Md5Signal(), Sha256Signal(), Sha1Signal())}
"""Registered signal types by name. Matching uses pdq, md5 and sha256; sha1 is computed for reports."""

MATCH_SIGNALS: tuple[str, ...] = ("pdq", "md5", "sha256", "sha1")


_ALIASES = {
    "photo_pdq": "pdq",
    "pdq_hash": "pdq",
    "hash_pdq": "pdq",
    "hash_md5": "md5",
    "photo_md5": "md5",
    "sha_256": "sha256",
    "hash_sha256": "sha256",
    "sha_1": "sha1",
}


def get_signal_type(name: str) -> SignalType:
    """Look up a signal type by name (``"PDQ"``, ``"md5"``...); a clear error names the known ones."""
    found = SIGNAL_TYPES.get(name)
    if found is not None:  # fast path: called once per line of a million-line list
        return found
    key = name.strip().lower().replace("-", "_")
    key = _ALIASES.get(key, key)
    try:
        return SIGNAL_TYPES[key]
    except KeyError:
        raise HashingError(f"unknown signal type {name!r}; known: {', '.join(SIGNAL_TYPES)}") from None
