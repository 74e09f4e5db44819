"""One pydantic root model for all of childsafe's configuration.

Config is data: YAML (or JSON) files plus ``CHILDSAFE_*`` environment overrides, validated with messages
that name the bad key and, for files, its line. No executable config.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from childsafe.types import ChildsafeError


class ConfigError(ChildsafeError):
    """A configuration file or value is invalid; the message names the key (and line when known)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EngineConfig(_Strict):
    detector_timeout_s: float = Field(2.0, gt=0, description="A detector slower than this fails closed")
    max_chunk_chars: int = Field(20_000, ge=1_000, description="Long texts are checked in chunks of this size")
    default_age: str = Field("10-12", description="Age or band used when a request gives none")


class ConversationConfig(_Strict):
    window: int = Field(50, ge=1, le=1000, description="Messages kept in full per conversation")
    model_dir: str | None = Field(
        None, description="Directory of a grooming model (grooming.npz + card.json); default: the packaged model"
    )
    message_grooming_cap: float = Field(
        0.2,
        ge=0.0,
        le=1.0,
        description="Inside a conversation, one message's own grooming score is capped here (below the policy's "
        "grooming.warn) and the conversation risk decides: one ambiguous message (asking age, a compliment, "
        "'don't tell your sister') is evidence, not a verdict. 1.0 turns the cap off.",
    )
    multilingual: bool = Field(
        True,
        description="Read messages in the ten languages besides English with the multilingual model's grooming "
        "reading instead of the English message model (docs/languages.md). Off: every message is read by the "
        "message model, which reads next to nothing in other languages.",
    )
    hold_below_alert: bool = Field(
        False,
        description="Keep a conversation's highest risk for every later message even below the alert level (the "
        "grooming model's threshold, 0.5). Off (default), for messages checked one at a time (the gateway's chat, "
        "Engine.monitor): from the alert level on the risk stands; below it the risk is the conversation's "
        "current reading, so a passing suspicion (a warning, a precautionary block) lapses when the conversation "
        "goes back to ordinary talk, a message that itself shows a grooming stage gets the highest risk so far, "
        "and one uncertain sexual_minors reading (below 0.85) is acted on at its own message only. A transcript "
        "checked at once (check_messages, /v1/check with messages) always holds: nothing earlier in it was acted on.",
    )


class StoreConfig(_Strict):
    url: str | None = Field(None, description="SQLAlchemy URL; default: SQLite file in data_dir")
    data_dir: str = Field("./childsafe-data", description="Where the embedded SQLite database lives")
    store_messages: bool = Field(False, description="Store (encrypted) message text; off = only hashes")
    retention_days: int = Field(30, ge=0, description="How long stored message text is kept")
    encryption_key: str | None = Field(None, description="Base64 master key; default: generated in data_dir")


class UpstreamConfig(_Strict):
    url: str | None = Field(None, description="OpenAI-compatible base URL, e.g. http://127.0.0.1:8000/v1")
    api_key: str | None = None
    model: str | None = Field(None, description="Model name to force; default: the client's")
    timeout_s: float = Field(60.0, gt=0)


class AppKeyConfig(_Strict):
    name: str
    key: str = Field(..., min_length=1, description="API key given to the app (stored hashed)")
    rate_limit_per_minute: int = Field(600, ge=1)


class LimitsConfig(_Strict):
    """Bounds on the work one request may cause, refused before any safety check runs."""

    max_messages: int = Field(500, ge=1, description="Messages (moderation: texts) per request; more is a 413")
    max_checked_chars: int = Field(
        200_000, ge=1_000, description="Characters of text to check per request (chat: user and assistant messages)"
    )
    chars_per_rate_unit: int = Field(
        2_000, ge=1, description="Each request costs one rate-limit unit plus one per this many checked characters"
    )
    messages_per_rate_unit: int = Field(
        20, ge=1, description="A request also costs one unit per this many checked texts (each check costs too)"
    )


class WebConfig(_Strict):
    """Exposure of the browser-facing parts: session cookies, the API docs pages and the metrics endpoint."""

    secure_cookies: bool | None = Field(
        None,
        description="Mark session cookies Secure (HTTPS only). Default: on, except with --demo and for plain-http "
        "requests addressed to a loopback host (no network sees those)",
    )
    docs: bool | None = Field(None, description="Serve /docs, /redoc and /openapi.json. Default: only with --demo")
    metrics: Literal["loopback", "on", "off"] = Field(
        "loopback",
        description="/metrics: 'loopback' serves only direct loopback clients (not requests relayed by a proxy), "
        "'on' serves everyone, 'off' no one",
    )


