"""Fit the policy's score fusion (``childsafe.policy.schema.Fusion``) on development data only.

    python -m childsafe.train.fusion [--model-dir DIR] [--out fusion.yaml]

Runs the engine's detectors (without fusion) on the dev splits of ``childsafe.train.data.build`` (seed dev,
the written dev batches, the dev parts of the real-user sets), then fits one logistic model over every
(record, category) pair: shared weights for the detectors' features, one bias per category. Records whose
source says harmful but gives no category count as positive for the category their detectors scored highest.
The result is YAML for the ``fusion:`` section of a policy file; a person copies it in (the policy stays data).
Test splits are never read here.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from childsafe.train.data import CATEGORIES, Example, build

DETECTORS: tuple[str, ...] = ("classifier", "lexicon", "composition", "personal_info", "grooming_stages")
PRESENT: tuple[str, ...] = ("lexicon", "composition")
_EPS = 1e-4
# The shipped floors: sexual_minors keeps any rule finding; every other category keeps findings of these
# detectors from ``strong_floor`` up (a phone number, an email, a school and a time: redacted whether or not the
# model agrees). Measured on dev: flooring personal_info at any score cost AUPRC (first names and places in
# safe text rank high) and changed no decision; from 0.9 up it costs nothing there.
FLOOR_CATEGORIES: tuple[str, ...] = ("sexual_minors",)
FLOOR_DETECTORS: tuple[str, ...] = ("lexicon", "composition", "personal_info")


def detector_scores(
    examples: Sequence[Example], model_dir: str | None = None, age: str = "13-15", detectors: Sequence[str] = DETECTORS
) -> np.ndarray:
    """(records, detectors, categories) array of each of ``detectors``' highest score per category."""
    from childsafe.config import Config
    from childsafe.engine import Engine
    from childsafe.policy import load_policy
    from childsafe.types import Role

    dets: dict[str, Any] = dict(Config().detectors)
    if model_dir:
        dets["classifier"] = {"model_dir": model_dir}
    plain = load_policy().model_copy(update={"fusion": None})
    engine = Engine(config=Config.model_validate({"detectors": dets}), policy=plain)
    out = np.zeros((len(examples), len(detectors), len(CATEGORIES)))
    by_role: dict[Role, list[int]] = {}
    for i, e in enumerate(examples):
        by_role.setdefault(Role.parse(e.role or "child"), []).append(i)
    for role, idx in by_role.items():
        for i, d in zip(idx, engine.check_batch([examples[i].text for i in idx], age=age, role=role), strict=True):
            for det in d.detections:
                if det.detector in detectors:
                    j, c = detectors.index(det.detector), CATEGORIES.index(det.category.value)
                    out[i, j, c] = max(out[i, j, c], det.score)
    return out


def features(x: np.ndarray) -> np.ndarray:
    """(records, categories, features): the classifier's logit, each detector's score, presence flags."""
    p = np.clip(x[:, 0, :], _EPS, 1 - _EPS)
    cols = [np.log(p / (1 - p))] + [x[:, j, :] for j in range(1, len(DETECTORS))]
    cols += [(x[:, DETECTORS.index(n), :] > 0).astype(np.float64) for n in PRESENT]
    return np.stack(cols, axis=-1)


