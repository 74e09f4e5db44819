"""The account use cases shared by ``childsafe users`` and the admin page: add accounts, disable and enable
them, reset passwords, and one-time invitations with which a guardian sets their own password.

One class for both faces so they cannot drift apart: the same checks (a guardian login needs an existing
guardian record), the same session revocation, the same audit events (ids and roles, never a password or a
token).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from childsafe.accounts.rules import AccountError, check_password, check_role, check_username, generate_password
from childsafe.accounts.users import WebUsers
from childsafe.audit import AuditEvent, AuditEventType
from childsafe.store.accounts_sql import (
    Account,
    Database,
    Invitation,
    InvitationUsedUp,
    SqlInvitations,
    UsernameReserved,
    UsernameTaken,
    WebUser,
)
from childsafe.store.privacy_sql import GuardianRecord, PrivacyDb, SqlGuardians
from childsafe.types import Clock

if TYPE_CHECKING:
    from childsafe.audit import AuditLog
    from childsafe.store import Store

INVITATION_TTL = timedelta(hours=72)
INVITATION_TOKEN_PREFIX = "inv_"


class GuardianLookup(Protocol):
    def get(self, guardian_id: str) -> GuardianRecord | None: ...


class InvitationError(AccountError):
    """The invitation link is unknown, expired or already used (all answered alike)."""


_USED_UP = "this invitation link has expired or was already used; ask for a new one"


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Accounts:
    """The account use cases over ``web_users`` and ``guardian_invitations``."""

    def __init__(
        self,
        users: WebUsers,
        engine: Database,
        guardians: GuardianLookup,
        audit: AuditLog | None = None,
        clock: Clock = _utc_now,
    ) -> None:
        self.users = users
        self._invitations = SqlInvitations(engine)
        self._guardians = guardians
        self._audit = audit
        self._clock = clock

    @classmethod
    def for_store(
        cls,
        store: Store,
        *,
        audit: AuditLog | None = None,
        users: WebUsers | None = None,
        guardians: GuardianLookup | None = None,
    ) -> Accounts:
        """Over the store's database and clock; guardian records read from the store unless ``guardians`` is
        given (the privacy services' own repository, so one write lock serves both)."""
        if guardians is None:
            guardians = SqlGuardians(PrivacyDb(store.engine, store.clock, lock=store.db.write_lock))
        return cls(users or WebUsers(store.engine), store.engine, guardians, audit=audit, clock=store.clock)

    def _record(self, event: str, actor: str, subject: str, **details: Any) -> None:
        if self._audit is None:
            return
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
        ``guardian_id``: whoever opens it within 72 hours sets a password for the login ``username``.
        A new link for the same person replaces the old one, which stops working."""
        check_username(username)
        self.guardian(guardian_id)
        if self.users.account(username) is not None:
            raise AccountError(f"an account named {username!r} already exists")
        now = self._clock()
        token = INVITATION_TOKEN_PREFIX + secrets.token_urlsafe(32)
        invitation = Invitation(
            "inv_" + uuid.uuid4().hex[:16], guardian_id, username, actor[:100], now, now + INVITATION_TTL, None
        )
        try:
            self._invitations.create(invitation, _token_hash(token))
        except UsernameReserved:
            raise AccountError(f"a pending invitation for another guardian already reserves {username!r}") from None
        self._record("account.invited", actor, invitation.id, guardian_id=guardian_id)
        return invitation, token

    def pending_invitations(self) -> list[Invitation]:
        return self._invitations.pending(self._clock())

    def invitation(self, token: str) -> Invitation | None:
        """The invitation this token opens, if it is still usable."""
        if not token.startswith(INVITATION_TOKEN_PREFIX) or len(token) > 100:
            return None
        invitation = self._invitations.by_token_hash(_token_hash(token))
        if invitation is None or invitation.used_at is not None or invitation.expires_at <= self._clock():
            return None
        return invitation

    def accept(self, token: str, password: str) -> WebUser:
        """Create the guardian login of a usable invitation and use the invitation up, in one transaction
        (two tabs opening the same link create one account)."""
        invitation = self.invitation(token)
        if invitation is None:
            raise InvitationError(_USED_UP)
        check_password(password)
        self.guardian(invitation.guardian_id)  # an erased guardian cannot be signed into
        password_hash = self.users.hash_password(password)
        try:
            user = self._invitations.accept(invitation, password_hash, self._clock(), created_at=_utc_now())
        except InvitationUsedUp:
            raise InvitationError(_USED_UP) from None
        except UsernameTaken:
            raise AccountError(f"an account named {invitation.username!r} already exists") from None
        actor = f"invitation:{invitation.id}"
        self._record("account.created", actor, user.id, role="guardian", guardian_id=user.guardian_id)
        return user
