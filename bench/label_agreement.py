"""How often a second reader labels the multilingual development messages as their writers did.

    python bench/label_agreement.py [--split dev|dev2|dev,dev2] [--json FILE]

The writers of ``data/multilingual/{dev,dev2}`` labelled their own messages. A second reader per language
labelled every one of them again without seeing those labels (``data/multilingual/review/<lang>.jsonl``, brief
``data/multilingual/briefs/review.md``). Per language: how many messages both readings put in the same class
(core harmful, the categories ``bench/multilingual.py`` counts; other harmful; ordinary), Cohen's kappa on
harmful against ordinary, the messages the writer called harmful and the second reader ordinary and the reverse,
and how many the second reader marked borderline; then, per core category, the share of the writers' messages
of that category the second reader gave the same category. No model is run: this measures the sets, not the
detector.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from childsafe.detectors.multilingual import LANGUAGES, MODEL_CATEGORIES  # noqa: E402

DATA = ROOT / "data" / "multilingual"
CORE = frozenset(c.value for c in MODEL_CATEGORIES)


def klass(labels: list[str]) -> str:
    """``core``, ``other`` (harmful outside the core categories) or ``ordinary``."""
    if labels == ["safe"]:
        return "ordinary"
    return "core" if CORE & set(labels) else "other"


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _read(path: Path) -> list[dict[str, Any]]:
    try:
        return [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]
    except FileNotFoundError:
        raise SystemExit(f"{_shown(path)}: missing (every language needs its second reading)") from None
    except json.JSONDecodeError as e:
        raise SystemExit(f"{_shown(path)}: not JSON Lines ({e})") from None


def pairs(split: str) -> dict[str, list[tuple[dict[str, Any], dict[str, Any]]]]:
    """Per language, (writer's record, second reading) for every message of the split(s)."""
    out: dict[str, list[tuple[dict[str, Any], dict[str, Any]]]] = {}
    for lang in LANGUAGES:
        review = DATA / "review" / f"{lang}.jsonl"
        second = {r["id"]: r for r in _read(review)}
        rows = []
        for part in split.split(","):
            for rec in _read(DATA / part / f"{lang}.jsonl"):
                if rec["id"] not in second:
                    raise SystemExit(f"{_shown(review)}: no second reading of {rec['id']}")
                rows.append((rec, second[rec["id"]]))
        out[lang] = rows
    return out


def kappa(a: list[bool], b: list[bool]) -> float:
    n = len(a)
    if not n:
        return float("nan")
    po = sum(x == y for x, y in zip(a, b, strict=True)) / n
    pa, pb = sum(a) / n, sum(b) / n
    pe = pa * pb + (1 - pa) * (1 - pb)
    return 1.0 if pe == 1 else (po - pe) / (1 - pe)


def summary(rows: list[tuple[dict[str, Any], dict[str, Any]]]) -> dict[str, Any]:
    wk = [klass(w["labels"]) for w, _ in rows]
    sk = [klass(s["labels"]) for _, s in rows]
    return {
        "messages": len(rows),
        "same class": sum(x == y for x, y in zip(wk, sk, strict=True)),
        "kappa harmful/ordinary": kappa([x != "ordinary" for x in wk], [y != "ordinary" for y in sk]),
        "writer core, second ordinary": sum(x == "core" and y == "ordinary" for x, y in zip(wk, sk, strict=True)),
        "writer ordinary, second harmful": sum(x == "ordinary" and y != "ordinary"
                                               for x, y in zip(wk, sk, strict=True)),
        "writer core": wk.count("core"),
        "writer ordinary": wk.count("ordinary"),
        "borderline": sum(s.get("confidence") == "borderline" for _, s in rows),
    }


def _row(name: str, s: dict[str, Any]) -> str:
    return (f"{name:5} {s['messages']:4} {s['same class']:4} ({s['same class'] / s['messages']:4.0%}) "
            f"{s['kappa harmful/ordinary']:6.2f} {s['writer core, second ordinary']:3} of {s['writer core']:3}"
            f"  {s['writer ordinary, second harmful']:3} of {s['writer ordinary']:3} {s['borderline']:10}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--split", default="dev,dev2", help="dev, dev2 or both (comma-separated)")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args(argv)
    by_lang = pairs(args.split)
    results: dict[str, Any] = {"split": args.split, "languages": {}}
    print(f"second reading of {args.split}: same class (core harmful / other harmful / ordinary), kappa on harmful vs "
          "ordinary, writer core -> second ordinary, writer ordinary -> second harmful, borderline")
    print(f"{'lang':5} {'n':>4} {'same':>11} {'kappa':>6} {'core->ord':>12} {'ord->harm':>12} {'borderline':>10}")
    every: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for lang, rows in by_lang.items():
        every += rows
        s = summary(rows)
        results["languages"][lang] = s
        print(_row(lang, s))
    results["all"] = summary(every)
    print(_row("all", results["all"]))
    same: Counter[str] = Counter()
    total: Counter[str] = Counter()
    moved: dict[str, Counter[str]] = defaultdict(Counter)
    for w, r in every:
        for c in CORE & set(w["labels"]):
            total[c] += 1
            if c in r["labels"]:
                same[c] += 1
            else:
                moved[c][",".join(sorted(r["labels"]))] += 1
    print("\nper core category: the writers' messages of it the second reader gave it too (else, most often)")
    results["categories"] = {}
    for c in sorted(total):
        top = ", ".join(f"{k} {v}" for k, v in moved[c].most_common(3))
        results["categories"][c] = {"writer": total[c], "second too": same[c], "else": dict(moved[c])}
        print(f"  {c:14} {same[c]:4} of {total[c]:4} ({same[c] / total[c]:4.0%})   {top}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
