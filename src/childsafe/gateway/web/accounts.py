"""Account management for the web console, shared by ``childsafe users`` and the admin page: add accounts,
disable and enable them, reset passwords, and one-time invitations with which a guardian sets their own
password.

One class for both faces so they cannot drift apart: the same checks (a guardian login needs an existing
guardian record), the same session revocation, the same audit events (ids and roles, never a password or a
token).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import Engine, insert, select, update

from childsafe.gateway.web.auth import (
    Account,
    AccountError,
    WebUser,
    WebUsers,
    check_password,
    check_role,
    check_username,
)
from childsafe.store.schema import Base

if TYPE_CHECKING:
    from childsafe.audit import AuditLog
    from childsafe.store.privacy_sql import GuardianRecord

INVITATION_TTL = timedelta(hours=72)
INVITE_PATH = "/invite/"


class GuardianLookup(Protocol):
    def get(self, guardian_id: str) -> GuardianRecord | None: ...


class InvitationError(AccountError):
    """The invitation link is unknown, expired or already used (all answered alike)."""


@dataclass(frozen=True, slots=True)
class Invitation:
    id: str
    guardian_id: str
    username: str
    created_by: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None


def generate_password() -> str:
    """20 URL-safe characters (120 random bits): shown once, to be changed by nobody but an admin's reset."""
    return secrets.token_urlsafe(15)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Accounts:
    """The account use cases over ``web_users`` and ``guardian_invitations``."""

    def __init__(
        self,
        users: WebUsers,
        engine: Engine,
        guardians: GuardianLookup,
        audit: AuditLog | None = None,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.users = users
        self._engine = engine
        self._guardians = guardians
        self._audit = audit
        self._clock = clock
        self._t = Base.metadata.tables["guardian_invitations"]

    def _record(self, event: str, actor: str, subject: str, **details: Any) -> None:
        if self._audit is None:
            return
        from childsafe.audit import AuditEvent, AuditEventType

        self._audit.append(
            AuditEvent(AuditEventType.CONFIG_CHANGE, {"event": event, "details": details}, actor=actor, subject=subject)
        )

    def guardian(self, guardian_id: str) -> GuardianRecord:
        record = self._guardians.get(guardian_id) if guardian_id else None
        if record is None:
            raise AccountError(f"no guardian record with id {guardian_id!r}")
        return record

    # -- accounts ------------------------------------------------------------------------------------------

    def accounts(self) -> list[Account]:
        """Every account with role, guardian record and state; never a password hash."""
        return self.users.accounts()

    def add(self, username: str, role: str, password: str, *, guardian_id: str | None, actor: str) -> WebUser:
        check_username(username)
        check_role(role)
        if role == "guardian":
            if not guardian_id:
                raise AccountError("a guardian account needs the id of its guardian record")
            self.guardian(guardian_id)
        elif guardian_id:
            raise AccountError(f"only a guardian account has a guardian record, not a {role} account")
        user = self.users.add(username, password, role, guardian_id or None)
        self._record("account.created", actor, user.id, role=role, guardian_id=user.guardian_id)
        return user

    def disable(self, username: str, actor: str) -> Account:
        """The account can no longer log in, and every session it has ends now."""
        account = self.users.set_disabled(username, True)
        self._record("account.disabled", actor, account.id, role=account.role)
        return account

    def enable(self, username: str, actor: str) -> Account:
        account = self.users.set_disabled(username, False)
        self._record("account.enabled", actor, account.id, role=account.role)
        return account

    def reset_password(self, username: str, actor: str, password: str | None = None) -> str:
        """Set ``password`` (or a generated one, returned to be shown once); the account's sessions end."""
        new = password if password is not None else generate_password()
        account = self.users.set_password(username, new)
        self._record("account.password_reset", actor, account.id, role=account.role)
        return new

    # -- guardian invitations ------------------------------------------------------------------------------

    def invite(self, guardian_id: str, username: str, actor: str) -> tuple[Invitation, str]:
        """A one-time link token (returned once; only its hash is stored) for the guardian record
        ``guardian_id``: whoever opens it within 72 hours sets a password for the login ``username``."""
        check_username(username)
        self.guardian(guardian_id)
        if self.users.account(username) is not None:
            raise AccountError(f"an account named {username!r} already exists")
        now = self._clock()
        token = "inv_" + secrets.token_urlsafe(32)
        invitation = Invitation(
            "inv_" + uuid.uuid4().hex[:16], guardian_id, username, actor[:100], now, now + INVITATION_TTL, None
        )
        pending = self._t.c.used_at.is_(None) & (self._t.c.expires_at > now) & (self._t.c.username == username)
        with self._engine.begin() as c:
            other = c.execute(select(self._t.c.guardian_id).where(pending)).all()
            if any(r.guardian_id != guardian_id for r in other):
                raise AccountError(f"a pending invitation for another guardian already reserves {username!r}")
            # a new link for the same person replaces the old one, which stops working
            c.execute(update(self._t).where(pending).values(expires_at=now))
            c.execute(
                insert(self._t).values(
                    id=invitation.id,
                    token_hash=_token_hash(token),
                    guardian_id=guardian_id,
                    username=username,
                    created_by=invitation.created_by,
                    created_at=now,
                    expires_at=invitation.expires_at,
                )
            )
        self._record("account.invited", actor, invitation.id, guardian_id=guardian_id)
        return invitation, token

    def pending_invitations(self) -> list[Invitation]:
        now = self._clock()
        q = (
            select(self._t)
            .where(self._t.c.used_at.is_(None), self._t.c.expires_at > now)
            .order_by(self._t.c.created_at.desc())
        )
        with self._engine.connect() as c:
            return [_invitation(r) for r in c.execute(q)]

    def invitation(self, token: str) -> Invitation | None:
        """The invitation this token opens, if it is still usable."""
        if not token.startswith("inv_") or len(token) > 100:
            return None
        with self._engine.connect() as c:
            row = c.execute(select(self._t).where(self._t.c.token_hash == _token_hash(token))).first()
        if row is None:
            return None
        invitation = _invitation(row)
        if invitation.used_at is not None or invitation.expires_at <= self._clock():
            return None
        return invitation

    def accept(self, token: str, password: str) -> WebUser:
        """Create the guardian login of a usable invitation and use the invitation up, in one transaction
        (two tabs opening the same link create one account)."""
        invitation = self.invitation(token)
        if invitation is None:
            raise InvitationError("this invitation link has expired or was already used; ask for a new one")
        check_password(password)
        self.guardian(invitation.guardian_id)  # an erased guardian cannot be signed into
        password_hash = self.users.hash_password(password)
        now = self._clock()
        with self._engine.begin() as c:
            used = c.execute(
                update(self._t)
                .where(self._t.c.id == invitation.id, self._t.c.used_at.is_(None), self._t.c.expires_at > now)
                .values(used_at=now)
            )
            if used.rowcount != 1:
                raise InvitationError("this invitation link has expired or was already used; ask for a new one")
            user = self.users.insert_hashed(c, invitation.username, password_hash, "guardian", invitation.guardian_id)
        actor = f"invitation:{invitation.id}"
        self._record("account.created", actor, user.id, role="guardian", guardian_id=user.guardian_id)
        return user


def _invitation(row: Any) -> Invitation:
    return Invitation(
        row.id, row.guardian_id, row.username, row.created_by, row.created_at, row.expires_at, row.used_at
    )
