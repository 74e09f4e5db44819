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

from detection_suite import ROOT, EngineScorer, load_sets

from childsafe.train.data import CATEGORIES


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--age", default="13-15")
    ap.add_argument("--model-dir", default=None)
    ap.add_argument("--max-fpr", type=float, default=0.01, help="per category, share of safe dev records stopped")
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "datasets")
    ap.add_argument("--seed", type=Path, default=ROOT / "data" / "seed" / "seed.jsonl")
    ap.add_argument("--written", type=Path, default=ROOT / "data" / "written")
    a = ap.parse_args(argv)
    sets = load_sets(a.shared, a.seed, a.written, {"dev"})
    sets["seed dev"] = _seed_dev(a)
    eng = EngineScorer(a.age, a.model_dir, None)
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


def _seed_dev(a: argparse.Namespace) -> list:  # type: ignore[type-arg]
    from detection_suite import to_record

    from childsafe.train.data import build

    parts = build(a.shared, a.seed, written=a.written)
    return [to_record(i, e) for i, e in enumerate(parts["dev"]) if e.source == "seed"]


if __name__ == "__main__":
    main()
