"""The systems `childsafe eval` compares on the same records: childsafe (engine, classifier, lexicon) and peers."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from childsafe.types import AgeBand, Category

CATS: list[Category] = list(Category)


@dataclass
class Scored:
    """One system's output on every record: per-category scores/flags (None for category-blind peers)."""

    name: str
    any_score: np.ndarray
    flagged: np.ndarray
    cat_scores: np.ndarray | None = None
    cat_flagged: np.ndarray | None = None
    latencies: list[float] = field(default_factory=list)
    note: str = ""


class System:
    """A detector under evaluation. ``score`` gets each record as its list of message texts."""

    name = "system"
    per_category = True
    note = ""

    def load(self) -> None:
        """Load models; raise to mark the system unavailable in the report."""

    def score(self, records: Sequence[list[str]]) -> tuple[np.ndarray, np.ndarray, np.ndarray | None,
                                                            np.ndarray | None]:
        """Return (any_score, flagged, cat_scores, cat_flagged) for all records."""
        raise NotImplementedError

    def time_one(self, texts: list[str]) -> float:
        t = time.perf_counter()
        self.score([texts])
        return time.perf_counter() - t


def _max_per_record(per_text: np.ndarray, owner: list[int], n: int) -> np.ndarray:
    out = np.zeros((n, *per_text.shape[1:]), dtype=np.float64)
    if len(owner):
        np.maximum.at(out, np.asarray(owner), per_text)
    return out


def _flatten(records: Sequence[list[str]]) -> tuple[list[str], list[int]]:
    texts: list[str] = []
    owner: list[int] = []
    for i, r in enumerate(records):
        for t in r or [""]:
            texts.append(t)
            owner.append(i)
    return texts, owner


class ClassifierSystem(System):
    name = "childsafe-classifier"
    note = "the ONNX classifier alone; flagged when a calibrated score reaches its suggested block threshold"

    def __init__(self, model_dir: str | None = None) -> None:
        from childsafe.detectors.classifier import ClassifierConfig, ClassifierDetector

        self.det = ClassifierDetector(ClassifierConfig(model_dir=model_dir, floor=0.0))

    def load(self) -> None:
        self.det.load()
        th = self.det.manifest.get("thresholds", {})
        self.block = np.array([float(th.get(c.value, {}).get("block", 0.5)) for c in CATS])

    def score(self, records: Sequence[list[str]]) -> tuple[np.ndarray, np.ndarray, np.ndarray | None,
                                                            np.ndarray | None]:
        from childsafe.text.context import TextContext

        texts, owner = _flatten(records)
        ctxs = [TextContext.from_text(t) for t in texts]
        dets = self.det.detect_batch(ctxs)
        per = np.zeros((len(texts), len(CATS)))
        for i, ds in enumerate(dets):
            for d in ds:
                per[i, CATS.index(d.category)] = max(per[i, CATS.index(d.category)], d.score)
        cs = _max_per_record(per, owner, len(records))
        cf = np.asarray(cs >= self.block)
        return cs.max(1), np.asarray(cf.any(1)), cs, cf


class LexiconSystem(System):
    name = "childsafe-lexicon"
    note = "childsafe's lexicon-only detector; flagged at score >= 0.5 (medium or strong phrase, no context cue)"

    def __init__(self) -> None:
        from childsafe.detectors.lexicon import LexiconDetector

        self.det = LexiconDetector()

    def load(self) -> None:
        self.det.load()

    def score(self, records: Sequence[list[str]]) -> tuple[np.ndarray, np.ndarray, np.ndarray | None,
                                                            np.ndarray | None]:
        from childsafe.text.context import TextContext

        texts, owner = _flatten(records)
        per = np.zeros((len(texts), len(CATS)))
        for i, t in enumerate(texts):
            for d in self.det.detect(TextContext.from_text(t)):
                j = CATS.index(d.category)
                per[i, j] = max(per[i, j], d.score)
        cs = _max_per_record(per, owner, len(records))
        cf = np.asarray(cs >= 0.5)
        return cs.max(1), np.asarray(cf.any(1)), cs, cf


