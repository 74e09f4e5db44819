"""Request and response schemas per route (OpenAI-compatible where the route is)."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from childsafe.gateway.errors import field_name

LanguageCode = Literal["en", "es", "fr", "de", "pt", "it", "ar", "hi", "zh", "ru", "tr"]


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: str = Field(min_length=1)
    content: str | list[ContentPart] | None = None


class ChatCompletionRequest(BaseModel):
    """OpenAI chat completion request; unknown options are forwarded to the upstream unchanged."""

    model_config = ConfigDict(extra="allow")
    model: str = Field(min_length=1)
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    user: str | None = None
    n: int | None = Field(None, ge=1, le=1)


class ChildsafeInfo(BaseModel):
    """Machine-readable outcome attached to every chat response (top level; first and last stream chunk)."""

    action: str
    categories: list[str]
    decision_id: str | None
    disclosure: dict[str, Any]
    stage: Literal["input", "output"] = "output"


class ModerationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    input: str | list[str]
    model: str | None = None
    age: str | int | None = Field(None, description="childsafe extension: age or age band of the reader")
    role: str = Field("child", description="childsafe extension: who wrote the text")
    language: LanguageCode | None = Field(
        None, description="childsafe extension: the child's language (short or unsure text is read as it)"
    )


class ModerationChildsafe(BaseModel):
    action: str
    categories: list[str] = Field(description="childsafe's flagged categories (docs/taxonomy.md)")
    category_scores: dict[str, float] = Field(description="Every childsafe category's score, 0..1")
    decision_id: str
    reasons: list[str]
    age_band: str
    child_message: str | None


class ModerationResult(BaseModel):
    flagged: bool
    categories: dict[str, bool] = Field(description="OpenAI's category keys (gateway/openai_categories.py)")
    category_scores: dict[str, float]
    category_applied_input_types: dict[str, list[str]]
    childsafe: ModerationChildsafe


class ModerationResponse(BaseModel):
    id: str
    model: str
    results: list[ModerationResult]


class CheckMessage(BaseModel):
    role: str
    content: str


class CheckRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str | None = None
    messages: list[CheckMessage] | None = Field(None, min_length=1)
    age: str | int | None = None
    role: str = "child"
    language: LanguageCode | None = Field(
        None,
        description="The child's language: short or unsure text is read as it, and the child's message is "
        "in it unless the text's own language is clear",
    )


class ChildProfileRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1, max_length=256, description="The app's own id for the child")
    age: str | int


class ChildProfileResponse(BaseModel):
    id: str
    child_id: str
    age_band: str


class HealthResponse(BaseModel):
    status: str


class ReadyResponse(BaseModel):
    status: str
    checks: dict[str, Any]


# -- checks on what comes in ------------------------------------------------------------------------
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _join_path(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    name = field_name(key)  # the path goes into an error message: a key that is not a field name is not echoed
    return f"{path}.{name}" if path else name


def lone_surrogate_path(value: Any) -> str | None:
    """Path of the first string (or object key) holding a lone UTF-16 surrogate such as ``"\\ud800"``.

    JSON allows the escape, Python keeps it, but it is not Unicode text: it cannot be encoded as UTF-8 for the
    model server, the database or a hash, so it must be refused at the door rather than fail halfway through.
    Walks iteratively: a deeply nested extra field must not exhaust the stack.
    """
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, str):
            if _LONE_SURROGATE.search(node):
                return path or "(body)"
        elif isinstance(node, dict):
            children: list[tuple[str, Any]] = []
            for key, item in node.items():
                if _LONE_SURROGATE.search(str(key)):  # named with the escape, so the error itself can be sent
                    return _join_path(path, str(key).encode("utf-8", "backslashreplace").decode("utf-8"))
                children.append((_join_path(path, str(key)), item))
            stack.extend(reversed(children))
        elif isinstance(node, list | tuple):
            stack.extend(reversed([(_join_path(path, i), item) for i, item in enumerate(node)]))
    return None


# -- the allow-list for what goes out ---------------------------------------------------------------
# A model answer is rebuilt from these fields only; anything else the model server sends (logprobs, audio,
# annotations, vendor extensions) is dropped, because the gateway has not checked it.
CHECKED_TEXT_FIELDS = ("content", "refusal", "reasoning_content", "reasoning")
"""Message fields a client can show as text: checked together (content first), relayed only when allowed."""

FINISH_REASONS = frozenset({"stop", "length", "content_filter", "tool_calls", "function_call"})
_TOKEN = re.compile(r"[A-Za-z0-9_.:/@+\-]{1,128}")


def safe_token(value: Any, default: str) -> str:
    """An identifier copied from the model server (id, model or tool name) only if it cannot carry a sentence."""
    return value if isinstance(value, str) and _TOKEN.fullmatch(value) else default


def shown_text_fields(message: dict[str, Any]) -> list[tuple[str, str]]:
    """The message's non-empty text fields a client may show, in :data:`CHECKED_TEXT_FIELDS` order."""
    return [(name, text) for name in CHECKED_TEXT_FIELDS if isinstance(text := message.get(name), str) and text]


