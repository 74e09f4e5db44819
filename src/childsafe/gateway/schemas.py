"""Request and response schemas per route (OpenAI-compatible where the route is)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


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


class ModerationChildsafe(BaseModel):
    action: str
    categories: list[str]
    decision_id: str
    reasons: list[str]
    age_band: str
    child_message: str | None


class ModerationResult(BaseModel):
    flagged: bool
    categories: dict[str, bool]
    category_scores: dict[str, float]
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
