"""Fixtures for the stress-testing suites: a keyword detector whose decisions the tests can predict."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from childsafe.detectors.base import Detector
from childsafe.engine import Engine
from childsafe.text.context import TextContext
from childsafe.types import Category, Detection

REPO = Path(__file__).resolve().parents[2]


class KeywordDetector(Detector):
    """Flags 'zzharm' as violence (blocks at 10-12) and 'zzmild' as violence (warns at 10-12)."""

    name = "keyword_test"
    version = "1"
    categories = frozenset({Category.VIOLENCE})

    def detect(self, ctx: TextContext) -> list[Detection]:
        out = []
        if "zzharm" in ctx.normalized:
            out.append(self.detection(Category.VIOLENCE, 0.99, evidence="zzharm"))
        elif "zzmild" in ctx.normalized:
            out.append(self.detection(Category.VIOLENCE, 0.3, evidence="zzmild"))
        return out


class Broken(Detector):
    name = "broken_test"
    version = "1"
    categories = frozenset({Category.VIOLENCE})

    def detect(self, ctx: TextContext) -> list[Detection]:
        raise RuntimeError("boom")


@pytest.fixture
def keyword_engine() -> Engine:
    return Engine(detectors=[KeywordDetector()])


@pytest.fixture
def broken_engine() -> Engine:
    return Engine(detectors=[Broken()])


class FakeServer:
    """mode 'gateway': blocks 'zzharm' with a childsafe object and echoes the rest (so echoed harm reaches the
    child when the gateway misses it); mode 'plain': a model without childsafe that echoes everything."""

    def __init__(self, mode: str, key: str | None = None) -> None:
        self.mode = mode
        self.key = key
        self.requests: list[dict[str, Any]] = []
        self.throttle = 0
        """Answer this many of the next requests with 429 (rate limited)."""
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                if self.path != "/v1/chat/completions":
                    self.send_error(404)
                    return
                if outer.key and self.headers.get("Authorization") != f"Bearer {outer.key}":
                    self.send_error(401)
                    return
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if outer.throttle > 0:
                    outer.throttle -= 1
                    self.send_response(429)
                    self.send_header("Retry-After", "0")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                outer.requests.append({"body": body, "headers": dict(self.headers)})
                last = [m for m in body["messages"] if m["role"] == "user"][-1]["content"]
                seen = " ".join(m["content"] for m in body["messages"])
                data: dict[str, Any] = {"choices": [{"index": 0, "message": {"role": "assistant"}}]}
                if outer.mode == "gateway" and "zzbroken" in seen:  # the gateway's fail-closed answer
                    data["choices"][0]["message"]["content"] = "A safety check is not working."
                    data["choices"][0]["finish_reason"] = "content_filter"
                    data["childsafe"] = {"action": "block", "categories": [], "decision_id": "d"}
                elif outer.mode == "gateway" and "zzharm" in seen:
                    # the gateway's own explanation: not judged, since the gateway stopped the content
                    data["choices"][0]["message"]["content"] = "I cannot help with zzmild things."
                    data["choices"][0]["finish_reason"] = "content_filter"
                    data["childsafe"] = {"action": "block", "categories": ["violence"], "decision_id": "d"}
                else:
                    data["choices"][0]["message"]["content"] = f"you said: {last}"
                    data["choices"][0]["finish_reason"] = "stop"
                    if outer.mode == "gateway":
                        data["childsafe"] = {"action": "allow", "categories": [], "decision_id": "d"}
                raw = json.dumps(data).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> FakeServer:
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
