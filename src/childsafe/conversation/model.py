"""The learned parts of the conversation model, shared by training and run time.

Two small linear models, both stored as plain numpy arrays (``.npz``, no pickle) plus a JSON card:

* a **message model**: logistic regression over hashed word uni- and bi-grams of the normalised text of
  one message from the other party. It gives a per-message "sounds like a grooming transcript" logit.
* a **conversation model**: logistic regression over a fixed vector of conversation features (running
  and recent message logits, grooming stages seen and their order, the child's disclosures). Its output is
  the calibrated conversation risk.

Training (``python -m childsafe.train.grooming``) and the tracker call the same feature code below, so
what was measured is what runs.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import re
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from childsafe.detectors.grooming import CHILD_DISCLOSURES, STAGES, mask_stage_phrases
from childsafe.types import ChildsafeError

N_BUCKETS = 1 << 18
"""Hashed feature space of the message model."""

OTHER_STAGES: tuple[str, ...] = tuple(s for s in STAGES if s not in CHILD_DISCLOSURES)
ESCALATION: frozenset[str] = frozenset({"sexual_talk", "photo_request", "meeting", "off_platform", "desensitisation"})
PROBES: frozenset[str] = frozenset({"age_probe", "circumstance_probe"})

FEATURES: tuple[str, ...] = (
    "mean_logit_shrunk",
    "ema_logit",
    "peak_ema_logit",
    "hot_fraction_shrunk",
    "recent_mean_logit",
    *(f"stage:{s}" for s in OTHER_STAGES),
    *(f"child:{s}" for s in sorted(CHILD_DISCLOSURES)),
    "distinct_stages",
    "probe_then_escalation",
    "secrecy_with_escalation",
    "adult_and_child_age",
    "sexual_minors_max",
    "stage_density_recent",
    "stage_noisy_or",
)
"""Names of the conversation features, in vector order (written into the model card)."""

_TOKEN = re.compile(r"[a-z0-9']+")
EMA_ALPHA = 0.12
SHRINK = 4.0
HOT_LOGIT = 1.5
RECENT = 12
STAGE_UNIT = 0.15
"""A stage signal at this score (a typical contact-side rule) counts as fully present in the features."""


def tokens(normalized: str) -> list[str]:
    """Word tokens of normalised text: apostrophes dropped (so "i'm" and "im" agree), long numbers folded."""
    out: list[str] = []
    for t in _TOKEN.findall(normalized):
        t = t.replace("'", "")
        if not t:
            continue
        if t.isdigit() and len(t) > 2:
            t = "<num>"
        out.append(t)
    return out


def hashed_features(normalized: str) -> list[int]:
    """Distinct bucket ids of the uni- and bi-grams of one message (stable across processes: crc32).

    Stage phrases that children also use among themselves are masked first (see ``mask_stage_phrases``).
    """
    toks = tokens(mask_stage_phrases(normalized))
    grams = toks + [a + " " + b for a, b in itertools.pairwise(toks)]
    return sorted({zlib.crc32(g.encode()) % N_BUCKETS for g in grams})


def sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


@dataclass(frozen=True)
class GroomingModel:
    """Weights of the message and conversation models plus the card describing them."""

    msg_w: npt.NDArray[np.float32]
    msg_b: float
    conv_w: npt.NDArray[np.float64]
    conv_b: float
    card: dict[str, Any]

    @property
    def version(self) -> str:
        return str(self.card.get("version", "0"))

    @property
    def threshold(self) -> float:
        """Risk at which the validation F0.5 was best (recommended policy threshold)."""
        return float(self.card.get("threshold", 0.5))

    def message_logit(self, normalized: str) -> float:
        idx = hashed_features(normalized)
        if not idx:
            return 0.0
        return float(self.msg_b + float(self.msg_w[idx].sum()))

    def conversation_risk(self, features: npt.NDArray[np.float64]) -> float:
        return sigmoid(float(self.conv_b + float(features @ self.conv_w)))

    def save(self, directory: str | Path) -> None:
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(
            d / "grooming.npz",
            msg_w=self.msg_w.astype(np.float16),
            msg_b=np.array([self.msg_b]),
            conv_w=self.conv_w,
            conv_b=np.array([self.conv_b]),
        )
        card = {**self.card, "sha256": hashlib.sha256((d / "grooming.npz").read_bytes()).hexdigest()}
        (d / "card.json").write_text(json.dumps(card, indent=2, sort_keys=True) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, directory: str | Path) -> GroomingModel:
        d = Path(directory)
        try:
            card = json.loads((d / "card.json").read_text(encoding="utf-8"))
            digest = hashlib.sha256((d / "grooming.npz").read_bytes()).hexdigest()
            if digest != card.get("sha256"):
                raise ModelUnavailable(f"grooming model {d / 'grooming.npz'} does not match its card's checksum")
            with np.load(d / "grooming.npz", allow_pickle=False) as z:
                msg_w = z["msg_w"].astype(np.float32)
                msg_b = float(z["msg_b"][0])
                conv_w = z["conv_w"].astype(np.float64)
                conv_b = float(z["conv_b"][0])
        except (OSError, KeyError, ValueError) as exc:
            raise ModelUnavailable(f"grooming model in {d} cannot be loaded: {exc}") from None
        if msg_w.shape != (N_BUCKETS,) or conv_w.shape != (len(FEATURES),):
            raise ModelUnavailable(
                f"grooming model in {d} has the wrong shape (message {msg_w.shape}, conversation {conv_w.shape})"
            )
        return cls(msg_w=msg_w, msg_b=msg_b, conv_w=conv_w, conv_b=conv_b, card=card)


class ModelUnavailable(ChildsafeError):
    """The shipped grooming model is missing or damaged."""


def packaged_model_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "models" / "grooming"


@lru_cache(maxsize=1)
def default_model() -> GroomingModel:
    """The model shipped in ``childsafe/models/grooming`` (loaded once per process)."""
    return GroomingModel.load(packaged_model_dir())


@lru_cache(maxsize=4)
def model_from(directory: str | None) -> GroomingModel:
    """The model in ``directory`` (``ConversationConfig.model_dir``), or the packaged one; loaded once each."""
    return default_model() if directory is None else GroomingModel.load(directory)
