"""``create_app``: the gateway as a FastAPI application, built from one config."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from childsafe.config import Config
from childsafe.engine import Engine
from childsafe.gateway.demo import DEMO_CHILD, DEMO_CHILD_AGE, DEMO_KEY, create_demo_upstream
from childsafe.gateway.errors import (
    DATABASE_UNAVAILABLE_ERRORS,
    ApiError,
    error_body,
    handle_database_error,
    handle_http_error,
    handle_validation_error,
)
from childsafe.gateway.guardians import install_privacy
from childsafe.gateway.metrics import Metrics
from childsafe.gateway.oversight import install_oversight
from childsafe.gateway.routes import router
from childsafe.gateway.state import Gateway
from childsafe.gateway.upstream import UpstreamClient
from childsafe.gateway.web.headers import SecurityHeadersMiddleware
from childsafe.services import Services
from childsafe.store import Store
from childsafe.types import AgeBand

log = logging.getLogger("childsafe.gateway")

_PURGE_INTERVAL_S = 3600.0


class _BodyTooLarge(ApiError):
    """Raised while reading a body without Content-Length; an ApiError so FastAPI passes it through as 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body is larger than the limit of {limit} bytes", "request_too_large")


async def _send_json(send: Send, status: int, body: dict[str, Any]) -> None:
    raw = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": raw})


class GatewayMiddleware:
    """Body-size limit, request metrics, and a last line of defence: any unexpected error is a JSON 500.

    Written as plain ASGI (not BaseHTTPMiddleware) because it wraps every request, streaming included.
    """

    def __init__(self, app: ASGIApp, max_body_bytes: int, metrics: Metrics) -> None:
        self.app = app
        self.max_body = max_body_bytes
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500, "sent": False}
        limit = self.max_body
        too_large = error_body(f"request body is larger than the limit of {limit} bytes", "request_too_large")
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared > limit:
                    await _send_json(send, 413, too_large)
                    self._observe(scope, 413, started)
                    return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            msg = await receive()
            if msg["type"] == "http.request":
                received += len(msg.get("body", b""))
                if received > limit:
                    raise _BodyTooLarge(limit)
            return msg

        async def tracking_send(msg: Message) -> None:
            if msg["type"] == "http.response.start":
                status["code"] = int(msg["status"])
                status["sent"] = True
                self._observe(scope, status["code"], started)
            await send(msg)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _BodyTooLarge:
            if not status["sent"]:
                await _send_json(send, 413, too_large)
                self._observe(scope, 413, started)
        except Exception as exc:
            # Never a traceback to the client, and no exception text in logs (it could quote a child's message).
            log.error("unhandled %s on %s", type(exc).__name__, scope.get("path", "?"))
            if not status["sent"]:
                await _send_json(send, 500, error_body("internal error", "internal_error"))
                self._observe(scope, 500, started)

    def _observe(self, scope: Scope, status: int, started: float) -> None:
        route = scope.get("route")
        label = getattr(route, "path", None) or "unmatched"
        self.metrics.requests.labels(label, str(status)).inc()
        self.metrics.latency.labels(label).observe(time.perf_counter() - started)


def _upstream_for(config: Config) -> UpstreamClient | None:
    up = config.server.upstream
    if up.url:
        return UpstreamClient(up.url, up.api_key, up.timeout_s)
    if config.server.demo:
        transport = httpx.ASGITransport(app=create_demo_upstream())
        return UpstreamClient("http://demo-upstream/v1", None, up.timeout_s, transport=transport)
    return None


def create_app(
    config: Config | None = None,
    engine: Engine | None = None,
    store: Store | None = None,
    clock: Callable[[], datetime] | None = None,
) -> FastAPI:
    """Build the gateway. Opens (and migrates) the store unless one is given; a given engine gets the store's
    decision sink added to its sinks."""
    config = config or Config()
    services = Services.open(config, store=store, engine=engine, clock=clock, checking=True)
    gw = Gateway(services, _upstream_for(config), clock=clock)
    store = services.store
    for app_cfg in config.server.apps:
        gw.register_app(app_cfg.name, app_cfg.key, app_cfg.rate_limit_per_minute)
    if config.server.demo:
        demo_app = gw.register_app("demo", DEMO_KEY, 600)
        child = store.children.get_or_create(demo_app.id, DEMO_CHILD, AgeBand.from_age(DEMO_CHILD_AGE).value)
        gw.remember_child(DEMO_CHILD, child)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # asyncio's default pool has cpu_count + 4 threads: too few requests in flight for the classifier's
        # batcher to merge; the checks themselves release the GIL inside the model.
        executor = ThreadPoolExecutor(config.server.worker_threads, thread_name_prefix="childsafe-worker")
        asyncio.get_running_loop().set_default_executor(executor)
        await asyncio.to_thread(gw.engine.warmup)
        purger = asyncio.create_task(_purge_loop(gw))
        assert services.checkpoints is not None
        services.checkpoints.start()  # signed checkpoints shipped out (stopped by gw.aclose)
        try:
            yield
        finally:
            purger.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await purger
            await gw.aclose()
            executor.shutdown(wait=False)

    title = "childsafe gateway" + (" (DEMO: scripted assistant, not a real model)" if config.server.demo else "")
    web_cfg = config.server.web
    docs = config.server.demo if web_cfg.docs is None else web_cfg.docs  # API docs pages: demo only by default
    app = FastAPI(
        title=title,
        lifespan=lifespan,
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
    )
    app.state.gateway = gw
    app.state.services = services
    app.include_router(router)
    install_privacy(app, gw)  # guardian API and the consent + healthy-use gate
    install_oversight(app, gw)  # appeals API, review/guardian/appeal pages
    assert services.audit_sink is not None and services.journal is not None
    gw.metrics.watch_store({"decisions": gw.sink, "audit": services.audit_sink}, services.journal)
    app.add_exception_handler(StarletteHTTPException, handle_http_error)
    app.add_exception_handler(RequestValidationError, handle_validation_error)
    for error in DATABASE_UNAVAILABLE_ERRORS:  # every router: a locked or unreachable database is a 503
        app.add_exception_handler(error, handle_database_error)
    app.add_middleware(GatewayMiddleware, max_body_bytes=config.server.max_body_bytes, metrics=gw.metrics)
    app.add_middleware(SecurityHeadersMiddleware, metrics=web_cfg.metrics)  # outermost: on every response
    return app


async def _purge_loop(gw: Gateway) -> None:
    """Apply retention at start and then hourly: expired stored message text, and (with the privacy layer)
    every other kind of child data past its retention period."""
    while True:
        vault = gw.store.messages
        if vault is not None:
            try:
                removed = await asyncio.to_thread(vault.purge_expired)
                if removed:
                    log.info("purged %d expired stored messages", removed)
            except Exception as exc:
                log.error("message purge failed: %s", type(exc).__name__)
        privacy = gw.services.privacy
        if privacy is not None:
            try:
                counts = await asyncio.to_thread(privacy.purge)
                if any(counts.values()):
                    log.info("retention purge: %s", ", ".join(f"{k}={v}" for k, v in counts.items() if v))
            except Exception as exc:
                log.error("retention purge failed: %s", type(exc).__name__)
        await asyncio.sleep(_PURGE_INTERVAL_S)
