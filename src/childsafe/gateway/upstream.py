"""Client for the OpenAI-compatible upstream model server; every failure becomes an :class:`UpstreamError`."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx


class UpstreamError(Exception):
    """The upstream failed; ``kind`` is a stable label (recorded and counted), ``status`` the client status."""

    def __init__(self, kind: str, status: int, message: str, upstream_status: int = 0) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status
        self.message = message
        self.upstream_status = upstream_status


def _http_failure(exc: httpx.HTTPError) -> UpstreamError:
    if isinstance(exc, httpx.TimeoutException):
        return UpstreamError("timeout", 504, "the model server did not answer in time")
    if isinstance(exc, httpx.ConnectError):
        return UpstreamError("connect", 502, "cannot connect to the model server")
    return UpstreamError("transport", 502, f"connection to the model server failed ({type(exc).__name__})")


def _status_failure(status: int) -> UpstreamError:
    if status >= 500:
        return UpstreamError("http_5xx", 502, f"the model server failed (HTTP {status})", status)
    return UpstreamError("http_4xx", 502, f"the model server rejected the request (HTTP {status})", status)


class UpstreamClient:
    """Posts chat completions to ``{base_url}/chat/completions`` with the configured key and timeout."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        timeout_s: float = 60.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/") + "/",
            headers=headers,
            timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 10.0)),
            limits=httpx.Limits(max_connections=256, max_keepalive_connections=128),
            transport=transport,
        )

    async def complete(self, payload: dict[str, Any]) -> dict[str, Any]:
        """A non-streaming completion, validated to have the fields the gateway needs."""
        try:
            resp = await self._client.post("chat/completions", json=payload)
        except httpx.HTTPError as exc:
            raise _http_failure(exc) from None
        if resp.status_code >= 400:
            raise _status_failure(resp.status_code)
        try:
            data = resp.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise UpstreamError("malformed", 502, "the model server sent a response that is not JSON") from None
        if not isinstance(data, dict) or not isinstance(data.get("choices"), list) or not data["choices"]:
            raise UpstreamError("malformed", 502, "the model server's response has no choices")
        for choice in data["choices"]:
            msg = choice.get("message") if isinstance(choice, dict) else None
            if not isinstance(msg, dict) or not isinstance(msg.get("content", ""), str | None):
                raise UpstreamError("malformed", 502, "the model server's response has a malformed message")
        return data

    async def open_stream(self, payload: dict[str, Any]) -> httpx.Response:
        """Start a streaming completion; raises before any byte is relayed if the upstream refuses."""
        req = self._client.build_request("POST", "chat/completions", json=payload)
        try:
            resp = await self._client.send(req, stream=True)
        except httpx.HTTPError as exc:
            raise _http_failure(exc) from None
        if resp.status_code >= 400:
            await resp.aclose()
            raise _status_failure(resp.status_code)
        if not resp.headers.get("content-type", "").startswith("text/event-stream"):
            await resp.aclose()
            raise UpstreamError("malformed", 502, "the model server did not answer with an event stream")
        return resp

    @staticmethod
    async def events(resp: httpx.Response) -> AsyncIterator[dict[str, Any]]:
        """Parsed SSE ``data:`` events until ``[DONE]``; malformed or failed streams raise UpstreamError."""
        finished = False
        try:
            async for line in resp.aiter_lines():
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    return
                try:
                    event = json.loads(data)
                except json.JSONDecodeError:
                    raise UpstreamError("malformed", 502, "the model server sent a malformed stream event") from None
                if not isinstance(event, dict):
                    raise UpstreamError("malformed", 502, "the model server sent a malformed stream event")
                if "error" in event:
                    raise UpstreamError("stream_error", 502, "the model server reported an error mid-stream")
                finished = finished or any(
                    isinstance(c, dict) and c.get("finish_reason") for c in event.get("choices") or []
                )
                yield event
            if not finished:
                # A stream cut before its end is not a complete answer, even if what came was safe.
                raise UpstreamError("truncated", 502, "the model server's stream ended early")
        except httpx.HTTPError as exc:
            raise _http_failure(exc) from None
        finally:
            await resp.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()
