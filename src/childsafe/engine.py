"""The one entry point: content -> TextContext -> detectors -> policy -> effects.

The engine never imports a face (CLI, gateway) or a service (audit, review, reporting): those receive
events through the sinks the engine is given.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from childsafe.config import Config, ConfigError
from childsafe.conversation import ConversationTracker
from childsafe.detectors.base import Detector, DetectorUnavailable
from childsafe.events import DecisionEvent, EventKind, EventSink, sha256_text
from childsafe.explain import child_message, reviewer_explanation
from childsafe.plugins import PluginError, detector_class
from childsafe.policy import Policy, decide, load_policy
from childsafe.policy.evaluate import UNAVAILABLE_REASON, category_scores, route_unsupported_language
from childsafe.text.context import TextContext
from childsafe.text.language import LanguageGuess, identify, reads
from childsafe.text.language import warm as warm_language
from childsafe.types import (
    Action,
    AgeBand,
    Category,
    ChildsafeError,
    Decision,
    Detection,
    InvalidInputError,
    Message,
    Role,
    Span,
)

log = logging.getLogger("childsafe.engine")

_CHUNK_OVERLAP = 200


class Engine:
    """Checks text and conversations for harm to children and decides what to do.

    Build it once (``Engine.from_config(load_config(path))``) and share it: it is thread-safe for checks.
    """

    def __init__(
        self,
        detectors: Sequence[Detector] | None = None,
        policy: Policy | None = None,
        sinks: Iterable[EventSink] = (),
        config: Config | None = None,
        unavailable: dict[str, str] | None = None,
    ) -> None:
        self.config = config or Config()
        if detectors is None:
            built = _build_detectors(self.config)
            detectors, unavailable = built[0], {**built[1], **(unavailable or {})}
        self.detectors: list[Detector] = list(detectors)
        self.policy = policy or load_policy(self.config.policy)
        self.sinks: list[EventSink] = list(sinks)
        self.unavailable: dict[str, str] = dict(unavailable or {})
        """Detector name -> why it cannot run. Non-empty means every check fails closed."""
        self._warm = False

    @classmethod
    def from_config(cls, config: Config | None = None, sinks: Iterable[EventSink] = ()) -> Engine:
        return cls(config=config or Config(), sinks=sinks)

    # -- lifecycle ---------------------------------------------------------------------------------
    def warmup(self) -> dict[str, str]:
        """Load every detector now; returns the detectors that could not load (and fails closed for them)."""
        for det in self.detectors:
            if det.name in self.unavailable:
                continue
            try:
                det.load()
            except DetectorUnavailable as exc:
                self.unavailable[det.name] = str(exc)
            except Exception as exc:
                self.unavailable[det.name] = f"{type(exc).__name__}: {exc}"
        try:
            ConversationTracker(self.config.conversation).load()
        except Exception as exc:  # a conversation that cannot be followed must not pass as safe
            self.unavailable["conversation"] = f"{type(exc).__name__}: {exc}"
        try:
            warm_language()
        except Exception as exc:  # a message whose language cannot be told may skip the detector built for it
            self.unavailable["language"] = f"{type(exc).__name__}: {exc}"
        self._warm = True
        for name, why in self.unavailable.items():
            log.error("detector %s unavailable, content will be blocked: %s", name, why)
        return dict(self.unavailable)

    def health(self) -> dict[str, Any]:
        if not self._warm:
            self.warmup()
        return {
            "ok": not self.unavailable,
            "detectors": {d.name: d.version for d in self.detectors},
            "unavailable": dict(self.unavailable),
            "policy_version": self.policy.version,
        }

    # -- single texts ------------------------------------------------------------------------------
    def check(
        self,
        text: str,
        age: str | int | AgeBand | None = None,
        role: str | Role = Role.CHILD,
        metadata: dict[str, Any] | None = None,
        language: str | None = None,
    ) -> Decision:
        """Check one message written by ``role`` in a conversation with a child of ``age``.

        ``language`` is the child's language (default: the deployment's ``language``): a short or unsure
        message is checked as that language, and the child's message is in it unless the message's own
        language is clear."""
        band = self._band(age)
        r = Role.parse(role)
        detections, errors, ctx = self._detect_text_ctx(text, r, 0, language)
        decision = self._decide(text, detections, errors, band, r, ctx, language)
        self._emit(decision, text, "input" if r is Role.CHILD else "output", metadata)
        return decision

    def check_batch(
        self,
        texts: Sequence[str],
        age: str | int | AgeBand | None = None,
        role: str | Role = Role.CHILD,
        language: str | None = None,
    ) -> list[Decision]:
        """Check many independent messages; detectors that batch (the classifier) run much faster."""
        band = self._band(age)
        r = Role.parse(role)
        short = [i for i, t in enumerate(texts) if len(t) <= self.config.engine.max_chunk_chars]
        results: list[Decision | None] = [None] * len(texts)
        lang = self._language(language)
        ctxs = [TextContext.from_text(texts[i], r, 0, language=lang) for i in short]
        per_text: list[list[Detection]] = [[] for _ in short]
        errors: list[str] = list(self.unavailable)
        self._ensure_warm()
        for det in self._active():
            mine = [k for k, c in enumerate(ctxs) if reads(det.languages, c.language)]
            if not mine:
                continue
            started = time.perf_counter()
            try:
                out = det.detect_batch([ctxs[k] for k in mine])
            except Exception as exc:
                log.warning("detector %s failed on a batch: %s", det.name, type(exc).__name__)
                errors.append(det.name)
                continue
            budget = self.config.engine.detector_timeout_s * max(1, len(mine))
            if time.perf_counter() - started > budget:
                errors.append(det.name)
                continue
            for k, dets in zip(mine, out, strict=True):
                per_text[k].extend(dets)
        for k, i in enumerate(short):
            results[i] = self._decide(texts[i], per_text[k], errors, band, r, ctxs[k], language)
        for i, t in enumerate(texts):
            if results[i] is None:
                results[i] = self.check(t, age=band, role=r, language=language)
        return [d for d in results if d is not None]

    # -- conversations -----------------------------------------------------------------------------
    def monitor(
        self,
        age: str | int | AgeBand | None = None,
        state: dict[str, Any] | None = None,
        language: str | None = None,
        *,
        hold_below_alert: bool | None = None,
    ) -> ConversationMonitor:
        """A streaming conversation monitor; pass a saved ``state`` to resume one. ``hold_below_alert`` overrides
        ``conversation.hold_below_alert`` for this conversation."""
        return ConversationMonitor(self, age, state, language, hold_below_alert=hold_below_alert)

    def check_messages(
        self,
        messages: Sequence[Message | dict[str, Any]],
        age: str | int | AgeBand | None = None,
        metadata: dict[str, Any] | None = None,
        language: str | None = None,
    ) -> Decision:
        """Check a conversation: the newest message decides, earlier ones give context.

        The returned decision carries ``first_flag_index``: the first message at which the conversation
        was no longer allowed (None if it never was). Only this decision is emitted, so every finding of an
        earlier message stands for it (``hold_below_alert``): nothing earlier in the transcript was acted on.
        """
        msgs = [Message.parse(m) for m in messages]
        if not msgs:
            raise InvalidInputError("a conversation needs at least one message")
        mon = self.monitor(age, language=language, hold_below_alert=True)
        decision: Decision | None = None
        for i, m in enumerate(msgs):
            prev = msgs[i - 1].text if i and msgs[i - 1].role is m.role else None
            decision = mon.add(m, emit=False, previous=prev)
        assert decision is not None
        self._emit(decision, msgs[-1].text, "conversation", metadata)
        return decision

    # -- async -------------------------------------------------------------------------------------
    async def acheck(
        self,
        text: str,
        age: str | int | AgeBand | None = None,
        role: str | Role = Role.CHILD,
        metadata: dict[str, Any] | None = None,
        language: str | None = None,
    ) -> Decision:
        """Async :meth:`check` with a hard timeout: a hung detector fails closed."""
        band = self._band(age)
        r = Role.parse(role)
        timeout = self.config.engine.detector_timeout_s * max(1, len(self.detectors))
        try:
            return await asyncio.wait_for(asyncio.to_thread(self.check, text, band, r, metadata, language), timeout)
        except TimeoutError:
            return self._decide(text, [], ["timeout"], band, r, None, language)

    async def acheck_messages(
        self,
        messages: Sequence[Message | dict[str, Any]],
        age: str | int | AgeBand | None = None,
        metadata: dict[str, Any] | None = None,
        language: str | None = None,
    ) -> Decision:
        band = self._band(age)
        timeout = self.config.engine.detector_timeout_s * max(1, len(self.detectors)) * max(1, len(messages))
        try:
            return await asyncio.wait_for(
                asyncio.to_thread(self.check_messages, messages, band, metadata, language), timeout
            )
        except TimeoutError:
            last = Message.parse(messages[-1]) if messages else Message(Role.CHILD, "")
            return self._decide(last.text, [], ["timeout"], band, last.role, None, language)

    # -- internals ---------------------------------------------------------------------------------
    def _band(self, age: str | int | AgeBand | None) -> AgeBand:
        if age is None:
            return AgeBand.parse(self.config.engine.default_age)
        return AgeBand.parse(age)

    def _language(self, language: str | None) -> str:
        """The language a short or unsure message is taken to be: the child's, else the deployment's."""
        return language or self.config.language

    def _ensure_warm(self) -> None:
        if not self._warm:
            self.warmup()

    def _active(self) -> list[Detector]:
        return [d for d in self.detectors if d.name not in self.unavailable]

    def _detect_ctx(self, ctx: TextContext) -> tuple[list[Detection], list[str]]:
        self._ensure_warm()
        detections: list[Detection] = []
        errors: list[str] = list(self.unavailable)
        timeout = self.config.engine.detector_timeout_s
        for det in self._active():
            if not reads(det.languages, ctx.language):
                continue  # built for other languages: the multilingual detector reads this message
            started = time.perf_counter()
            try:
                found = det.detect(ctx)
            except Exception as exc:
                log.warning("detector %s failed: %s", det.name, type(exc).__name__)
                errors.append(det.name)
                continue
            if time.perf_counter() - started > timeout:
                # Too slow to trust in a live path: the result is discarded and the check fails closed.
                errors.append(f"{det.name} (timeout)")
                continue
            detections.extend(found)
        return detections, errors

    def _detect_joined(
        self, previous: str, text: str, role: Role, index: int, found: list[Detection], language: str | None = None
    ) -> list[Detection]:
        """Findings of the joining detectors on ``previous + text`` that the message alone does not have.

        They carry no span (the phrase straddles two messages), so they flag and explain but never redact."""
        joiners = [d for d in self._active() if d.joins_messages]
        size = self.config.engine.max_chunk_chars
        if not joiners or len(text) > size:
            return []
        joined = previous[-size // 2 :] + "\n" + text
        ctx = TextContext.from_text(joined, role, index, language=self._language(language))
        best = {(d.category, d.detector): d.score for d in found}
        out: list[Detection] = []
        for det in joiners:
            if not reads(det.languages, ctx.language):
                continue
            try:
                extra = det.detect(ctx)
            except Exception as exc:  # the message alone was checked; a failure here adds nothing
                log.warning("detector %s failed on joined messages: %s", det.name, type(exc).__name__)
                continue
            for d in extra:
                if d.score > best.get((d.category, d.detector), 0.0) and d.category is not Category.PERSONAL_INFO:
                    best[(d.category, d.detector)] = d.score
                    out.append(replace(d, span=None, evidence=f"with the previous message: {d.evidence}"))
        return out

    def _detect_text(
        self, text: str, role: Role, index: int, language: str | None = None
    ) -> tuple[list[Detection], list[str]]:
        """Detect on a text of any length: long texts are checked in overlapping chunks."""
        detections, errors, _ = self._detect_text_ctx(text, role, index, language)
        return detections, errors

    def _detect_text_ctx(
        self, text: str, role: Role, index: int, language: str | None = None
    ) -> tuple[list[Detection], list[str], TextContext | None]:
        """As :meth:`_detect_text`, also returning the context when the text fit in one chunk."""
        size = self.config.engine.max_chunk_chars
        lang = self._language(language)
        if len(text) <= size:
            ctx = TextContext.from_text(text, role, index, language=lang)
            return (*self._detect_ctx(ctx), ctx)
        detections: list[Detection] = []
        errors: list[str] = []
        step = size - _CHUNK_OVERLAP
        for offset in range(0, len(text), step):
            chunk = text[offset : offset + size]
            found, errs = self._detect_ctx(TextContext.from_text(chunk, role, index, language=lang))
            errors.extend(e for e in errs if e not in errors)
            for d in found:
                span = None if d.span is None else Span(d.span.start + offset, d.span.end + offset)
                detections.append(replace(d, span=span))
            if offset + size >= len(text):
                break
        return detections, errors, None

    def _decide(
        self,
        text: str,
        detections: list[Detection],
        errors: list[str],
        band: AgeBand,
        role: Role,
        ctx: TextContext | None = None,
        language: str | None = None,
    ) -> Decision:
        guess = ctx.language if ctx is not None else self._guess(text, language)
        decision = replace(decide(self.policy, detections, band, role, {"errors": errors}), language=guess.code)
        decision = route_unsupported_language(decision, guess.code, guess.supported, self.config.unsupported_language)
        unavailable = bool(errors)
        # The child is answered in the message's own language when it is clear, else in theirs (or the
        # deployment's).
        clear = guess.supported and guess.how in ("model", "script", "words", "romanised")
        explain = guess.code if clear else self._language(language)
        return replace(
            decision,
            child_message=child_message(
                decision,
                unavailable=unavailable and not decision.categories,
                language=explain,
                country=self.config.country,
                helplines=self.config.helplines,
            ),
            reviewer_explanation=reviewer_explanation(decision, text),
            redacted_text=redact(text, decision) if decision.action is Action.REDACT else None,
        )

    def _guess(self, text: str, language: str | None) -> LanguageGuess:
        try:
            return identify(text[:2000], self._language(language))
        except Exception as exc:  # identification is advice for routing and wording; the check goes on
            log.warning("language identification failed: %s", type(exc).__name__)
            return LanguageGuess(self._language(language), 0.0, True, (), "default")

    def _emit(self, decision: Decision, text: str, kind: EventKind, metadata: dict[str, Any] | None) -> None:
        if not self.sinks:
            return
        excerpt = None
        if decision.action is not Action.ALLOW:
            excerpt = redact(text, decision, mask_all=True)[:200]
        event = DecisionEvent(decision, kind, sha256_text(text), excerpt, dict(metadata or {}))
        for sink in self.sinks:
            try:
                sink.emit(event)
            except Exception:
                log.exception("event sink %s failed", type(sink).__name__)


class ConversationMonitor:
    """Checks a conversation one message at a time, keeping bounded state that can be saved and restored."""

    def __init__(
        self,
        engine: Engine,
        age: str | int | AgeBand | None = None,
        state: dict[str, Any] | None = None,
        language: str | None = None,
        *,
        hold_below_alert: bool | None = None,
    ):
        self.engine = engine
        state = dict(state or {})
        self.language: str | None = language or state.get("language")
        self.age_band = AgeBand.parse(state["age_band"]) if "age_band" in state and age is None else engine._band(age)
        config = engine.config.conversation
        if hold_below_alert is not None and hold_below_alert != config.hold_below_alert:
            config = config.model_copy(update={"hold_below_alert": hold_below_alert})
        self.tracker = ConversationTracker(config, state.get("tracker"))
        self.count = int(state.get("count", 0))
        self.first_flag_index: int | None = state.get("first_flag_index")

    def add(self, message: Message | dict[str, Any], emit: bool = True, previous: str | None = None) -> Decision:
        """Add the next message and return the decision for it in the context of the conversation.

        ``previous`` is the text of the same speaker's message just before this one, when the caller has it (a
        request's history, a transcript): phrase detectors also read the two joined, so a request split across
        messages is caught. The monitor itself keeps no message text."""
        msg = Message.parse(message)
        index = self.count
        self.count += 1
        lang = self.language
        detections, errors, ctx = self.engine._detect_text_ctx(msg.text, msg.role, index, lang)
        if previous:
            detections = detections + self.engine._detect_joined(previous, msg.text, msg.role, index, detections, lang)
        if ctx is None:  # a long text: the tracker sees its first chunk
            ctx = TextContext.from_text(
                msg.text[: self.engine.config.engine.max_chunk_chars],
                msg.role,
                index,
                language=self.engine._language(lang),
            )
        try:
            conv = self.tracker.add(ctx, detections)
        except Exception as exc:
            log.warning("conversation tracker failed: %s", type(exc).__name__)
            conv, errors = [], [*errors, "conversation"]
        decision = self.engine._decide(
            msg.text, self._capped(detections) + conv, errors, self.age_band, msg.role, ctx, lang
        )
        if decision.action is not Action.ALLOW and self.first_flag_index is None:
            self.first_flag_index = index
        decision = replace(
            decision,
            first_flag_index=self.first_flag_index,
            extra={**decision.extra, "message_index": index, "stages": [[s, i] for s, i in self.tracker.stages]},
        )
        if emit:
            self.engine._emit(decision, msg.text, "conversation", None)
        return decision

    def _capped(self, detections: list[Detection]) -> list[Detection]:
        """One message's grooming findings folded into one capped finding: the tracker has read them in full,
        and the conversation risk it returns decides (see ``ConversationConfig.message_grooming_cap``). Explicit
        phrases keep their say, as in the fusion: a rule finding from the policy's floor detectors at or above its
        ``strong_floor``."""
        own = [d for d in detections if d.category is Category.GROOMING]
        if not own:
            return detections
        fusion = self.engine.policy.fusion
        if fusion is not None and any(fusion.floors(d.detector, d.category, d.score) for d in own):
            return detections  # an explicit phrase ("don't tell your parents about us") stands on its own
        cap = self.engine.config.conversation.message_grooming_cap
        score = category_scores(own, fusion)[Category.GROOMING]
        if score <= cap:
            return detections
        parts = ", ".join(f"{d.detector} {d.score:.2f}" for d in own)
        folded = Detection(
            Category.GROOMING,
            cap,
            "message",
            own[0].detector_version,
            own[0].span,
            f"this message alone scores {score:.2f} ({parts}); capped at {cap}: the conversation risk decides",
            own[0].signal,
        )
        return [d for d in detections if d.category is not Category.GROOMING] + [folded]

    def state(self) -> dict[str, Any]:
        """JSON-serialisable, bounded state."""
        return {
            "age_band": self.age_band.value,
            "count": self.count,
            "first_flag_index": self.first_flag_index,
            "tracker": self.tracker.state(),
            **({"language": self.language} if self.language else {}),
        }


def redact(text: str, decision: Decision, mask_all: bool = False) -> str:
    """Replace the spans behind flagged categories (or every detection span) with ``[CATEGORY]``."""
    flagged = set(decision.categories)
    spans = sorted(
        {
            (d.span.start, d.span.end, d.category)
            for d in decision.detections
            if d.span is not None and (mask_all or d.category in flagged) and d.span.end > d.span.start
        }
    )
    out: list[str] = []
    pos = 0
    for start, end, cat in spans:
        if start < pos:
            start = pos
        if start >= end:
            continue
        out.append(text[pos:start])
        out.append(f"[{cat.value.upper()}]")
        pos = end
    out.append(text[pos:])
    return "".join(out)


def _build_detectors(config: Config) -> tuple[list[Detector], dict[str, str]]:
    detectors: list[Detector] = []
    unavailable: dict[str, str] = {}
    for name, options in config.detectors.items():
        try:
            cls = detector_class(name)
        except DetectorUnavailable as exc:
            unavailable[name] = str(exc)
            continue
        except PluginError as exc:
            raise ConfigError(str(exc)) from None
        opts = dict(options or {})
        if opts.get("enabled", True) is False:
            continue
        try:
            cfg = cls.Config.model_validate(opts)
        except Exception as exc:
            raise ConfigError(f"detectors.{name}: invalid options: {exc}") from None
        detectors.append(cls(cfg))
    return detectors, unavailable


_default_engine: Engine | None = None


def check(text: str, age: str | int | AgeBand | None = None, role: str | Role = Role.CHILD) -> Decision:
    """Check one message with a shared default engine (convenience for scripts)."""
    global _default_engine
    if _default_engine is None:
        _default_engine = Engine.from_config()
    return _default_engine.check(text, age=age, role=role)


__all__ = ["UNAVAILABLE_REASON", "Category", "ChildsafeError", "ConversationMonitor", "Engine", "check", "redact"]
