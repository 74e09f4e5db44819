"""Web accounts (argon2 password hashes), signed session cookies backed by a server-side session record, and
CSRF tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, delete, insert, select, update

from childsafe.store.schema import Base

ROLES = ("admin", "moderator", "guardian")
SESSION_COOKIE = "cs_session"
SESSION_KEY_FILE = "web-session.key"
SESSION_TTL_S = 8 * 3600


@dataclass(frozen=True, slots=True)
class WebUser:
    id: str
    username: str
    role: str
    guardian_id: str | None


@dataclass(frozen=True, slots=True)
class Session:
    user: WebUser
    nonce: str
    csrf: str


class WebUsers:
    """Accounts for the web pages; passwords are stored as argon2id hashes only."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._t = Base.metadata.tables["web_users"]
        self._hasher = PasswordHasher()
        self._dummy = self._hasher.hash(secrets.token_hex(8))

    def create(self, username: str, password: str, role: str, guardian_id: str | None = None) -> WebUser:
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
        if len(password) < 8:
            raise ValueError("password must have at least 8 characters")
        user_id = "usr_" + uuid.uuid4().hex[:16]
        with self._engine.begin() as c:
            existing = c.execute(select(self._t.c.id).where(self._t.c.username == username)).first()
            values = {"password_hash": self._hasher.hash(password), "role": role, "guardian_id": guardian_id}
            if existing is None:
                c.execute(insert(self._t).values(id=user_id, username=username, created_at=datetime.now(UTC), **values))
            else:
                user_id = existing.id
                c.execute(update(self._t).where(self._t.c.id == user_id).values(**values))
                # a new password or role ends every session signed in under the old one
                c.execute(delete(_sessions_table()).where(_sessions_table().c.user_id == user_id))
        return WebUser(user_id, username, role, guardian_id)

    def remove(self, username: str) -> bool:
        """Delete an account and end its sessions; False if there was no such account."""
        with self._engine.begin() as c:
            row = c.execute(select(self._t.c.id).where(self._t.c.username == username)).first()
            if row is None:
                return False
            c.execute(delete(_sessions_table()).where(_sessions_table().c.user_id == row.id))
            c.execute(delete(self._t).where(self._t.c.id == row.id))
        return True

    def has_password(self, username: str, password: str) -> bool:
        """Whether this account exists and still has this password (used to find leftover demo accounts)."""
        with self._engine.connect() as c:
            row = c.execute(select(self._t.c.password_hash).where(self._t.c.username == username)).first()
        if row is None:
            return False
        try:
            return bool(self._hasher.verify(row.password_hash, password))
        except (VerificationError, InvalidHashError):
            return False

    def authenticate(self, username: str, password: str) -> WebUser | None:
        with self._engine.connect() as c:
            row = c.execute(select(self._t).where(self._t.c.username == username)).first()
        try:
            # Verify against a dummy hash for unknown names too, so timing does not reveal which names exist.
            self._hasher.verify(row.password_hash if row is not None else self._dummy, password)
        except (VerificationError, InvalidHashError):
            return None
        if row is None:
            return None
        return WebUser(row.id, row.username, row.role, row.guardian_id)

    def get(self, user_id: str) -> WebUser | None:
        with self._engine.connect() as c:
            row = c.execute(select(self._t).where(self._t.c.id == user_id)).first()
        return None if row is None else WebUser(row.id, row.username, row.role, row.guardian_id)


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


def _sessions_table() -> Any:
    return Base.metadata.tables["web_sessions"]


def _session_row_id(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


class Sessions:
    """Signed session cookies (user id, expiry, session id) and a CSRF token bound to each session.

    The signature alone is not enough: each session also has a row in ``web_sessions``, checked on every
    request, so logout (or a password change) revokes a session even though the cookie has not expired.
    """

    def __init__(self, key: bytes, engine: Engine) -> None:
        self._key = key
        self._engine = engine
        self._t = _sessions_table()

    def _mac(self, payload: bytes) -> str:
        return hmac.new(self._key, payload, hashlib.sha256).hexdigest()

    def issue(self, user: WebUser) -> str:
        nonce = secrets.token_hex(16)
        expires = int(time.time()) + SESSION_TTL_S
        now = datetime.now(UTC)
        with self._engine.begin() as c:
            c.execute(delete(self._t).where(self._t.c.expires_at < now))  # expired sessions go as new ones start
            c.execute(
                insert(self._t).values(
                    id=_session_row_id(nonce),
                    user_id=user.id,
                    created_at=now,
                    expires_at=now + timedelta(seconds=SESSION_TTL_S),
                )
            )
        payload = base64.urlsafe_b64encode(json.dumps({"u": user.id, "e": expires, "n": nonce}).encode())
        return payload.decode("ascii") + "." + self._mac(payload)

    def revoke(self, session: Session) -> None:
        """End a session: its cookie, even a copy taken earlier, is refused from now on."""
        with self._engine.begin() as c:
            c.execute(delete(self._t).where(self._t.c.id == _session_row_id(session.nonce)))

    def _active_user(self, nonce: str, user_id: str) -> WebUser | None:
        """The account of a live session record (one query: this runs on every page request)."""
        users = Base.metadata.tables["web_users"]
        q = (
            select(users.c.id, users.c.username, users.c.role, users.c.guardian_id, self._t.c.expires_at)
            .join(self._t, self._t.c.user_id == users.c.id)
            .where(self._t.c.id == _session_row_id(nonce), users.c.id == user_id)
        )
        with self._engine.connect() as c:
            row = c.execute(q).first()
        if row is None or row.expires_at <= datetime.now(UTC):
            return None
        return WebUser(row.id, row.username, row.role, row.guardian_id)

    def read(self, cookie: str | None) -> Session | None:
        if not cookie or "." not in cookie:
            return None
        payload, _, mac = cookie.rpartition(".")
        if not hmac.compare_digest(mac, self._mac(payload.encode("ascii", "replace"))):
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(payload))
        except ValueError:
            return None
        if not isinstance(data, dict) or int(data.get("e", 0)) < time.time():
            return None
        nonce = str(data.get("n", ""))
        user = self._active_user(nonce, str(data.get("u"))) if nonce else None
        if user is None:
            return None  # logged out, ended by a password change, account gone, or from before session records
        return Session(user, nonce, self.csrf_for(nonce))

    def csrf_for(self, nonce: str) -> str:
        return self._mac(b"csrf:" + nonce.encode())[:40]
