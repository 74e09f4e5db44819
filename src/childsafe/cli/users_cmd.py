"""`childsafe users ...`: web console accounts (moderators, admins, guardians) for a gateway run with
``serve --config``, where no demo accounts exist.

The same use cases as the admin page (``childsafe.accounts``), over the configured store, with
every change in the audit log under the actor ``operator:cli``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from childsafe.cli.common import fail, open_services

if TYPE_CHECKING:
    from childsafe.accounts import Accounts
    from childsafe.config import Config
    from childsafe.privacy.service import PrivacyServices
    from childsafe.store import Store

ACTOR = "operator:cli"

users_app = typer.Typer(help="Web console accounts: moderators, admins and guardians (see docs/gateway.md).")

ConfigOpt = Annotated[
    Path | None, typer.Option("--config", "-c", help="Config file (YAML); default: $CHILDSAFE_CONFIG or built-in")
]
UserArg = Annotated[str, typer.Argument(help="The login name")]
PasswordOpt = Annotated[
    str | None,
    typer.Option("--password", help="The password (default: asked twice, hidden; a prompt keeps it out of history)"),
]


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users", no_args_is_help=True)


@dataclass
class _Ctx:
    cfg: Config
    store: Store
    accounts: Accounts
    privacy: PrivacyServices


@contextmanager
def _open(config: Path | None) -> Iterator[_Ctx]:
    """The configured store, its audit log and the account use cases; clear errors, never a traceback."""
    try:
        import childsafe.accounts  # noqa: F401  (argon2 comes with the server extra)
    except ImportError as exc:
        fail(f"accounts need the server extra: pip install 'childsafe[server]' ({exc.name})")
    with open_services(config) as services:  # guardian records made here are audited like any other
        yield _Ctx(services.config, services.store, services.accounts, services.privacy)


def _ask_password(password: str | None) -> str:
    """The given password, or one typed twice without echo; too short or too long is an error, not a retry."""
    from childsafe.accounts import MIN_PASSWORD_LENGTH, AccountError, check_password

    if password is None:
        typer.echo(f"Passwords need at least {MIN_PASSWORD_LENGTH} characters.", err=True)
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
    try:
        return check_password(password)
    except AccountError as exc:
        fail(str(exc))


def _app_id(ctx: _Ctx, name: str) -> int:
    """The id of the app called ``name`` in ``server.apps`` (registered now if the gateway has not yet run)."""
    app = next((a for a in ctx.cfg.server.apps if a.name == name), None)
    if app is None:
        known = ", ".join(a.name for a in ctx.cfg.server.apps) or "none configured"
        fail(f"no app named {name!r} in server.apps of the config (known: {known})")
    return ctx.store.apps.ensure(app.name, app.key, app.rate_limit_per_minute).id


def _guardian_for(ctx: _Ctx, guardian: str | None, app: str | None) -> tuple[str | None, int | None]:
    """(the existing guardian record a guardian login is tied to, or None; else the app id of a new record).

    ``--guardian`` must exist (and belong to ``--app`` when both are given); checked before the password is
    asked, and the new record is made only after it, so an aborted prompt leaves nothing behind."""
    if guardian is None:
        assert app is not None
        return None, _app_id(ctx, app)
    record = ctx.privacy.guardians.get(guardian)
    if record is None:
        fail(f"no guardian record with id {guardian!r} (the app's POST /v1/guardians returns the id)")
    if app is not None:
        app_id = _app_id(ctx, app)
        if record.app_id is not None and record.app_id != app_id:
            fail(f"guardian {guardian!r} belongs to another app than {app!r}")
    return guardian, None


@users_app.command("add")
def add(
    username: UserArg,
    role: Annotated[str, typer.Option("--role", help="moderator, admin or guardian")],
    password: PasswordOpt = None,
    guardian: Annotated[
        str | None, typer.Option("--guardian", help="guardian role: the guardian record (gd_...) to sign in as")
    ] = None,
    app: Annotated[
        str | None,
        typer.Option("--app", help="guardian role: the app (server.apps name); without --guardian, a new record"),
    ] = None,
    name: Annotated[
        str | None, typer.Option("--name", help="guardian role: display name of a new guardian record")
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Create a web console account. A guardian login is tied to a guardian record (--guardian or --app)."""
    from childsafe.accounts import AccountError, check_role, check_username

    try:
        check_username(username)
        check_role(role)
    except AccountError as exc:
        fail(str(exc))
    if role != "guardian" and (guardian is not None or app is not None or name is not None):
        fail(f"--guardian, --app and --name are for --role guardian only, not --role {role}")
    if role == "guardian" and guardian is None and app is None:
        fail(
            "a guardian login needs --guardian GUARDIAN_ID (an existing guardian record) "
            "or --app APP (to create a new guardian record of that app)"
        )
    with _open(config) as ctx:
        if ctx.accounts.users.account(username) is not None:
            fail(f"an account named {username!r} already exists (use `childsafe users reset-password {username}`)")
        guardian_id, new_in_app = _guardian_for(ctx, guardian, app) if role == "guardian" else (None, None)
        secret = _ask_password(password)  # asked after the checks above, so a typo costs no typing
        if new_in_app is not None:
            record, _token = ctx.privacy.create_guardian((name or "").strip() or username, ACTOR, new_in_app)
            guardian_id = record.id  # its API token is not shown: this guardian signs in with the password
        try:
            user = ctx.accounts.add(username, role, secret, guardian_id=guardian_id, actor=ACTOR)
        except AccountError as exc:
            fail(str(exc))
    typer.echo(
        f"created {role} account {user.username!r}" + (f" for guardian record {guardian_id}" if guardian_id else "")
    )
    if guardian_id is not None and guardian is None:
        typer.echo(
            f"new guardian record {guardian_id}: link the family's children with "
            f"POST /v1/guardians/{guardian_id}/children (the app's key), see docs/privacy.md"
        )


