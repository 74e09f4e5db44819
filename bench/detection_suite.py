"""Detection suite: every development and held-out source side by side, childsafe next to a peer in one run.

    python bench/detection_suite.py                      # default engine, age band 13-15 (as the public runs)
    python bench/detection_suite.py --model-dir DIR      # a `childsafe train` output instead of the shipped model
    python bench/detection_suite.py --splits test        # only the parts no training or threshold touched

Sources come from the same fixed splits `childsafe train` uses (childsafe.train.data.build), so a figure on a
``test`` row is on text that no model and no threshold saw. ``dev`` rows are the ones thresholds were chosen on:
read them as optimistic. Per set: any-unsafe AUPRC (the engine's highest category score), F1, recall and FPR on
safe records at the action ("stopped" = redact or more severe), then per-category recall of the engine.
Records whose category is unknown but whose source says harmful count as unsafe in the any-unsafe figures.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from childsafe.eval.metrics import average_precision, binary_metrics  # noqa: E402
from childsafe.eval.run import EvalRecord  # noqa: E402
from childsafe.train.data import CATEGORIES, Example, build  # noqa: E402

SETS: dict[str, tuple[str, str]] = {
    # name: (source in train.data, split)
    "toxicchat dev": ("toxicchat_train", "dev"),
    "toxicchat test": ("toxicchat_train", "test"),
    "donotanswer dev": ("donotanswer_prompts", "dev"),
    "donotanswer test": ("donotanswer_prompts", "test"),
    "harmbench dev": ("harmbench_behaviors", "dev"),
    "harmbench test": ("harmbench_behaviors", "test"),
    "jailbreakbench (held out)": ("jailbreakbench_behaviors", "test"),
    "written dev": ("written", "dev"),
    "written test": ("written", "test"),
    "seed test": ("seed", "test"),
}


def to_record(i: int, e: Example) -> EvalRecord:
    cats = [c for c, v in zip(CATEGORIES, e.labels, strict=True) if v]
    if e.any_only:
        return EvalRecord(f"r{i}", [e.text], None, True, e.role)
    return EvalRecord(f"r{i}", [e.text], cats or ["safe"], bool(cats), e.role)


def load_sets(shared: Path, seed: Path, written: Path, splits: set[str],
              sets: dict[str, tuple[str, str]] = SETS) -> dict[str, list[EvalRecord]]:
    """The named (source, split) record sets of ``sets`` whose split is in ``splits``, from one build."""
    parts = build(shared, seed, written=written)
    out: dict[str, list[EvalRecord]] = {}
    for name, (src, split) in sets.items():
        if split not in splits:
            continue
        recs = [to_record(i, e) for i, e in enumerate(parts[split]) if e.source == src]
        if recs:
            out[name] = recs
    return out


class EngineScorer:
    name = "childsafe"

    def __init__(self, age: str, model_dir: str | None, policy: str | None, detectors: str | None = None,
                 floor: float | None = None) -> None:
        from childsafe.config import Config
        from childsafe.engine import Engine

        data: dict[str, Any] = {}
        dets = dict(Config().detectors)
        if detectors:
            dets = {k: v for k, v in dets.items() if k in detectors.split(",")}
        if model_dir or floor is not None:
            dets["classifier"] = {**({"model_dir": model_dir} if model_dir else {}),
                                  **({"floor": floor} if floor is not None else {})}
        data["detectors"] = dets
        if policy:
            data["policy"] = policy
        self.engine = Engine.from_config(Config.model_validate(data))
        bad = self.engine.warmup()
        if bad:
            raise SystemExit(f"engine unavailable: {bad}")
        self.age = age

    def score(self, recs: list[EvalRecord]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(per-category scores, stopped, per-category stopped)."""
        from childsafe.types import Role

        n = len(recs)
        cs = np.zeros((n, len(CATEGORIES)))
        stopped = np.zeros(n, dtype=bool)
        cf = np.zeros((n, len(CATEGORIES)), dtype=bool)
        by_role: dict[Role, list[int]] = defaultdict(list)
        for i, r in enumerate(recs):
            by_role[Role.parse(r.role or "child")].append(i)
        for role, idx in by_role.items():
            for i, d in zip(idx, self.engine.check_batch([recs[i].texts[0] for i in idx], age=self.age, role=role),
                            strict=True):
                for c, s in d.scores.items():
                    cs[i, CATEGORIES.index(c.value)] = s
                stopped[i] = d.action.stops_content
                for c in d.categories:
                    cf[i, CATEGORIES.index(c.value)] = d.action.stops_content
        return cs, stopped, cf


