"""The admin's account page (``/admin/users``) and the guardian's invitation page (``/invite/{token}``).

Admins list accounts, create moderator, admin and guardian logins, disable and enable them, reset passwords
(a generated password is shown once, in the answer to the POST, never in a URL), and invite a guardian with a
one-time link. The guardian opening the link sets their password, which creates their login and signs them in.
Every form carries the session's CSRF token (the invitation form: the double-submit cookie of the login form).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from childsafe.accounts import (
    MIN_PASSWORD_LENGTH,
    ROLES,
    AccountError,
    Accounts,
    InvitationError,
    Session,
    generate_password,
)
from childsafe.audit import AuditEvent, AuditEventType
from childsafe.gateway.web.auth import SESSION_COOKIE

if TYPE_CHECKING:
    from childsafe.gateway.web import Web

INVITE_PATH = "/invite/"

router = APIRouter(include_in_schema=False)


def install_accounts(app: FastAPI, web: Web) -> Accounts:
    """The account use cases over the gateway's store and audit log, and the pages that use them."""
    accounts = web.gw.services.accounts
    app.state.accounts = accounts
    app.include_router(router)
    return accounts


def _accounts(request: Request) -> Accounts:
    a: Accounts = request.app.state.accounts
    return a


async def _page(
    request: Request, session: Session, status: int = 200, *, form: dict[str, str] | None = None, **ctx: Any
) -> Response:
    from childsafe.gateway.web import _web

    accounts = _accounts(request)
    listed = await asyncio.to_thread(accounts.accounts)
    invitations = await asyncio.to_thread(accounts.pending_invitations)
    ctx.setdefault("notice", None)
    ctx.setdefault("error", None)
    ctx.setdefault("secret", None)
    return _web(request).render(
        "admin_users.html",
        request,
        session,
        status,
        accounts=listed,
        invitations=invitations,
        roles=ROLES,
        min_password=MIN_PASSWORD_LENGTH,
        form=form or {},
        **ctx,
    )


async def _admin_post(request: Request) -> tuple[Session, dict[str, str]] | Response:
    """An admin's session and the form, once the CSRF token checks out."""
    from childsafe.gateway.web import _csrf_ok, _form, _guard, _web

    session = _guard(request, ("admin",))
    if not isinstance(session, Session):
        return session
    form = await _form(request)
    if not _csrf_ok(session, form):
        return _web(request).render("error.html", request, session, 403, message="Invalid form token.")
    return session, form


@router.get("/admin/users", response_model=None)
async def users_page(request: Request) -> Response:
    from childsafe.gateway.web import _guard

    session = _guard(request, ("admin",))
    if not isinstance(session, Session):
        return session
    return await _page(request, session)


@router.post("/admin/users", response_model=None)
async def create_user(request: Request) -> Response:
    checked = await _admin_post(request)
    if isinstance(checked, Response):
        return checked
    session, form = checked
    username, role = form.get("username", "").strip(), form.get("role", "")
    guardian_id = form.get("guardian_id", "").strip() or None
    accounts = _accounts(request)
    password = generate_password()
    try:
        await asyncio.to_thread(
            accounts.add, username, role, password, guardian_id=guardian_id, actor=session.user.username
        )
    except AccountError as exc:
        return await _page(request, session, 400, error=str(exc), form=form)
    secret = {"label": f"Password for {username} ({role}), shown only once:", "value": password}
    return await _page(request, session, notice=f"Account {username} created.", secret=secret)


@router.post("/admin/users/{username}/disable", response_model=None)
async def disable_user(request: Request, username: str) -> Response:
    checked = await _admin_post(request)
    if isinstance(checked, Response):
        return checked
    session, _form = checked
    if username == session.user.username:
        return await _page(request, session, 400, error="You cannot disable your own account.")
    try:
        await asyncio.to_thread(_accounts(request).disable, username, session.user.username)
    except AccountError as exc:
        return await _page(request, session, 404, error=str(exc))
    return await _page(request, session, notice=f"Account {username} disabled; its sessions have ended.")


@router.post("/admin/users/{username}/enable", response_model=None)
async def enable_user(request: Request, username: str) -> Response:
    checked = await _admin_post(request)
    if isinstance(checked, Response):
        return checked
    session, _form = checked
    try:
        await asyncio.to_thread(_accounts(request).enable, username, session.user.username)
    except AccountError as exc:
        return await _page(request, session, 404, error=str(exc))
    return await _page(request, session, notice=f"Account {username} enabled.")


