"""Choose the policy's per-category stop thresholds on development data only, and show what they cost.

    python bench/choose_thresholds.py                    # shipped model, dev splits, age band 13-15
    python bench/choose_thresholds.py --model-dir DIR    # a `childsafe train` output

Reads the engine's per-category scores (policy-independent) on the dev sets of bench/detection_suite.py (the
written dev batches, the dev parts of the real-user sets, the seed dev split). For each category it prints, at
each candidate threshold, recall of that category's records and the share of safe dev records whose score for
that category reaches it; it suggests the lowest threshold whose safe-record rate stays within --max-fpr. The
suggestion is for a person to copy into policy.yaml (the policy stays data); the test splits are never read.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from detection_suite import ROOT, SETS, EngineScorer, load_sets

from childsafe.train.data import CATEGORIES


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--age", default="13-15")
    ap.add_argument("--model-dir", default=None)
    ap.add_argument("--policy", default=None, help="a policy YAML (its fusion section shapes the scores)")
    ap.add_argument("--max-fpr", type=float, default=0.005, help="per category, share of safe dev records stopped")
    ap.add_argument("--max-total-fpr", type=float, default=0.05,
                    help="then lower thresholds greedily (most recall per safe record stopped first) until this share "
                         "of safe dev records is stopped by any category")
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "datasets")
    ap.add_argument("--seed", type=Path, default=ROOT / "data" / "seed" / "seed.jsonl")
    ap.add_argument("--written", type=Path, default=ROOT / "data" / "written")
    a = ap.parse_args(argv)
    sets = load_sets(a.shared, a.seed, a.written, {"dev"}, {**SETS, "seed dev": ("seed", "dev")})
    eng = EngineScorer(a.age, a.model_dir, a.policy)
    recs = [r for v in sets.values() for r in v]
    cs, _, _ = eng.score(recs)
    safe = np.array([r.safe for r in recs])
    grid = np.round(np.arange(0.2, 0.96, 0.05), 2)
    print(f"{len(recs)} dev records ({int(safe.sum())} safe) from {', '.join(sets)}; age band {a.age}\n")
    print("| category | dev positives | suggested stop threshold | recall there | safe stopped there | "
          "recall at 0.5 | safe at 0.5 |")
    print("|---|---|---|---|---|---|---|")
    for j, c in enumerate(CATEGORIES):
        pos = np.array([bool(r.labels) and c in (r.labels or []) for r in recs])
        if not pos.any():
            continue
        ok = [t for t in grid if float((cs[safe, j] >= t).mean()) <= a.max_fpr]
        t = float(min(ok)) if ok else 0.95
        rec = float((cs[pos, j] >= t).mean())
        fpr = float((cs[safe, j] >= t).mean())
        print(f"| {c} | {int(pos.sum())} | {t:.2f} | {rec:.3f} | {fpr:.3f} | {float((cs[pos, j] >= 0.5).mean()):.3f} "
              f"| {float((cs[safe, j] >= 0.5).mean()):.3f} |")
    greedy(cs, recs, safe, grid, a)


def greedy(cs: np.ndarray, recs: list, safe: np.ndarray, grid: np.ndarray, a: argparse.Namespace) -> None:  # type: ignore[type-arg]
    """Start from the per-category thresholds, then repeatedly lower the one step that buys the most newly
    caught harmful records per newly stopped safe record, while the share of safe records stopped by any
    category stays within --max-total-fpr."""
    unsafe = np.array([r.unsafe for r in recs])
    th = np.array([min([t for t in grid if float((cs[safe, j] >= t).mean()) <= a.max_fpr] or [0.95])
                   for j in range(len(CATEGORIES))])

    def stopped(t: np.ndarray) -> np.ndarray:
        out: np.ndarray = (cs >= t).any(1)
        return out

    while True:
        cur = stopped(th)
        best, best_gain = None, 0.0
        for j in range(len(CATEGORIES)):
            lower = grid[grid < th[j]]
            if not len(lower):
                continue
            t = th.copy()
            t[j] = lower.max()
            new = stopped(t)
            fp = float(new[safe].mean())
            if fp > a.max_total_fpr:
                continue
            gain = (int((new & unsafe).sum()) - int((cur & unsafe).sum())) / max(
                1, int((new & safe).sum()) - int((cur & safe).sum()))
            if gain > best_gain:
                best, best_gain = (j, t), gain
        if best is None or best_gain < 1.0:
            break
        th = best[1]
    s = stopped(th)
    print(f"\ngreedy thresholds within {a.max_total_fpr:.1%} of safe dev records stopped: "
          f"recall {float(s[unsafe].mean()):.3f}, safe stopped {float(s[safe].mean()):.3f}")
    for j, c in enumerate(CATEGORIES):
        print(f"  {c}: {th[j]:.2f}")


if __name__ == "__main__":
    main()
