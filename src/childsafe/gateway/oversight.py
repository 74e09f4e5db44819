"""Oversight in the gateway: the audit sink on the engine, the review service, and the appeals API.

``install_oversight(app, gw)`` is the one call ``create_app`` makes; everything else lives here and in
``gateway/web`` (the server-rendered pages for moderators, guardians and children).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from childsafe.audit import AuditLog, AuditSink, ContentKey, open_audit_log
from childsafe.audit.checkpoints import CheckpointShipper, open_shipper
from childsafe.gateway.errors import ApiError
from childsafe.gateway.routes import AppDep, GatewayDep
from childsafe.gateway.state import Gateway
from childsafe.review import ReviewError, ReviewService
from childsafe.review.alerts import Alerter
from childsafe.review.intake import CaseIntake


@dataclass
class Oversight:
    audit: AuditLog
    sink: AuditSink
    review: ReviewService
    checkpoints: CheckpointShipper
    """Ships signed checkpoints to ``audit.checkpoint_dir`` (started by the app's lifespan)."""
    intake: CaseIntake | None = None
    """Opens review cases as escalations are stored (so due times and alerts start at the escalation)."""
    alerter: Alerter | None = None
    """Webhook and email alerts for severity-1 cases (``review.alerts``); None when none is configured."""


def install_oversight(app: FastAPI, gw: Gateway) -> Oversight:
    """Open the audit log, add its sink to the engine, and mount the appeals API and the web pages."""
    audit = open_audit_log(gw.store.engine, gw.config)
    sink = AuditSink(
        audit,
        only_flagged=bool(getattr(getattr(gw.config, "audit", None), "only_flagged", False)),
        content_key=ContentKey.from_config(gw.config),  # keyed digests: a plain hash of short text is guessable
    )
    gw.engine.sinks.append(sink)
    gw.closers.append(sink.close)  # queued audit events reach the chain before the store closes
    checkpoints = open_shipper(audit, gw.store.engine, gw.config)
    gw.closers.append(checkpoints.close)  # after the sink's drain: the last checkpoint covers every event
    server = gw.config.server
    alerter = Alerter.from_config(gw.config.review.alerts, f"http://{server.host}:{server.port}")
    if alerter is not None:
        gw.closers.append(alerter.close)
    review = ReviewService.from_store(gw.store, gw.config, audit=audit, on_urgent=alerter.notify if alerter else None)
    intake = CaseIntake(review, gw.sink.flush)
    gw.engine.sinks.append(intake)  # wakes on escalations: the case (and its alert) opens at once
    gw.closers.insert(0, intake.close)  # stops before the alerter it feeds and the store it reads
    oversight = Oversight(audit, sink, review, checkpoints, intake, alerter)
    privacy = getattr(app.state, "privacy", None)
    if privacy is not None and hasattr(privacy, "set_audit"):
        from childsafe.audit.privacy_hook import privacy_audit_hook

        privacy.set_audit(privacy_audit_hook(audit))  # consents, data rights and legal holds into the chain
        hooks = getattr(getattr(privacy, "rights", None), "erasure_hooks", None)
        if isinstance(hooks, list):
            hooks.append(review.erase_child)  # an erased child's cases go too, unless a report preserves them
    app.state.oversight = oversight
    app.include_router(router)
    from childsafe.gateway.web import install_web

    install_web(app, gw, oversight)
    return oversight


async def get_oversight(request: Request) -> Oversight:
    o: Oversight = request.app.state.oversight
    return o


OversightDep = Annotated[Oversight, Depends(get_oversight)]

router = APIRouter()


class AppealRequest(BaseModel):
    decision_id: str = Field(..., min_length=1, max_length=64, description="The id of the decision being contested")
    reason: str = Field("", max_length=1000, description="Why the child or guardian thinks it was wrong")
    requester: Literal["child", "guardian"] = "child"


def _api_error(exc: ReviewError, not_found: str, param: str) -> ApiError:
    """The review service's error for the API; a 404 is said in the route's words, since the service's own
    message quotes the id the client sent (errors never echo a request)."""
    if exc.status == 404:
        return ApiError(404, not_found, param=param, code="not_found")
    code = {409: "conflict", 403: "forbidden"}.get(exc.status, "invalid_request")
    return ApiError(exc.status, str(exc), code=code)


@router.post("/v1/appeals", status_code=201, response_model=None)
async def file_appeal(body: AppealRequest, gw: GatewayDep, app: AppDep, o: OversightDep) -> JSONResponse:
    """Contest a blocked decision (one request from the child-facing message); the appeal becomes a case."""

    def run() -> dict[str, object]:
        try:
            appeal = o.review.file_appeal(body.decision_id, body.reason, body.requester, app_id=app.id)
        except ReviewError as exc:
            if exc.status != 404:
                raise
            gw.sink.flush(5.0)  # the decision may still be queued for the database
            appeal = o.review.file_appeal(body.decision_id, body.reason, body.requester, app_id=app.id)
        return appeal.public()

    try:
        result = await asyncio.to_thread(run)
    except ReviewError as exc:
        raise _api_error(exc, "no decision with this decision_id (for this app)", "decision_id") from None
    return JSONResponse(result, status_code=201)


@router.get("/v1/appeals/{appeal_id}", response_model=None)
async def get_appeal(appeal_id: str, o: OversightDep) -> JSONResponse:
    """The appeal's status and outcome in words for the child's age (the id is an unguessable token)."""
    try:
        appeal = await asyncio.to_thread(o.review.appeal, appeal_id)
    except ReviewError as exc:
        raise _api_error(exc, "no appeal with this id", "appeal_id") from None
    return JSONResponse(appeal.public())
