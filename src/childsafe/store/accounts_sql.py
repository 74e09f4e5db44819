"""SQL repositories for the web console's accounts: logins (``web_users``), the server-side record of each
signed-in session (``web_sessions``) and guardian invitations (``guardian_invitations``).

Rows go in and come out as dataclasses. The rules (valid names, roles, password strength, argon2 hashing, who
may be invited, how long a link lives) belong to ``childsafe.accounts``; here are only the transactions that
keep those rules true when two requests race (a name taken twice, one invitation link opened in two tabs).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

import childsafe.store.oversight_schema  # noqa: F401  (registers web_users, web_sessions, guardian_invitations)
from childsafe.store.schema import Base

Database = Engine
"""The handle the account repositories are built over: the store's engine (``Store.engine``)."""


@dataclass(frozen=True, slots=True)
class WebUser:
    """A signed-in (or signing-in) person: what a page needs to know about its user."""

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
class Credentials:
    """What a login is checked against: the account, its password hash, and whether it is disabled."""

    user: WebUser
    password_hash: str
    disabled_at: datetime | None


@dataclass(frozen=True, slots=True)
class Invitation:
    id: str
    guardian_id: str
    username: str
    created_by: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None


class UsernameTaken(ValueError):
    """An account of this name exists (found before the insert, or by the unique index when two raced)."""


class UsernameReserved(ValueError):
    """A pending invitation for another guardian already reserves this name."""


class InvitationUsedUp(ValueError):
    """The invitation was used or expired between reading it and using it up."""


_USERS = Base.metadata.tables["web_users"]
_SESSIONS = Base.metadata.tables["web_sessions"]
_INVITATIONS = Base.metadata.tables["guardian_invitations"]


def _new_user_id() -> str:
    return "usr_" + uuid.uuid4().hex[:16]


def _user_id_of(c: Connection, username: str) -> str | None:
    row = c.execute(select(_USERS.c.id).where(_USERS.c.username == username)).first()
    return None if row is None else str(row.id)


def _end_sessions(c: Connection, user_id: str) -> None:
    c.execute(delete(_SESSIONS).where(_SESSIONS.c.user_id == user_id))


def _insert_user(
    c: Connection, username: str, password_hash: str, role: str, guardian_id: str | None, now: datetime
) -> WebUser:
    """Insert inside the caller's transaction; :class:`UsernameTaken` (the caller rolls back) if the name is."""
    if _user_id_of(c, username) is not None:
        raise UsernameTaken(username)
    user_id = _new_user_id()
    try:
        c.execute(
            insert(_USERS).values(
                id=user_id,
                username=username,
                password_hash=password_hash,
                role=role,
                guardian_id=guardian_id,
                created_at=now,
            )
        )
    except IntegrityError:  # created by someone else between the check and the insert
        raise UsernameTaken(username) from None
    return WebUser(user_id, username, role, guardian_id)


class SqlWebUsers:
    """Logins in ``web_users``; every change that ends what a session was signed in under deletes its sessions."""

    def __init__(self, engine: Database) -> None:
        self._engine = engine

    def save(self, username: str, password_hash: str, role: str, guardian_id: str | None, now: datetime) -> WebUser:
        """Create or overwrite an account; overwriting ends every session signed in under the old one."""
        with self._engine.begin() as c:
            user_id = _user_id_of(c, username)
            values = {"password_hash": password_hash, "role": role, "guardian_id": guardian_id}
            if user_id is None:
                user_id = _new_user_id()
                c.execute(insert(_USERS).values(id=user_id, username=username, created_at=now, **values))
            else:
                c.execute(update(_USERS).where(_USERS.c.id == user_id).values(**values))
                _end_sessions(c, user_id)
        return WebUser(user_id, username, role, guardian_id)

    def insert(self, username: str, password_hash: str, role: str, guardian_id: str | None, now: datetime) -> WebUser:
        """A new account; :class:`UsernameTaken` if the name is taken (an existing account is never overwritten)."""
        with self._engine.begin() as c:
            return _insert_user(c, username, password_hash, role, guardian_id, now)

    def accounts(self) -> list[Account]:
        """Every account, oldest first."""
        u = _USERS.c
        q = select(u.id, u.username, u.role, u.guardian_id, u.created_at, u.disabled_at).order_by(
            u.created_at, u.username
        )
        with self._engine.connect() as c:
            rows = c.execute(q).all()
        return [Account(r.id, r.username, r.role, r.guardian_id, r.created_at, r.disabled_at) for r in rows]

    def account(self, username: str) -> Account | None:
        with self._engine.connect() as c:
            r = c.execute(select(_USERS).where(_USERS.c.username == username)).first()
        return None if r is None else Account(r.id, r.username, r.role, r.guardian_id, r.created_at, r.disabled_at)

    def set_disabled(self, username: str, disabled_at: datetime | None) -> Account | None:
        """Disable (ending every session at once) or, with None, enable an account; None if there is none."""
        with self._engine.begin() as c:
            user_id = _user_id_of(c, username)
            if user_id is None:
                return None
            c.execute(update(_USERS).where(_USERS.c.id == user_id).values(disabled_at=disabled_at))
            if disabled_at is not None:
                _end_sessions(c, user_id)
        return self.account(username)

    def set_password_hash(self, username: str, password_hash: str) -> Account | None:
        """A new password hash, ending every session signed in under the old one; None if there is no account."""
        with self._engine.begin() as c:
            user_id = _user_id_of(c, username)
            if user_id is None:
                return None
            c.execute(update(_USERS).where(_USERS.c.id == user_id).values(password_hash=password_hash))
            _end_sessions(c, user_id)
        return self.account(username)

    def remove(self, username: str) -> bool:
        """Delete an account and end its sessions; False if there was no such account."""
        with self._engine.begin() as c:
            user_id = _user_id_of(c, username)
            if user_id is None:
                return False
            _end_sessions(c, user_id)
            c.execute(delete(_USERS).where(_USERS.c.id == user_id))
        return True

    def credentials(self, username: str) -> Credentials | None:
        with self._engine.connect() as c:
            r = c.execute(select(_USERS).where(_USERS.c.username == username)).first()
        if r is None:
            return None
        return Credentials(WebUser(r.id, r.username, r.role, r.guardian_id), r.password_hash, r.disabled_at)

    def get(self, user_id: str) -> WebUser | None:
        with self._engine.connect() as c:
            r = c.execute(select(_USERS).where(_USERS.c.id == user_id)).first()
        return None if r is None else WebUser(r.id, r.username, r.role, r.guardian_id)


