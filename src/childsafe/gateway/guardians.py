"""Guardian and child-rights API (/v1/guardians, /v1/children/{id}/...), and the consent and healthy-use gate
the chat pipeline runs before a child's request reaches the model.

Two kinds of caller: the operator's app (its API key) creates guardian accounts, links children and places
legal holds; a guardian (``Authorization: Bearer gdn_...``) manages only their own children. A child that
is not theirs is answered with 404, exactly as if it did not exist, so ids cannot be probed.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Literal

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from childsafe.gateway.deps import GatewayDep, GuardianDep, OperatorDep, PrivacyDep
from childsafe.gateway.errors import ApiError
from childsafe.gateway.state import Gateway
from childsafe.privacy.consent import ConsentMethod, Purpose
from childsafe.privacy.healthy import HealthyVerdict
from childsafe.privacy.rights import render_summary
from childsafe.privacy.service import PrivacyServices, StaleChild
from childsafe.store import AppRecord, ChildRecord
from childsafe.store.privacy_sql import GuardianOfAnotherApp, GuardianRecord, HealthySettingsRecord
from childsafe.types import InvalidInputError

log = logging.getLogger("childsafe.gateway")


def install_privacy(app: FastAPI, gw: Gateway) -> PrivacyServices:
    """Mount the guardian and child-rights API over the privacy services the composition root built."""
    app.state.privacy = gw.services.privacy
    app.include_router(router)
    return gw.services.privacy


def services_for(gw: Gateway) -> PrivacyServices:
    return gw.services.privacy


# -- the chat gate ------------------------------------------------------------------------------------------


async def privacy_gate(handler: Any, child: ChildRecord) -> Response | None:
    """Run before forwarding a child's request: raise for missing consent, answer kindly for healthy-use limits.

    ``handler`` is the chat handler (``gw``, ``body``, ``completion_id``, ``created``, ``info``-free)."""
    gw: Gateway = handler.gw
    services = services_for(gw)
    try:
        storing = gw.store.messages is not None
        missing, verdict = await asyncio.to_thread(services.gate, child.id, child.age_band, storing=storing)
    except StaleChild as stale:
        # Erased or rectified by another process (the CLI, another replica): drop the cached profile.
        gw.services.child_changed(child.id)
        if stale.erased:
            raise ApiError(404, "unknown child: this child's data has been erased", "unknown_child") from None
        raise ApiError(
            409, "this child's age band was just corrected; please send the request again", "child_updated"
        ) from None
    if missing is Purpose.SAFETY_CHECKING:
        raise ApiError(
            403,
            "this child's guardian has not consented to 'safety_checking', which is required to use the service "
            "(or has withdrawn it); a guardian can grant it with PUT /v1/children/{id}/consent/safety_checking",
            "consent_required",
            param="safety_checking",
            code="consent_missing",
        )
    if missing is not None:
        raise ApiError(
            403,
            f"this service stores conversations and this child's guardian has not consented to '{missing.value}' "
            f"(or has withdrawn it); a guardian can grant it with PUT /v1/children/{{id}}/consent/{missing.value}",
            "consent_required",
            param=missing.value,
            code="consent_missing",
        )
    if verdict.allowed:
        return None
    return _healthy_reply(handler, verdict)


def _healthy_reply(handler: Any, verdict: HealthyVerdict) -> Response:
    info = {"action": "allow", "categories": [], "stage": "input", "healthy_use": verdict.to_dict()}
    content = verdict.message or ""
    completion_id, created, model = handler.completion_id, handler.created, handler.body.model
    if not handler.body.stream:
        return JSONResponse(
            {
                "id": completion_id,
                "object": "chat.completion",
                "created": created,
                "model": model,
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
                ],
                "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
                "childsafe": info,
            }
        )

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        import json

        data = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            "childsafe": info,
        }
        return b"data: " + json.dumps(data, ensure_ascii=False).encode() + b"\n\n"

    async def events() -> Any:
        yield chunk({"role": "assistant", "content": content})
        yield chunk({}, "stop")
        yield b"data: [DONE]\n\n"

    return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


async def _own_child(services: PrivacyServices, guardian: GuardianRecord, child_id: str) -> ChildRecord:
    owner = await asyncio.to_thread(services.guardians.guardian_of, child_id)
    child = await asyncio.to_thread(services.data.child, child_id) if owner == guardian.id else None
    if child is None:
        raise ApiError(404, "no child with this id among this guardian's children", "not_found", param="child_id")
    return child


def _bad(exc: InvalidInputError, param: str | None = None) -> ApiError:
    return ApiError(400, str(exc), param=param)


# -- schemas ----------------------------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ChildRef(_Strict):
    user: str = Field(..., min_length=1, max_length=256, description="The app's own user id for the child")
    age: str | int | None = Field(None, description="Age or age band; default: the gateway's default age")


class GuardianCreate(_Strict):
    display_name: str = Field(..., min_length=1, max_length=200)
    children: list[ChildRef] = Field(default_factory=list)


class ConsentChange(_Strict):
    granted: bool = True
    method: str = Field("guardian_account", description="How consent was verified: " + ", ".join(ConsentMethod))
    notice_version: str | None = Field(None, max_length=40)
    child_assent: bool | None = Field(None, description="The child's own yes/no, asked from age 10")


class HealthySettingsBody(_Strict):
    timezone: str = Field("UTC", max_length=64)
    daily_limit_minutes: int | None = None
    quiet_start: str | None = None
    quiet_end: str | None = None
    break_after_minutes: int | None = None
    break_minutes: int = 10


class Rectification(_Strict):
    age: str | int


class HoldCreate(_Strict):
    reference: str = Field(..., min_length=1, max_length=200, description="Incident report id")
    reason: str = Field("", max_length=2000)


def _child_json(child: ChildRecord) -> dict[str, Any]:
    return {"id": child.id, "age_band": child.age_band}


# -- routes -----------------------------------------------------------------------------------------------

router = APIRouter()

_NO_GUARDIAN = "no guardian with this id in this app (a child can only be linked to a guardian its own app created)"


@router.post("/v1/guardians", status_code=201, response_model=None)
async def create_guardian(body: GuardianCreate, app: OperatorDep, gw: GatewayDep, services: PrivacyDep) -> Any:
    """Operator: create a guardian account (the token is shown once) and link children to it."""
    children: list[ChildRecord] = []
    for ref in body.children:
        band = gw.parse_age(ref.age, "children.age") if ref.age is not None else gw.default_band()
        children.append(await asyncio.to_thread(gw.store.children.get_or_create, app.id, ref.user, band.value))
    guardian, token = await asyncio.to_thread(services.create_guardian, body.display_name, f"app:{app.name}", app.id)
    for child in children:
        await _link(services, app, guardian.id, child)
    return {
        "guardian": {"id": guardian.id, "display_name": guardian.display_name},
        "token": token,
        "children": [_child_json(c) for c in children],
    }


@router.post("/v1/guardians/{guardian_id}/children", status_code=201, response_model=None)
async def link_child(guardian_id: str, body: ChildRef, app: OperatorDep, gw: GatewayDep, services: PrivacyDep) -> Any:
    """Operator: link (creating if needed) one of the app's children to one of the app's guardians."""
    guardian = await asyncio.to_thread(services.guardians.get, guardian_id)
    if guardian is None or guardian.app_id != app.id:
        # Another app's guardian is answered exactly like a missing one, so guardian ids cannot be probed.
        raise ApiError(404, _NO_GUARDIAN, "not_found", param="guardian_id")
    band = gw.parse_age(body.age, "age") if body.age is not None else gw.default_band()
    child = await asyncio.to_thread(gw.store.children.get_or_create, app.id, body.user, band.value)
    await _link(services, app, guardian_id, child)
    return _child_json(child)


async def _link(services: PrivacyServices, app: AppRecord, guardian_id: str, child: ChildRecord) -> None:
    try:
        await asyncio.to_thread(services.link_child, guardian_id, child.id, f"app:{app.name}")
    except GuardianOfAnotherApp:  # the route checked first; the store refuses too (defence in depth)
        raise ApiError(404, _NO_GUARDIAN, "not_found", param="guardian_id") from None
    except PermissionError:
        raise ApiError(409, f"child {child.id} already has another guardian", "conflict") from None


@router.post("/v1/children/{child_id}/legal-holds", status_code=201, response_model=None)
async def place_hold(child_id: str, body: HoldCreate, app: OperatorDep, services: PrivacyDep) -> Any:
    """Operator: keep this child's current evidence for an incident report, even through erasure."""
    child = await asyncio.to_thread(services.data.child, child_id)
    if child is None or child.app_id != app.id:
        raise ApiError(404, "no child with this id in this app", "not_found", param="child_id")
    hold = await asyncio.to_thread(services.rights.place_hold, child_id, body.reference, body.reason, f"app:{app.name}")
    return hold.to_dict()


