"""Compare multilingual encoders on held-out writer folds of the training data, without the development sets.

    python -m childsafe.train.multilingual_oof --folds 3 --fold 0 [--without GLOB ...] A.npy B.npy ...

Each ``.npy`` holds an encoder's out-of-fold logits, as ``python -m childsafe.train.multilingual_encoder
--oof-cache FILE`` writes them (train with ``--layers 6`` for a six-layer encoder, and so on). For each, on the
held-out fold(s) chosen: the written harmful records stopped when the encoder is combined with the n-gram model's
out-of-fold logits at an operating point set on those records alone (the trainer's ``--fpr`` per head, its
``--ordinary-rate`` per language), at the best n-gram weight of 0.3-0.7; the n-gram model alone first.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt

from childsafe.train.multilingual import (
    TrainingSet,
    _logit_thresholds,
    ngram_matrix,
    oof_logits,
    operating_point,
    stops,
    training_set,
    with_offsets,
)

WEIGHTS = (0.3, 0.4, 0.5, 0.6, 0.7)


def subset(ts: TrainingSet, rows: npt.NDArray[np.int64]) -> TrainingSet:
    """The records ``rows`` of ``ts``, as a training set of their own."""
    return dataclasses.replace(
        ts, recs=[ts.recs[i] for i in rows], texts=[ts.texts[i] for i in rows], y=ts.y[rows],
        weights=ts.weights[rows], extras=[ts.extras[i] for i in rows], strong=ts.strong[rows], langs=ts.langs[rows],
        written=ts.written[rows], safe=ts.safe[rows], fold_of=ts.fold_of[rows])


def held_out_recall(z: npt.NDArray[np.float64], ts: TrainingSet, fpr: float, rate: float
                    ) -> tuple[float, dict[str, float]]:
    """Written harmful records stopped at the operating point ``z`` gets on ``ts`` itself, in all and by language."""
    th, off, recall = operating_point(z, ts, fpr, rate)
    caught = stops(with_offsets(z, ts.langs, off), _logit_thresholds(th), ts.strong)
    harmful = ts.written & (ts.y[:, :-1].sum(axis=1) > 0)
    per = {str(lang): float(caught[harmful & (ts.langs == lang)].mean()) for lang in sorted(set(ts.langs[harmful]))}
    return recall, per


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("caches", nargs="+", type=Path, help="encoders' out-of-fold logits (.npy, --oof-cache)")
    ap.add_argument("--folds", type=int, default=5, help="as the caches were trained with")
    ap.add_argument("--fold", type=int, action="append", help="held-out fold(s) to compare on (default: all)")
    ap.add_argument("--without", action="append", default=[], metavar="GLOB")
    ap.add_argument("--c", type=float, default=4.0)
    ap.add_argument("--fpr", type=float, default=0.007)
    ap.add_argument("--ordinary-rate", type=float, default=0.05)
    args = ap.parse_args(argv)
    ts = training_set(folds=args.folds, without=args.without)
    z_ng = oof_logits(ngram_matrix(ts.texts, ts.extras), ts.y, ts.weights, args.c, ts.fold_of)
    rows = np.where(np.isin(ts.fold_of, args.fold if args.fold else sorted(set(ts.fold_of.tolist()))))[0]
    sub = subset(ts, rows)
    print(f"{len(rows)} held-out records: {int((sub.written & (sub.y[:, :-1].sum(axis=1) > 0)).sum())} written "
          f"harmful, {int(sub.safe.sum())} ordinary")

    def show(name: str, recall: float, per: dict[str, float], weight: float | None) -> None:
        langs = " ".join(f"{k} {v:.1%}" for k, v in per.items())
        print(f"{name}: {recall:.1%} of written harmful stopped"
              + (f" (n-gram weight {weight})" if weight is not None else "") + f"\n    {langs}")

    show("n-grams alone", *held_out_recall(z_ng[rows], sub, args.fpr, args.ordinary_rate), None)
    for path in args.caches:
        try:
            tuned = np.load(path)
        except (OSError, ValueError) as exc:
            raise SystemExit(f"{path}: not a .npy file of out-of-fold logits ({exc})") from None
        if tuned.shape != z_ng.shape:
            raise SystemExit(f"{path}: logits of shape {tuned.shape}, the training set gives {z_ng.shape} (other "
                             "--folds or --without?)")
        best = max(((held_out_recall(a * z_ng[rows] + (1 - a) * tuned[rows], sub, args.fpr, args.ordinary_rate), a)
                    for a in WEIGHTS), key=lambda r: r[0][0])
        show(str(path), best[0][0], best[0][1], best[1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
