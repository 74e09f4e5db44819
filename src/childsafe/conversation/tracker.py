"""Streaming conversation risk: grooming stages, their order and a learned aggregate, updated per message."""

from __future__ import annotations

import math
from collections import deque
from typing import Any

import numpy as np
import numpy.typing as npt

from childsafe.config import ConversationConfig
from childsafe.conversation.model import (
    EMA_ALPHA,
    ESCALATION,
    HOT_LOGIT,
    OTHER_STAGES,
    PROBES,
    RECENT,
    SHRINK,
    STAGE_UNIT,
    GroomingModel,
    model_from,
)
from childsafe.conversation.multilingual import MultilingualReader, reader_from, reads_other
from childsafe.detectors.grooming import CHILD_DISCLOSURES, STAGES
from childsafe.text.context import TextContext
from childsafe.types import Category, Detection, InvalidInputError, Role

DETECTOR_NAME = "conversation"
STATE_VERSION = 1
_LOGIT_CLIP = 4.0
_ROLE_CODE = {Role.CHILD: "c", Role.CONTACT: "k", Role.ASSISTANT: "a", Role.SYSTEM: "s"}
_CODE_ROLE = {v: k for k, v in _ROLE_CODE.items()}
_STAGE_SET = frozenset(STAGES)
# A sexualised request aimed at a child is serious on its own, whatever the rest of the conversation says.
SEXUAL_MINORS_FLOOR = 0.85
# One or two messages from the other party can warn (0.3) but never escalate on their own ("hey, how old
# are you?" is also how children start chatting); sexualised requests still act at once (floor above).
_MIN_OTHER_MESSAGES = 3
_EARLY_CAP = 0.45