@users_app.command("list")
def list_users(
    config: ConfigOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line")] = False,
) -> None:
    """List accounts: username, role, guardian record, disabled, created (never a password hash)."""
    with _open(config) as ctx:
        accounts = ctx.accounts.accounts()
    rows = [
        {
            "username": a.username,
            "role": a.role,
            "guardian_id": a.guardian_id,
            "disabled": a.disabled,
            "created": a.created_at.isoformat(timespec="seconds"),
        }
        for a in accounts
    ]
    if as_json:
        for row in rows:
            typer.echo(json.dumps(row))
        return
    if not rows:
        typer.echo("no accounts (create one with `childsafe users add NAME --role admin`)")
        return
    width = max(8, *(len(a.username) for a in accounts))
    typer.echo(f"{'USERNAME':<{width}}  {'ROLE':<9}  {'DISABLED':<8}  {'CREATED':<25}  GUARDIAN")
    for a, r in zip(accounts, rows, strict=True):
        disabled = "yes" if a.disabled else "no"
        typer.echo(f"{a.username:<{width}}  {a.role:<9}  {disabled:<8}  {r['created']:<25}  {a.guardian_id or ''}")


@users_app.command("disable")
def disable(username: UserArg, config: ConfigOpt = None) -> None:
    """Disable an account: it cannot log in, and its open sessions end now."""
    from childsafe.accounts import AccountError

    with _open(config) as ctx:
        try:
            ctx.accounts.disable(username, ACTOR)
        except AccountError as exc:
            fail(str(exc))
    typer.echo(f"disabled {username!r}; its sessions have ended")


@users_app.command("enable")
def enable(username: UserArg, config: ConfigOpt = None) -> None:
    """Enable a disabled account again (with its old password)."""
    from childsafe.accounts import AccountError

    with _open(config) as ctx:
        try:
            ctx.accounts.enable(username, ACTOR)
        except AccountError as exc:
            fail(str(exc))
    typer.echo(f"enabled {username!r}")


@users_app.command("reset-password")
def reset_password(username: UserArg, password: PasswordOpt = None, config: ConfigOpt = None) -> None:
    """Set a new password (asked twice, hidden); the account's open sessions end."""
    from childsafe.accounts import AccountError

    with _open(config) as ctx:
        if ctx.accounts.users.account(username) is None:
            fail(f"no account named {username!r}")
        secret = _ask_password(password)
        try:
            ctx.accounts.reset_password(username, ACTOR, secret)
        except AccountError as exc:
            fail(str(exc))
    typer.echo(f"new password set for {username!r}; its sessions have ended")
