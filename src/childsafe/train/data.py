"""Training data: the shared data sets (read in place, never copied) plus the project's seed corpus.

Label semantics (see shared/datasets/README.md and FINDINGS.md):
* ``labels == []`` means the category is unknown. When the newer sets say ``unsafe: true`` the record is kept as
  an any-unsafe positive (``Example.any_only``: trained on the highest category logit, no per-category target);
  otherwise (``unsafe`` null or absent) it is skipped;
* ``["safe"]`` is negative for every category; otherwise the listed categories are positive, the rest negative;
* Davidson "offensive" is already unknown upstream (it taught that swearing is harassment);
* conversations (``messages``) from safe chat sets are split into single messages, the unit the detector sees.

Splits are fixed and deduplicated across each other on a normalised text key:
* ``train``: shared training sources + seed ``train`` split;
* ``val``: a hashed 8% of the shared training sources (in-domain; used for calibration, together with seed dev);
* ``dev``: seed templates held out, the written dev batches (``data/written``, ``split: dev``) and a hashed 20% of
  the real-user sets in ``OOD_SPLIT`` (out-of-domain; used to calibrate and to choose thresholds);
* ``test``: seed templates never used for any choice, the written test batches, another hashed 20% of the
  ``OOD_SPLIT`` sets, plus the shared sets kept fully out of training (``HELD_OUT``), which stand in for the
  public benchmarks. Nothing in ``test`` trains a model or sets a threshold.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Same order as childsafe.types.Category (checked by a test); kept here so training needs no engine import.
CATEGORIES: tuple[str, ...] = (
    "sexual_minors", "grooming", "sexual", "self_harm", "violence", "harassment", "hate", "dangerous", "drugs",
    "personal_info", "other_unsafe",
)

# Shared sets kept fully out of training: pseudo-public tests (and the non-commercial ones among them).
HELD_OUT: dict[str, str] = {
    "jailbreakbench_behaviors": "harmful vs benign look-alike prompts (over-blocking and caught rates)",
    "unhealthy_conversations_valtest": "moderation-style comments (non-commercial licence: evaluation only)",
    "ag_news_test_world_sports": "news about wars, crime and sport, all safe (non-commercial: evaluation only)",
    "grooming_perverted_justice_train": "grooming chats (style overfits; evaluation only)",
}
SKIPPED: dict[str, str] = {"hh_rlhf_harmless_base_test": "all records unlabelled"}

# Real-user sets split three ways by a stable hash of the text: (dev fraction, test fraction); the rest trains.
# Their dev parts choose thresholds; their test parts are only ever reported (bench/detection_suite.py).
OOD_SPLIT: dict[str, tuple[float, float]] = {
    "toxicchat_train": (0.2, 0.2),
    "donotanswer_prompts": (0.2, 0.2),
    "harmbench_behaviors": (0.2, 0.2),
}

# Per-source cap on training records (large single-style sets would otherwise dominate).
CAPS: dict[str, int] = {
    "alpaca_harmless_instructions": 4000,
    "toxic_spans_civil_comments": 4000,
    "threatgram_telegram_threats": 3000,
    "cyberbullying_tweets_finegrained": 3500,
    "davidson_hate_offensive": 3500,
    "reddit_misogyny_eacl2021": 3000,
    "xsafety_multilingual": 5000,
    "medquad_health_qa": 1500,
    "counsel_chat_therapy_answers": 1500,
    "sms_spam_collection": 3000,
    "irc_ubuntu_disentangled_chat": 2000,
    "topical_chat": 2500,
    "olid_offenseval_train": 3000,
}
MAX_CHARS = 700
_KEY_RE = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    labels: tuple[int, ...]  # one 0/1 per CATEGORIES entry
    source: str
    split: str
    weight: float = 1.0
    any_only: bool = False
    """Harmful with the category unknown: ``labels`` are all 0 and only the any-unsafe target applies."""
    role: str | None = None

    @property
    def unsafe(self) -> bool:
        return self.any_only or any(self.labels)


def text_key(text: str) -> str:
    """Dedup key: lowercase alphanumerics only, so punctuation/case variants count as the same text."""
    return hashlib.sha1(_KEY_RE.sub(" ", text.lower()).strip().encode()).hexdigest()


def label_vector(labels: list[str]) -> tuple[int, ...] | None:
    """Multi-hot vector, or None when the record is unlabelled (unknown)."""
    if not labels:
        return None
    cats = {lab for lab in labels if lab != "safe"}
    return tuple(1 if c in cats else 0 for c in CATEGORIES)


def record_vector(rec: dict[str, Any]) -> tuple[tuple[int, ...], bool] | None:
    """(label vector, any_only) of a record, or None when nothing is known about it."""
    vec = label_vector(list(rec.get("labels") or []))
    if vec is not None:
        return vec, False
    if rec.get("unsafe") is True:
        return tuple(0 for _ in CATEGORIES), True
    if rec.get("unsafe") is False:
        return tuple(0 for _ in CATEGORIES), False
    return None


def hash_unit(text: str, salt: str = "") -> float:
    """A stable number in [0, 1) from a text's dedup key (split assignment that survives re-ordering)."""
    return int(hashlib.sha1((salt + text_key(text)).encode()).hexdigest()[:8], 16) / 0x100000000


def ood_split(name: str, text: str) -> str:
    """train, dev or test for a record of an ``OOD_SPLIT`` source."""
    dev, test = OOD_SPLIT[name]
    u = hash_unit(text, "ood:")
    return "dev" if u < dev else "test" if u < dev + test else "train"


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if line:
                yield json.loads(line)


