"""What a valid account is: its name, its role and its password. Checked alike by the admin page, the
invitation page and ``childsafe users``; every message names what is wrong, never the password itself."""

from __future__ import annotations

import re
import secrets

ROLES = ("admin", "moderator", "guardian")
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


def generate_password() -> str:
    """20 URL-safe characters (120 random bits): shown once, to be changed by nobody but an admin's reset."""
    return secrets.token_urlsafe(15)
