"""The web face of accounts: the session cookie's name (accounts, sessions and passwords are the
``childsafe.accounts`` service)."""

from __future__ import annotations

SESSION_COOKIE = "cs_session"
