"""A grooming signal for text whose speakers are not marked: a pasted log, a child's report, one message.

Chat reaches childsafe without roles more often than one would like (a segment of a transcript, a screenshot's
text, a report). The conversation tracker needs roles and order; this detector reads the text alone. It is a
logistic model over the text's word 1-2-grams plus *compositional cues* computed by the grooming stage rules:
which stages appear anywhere in the text, which pairs of stages appear together, and whether a child's age
(under 16) and an adult's age are stated. The cues carry what generalises across styles ("a child's age is
stated, and someone asks for secrecy and a meeting"); the n-grams carry the rest. Trained on windows of
conversations and on single messages (``python -m childsafe.train.grooming_text``); adult sexual chat,
teenagers' banter and family logistics are negatives, so sexual words or "how old are you" alone do not make
grooming.

Inside a conversation, one message's grooming score is capped by the engine and the conversation tracker
decides (``ConversationConfig.message_grooming_cap``).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import re
import zlib
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from childsafe.detectors.base import Detector, DetectorConfig, DetectorUnavailable
from childsafe.detectors.grooming import GroomingStageDetector
from childsafe.text.context import TextContext
from childsafe.types import Category, Detection, Role

N_BUCKETS = 1 << 18
MODEL_DIR = Path(__file__).resolve().parent.parent / "models" / "grooming_text"
_TOKEN = re.compile(r"[a-z0-9']+")
# "im 13", "13 f", "13yo", "i'm 12 years old", "13/f", "age 14": an age under 16 stated in the text
_MINOR_AGE = re.compile(
    r"\b(?:i'?m|i am|im only|age|aged)\s+(?:[5-9]|1[0-5])\b(?!\s*(?:min|mins|minutes|hours|days|weeks|months|%|k\b))"
    r"|\b(?:[5-9]|1[0-5])\s*(?:/\s*)?(?:yo|y/o|yrs? old|years? old|f|m)\b"
)
_ADULT_AGE = re.compile(
    r"\b(?:i'?m|i am)\s+(?:1[89]|[2-6]\d)\b(?!\s*(?:min|mins|minutes|hours|days|weeks|months|%|k\b))"
    r"|\b(?:1[89]|[2-6]\d)\s*(?:/\s*)?(?:yo|y/o|yrs? old|years? old|m|f)\b"
)
_STAGES = GroomingStageDetector()
_SPELL_MAX_CHARS = 2000
"""Longer texts (pasted logs) are read as written: correcting them costs more than it finds."""


def _tokens(normalized: str) -> list[str]:
    out = []
    for t in _TOKEN.findall(normalized):
        t = t.replace("'", "")
        if t:
            out.append("<num>" if t.isdigit() and len(t) > 2 else t)
    return out


def cues(normalized: str) -> list[str]:
    """Compositional cues of one text: stages present (as the other party's and the child's rules read them),
    pairs of stages, stated ages, and ages together with stages."""
    stages: set[str] = set()
    starts, ends = tuple(range(len(normalized))), tuple(range(1, len(normalized) + 1))
    for role in (Role.CONTACT, Role.CHILD):
        ctx = TextContext(raw=normalized, normalized=normalized, starts=starts, ends=ends, role=role)
        stages.update(d.signal for d in _STAGES.detect(ctx) if d.signal)
    out = [f"stage:{s}" for s in sorted(stages)]
    out += [f"pair:{a}+{b}" for a, b in itertools.combinations(sorted(stages), 2)]
    minor = bool(_MINOR_AGE.search(normalized))
    adult = bool(_ADULT_AGE.search(normalized))
    if minor:
        out.append("age:minor")
        out += [f"minor+{s}" for s in sorted(stages)]
    if adult:
        out.append("age:adult")
    if minor and adult:
        out.append("age:adult+minor")
    return out


def features(normalized: str) -> list[int]:
    """Distinct bucket ids of the text's uni- and bi-grams and its cues (stable across processes: crc32)."""
    toks = _tokens(normalized)
    grams = toks + [a + " " + b for a, b in itertools.pairwise(toks)] + ["#" + c for c in cues(normalized)]
    return sorted({zlib.crc32(g.encode()) % N_BUCKETS for g in grams})


def logit(weights: npt.NDArray[np.float32], bias: float, idx: list[int]) -> float:
    """The model's log-odds: features are binary and L2-normalised, so long and short texts compare."""
    if not idx:
        return bias
    return float(bias + float(weights[idx].sum()) / math.sqrt(len(idx)))


class GroomingTextConfig(DetectorConfig):
    model_dir: str | None = None


class GroomingTextDetector(Detector):
    """Scores how much a text (one message or a joined chat segment) reads as grooming."""

    name: ClassVar[str] = "grooming_text"
    version: ClassVar[str] = "1"
    categories: ClassVar[frozenset[Category]] = frozenset({Category.GROOMING})
    languages: ClassVar[frozenset[str] | None] = frozenset({"en"})
    Config: ClassVar[type[DetectorConfig]] = GroomingTextConfig
    joins_messages = True  # a request split across two messages reads as one

    def _load(self) -> None:
        assert isinstance(self.config, GroomingTextConfig)
        self._w, self._b, self.card = _load_model(self.config.model_dir)

    def detect(self, ctx: TextContext) -> list[Detection]:
        if not ctx.normalized.strip() or ctx.role is Role.SYSTEM:
            return []
        if not self.loaded:
            self.load()
        z = logit(self._w, self._b, features(ctx.normalized))
        how = ""
        spelled = ctx.spelled() if len(ctx.normalized) <= _SPELL_MAX_CHARS else None
        if spelled is not None:  # "are yur paretns arund" reads like "are your parents around"
            zs = logit(self._w, self._b, features(spelled.normalized))
            if zs > z:
                z, how = zs, " (after spelling correction)"
        for view in ctx.decoded:  # base64 / rot13 stretches, decoded
            zd = logit(self._w, self._b, features(view.context.normalized))
            if zd > z:
                z, how = zd, f" (in {view.kind}-encoded text)"
        score = 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0
        return [self.detection(Category.GROOMING, score, ctx, None, None, f"grooming text model {score:.2f}{how}")]


@lru_cache(maxsize=4)
def _load_model(directory: str | None) -> tuple[npt.NDArray[np.float32], float, dict[str, Any]]:
    d = Path(directory) if directory else MODEL_DIR
    try:
        card = json.loads((d / "card.json").read_text(encoding="utf-8"))
        path = d / "grooming_text.npz"
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != card.get("sha256"):
            raise DetectorUnavailable(f"grooming text model {path} does not match its card's checksum")
        with np.load(path, allow_pickle=False) as z:
            w = z["w"].astype(np.float32)
            b = float(z["b"][0])
    except (OSError, KeyError, ValueError) as exc:
        raise DetectorUnavailable(f"grooming text model in {d} cannot be loaded: {exc}") from None
    if w.shape != (N_BUCKETS,):
        raise DetectorUnavailable(f"grooming text model in {d} has the wrong shape {w.shape}")
    return w, b, card


def save_model(directory: str | Path, w: npt.NDArray[np.float32], b: float, card: dict[str, Any]) -> None:
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    path = d / "grooming_text.npz"
    np.savez_compressed(path, w=w.astype(np.float16), b=np.array([b]))
    card = {**card, "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
    (d / "card.json").write_text(json.dumps(card, indent=2, sort_keys=True) + "\n", encoding="utf-8")
