"""Detection for the ten languages besides English: phrase lists per language and a multilingual model.

English text is read by the English detectors (lexicon, composition, classifier...), whose normalisation and
model are English. This detector reads everything else. Each message's language is identified first
(:mod:`childsafe.text.language`); the detector then runs

1. **the phrase lists** of the message's language and of its close candidates (``detectors/data/multilingual/
   <lang>.yaml``), written by native-speaking writers for the core categories (sexual content involving
   minors, grooming, self-harm, threats, requests for personal details, drugs, bullying). Phrases are matched
   on script-aware folded text (:mod:`childsafe.text.fold`): accents, repeated letters and Arabic letter
   variants do not matter; a word ending in ``*`` matches any inflection; up to two other words may stand
   between a phrase's words. ``allow`` phrases (idioms such as "me muero de risa") cancel matches they
   overlap. A ``strong`` phrase scores 0.95 and stops the message on its own; a ``medium`` phrase is a feature
   of the model, reported at ``MEDIUM_EVIDENCE`` for reviewers;
2. **the multilingual model** (``models/multilingual/``): per core category and one pooled head, a logistic
   model over hashed word and character n-grams of the folded text and the phrase matches, and the first four
   layers of multilingual-e5-small fine-tuned on the same data (int8 ONNX, with its pruned SentencePiece
   vocabulary). Their log-odds are summed with a weight chosen by cross-validation, a per-language offset is
   added, and each category's score is mapped so that the threshold chosen for it lands on ``STOP_SCORE``,
   above the shipped policy's stopping threshold for every child band, and anything under it stays under
   ``BELOW_MAX``. With ``encoder: false`` the n-gram model runs alone at its own operating point;
3. **safe frames** (``context.yaml``): a question for school about a drug's effects is warned about, not
   stopped (see ``SOFTENABLE``).

A message identified as English with no other candidate gets nothing from this detector. A message in a
language childsafe does not support still gets the model's score (the encoder's base model read about a hundred
languages), and the engine routes it by the ``unsupported_language`` setting.

Training: ``python -m childsafe.train.multilingual_encoder --out DIR`` (see that module and docs/languages.md);
``python -m childsafe.train.multilingual`` builds an n-gram model alone.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import re
import zlib
from collections.abc import Container, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
import yaml

from childsafe.detectors.base import Detector, DetectorConfig, DetectorUnavailable
from childsafe.text.context import TextContext
from childsafe.text.fold import fold, is_cjk, second_reading, tokens
from childsafe.text.language import SUPPORTED, LanguageGuess, identify
from childsafe.types import Category, Detection, Span

MODEL_DIR = Path(__file__).resolve().parent.parent / "models" / "multilingual"
N_BUCKETS = 1 << 17
LANGUAGES = tuple(code for code in SUPPORTED if code != "en")
CATEGORIES: tuple[Category, ...] = (
    Category.SEXUAL_MINORS,
    Category.GROOMING,
    Category.SEXUAL,
    Category.SELF_HARM,
    Category.VIOLENCE,
    Category.HARASSMENT,
    Category.HATE,
    Category.DANGEROUS,
    Category.DRUGS,
    Category.PERSONAL_INFO,
)
MODEL_CATEGORIES: tuple[Category, ...] = (
    Category.SEXUAL_MINORS,
    Category.GROOMING,
    Category.SELF_HARM,
    Category.VIOLENCE,
    Category.HARASSMENT,
    Category.DRUGS,
    Category.PERSONAL_INFO,
)
"""The categories the model scores: the core child-safety ones the written data covers in every language
(adult sexual content, hate and dangerous acts have too few examples per language to learn; their phrases
still stop a message)."""
ANY_HEAD = "any"
"""The model's pooled head: harmful in any of ``MODEL_CATEGORIES``. A message over its threshold is attributed to
the category nearest its own threshold."""
TIER_SCORES = {"strong": 0.95, "medium": 0.5}
MEDIUM_EVIDENCE = 0.15
"""A medium phrase's own score: evidence for the reviewer, below every stopping threshold; the model, which has
the phrase as a feature, decides."""
STOP_SCORE = 0.62
"""The score a category's chosen model threshold maps to: at or above every child band's stopping threshold
in the shipped policy (the highest is 0.6)."""
BELOW_MAX = 0.18
"""The highest score a category gets from the model below its threshold: under the lowest stopping threshold of
the shipped policy (0.2), so the model alone stops a message only at its chosen operating point."""
MAX_GAP = 2
"""Other words allowed between two consecutive words of a phrase."""
_MAX_CHARS = 2000
"""Longer texts are read in their first and last 1,000 characters by the model (phrases read everything)."""


# ---------------------------------------------------------------------------------------------- phrases


@dataclass(frozen=True, slots=True)
class Phrase:
    words: tuple[str, ...]
    stems: tuple[bool, ...]
    """Whether each word is a stem (written with a trailing ``*``)."""
    category: Category | None
    """None for an ``allow`` phrase."""
    score: float
    text: str
    language: str
    cjk: bool


def _phrase(text: str, category: Category | None, score: float, language: str) -> Phrase | None:
    folded = fold(text.strip()).text
    if is_cjk(folded):
        chars = "".join(folded.split()).replace("*", "")
        if not chars:
            return None
        return Phrase((chars,), (False,), category, score, text, language, True)
    words: list[str] = []
    stems: list[bool] = []
    for part in folded.split():
        star = part.endswith("*")
        toks = [t for t, _, _ in tokens(part.rstrip("*"))]
        if not toks:
            continue
        words += toks
        stems += [False] * (len(toks) - 1) + [star and len(toks[-1]) >= 3]
    if not words:
        return None
    return Phrase(tuple(words), tuple(stems), category, score, text, language, False)


class PhraseList:
    """One language's phrases, indexed by their first word (exact) and by the first three letters of a
    first-word stem."""

    def __init__(self, language: str, phrases: list[Phrase]) -> None:
        self.language = language
        self.exact: dict[str, list[Phrase]] = {}
        self.stem: dict[str, list[Phrase]] = {}
        self.cjk: list[Phrase] = []
        for p in phrases:
            if p.cjk:
                self.cjk.append(p)
            elif p.stems[0]:
                self.stem.setdefault(p.words[0][:3], []).append(p)
            else:
                self.exact.setdefault(p.words[0], []).append(p)
        self.size = len(phrases)

    @classmethod
    def from_yaml(cls, language: str, data: dict[str, Any]) -> PhraseList:
        phrases: list[Phrase] = []
        for cat_name, tiers in (data.get("categories") or {}).items():
            try:
                category = Category(cat_name)
            except ValueError:
                raise DetectorUnavailable(f"multilingual phrases {language}: unknown category {cat_name!r}") from None
            for tier, items in (tiers or {}).items():
                if tier not in TIER_SCORES:
                    raise DetectorUnavailable(f"multilingual phrases {language}: unknown tier {tier!r}")
                for item in items or []:
                    p = _phrase(str(item), category, TIER_SCORES[tier], language)
                    if p is not None:
                        phrases.append(p)
        for item in data.get("allow") or []:
            p = _phrase(str(item), None, 0.0, language)
            if p is not None:
                phrases.append(p)
        return cls(language, phrases)

    def match(self, words: list[tuple[str, int, int]], folded: str) -> list[tuple[Phrase, int, int]]:
        """(phrase, start, end) in folded offsets for every phrase found."""
        out: list[tuple[Phrase, int, int]] = []
        n = len(words)
        for i, (w, start, _) in enumerate(words):
            cands = self.exact.get(w, [])
            if len(w) >= 3:
                cands = cands + [p for p in self.stem.get(w[:3], ()) if w.startswith(p.words[0])]
            for p in cands:
                j, k = i, 1
                end = words[i][2]
                while k < len(p.words):
                    found = -1
                    for m in range(j + 1, min(n, j + 2 + MAX_GAP)):
                        word = words[m][0]
                        if word == p.words[k] or (p.stems[k] and word.startswith(p.words[k])):
                            found = m
                            break
                    if found < 0:
                        break
                    j, k, end = found, k + 1, words[found][2]
                if k == len(p.words):
                    out.append((p, start, end))
        if self.cjk:
            compact, where = _compact(folded)
            for p in self.cjk:
                at = compact.find(p.words[0])
                while at >= 0:
                    out.append((p, where[at], where[at + len(p.words[0]) - 1] + 1))
                    at = compact.find(p.words[0], at + 1)
        return out


def _compact(folded: str) -> tuple[str, list[int]]:
    keep = [i for i, c in enumerate(folded) if not c.isspace()]
    return "".join(folded[i] for i in keep), keep


SOFTENABLE = frozenset({Category.DRUGS})
"""Categories a safe frame lowers. Drugs only: a question about a drug's effects for school is the commonest
ordinary message the model stops. Lowering violence, harassment, hate and dangerous acts in the joke, game, news
and help frames as well was measured on the third training batch and cost more than it saved: 31 harmful
messages were no longer stopped ("JAJAJA la gorda del 2B...", threats with "не шучу") against 3 ordinary ones
freed. Sexual content involving minors, grooming, self-harm and personal details are never lowered."""
USED_FRAMES = frozenset({"education", "question"})
"""The frames of context.yaml that lower a score (see ``SOFTENABLE``); the others are kept for reviewers' tools."""
CONTEXT_CAP = 0.25
"""A softenable category's score in a safe frame: enough to warn about drugs at the child bands, under the
stopping thresholds."""