@router.get("/v1/guardians/me", response_model=None)
async def guardian_me(guardian: GuardianDep, services: PrivacyDep) -> Any:
    children = await asyncio.to_thread(services.guardians.children_of, guardian.id)
    return {
        "guardian": {"id": guardian.id, "display_name": guardian.display_name},
        "children": [_child_json(c) for c in children],
    }


@router.get("/v1/children/{child_id}", response_model=None)
async def child_overview(child_id: str, guardian: GuardianDep, services: PrivacyDep) -> Any:
    child = await _own_child(services, guardian, child_id)
    consent = await asyncio.to_thread(services.consent.state, child_id)
    settings = await asyncio.to_thread(services.healthy.settings, child_id)
    used = await asyncio.to_thread(services.healthy.usage_today, child_id)
    return {
        **_child_json(child),
        "consent": consent.to_dict()["purposes"],
        "healthy_use": {"settings": settings.to_dict() if settings else None, "minutes_used_today": round(used, 1)},
    }


@router.patch("/v1/children/{child_id}", response_model=None)
async def rectify_child(
    child_id: str, body: Rectification, guardian: GuardianDep, gw: GatewayDep, s: PrivacyDep
) -> Any:
    """Correct the child's age band (takes effect on the next request)."""
    await _own_child(s, guardian, child_id)
    try:
        band = await asyncio.to_thread(s.rights.rectify_age_band, child_id, body.age, guardian.id)
    except InvalidInputError as exc:
        raise _bad(exc, "age") from None
    gw.services.child_changed(child_id)
    return {"id": child_id, "age_band": band}


