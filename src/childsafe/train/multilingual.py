"""Train the multilingual n-gram model alone: ``python -m childsafe.train.multilingual --out DIR``.

The shipped model adds a fine-tuned encoder to it (``childsafe.train.multilingual_encoder``), which builds on the
training set, cross-validation and operating point defined here.

Data (read at training time, never copied into the package):

- ``data/multilingual/train/<lang>.jsonl``: messages written for childsafe by native-speaking writers, ten
  languages, about half harmful (the core child-safety categories) and half ordinary chat and hard negatives;
- ``data/written`` train batches (English; the same categories), a capped sample: English is what most
  harmful examples exist in, and what the encoder's base model carries across languages;
- optionally ``xsafety_multilingual`` from the shared data sets (``--xsafety``): machine-translated prompts with
  topical labels; only items whose parallel id is not held out for ``bench/multilingual.py`` (see
  :func:`xsafety_split`).

``data/multilingual/dev`` and ``dev2`` are never read here: the benchmark measures on them.

Logistic-regression heads, one per category plus one pooled ``any`` head (harmful in any core category), over
hashed word and character n-grams of the folded text (``childsafe.detectors.multilingual.ngram_features``).
Five-fold cross-validation on the training records, one writer batch per fold, gives out-of-fold scores; from
them are chosen:

- each head's threshold: at most ``--fpr`` of the ordinary non-English training messages above it;
- one offset per language, added to every head's log-odds, so that in each language at most
  ``--ordinary-rate`` of its ordinary training messages are stopped (any head over its threshold, or a strong
  phrase). One global threshold let languages that share n-grams with English and each other (de, fr, es, pt)
  stop twice the share of ordinary messages that ar, ru and zh did; per language, each stops the same share.

Nothing is tuned on the dev sets.
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import json
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from childsafe.detectors.multilingual import (
    ANY_HEAD,
    MODEL_CATEGORIES,
    N_BUCKETS,
    TIER_SCORES,
    load_phrase_lists,
    model_text,
    ngram_features,
    phrase_features,
    phrase_hits,
)
from childsafe.text.fold import fold_text
from childsafe.text.language import identify
from childsafe.train.data import WRITTEN_DIR, load_written, read_jsonl

SEED = 11
MODEL_VERSION = "2026.12.3"
ML_DIR = Path("data/multilingual")
ENGLISH_CAP: int | None = None
"""English written train records added to the multilingual ones (``None``: all of them)."""
POS_WEIGHT = 3.0
XSAFETY_HOLDOUT = 5
HEADS: tuple[str, ...] = (*(c.value for c in MODEL_CATEGORIES), ANY_HEAD)
"""xsafety items whose parallel id is divisible by this are held out for the benchmark (all languages)."""


def load_split(split: str, folder: Path = ML_DIR, without: Sequence[str] = ()) -> list[dict[str, Any]]:
    """The written multilingual records of ``split`` ("train", "dev" or "dev2"), all languages; files whose name
    matches a glob of ``without`` ("*.b10*.jsonl") are left out."""
    out: list[dict[str, Any]] = []
    for f in sorted((folder / split).glob("*.jsonl")):
        if not any(fnmatch.fnmatch(f.name, pattern) for pattern in without):
            out.extend(read_jsonl(f))
    return out


def without_flags(without: Sequence[str]) -> str:
    """The ``--without`` options that give ``without`` back, as a card's command records them."""
    return "".join(f" --without '{pattern}'" for pattern in without)


def xsafety_split(rec: dict[str, Any]) -> str:
    """"eval" for the held-out parallel ids (every language of one item together), else "train"."""
    pid = (rec.get("source_labels") or {}).get("parallel_id")
    try:
        return "eval" if int(str(pid)) % XSAFETY_HOLDOUT == 0 else "train"
    except (TypeError, ValueError):
        return "eval"


