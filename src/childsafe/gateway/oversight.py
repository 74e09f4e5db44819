"""Oversight in the gateway: the audit sink on the engine, the review service, and the appeals API.

``install_oversight(app, gw)`` mounts the routes over the services that ``childsafe.services.Services`` wired;
the pages for moderators, guardians and children live in ``gateway/web``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Literal

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from childsafe.audit import AuditLog, AuditSink
from childsafe.audit.checkpoints import CheckpointShipper
from childsafe.gateway.deps import AppDep, GatewayDep, OversightDep
from childsafe.gateway.errors import ApiError
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
    """Mount the appeals API and the web pages over the oversight services the composition root built."""
    s = gw.services
    assert s.audit_sink is not None and s.checkpoints is not None
    oversight = Oversight(s.audit, s.audit_sink, s.review, s.checkpoints, s.intake, s.alerter)
    app.state.oversight = oversight
    app.include_router(router)
    from childsafe.gateway.web import install_web

    install_web(app, gw, oversight)
    return oversight


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
async def file_appeal(body: AppealRequest, gw: GatewayDep, app: AppDep) -> JSONResponse:
    """Contest a blocked decision (one request from the child-facing message); the appeal becomes a case."""

    def run() -> dict[str, object]:
        return gw.services.file_appeal(body.decision_id, body.reason, body.requester, app_id=app.id).public()

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