def fit(x: np.ndarray, y: np.ndarray, any_only: np.ndarray, l2: float = 1.0) -> dict[str, Any]:
    """Pooled logistic regression (shared weights, per-category bias) by Newton's method with an L2 penalty."""
    f = features(x)
    n, c, k = f.shape
    target = y.astype(np.float64).copy()
    mask = np.repeat(~any_only[:, None], c, axis=1)
    rows = np.where(any_only)[0]
    top = x.max(axis=1).argmax(axis=1)
    mask[rows, top[rows]] = True
    target[rows, top[rows]] = 1.0
    design = np.concatenate([f, np.broadcast_to(np.eye(c), (n, c, c))], axis=-1)[mask]
    t = target[mask]
    w = np.zeros(design.shape[1])
    reg = np.r_[np.full(k, l2), np.full(c, 1e-3)]
    for _ in range(50):
        z = design @ w
        p = 1 / (1 + np.exp(-z))
        grad = design.T @ (p - t) + reg * w
        hess = (design * (p * (1 - p))[:, None]).T @ design + np.diag(reg)
        step = np.linalg.solve(hess, grad)
        w -= step
        if float(np.abs(step).max()) < 1e-8:
            break
    names = ["classifier", *DETECTORS[1:]]
    return {
        "weights": {name: round(float(w[i]), 4) for i, name in enumerate(names)},
        "present": {name: round(float(w[len(names) + i]), 4) for i, name in enumerate(PRESENT)},
        "bias": {cat: round(float(w[k + j]), 4) for j, cat in enumerate(CATEGORIES)},
    }


def fused(x: np.ndarray, params: dict[str, Any], strong_floor: float = 0.9) -> np.ndarray:
    """The fused score of every (record, category), as ``policy.evaluate.category_scores`` computes it with the
    shipped floors (sexual_minors: any rule score; other categories: rule scores from ``strong_floor``)."""
    f = features(x)
    wv = np.array([params["weights"][n] for n in DETECTORS] + [params["present"][n] for n in PRESENT])
    z = f @ wv + np.array([params["bias"][c] for c in CATEGORIES])
    out: np.ndarray = 1 / (1 + np.exp(-z))
    rule = np.maximum.reduce([x[:, DETECTORS.index(n), :] for n in FLOOR_DETECTORS])
    floor = np.full(len(CATEGORIES), strong_floor)
    for cat in FLOOR_CATEGORIES:
        floor[CATEGORIES.index(cat)] = 0.0
    out = np.where(rule >= floor, np.maximum(out, rule), out)
    return out


def to_yaml(params: dict[str, Any], fitted_on: str) -> str:
    lines = ["fusion:", f"  floor_categories: [{', '.join(FLOOR_CATEGORIES)}]",
             f"  floor_detectors: [{', '.join(FLOOR_DETECTORS)}]", "  strong_floor: 0.9",
             f"  fitted_on: {fitted_on!r}", "  weights:"]
    lines += [f"    {k}: {v}" for k, v in params["weights"].items()]
    lines += ["  present:"] + [f"    {k}: {v}" for k, v in params["present"].items()]
    lines += ["  bias:"] + [f"    {k}: {v}" for k, v in params["bias"].items()]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model-dir", default=None)
    ap.add_argument("--shared", type=Path, default=Path("../shared/datasets"))
    ap.add_argument("--seed", type=Path, default=Path("data/seed/seed.jsonl"))
    ap.add_argument("--written", type=Path, default=Path("data/written"))
    ap.add_argument("--out", type=Path, default=None)
    a = ap.parse_args(argv)
    from childsafe.eval.metrics import average_precision

    dev = build(a.shared, a.seed, written=a.written)["dev"]
    x = detector_scores(dev, a.model_dir)
    y = np.array([e.labels for e in dev])
    ao = np.array([e.any_only for e in dev])
    params = fit(x, y, ao)
    unsafe = (y.max(1) > 0) | ao
    print(f"dev records: {len(dev)} ({int(unsafe.sum())} unsafe)")
    print(f"any-unsafe AUPRC on dev: max over detectors {average_precision(x.max(axis=(1, 2)), unsafe):.3f}, "
          f"fused {average_precision(fused(x, params).max(1), unsafe):.3f}")
    text = to_yaml(params, f"dev splits ({len(dev)} records: seed, written, real-user)")
    print(text)
    if a.out:
        a.out.write_text(text)
    if not math.isfinite(sum(params["weights"].values())):  # pragma: no cover - a degenerate fit
        raise SystemExit("fusion fit did not converge")


if __name__ == "__main__":  # pragma: no cover
    main()
