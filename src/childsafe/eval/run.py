"""`childsafe eval`: score a labelled JSONL data set with childsafe and its peers, side by side.

Records use the shared data-set format: ``text`` or ``messages``; ``labels`` lists categories or ``safe``;
an empty ``labels`` means unknown, so the record is left out of every metric that needs a label.
"""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from childsafe.eval.metrics import average_precision, binary_metrics, percentile_ms, pr_curve
from childsafe.eval.systems import CATS, Scored, System, default_systems
from childsafe.eval.transforms import TRANSFORMS
from childsafe.types import AgeBand, Category, InvalidInputError


@dataclass
class EvalRecord:
    id: str
    texts: list[str]
    labels: list[str] | None  # None = categories unknown
    harmful: bool | None = None
    """The source's own harmful-or-not judgement (``unsafe``), known even where the categories are not."""
    role: str | None = None

    @property
    def known(self) -> bool:
        """Whether harmful-or-not is known (from the categories or from ``unsafe``)."""
        return self.labels is not None or self.harmful is not None

    @property
    def unsafe(self) -> bool:
        if self.labels is None:
            return bool(self.harmful)
        return any(lab != "safe" for lab in self.labels)

    @property
    def safe(self) -> bool:
        return self.labels == ["safe"] or (self.labels is None and self.harmful is False)