class ServerConfig(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    max_body_bytes: int = Field(1_000_000, ge=1024)
    auto_create_children: bool = Field(False, description="Unknown child ids get a profile (default age)")
    show_disclosure: bool = Field(True, description="Show the AI disclosure to the child at session start")
    public_url: str | None = Field(
        None,
        pattern=r"^https?://[^\s?#]+$",
        description="The gateway's address as children's devices reach it (https://safety.example.com), for the "
        "appeal link in a child's block message; default: the address the request was sent to",
    )
    stream_window_chars: int = Field(200, ge=20, description="Streamed output is checked in windows this big")
    worker_threads: int = Field(
        32,
        ge=1,
        le=512,
        description="Threads running safety checks and database calls; more requests in flight at once let the "
        "classifier score them in shared batches",
    )
    apps: list[AppKeyConfig] = Field(default_factory=list)
    upstream: UpstreamConfig = Field(default_factory=UpstreamConfig)
    limits: LimitsConfig = Field(default_factory=LimitsConfig)
    web: WebConfig = Field(default_factory=WebConfig)
    demo: bool = False


class AuditConfig(_Strict):
    signing_key: str | None = Field(None, description="Base64 Ed25519 seed; default: generated in store.data_dir")
    checkpoint_every: int = Field(100, ge=1, description="Sign a checkpoint every N events")
    checkpoint_minutes: float = Field(
        5.0, gt=0, description="The gateway also signs the newest event this often (when new events came)"
    )
    checkpoint_dir: str | None = Field(
        None,
        description="Where the gateway appends each signed checkpoint (audit-checkpoints.jsonl), so removing the "
        "newest events is detected; set it outside the data folder (another disk, an append-only mount). "
        "Default: store.data_dir",
    )
    only_flagged: bool = Field(False, description="Log only decisions other than allow")


class WebhookAlertConfig(_Strict):
    url: str = Field(..., pattern=r"^https?://\S+$", description="Where alerts are POSTed as JSON")
    secret: str = Field(
        ...,
        min_length=16,
        description="HMAC-SHA256 key; each POST carries X-Childsafe-Signature: sha256=<hex of "
        "'<X-Childsafe-Timestamp>.<body>'>",
    )
    timeout_s: float = Field(10.0, gt=0)


class EmailAlertConfig(_Strict):
    host: str = Field(..., min_length=1, description="SMTP server")
    port: int = Field(587, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = Field("starttls", description="'none' only for a local relay")
    username: str | None = None
    password: str | None = Field(None, description="Better set by CHILDSAFE_REVIEW__ALERTS__EMAIL__PASSWORD")
    sender: str = Field(..., min_length=3, description="From address")
    to: list[str] = Field(..., min_length=1, description="Recipients (the on-call moderators)")
    timeout_s: float = Field(10.0, gt=0)


class AlertsConfig(_Strict):
    """Alerts for severity-1 cases (self_harm, grooming, sexual_minors, report): ids, categories, due time and
    a link to the case page only, never the child's words."""

    webhook: WebhookAlertConfig | None = None
    email: EmailAlertConfig | None = None
    base_url: str | None = Field(
        None,
        pattern=r"^https?://\S+$",
        description="The console's address for the case link; default: http://server.host:server.port",
    )
    retries: int = Field(5, ge=0, le=20, description="Further tries after a failed delivery, per channel")
    backoff_s: float = Field(5.0, gt=0, description="Wait before the first retry, doubled each time (max 15 min)")


class ReviewConfig(_Strict):
    sla_hours: dict[int, float] = Field(
        default_factory=lambda: {1: 1.0, 2: 24.0, 3: 72.0}, description="Hours to decide a case, per severity"
    )
    appeal_sla_hours: float = Field(48.0, gt=0)
    queue_without_child: bool = Field(
        False,
        description="Escalations of calls naming no child (/v1/check, /v1/moderations without X-Childsafe-Child) "
        "also become review cases; the decision is recorded and audited either way",
    )
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)


class ReportingConfig(_Strict):
    org_name: str = "childsafe operator (set reporting.org_name)"
    contact_name: str = "Trust & Safety"
    contact_email: str = "safety@example.invalid"
    contact_phone: str | None = None
    hold_days: int = Field(365, ge=365, description="Legal hold for preserved evidence; at least one year")
    endpoint: str | None = Field(None, description="Submission endpoint for incident reports")


def _default_detectors() -> dict[str, dict[str, Any]]:
    return {
        "lexicon": {},
        "composition": {},
        "classifier": {},
        "personal_info": {},
        "grooming_stages": {},
        "grooming_stages_ml": {},
        "grooming_text": {},
        "multilingual": {},
    }


LANGUAGE_CODES = ("en", "es", "fr", "de", "pt", "it", "ar", "hi", "zh", "ru", "tr")
"""The languages childsafe detects in and explains in (``childsafe.text.language.SUPPORTED``)."""


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


class Config(_Strict):
    """The root configuration. Every section has safe defaults, so ``Config()`` runs everything."""

    version: Literal[1] = 1
    policy: str | None = Field(None, description="Path to a policy YAML; default: the shipped policy")
    language: Literal["en", "es", "fr", "de", "pt", "it", "ar", "hi", "zh", "ru", "tr"] = Field(
        "en",
        description="The deployment's language: child messages are in the message's own language when it is "
        "identified, otherwise in this one; a short or unsure message is checked as this language too",
    )
    unsupported_language: Literal["allow", "warn", "review", "block"] = Field(
        "review",
        description="What happens to a message in a language childsafe has no detection for, at the child bands, "
        "when any risk signal fires: allow (policy as usual), warn (at least a warning), review (escalated to a "
        "person), block",
    )
    country: str | None = Field(
        None,
        pattern=r"^[A-Z]{2}$",
        description="ISO 3166 country code whose helplines the crisis message names; default: by language "
        "(en: GB and US)",
    )
    helplines: dict[str, list[str]] = Field(
        default_factory=dict,
        description='Helplines per country code, as shown to a child ("0800 1111 (Childline)"); replaces the '
        "shipped entry for that country",
    )
    detectors: dict[str, dict[str, Any]] = Field(
        default_factory=lambda: _default_detectors(),
        description="Detectors to run, by name, with their options",
    )
    engine: EngineConfig = Field(default_factory=EngineConfig)
    conversation: ConversationConfig = Field(default_factory=ConversationConfig)
    store: StoreConfig = Field(default_factory=StoreConfig)
    server: ServerConfig = Field(default_factory=ServerConfig)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
    audit: AuditConfig = Field(default_factory=AuditConfig)
    review: ReviewConfig = Field(default_factory=ReviewConfig)
    reporting: ReportingConfig = Field(default_factory=ReportingConfig)


def _line_of(text: str, loc: tuple[int | str, ...]) -> int | None:
    """Best-effort line number of a key path in YAML text."""
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            found = None
            for k, v in node.value:
                if str(k.value) == str(part):
                    found = (k, v)
                    break
            if found is None:
                return None
            key_node, node = found
            last_line = key_node.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            last_line = node.start_mark.line + 1
        else:
            return None
    return last_line if loc else None


def format_validation_error(err: ValidationError, source: str | None = None, text: str | None = None) -> str:
    lines = []
    for e in err.errors():
        loc = tuple(e["loc"])
        key = ".".join(str(p) for p in loc) or "(root)"
        where = ""
        if text is not None:
            line = _line_of(text, loc) or _line_of(text, loc[:-1])
            if line is not None:
                where = f" (line {line})"
        prefix = f"{source}: " if source else ""
        msg = e["msg"]
        if e["type"] == "extra_forbidden":
            msg = "unknown key"
        lines.append(f"{prefix}{key}{where}: {msg}")
    return "\n".join(lines)


def parse_yaml(text: str, source: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise ConfigError(f"{source}{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from None


def _env_overrides(data: dict[str, Any]) -> dict[str, Any]:
    """``CHILDSAFE_SECTION__KEY=value`` overrides ``section.key`` (values parsed as YAML scalars)."""
    for name, value in os.environ.items():
        if not name.startswith("CHILDSAFE_") or "__" not in name:
            continue
        path = name[len("CHILDSAFE_") :].lower().split("__")
        node = data
        for part in path[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                break
        else:
            node[path[-1]] = yaml.safe_load(value)
    return data


def load_config(path: str | os.PathLike[str] | None = None, *, env: bool = True) -> Config:
    """Load and validate config from ``path`` (YAML/JSON) or ``$CHILDSAFE_CONFIG``; defaults otherwise."""
    if path is None:
        path = os.environ.get("CHILDSAFE_CONFIG") or None
    data: dict[str, Any] = {}
    text: str | None = None
    source: str | None = None
    if path is not None:
        p = Path(path)
        source = str(p)
        if not p.exists():
            raise ConfigError(f"config file not found: {p}")
        try:
            text = p.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read config file {p}: {exc}") from None
        loaded = parse_yaml(text, source)
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ConfigError(f"{source}: the top level must be a mapping of sections")
        data = loaded
    if env:
        data = _env_overrides(data)
    try:
        return Config.model_validate(data)
    except ValidationError as err:
        raise ConfigError(format_validation_error(err, source, text)) from None
