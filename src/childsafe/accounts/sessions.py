"""Signed sessions backed by a server-side record, and the CSRF token bound to each.

A session is a signed token (user id, expiry, session id); the web face carries it in a cookie. The signature
alone is not enough: each session also has a row in ``web_sessions``, checked on every request, so logout (or
a password change, or disabling the account) revokes a session even though the token has not expired.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from childsafe.store.accounts_sql import Database, SqlWebSessions, WebUser

SESSION_KEY_FILE = "web-session.key"
SESSION_TTL_S = 8 * 3600


@dataclass(frozen=True, slots=True)
class Session:
    user: WebUser
    nonce: str
    csrf: str


def load_session_key(data_dir: str | Path) -> bytes:
    """A random key kept in the data directory, so sessions survive restarts and are shared by workers."""
    path = Path(data_dir).expanduser() / SESSION_KEY_FILE
    if path.exists():
        return base64.b64decode(path.read_text(encoding="ascii").strip())
    path.parent.mkdir(parents=True, exist_ok=True)
    key = os.urandom(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return base64.b64decode(path.read_text(encoding="ascii").strip())
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(base64.b64encode(key).decode("ascii"))
    return key


def _session_row_id(nonce: str) -> str:
    """What the database keeps of a session id: its hash (a database reader learns no live session)."""
    return hashlib.sha256(nonce.encode()).hexdigest()


class Sessions:
    """Issues, reads and revokes signed sessions (see the module's docstring)."""

    def __init__(self, key: bytes, engine: Database) -> None:
        self._key = key
        self._rows = SqlWebSessions(engine)

    def _mac(self, payload: bytes) -> str:
        return hmac.new(self._key, payload, hashlib.sha256).hexdigest()

    def issue(self, user: WebUser) -> str:
        nonce = secrets.token_hex(16)
        expires = int(time.time()) + SESSION_TTL_S
        now = datetime.now(UTC)
        self._rows.add(_session_row_id(nonce), user.id, now, now + timedelta(seconds=SESSION_TTL_S))
        payload = base64.urlsafe_b64encode(json.dumps({"u": user.id, "e": expires, "n": nonce}).encode())
        return payload.decode("ascii") + "." + self._mac(payload)

    def revoke(self, session: Session) -> None:
        """End a session: its token, even a copy taken earlier, is refused from now on."""
        self._rows.delete(_session_row_id(session.nonce))

    def read(self, token: str | None) -> Session | None:
        if not token or "." not in token:
            return None
        payload, _, mac = token.rpartition(".")
        if not hmac.compare_digest(mac, self._mac(payload.encode("ascii", "replace"))):
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(payload))
        except ValueError:
            return None
        if not isinstance(data, dict) or int(data.get("e", 0)) < time.time():
            return None
        nonce = str(data.get("n", ""))
        user = self._rows.active_user(_session_row_id(nonce), str(data.get("u")), datetime.now(UTC)) if nonce else None
        if user is None:
            return None  # logged out, ended by a password change, account gone, or from before session records
        return Session(user, nonce, self.csrf_for(nonce))

    def csrf_for(self, nonce: str) -> str:
        return self._mac(b"csrf:" + nonce.encode())[:40]
