"""Find stretches of a message that are encoded (base64, rot13) and decode them.

A child-safety layer should still see a request someone hid in an encoding and asked the model to decode.
Detection is conservative: a stretch counts as encoded only when its decoding reads as text made of common
words, so ordinary messages (hashes, long words, usernames) are never decoded.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
from dataclasses import dataclass

from childsafe.text.normalize import vocabulary

_B64_RUN = re.compile(r"(?<![A-Za-z0-9+/=_-])[A-Za-z0-9+/_-]{12,}={0,2}(?![A-Za-z0-9+/=_-])")
_WORDS = re.compile(r"[a-z]+")
_MIN_KNOWN = 2
"""A decoding must hold at least this many vocabulary words."""


@dataclass(frozen=True, slots=True)
class Encoded:
    """An encoded stretch ``raw[start:end]`` and the text it decodes to."""

    kind: str
    start: int
    end: int
    text: str


def _known(words: list[str]) -> int:
    vocab = vocabulary()
    return sum(1 for w in words if w in vocab)


def _reads_as_text(text: str) -> bool:
    if not text:
        return False
    printable = sum(1 for c in text if c.isprintable() or c in "\n\t")
    if printable < 0.95 * len(text):
        return False
    letters = sum(1 for c in text if c.isalpha() or c.isspace())
    if letters < 0.7 * len(text):
        return False
    words = _WORDS.findall(text.lower())
    return bool(words) and _known(words) >= min(_MIN_KNOWN, len(words)) and _known(words) >= 0.4 * len(words)


def _b64(token: str) -> str | None:
    body = token.rstrip("=")
    if len(body) % 4 == 1:
        return None
    padded = body + "=" * (-len(body) % 4)
    try:
        if "-" in body or "_" in body:
            data = base64.urlsafe_b64decode(padded)
        else:
            data = base64.b64decode(padded, validate=True)
        return data.decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None


def find_encoded(raw: str) -> list[Encoded]:
    """Base64 runs that decode to readable text, and the whole message when it reads better in rot13."""
    found: list[Encoded] = []
    for m in _B64_RUN.finditer(raw):
        token = m.group(0)
        if token.isalpha() and token.islower():
            continue  # a long lower-case word or a run-together phrase, not base64
        text = _b64(token)
        if text is not None and _reads_as_text(text):
            found.append(Encoded("base64", m.start(), m.end(), text))
    words = _WORDS.findall(raw.lower())
    known_raw = _known(words)
    # a word is rarely a word both as written and in rot13, so text mostly of words cannot read better in rot13
    if len(words) >= 2 and known_raw < 0.5 * len(words):
        rot = codecs.encode(raw, "rot13")
        known_rot = _known(_WORDS.findall(rot.lower()))
        # rot13 text has almost no real words; its decoding has mostly real words
        if known_rot >= _MIN_KNOWN and known_rot >= known_raw + 2 and known_rot >= 0.5 * len(words):
            found.append(Encoded("rot13", 0, len(raw), rot))
    return found