class EngineSystem(System):
    name = "childsafe"
    note = "the full engine (lexicon + classifier + policy) at the given age; flagged when the action stops content"

    def __init__(self, age: AgeBand, detectors: dict[str, dict[str, Any]] | None = None) -> None:
        self.age = age
        self.detectors = detectors

    def load(self) -> None:
        from childsafe.config import Config
        from childsafe.engine import Engine

        cfg = Config() if self.detectors is None else Config(detectors=self.detectors)
        self.engine = Engine.from_config(cfg)
        bad = self.engine.warmup()
        if bad:
            raise RuntimeError("; ".join(f"{k}: {v}" for k, v in bad.items()))

    def score(self, records: Sequence[list[str]]) -> tuple[np.ndarray, np.ndarray, np.ndarray | None,
                                                            np.ndarray | None]:
        n = len(records)
        cs = np.zeros((n, len(CATS)))
        cf = np.zeros((n, len(CATS)), dtype=bool)
        flagged = np.zeros(n, dtype=bool)
        singles = [i for i, r in enumerate(records) if len(r) <= 1]
        decisions = self.engine.check_batch([(records[i] or [""])[0] for i in singles], age=self.age)
        pairs: list[tuple[int, Any]] = list(zip(singles, decisions, strict=True))
        for i, r in enumerate(records):
            if len(r) > 1:
                msgs = [{"role": "contact" if k % 2 else "child", "text": t} for k, t in enumerate(r)]
                pairs.append((i, self.engine.check_messages(msgs, age=self.age)))
        for i, d in pairs:
            stops = d.action.stops_content or d.first_flag_index is not None
            flagged[i] = stops
            for c, s in d.scores.items():
                cs[i, CATS.index(c)] = s
            for c in d.categories:
                cf[i, CATS.index(c)] = stops
        return cs.max(1), flagged, cs, cf


class _BinaryPeer(System):
    per_category = False

    def __init__(self, fn: Callable[[list[str]], np.ndarray], threshold: float) -> None:
        self.fn = fn
        self.threshold = threshold

    def score(self, records: Sequence[list[str]]) -> tuple[np.ndarray, np.ndarray, np.ndarray | None,
                                                            np.ndarray | None]:
        texts, owner = _flatten(records)
        s = _max_per_record(self.fn(texts).astype(np.float64), owner, len(records))
        return s, s >= self.threshold, None, None


class AltProfanitySystem(_BinaryPeer):
    name = "alt-profanity-check"
    note = "peer: linear SVM on profanity (predict_prob); flagged at p >= 0.5; no categories"

    def __init__(self) -> None:
        super().__init__(lambda t: np.zeros(len(t)), 0.5)

    def load(self) -> None:
        from profanity_check import predict_prob

        self.fn = lambda texts: np.asarray(predict_prob(texts), dtype=np.float64)


class BetterProfanitySystem(_BinaryPeer):
    name = "better-profanity"
    note = "peer: word list with leetspeak variants (contains_profanity); score is 0 or 1; no categories"

    def __init__(self) -> None:
        super().__init__(lambda t: np.zeros(len(t)), 0.5)

    def load(self) -> None:
        from better_profanity import profanity

        profanity.load_censor_words()
        self.fn = lambda texts: np.array([1.0 if profanity.contains_profanity(t) else 0.0 for t in texts])


def default_systems(age: AgeBand, model_dir: str | None = None) -> list[System]:
    """childsafe first, then its parts, then the peers (constructed lazily; failures are reported, not fatal)."""
    systems: list[System] = [
        EngineSystem(age, {"lexicon": {}, "classifier": {} if model_dir is None else {"model_dir": model_dir}}),
        ClassifierSystem(model_dir),
    ]
    try:
        systems.append(LexiconSystem())
    except ImportError:  # the lexicon ships with the core; guard keeps eval usable on partial installs
        pass
    systems.extend([AltProfanitySystem(), BetterProfanitySystem()])
    return systems
