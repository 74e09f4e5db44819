"""Server-rendered pages (Jinja2, no build step): moderator queue and case view, guardian dashboard,
the child's appeal page, and the admin audit page. Every route checks its role; every form carries a CSRF
token; sessions are signed cookies (HttpOnly, SameSite=Strict, Secure outside the demo) backed by a server-side
record that logout deletes."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import secrets
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from childsafe.accounts import Session, Sessions, load_session_key
from childsafe.audit import AuditEvent, AuditEventType
from childsafe.gateway.state import Gateway
from childsafe.gateway.web.auth import SESSION_COOKIE
from childsafe.gateway.web.throttle import FailedLoginAudit, LoginGuard, LoginThrottled
from childsafe.privacy.consent import Purpose
from childsafe.review import OUTCOMES, ReviewError
from childsafe.review.queue import group_by_conversation, queue_row
from childsafe.store.guardian_views import decision_tallies, guardian_children
from childsafe.types import Category

if TYPE_CHECKING:
    from childsafe.gateway.oversight import Oversight

log = logging.getLogger("childsafe.web")

ANON_CSRF_COOKIE = "cs_csrf"
DEMO_ACCOUNTS = (("admin", "admin-demo-pass", "admin"), ("moderator", "moderator-demo", "moderator"))
DEMO_GUARDIAN = ("guardian", "guardian-demo")

_templates = Environment(
    loader=FileSystemLoader(str(Path(__file__).with_name("templates"))),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


class Web:
    """What the page routes share: accounts, sessions, the oversight services and the store."""

    def __init__(self, gw: Gateway, oversight: Oversight) -> None:
        self.gw = gw
        self.oversight = oversight
        self.users = gw.services.accounts.users  # one account service for the pages, the admin page and the CLI
        data_dir = getattr(gw.config.store, "data_dir", "./childsafe-data")
        self.sessions = Sessions(load_session_key(data_dir), gw.store.engine)
        web_cfg = getattr(gw.config.server, "web", None)
        # None: decided per request (on, except for the demo and plain-http loopback requests); see secure_for
        self.secure_cookies: bool | None = getattr(web_cfg, "secure_cookies", None)
        if self.secure_cookies is None and getattr(gw.config.server, "demo", False):
            self.secure_cookies = False  # the demo is plain http on this machine
        self.login_guard = LoginGuard()  # per-IP/per-account backoff, and argon2 off the safety-check threads
        self.failed_logins = FailedLoginAudit()  # one audit event per account per minute, with counts

    def close_logins(self) -> None:
        """At shutdown: counted failed logins reach the audit log, and the hashing pool stops."""
        events = self.failed_logins.flush()
        if events:
            self.oversight.audit.append_many(events)
        self.login_guard.close()

    def secure_for(self, request: Request) -> bool:
        """Whether cookies set on this response are marked Secure.

        By default always, except for a plain-http request addressed to a loopback host: that cookie never
        crosses a network, and a browser on the same machine treats http://localhost as secure anyway.
        """
        if self.secure_cookies is not None:
            return self.secure_cookies
        return not (request.url.scheme == "http" and _is_loopback_host(request.url.hostname or ""))

    def render(self, name: str, request: Request, session: Session | None, status: int = 200, **ctx: Any) -> Response:
        html = _templates.get_template(name).render(
            session=session, user=session.user if session else None, csrf=session.csrf if session else "", **ctx
        )
        return HTMLResponse(html, status_code=status)


def _is_loopback_host(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _web(request: Request) -> Web:
    w: Web = request.app.state.web
    return w


async def _form(request: Request) -> dict[str, str]:
    body = (await request.body()).decode("utf-8", "replace")
    return {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}


def _session(request: Request) -> Session | None:
    return _web(request).sessions.read(request.cookies.get(SESSION_COOKIE))


def _guard(request: Request, roles: tuple[str, ...]) -> Session | Response:
    """The session if its role may use this page; else a redirect to login or a 403 page."""
    session = _session(request)
    if session is None:
        return RedirectResponse("/login?next=" + quote(request.url.path), status_code=303)
    if session.user.role not in roles:
        return _web(request).render("error.html", request, session, 403, message="Your role cannot open this page.")
    return session


def _csrf_ok(session: Session, form: dict[str, str]) -> bool:
    return secrets.compare_digest(form.get("csrf", ""), session.csrf)


def _home(role: str) -> str:
    return {"moderator": "/review", "admin": "/review", "guardian": "/guardian"}.get(role, "/login")


router = APIRouter(include_in_schema=False)


@router.get("/", response_model=None)
async def index(request: Request) -> Response:
    session = _session(request)
    return RedirectResponse(_home(session.user.role) if session else "/login", status_code=303)


def _anon_token(request: Request) -> str:
    """The CSRF token for forms used before login (login, a child's appeal): kept in a cookie."""
    return request.cookies.get(ANON_CSRF_COOKIE) or secrets.token_hex(20)


def _with_anon_token(request: Request, resp: Response, token: str) -> Response:
    resp.set_cookie(ANON_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=_web(request).secure_for(request))
    return resp


def _anon_csrf_ok(request: Request, form: dict[str, str]) -> bool:
    cookie = request.cookies.get(ANON_CSRF_COOKIE, "")
    return bool(cookie) and secrets.compare_digest(form.get("csrf", ""), cookie)


@router.get("/login", response_model=None)
async def login_page(request: Request, next: str = "") -> Response:
    token = _anon_token(request)
    return _with_anon_token(
        request, _web(request).render("login.html", request, None, login_csrf=token, next=next, error=None), token
    )


@router.post("/login", response_model=None)
async def login(request: Request) -> Response:
    web = _web(request)
    form = await _form(request)
    if not _anon_csrf_ok(request, form):
        return web.render("error.html", request, None, 403, message="The form expired. Please reload and try again.")
    username, password = form.get("username", ""), form.get("password", "")
    account = username[:100]
    ip = request.client.host if request.client else "unknown"
    try:
        user = await web.login_guard.attempt(ip, account, lambda: web.users.authenticate(username, password))
    except LoginThrottled as exc:  # refused before any password hashing
        web.gw.metrics.login_throttled.labels(exc.reason).inc()
        await _audit_failed_login(web, account, throttled=True)
        error = f"Too many login attempts. Try again in {exc.retry_after} seconds."
        resp = web.render(
            "login.html", request, None, 429, login_csrf=_anon_token(request), next=form.get("next", ""), error=error
        )
        resp.headers["Retry-After"] = str(exc.retry_after)
        return resp
    if user is None:
        await _audit_failed_login(web, account, throttled=False)
        return web.render(
            "login.html",
            request,
            None,
            401,
            login_csrf=_anon_token(request),
            next=form.get("next", ""),
            error="Wrong username or password.",
        )
    await asyncio.to_thread(
        web.oversight.audit.append, AuditEvent(AuditEventType.LOGIN, {"success": True}, actor=account)
    )
    target = form.get("next", "")
    if not target.startswith("/") or target.startswith("//"):
        target = _home(user.role)
    cookie = await asyncio.to_thread(web.sessions.issue, user)
    resp = RedirectResponse(target, status_code=303)
    resp.set_cookie(SESSION_COOKIE, cookie, httponly=True, samesite="strict", secure=web.secure_for(request))
    return resp


async def _audit_failed_login(web: Web, account: str, *, throttled: bool) -> None:
    events = web.failed_logins.record(account, throttled=throttled)  # bounded: mostly none
    if events:
        await asyncio.to_thread(web.oversight.audit.append_many, events)


@router.post("/logout", response_model=None)
async def logout(request: Request) -> Response:
    session = _session(request)
    form = await _form(request)
    if session is not None and not _csrf_ok(session, form):
        return _web(request).render("error.html", request, session, 403, message="Invalid form token.")
    if session is not None:
        await asyncio.to_thread(_web(request).sessions.revoke, session)  # a copied cookie dies with this one
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(SESSION_COOKIE, httponly=True, samesite="strict", secure=_web(request).secure_for(request))
    return resp


# -- moderators ---------------------------------------------------------------------------------------------


@router.get("/review", response_model=None)
async def review_queue(request: Request, status: str = "") -> Response:
    session = _guard(request, ("moderator", "admin"))
    if not isinstance(session, Session):
        return session
    review = _web(request).oversight.review
    await asyncio.to_thread(review.import_escalations)  # normally done already by the intake, at escalation time
    cases = await asyncio.to_thread(review.queue, status or None)
    now = datetime.now(UTC)
    counts = await asyncio.to_thread(review.counts, now)
    groups = group_by_conversation(cases, now)
    return _web(request).render(
        "queue.html", request, session, cases=cases, groups=groups, counts=counts, now=now, filter_status=status
    )


@router.get("/review/cases/{case_id}", response_model=None)
async def case_page(request: Request, case_id: str) -> Response:
    session = _guard(request, ("moderator", "admin"))
    if not isinstance(session, Session):
        return session
    review = _web(request).oversight.review
    try:
        view = await asyncio.to_thread(review.view, case_id, session.user.username, session.user.role)
    except ReviewError as exc:
        return _web(request).render("error.html", request, session, exc.status, message=str(exc))
    return _web(request).render(
        "case.html",
        request,
        session,
        view=view,
        case=view.case,
        row=queue_row(view.case, datetime.now(UTC)),
        outcomes=OUTCOMES,
        categories=[c.value for c in Category],
        now=datetime.now(UTC),
        error=request.query_params.get("error"),
    )


@router.post("/review/cases/{case_id}/claim", response_model=None)
async def claim_case(request: Request, case_id: str) -> Response:
    session = _guard(request, ("moderator", "admin"))
    if not isinstance(session, Session):
        return session
    if not _csrf_ok(session, await _form(request)):
        return _web(request).render("error.html", request, session, 403, message="Invalid form token.")
    try:
        await asyncio.to_thread(_web(request).oversight.review.claim, case_id, session.user.username)
    except ReviewError as exc:
        return _web(request).render("error.html", request, session, exc.status, message=str(exc))
    return RedirectResponse(f"/review/cases/{quote(case_id)}", status_code=303)


@router.post("/review/cases/{case_id}/decide", response_model=None)
async def decide_case(request: Request, case_id: str) -> Response:
    session = _guard(request, ("moderator", "admin"))
    if not isinstance(session, Session):
        return session
    form = await _form(request)
    if not _csrf_ok(session, form):
        return _web(request).render("error.html", request, session, 403, message="Invalid form token.")
    review = _web(request).oversight.review
    try:
        await asyncio.to_thread(
            review.decide,
            case_id,
            session.user.username,
            form.get("outcome", ""),
            form.get("reason", ""),
            form.get("category") or None,
            session.user.role,
        )
    except ReviewError as exc:
        if exc.status == 400:
            return RedirectResponse(f"/review/cases/{quote(case_id)}?error={quote(str(exc))}", status_code=303)
        return _web(request).render("error.html", request, session, exc.status, message=str(exc))
    return RedirectResponse(f"/review/cases/{quote(case_id)}", status_code=303)


# -- admins -------------------------------------------------------------------------------------------------


@router.get("/admin/audit", response_model=None)
async def audit_page(request: Request) -> Response:
    session = _guard(request, ("admin",))
    if not isinstance(session, Session):
        return session
    report = await asyncio.to_thread(_web(request).oversight.audit.verify)
    return _web(request).render("audit.html", request, session, report=report)


@router.get("/admin/audit/export", response_model=None)
async def audit_export(request: Request) -> Response:
    session = _guard(request, ("admin",))
    if not isinstance(session, Session):
        return session
    audit = _web(request).oversight.audit

    def dump() -> str:
        lines = [json.dumps(r.to_json(), ensure_ascii=False) for r in audit.records()]
        lines += [json.dumps(cp.to_json()) for cp in audit.checkpoints()]
        audit.append(AuditEvent(AuditEventType.EXPORT, {"events": len(lines)}, actor=session.user.username))
        return "\n".join(lines) + "\n"

    body = await asyncio.to_thread(dump)
    return Response(
        body,
        media_type="application/x-ndjson",
        headers={"Content-Disposition": 'attachment; filename="audit.jsonl"'},
    )


# -- guardians ----------------------------------------------------------------------------------------------


def _guardian_children(web: Web, guardian_id: str | None) -> list[dict[str, Any]]:
    if guardian_id is None:
        return []
    return [{"id": k.id, "age_band": k.age_band} for k in guardian_children(web.gw.store.engine, guardian_id)]


def _activity(web: Web, child_id: str, days: int = 7) -> dict[str, Any]:
    """Counts only: how many checks, what was done, which categories; never message text."""
    since = datetime.now(UTC) - timedelta(days=days)
    actions: Counter[str] = Counter()
    categories: Counter[str] = Counter()
    for tally in decision_tallies(web.gw.store.engine, child_id, since):
        actions[tally.action] += 1
        for cat in tally.categories:
            categories[cat] += 1
    return {"days": days, "total": sum(actions.values()), "actions": dict(actions), "categories": dict(categories)}


def _activity_with_consent(request: Request, child_id: str, days: int) -> dict[str, Any] | None:
    """Per-child activity counts are analytics: computed only with the ``analytics`` purpose in force for a
    child held to consent (None otherwise, and the page says why)."""
    privacy = getattr(request.app.state, "privacy", None)
    if privacy is not None and not privacy.allows(child_id, Purpose.ANALYTICS):
        return None
    return _activity(_web(request), child_id, days)


async def _own_child(request: Request, child_id: str) -> tuple[Session, dict[str, Any], Any] | Response:
    """The guardian's session, the child (if theirs) and the privacy services, for the data-rights actions."""
    session = _guard(request, ("guardian",))
    if not isinstance(session, Session):
        return session
    web = _web(request)
    kids = await asyncio.to_thread(_guardian_children, web, session.user.guardian_id)
    child = next((k for k in kids if k["id"] == child_id), None)
    if child is None:
        return web.render("error.html", request, session, 404, message="No such child in your family.")
    privacy = getattr(request.app.state, "privacy", None)
    if privacy is None:
        return web.render("error.html", request, session, 501, message="Privacy services are not enabled.")
    return session, child, privacy


@router.get("/guardian/children/{child_id}/export", response_model=None)
async def guardian_export(request: Request, child_id: str) -> Response:
    own = await _own_child(request, child_id)
    if isinstance(own, Response):
        return own
    session, _child, privacy = own
    body = await asyncio.to_thread(privacy.rights.export_json, child_id, f"guardian:{session.user.guardian_id}")
    return Response(
        body, media_type="application/json", headers={"Content-Disposition": 'attachment; filename="child-data.json"'}
    )


@router.post("/guardian/children/{child_id}/erase", response_model=None)
async def guardian_erase(request: Request, child_id: str) -> Response:
    own = await _own_child(request, child_id)
    if isinstance(own, Response):
        return own
    session, _child, _privacy = own
    form = await _form(request)
    if not _csrf_ok(session, form):
        return _web(request).render("error.html", request, session, 403, message="Invalid form token.")
    if form.get("confirm", "").strip().upper() != "ERASE":
        return RedirectResponse(
            f"/guardian/children/{quote(child_id)}?notice=" + quote("Type ERASE to confirm the erasure."),
            status_code=303,
        )
    # the same use case as the API's DELETE: queued writes land first, then every cache forgets the child
    report = await asyncio.to_thread(
        _web(request).gw.services.erase_child, child_id, f"guardian:{session.user.guardian_id}"
    )
    kept = " Some records are kept under a legal hold." if getattr(report, "holds", None) else ""
    return _web(request).render(
        "error.html", request, session, 200, message=f"The child's data was erased.{kept}", title="Erased"
    )


# -- the child's appeal page (no account: the decision id from the child-facing message is the capability) --


@router.get("/appeal", response_model=None)
async def appeal_form(request: Request, decision_id: str = "") -> Response:
    token = _anon_token(request)
    return _with_anon_token(
        request,
        _web(request).render("appeal.html", request, None, decision_id=decision_id, form_csrf=token, error=None),
        token,
    )


@router.post("/appeal", response_model=None)
async def appeal_submit(request: Request) -> Response:
    web = _web(request)
    form = await _form(request)
    if not _anon_csrf_ok(request, form):
        return web.render("error.html", request, None, 403, message="The form expired. Please reload and try again.")
    requester: Literal["child", "guardian"] = "guardian" if form.get("requester") == "guardian" else "child"
    try:
        appeal = await asyncio.to_thread(
            web.gw.services.file_appeal, form.get("decision_id", "").strip(), form.get("reason", ""), requester
        )
    except ReviewError as exc:
        return web.render(
            "appeal.html",
            request,
            None,
            exc.status,
            decision_id=form.get("decision_id", ""),
            form_csrf=_anon_token(request),
            error=str(exc),
        )
    return RedirectResponse(f"/appeal/{quote(appeal.id)}", status_code=303)


@router.get("/appeal/{appeal_id}", response_model=None)
async def appeal_status(request: Request, appeal_id: str) -> Response:
    web = _web(request)
    try:
        appeal = await asyncio.to_thread(web.oversight.review.appeal, appeal_id)
    except ReviewError as exc:
        return web.render("error.html", request, None, exc.status, message="We could not find that appeal.")
    return web.render("appeal_status.html", request, None, appeal=appeal.public())


# -- wiring -------------------------------------------------------------------------------------------------


def seed_demo(web: Web) -> dict[str, str]:
    """Demo accounts, a guardian linked to the demo child, an escalated case and a blocked decision to appeal."""
    from childsafe.gateway.demo import DEMO_KEY
    from childsafe.store import DecisionEntry

    store = web.gw.store
    for username, password, role in DEMO_ACCOUNTS:
        web.users.create(username, password, role)
    app = store.apps.by_key(DEMO_KEY)
    if app is None:
        return {}
    from childsafe.gateway.web.guardian import seed_demo_family

    # The demo parent is linked to the chat demo child: what is typed in the chat demo shows on /guardian.
    child, guardian_id = seed_demo_family(store, app.id)
    web.users.create(DEMO_GUARDIAN[0], DEMO_GUARDIAN[1], "guardian", guardian_id)
    base = {
        "kind": "input",
        "policy_version": "demo",
        "age_band": child.age_band,
        "reasons": ["demo"],
        "app_id": app.id,
        "child_id": child.id,
    }
    store.decisions.record(
        [
            DecisionEntry(
                id="dec_demo_escalated",
                action="escalate",
                categories=["grooming"],
                scores={"grooming": 0.93},
                role="contact",
                excerpt="(demo) an adult asks the child for photos and to keep it secret",
                **base,  # type: ignore[arg-type]
            ),
            DecisionEntry(
                id="dec_demo_blocked",
                action="block",
                categories=["violence"],
                scores={"violence": 0.71},
                role="child",
                excerpt="(demo) a question about a battle in history class",
                **base,  # type: ignore[arg-type]
            ),
        ]
    )
    return {"appeal_page": "/appeal?decision_id=dec_demo_blocked"}


def remove_demo_accounts(web: Web) -> list[str]:
    """Outside the demo: delete demo accounts left in this database by an earlier ``--demo`` run, whose
    passwords are public. An account that merely shares a demo name but has another password is kept."""
    removed = []
    for username, password in [(u, p) for u, p, _ in DEMO_ACCOUNTS] + [DEMO_GUARDIAN]:
        if web.users.has_password(username, password) and web.users.remove(username):
            removed.append(username)
    return removed


def install_web(app: FastAPI, gw: Gateway, oversight: Oversight) -> Web:
    web = Web(gw, oversight)
    app.state.web = web
    gw.closers.append(web.close_logins)
    app.include_router(router)
    from childsafe.gateway.web.admin import install_accounts

    install_accounts(app, web)  # /admin/users and guardian invitations (imports this module's helpers)
    from childsafe.gateway.web.guardian import install_guardian_pages

    install_guardian_pages(app)  # /guardian: events, trend charts, consents, time limits
    if getattr(gw.config.server, "demo", False):
        links = seed_demo(web)
        accounts = ", ".join(f"{u}/{p}" for u, p, _ in DEMO_ACCOUNTS) + f", {DEMO_GUARDIAN[0]}/{DEMO_GUARDIAN[1]}"
        log.warning("demo web pages: /login with %s; child's appeal page: %s", accounts, links.get("appeal_page"))
    else:
        removed = remove_demo_accounts(web)
        if removed:
            log.warning("removed demo accounts with public passwords: %s", ", ".join(removed))
    return web