def load_xsafety(shared: Path, split: str) -> list[dict[str, Any]]:
    path = shared / "xsafety_multilingual" / "xsafety_25399.jsonl.gz"
    out = []
    for r in read_jsonl(path):
        if xsafety_split(r) != split:
            continue
        raw = list(r.get("labels") or [])
        labels = [x for x in raw if x != "other_unsafe"]
        unsafe = r.get("unsafe")
        if unsafe is None and raw:
            unsafe = raw != ["safe"]
        if not labels and unsafe is None:
            continue
        out.append({"text": r["text"], "lang": r.get("lang"), "labels": labels or (["safe"] if unsafe is False else []),
                    "unsafe": unsafe, "source": "xsafety"})
    return out


def english_records(rng: random.Random, cap: int | None = ENGLISH_CAP) -> list[dict[str, Any]]:
    recs = [r for r in load_written(WRITTEN_DIR) if r.get("split") == "train"]
    rng.shuffle(recs)
    return [{**r, "lang": "en"} for r in recs[:cap]]


def english_label(cap: int | None) -> str:
    return "all" if cap is None else f"{cap} sampled"


def targets(recs: list[dict[str, Any]]) -> npt.NDArray[np.float32]:
    """One column per head (``HEADS``): the categories, then ``any`` (harmful in at least one of them)."""
    y = np.zeros((len(recs), len(HEADS)), dtype=np.float32)
    for i, r in enumerate(recs):
        labels = set(r.get("labels") or [])
        for j, c in enumerate(MODEL_CATEGORIES):
            if c.value in labels:
                y[i, j] = 1.0
    y[:, -1] = y[:, :-1].max(axis=1)
    return y


def phrase_extras(texts: list[str]) -> tuple[list[list[str]], npt.NDArray[np.bool_]]:
    """The phrase-list features of each text, as the detector computes them at run time, and whether a strong
    phrase (one that stops a message on its own) matched."""
    lists = load_phrase_lists()
    hits = [phrase_hits(lists, t, identify(t)) for t in texts]
    strong = np.array([any(h.phrase.score >= TIER_SCORES["strong"] for h in hs) for hs in hits], dtype=bool)
    return [phrase_features(h) for h in hits], strong


def ngram_matrix(texts: list[str], extras: list[list[str]] | None = None) -> Any:
    from scipy.sparse import csr_matrix

    rows, cols = [], []
    for i, t in enumerate(texts):
        idx = ngram_features(fold_text(model_text(t)), extras[i] if extras else ())
        rows += [i] * len(idx)
        cols += idx
    data = np.ones(len(rows), dtype=np.float32)
    m = csr_matrix((data, (rows, cols)), shape=(len(texts), N_BUCKETS))
    norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel()) + 1e-9
    from scipy.sparse import diags

    return diags(1.0 / norms) @ m


