"""Security headers on every response, and who may read ``/metrics``.

Plain ASGI (like the gateway's other middleware) so streamed replies pass through untouched.
"""

from __future__ import annotations

import ipaddress
import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from childsafe.gateway.errors import error_body

# The pages use no script at all and one inline stylesheet; nothing may frame them or load from elsewhere.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),  # case and appeal ids in URLs must not leak to other sites
    (b"cache-control", b"no-store"),  # pages, exports and answers about children stay out of shared caches
)
_NAMES = {name for name, _ in _HEADERS} | {b"content-security-policy"}
# Swagger UI and ReDoc load scripts from a CDN; they get the other headers but not the CSP (only when enabled).
DOCS_PATHS = ("/docs", "/redoc")
_FORWARDING_HEADERS = {b"forwarded", b"x-forwarded-for", b"x-real-ip"}


def _direct_loopback(scope: Scope) -> bool:
    """A client on this machine talking to us directly, not a local reverse proxy relaying someone else."""
    client = scope.get("client")
    if not client:
        return False
    try:
        loopback = ipaddress.ip_address(str(client[0])).is_loopback
    except ValueError:
        return False
    return loopback and not any(name in _FORWARDING_HEADERS for name, _ in scope.get("headers", []))


class SecurityHeadersMiddleware:
    """Adds CSP, X-Frame-Options DENY, nosniff, no-referrer and Cache-Control no-store to every response (pages,
    exports and API answers alike: all of them may carry a child's data), and guards ``/metrics``.

    ``metrics``: "loopback" serves it only to direct loopback clients, "on" to everyone, "off" to no one.
    """

    def __init__(self, app: ASGIApp, metrics: str = "loopback") -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        csp = not path.startswith(DOCS_PATHS)

        async def with_headers(msg: Message) -> None:
            if msg["type"] == "http.response.start":
                headers = [(k, v) for k, v in msg.get("headers", []) if k.lower() not in _NAMES]
                headers.extend(_HEADERS)
                if csp:
                    headers.append((b"content-security-policy", CONTENT_SECURITY_POLICY.encode()))
                msg = {**msg, "headers": headers}
            await send(msg)

        if path.rstrip("/") == "/metrics" and not self._metrics_allowed(scope):
            await self._refuse_metrics(with_headers)
            return
        await self.app(scope, receive, with_headers)

    def _metrics_allowed(self, scope: Scope) -> bool:
        if self.metrics == "on":
            return True
        return self.metrics == "loopback" and _direct_loopback(scope)

    async def _refuse_metrics(self, send: Send) -> None:
        why = "off" if self.metrics == "off" else "served only to clients on this machine (not through a proxy)"
        body = json.dumps(
            error_body(f"/metrics is {why}; see the server.web.metrics setting", "forbidden", code="forbidden")
        ).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 403, "headers": headers})
        await send({"type": "http.response.body", "body": body})
