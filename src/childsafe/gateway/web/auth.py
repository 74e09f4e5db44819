"""Web accounts (argon2 password hashes), signed session cookies backed by a server-side session record, and
CSRF tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from childsafe.store.schema import Base

ROLES = ("admin", "moderator", "guardian")
SESSION_COOKIE = "cs_session"
SESSION_KEY_FILE = "web-session.key"
SESSION_TTL_S = 8 * 3600
MIN_PASSWORD_LENGTH = 12
"""Long enough that guessing stays slow even past the login throttle; no composition rules (NIST SP 800-63B)."""
MAX_PASSWORD_LENGTH = 1024
_USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}")


class AccountError(ValueError):
    """Bad input for an account (name, role, password, unknown or taken name); the message names what."""


def check_username(username: str) -> str:
    if not _USERNAME.fullmatch(username):
        raise AccountError(
            "username must be 1 to 100 characters: letters, digits and . _ @ + - (starting with a letter or digit)"
        )
    return username


def check_role(role: str) -> str:
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    return role


def check_password(password: str) -> str:
    """The password itself is never part of the message."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password must have at least {MIN_PASSWORD_LENGTH} characters (it has {len(password)})")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(f"password must have at most {MAX_PASSWORD_LENGTH} characters")
    if not password.strip():
        raise AccountError("password must not be only spaces")
    return password


@dataclass(frozen=True, slots=True)
class WebUser:
    id: str
    username: str
    role: str
    guardian_id: str | None


@dataclass(frozen=True, slots=True)
class Account:
    """An account as listed to admins: never its password hash."""

    id: str
    username: str
    role: str
    guardian_id: str | None
    created_at: datetime
    disabled_at: datetime | None

    @property
    def disabled(self) -> bool:
        return self.disabled_at is not None


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
        """Create or overwrite an account (the demo seeds and tests use this; operators use :meth:`add`)."""
        check_role(role)
        check_password(password)
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

    def hash_password(self, password: str) -> str:
        """argon2id of a checked password (slow on purpose: call it off the event loop)."""
        return self._hasher.hash(check_password(password))

    def add(self, username: str, password: str, role: str, guardian_id: str | None = None) -> WebUser:
        """A new account; :class:`AccountError` if the name is taken (an existing account is never overwritten)."""
        check_username(username)
        check_role(role)
        if (role == "guardian") != (guardian_id is not None):
            raise AccountError("a guardian account needs a guardian record, and only a guardian account has one")
        password_hash = self.hash_password(password)
        with self._engine.begin() as c:
            return self.insert_hashed(c, username, password_hash, role, guardian_id)

    def insert_hashed(
        self, c: Connection, username: str, password_hash: str, role: str, guardian_id: str | None
    ) -> WebUser:
        """Insert an account inside the caller's transaction (an invitation is used up in the same one)."""
        user_id = "usr_" + uuid.uuid4().hex[:16]
        if c.execute(select(self._t.c.id).where(self._t.c.username == username)).first() is not None:
            raise AccountError(f"an account named {username!r} already exists")
        try:
            c.execute(
                insert(self._t).values(
                    id=user_id,
                    username=username,
                    password_hash=password_hash,
                    role=role,
                    guardian_id=guardian_id,
                    created_at=datetime.now(UTC),
                )
            )
        except IntegrityError:  # created by someone else between the check and the insert: the caller rolls back
            raise AccountError(f"an account named {username!r} already exists") from None
        return WebUser(user_id, username, role, guardian_id)

    def accounts(self) -> list[Account]:
        """Every account, oldest first."""
        with self._engine.connect() as c:
            rows = c.execute(
                select(
                    self._t.c.id,
                    self._t.c.username,
                    self._t.c.role,
                    self._t.c.guardian_id,
                    self._t.c.created_at,
                    self._t.c.disabled_at,
                ).order_by(self._t.c.created_at, self._t.c.username)
            ).all()
        return [Account(r.id, r.username, r.role, r.guardian_id, r.created_at, r.disabled_at) for r in rows]

    def account(self, username: str) -> Account | None:
        with self._engine.connect() as c:
            r = c.execute(select(self._t).where(self._t.c.username == username)).first()
        return None if r is None else Account(r.id, r.username, r.role, r.guardian_id, r.created_at, r.disabled_at)

    def set_disabled(self, username: str, disabled: bool) -> Account:
        """Disable (ending every session at once) or enable an account; :class:`AccountError` if unknown."""
        with self._engine.begin() as c:
            row = c.execute(select(self._t.c.id).where(self._t.c.username == username)).first()
            if row is None:
                raise AccountError(f"no account named {username!r}")
            c.execute(
                update(self._t)
                .where(self._t.c.id == row.id)
                .values(disabled_at=datetime.now(UTC) if disabled else None)
            )
            if disabled:
                c.execute(delete(_sessions_table()).where(_sessions_table().c.user_id == row.id))
        account = self.account(username)
        assert account is not None
        return account

    def set_password(self, username: str, password: str) -> Account:
        """A new password; every session signed in under the old one ends. :class:`AccountError` if unknown."""
        password_hash = self.hash_password(password)
        with self._engine.begin() as c:
            row = c.execute(select(self._t.c.id).where(self._t.c.username == username)).first()
            if row is None:
                raise AccountError(f"no account named {username!r}")
            c.execute(update(self._t).where(self._t.c.id == row.id).values(password_hash=password_hash))
            c.execute(delete(_sessions_table()).where(_sessions_table().c.user_id == row.id))
        account = self.account(username)
        assert account is not None
        return account

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
        if row is None or row.disabled_at is not None:
            return None  # a disabled account answers like a wrong password: nothing to learn by guessing
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
            .where(self._t.c.id == _session_row_id(nonce), users.c.id == user_id, users.c.disabled_at.is_(None))
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