@router.post("/admin/users/{username}/reset-password", response_model=None)
async def reset_password(request: Request, username: str) -> Response:
    checked = await _admin_post(request)
    if isinstance(checked, Response):
        return checked
    session, _form = checked
    try:
        password = await asyncio.to_thread(_accounts(request).reset_password, username, session.user.username)
    except AccountError as exc:
        return await _page(request, session, 404, error=str(exc))
    secret = {"label": f"New password for {username}, shown only once:", "value": password}
    return await _page(
        request, session, notice=f"Password of {username} reset; its sessions have ended.", secret=secret
    )


@router.post("/admin/invitations", response_model=None)
async def create_invitation(request: Request) -> Response:
    checked = await _admin_post(request)
    if isinstance(checked, Response):
        return checked
    session, form = checked
    guardian_id, username = form.get("guardian_id", "").strip(), form.get("username", "").strip()
    try:
        invitation, token = await asyncio.to_thread(
            _accounts(request).invite, guardian_id, username, session.user.username
        )
    except AccountError as exc:
        return await _page(request, session, 400, error=str(exc), form={**form, "invite": "1"})
    link = _public_base(request) + INVITE_PATH + token
    expires = invitation.expires_at.strftime("%Y-%m-%d %H:%M")
    secret = {"label": f"Invitation link for {username}, valid until {expires} UTC, shown only once:", "value": link}
    return await _page(request, session, notice=f"Invitation for {username} created.", secret=secret)


def _public_base(request: Request) -> str:
    """Where a link given to a person points: ``server.public_url`` when set (behind a reverse proxy the request
    came to the internal address), else the address this request came to; as for the child's appeal link."""
    from childsafe.gateway.web import _web

    return (_web(request).gw.server.public_url or str(request.base_url)).rstrip("/")


# -- the guardian's side of an invitation (no account yet: the link's token is the capability) ---------------


@router.get("/invite/{token}", response_model=None)
async def invitation_page(request: Request, token: str) -> Response:
    from childsafe.gateway.web import _anon_token, _web, _with_anon_token

    web = _web(request)
    invitation = await asyncio.to_thread(_accounts(request).invitation, token)
    if invitation is None:
        return _expired(request)
    csrf = _anon_token(request)
    page = web.render(
        "invite.html",
        request,
        None,
        username=invitation.username,
        form_csrf=csrf,
        token=token,
        min_password=MIN_PASSWORD_LENGTH,
        error=None,
    )
    return _with_anon_token(request, page, csrf)


def _expired(request: Request) -> Response:
    from childsafe.gateway.web import _web

    message = "This invitation link has expired or was already used. Ask for a new one."
    return _web(request).render("error.html", request, None, 404, message=message, title="Invitation not valid")


@router.post("/invite/{token}", response_model=None)
async def accept_invitation(request: Request, token: str) -> Response:
    from childsafe.gateway.web import _anon_csrf_ok, _anon_token, _form, _web

    web = _web(request)
    form = await _form(request)
    if not _anon_csrf_ok(request, form):
        return web.render("error.html", request, None, 403, message="The form expired. Please reload and try again.")
    accounts = _accounts(request)
    invitation = await asyncio.to_thread(accounts.invitation, token)
    if invitation is None:
        return _expired(request)
    password = form.get("password", "")
    error = "The two passwords are not the same." if password != form.get("confirm", "") else None
    if error is None:
        try:
            user = await asyncio.to_thread(accounts.accept, token, password)
        except InvitationError:
            return _expired(request)
        except AccountError as exc:
            error = str(exc)[:1].upper() + str(exc)[1:] + "."
    if error is not None:
        return web.render(
            "invite.html",
            request,
            None,
            400,
            username=invitation.username,
            form_csrf=_anon_token(request),
            token=token,
            min_password=MIN_PASSWORD_LENGTH,
            error=error,
        )
    await asyncio.to_thread(
        web.oversight.audit.append, AuditEvent(AuditEventType.LOGIN, {"success": True}, actor=user.username)
    )
    cookie = await asyncio.to_thread(web.sessions.issue, user)
    resp = RedirectResponse("/guardian", status_code=303)
    resp.set_cookie(SESSION_COOKIE, cookie, httponly=True, samesite="strict", secure=web.secure_for(request))
    return resp
