"""Routes: chat completions, moderations, the native check API, child profiles, health and metrics."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute

from childsafe.gateway.chat import ChatHandler
from childsafe.gateway.deps import AgeHeader, AppDep, ChildHeader, ConversationHeader, GatewayDep
from childsafe.gateway.errors import DATABASE_UNAVAILABLE_ERRORS, LONE_SURROGATE, ApiError, database_unavailable
from childsafe.gateway.guardians import app_age_change, audit_app_age_change
from childsafe.gateway.openai_categories import applied_input_types, openai_categories, openai_scores
from childsafe.gateway.ratelimit import enforce_request_size, extra_units
from childsafe.gateway.schemas import (
    ChatCompletionRequest,
    CheckRequest,
    ChildProfileRequest,
    ChildProfileResponse,
    HealthResponse,
    ModerationChildsafe,
    ModerationRequest,
    ModerationResponse,
    ModerationResult,
    lone_surrogate_path,
)
from childsafe.gateway.state import Gateway
from childsafe.store import AppRecord, DecisionScope, scoped
from childsafe.types import AgeBand, Category, InvalidInputError, Message, Role

MAX_MODERATION_INPUTS = 100


class DatabaseAwareRoute(APIRoute):
    """A route whose locked or unreachable database is a 503 naming the database, not an "internal error".

    Wraps the whole handler, dependencies included (the API key and child lookups read the database too).
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            try:
                return await handler(request)
            except DATABASE_UNAVAILABLE_ERRORS as exc:
                raise database_unavailable(exc) from None

        return run


def require_text(body: Any) -> None:
    """Refuse (400) a body holding a lone surrogate, naming the field, before it reaches a check or the model."""
    path = lone_surrogate_path(body)
    if path is not None:
        raise ApiError(
            400,
            f"field '{path}' {LONE_SURROGATE}",
            param=path,
        )


def charge_checks(gw: Gateway, app: AppRecord, texts: list[str]) -> None:
    """Weight the app's rate limit by the texts this request checks (its admission unit is already paid)."""
    units = extra_units(gw.server.limits, sum(len(t) for t in texts), len(texts))
    gw.limiter.charge(app.id, app.rate_limit_per_minute, units)


router = APIRouter(route_class=DatabaseAwareRoute)


@router.post("/v1/chat/completions", response_model=None)
async def chat_completions(
    body: ChatCompletionRequest,
    request: Request,
    gw: GatewayDep,
    app: AppDep,
    child: ChildHeader = None,
    conversation: ConversationHeader = None,
    age: AgeHeader = None,
) -> Response:
    """OpenAI-compatible chat completions (streaming and not), checked on the way in and out."""
    require_text(body.model_dump())
    handler = ChatHandler(gw, app, body, request_url=str(request.base_url))  # the base of the appeal link
    return await handler.run(child or body.user, conversation, age)


def _role(value: str, param: str = "role") -> Role:
    try:
        return Role.parse(value)
    except InvalidInputError:  # the message names the field and the choices, never the value sent
        raise ApiError(
            400,
            f"field '{param}': unknown role; known roles: child, contact, assistant, system (or user = child)",
            param=param,
        ) from None


async def _band(gw: Gateway, app: AppRecord, age: str | int | None, child_ext: str | None) -> AgeBand:
    if age is not None:
        return gw.parse_age(age)
    if child_ext:
        return AgeBand.parse((await gw.resolve_child(app, child_ext, None)).age_band)
    return gw.default_band()


async def _scope(gw: Gateway, app: AppRecord, child_ext: str | None, age: str | int | None) -> DecisionScope:
    """Decisions of a call naming a known child (``X-Childsafe-Child``) are recorded as that child's: they reach
    the human review queue and go with the child's erasure. A call naming no child (or an unknown one next to
    an explicit age) is recorded without one, and opens no review case unless ``review.queue_without_child``."""
    if not child_ext:
        return DecisionScope(app.id, None, None)
    try:
        child = await gw.resolve_child(app, child_ext, None if age is None else str(age))
    except ApiError:
        if age is None:
            raise
        return DecisionScope(app.id, None, None)
    return DecisionScope(app.id, child.id, None)


