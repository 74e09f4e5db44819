"""The policy file format: a validated table of rules (category x age band x role x score -> action)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from childsafe.config import ConfigError, format_validation_error, parse_yaml
from childsafe.types import Action, AgeBand, Category, Role


class Rule(BaseModel):
    """One row of the policy table."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(..., min_length=1)
    category: Category
    min_score: float = Field(..., ge=0.0, le=1.0)
    action: Action
    bands: tuple[AgeBand, ...] | None = None
    roles: tuple[Role, ...] | None = None
    reason: str | None = None

    @field_validator("bands", mode="before")
    @classmethod
    def _bands(cls, v: Any) -> Any:
        if v is None:
            return None
        if not isinstance(v, list | tuple):
            raise ValueError("bands must be a list of age bands")
        return tuple(AgeBand.parse(x) for x in v)

    @field_validator("roles", mode="before")
    @classmethod
    def _roles(cls, v: Any) -> Any:
        if v is None:
            return None
        if not isinstance(v, list | tuple):
            raise ValueError("roles must be a list of roles")
        return tuple(Role.parse(x) for x in v)

    def applies(self, band: AgeBand, role: Role) -> bool:
        return (self.bands is None or band in self.bands) and (self.roles is None or role in self.roles)


class Policy(BaseModel):
    """A whole policy: a version string and its rules."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str = Field(..., min_length=1)
    definitions: dict[str, Any] | None = Field(None, description="YAML anchors; ignored by the evaluator")
    rules: tuple[Rule, ...]

    @model_validator(mode="after")
    def _unique_ids(self) -> Policy:
        seen: set[str] = set()
        for r in self.rules:
            if r.id in seen:
                raise ValueError(f"duplicate rule id {r.id!r}")
            seen.add(r.id)
        return self


def parse_policy(text: str, source: str) -> Policy:
    data = parse_yaml(text, source)
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: a policy must be a mapping with 'version' and 'rules'")
    try:
        return Policy.model_validate(data)
    except ValidationError as err:
        raise ConfigError(format_validation_error(err, source, text)) from None


def load_policy(path: str | Path | None = None) -> Policy:
    """Load a policy file, or the shipped default when ``path`` is None."""
    if path is None:
        text = resources.files("childsafe.policy").joinpath("defaults/policy.yaml").read_text(encoding="utf-8")
        return parse_policy(text, "default policy")
    p = Path(path)
    if not p.exists():
        raise ConfigError(f"policy file not found: {p}")
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read policy file {p}: {exc}") from None
    return parse_policy(text, str(p))
