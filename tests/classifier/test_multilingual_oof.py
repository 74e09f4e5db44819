"""Comparing encoders on held-out writer folds (childsafe.train.multilingual_oof), on a small synthetic set."""

from __future__ import annotations

import numpy as np
import pytest

from childsafe.train.multilingual import HEADS, TrainingSet
from childsafe.train.multilingual_oof import held_out_recall, subset


def _set(n_harm: int, n_safe: int) -> TrainingSet:
    n = n_harm + n_safe
    y = np.zeros((n, len(HEADS)), dtype=np.float32)
    y[:n_harm, 0] = 1.0  # sexual_minors
    y[:n_harm, -1] = 1.0  # any
    recs = [{"labels": ["sexual_minors"] if i < n_harm else ["safe"], "lang": "es"} for i in range(n)]
    return TrainingSet(recs, [f"t{i}" for i in range(n)], y, np.ones(n), [[] for _ in range(n)],
                       np.zeros(n, dtype=bool), np.array(["es"] * n), np.ones(n, dtype=bool),
                       np.arange(n) >= n_harm, np.arange(n) % 2)


def test_a_better_separating_encoder_stops_more_at_the_same_ordinary_rate() -> None:
    ts = _set(100, 400)
    rng = np.random.default_rng(0)
    base = rng.normal(size=(500, len(HEADS)))
    weak, strong = base.copy(), base.copy()
    weak[:100] += 1.0
    strong[:100] += 3.0
    r_weak, _ = held_out_recall(weak, ts, 0.01, 0.05)
    r_strong, per_strong = held_out_recall(strong, ts, 0.01, 0.05)
    assert r_strong > r_weak + 0.2
    assert set(per_strong) == {"es"} and per_strong["es"] == pytest.approx(r_strong)


def test_subset_keeps_the_rows_asked_for_in_every_field() -> None:
    ts = _set(4, 6)
    rows = np.array([1, 5, 8])
    sub = subset(ts, rows)
    assert sub.texts == ["t1", "t5", "t8"]
    assert sub.y.shape == (3, len(HEADS)) and sub.y[0, 0] == 1.0 and sub.y[1, 0] == 0.0
    assert list(sub.fold_of) == [1, 1, 0] and list(sub.safe) == [False, True, True]
    assert len(sub.recs) == len(sub.extras) == len(sub.weights) == len(sub.langs) == 3
