"""Privacy settings (read from ``config.privacy`` when the config has that section, else the defaults).

The models are the config's ``privacy`` section (``childsafe.config``): the config depends on nothing above it.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from childsafe.config import PrivacySettings, RetentionSettings

__all__ = ["PrivacySettings", "RetentionSettings", "privacy_settings"]


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
