"""Web console accounts as a service, below both faces: users and roles, argon2 password hashing, signed
sessions with a server-side record, and one-time guardian invitations.

``childsafe users`` and the web pages (``/login``, ``/admin/users``, ``/invite/...``) use the same classes, so
the checks, the session revocation and the audit events cannot drift apart. All SQL is in
``childsafe.store.accounts_sql``.
"""

from __future__ import annotations

from childsafe.accounts.rules import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    ROLES,
    AccountError,
    check_password,
    check_role,
    check_username,
    generate_password,
)
from childsafe.accounts.service import INVITATION_TTL, Accounts, GuardianLookup, InvitationError
from childsafe.accounts.sessions import SESSION_KEY_FILE, SESSION_TTL_S, Session, Sessions, load_session_key
from childsafe.accounts.users import WebUsers
from childsafe.store.accounts_sql import Account, Invitation, WebUser

__all__ = [
    "INVITATION_TTL",
    "MAX_PASSWORD_LENGTH",
    "MIN_PASSWORD_LENGTH",
    "ROLES",
    "SESSION_KEY_FILE",
    "SESSION_TTL_S",
    "Account",
    "AccountError",
    "Accounts",
    "GuardianLookup",
    "Invitation",
    "InvitationError",
    "Session",
    "Sessions",
    "WebUser",
    "WebUsers",
    "check_password",
    "check_role",
    "check_username",
    "generate_password",
    "load_session_key",
]
