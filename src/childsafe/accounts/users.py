"""Web console logins: passwords are stored as argon2id hashes only, and checked in the same time whether the
name exists or not."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from childsafe.accounts.rules import AccountError, check_password, check_role, check_username
from childsafe.store.accounts_sql import Account, Database, SqlWebUsers, UsernameTaken, WebUser


def _utc_now() -> datetime:
    return datetime.now(UTC)


class WebUsers:
    """Accounts for the web pages over the store's ``web_users``."""

    def __init__(self, engine: Database) -> None:
        self._rows = SqlWebUsers(engine)
        self._hasher = PasswordHasher()
        self._dummy = self._hasher.hash(secrets.token_hex(8))

    def create(self, username: str, password: str, role: str, guardian_id: str | None = None) -> WebUser:
        """Create or overwrite an account (the demo seeds and tests use this; operators use :meth:`add`).
        A new password or role ends every session signed in under the old one."""
        check_role(role)
        check_password(password)
        return self._rows.save(username, self._hasher.hash(password), role, guardian_id, _utc_now())

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
        try:
            return self._rows.insert(username, password_hash, role, guardian_id, _utc_now())
        except UsernameTaken:
            raise AccountError(f"an account named {username!r} already exists") from None

    def accounts(self) -> list[Account]:
        """Every account, oldest first."""
        return self._rows.accounts()

    def account(self, username: str) -> Account | None:
        return self._rows.account(username)

    def set_disabled(self, username: str, disabled: bool) -> Account:
        """Disable (ending every session at once) or enable an account; :class:`AccountError` if unknown."""
        account = self._rows.set_disabled(username, _utc_now() if disabled else None)
        if account is None:
            raise AccountError(f"no account named {username!r}")
        return account

    def set_password(self, username: str, password: str) -> Account:
        """A new password; every session signed in under the old one ends. :class:`AccountError` if unknown."""
        account = self._rows.set_password_hash(username, self.hash_password(password))
        if account is None:
            raise AccountError(f"no account named {username!r}")
        return account

    def remove(self, username: str) -> bool:
        """Delete an account and end its sessions; False if there was no such account."""
        return self._rows.remove(username)

    def _verifies(self, password_hash: str, password: str) -> bool:
        try:
            return bool(self._hasher.verify(password_hash, password))
        except (VerificationError, InvalidHashError):
            return False

    def has_password(self, username: str, password: str) -> bool:
        """Whether this account exists and still has this password (used to find leftover demo accounts)."""
        found = self._rows.credentials(username)
        return found is not None and self._verifies(found.password_hash, password)

    def authenticate(self, username: str, password: str) -> WebUser | None:
        found = self._rows.credentials(username)
        # Verify against a dummy hash for unknown names too, so timing does not reveal which names exist.
        if not self._verifies(found.password_hash if found is not None else self._dummy, password):
            return None
        if found is None or found.disabled_at is not None:
            return None  # a disabled account answers like a wrong password: nothing to learn by guessing
        return found.user

    def get(self, user_id: str) -> WebUser | None:
        return self._rows.get(user_id)