@router.get("/v1/children/{child_id}/consent", response_model=None)
async def get_consent(child_id: str, guardian: GuardianDep, services: PrivacyDep) -> Any:
    await _own_child(services, guardian, child_id)
    state = await asyncio.to_thread(services.consent.state, child_id)
    history = await asyncio.to_thread(services.consent.history, child_id)
    return {**state.to_dict(), "history": [e.to_dict() for e in history]}


async def _change_consent(
    services: PrivacyServices, guardian: GuardianRecord, child_id: str, purpose: str, body: ConsentChange
) -> dict[str, Any]:
    child = await _own_child(services, guardian, child_id)
    try:
        entry = await asyncio.to_thread(
            services.consent.record,
            child_id,
            child.age_band,
            purpose,
            body.granted,
            guardian_id=guardian.id,
            method=body.method,
            notice_version=body.notice_version,
            child_assent=body.child_assent,
        )
    except InvalidInputError as exc:
        raise _bad(exc) from None
    state = await asyncio.to_thread(services.consent.state, child_id)
    return {"recorded": entry.to_dict(), "purposes": state.to_dict()["purposes"]}


@router.put("/v1/children/{child_id}/consent/{purpose}", response_model=None)
async def put_consent(child_id: str, purpose: str, body: ConsentChange, g: GuardianDep, s: PrivacyDep) -> Any:
    """Grant (or, with granted=false, withdraw) one purpose."""
    return await _change_consent(s, g, child_id, purpose, body)


@router.delete("/v1/children/{child_id}/consent/{purpose}", response_model=None)
async def withdraw_consent(child_id: str, purpose: str, g: GuardianDep, s: PrivacyDep) -> Any:
    """Withdraw one purpose; in force from the next request."""
    return await _change_consent(s, g, child_id, purpose, ConsentChange(granted=False))