def read_records(path: Path, limit: int | None = None) -> list[EvalRecord]:
    """Parse the data set; a bad line is a clear error naming the line."""
    if not path.is_file():
        raise InvalidInputError(f"dataset file not found: {path}")
    opener: Any = open
    if path.suffix == ".gz":
        import gzip

        opener = gzip.open
    out: list[EvalRecord] = []
    known = {c.value for c in Category} | {"safe"}
    with opener(path, "rt", encoding="utf-8") as fh:
        for n, line in enumerate(_lines(fh), start=1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InvalidInputError(f"{path}:{n}: not valid JSON ({exc.msg})") from None
            if not isinstance(rec, dict):
                raise InvalidInputError(f"{path}:{n}: a record must be a JSON object")
            if isinstance(rec.get("text"), str):
                texts = [rec["text"]]
            elif isinstance(rec.get("messages"), list):
                texts = [str(m.get("text") or m.get("content") or "") for m in rec["messages"] if isinstance(m, dict)]
            else:
                raise InvalidInputError(f"{path}:{n}: record has neither 'text' nor 'messages'")
            labels = rec.get("labels", [])
            if not isinstance(labels, list):
                raise InvalidInputError(f"{path}:{n}: 'labels' must be a list")
            bad = [lab for lab in labels if lab not in known]
            if bad:
                raise InvalidInputError(f"{path}:{n}: unknown label(s) {bad}; known: {sorted(known)}")
            harmful = rec.get("unsafe")
            if harmful is not None and not isinstance(harmful, bool):
                raise InvalidInputError(f"{path}:{n}: 'unsafe' must be true, false or null")
            role = rec.get("role")
            out.append(EvalRecord(str(rec.get("id", n)), texts, list(labels) or None, harmful,
                                  role if isinstance(role, str) else None))
            if limit is not None and len(out) >= limit:
                break
    if not out:
        raise InvalidInputError(f"{path}: no records")
    return out


def _lines(fh: Any) -> Iterator[str]:
    yield from fh


def _f(x: float | None) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else round(float(x), 4)


def _metrics(scores: np.ndarray, flagged: np.ndarray, y: np.ndarray, safe: np.ndarray) -> dict[str, Any]:
    m = binary_metrics(flagged, y)
    return {
        "n": len(y),
        "positives": int(y.sum()),
        "precision": _f(m["precision"]),
        "recall": _f(m["recall"]),
        "f1": _f(m["f1"]),
        "auprc": _f(average_precision(scores, y)) if 0 < y.sum() < len(y) else None,
        "fpr_safe": _f(float(flagged[safe].mean())) if safe.any() else None,
    }


def evaluate_scored(records: Sequence[EvalRecord], s: Scored) -> dict[str, Any]:
    known = np.array([r.known for r in records])
    y_any = np.array([r.unsafe for r in records])
    safe = np.array([r.safe for r in records])
    cat_known = np.array([r.labels is not None for r in records])
    out: dict[str, Any] = {
        "note": s.note,
        "overall": _metrics(s.any_score[known], s.flagged[known], y_any[known], safe[known]),
        "latency_ms": {"p50": _f(percentile_ms(s.latencies, 50)), "p99": _f(percentile_ms(s.latencies, 99)),
                       "timed_records": len(s.latencies)},
        "per_category": {},
    }
    if s.cat_scores is not None and s.cat_flagged is not None:
        for j, c in enumerate(CATS):
            y = np.array([c.value in (r.labels or []) for r in records])
            if not y[cat_known].any():
                continue
            out["per_category"][c.value] = _metrics(s.cat_scores[cat_known, j], s.cat_flagged[cat_known, j],
                                                    y[cat_known], safe[cat_known])
    return out


def run_system(system: System, records: Sequence[EvalRecord], n_timed: int = 300, seed: int = 0) -> Scored:
    system.load()
    texts = [r.texts for r in records]
    any_s, flagged, cs, cf = system.score(texts)
    rng = random.Random(seed)
    sample = rng.sample(range(len(records)), min(n_timed, len(records)))
    lat = [system.time_one(texts[i]) for i in sample]
    return Scored(system.name, any_s, flagged, cs, cf, lat, system.note)


def obfuscation_invariance(system: System, records: Sequence[EvalRecord], n: int = 300,
                           seed: int = 0) -> dict[str, Any]:
    """Share of records whose flagged/not-flagged decision is unchanged under each obfuscation transform."""
    pool = [r for r in records if r.labels is not None and len(r.texts) == 1 and len(r.texts[0]) <= 400]
    rng = random.Random(seed)
    sample = rng.sample(pool, min(n, len(pool)))
    if not sample:
        return {}
    clean = [r.texts for r in sample]
    _, base, _, _ = system.score(clean)
    unsafe = np.array([r.unsafe for r in sample])
    res: dict[str, Any] = {"records": len(sample), "clean_flag_rate_unsafe": _f(float(base[unsafe].mean()))
                           if unsafe.any() else None}
    for name, fn in TRANSFORMS.items():
        _, fl, _, _ = system.score([[fn(t) for t in r.texts] for r in sample])
        res[name] = {
            "same_decision": _f(float((fl == base).mean())),
            "flag_rate_unsafe": _f(float(fl[unsafe].mean())) if unsafe.any() else None,
            "flag_rate_safe": _f(float(fl[~unsafe].mean())) if (~unsafe).any() else None,
        }
    return res


def _table(report: dict[str, Any]) -> str:
    lines = [f"# childsafe eval: {report['dataset']}", "",
             f"records {report['records']} (labelled {report['labelled']}, unsafe {report['unsafe']}, "
             f"safe {report['safe']}), age band {report['age_band']}", "",
             "## Overall (any unsafe vs safe)", "",
             "| system | precision | recall | F1 | AUPRC | FPR on safe | p50 ms | p99 ms |",
             "|---|---|---|---|---|---|---|---|"]

    def fmt(v: Any) -> str:
        return "–" if v is None else (f"{v:.3f}" if isinstance(v, float) else str(v))

    for name, r in report["systems"].items():
        if "error" in r:
            lines.append(f"| {name} | unavailable: {r['error']} | | | | | | |")
            continue
        o, lat = r["overall"], r["latency_ms"]
        lines.append(f"| {name} | {fmt(o['precision'])} | {fmt(o['recall'])} | {fmt(o['f1'])} | {fmt(o['auprc'])} "
                     f"| {fmt(o['fpr_safe'])} | {fmt(lat['p50'])} | {fmt(lat['p99'])} |")
    cats = sorted({c for r in report["systems"].values() for c in r.get("per_category", {})},
                  key=lambda c: [x.value for x in CATS].index(c))
    if cats:
        lines += ["", "## Per category (F1 / AUPRC / FPR on safe)", ""]
        names = [n for n, r in report["systems"].items() if r.get("per_category")]
        lines.append("| category | positives | " + " | ".join(names) + " |")
        lines.append("|---|---|" + "---|" * len(names))
        for c in cats:
            pos = next(r["per_category"][c]["positives"] for r in report["systems"].values()
                       if c in r.get("per_category", {}))
            cells = []
            for n in names:
                m = report["systems"][n]["per_category"].get(c)
                cells.append("–" if m is None else f"{fmt(m['f1'])} / {fmt(m['auprc'])} / {fmt(m['fpr_safe'])}")
            lines.append(f"| {c} | {pos} | " + " | ".join(cells) + " |")
    if report.get("obfuscation"):
        lines += ["", "## Obfuscation invariance (same decision as the clean text)", "",
                  "| system | " + " | ".join(TRANSFORMS) + " |", "|---|" + "---|" * len(TRANSFORMS)]
        for n, ob in report["obfuscation"].items():
            if ob:
                lines.append(f"| {n} | " + " | ".join(fmt(ob[t]["same_decision"]) for t in TRANSFORMS) + " |")
    lines += ["", "Systems:", *[f"- **{n}**: {r.get('note', '')}" for n, r in report["systems"].items()], ""]
    return "\n".join(lines)


def _plot(records: Sequence[EvalRecord], scored: Sequence[Scored], path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    known = np.array([r.known for r in records])
    y = np.array([r.unsafe for r in records])[known]
    if not 0 < y.sum() < len(y):
        return False
    fig, ax = plt.subplots(figsize=(6, 5))
    for s in scored:
        p, r, _ = pr_curve(s.any_score[known], y)
        ax.plot(np.r_[0.0, r], np.r_[p[0], p], label=f"{s.name} (AP {average_precision(s.any_score[known], y):.3f})")
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_ylim(0, 1.02)
    ax.set_title("any unsafe vs safe")
    ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def run_eval(dataset: Path | str, age: str | int | AgeBand | None = None, out_dir: Path | str | None = None,
             limit: int | None = None, systems: Sequence[System] | None = None, model_dir: str | None = None,
             obfuscation: int = 300, n_timed: int = 300) -> dict[str, Any]:
    """Evaluate childsafe and peers on ``dataset``; write report.md/report.json/pr_curve.png into ``out_dir``."""
    band = AgeBand.parse(age) if age is not None else AgeBand.AGE_10_12
    path = Path(dataset)
    records = read_records(path, limit)
    systems = list(systems) if systems is not None else default_systems(band, model_dir)
    report: dict[str, Any] = {
        "dataset": str(path), "records": len(records), "labelled": sum(r.known for r in records),
        "unsafe": sum(r.unsafe for r in records), "safe": sum(r.safe for r in records),
        "age_band": band.value, "systems": {}, "obfuscation": {},
    }
    scored: list[Scored] = []
    t0 = time.time()
    for sys_ in systems:
        try:
            s = run_system(sys_, records, n_timed=n_timed)
        except Exception as exc:  # a peer missing from the environment must not hide the others
            report["systems"][sys_.name] = {"error": f"{type(exc).__name__}: {exc}", "note": sys_.note}
            continue
        scored.append(s)
        report["systems"][sys_.name] = evaluate_scored(records, s)
        if obfuscation and sys_.per_category:
            report["obfuscation"][sys_.name] = obfuscation_invariance(sys_, records, n=obfuscation)
    report["seconds"] = round(time.time() - t0, 1)
    report["markdown"] = _table(report)
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        (out / "report.md").write_text(report["markdown"], encoding="utf-8")
        (out / "report.json").write_text(json.dumps({k: v for k, v in report.items() if k != "markdown"},
                                                    indent=2) + "\n", encoding="utf-8")
        if _plot(records, scored, out / "pr_curve.png"):
            report["plot"] = str(out / "pr_curve.png")
    return report
