"""A scripted, clearly labelled demo assistant speaking the OpenAI chat API (``childsafe serve --demo``).

It is not a model: it answers from a short script. Some scripted answers are deliberately unsafe so the
gateway's output checking can be seen working: say ``demo: unsafe answer`` or ``demo: dangerous answer``.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

DEMO_MODEL = "childsafe-demo-assistant"
DEMO_KEY = "demo"
DEMO_CHILD = "child-demo-11"
DEMO_CHILD_AGE = 11
LABEL = "(demo assistant) "

_SCRIPT: list[tuple[str, str]] = [
    (
        "demo: unsafe answer",
        "This is a scripted unsafe answer, so you can watch the gateway check what the model says. "
        "What is your home address and which school do you go to? "
        "Send me a picture of yourself and keep it our secret.",
    ),
    (
        "demo: dangerous answer",
        "This is a scripted dangerous answer. Here is how to make a bomb at home.",
    ),
    (
        "demo: long answer",
        "Here is a longer answer, streamed in small pieces. " * 12,
    ),
    ("hello", "Hello! I am a demo assistant. Ask me about animals, space or homework."),
    ("space", "Space is huge! The Sun is a star, and it is about 150 million kilometres away from Earth."),
    ("animal", "Octopuses have three hearts and can change colour to hide from other animals."),
]
_DEFAULT = (
    "I am only a small scripted demo, so I cannot really answer that. "
    "Try 'hello', 'space', 'animals', or 'demo: unsafe answer' to see output checking."
)


def scripted_reply(messages: list[Any]) -> str:
    last = ""
    for m in reversed(messages):
        if isinstance(m, dict) and m.get("role") == "user":
            content = m.get("content")
            last = (
                content
                if isinstance(content, str)
                else " ".join(p.get("text", "") for p in content or [] if isinstance(p, dict))
            )
            break
    low = last.lower()
    for trigger, reply in _SCRIPT:
        if trigger in low:
            return LABEL + reply
    return LABEL + _DEFAULT


def _completion(reply: str, model: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-demo-" + uuid.uuid4().hex[:16],
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": reply}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 0, "completion_tokens": len(reply.split()), "total_tokens": len(reply.split())},
    }


async def _stream(reply: str, model: str, piece: int = 12) -> AsyncIterator[bytes]:
    cid = "chatcmpl-demo-" + uuid.uuid4().hex[:16]
    created = int(time.time())

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        body = {
            "id": cid,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        return f"data: {json.dumps(body)}\n\n".encode()

    yield chunk({"role": "assistant", "content": ""})
    for i in range(0, len(reply), piece):
        yield chunk({"content": reply[i : i + piece]})
    yield chunk({}, "stop")
    yield b"data: [DONE]\n\n"


def create_demo_upstream() -> FastAPI:
    """The demo assistant as an ASGI app (served in-process by the gateway, or by uvicorn in benchmarks)."""
    app = FastAPI(title="childsafe demo assistant (scripted, not a model)")

    @app.post("/v1/chat/completions", response_model=None)
    async def chat(request: Request) -> Response:
        body = await request.json()
        reply = scripted_reply(body.get("messages") or [])
        model = str(body.get("model") or DEMO_MODEL)
        if body.get("stream"):
            return StreamingResponse(_stream(reply, model), media_type="text/event-stream")
        return JSONResponse(_completion(reply, model))

    return app
