"""Reliability diagram of the classifier's calibrated scores, from a training run's eval_logits.npz.

Usage: python bench/calibration_plot.py --model-dir BUILD_DIR [--out docs/model-card-calibration.png]
BUILD_DIR is the ``--out`` of ``childsafe train`` (it holds eval_logits.npz and classifier.json). Prints the
expected calibration error per split (pooled over categories; masked labels skipped) and draws one curve per
split: val (in domain), dev (seed templates that chose the thresholds), test (held-out sets and seed test).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np


def reliability(p: np.ndarray, y: np.ndarray, bins: int = 10) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Mean score, observed rate and count per score bin, and the expected calibration error."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    idx = np.clip(np.digitize(p, edges) - 1, 0, bins - 1)
    mean_p, rate, count = np.zeros(bins), np.zeros(bins), np.zeros(bins)
    for b in range(bins):
        m = idx == b
        count[b] = m.sum()
        if count[b]:
            mean_p[b], rate[b] = p[m].mean(), y[m].mean()
    ece = float((np.abs(mean_p - rate) * count).sum() / max(count.sum(), 1))
    return mean_p, rate, count, ece


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model-dir", type=Path, required=True)
    ap.add_argument("--out", type=Path, default=Path("docs/model-card-calibration.png"))
    a = ap.parse_args()
    npz = a.model_dir / "eval_logits.npz"
    manifest = a.model_dir / "classifier.json"
    if not npz.is_file() or not manifest.is_file():
        raise SystemExit(f"error: {a.model_dir} has no eval_logits.npz / classifier.json (a `childsafe train` output)")
    data = np.load(npz)
    m = json.loads(manifest.read_text())
    params = m["calibration"]["params"]
    a_, b_ = (np.array([params[c][k] for c in m["categories"]]) for k in ("a", "b"))

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1)
    out: dict[str, dict[str, float]] = {}
    for split in ("val", "dev", "test"):
        z, y = data[f"z_{split}"], data[f"y_{split}"]
        p = 1.0 / (1.0 + np.exp(-(z * a_ + b_)))
        known = y >= 0  # -1 marks a label the source does not give
        mean_p, rate, count, ece = reliability(p[known], y[known].astype(float))
        keep = count > 0
        ax.plot(mean_p[keep], rate[keep], marker="o", label=f"{split} (ECE {ece:.3f})")
        out[split] = {"ece": round(ece, 4), "pairs": int(known.sum())}
    ax.set_xlabel("calibrated score")
    ax.set_ylabel("observed positive rate")
    ax.set_title("classifier calibration (pooled categories)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(a.out, dpi=110)
    print(json.dumps({"calibration": out, "plot": str(a.out)}, indent=2))


if __name__ == "__main__":
    main()