class ClassifierScorer:
    name = "classifier alone"

    def __init__(self, model_dir: str | None) -> None:
        from childsafe.eval.systems import ClassifierSystem

        self.sys = ClassifierSystem(model_dir)
        self.sys.load()

    def score(self, recs: list[EvalRecord]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        _, flagged, cs, cf = self.sys.score([r.texts for r in recs])
        assert cs is not None and cf is not None
        return cs, flagged, cf


class AltProfanityScorer:
    name = "alt-profanity-check"

    def __init__(self) -> None:
        from profanity_check import predict_prob

        self.fn = predict_prob

    def score(self, recs: list[EvalRecord]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        p = np.asarray(self.fn([r.texts[0] for r in recs]), dtype=np.float64)
        return p[:, None], p >= 0.5, np.zeros((len(recs), 0), dtype=bool)


def summarise(recs: list[EvalRecord], cs: np.ndarray, stopped: np.ndarray) -> dict[str, Any]:
    y = np.array([r.unsafe for r in recs])
    safe = np.array([r.safe for r in recs])
    m = binary_metrics(stopped, y)
    any_s = cs.max(1)
    return {
        "n": len(recs), "unsafe": int(y.sum()),
        "auprc": round(average_precision(any_s, y), 3) if 0 < y.sum() < len(y) else None,
        "f1": round(m["f1"], 3) if 0 < y.sum() < len(y) else None,
        "recall": round(m["recall"], 3) if y.any() else None,
        "fpr_safe": round(float(stopped[safe].mean()), 3) if safe.any() else None,
    }


def per_category_recall(sets: dict[str, list[EvalRecord]], cfs: dict[str, np.ndarray],
                        stops: dict[str, np.ndarray]) -> dict[str, dict[str, Any]]:
    """Per category: share of its records stopped (any category) and stopped with that category named."""
    out: dict[str, dict[str, Any]] = {}
    for j, c in enumerate(CATEGORIES):
        n = stopped = named = 0
        for name, recs in sets.items():
            for i, r in enumerate(recs):
                if r.labels and c in r.labels:
                    n += 1
                    stopped += int(stops[name][i])
                    named += int(cfs[name][i, j])
        if n:
            out[c] = {"n": n, "stopped": round(stopped / n, 3), "named": round(named / n, 3)}
    return out


def fmt(v: Any) -> str:
    return "–" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--age", default="13-15")
    ap.add_argument("--model-dir", default=None, help="a `childsafe train` output (default: the shipped model)")
    ap.add_argument("--policy", default=None, help="a policy YAML (default: the shipped policy)")
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "datasets")
    ap.add_argument("--seed", type=Path, default=ROOT / "data" / "seed" / "seed.jsonl")
    ap.add_argument("--written", type=Path, default=ROOT / "data" / "written")
    ap.add_argument("--splits", default="dev,test", help="dev, test or both")
    ap.add_argument("--detectors", default=None, help="comma list: only these of the default detectors")
    ap.add_argument("--classifier-floor", type=float, default=None, help="classifier scores below this are dropped "
                    "(0.05 before scores became rankable)")
    ap.add_argument("--no-peer", action="store_true", help="skip alt-profanity-check")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures as JSON")
    a = ap.parse_args(argv)
    t0 = time.time()
    sets = load_sets(a.shared, a.seed, a.written, set(a.splits.split(",")))
    scorers: list[Any] = [EngineScorer(a.age, a.model_dir, a.policy, a.detectors, a.classifier_floor),
                          ClassifierScorer(a.model_dir)]
    if not a.no_peer:
        try:
            scorers.append(AltProfanityScorer())
        except ImportError:
            print("alt-profanity-check not installed: peer column skipped (pip install 'childsafe[eval]')")
    report: dict[str, Any] = {"age": a.age, "model_dir": a.model_dir, "policy": a.policy,
                              "detectors": a.detectors, "sets": {}}
    eng_cf: dict[str, np.ndarray] = {}
    eng_stop: dict[str, np.ndarray] = {}
    print(f"age band {a.age}; 'stopped' = redact or more severe\n")
    print("| set | system | n | unsafe | any-unsafe AUPRC | F1 at action | recall | FPR on safe |")
    print("|---|---|---|---|---|---|---|---|")
    for name, recs in sets.items():
        report["sets"][name] = {}
        for sc in scorers:
            cs, stopped, cf = sc.score(recs)
            if sc.name == "childsafe":
                eng_cf[name], eng_stop[name] = cf, stopped
            row = summarise(recs, cs, stopped)
            report["sets"][name][sc.name] = row
            print(f"| {name} | {sc.name} | {row['n']} | {row['unsafe']} | {fmt(row['auprc'])} | {fmt(row['f1'])} "
                  f"| {fmt(row['recall'])} | {fmt(row['fpr_safe'])} |")
    for part in ("dev", "test"):
        chosen = {k: v for k, v in sets.items() if k.endswith(part) or (part == "test" and "held out" in k)}
        if not chosen:
            continue
        pc = per_category_recall(chosen, eng_cf, eng_stop)
        report[f"per_category_{part}"] = pc
        print(f"\nper-category recall of childsafe on the {part} sets (stopped at all / stopped naming the category)")
        print("| category | n | stopped | named |")
        print("|---|---|---|---|")
        for c, v in pc.items():
            print(f"| {c} | {v['n']} | {v['stopped']:.3f} | {v['named']:.3f} |")
    report["seconds"] = round(time.time() - t0, 1)
    print(f"\n{report['seconds']} s")
    if a.json:
        a.json.write_text(json.dumps(report, indent=2) + "\n")
    return report


if __name__ == "__main__":
    main()