def fit_heads(x: Any, y: npt.NDArray[np.float32], weights: npt.NDArray[np.float64], c: float
              ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    from sklearn.linear_model import LogisticRegression

    w = np.zeros((x.shape[1], y.shape[1]))
    b = np.zeros(y.shape[1])
    for j in range(y.shape[1]):
        if y[:, j].sum() == 0:
            b[j] = -10.0
            continue
        # Positives up-weighted to at most POS_WEIGHT: fully "balanced" weights make a rare category's baseline
        # high, so an unfamiliar ordinary message (all n-grams unseen) lands near it.
        pos = float(y[:, j].sum())
        pw = min(POS_WEIGHT, (len(y) - pos) / max(pos, 1.0))
        clf = LogisticRegression(C=c, max_iter=2000)
        clf.fit(x, y[:, j], sample_weight=weights * np.where(y[:, j] > 0, pw, 1.0))
        w[:, j] = clf.coef_[0]
        b[j] = clf.intercept_[0]
    return w, b


def writer_folds(recs: list[dict[str, Any]], folds: int, seed: int) -> npt.NDArray[np.int64]:
    """Each record's fold: the written multilingual records by batch (first, second, third... batch: different
    writers), so a record's out-of-fold score comes from a model that never saw its writer; other records
    (English, xsafety) at random."""
    rng = np.random.default_rng(seed)
    out = rng.integers(0, folds, size=len(recs))
    for i, r in enumerate(recs):
        batch = str(r.get("batch", ""))
        if batch.startswith("ml-train"):
            kind = batch.removeprefix("ml-train").split("-")[0]  # "" (the first batch), "2", "3", ...
            out[i] = (int(kind) - 1 if kind.isdigit() else 0) % folds
    return out


def oof_logits(x: Any, y: npt.NDArray[np.float32], weights: npt.NDArray[np.float64], c: float,
               fold_of: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    z = np.zeros(y.shape, dtype=np.float64)
    for k in sorted(set(fold_of.tolist())):
        tr, te = fold_of != k, fold_of == k
        w, b = fit_heads(x[tr], y[tr], weights[tr], c)
        z[te] = x[te] @ w + b
    return z


def choose_thresholds(z: npt.NDArray[np.float64], safe: npt.NDArray[np.bool_], fpr: float) -> dict[str, float]:
    """Per head, the probability threshold that keeps at most ``fpr`` of the ordinary records above it."""
    out = {}
    for j, c in enumerate(HEADS):
        neg = np.sort(z[safe, j])
        k = int(np.floor((1 - fpr) * len(neg)))
        t = float(neg[min(k, len(neg) - 1)]) if len(neg) else 0.0
        out[c] = float(1 / (1 + np.exp(-t)))
    return out


def _logit_thresholds(thresholds: dict[str, float]) -> npt.NDArray[np.float64]:
    return np.array([np.log(thresholds[c] / (1 - thresholds[c])) for c in HEADS])


def stops(z: npt.NDArray[np.float64], t: npt.NDArray[np.float64], strong: npt.NDArray[np.bool_]
          ) -> npt.NDArray[np.bool_]:
    """Whether each message is stopped: any head at or over its threshold, or a strong phrase."""
    return np.asarray((z >= t).any(axis=1) | strong)


def language_offsets(z: npt.NDArray[np.float64], t: npt.NDArray[np.float64], strong: npt.NDArray[np.bool_],
                     safe: npt.NDArray[np.bool_], langs: npt.NDArray[Any], rate: float) -> dict[str, float]:
    """Per language, the log-odds offset (added to every head) at which at most ``rate`` of its ordinary
    messages are stopped, found by bisection on the out-of-fold scores (the largest such offset, within
    [-4, 4])."""
    out: dict[str, float] = {}
    for lang in sorted({str(x) for x in langs[safe]}):
        m = safe & (langs == lang)
        lo, hi = -4.0, 4.0
        if stops(z[m] + lo, t, strong[m]).mean() > rate:
            out[lang] = lo
            continue
        for _ in range(40):
            mid = (lo + hi) / 2
            if stops(z[m] + mid, t, strong[m]).mean() > rate:
                hi = mid
            else:
                lo = mid
        out[lang] = round(lo, 4) + 0.0  # never "-0.0" in the card
    return out


def with_offsets(z: npt.NDArray[np.float64], langs: npt.NDArray[Any], offsets: dict[str, float]
                 ) -> npt.NDArray[np.float64]:
    out = z.copy()
    for lang, d in offsets.items():
        out[langs == lang] += d
    return out


def report_oof(z: npt.NDArray[np.float64], y: npt.NDArray[np.float32], safe: npt.NDArray[np.bool_],
               written: npt.NDArray[np.bool_], langs: npt.NDArray[Any], strong: npt.NDArray[np.bool_],
               t: npt.NDArray[np.float64]) -> dict[str, list[float]]:
    """Out-of-fold figures at the chosen operating point, per language and in all: the share of written harmful
    non-English records stopped (a head over its threshold or a strong phrase) and of ordinary ones."""
    stopped = stops(z, t, strong)
    harmful: npt.NDArray[np.bool_] = np.asarray(written & (y[:, :-1].sum(axis=1) > 0))
    per = {}
    for lang in sorted({str(x) for x in langs[written]}):
        m = langs == lang
        per[lang] = [round(float(stopped[harmful & m].mean()), 4), round(float(stopped[safe & m].mean()), 4)]
    print(f"out-of-fold: harmful stopped {stopped[harmful].mean():.3f} ({int(harmful.sum())}), "
          f"ordinary stopped {stopped[safe].mean():.3f} ({int(safe.sum())}); "
          + " ".join(f"{k} {a:.0%}/{b:.0%}" for k, (a, b) in per.items()), file=sys.stderr)
    per["all"] = [round(float(stopped[harmful].mean()), 4), round(float(stopped[safe].mean()), 4)]
    return per


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class TrainingSet:
    """The records every multilingual model is trained and cross-validated on, with what the operating point
    needs: each record's heads, weight, phrase features, strong-phrase match, language and writer fold."""

    recs: list[dict[str, Any]]
    texts: list[str]
    y: npt.NDArray[np.float32]
    weights: npt.NDArray[np.float64]
    extras: list[list[str]]
    strong: npt.NDArray[np.bool_]
    langs: npt.NDArray[Any]
    written: npt.NDArray[np.bool_]
    """Written multilingual records (not English, not xsafety): what the figures are about."""
    safe: npt.NDArray[np.bool_]
    """Written ordinary records: what the thresholds and offsets are set on."""
    fold_of: npt.NDArray[np.int64]


def training_records(english: int | None = ENGLISH_CAP, xsafety_from: Path | None = None,
                     without: Sequence[str] = ()) -> tuple[list[dict[str, Any]], int]:
    """The records a model is trained on, and how many of the training files' records were read before the
    English (and xsafety) ones were added."""
    recs = load_split("train", without=without)
    n_written = len(recs)
    recs += english_records(random.Random(SEED), english)
    if xsafety_from is not None:
        recs += load_xsafety(xsafety_from, "train")
    # Records known unsafe without a category (xsafety) cannot teach a category: left out of the heads.
    return [r for r in recs if str(r.get("text", "")).strip() and r.get("labels")], n_written


def training_set(english: int | None = ENGLISH_CAP, xsafety_from: Path | None = None, folds: int = 5,
                 without: Sequence[str] = ()) -> TrainingSet:
    recs, n_written = training_records(english, xsafety_from, without)
    texts = [str(r["text"]) for r in recs]
    weights = np.array([0.3 if r.get("source") == "xsafety" else 1.0 if r.get("lang") != "en" else 0.5
                        for r in recs])
    written = np.array([r.get("lang") != "en" and r.get("source") != "xsafety" for r in recs])
    safe = written & np.array([r.get("labels") == ["safe"] for r in recs])
    print(f"records: {len(recs)} ({n_written} written multilingual, safe non-English {int(safe.sum())})",
          file=sys.stderr)
    extras, strong = phrase_extras(texts)
    return TrainingSet(recs, texts, targets(recs), weights, extras, strong,
                       np.array([str(r.get("lang")) for r in recs]), written, safe, writer_folds(recs, folds, SEED))


def operating_point(z: npt.NDArray[np.float64], ts: TrainingSet, fpr: float, rate: float
                    ) -> tuple[dict[str, float], dict[str, float], float]:
    """Thresholds per head (``fpr``), offsets per language (``rate``) and the share of written harmful records
    stopped there, from out-of-fold logits ``z``."""
    th = choose_thresholds(z, ts.safe, fpr)
    t = _logit_thresholds(th)
    off = language_offsets(z, t, ts.strong, ts.safe, ts.langs, rate)
    caught = stops(with_offsets(z, ts.langs, off), t, ts.strong)
    harmful = ts.written & (ts.y[:, :-1].sum(axis=1) > 0)
    return th, off, float(caught[harmful].mean())


def settle(z: npt.NDArray[np.float64], ts: TrainingSet, fpr: float, rate: float
           ) -> tuple[dict[str, float], dict[str, float], dict[str, list[float]]]:
    """The operating point of out-of-fold logits ``z`` (thresholds, language offsets) and its out-of-fold figures
    per language, printed as well."""
    thresholds, offsets, _ = operating_point(z, ts, fpr, rate)
    oof = report_oof(with_offsets(z, ts.langs, offsets), ts.y, ts.safe, ts.written, ts.langs, ts.strong,
                     _logit_thresholds(thresholds))
    return thresholds, offsets, oof


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, required=True, help="directory to write ngram.npz and card.json")
    ap.add_argument("--xsafety", action="store_true", help="add the xsafety training part (weak labels)")
    ap.add_argument("--shared", type=Path, default=Path("../shared/datasets"))
    ap.add_argument("--english", type=int, default=ENGLISH_CAP,
                    help="English written train records to add (default: all)")
    ap.add_argument("--c", type=float, default=4.0, help="inverse L2 strength (n-gram heads)")
    ap.add_argument("--fpr", type=float, default=0.007,
                    help="per head, the share of ordinary non-English training records allowed over threshold")
    ap.add_argument("--ordinary-rate", type=float, default=0.05,
                    help="per language, the share of its ordinary training records the model may stop (out of fold)")
    ap.add_argument("--folds", type=int, default=5,
                    help="cross-validation folds; written batch k (its own writers) is fold k-1 (mod folds)")
    ap.add_argument("--without", action="append", default=[], metavar="GLOB",
                    help="leave out the training files matching GLOB (e.g. '*.b10*.jsonl'); may be repeated")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    ts = training_set(args.english, args.shared if args.xsafety else None, args.folds, args.without)
    recs, texts, y, weights = ts.recs, ts.texts, ts.y, ts.weights
    xn = ngram_matrix(texts, ts.extras)
    z = oof_logits(xn, y, weights, args.c, ts.fold_of)
    combine = {"ngram": 1.0}
    thresholds, offsets, oof = settle(z, ts, args.fpr, args.ordinary_rate)
    args.out.mkdir(parents=True, exist_ok=True)
    w, b = fit_heads(xn, y, weights, args.c)
    np.savez_compressed(args.out / "ngram.npz", weights=w.astype(np.float16), bias=b.astype(np.float32))
    files = {"ngram.npz": _sha256(args.out / "ngram.npz")}
    card: dict[str, Any] = {
        "version": MODEL_VERSION,
        "categories": [c.value for c in MODEL_CATEGORIES],
        "heads": list(HEADS),
        "model": "per category and one for any of them: logistic regression over hashed word 1-2-grams and char "
        f"3-5-grams of the folded text ({N_BUCKETS} buckets, float16)",
        "combine": combine,
        "thresholds": thresholds,
        "language_offsets": offsets,
        "fpr": args.fpr,
        "ordinary_rate": args.ordinary_rate,
        "out_of_fold": {"stopped (harmful, ordinary) by language": oof},
        "c": args.c,
        "seed": SEED,
        "folds": args.folds,
        "without": list(args.without),
        "records": len(recs),
        "data": {
            "data/multilingual/train": "written for childsafe, ten languages (Apache-2.0)",
            "data/written": f"English train batches, {english_label(args.english)} (Apache-2.0)",
            **({"xsafety_multilingual": "training part (parallel id not divisible by 5), weight 0.3 (Apache-2.0, "
                "research use)"} if args.xsafety else {}),
        },
        "command": "python -m childsafe.train.multilingual --out DIR" + (" --xsafety" if args.xsafety else "")
                   + (f" --folds {args.folds}" if args.folds != 5 else "")
                   + (f" --ordinary-rate {args.ordinary_rate}" if args.ordinary_rate != 0.05 else "")
                   + without_flags(args.without),
    }
    card["files"] = files
    (args.out / "card.json").write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({time.perf_counter() - t0:.0f}s); combine {combine}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
