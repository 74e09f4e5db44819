"""Metrics in plain numpy (no scikit-learn needed): precision/recall/F1, FPR, AUPRC, PR curves, percentiles."""

from __future__ import annotations

from typing import Any

import numpy as np


def pr_curve(scores: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Precision, recall and thresholds over all distinct scores (descending thresholds)."""
    s = np.asarray(scores, dtype=np.float64)
    t = np.asarray(y, dtype=np.float64)
    order = np.argsort(-s, kind="mergesort")
    s, t = s[order], t[order]
    distinct = np.where(np.diff(s))[0]
    idx = np.r_[distinct, len(s) - 1]
    tp = np.cumsum(t)[idx]
    fp = (idx + 1) - tp
    npos = max(1.0, float(t.sum()))
    precision = tp / np.maximum(tp + fp, 1e-12)
    recall = tp / npos
    return precision, recall, s[idx]


def average_precision(scores: np.ndarray, y: np.ndarray) -> float:
    """Area under the PR curve as average precision (step-wise, as scikit-learn computes it)."""
    y = np.asarray(y)
    if y.sum() == 0:
        return float("nan")
    precision, recall, _ = pr_curve(scores, y)
    r_prev = np.r_[0.0, recall[:-1]]
    return float(np.sum((recall - r_prev) * precision))


def binary_metrics(pred: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """Precision, recall, F1 and false-positive rate of boolean predictions."""
    pred = np.asarray(pred, dtype=bool)
    yb = np.asarray(y, dtype=bool)
    tp = int((pred & yb).sum())
    fp = int((pred & ~yb).sum())
    fn = int((~pred & yb).sum())
    tn = int((~pred & ~yb).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else float("nan")
    f1 = 2 * precision * recall / (precision + recall) if precision + recall and recall == recall else 0.0
    fpr = fp / (fp + tn) if fp + tn else float("nan")
    return {"tp": tp, "fp": fp, "fn": fn, "tn": tn, "precision": precision, "recall": recall, "f1": f1, "fpr": fpr}


def percentile_ms(latencies_s: list[float], q: float) -> float:
    if not latencies_s:
        return float("nan")
    return float(np.percentile(np.asarray(latencies_s) * 1000.0, q))
