"""Train the grooming text model (``childsafe.detectors.grooming_text``): one text, speakers unmarked.

    python -m childsafe.train.grooming_text --out DIR [--c 1.0]

Training texts (train splits only; the dev and test conversations and records are never read):

* grooming: windows of 10-40 messages of the Perverted-Justice training predators' conversations (both sides
  merged by position, joined with newlines), windows of the written grooming conversations from the message
  a moderator should be alerted at, and the written single records labelled grooming;
* not grooming: windows of IRC, Topical-Chat and SMS chains, windows of the written ordinary conversations
  (teen DMs, game chat, family, coaches, adults flirting with adults), adult sexual chat (written records
  labelled only ``sexual``, joined in runs with casual SMS lines: real chat corpora are full of it), and every
  other written single record (including the hard negatives on the same topics).

Windows and single records are weighted to count the same in total, and the two classes are balanced, so
the bias means "as likely as not"; the policy's fusion section maps the score to a risk.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from childsafe.detectors.grooming_text import N_BUCKETS, features, save_model
from childsafe.text.context import TextContext
from childsafe.train.grooming import (
    REPO_ROOT,
    Conversation,
    load_pj,
    load_safe_chats,
    load_sms_chats,
    load_written,
    load_written_v2,
    split_of,
)

SEED = 17
MODEL_VERSION = "grooming-text-1"
WRITTEN_RECORDS = REPO_ROOT / "data" / "written"
TRAIN_BATCHES = ("w01", "w02", "w03", "w04", "w05", "w06", "w07", "w08", "w09")


def windows(conv: Conversation, rng: random.Random, start: int = 0, limit: int = 3) -> list[str]:
    """Consecutive windows of 10-40 messages from ``start``, joined with newlines, speakers unmarked."""
    out: list[str] = []
    i = start
    while i < len(conv.messages) and len(out) < limit:
        w = rng.randint(10, 40)
        part = conv.messages[i : i + w]
        if len(part) >= 6:
            out.append("\n".join(t for _, t in part))
        i += w
    return out


def written_records(batches: tuple[str, ...] = TRAIN_BATCHES) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for b in batches:
        path = WRITTEN_RECORDS / f"{b}.jsonl"
        with path.open(encoding="utf-8") as fh:
            out.extend(json.loads(line) for line in fh if line.strip())
    return out


def training_texts(rng: random.Random) -> tuple[list[str], list[int], list[str]]:
    texts: list[str] = []
    labels: list[int] = []
    kinds: list[str] = []

    def add(seg: list[str], y: int, kind: str) -> None:
        texts.extend(seg)
        labels.extend([y] * len(seg))
        kinds.extend([kind] * len(seg))

    for c in load_pj():
        if split_of("pj", c.group) == "train":
            add(windows(c, rng, limit=4), 1, "window")
    old = [c for c in load_written() if split_of("written", c.group) == "train"]
    for c in old + load_written_v2("train"):
        start = int(c.meta.get("alert_at") or 0) if c.label else 0
        add(windows(c, rng, start, limit=2), c.label, "window")
    for c in load_safe_chats() + load_sms_chats():
        if split_of(c.source, c.group) == "train" and rng.random() < 0.3:
            add(windows(c, rng, limit=1), 0, "window")
    records = written_records()
    sms = [t for c in load_sms_chats() if split_of("sms", c.group) == "train" for _, t in c.messages]
    adult = [r["text"] for r in records if r["labels"] == ["sexual"]]
    rng.shuffle(adult)
    for k in range(0, len(adult) - 3, 3):
        lines = adult[k : k + rng.randint(2, 4)] + rng.sample(sms, rng.randint(6, 20))
        rng.shuffle(lines)
        add(["\n".join(lines)], 0, "window")
    for r in records:
        add([str(r["text"])], 1 if "grooming" in r["labels"] else 0, "single")
    return texts, labels, kinds


def fit(texts: list[str], labels: list[int], kinds: list[str], c: float) -> tuple[np.ndarray, float]:
    from scipy.sparse import csr_matrix  # type: ignore[import-untyped]
    from sklearn.linear_model import LogisticRegression

    rows = [features(TextContext.from_text(t, decode=False).normalized) for t in texts]
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    indptr[1:] = np.cumsum([len(r) for r in rows])
    indices = np.fromiter((i for r in rows for i in r), dtype=np.int32, count=int(indptr[-1]))
    data = np.concatenate([np.full(len(r), 1.0 / max(1, len(r)) ** 0.5, dtype=np.float32) for r in rows])
    x = csr_matrix((data, indices, indptr), shape=(len(rows), N_BUCKETS))
    y = np.asarray(labels)
    k = np.asarray(kinds)
    w = np.ones(len(y))
    for kind in ("window", "single"):  # windows and single records count the same in total
        w[k == kind] *= len(y) / (2 * max(1, int(np.sum(k == kind))))
    for cls in (0, 1):  # and so do the classes
        w[y == cls] *= len(y) / (2 * w[y == cls].sum())
    clf = LogisticRegression(C=c, solver="liblinear", max_iter=300, random_state=SEED)
    clf.fit(x, y, sample_weight=w)
    return clf.coef_[0].astype(np.float32), float(clf.intercept_[0])


def dev_texts(split: str = "dev", seed: int = 5) -> tuple[list[str], list[int], list[str]]:
    """Held-out texts: windows of the Perverted-Justice dev groups and of the written dev (or test)
    conversations, ordinary windows of IRC / Topical-Chat / SMS dev groups, adult sexual chat built from the
    written dev (or test) records, and those records themselves as single texts. Never trained on."""
    rng = random.Random(seed)
    texts: list[str] = []
    labels: list[int] = []
    sources: list[str] = []

    def add(seg: list[str], y: int, src: str) -> None:
        texts.extend(seg)
        labels.extend([y] * len(seg))
        sources.extend([src] * len(seg))

    held = "val" if split == "dev" else "none"
    for c in load_pj():
        if split_of("pj", c.group) == held:
            add(windows(c, rng, limit=2), 1, "pj")
    for c in load_written_v2(split):
        start = int(c.meta.get("alert_at") or 0) if c.label else 0
        add(windows(c, rng, start, limit=2), c.label, f"written {'grooming' if c.label else 'ordinary'}")
    for c in load_safe_chats() + load_sms_chats():
        if split_of(c.source, c.group) == held and rng.random() < 0.25:
            add(windows(c, rng, limit=1), 0, c.source)
    records = written_records(({"dev": "d01", "test": "d02"}[split],))
    chat = [t for c in load_sms_chats() if split_of("sms", c.group) == held for _, t in c.messages]
    adult = [str(r["text"]) for r in records if r["labels"] == ["sexual"]]
    rng.shuffle(adult)
    for k in range(0, len(adult) - 4, 4):
        lines = adult[k : k + 4] + (rng.sample(chat, 8) if chat else [])
        rng.shuffle(lines)
        add(["\n".join(lines)], 0, "adult sexual chat")
    for r in records:
        add([str(r["text"])], 1 if "grooming" in r["labels"] else 0, "single record")
    return texts, labels, sources


FUSED: tuple[str, ...] = ("classifier", "grooming_text", "grooming_stages")


def fit_fusion(split: str = "dev") -> dict[str, Any]:
    """The grooming entry of the policy's ``fusion.category_weights`` and its bias, fitted on ``split``."""
    from sklearn.linear_model import LogisticRegression

    from childsafe.policy.evaluate import PROBABILITY_MODELS
    from childsafe.train.data import CATEGORIES, Example
    from childsafe.train.fusion import detector_scores

    texts, labels, _ = dev_texts(split)
    examples = [Example(t, (), "grooming dev texts", split) for t in texts]
    x = detector_scores(examples, detectors=FUSED)[:, :, CATEGORIES.index("grooming")]
    for j, name in enumerate(FUSED):
        if name in PROBABILITY_MODELS:
            p = np.clip(x[:, j], 1e-4, 1 - 1e-4)
            x[:, j] = np.log(p / (1 - p))
    clf = LogisticRegression(C=1.0, max_iter=1000).fit(x, np.asarray(labels))
    weights = {n: round(float(w), 4) for n, w in zip(FUSED, clf.coef_[0], strict=True)}
    return {"weights": weights, "bias": round(float(clf.intercept_[0]), 4), "texts": len(texts)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, help="directory to write grooming_text.npz and card.json")
    ap.add_argument("--c", type=float, default=1.0, help="inverse L2 strength of the logistic regression")
    ap.add_argument("--fit-fusion", action="store_true",
                    help="instead: fit the policy's grooming fusion entry on the dev texts and print it as YAML")
    args = ap.parse_args(argv)
    if args.fit_fusion:
        fitted = fit_fusion()
        print(f"# fitted on {fitted['texts']} dev texts (python -m childsafe.train.grooming_text --fit-fusion)")
        print("  category_weights:\n    grooming: {" + ", ".join(f"{k}: {v}" for k, v in fitted["weights"].items())
              + "}")
        print(f"  bias:\n    grooming: {fitted['bias']}")
        return 0
    if args.out is None:
        ap.error("--out is required (unless --fit-fusion)")
    t0 = time.perf_counter()
    texts, labels, kinds = training_texts(random.Random(SEED))
    counts = {f"{k}:{'grooming' if y else 'other'}": 0 for k in ("window", "single") for y in (0, 1)}
    for k, y in zip(kinds, labels, strict=True):
        counts[f"{k}:{'grooming' if y else 'other'}"] += 1
    print(f"training texts: {counts} ({time.perf_counter() - t0:.0f}s)", file=sys.stderr)
    w, b = fit(texts, labels, kinds, args.c)
    card = {
        "version": MODEL_VERSION,
        "model": f"logistic regression, hashed word 1-2-grams + stage/age cues, {N_BUCKETS} buckets, float16, "
        "binary features L2-normalised",
        "c": args.c,
        "seed": SEED,
        "training_texts": counts,
        "data": {
            "grooming_perverted_justice_train": "windows of the training predators' conversations (no licence in "
            "the source repository; research use)",
            "irc_ubuntu_disentangled_chat": "safe windows (CC BY 4.0)",
            "topical_chat": "safe windows (CDLA-Sharing-1.0)",
            "sms_spam_collection": "ham texts chained (CC BY 4.0)",
            "data/conversations, data/written": "written for childsafe, train batches only (Apache-2.0)",
        },
    }
    save_model(args.out, w, b, card)
    print(f"wrote {args.out} ({time.perf_counter() - t0:.0f}s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