class ConversationTracker:
    """Bounded per-conversation state: a window of recent message features plus a running summary.

    ``add`` takes one message (its :class:`TextContext`) and what every per-message detector found on it,
    and returns conversation-level detections: ``grooming`` with the calibrated conversation risk, and
    ``sexual_minors`` when the other party sexualises the child or asks for images (a serious reading, 0.85 or
    more, stands; below it, only a conversation at the alert level with a sexualised stage repeats it). From the
    alert level (the model's threshold) on the risk stands; below it the risk is the current reading, except on a
    message that itself shows a stage, which gets the highest risk so far: a passing suspicion lapses, and cannot
    be repeated after a stretch of small talk (``hold_below_alert`` keeps the highest risk throughout). The state
    is the same size whatever the conversation length (``config.window`` recent messages plus fixed counters), is
    JSON-serialisable (:meth:`state`) and restores exactly (``ConversationTracker(state=saved)``).
    """

    def __init__(
        self,
        config: ConversationConfig | None = None,
        state: dict[str, Any] | None = None,
        *,
        model: GroomingModel | None = None,
    ) -> None:
        self.config = config if config is not None else ConversationConfig()
        self._model = model
        self._n = 0
        self._n_other = 0
        self._sum_logit = 0.0
        self._ema = 0.0
        self._peak_ema = 0.0
        self._hot = 0
        self._first: dict[str, int] = {}
        self._stage_max: dict[str, float] = {}
        self._sm_max = 0.0
        self._peak = 0.0
        self._risk = 0.0
        self._window: deque[tuple[int, str, float | None, list[str]]] = deque(maxlen=self.config.window)
        if state is not None:
            self._restore(state)

    @property
    def model(self) -> GroomingModel:
        if self._model is None:
            self._model = model_from(self.config.model_dir)
        return self._model

    @property
    def multilingual(self) -> MultilingualReader | None:
        """What reads non-English messages in place of the English message model (None: the message model reads
        every message; ``ConversationConfig.multilingual`` off, or an operator's model without a map)."""
        if not self.config.multilingual:
            return None
        return reader_from(self.config.model_dir)

    def load(self) -> None:
        """Load the message and conversation models, and the multilingual reading when it is on (the engine's
        warm-up: a damaged model is reported before the first message, not on it)."""
        _ = self.model
        _ = self.multilingual

    def _message_logit(self, ctx: TextContext) -> float:
        """The message model's logit, or for a message in another language the multilingual reading on its scale."""
        if self.config.multilingual and reads_other(ctx.language):
            reader = self.multilingual
            read = reader.logit(ctx) if reader is not None else None
            if read is not None:
                return read
        return self.model.message_logit(ctx.normalized)

    # -- streaming update -------------------------------------------------------------------------------

    def add(self, ctx: TextContext, detections: list[Detection]) -> list[Detection]:
        """Fold one message into the state and return the conversation-level detections after it."""
        index = ctx.index
        role = ctx.role
        # Read first: if the message cannot be read, the state is left as it was (the caller fails closed).
        read = self._message_logit(ctx) if role not in (Role.CHILD, Role.SYSTEM) else None
        self._n += 1
        if role is Role.SYSTEM:
            return self._detections()
        seen: list[str] = []
        for d in detections:
            if d.detector == DETECTOR_NAME:
                continue
            signal = d.signal if d.signal in _STAGE_SET else None
            if role is Role.CHILD:
                # The child's own questions are ordinary between kids; only their disclosures count.
                if signal in CHILD_DISCLOSURES:
                    self._note_stage(signal, index, d.score, seen)
                continue
            if signal is not None and signal not in CHILD_DISCLOSURES:
                self._note_stage(signal, index, d.score, seen)
            if d.category is Category.SEXUAL_MINORS:
                self._sm_max = max(self._sm_max, d.score)
        logit: float | None = None
        if read is not None:
            logit = max(-_LOGIT_CLIP, min(_LOGIT_CLIP, read))
            self._n_other += 1
            self._sum_logit += logit
            self._ema = (1 - EMA_ALPHA) * self._ema + EMA_ALPHA * logit
            self._peak_ema = max(self._peak_ema, self._ema)
            if logit >= HOT_LOGIT:
                self._hot += 1
        self._window.append((index, _ROLE_CODE[role], None if logit is None else round(logit, 4), seen))
        now = self.model.conversation_risk(self.features())
        if self._n_other < _MIN_OTHER_MESSAGES:
            now = min(now, _EARLY_CAP)
        if self._sm_max >= SEXUAL_MINORS_FLOOR:
            now = max(now, self._sm_max)
        # From the alert level on, risk only rises: a groomer changing the subject does not make the earlier
        # messages safe, and the conversation stays flagged. Below it the risk follows the current reading (whose
        # features keep the conversation's history: stage maxima, peak average), so a passing suspicion lapses
        # instead of stopping every later message. A message that itself shows a stage (a second "keep it
        # between us" after a stretch of small talk) is read against the conversation's worst so far, so a
        # suspicion cannot be diluted and then repeated.
        self._peak = max(self._peak, now)
        held = self.config.hold_below_alert or self._peak >= self.model.threshold or bool(seen)
        self._risk = self._peak if held else now
        return self._detections()

    def _note_stage(self, stage: str, index: int, score: float, seen: list[str]) -> None:
        if stage not in self._first:
            self._first[stage] = index
        self._stage_max[stage] = max(self._stage_max.get(stage, 0.0), score)
        if stage not in seen:
            seen.append(stage)

    def features(self) -> npt.NDArray[np.float64]:
        """The conversation feature vector (order: ``childsafe.conversation.model.FEATURES``)."""
        recent = [w for w in list(self._window)[-RECENT * 2 :] if w[2] is not None][-RECENT:]
        recent_sum = sum(w[2] for w in recent if w[2] is not None)
        recent_staged = sum(1 for w in recent if w[3])
        firsts_probe = [self._first[s] for s in PROBES if s in self._first]
        firsts_esc = [self._first[s] for s in ESCALATION if s in self._first]
        other_seen = [s for s in OTHER_STAGES if s in self._stage_max]
        values: list[float] = [
            self._sum_logit / (self._n_other + SHRINK),
            self._ema,
            self._peak_ema,
            self._hot / (self._n_other + SHRINK),
            recent_sum / (len(recent) + SHRINK),
            *(min(1.0, self._stage_max.get(s, 0.0) / STAGE_UNIT) for s in OTHER_STAGES),
            *(min(1.0, self._stage_max.get(s, 0.0) / STAGE_UNIT) for s in sorted(CHILD_DISCLOSURES)),
            min(len(other_seen), 6) / 6.0,
            1.0 if firsts_probe and firsts_esc and min(firsts_probe) < min(firsts_esc) else 0.0,
            1.0 if "secrecy" in self._stage_max and firsts_esc else 0.0,
            1.0 if "adult_age" in self._first and ("child_disclosure_age" in self._first or "age_probe" in self._first)
            else 0.0,
            self._sm_max,
            recent_staged / RECENT,
            1.0 - math.prod(1.0 - min(0.99, v) for v in self._stage_max.values()),
        ]
        return np.asarray(values, dtype=np.float64)

    # -- outputs ----------------------------------------------------------------------------------------

    def _evidence(self) -> str:
        firsts = sorted(self._first.items(), key=lambda kv: (kv[1], kv[0]))
        stages = ", ".join(f"{s}@{i}" for s, i in firsts) or "none"
        return f"stages: {stages}; conversation risk {self._risk:.2f} after {self._n} messages"

    def _detections(self) -> list[Detection]:
        if self._n_other == 0 and not self._first:
            return []
        version = self.model.version
        out = [Detection(Category.GROOMING, float(self._risk), DETECTOR_NAME, version, None, self._evidence(), None)]
        sexualising = "photo_request" in self._first or "sexual_talk" in self._first
        # A serious sexualised request stands for the rest of the conversation; an uncertain one (below the
        # floor) was acted on at its own message, and stands only when the conversation itself reaches the alert.
        serious = self._sm_max >= SEXUAL_MINORS_FLOOR or self.config.hold_below_alert
        sm = self._sm_max if serious else 0.0
        if sexualising and self._risk >= self.model.threshold:
            sm = max(sm, min(self._risk, 0.95))
        if sm > 0:
            out.append(
                Detection(
                    Category.SEXUAL_MINORS,
                    float(min(1.0, sm)),
                    DETECTOR_NAME,
                    version,
                    None,
                    "the other party sexualises the child or asks for images; " + self._evidence(),
                    "photo_request" if "photo_request" in self._first else "sexual_talk",
                )
            )
        return out

    @property
    def stages(self) -> list[tuple[str, int]]:
        """(stage, message index) seen so far: every stage's first sighting plus sightings in the window."""
        pairs = {(s, i) for s, i in self._first.items()}
        for index, _role, _logit, seen in self._window:
            pairs.update((s, index) for s in seen)
        return sorted(pairs, key=lambda p: (p[1], p[0]))

    @property
    def risk(self) -> float:
        return self._risk

    # -- persistence ------------------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """JSON-serialisable state; size is bounded by ``config.window`` and the number of stages."""
        return {
            "v": STATE_VERSION,
            "n": self._n,
            "n_other": self._n_other,
            "sum_logit": round(self._sum_logit, 6),
            "ema": round(self._ema, 6),
            "peak_ema": round(self._peak_ema, 6),
            "hot": self._hot,
            "first": dict(self._first),
            "stage_max": {k: round(v, 6) for k, v in self._stage_max.items()},
            "sm_max": round(self._sm_max, 6),
            "risk": round(self._risk, 6),
            "peak": round(self._peak, 6),
            "window": [[i, r, lg, list(s)] for i, r, lg, s in self._window],
        }

    def _restore(self, state: dict[str, Any]) -> None:
        if not isinstance(state, dict):
            raise InvalidInputError("conversation state must be an object")
        if state.get("v") != STATE_VERSION:
            raise InvalidInputError(f"conversation state has version {state.get('v')!r}, expected {STATE_VERSION}")
        try:
            self._n = int(state["n"])
            self._n_other = int(state["n_other"])
            self._sum_logit = float(state["sum_logit"])
            self._ema = float(state["ema"])
            self._peak_ema = float(state["peak_ema"])
            self._hot = int(state["hot"])
            self._first = {str(k): int(v) for k, v in dict(state["first"]).items() if k in _STAGE_SET}
            self._stage_max = {str(k): float(v) for k, v in dict(state["stage_max"]).items() if k in _STAGE_SET}
            self._sm_max = float(state["sm_max"])
            self._risk = float(state["risk"])
            # A state saved before the peak was kept apart held its peak as its risk.
            self._peak = float(state.get("peak", self._risk))
            for item in list(state["window"])[-self.config.window :]:
                index, code, logit, seen = item
                if code not in _CODE_ROLE:
                    raise ValueError(f"unknown role code {code!r}")
                self._window.append(
                    (int(index), str(code), None if logit is None else float(logit), [str(s) for s in seen])
                )
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInputError(f"conversation state is malformed: {exc}") from None
        if not 0.0 <= self._risk <= self._peak <= 1.0 or self._n < 0 or self._n_other < 0:
            raise InvalidInputError("conversation state is malformed: counters out of range")

