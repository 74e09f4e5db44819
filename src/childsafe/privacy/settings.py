"""Privacy settings (read from ``config.privacy`` when the config has that section, else the defaults)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class RetentionSettings(BaseModel):
    """Days each kind of data is kept; short by default (data minimisation)."""

    model_config = ConfigDict(extra="forbid")

    messages: int = Field(30, ge=0, description="Stored (encrypted) message text")
    decisions: int = Field(90, ge=0, description="Safety decisions (hashes, categories, redacted excerpts)")
    conversations: int = Field(30, ge=0, description="Conversation risk state, counted from the last message")
    usage: int = Field(30, ge=0, description="Daily usage minutes for healthy-use limits")
    upstream_errors: int = Field(30, ge=0, description="Upstream failure records")


class PrivacySettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    consent_required: bool = Field(
        False,
        description="Refuse children without a guardian's 'safety_checking' consent; children linked to a "
        "guardian are always held to their consent records",
    )
    refuse_without_storage_consent: bool = Field(
        False,
        description="When message storage is on, refuse (403) a managed child without 'conversation_storage' "
        "consent instead of serving them without storing their messages",
    )
    notice_version: str = Field("1", min_length=1, max_length=40, description="Current privacy notice version")
    retention: RetentionSettings = Field(default_factory=RetentionSettings)


def privacy_settings(config: Any) -> PrivacySettings:
    """``config.privacy`` if present (a PrivacySettings or a mapping), else the defaults."""
    raw = getattr(config, "privacy", None)
    if raw is None:
        return PrivacySettings()
    if isinstance(raw, PrivacySettings):
        return raw
    if isinstance(raw, BaseModel):
        return PrivacySettings.model_validate(raw.model_dump())
    return PrivacySettings.model_validate(raw)