@lru_cache(maxsize=1)
def load_context_cues() -> dict[str, PhraseList]:
    """Per language, the phrases of the safe frames in ``USED_FRAMES`` (school work, a question about a risk) from
    ``detectors/data/multilingual/context.yaml``."""
    res = resources.files("childsafe.detectors") / "data" / "multilingual" / "context.yaml"
    if not res.is_file():
        return {}
    try:
        data = yaml.safe_load(res.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise DetectorUnavailable(f"multilingual context cues: invalid YAML: {exc}") from None
    out: dict[str, PhraseList] = {}
    for code, frames in data.items():
        phrases = [
            p for frame, items in (frames or {}).items() if frame in USED_FRAMES for item in items or []
            if (p := _phrase(str(item), None, 0.0, f"{code}:{frame}")) is not None
            and (p.cjk or len("".join(p.words)) >= 2)  # "kkkk" folds to "k": a lone letter is no cue
        ]
        out[str(code)] = PhraseList(str(code), phrases)
    return out


@lru_cache(maxsize=1)
def load_phrase_lists() -> dict[str, PhraseList]:
    """Every shipped phrase list, by language."""
    out: dict[str, PhraseList] = {}
    root = resources.files("childsafe.detectors") / "data" / "multilingual"
    for code in LANGUAGES:
        res = root / f"{code}.yaml"
        if not res.is_file():
            continue
        try:
            data = yaml.safe_load(res.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise DetectorUnavailable(f"multilingual phrases {code}: invalid YAML: {exc}") from None
        out[code] = PhraseList.from_yaml(code, data)
    return out


# ---------------------------------------------------------------------------------------------- features


def _bucket(feature: str) -> int:
    return zlib.crc32(feature.encode("utf-8")) % N_BUCKETS


def ngram_features(folded: str, extra: Sequence[str] = ()) -> list[int]:
    """Hashed features of a folded text: words, word pairs, and character 3-5-grams inside padded words (the
    language-agnostic part: stems and inflections share them); Chinese and Japanese characters as 1-2-grams;
    plus ``extra`` features (the phrase lists' matches)."""
    words = [w for w, _, _ in tokens(folded)]
    feats: list[str] = ["bias", *extra]
    feats += [f"w:{w}" for w in words]
    feats += [f"b:{a} {b}" for a, b in itertools.pairwise(words)]
    for w in words:
        if len(w) == 1 and is_cjk(w):
            continue
        padded = f" {w} "
        for n in (3, 4, 5):
            feats += [f"c{n}:{padded[i:i + n]}" for i in range(max(0, len(padded) - n + 1))]
    return sorted({_bucket(f) for f in feats})


def model_text(raw: str) -> str:
    """The part of a long text the models read."""
    if len(raw) <= _MAX_CHARS:
        return raw
    return raw[: _MAX_CHARS // 2] + "\n" + raw[-_MAX_CHARS // 2 :]


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


TUNED_FILES = {"model": "encoder.int8.onnx", "tokenizer": "tokenizer.json", "normalize": "normalize.json"}
"""The fine-tuned encoder's files in a model folder (``childsafe.train.multilingual_encoder``)."""
TUNED_MAX_TOKENS = 128
"""Tokens the fine-tuned encoder reads of a message (the n-gram model and the phrases read all of it)."""
QUERY_PREFIX = "query: "
"""multilingual-e5 was trained with this prefix on queries; the fine-tuned encoder keeps it."""
BOS, PAD, EOS = 0, 1, 2


def tuned_normalize(table: dict[int, str], text: str) -> str:
    """The base model's per-character normalisation (its SentencePiece map), then runs of spaces folded."""
    return re.sub(" {2,}", " ", text.translate(table))


def tuned_ids(tokenizer: Any, table: dict[int, str], text: str, max_tokens: int = TUNED_MAX_TOKENS) -> list[int]:
    """Token ids of a message as the fine-tuned encoder reads it: ``<s> query: text </s>``, cut to
    ``max_tokens``. Shared by the trainer and the detector."""
    ids = tokenizer.encode(tuned_normalize(table, QUERY_PREFIX + text), add_special_tokens=False).ids
    return [BOS, *ids[: max_tokens - 2], EOS]


class TunedEncoder:
    """The first layers of multilingual-e5-small, fine-tuned on childsafe's data with one output per head, as int8
    ONNX (onnxruntime), with its pruned SentencePiece vocabulary (tokenizers)."""

    def __init__(self, model_dir: Path, threads: int = 1) -> None:
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise DetectorUnavailable(f"multilingual: onnxruntime or tokenizers is missing ({exc})") from None
        try:
            so = ort.SessionOptions()
            so.intra_op_num_threads = threads
            so.inter_op_num_threads = 1
            self._session = ort.InferenceSession(str(model_dir / TUNED_FILES["model"]), so,
                                                 providers=["CPUExecutionProvider"])
            self._tokenizer = Tokenizer.from_file(str(model_dir / TUNED_FILES["tokenizer"]))
            raw = json.loads((model_dir / TUNED_FILES["normalize"]).read_text(encoding="utf-8"))
            self._table = {int(k): str(v) for k, v in raw.items()}
        except Exception as exc:  # onnxruntime and tokenizers raise their own types for corrupt files
            raise DetectorUnavailable(f"multilingual: the fine-tuned encoder could not be loaded: {exc}") from None
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()
        self.logits(["hola"])  # the graph's first run sets up its kernels: not on a child's message

    def logits(self, texts: list[str], batch: int = 32) -> npt.NDArray[np.float64]:
        ids = [tuned_ids(self._tokenizer, self._table, t) for t in texts]
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        out: npt.NDArray[np.float64] | None = None
        for s in range(0, len(order), batch):
            part = order[s : s + batch]
            width = max(len(ids[i]) for i in part)
            x = np.full((len(part), width), PAD, dtype=np.int64)
            m = np.zeros((len(part), width), dtype=np.int64)
            for row, i in enumerate(part):
                x[row, : len(ids[i])] = ids[i]
                m[row, : len(ids[i])] = 1
            z = self._session.run(["logits"], {"input_ids": x, "attention_mask": m})[0]
            if out is None:
                out = np.zeros((len(ids), z.shape[1]), dtype=np.float64)
            out[part] = z
        return out if out is not None else np.zeros((0, 0))


class MultilingualModel:
    """The n-gram model and (when its card combines one) the fine-tuned encoder, with the fitted combination,
    thresholds and language offsets. ``encoder=False``: the n-gram model alone, at the operating point the card
    gives for it (``ngram_only``)."""

    def __init__(self, model_dir: Path, encoder: bool = True) -> None:
        card_path = model_dir / "card.json"
        if not card_path.is_file():
            raise DetectorUnavailable(f"multilingual: no model card at {card_path}")
        card = json.loads(card_path.read_text(encoding="utf-8"))
        self.card = card
        self.categories = [Category(c) for c in card["categories"]]
        files = card["files"]
        for name, digest in files.items():
            if not encoder and name in TUNED_FILES.values():
                continue  # not read: the n-gram model alone
            path = model_dir / name
            if not path.is_file():
                raise DetectorUnavailable(f"multilingual: model file {path} is missing")
            if _sha256(path) != digest:
                raise DetectorUnavailable(f"multilingual: {path} does not match its checksum in card.json")
        ng = np.load(model_dir / "ngram.npz")
        self.ngram_w = ng["weights"].astype(np.float32)
        self.ngram_b = ng["bias"].astype(np.float32)
        point: dict[str, Any] = card
        self.weight_ngram = float(card["combine"]["ngram"])
        self.weight_tuned = float(card["combine"].get("tuned", 0.0))
        self.tuned: TunedEncoder | None = None
        if self.weight_tuned > 0 and not encoder:
            if "ngram_only" not in card:
                raise DetectorUnavailable("multilingual: encoder is off but the card has no n-gram-only operating "
                                          "point")
            point = card["ngram_only"]
            self.weight_ngram, self.weight_tuned = 1.0, 0.0
        if self.weight_tuned > 0:
            missing = [f for f in TUNED_FILES.values() if f not in files]
            if missing:
                raise DetectorUnavailable(f"multilingual: card.json combines a fine-tuned encoder but does not list "
                                          f"{', '.join(missing)}")
            self.tuned = TunedEncoder(model_dir)
        heads = list(card.get("heads") or [c.value for c in self.categories])
        if heads[: len(self.categories)] != [c.value for c in self.categories] or heads[len(self.categories):] not in (
                [], [ANY_HEAD]):
            raise DetectorUnavailable(f"multilingual: card.json heads {heads} do not match its categories")
        self.pooled = len(heads) > len(self.categories)
        if self.ngram_w.shape[1] != len(heads):
            raise DetectorUnavailable(f"multilingual: ngram.npz has {self.ngram_w.shape[1]} heads, card.json "
                                      f"{len(heads)}")
        self.thresholds = np.array([point["thresholds"][h] for h in heads], dtype=np.float64)
        self.offsets: dict[str, float] = {str(k): float(v) for k, v in (point.get("language_offsets") or {}).items()}
        self.version = str(card.get("version", "0"))

    def logits(
        self, folded_texts: list[str], raw_texts: list[str], extra: list[list[str]] | None = None
    ) -> npt.NDArray[np.float64]:
        z = np.zeros((len(folded_texts), len(self.ngram_b)), dtype=np.float64)
        for i, t in enumerate(folded_texts):
            idx = ngram_features(t, extra[i] if extra else ())
            # Binary features, L2-normalised as in training.
            z[i] = self.ngram_w[idx].sum(axis=0) / math.sqrt(len(idx)) + self.ngram_b
        combined = z * self.weight_ngram
        if self.tuned is not None:
            tuned = self.tuned.logits(raw_texts)
            if tuned.shape != z.shape:
                raise DetectorUnavailable(f"multilingual: the fine-tuned encoder gives {tuned.shape[1]} heads, the "
                                          f"n-gram model {z.shape[1]}")
            combined = combined + self.weight_tuned * tuned
        return combined

    def distances(
        self, folded_texts: list[str], raw_texts: list[str], extra: list[list[str]] | None = None,
        languages: Sequence[str] | None = None,
    ) -> npt.NDArray[np.float64]:
        """Per head (the categories, then the pooled head if any), the log-odds above the head's threshold, with
        the language's offset added (positive: over the threshold)."""
        z = self.logits(folded_texts, raw_texts, extra)
        if languages is not None and self.offsets:
            z = z + np.array([self.offsets.get(lang, 0.0) for lang in languages])[:, None]
        return z - np.log(self.thresholds / (1 - self.thresholds))

    def scores(
        self, folded_texts: list[str], raw_texts: list[str], extra: list[list[str]] | None = None,
        languages: Sequence[str] | None = None,
    ) -> npt.NDArray[np.float64]:
        """Per category, scores mapped onto the policy's scale: a category's chosen threshold maps to
        ``STOP_SCORE`` (stopped at every child band), log-odds above it rise towards 1, and below it the score
        stays under ``BELOW_MAX`` (under every stopping threshold of the shipped policy), falling with the
        distance to the threshold.

        The language's offset (``language_offsets`` in the card) is added to every head first. The pooled head
        lends its distance to the category nearest its own threshold when that is higher."""
        d = self.distances(folded_texts, raw_texts, extra, languages)
        if self.pooled:
            k = len(self.categories)
            cats = d[:, :k].copy()
            nearest = cats.argmax(axis=1)
            rows = np.arange(len(d))
            cats[rows, nearest] = np.maximum(cats[rows, nearest], d[:, k])
            d = cats
        above = STOP_SCORE + (1 - STOP_SCORE) * (1 - np.exp(-np.maximum(d, 0)))
        below = BELOW_MAX * np.exp(np.minimum(d, 0))
        return np.where(d >= 0, above, below)


class MultilingualConfig(DetectorConfig):
    model_dir: str | None = None
    """A model folder (``card.json`` + weights) other than the shipped one."""
    phrases: bool = True
    """Run the phrase lists."""
    model: bool = True
    """Run the multilingual model."""
    second_reading: bool = True
    """Read a disguised message a second time undisguised (invisible characters dropped, alternating case
    lowered, look-alike letters of another script put back, digits for letters read as letters, letters spaced
    apart joined) and keep the stronger reading."""
    encoder: bool = True
    """Read messages with the fine-tuned encoder as well as the n-gram model. Off: the n-gram model alone, at its
    own operating point: about 1.5 ms less per non-English message on 2 cores, and fewer harmful messages caught
    (docs/languages.md)."""


class MultilingualDetector(Detector):
    name: ClassVar[str] = "multilingual"
    version: ClassVar[str] = "2026.12.3"
    categories: ClassVar[frozenset[Category]] = frozenset(CATEGORIES)
    Config: ClassVar[type[DetectorConfig]] = MultilingualConfig
    joins_messages: ClassVar[bool] = False

    def __init__(self, config: DetectorConfig | None = None) -> None:
        super().__init__(config)
        self._phrases: dict[str, PhraseList] = {}
        self._cues: dict[str, PhraseList] = {}
        self._model: MultilingualModel | None = None

    def _load(self) -> None:
        cfg = self.config
        assert isinstance(cfg, MultilingualConfig)
        if cfg.phrases:
            self._phrases = load_phrase_lists()
            self._cues = load_context_cues()
        if cfg.model:
            self._model = MultilingualModel(Path(cfg.model_dir) if cfg.model_dir else MODEL_DIR, cfg.encoder)

    @staticmethod
    def applies(guess: LanguageGuess) -> bool:
        """Whether a message needs this detector: anything but plain English."""
        return not (guess.code in ("en", "und") and all(c == "en" for c in guess.candidates))

    def detect(self, ctx: TextContext) -> list[Detection]:
        return self.detect_batch([ctx])[0]

    def detect_batch(self, ctxs: Any) -> list[list[Detection]]:
        self.load()
        # One reading per message, and a second one, identified again, when the message is disguised: letters
        # spaced apart ("m a n d a m e"), look-alike letters of another script ("mаndаme" with a Cyrillic "а"),
        # invisible characters, aLtErNaTiNg case, digits for letters ("f0t0"; in Arabizi too, where a digit may
        # also be a letter: the first reading keeps that one). A disguise must not hide a message from the
        # language identifier, the phrase lists and the model.
        views: list[tuple[int, str, LanguageGuess, bool]] = []
        undo = isinstance(self.config, MultilingualConfig) and self.config.second_reading
        for i, ctx in enumerate(ctxs):
            if self.applies(ctx.language):
                views.append((i, ctx.raw, ctx.language, False))
            undone = second_reading(ctx.raw) if undo else None
            if undone is not None:
                guess = identify(undone, ctx.language.code if ctx.language.supported else ctx.default_language)
                if self.applies(guess):
                    views.append((i, undone, guess, True))
        found: list[list[Detection]] = []
        frames: list[str | None] = []
        hits: list[list[PhraseHit]] = []
        for _, text, guess, second in views:
            h = phrase_hits(self._phrases, text, guess)
            hits.append(h)
            frames.append(safe_frame(self._cues, text, guess))
            found.append(self._phrase_detections(h, spans=not second, note=", disguise undone" if second else ""))
        if self._model is not None and views:
            # First and second readings in separate batches: the int8 encoder quantises its activations per
            # batch, so a message's first reading must not depend on whether it had a second one.
            for part in (False, True):
                rows = [r for r, v in enumerate(views) if v[3] is part]
                if not rows:
                    continue
                raws = [model_text(views[r][1]) for r in rows]
                scores = self._model.scores([fold(t).text for t in raws], raws,
                                            [phrase_features(hits[r]) for r in rows],
                                            [views[r][2].code for r in rows])
                how = ", disguise undone" if part else ""
                for k, r in enumerate(rows):
                    code = views[r][2].code
                    for j, cat in enumerate(self._model.categories):
                        s = float(scores[k, j])
                        if s >= 0.05:
                            found[r].append(self.detection(
                                cat, s, evidence=f"multilingual model ({code}{how}) {s:.2f}", signal="model"))
        out: list[list[Detection]] = [[] for _ in ctxs]
        for row, (i, _, _, _) in enumerate(views):
            frame = frames[row]
            out[i].extend(found[row] if frame is None else [_softened(d, frame) for d in found[row]])
        return [_strongest(ds) for ds in out]

    def _phrase_detections(self, found: list[PhraseHit], spans: bool = True, note: str = "") -> list[Detection]:
        """A strong phrase stops on its own; a medium one is evidence for reviewers (the model weighs it)."""
        best: dict[Category, PhraseHit] = {}
        for h in found:
            cur = best.get(h.phrase.category)  # type: ignore[arg-type]
            if cur is None or h.phrase.score > cur.phrase.score:
                best[h.phrase.category] = h  # type: ignore[index]
        return [
            Detection(
                category=cat, score=h.phrase.score if h.phrase.score >= TIER_SCORES["strong"] else MEDIUM_EVIDENCE,
                detector=self.name, detector_version=self.version, span=Span(h.start, h.end) if spans else None,
                evidence=f"phrase ({h.phrase.language}{note}, {'strong' if h.phrase.score >= 0.9 else 'medium'}): "
                f"{h.phrase.text!r}",
                signal="phrase",
            )
            for cat, h in best.items()
        ]


def _strongest(found: list[Detection]) -> list[Detection]:
    """Per category and signal (phrase, model), the highest-scoring detection of the message's readings."""
    best: dict[tuple[Category, str | None], Detection] = {}
    for d in found:
        key = (d.category, d.signal)
        if key not in best or d.score > best[key].score:
            best[key] = d
    return list(best.values())


def guessed_codes(guess: LanguageGuess, available: Container[str]) -> list[str]:
    """The message's language and its close candidates, in that order, that ``available`` has."""
    return [c for c in dict.fromkeys((guess.code, *guess.candidates)) if c in available]


def safe_frame(cues: dict[str, PhraseList], raw: str, guess: LanguageGuess) -> str | None:
    """The safe frame a message is written in ("es:education"...), or None."""
    langs = guessed_codes(guess, cues)
    if not langs:
        return None
    f = fold(raw)
    words = tokens(f.text)
    for code in langs:
        for p, _, _ in cues[code].match(words, f.text):
            return p.language
    return None


def _softened(d: Detection, frame: str) -> Detection:
    if d.category not in SOFTENABLE or d.score <= CONTEXT_CAP:
        return d
    return Detection(
        category=d.category, score=CONTEXT_CAP, detector=d.detector, detector_version=d.detector_version,
        span=d.span, evidence=f"{d.evidence}; lowered to {CONTEXT_CAP} in a safe frame ({frame})", signal=d.signal,
    )


@dataclass(frozen=True, slots=True)
class PhraseHit:
    phrase: Phrase
    start: int
    end: int
    """Offsets in the original text."""


def phrase_hits(lists: dict[str, PhraseList], raw: str, guess: LanguageGuess) -> list[PhraseHit]:
    """The category phrases of the message's language (and its close candidates) found in ``raw``, minus those
    an ``allow`` phrase overlaps."""
    langs = guessed_codes(guess, lists)
    if not langs:
        return []
    f = fold(raw)
    words = tokens(f.text)
    found: list[tuple[Phrase, int, int]] = []
    for code in langs:
        found += lists[code].match(words, f.text)
    allowed = [(s, e) for p, s, e in found if p.category is None]
    out = []
    for p, s, e in found:
        if p.category is None or any(a < e and s < b for a, b in allowed):
            continue
        start, end = f.original(s, e)
        out.append(PhraseHit(p, start, end))
    return out


def phrase_features(hits: list[PhraseHit]) -> list[str]:
    """The model's features for phrase matches: category and tier."""
    return sorted({f"phrase:{h.phrase.category.value if h.phrase.category else ''}:"
                   f"{'strong' if h.phrase.score >= 0.9 else 'medium'}" for h in hits})


__all__ = ["ANY_HEAD", "CATEGORIES", "LANGUAGES", "MultilingualDetector", "MultilingualModel", "PhraseHit",
           "PhraseList", "guessed_codes", "load_phrase_lists", "ngram_features", "phrase_features", "phrase_hits"]