class SqlWebSessions:
    """One row per signed-in session, keyed by a hash of the session id (never the id itself)."""

    def __init__(self, engine: Database) -> None:
        self._engine = engine

    def add(self, session_id: str, user_id: str, now: datetime, expires_at: datetime) -> None:
        """Record a new session; expired sessions are deleted as new ones start."""
        with self._engine.begin() as c:
            c.execute(delete(_SESSIONS).where(_SESSIONS.c.expires_at < now))
            c.execute(insert(_SESSIONS).values(id=session_id, user_id=user_id, created_at=now, expires_at=expires_at))

    def delete(self, session_id: str) -> None:
        with self._engine.begin() as c:
            c.execute(delete(_SESSIONS).where(_SESSIONS.c.id == session_id))

    def active_user(self, session_id: str, user_id: str, now: datetime) -> WebUser | None:
        """The enabled account of an unexpired session record (one query: this runs on every page request)."""
        q = (
            select(_USERS.c.id, _USERS.c.username, _USERS.c.role, _USERS.c.guardian_id, _SESSIONS.c.expires_at)
            .join(_SESSIONS, _SESSIONS.c.user_id == _USERS.c.id)
            .where(_SESSIONS.c.id == session_id, _USERS.c.id == user_id, _USERS.c.disabled_at.is_(None))
        )
        with self._engine.connect() as c:
            r = c.execute(q).first()
        if r is None or r.expires_at <= now:
            return None
        return WebUser(r.id, r.username, r.role, r.guardian_id)


def _invitation(row: Any) -> Invitation:
    return Invitation(
        row.id, row.guardian_id, row.username, row.created_by, row.created_at, row.expires_at, row.used_at
    )


class SqlInvitations:
    """One-time guardian invitations; only a hash of each link's token is stored."""

    def __init__(self, engine: Database) -> None:
        self._engine = engine

    def create(self, invitation: Invitation, token_hash: str) -> None:
        """Store a new invitation, replacing (expiring) a pending one for the same guardian and name.

        :class:`UsernameReserved` if a pending invitation for another guardian already reserves the name."""
        now = invitation.created_at
        t = _INVITATIONS
        pending = t.c.used_at.is_(None) & (t.c.expires_at > now) & (t.c.username == invitation.username)
        with self._engine.begin() as c:
            others = c.execute(select(t.c.guardian_id).where(pending)).all()
            if any(r.guardian_id != invitation.guardian_id for r in others):
                raise UsernameReserved(invitation.username)
            c.execute(update(t).where(pending).values(expires_at=now))
            c.execute(
                insert(t).values(
                    id=invitation.id,
                    token_hash=token_hash,
                    guardian_id=invitation.guardian_id,
                    username=invitation.username,
                    created_by=invitation.created_by,
                    created_at=now,
                    expires_at=invitation.expires_at,
                )
            )

    def pending(self, now: datetime) -> list[Invitation]:
        """Unused, unexpired invitations, newest first."""
        t = _INVITATIONS
        q = select(t).where(t.c.used_at.is_(None), t.c.expires_at > now).order_by(t.c.created_at.desc())
        with self._engine.connect() as c:
            return [_invitation(r) for r in c.execute(q)]

    def by_token_hash(self, token_hash: str) -> Invitation | None:
        with self._engine.connect() as c:
            row = c.execute(select(_INVITATIONS).where(_INVITATIONS.c.token_hash == token_hash)).first()
        return None if row is None else _invitation(row)

    def accept(self, invitation: Invitation, password_hash: str, now: datetime, *, created_at: datetime) -> WebUser:
        """Use the invitation up at ``now`` and create its guardian login, in one transaction (two tabs opening
        the same link create one account). :class:`InvitationUsedUp` or :class:`UsernameTaken` roll both back."""
        t = _INVITATIONS
        with self._engine.begin() as c:
            used = c.execute(
                update(t)
                .where(t.c.id == invitation.id, t.c.used_at.is_(None), t.c.expires_at > now)
                .values(used_at=now)
            )
            if used.rowcount != 1:
                raise InvitationUsedUp(invitation.id)
            return _insert_user(c, invitation.username, password_hash, "guardian", invitation.guardian_id, created_at)
