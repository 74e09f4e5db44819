"""The request dependencies every router shares: the gateway state, the composition root's services, and who
is calling (an app by its API key, the operator, a guardian by their token).

The routers (``routes``, ``guardians``, ``oversight``, ``web``) hold no wiring: what they use comes from
``request.app.state``, set once by ``create_app`` from :class:`childsafe.services.Services`.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Header, Request

from childsafe.gateway.errors import ApiError
from childsafe.gateway.state import Gateway
from childsafe.privacy.service import PrivacyServices
from childsafe.services import Services
from childsafe.store import AppRecord
from childsafe.store.privacy_sql import GuardianRecord

if TYPE_CHECKING:
    from childsafe.gateway.oversight import Oversight


async def get_gateway(request: Request) -> Gateway:
    gw: Gateway = request.app.state.gateway
    return gw


GatewayDep = Annotated[Gateway, Depends(get_gateway)]


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_privacy(request: Request) -> PrivacyServices:
    privacy: PrivacyServices = request.app.state.services.privacy
    return privacy


PrivacyDep = Annotated[PrivacyServices, Depends(get_privacy)]


async def get_oversight(request: Request) -> Oversight:
    o: Oversight = request.app.state.oversight
    return o


OversightDep = Annotated["Oversight", Depends(get_oversight)]


def bearer(request: Request) -> str:
    """The token of ``Authorization: Bearer <token>``; 401 naming the header when it is missing."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "missing credentials: send 'Authorization: Bearer <token>'", "authentication_error")
    return token.strip()


async def authenticated_app(request: Request, gw: GatewayDep) -> AppRecord:
    """The calling app, from ``Authorization: Bearer <key>``; enforces its rate limit."""
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise ApiError(
            401, "missing API key: send 'Authorization: Bearer <key>'", "authentication_error", code="missing_api_key"
        )
    app = await gw.app_for_key(key.strip())
    if app is None:
        raise ApiError(401, "unknown API key", "authentication_error", code="invalid_api_key")
    wait = gw.limiter.acquire(app.id, app.rate_limit_per_minute)
    if wait:
        gw.metrics.rate_limited.labels(app.name).inc()
        raise ApiError(
            429,
            f"rate limit of {app.rate_limit_per_minute} requests per minute exceeded for this app; retry in {wait} s",
            "rate_limit_error",
            code="rate_limited",
            headers={"Retry-After": str(wait)},
        )
    return app


AppDep = Annotated[AppRecord, Depends(authenticated_app)]


async def operator_app(request: Request, gw: GatewayDep) -> AppRecord:
    """The operator's app, by its API key (no rate limit: operator calls manage guardians and holds)."""
    app = await gw.app_for_key(bearer(request))
    if app is None:
        raise ApiError(401, "unknown API key", "authentication_error", code="invalid_api_key")
    return app


OperatorDep = Annotated[AppRecord, Depends(operator_app)]


async def current_guardian(request: Request, privacy: PrivacyDep) -> GuardianRecord:
    """The guardian, by their bearer token."""
    token = bearer(request)
    guardian = await asyncio.to_thread(privacy.guardians.by_token, token)
    if guardian is None:
        raise ApiError(401, "unknown guardian token", "authentication_error", code="invalid_guardian_token")
    return guardian


GuardianDep = Annotated[GuardianRecord, Depends(current_guardian)]

ChildHeader = Annotated[str | None, Header(alias="X-Childsafe-Child")]
ConversationHeader = Annotated[str | None, Header(alias="X-Childsafe-Conversation")]
AgeHeader = Annotated[str | None, Header(alias="X-Childsafe-Age")]
