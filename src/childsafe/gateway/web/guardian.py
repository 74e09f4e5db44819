"""The guardian's pages: what happened and when, trends as charts, consents and healthy-use settings.

A parent reads plain words, not category codes: each flagged decision becomes a sentence ("A message someone
sent to your child that looked like someone asking for photos or secrets...") with the date, the time and what
childsafe did. The child's own words are never read here (``childsafe.store.guardian_views`` selects no
content column). Charts are inline SVG drawn on the server (no scripts: the CSP allows none), each with a
table that screen readers read instead. Per-child counts and charts are analytics: shown only with the
child's ``analytics`` consent in force; the list of events is the guardian's own view of their child's safety
record and is always shown.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup, escape

from childsafe.accounts import Session
from childsafe.privacy.consent import PURPOSE_HELP, Purpose, assent_expected
from childsafe.privacy.healthy import parse_hhmm, parse_zone
from childsafe.store import Store
from childsafe.store.guardian_views import ChildDecision, flagged_decisions, seed_guardian_family
from childsafe.store.interfaces import ChildRecord
from childsafe.store.privacy_sql import HealthySettingsRecord
from childsafe.types import AgeBand, InvalidInputError

if TYPE_CHECKING:
    from childsafe.gateway.web import Web

router = APIRouter(include_in_schema=False)

EVENT_DAYS = 30  # how far back the list of events goes (decisions are kept 90 days by default)
TREND_WEEKS = 8
OVERVIEW_EVENTS = 5
PAGE_EVENTS = 50

# (short label for charts, what the message looked like, in a parent's words)
CATEGORY_WORDS: dict[str, tuple[str, str]] = {
    "sexual_minors": ("Sexual content involving children", "sexual content involving a child"),
    "grooming": (
        "Grooming signs",
        "someone asking for photos or secrets, or trying to get too close to a child",
    ),
    "sexual": ("Sexual content", "sexual content"),
    "self_harm": ("Self-harm or suicide", "talk of self-harm or suicide"),
    "violence": ("Violence", "violent content"),
    "harassment": ("Bullying or harassment", "bullying or harassment"),
    "hate": ("Hateful content", "hateful words about a group of people"),
    "dangerous": ("Dangerous activities", "instructions for something dangerous, such as weapons or risky stunts"),
    "drugs": ("Drugs or alcohol", "content about drugs or alcohol"),
    "personal_info": ("Personal details", "personal details being shared, such as a home address or phone number"),
    "other_unsafe": ("Other unsafe content", "something else that looked unsafe"),
}
_UNKNOWN_CATEGORY = ("Other", "something that looked unsafe")

ACTION_WORDS: dict[str, str] = {
    "warn": "Your child was shown a gentle warning; the conversation went on.",
    "redact": "The personal details were hidden before the message went on.",
    "block": "The message was stopped and not passed on.",
    "escalate": "The message was stopped, and a trained safety reviewer was asked to look at it.",
    "report": "The message was stopped and kept for the safety team, who may report it to the authorities.",
}

HEALTHY_FIELDS: dict[str, str] = {
    "timezone": "Time zone",
    "daily_limit_minutes": "Daily time limit (minutes)",
    "quiet_start": "Quiet hours start",
    "quiet_end": "Quiet hours end",
    "break_after_minutes": "Break after (minutes of chat)",
    "break_minutes": "Break length (minutes)",
}


@dataclass(frozen=True, slots=True)
class FieldError:
    """A problem with one form field: ``field`` is the input's id, ``message`` names the field by its label and
    never repeats what was typed."""

    field: str
    message: str


# -- what happened ------------------------------------------------------------------------------------------


def describe(decision: ChildDecision) -> str:
    """One sentence a parent understands: who wrote it and what it looked like."""
    if decision.kind == "output" or decision.role == "assistant":
        who = "An answer from the AI assistant"
    elif decision.role == "child":
        who = "A message your child wrote"
    elif decision.role == "contact":
        who = "A message someone sent to your child"
    else:
        who = "A message"
    looks = [CATEGORY_WORDS.get(c, _UNKNOWN_CATEGORY)[1] for c in decision.categories]
    kinds = list(dict.fromkeys(looks)) or [_UNKNOWN_CATEGORY[1]]
    what = kinds[0] if len(kinds) == 1 else ", ".join(kinds[:-1]) + " and " + kinds[-1]
    return f"{who} that looked like {what}."


def _when(moment: datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b %Y}, {local:%H:%M}"


def events(decisions: list[ChildDecision], zone: ZoneInfo, limit: int) -> list[dict[str, str]]:
    return [
        {
            "when": _when(d.created_at, zone),
            "iso": d.created_at.astimezone(UTC).isoformat(timespec="seconds"),
            "what": describe(d),
            "action": ACTION_WORDS.get(d.action, "childsafe took note of it."),
        }
        for d in decisions[:limit]
    ]


# -- trends -------------------------------------------------------------------------------------------------


def _week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def trends(decisions: list[ChildDecision], zone: ZoneInfo, now: datetime, weeks: int) -> dict[str, Any]:
    """Flagged messages per week (Monday to Sunday, the child's time zone) and per category, with charts."""
    this_week = _week_start(now.astimezone(zone).date())
    starts = [this_week - timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]
    per_week: Counter[date] = Counter()
    per_category: Counter[str] = Counter()
    for d in decisions:
        start = _week_start(d.created_at.astimezone(zone).date())
        if start < starts[0]:
            continue
        per_week[start] += 1
        for c in d.categories:
            per_category[c] += 1
    week_rows = [(f"{s.day} {s:%b}", per_week[s]) for s in starts]
    category_rows = [(CATEGORY_WORDS.get(c, _UNKNOWN_CATEGORY)[0], n) for c, n in per_category.most_common()]
    return {
        "weeks": week_rows,
        "categories": category_rows,
        "total": sum(per_week.values()),
        "week_chart": column_chart(week_rows, "Flagged messages per week, by the week's Monday"),
        "category_chart": bar_chart(category_rows, "Flagged messages by kind") if category_rows else None,
    }


_BAR = "#24408e"
_INK = "#1b1b1b"


def column_chart(rows: list[tuple[str, int]], title: str, *, height: int = 180) -> Markup:
    """Vertical bars, one per row, each labelled underneath and with its count on top."""
    col, gap, top, bottom = 56, 14, 22, 26
    width = len(rows) * (col + gap) + gap
    peak = max((n for _, n in rows), default=0) or 1
    plot = height - top - bottom
    parts = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" aria-hidden="true" focusable="false">',
        f"<title>{escape(title)}</title>",
        f'<line x1="0" y1="{top + plot}" x2="{width}" y2="{top + plot}" stroke="#999"/>',
    ]
    for i, (label, n) in enumerate(rows):
        x = gap + i * (col + gap)
        h = round(plot * n / peak)
        y = top + plot - h
        parts.append(f'<rect x="{x}" y="{y}" width="{col}" height="{h}" fill="{_BAR}"/>')
        parts.append(
            f'<text x="{x + col / 2}" y="{y - 5}" text-anchor="middle" font-size="13" fill="{_INK}">{n}</text>'
        )
        parts.append(
            f'<text x="{x + col / 2}" y="{height - 8}" text-anchor="middle" font-size="12" fill="{_INK}">'
            f"{escape(label)}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def bar_chart(rows: list[tuple[str, int]], title: str, *, width: int = 560) -> Markup:
    """Horizontal bars, one per row: the label on the left, the count at the end of the bar."""
    label_w, row_h, pad = 230, 28, 6
    height = len(rows) * row_h + pad * 2
    peak = max((n for _, n in rows), default=0) or 1
    span = width - label_w - 40
    parts = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" aria-hidden="true" focusable="false">',
        f"<title>{escape(title)}</title>",
    ]
    for i, (label, n) in enumerate(rows):
        y = pad + i * row_h
        w = max(2, round(span * n / peak))
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 18}" text-anchor="end" font-size="13" fill="{_INK}">'
            f"{escape(label)}</text>"
        )
        parts.append(f'<rect x="{label_w}" y="{y + 4}" width="{w}" height="{row_h - 8}" fill="{_BAR}"/>')
        parts.append(f'<text x="{label_w + w + 6}" y="{y + 18}" font-size="13" fill="{_INK}">{n}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


# -- healthy-use form ---------------------------------------------------------------------------------------


def _minutes(form: dict[str, str], field: str, low: int, *, optional: bool) -> tuple[int | None, FieldError | None]:
    raw = form.get(field, "").strip()
    if not raw and optional:
        return None, None
    if raw.isdigit() and low <= int(raw) <= 24 * 60:
        return int(raw), None
    hint = ", or leave it empty for none" if optional else ""
    return None, FieldError(field, f"{HEALTHY_FIELDS[field]}: enter whole minutes from {low} to 1440{hint}.")


def parse_healthy_form(form: dict[str, str]) -> tuple[HealthySettingsRecord | None, list[FieldError]]:
    """The settings a guardian submitted, or every problem with them (each naming its field, never the value)."""
    errors: list[FieldError] = []
    zone = form.get("timezone", "").strip() or "UTC"
    try:
        parse_zone(zone)
    except InvalidInputError:
        errors.append(FieldError("timezone", "Time zone: use a place name like Europe/London, or UTC."))
    quiet: dict[str, str | None] = {}
    for field in ("quiet_start", "quiet_end"):
        raw = form.get(field, "").strip()
        quiet[field] = raw or None
        if raw:
            try:
                parse_hhmm(raw, field)
            except InvalidInputError:
                errors.append(FieldError(field, f"{HEALTHY_FIELDS[field]}: enter a time like 21:30 (24-hour)."))
    if (quiet["quiet_start"] is None) != (quiet["quiet_end"] is None):
        missing = "quiet_end" if quiet["quiet_end"] is None else "quiet_start"
        errors.append(FieldError(missing, "Quiet hours: set both the start and the end, or leave both empty."))
    elif quiet["quiet_start"] is not None and quiet["quiet_start"] == quiet["quiet_end"]:
        errors.append(FieldError("quiet_end", "Quiet hours: the start and the end must be different times."))
    limit, e1 = _minutes(form, "daily_limit_minutes", 0, optional=True)
    after, e2 = _minutes(form, "break_after_minutes", 1, optional=True)
    length, e3 = _minutes(form, "break_minutes", 1, optional=False)
    errors += [e for e in (e1, e2, e3) if e is not None]
    if errors:
        return None, errors
    record = HealthySettingsRecord(
        timezone=zone,
        daily_limit_minutes=limit,
        quiet_start=quiet["quiet_start"],
        quiet_end=quiet["quiet_end"],
        break_after_minutes=after,
        break_minutes=length if length is not None else 10,
    )
    return record, []


# -- page data ----------------------------------------------------------------------------------------------


def _privacy(request: Request) -> Any:
    return getattr(request.app.state, "privacy", None)


def _analytics_allowed(request: Request, child_id: str) -> bool:
    """Same rule as the activity counts (``_activity_with_consent``): the ``analytics`` purpose in force."""
    privacy = _privacy(request)
    return privacy is None or bool(privacy.allows(child_id, Purpose.ANALYTICS))


def _zone_of(settings: HealthySettingsRecord | None) -> ZoneInfo:
    try:
        return parse_zone(settings.timezone if settings else "UTC")
    except InvalidInputError:
        return ZoneInfo("UTC")


def _child_summary(web: Web, request: Request, child: dict[str, Any], weeks: int, limit: int) -> dict[str, Any]:
    """Events (always) and trends (with analytics consent) for one child, in the child's time zone."""
    privacy = _privacy(request)
    settings = privacy.healthy.settings(child["id"]) if privacy is not None else None
    zone = _zone_of(settings)
    now = datetime.now(UTC)
    since = min(now - timedelta(days=EVENT_DAYS), now - timedelta(weeks=weeks))
    flagged = flagged_decisions(web.gw.store.engine, child["id"], since)
    recent = [d for d in flagged if d.created_at >= now - timedelta(days=EVENT_DAYS)]
    allowed = _analytics_allowed(request, child["id"])
    return {
        **child,
        "zone": str(zone.key),
        "settings": settings,
        "events": events(recent, zone, limit),
        "more_events": max(0, len(recent) - limit),
        "trends": trends(flagged, zone, now, weeks) if allowed else None,
    }


def _consents(request: Request, child_id: str) -> list[dict[str, Any]] | None:
    privacy = _privacy(request)
    if privacy is None:
        return None
    state = privacy.consent.state(child_id)
    return [
        {"purpose": p.value, "label": PURPOSE_HELP[p][0], "help": PURPOSE_HELP[p][1], "on": state.allows(p)}
        for p in Purpose
    ]


async def child_page(
    request: Request,
    session: Session,
    child: dict[str, Any],
    status: int = 200,
    *,
    errors: list[FieldError] | None = None,
    notice: str | None = None,
) -> Response:
    from childsafe.gateway.web import _activity_with_consent, _web

    web = _web(request)

    def load() -> dict[str, Any]:
        summary = _child_summary(web, request, child, TREND_WEEKS, PAGE_EVENTS)
        privacy = _privacy(request)
        return {
            "child": summary,
            "activity": _activity_with_consent(request, child["id"], 30),
            "consents": _consents(request, child["id"]),
            "used_today": round(privacy.healthy.usage_today(child["id"])) if privacy is not None else None,
        }

    ctx = await asyncio.to_thread(load)
    errors = errors or []
    return web.render(
        "guardian_child.html",
        request,
        session,
        status,
        assent_expected=assent_expected(child["age_band"]),
        errors=errors,
        error_for={e.field: f"err-{e.field}" for e in errors},
        fields=HEALTHY_FIELDS,
        notice=notice,
        **ctx,
    )


# -- routes -------------------------------------------------------------------------------------------------


@router.get("/guardian", response_model=None)
async def guardian_home(request: Request) -> Response:
    from childsafe.gateway.web import _activity_with_consent, _guard, _guardian_children, _web

    session = _guard(request, ("guardian",))
    if not isinstance(session, Session):
        return session
    web = _web(request)

    def load() -> list[dict[str, Any]]:
        kids = _guardian_children(web, session.user.guardian_id)
        return [
            {
                **_child_summary(web, request, k, TREND_WEEKS, OVERVIEW_EVENTS),
                "activity": _activity_with_consent(request, k["id"], 7),
            }
            for k in kids
        ]

    children = await asyncio.to_thread(load)
    return web.render("guardian.html", request, session, children=children)


@router.get("/guardian/children/{child_id}", response_model=None)
async def guardian_child(request: Request, child_id: str) -> Response:
    from childsafe.gateway.web import _guard, _guardian_children, _web

    session = _guard(request, ("guardian",))
    if not isinstance(session, Session):
        return session
    web = _web(request)
    kids = await asyncio.to_thread(_guardian_children, web, session.user.guardian_id)
    child = next((k for k in kids if k["id"] == child_id), None)
    if child is None:  # another family's child looks exactly like a missing one
        return web.render("error.html", request, session, 404, message="No such child in your family.")
    return await child_page(request, session, child, notice=request.query_params.get("notice"))


async def _guardian_post(
    request: Request, child_id: str
) -> tuple[Session, dict[str, Any], Any, dict[str, str]] | Response:
    """The guardian's session, their child, the privacy services and the form, once the CSRF token checks out."""
    from childsafe.gateway.web import _csrf_ok, _form, _own_child, _web

    own = await _own_child(request, child_id)
    if isinstance(own, Response):
        return own
    session, child, privacy = own
    form = await _form(request)
    if not _csrf_ok(session, form):
        return _web(request).render("error.html", request, session, 403, message="Invalid form token.")
    return session, child, privacy, form


def _back(child_id: str, notice: str, anchor: str) -> Response:
    return RedirectResponse(f"/guardian/children/{quote(child_id)}?notice={quote(notice)}#{anchor}", status_code=303)


@router.post("/guardian/children/{child_id}/consent/{purpose}/{change}", response_model=None)
async def guardian_consent(request: Request, child_id: str, purpose: str, change: str) -> Response:
    """Grant or withdraw one purpose; a grant for a child aged 10-17 needs the child's own agreement too."""
    from childsafe.gateway.web import _web

    posted = await _guardian_post(request, child_id)
    if isinstance(posted, Response):
        return posted
    session, child, privacy, form = posted
    try:
        p = Purpose.parse(purpose)
    except InvalidInputError:
        p = None
    if p is None or change not in ("grant", "withdraw"):
        return _web(request).render("error.html", request, session, 404, message="No such consent setting.")
    granted = change == "grant"
    assent: bool | None = None
    if granted and assent_expected(child["age_band"]):
        if form.get("child_assent") != "yes":
            error = FieldError(
                f"assent-{p.value}",
                f"{PURPOSE_HELP[p][0]}: children aged 10 and over are asked too. "
                "Tick \u201cMy child agrees\u201d once your child has said yes.",
            )
            return await child_page(request, session, child, 400, errors=[error])
        assent = True
    await asyncio.to_thread(
        privacy.consent.record,
        child_id,
        child["age_band"],
        p,
        granted,
        guardian_id=session.user.guardian_id,
        method="guardian_account",
        child_assent=assent,
    )
    said = "given" if granted else "withdrawn"
    return _back(child_id, f"Consent for {PURPOSE_HELP[p][0].lower()} {said}.", "consents")


@router.post("/guardian/children/{child_id}/healthy-use", response_model=None)
async def guardian_healthy_use(request: Request, child_id: str) -> Response:
    """Daily limit, quiet hours and breaks; enforced from the child's very next message (nothing is cached)."""
    posted = await _guardian_post(request, child_id)
    if isinstance(posted, Response):
        return posted
    session, child, privacy, form = posted
    record, errors = parse_healthy_form(form)
    if record is None:
        return await child_page(request, session, child, 400, errors=errors)
    await asyncio.to_thread(privacy.healthy.set_settings, child_id, record, f"guardian:{session.user.guardian_id}")
    return _back(child_id, "Time limits saved. They apply from your child's next message.", "limits")


def install_guardian_pages(app: FastAPI) -> None:
    app.include_router(router)


# -- the demo family ----------------------------------------------------------------------------------------

DEMO_GUARDIAN_ID = "gdn_demo"
# Consents the demo parent has given: what the chat demo needs (checking, storage, human review) and the
# activity counts. Withdrawing "safety checks" on the page makes the chat demo refuse the child, as it should.
DEMO_CONSENTS = (Purpose.SAFETY_CHECKING, Purpose.CONVERSATION_STORAGE, Purpose.HUMAN_REVIEW, Purpose.ANALYTICS)
# Earlier weeks of the demo child's record, so the trend charts have something to show: (days ago, action,
# category, who wrote it). No words are stored for them.
DEMO_HISTORY = (
    (3, "warn", "personal_info", "child"),
    (9, "redact", "personal_info", "child"),
    (11, "block", "harassment", "contact"),
    (16, "warn", "violence", "assistant"),
    (24, "block", "harassment", "contact"),
    (30, "warn", "personal_info", "child"),
)


def seed_demo_family(store: Store, app_id: int) -> tuple[ChildRecord, str]:
    """The demo parent (``gdn_demo``), linked to the chat demo child with the demo consents and a few weeks of
    flagged decisions. Idempotent: a later run leaves the parent's own consent changes alone."""
    from childsafe.gateway.demo import DEMO_CHILD, DEMO_CHILD_AGE
    from childsafe.store import DecisionEntry

    child = store.children.get_or_create(app_id, DEMO_CHILD, AgeBand.from_age(DEMO_CHILD_AGE).value)
    now = datetime.now(UTC)
    purposes = [p.value for p in DEMO_CONSENTS]
    seed_guardian_family(store.engine, DEMO_GUARDIAN_ID, "Demo parent", child.id, purposes, now)
    store.decisions.record(
        [
            DecisionEntry(
                id=f"dec_demo_history_{i}",
                kind="output" if role == "assistant" else "input",
                action=action,
                categories=[category],
                scores={category: 0.8},
                reasons=["demo"],
                policy_version="demo",
                age_band=child.age_band,
                role=role,
                app_id=app_id,
                child_id=child.id,
                created_at=now - timedelta(days=days),
            )
            for i, (days, action, category, role) in enumerate(DEMO_HISTORY)
        ]
    )
    return child, DEMO_GUARDIAN_ID