def record_texts(rec: dict[str, Any]) -> list[str]:
    """The texts a record contributes: its text, or each message of a conversation."""
    if isinstance(rec.get("text"), str):
        return [rec["text"][:MAX_CHARS]]
    msgs = rec.get("messages") or []
    return [str(m.get("text") or m.get("content") or "")[:MAX_CHARS] for m in msgs if isinstance(m, dict)]


def dataset_files(shared: Path) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for d in sorted(p for p in shared.iterdir() if p.is_dir()):
        files = sorted(d.glob("*.jsonl")) + sorted(d.glob("*.jsonl.gz"))
        if files:
            out[d.name] = files[0]
    return out


def _shared_examples(name: str, path: Path, rng: random.Random,
                     cap_scale: float = 1.0) -> list[tuple[str, tuple[int, ...], bool]]:
    items: list[tuple[str, tuple[int, ...], bool]] = []
    for rec in read_jsonl(path):
        known = record_vector(rec)
        if known is None:
            continue
        vec, any_only = known
        if name == "xsafety_multilingual" and rec.get("lang", "en") != "en" and rng.random() > 0.15:
            continue  # the encoder is English; keep a little of the rest so it is not blind to them
        texts = record_texts(rec)
        if "messages" in rec and not any(vec) and not any_only:
            texts = [t for t in texts if len(t.split()) >= 3]  # single safe chat messages
        elif "messages" in rec:
            texts = [" \n".join(texts)[:MAX_CHARS]]
        items.extend((t, vec, any_only) for t in texts if t.strip())
    rng.shuffle(items)
    cap = CAPS.get(name)
    return items[: int(cap * cap_scale)] if cap else items


def load_seed(path: Path) -> list[dict[str, Any]]:
    return list(read_jsonl(path))


WRITTEN_DIR = Path("data/written")


def load_written(folder: Path) -> list[dict[str, Any]]:
    """The project's written corpus (``data/written/*.jsonl``); each record names its own split."""
    out: list[dict[str, Any]] = []
    if not folder.is_dir():
        return out
    for f in sorted(folder.glob("*.jsonl")):
        out.extend(read_jsonl(f))
    return out


def seed_split(rec: dict[str, Any]) -> str:
    """Seed ``dev`` records are split again by hash into ``dev`` (choices) and ``test`` (never used for choices)."""
    if rec.get("split") != "dev":
        return "train"
    h = int(hashlib.sha256(rec["family"].encode() + rec["text"].lower().encode()).hexdigest(), 16)
    tpl = rec.get("template")
    if isinstance(tpl, int):
        return "dev" if tpl % 8 == 3 else "test"
    return "dev" if h % 2 == 0 else "test"


def build(shared: Path, seed_path: Path, seed_weight: float = 3.0, rng_seed: int = 7,
          val_frac: float = 0.08, limit: int | None = None, cap_scale: float = 1.0,
          written: Path | None = WRITTEN_DIR, written_weight: float = 2.0,
          source_weights: dict[str, float] | None = None) -> dict[str, list[Example]]:
    """Build the fixed, cross-deduplicated splits. ``limit`` caps each source (for fast tests);
    ``source_weights`` sets the training weight of a shared source's records (default 1)."""
    source_weights = source_weights or {}
    rng = random.Random(rng_seed)
    splits: dict[str, list[Example]] = {"train": [], "val": [], "dev": [], "test": []}
    held: list[Example] = []
    files = dataset_files(shared)
    for name, path in files.items():
        if name in SKIPPED:
            continue
        items = _shared_examples(name, path, rng, cap_scale if name not in HELD_OUT else 1.0)
        if limit is not None:
            items = items[:limit]
        for text, vec, any_only in items:
            if name in HELD_OUT:
                held.append(Example(text, vec, name, "test", any_only=any_only))
                continue
            if name in OOD_SPLIT:
                split = ood_split(name, text)
            else:
                h = int(text_key(text)[:8], 16) / 0xFFFFFFFF
                split = "val" if h < val_frac else "train"
            weight = source_weights.get(name, 1.0) if split == "train" else 1.0
            splits[split].append(Example(text, vec, name, split, weight, any_only=any_only))
    for rec in load_seed(seed_path):
        svec = label_vector(list(rec["labels"]))
        if svec is None:
            continue
        split = seed_split(rec)
        splits[split].append(Example(rec["text"], svec, "seed", split, seed_weight if split == "train" else 1.0))
    for rec in load_written(written) if written is not None else []:
        wvec = label_vector(list(rec.get("labels") or []))
        wsplit = str(rec.get("split", "train"))
        if wvec is None or wsplit not in ("train", "dev", "test") or not str(rec.get("text", "")).strip():
            continue
        splits[wsplit].append(Example(str(rec["text"])[:MAX_CHARS], wvec, "written", wsplit,
                                      written_weight if wsplit == "train" else 1.0, role=rec.get("role")))
    splits["test"].extend(held)
    # Project data first within each split, so when a shared record repeats a seed or written text, ours wins.
    for name in splits:
        splits[name].sort(key=lambda e: e.source not in ("seed", "written"))
    if limit is not None:
        splits["test"] = splits["test"][: limit * 8]
    # Cross-split dedup: evaluation splits win; a text seen in an earlier split is dropped from later ones.
    seen: set[str] = set()
    for name in ("test", "dev", "val", "train"):
        kept: list[Example] = []
        for ex in splits[name]:
            k = text_key(ex.text)
            if k in seen:
                continue
            seen.add(k)
            kept.append(ex)
        splits[name] = kept
    return splits