@dataclass(slots=True)
class ToolCall:
    """One function call of a model answer; its arguments are checked like the answer's text."""

    id: str
    name: str
    arguments: str

    def as_tool_call(self, index: int | None = None) -> dict[str, Any]:
        call: dict[str, Any] = {"id": self.id, "type": "function", "function": self.as_function_call()}
        return call if index is None else {"index": index, **call}

    def as_function_call(self) -> dict[str, Any]:
        return {"name": self.name, "arguments": self.arguments}


def _arguments(value: Any) -> str:
    if isinstance(value, str):
        return value
    return "" if value is None else json.dumps(value, ensure_ascii=False)


def tool_call(raw: Any) -> ToolCall | None:
    """A ``{"name", "arguments"}`` function (of a tool call, or the legacy ``function_call``), or None when it
    is malformed or its name is not an identifier (then it is dropped, never relayed unchecked)."""
    if not isinstance(raw, dict):
        return None
    name = raw.get("name")
    if not isinstance(name, str) or not _TOKEN.fullmatch(name):
        return None
    return ToolCall("call_" + uuid.uuid4().hex[:24], name, _arguments(raw.get("arguments")))


def tool_calls_of(message: dict[str, Any]) -> list[ToolCall]:
    raws = message.get("tool_calls")
    calls: list[ToolCall] = []
    for raw in raws if isinstance(raws, list) else []:
        call = tool_call(raw.get("function")) if isinstance(raw, dict) else None
        if call is not None:
            call.id = safe_token(raw.get("id"), call.id)
            calls.append(call)
    return calls


def finish_reason(upstream: Any, *, tool_calls: bool, function_call: bool) -> str:
    """The finish reason for what is relayed: a call reason only when a call is relayed, known values only."""
    if upstream == "length":
        return "length"
    if tool_calls:
        return "tool_calls"
    if function_call:
        return "function_call"
    return upstream if upstream in ("stop", "content_filter") else "stop"


_USAGE_COUNTS = ("prompt_tokens", "completion_tokens", "total_tokens")


def usage_counts(usage: Any) -> dict[str, Any] | None:
    """Token counts only (numbers cannot carry text); nested ``*_details`` keep their numbers."""
    if not isinstance(usage, dict):
        return None
    out: dict[str, Any] = {k: usage[k] for k in _USAGE_COUNTS if _is_count(usage.get(k))}
    for key, value in usage.items():
        if isinstance(key, str) and key.endswith("_details") and _TOKEN.fullmatch(key) and isinstance(value, dict):
            out[key] = {k: v for k, v in value.items() if isinstance(k, str) and _TOKEN.fullmatch(k) and _is_count(v)}
    return out


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