@router.get("/v1/children/{child_id}/healthy-use", response_model=None)
async def get_healthy(child_id: str, guardian: GuardianDep, services: PrivacyDep) -> Any:
    await _own_child(services, guardian, child_id)
    settings = await asyncio.to_thread(services.healthy.settings, child_id)
    used = await asyncio.to_thread(services.healthy.usage_today, child_id)
    return {"settings": settings.to_dict() if settings else None, "minutes_used_today": round(used, 1)}


@router.put("/v1/children/{child_id}/healthy-use", response_model=None)
async def put_healthy(child_id: str, body: HealthySettingsBody, guardian: GuardianDep, services: PrivacyDep) -> Any:
    await _own_child(services, guardian, child_id)
    try:
        settings = await asyncio.to_thread(
            services.healthy.set_settings, child_id, HealthySettingsRecord(**body.model_dump()), guardian.id
        )
    except InvalidInputError as exc:
        raise _bad(exc) from None
    return {"settings": settings.to_dict()}


@router.get("/v1/children/{child_id}/export", response_model=None)
async def export_child(
    child_id: str,
    guardian: GuardianDep,
    services: PrivacyDep,
    gw: GatewayDep,
    format: Literal["json", "summary"] = "json",
) -> Response:
    """Everything stored about the child: JSON, or a readable Markdown summary (?format=summary)."""
    await _own_child(services, guardian, child_id)
    await asyncio.to_thread(gw.sink.flush)
    data = await asyncio.to_thread(services.rights.export, child_id, guardian.id)
    if format == "summary":
        return PlainTextResponse(render_summary(data), media_type="text/markdown; charset=utf-8")
    return JSONResponse(data)


@router.delete("/v1/children/{child_id}", response_model=None)
async def erase_child(child_id: str, guardian: GuardianDep, services: PrivacyDep, gw: GatewayDep) -> Any:
    """Erase the child: all rows deleted, the child's key destroyed; evidence under legal hold is kept."""
    await _own_child(services, guardian, child_id)
    report = await asyncio.to_thread(gw.services.erase_child, child_id, guardian.id)
    return report.to_dict()


# -- an app's age-band changes ----------------------------------------------------------------------------


async def app_age_change(gw: Gateway, app: AppRecord, child: ChildRecord, band: str) -> None:
    """Gate an app's change of a stored child's age band (``POST /v1/children``); raise 409 when refused.

    The age band decides which protections apply, and a guardian consented for a child of that age: an app
    moving a guardian-managed child to an older band (up to ``adult``) would lift protections behind the
    guardian's back. So a managed child's band is the guardian's to change (``PATCH /v1/children/{id}``) and
    the app's change is refused, with an audit event. Refused rather than held for the guardian's approval: a
    pending change would leave the app, the guardian and the gateway disagreeing about which band applies,
    and the gateway has no channel to ask the guardian; a refusal tells the app at once, and the child stays
    under the band the guardian knows."""
    services = services_for(gw)
    if band == child.age_band:
        return
    guardian = await asyncio.to_thread(services.guardians.guardian_of, child.id)
    if guardian is None:
        return
    await asyncio.to_thread(_emit_age_event, services, "child.age_change_refused", app, child, band)
    raise ApiError(
        409,
        f"this child's age band ({child.age_band}) is managed by the child's guardian; the app cannot change it. "
        "The guardian can correct it with PATCH /v1/children/{id}",
        "conflict",
        param="age",
        code="guardian_managed",
    )


async def audit_app_age_change(gw: Gateway, app: AppRecord, before: ChildRecord, after: ChildRecord) -> None:
    """Audit an age-band change an app made to an unmanaged child (a rectification by the app)."""
    services = services_for(gw)
    if before.age_band != after.age_band:
        await asyncio.to_thread(_emit_age_event, services, "child.rectified", app, before, after.age_band)


def _emit_age_event(
    services: PrivacyServices,
    type_: Literal["child.rectified", "child.age_change_refused"],
    app: AppRecord,
    child: ChildRecord,
    band: str,
) -> None:
    services.emit(
        {
            "type": type_,
            "at": services.clock().isoformat(),
            "actor": f"app:{app.name}",
            "child_id": child.id,
            "details": {"field": "age_band", "old": child.age_band, "new": band},
        }
    )