@router.post("/v1/moderations", response_model=ModerationResponse)
async def moderations(
    body: ModerationRequest, gw: GatewayDep, app: AppDep, child: ChildHeader = None
) -> ModerationResponse:
    """OpenAI moderation shape and category keys, plus a ``childsafe`` object per result with childsafe's own."""
    require_text(body.model_dump())
    inputs = [body.input] if isinstance(body.input, str) else body.input
    if not inputs:
        raise ApiError(400, "field 'input': give a string or a non-empty list of strings", param="input")
    if len(inputs) > MAX_MODERATION_INPUTS:
        raise ApiError(400, f"field 'input': at most {MAX_MODERATION_INPUTS} texts per request", param="input")
    chars = sum(len(t) for t in inputs)
    enforce_request_size(gw.server.limits, messages=len(inputs), chars=chars, param="input")
    charge_checks(gw, app, inputs)
    band = await _band(gw, app, body.age, child)
    role = _role(body.role)
    meta = {"app_id": app.id}
    with scoped(await _scope(gw, app, child, body.age)):
        decisions = await asyncio.gather(
            *(gw.engine.acheck(t, age=band, role=role, metadata=meta, language=body.language) for t in inputs)
        )
    results = []
    for d in decisions:
        gw.metrics.decisions.labels("moderation", d.action.value).inc()
        results.append(
            ModerationResult(
                flagged=not d.allowed,
                categories=openai_categories(set(d.categories)),  # the keys the openai client reads
                category_scores=openai_scores(d.scores),
                category_applied_input_types=applied_input_types(),
                childsafe=ModerationChildsafe(
                    action=d.action.value,
                    categories=[c.value for c in d.categories],
                    category_scores={c.value: round(float(d.scores.get(c, 0.0)), 6) for c in Category},
                    decision_id=d.decision_id,
                    reasons=list(d.reasons),
                    age_band=d.age_band.value,
                    child_message=d.child_message,
                ),
            )
        )
    policy = decisions[0].policy_version if decisions else "unknown"
    return ModerationResponse(id="modr-" + uuid.uuid4().hex, model=f"childsafe-{policy}", results=results)


@router.post("/v1/check", response_model=None)
async def check(body: CheckRequest, gw: GatewayDep, app: AppDep, child: ChildHeader = None) -> JSONResponse:
    """The native API: one text or a conversation in, the full Decision out."""
    if (body.text is None) == (body.messages is None):
        raise ApiError(400, "give exactly one of 'text' or 'messages'", param="text")
    require_text(body.model_dump())
    param = "text" if body.messages is None else "messages"
    texts = [body.text or ""] if body.messages is None else [m.content for m in body.messages]
    chars = sum(len(t) for t in texts)
    enforce_request_size(gw.server.limits, messages=len(texts), chars=chars, param=param)
    charge_checks(gw, app, texts)
    band = await _band(gw, app, body.age, child)
    meta = {"app_id": app.id}
    with scoped(await _scope(gw, app, child, body.age)):
        if body.text is not None:
            decision = await gw.engine.acheck(
                body.text, age=band, role=_role(body.role), metadata=meta, language=body.language
            )
        else:
            assert body.messages is not None
            msgs = [Message(_role(m.role, f"messages[{i}].role"), m.content) for i, m in enumerate(body.messages)]
            decision = await gw.engine.acheck_messages(msgs, age=band, metadata=meta, language=body.language)
    gw.metrics.decisions.labels("check", decision.action.value).inc()
    return JSONResponse(decision.to_dict())


@router.post("/v1/children", response_model=ChildProfileResponse)
async def put_child(body: ChildProfileRequest, gw: GatewayDep, app: AppDep) -> ChildProfileResponse:
    """Create or update a child profile (the app's id for the child and the child's age or age band).

    A guardian-managed child's age band is changed by the guardian only (409 here, audited); the app's change
    of an unmanaged child's band is audited."""
    band = gw.parse_age(body.age)
    before = await asyncio.to_thread(gw.store.children.get, app.id, body.id)
    if before is not None:
        await app_age_change(gw, app, before, band.value)
    record = await asyncio.to_thread(gw.store.children.upsert, app.id, body.id, band.value)
    if before is not None:
        await audit_app_age_change(gw, app, before, record)
    gw.remember_child(body.id, record)
    return ChildProfileResponse(id=body.id, child_id=record.id, age_band=record.age_band)


@router.get("/healthz", response_model=HealthResponse)
async def healthz() -> HealthResponse:
    """Liveness: the process answers."""
    return HealthResponse(status="ok")


@router.get("/readyz", response_model=None)
async def readyz(gw: GatewayDep) -> JSONResponse:
    """Readiness: the database accepts a write, the escalation journal can be written, every detector loaded,
    an upstream is configured."""
    from childsafe.store.recorder import database_writable

    db_ok = await asyncio.to_thread(database_writable, gw.store.engine)
    health = await asyncio.to_thread(gw.engine.health)
    checks: dict[str, dict[str, Any]] = {
        "database": {"ok": db_ok, "backend": gw.store.backend},
        "engine": {"ok": bool(health.get("ok")), "unavailable": sorted(health.get("unavailable", {}))},
        "upstream": {"ok": gw.upstream is not None, "demo": bool(gw.server.demo)},
    }
    journal = gw.sink.journal
    if journal is not None:
        checks["escalation_journal"] = {"ok": journal.healthy, "pending": journal.pending_count}
    ready = all(c["ok"] for c in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks}, status_code=200 if ready else 503
    )


@router.get("/metrics", response_model=None)
async def metrics(gw: GatewayDep) -> Response:
    """Prometheus metrics."""
    return Response(gw.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")
