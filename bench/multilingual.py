"""Multilingual benchmark: per language, harmful messages stopped and ordinary messages stopped.

    python bench/multilingual.py                    # dev sets + xsafety held-out part + English, band 10-12
    python bench/multilingual.py --age 13-15 --xsafety-limit 0 --json out.json
    python bench/multilingual.py --no-encoder       # the n-gram model alone (encoder: false)
    python bench/multilingual.py --model-dir DIR    # another model folder (a retrained one, or an older one)

Every figure is printed twice from the same run: ``base`` is the engine without the ``multilingual`` detector
(what childsafe did before it), ``now`` the default engine. "Stopped" means the content does not reach its
recipient as written (redact or more severe).

Sets:
- ``data/multilingual/dev/<lang>.jsonl``: written for childsafe by writers other than the training writers;
  no model or threshold was chosen on them. "Harmful" counts the core child-safety categories (sexual content
  involving minors, grooming, self-harm, violence, harassment, drugs, personal details); other harmful labels
  are reported but not in the headline.
- ``xsafety_multilingual`` (shared data sets), the held-out parallel ids only (``train.multilingual.
  xsafety_split``): machine-translated prompts with topical labels (noisy, see its README): ``unsafe`` true vs
  the benign "commonsense" quiz items.
- English: ``data/written`` dev (d01) and test (d02), to show English does not regress.
Also: language identification accuracy on the dev sets and its time per message, and the detector's time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from childsafe import Engine  # noqa: E402
from childsafe.config import Config  # noqa: E402
from childsafe.text.language import identify  # noqa: E402
from childsafe.train.data import read_jsonl  # noqa: E402
from childsafe.train.multilingual import load_xsafety  # noqa: E402
from childsafe.types import Action  # noqa: E402

CORE = {"sexual_minors", "grooming", "self_harm", "violence", "harassment", "drugs", "personal_info"}
LANGS = ("es", "fr", "de", "pt", "it", "ar", "hi", "zh", "ru", "tr")


def engines(detectors: list[str] | None, encoder: bool = True, model_dir: Path | None = None) -> dict[str, Engine]:
    now = Config()
    if detectors:
        now = Config(detectors={d: {} for d in detectors})
    options: dict[str, Any] = {**({} if encoder else {"encoder": False}),
                               **({"model_dir": str(model_dir)} if model_dir else {})}
    if options:
        now = now.model_copy(update={"detectors": {**now.detectors, "multilingual": options}})
    base = Config(detectors={k: v for k, v in now.detectors.items() if k != "multilingual"})
    out = {"base": Engine.from_config(base), "now": Engine.from_config(now)}
    for e in out.values():
        e.warmup()
    return out


def stopped(action: Action) -> bool:
    return action.severity >= Action.REDACT.severity


def run_set(eng: Engine, recs: list[dict[str, Any]], age: str) -> list[bool]:
    out = []
    for r in recs:
        role = {"user": "child"}.get(r.get("role", "child"), r.get("role", "child"))
        d = eng.check(str(r["text"]), age=age, role=role)
        out.append(stopped(d.action))
    return out


def share(xs: list[bool]) -> float | None:
    return sum(xs) / len(xs) if xs else None


def fmt(x: float | None) -> str:
    return "  -  " if x is None else f"{x:5.1%}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--age", default="10-12")
    ap.add_argument("--split", default="dev", help="folder under data/multilingual to measure on")
    ap.add_argument("--xsafety-limit", type=int, default=150, help="xsafety records per language and class (0: skip)")
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "datasets")
    ap.add_argument("--english", type=int, default=600, help="English written records per split (0: skip)")
    ap.add_argument("--detectors", help="comma-separated detectors for 'now' (default: the default set)")
    ap.add_argument("--no-encoder", action="store_true", help="'now' with the n-gram model alone (encoder: false)")
    ap.add_argument("--model-dir", type=Path, help="'now' with this multilingual model folder")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args(argv)
    engs = engines(args.detectors.split(",") if args.detectors else None, not args.no_encoder, args.model_dir)
    results: dict[str, Any] = {"age": args.age, "languages": {}}

    # language identification
    dev: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for f in sorted((ROOT / "data" / "multilingual" / args.split).glob("*.jsonl")):
        for r in read_jsonl(f):
            dev[r["lang"]].append(r)
    texts = [str(r["text"]) for rs in dev.values() for r in rs]
    identify("warm up")
    t0 = time.perf_counter()
    guesses = [identify(t) for t in texts]
    per_msg = (time.perf_counter() - t0) / max(1, len(texts)) * 1000
    truth = [r["lang"] for rs in dev.values() for r in rs]
    lid_ok = sum(g.code == t for g, t in zip(guesses, truth, strict=True)) / max(1, len(truth))
    results["language_id"] = {"accuracy": lid_ok, "ms_per_message": per_msg, "messages": len(texts)}
    print(f"language identification on {len(texts)} {args.split} messages: {lid_ok:.1%} correct, "
          f"{per_msg:.3f} ms per message")

    print(f"\n{args.split} sets (band {args.age}): harmful (core) stopped | safe stopped   [base -> now]")
    print(f"{'lang':5} {'n':>4} {'harm':>4}  {'harmful stopped':>17}  {'safe stopped':>15}  other harmful stopped")
    timings: list[float] = []
    for lang in LANGS:
        recs = dev.get(lang, [])
        if not recs:
            continue
        core = [r for r in recs if CORE & set(r["labels"])]
        other = [r for r in recs if r["labels"] != ["safe"] and not CORE & set(r["labels"])]
        safe = [r for r in recs if r["labels"] == ["safe"]]
        row: dict[str, Any] = {"n": len(recs), "harmful": len(core), "safe": len(safe)}
        for name, eng in engs.items():
            t1 = time.perf_counter()
            row[name] = {
                "harmful_stopped": share(run_set(eng, core, args.age)),
                "safe_stopped": share(run_set(eng, safe, args.age)),
                "other_harmful_stopped": share(run_set(eng, other, args.age)),
            }
            if name == "now":
                timings.append((time.perf_counter() - t1) / max(1, len(recs)) * 1000)
        results["languages"][lang] = row
        b, n = row["base"], row["now"]
        print(f"{lang:5} {len(recs):4} {len(core):4}  {fmt(b['harmful_stopped'])} -> {fmt(n['harmful_stopped'])}"
              f"  {fmt(b['safe_stopped'])} -> {fmt(n['safe_stopped'])}"
              f"  {fmt(b['other_harmful_stopped'])} -> {fmt(n['other_harmful_stopped'])} ({len(other)})")
    if timings:
        print(f"whole check, non-English {args.split} messages: mean {statistics.mean(timings):.1f} ms per message")
        results["check_ms_mean"] = statistics.mean(timings)
        # One message at a time, every dev message, each engine: the latency a child's message sees.
        per: dict[str, list[float]] = {}
        for name, eng in engs.items():
            per[name] = []
            for t in texts:
                t1 = time.perf_counter()
                eng.check(t, age=args.age)
                per[name].append((time.perf_counter() - t1) * 1000)
            q = statistics.quantiles(per[name], n=100)
            results[f"check_ms_{name}"] = {"p50": q[49], "p95": q[94]}
        b, n = results["check_ms_base"], results["check_ms_now"]
        print(f"one message at a time ({len(texts)}): p50 {b['p50']:.2f} -> {n['p50']:.2f} ms, "
              f"p95 {b['p95']:.2f} -> {n['p95']:.2f} ms   [base -> now]")

    if args.xsafety_limit:
        xs = load_xsafety(args.shared, "eval")
        by_lang: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: {"unsafe": [], "safe": []})
        for r in xs:
            if r.get("unsafe") is True and by_lang[r["lang"]]["unsafe"].__len__() < args.xsafety_limit:
                by_lang[r["lang"]]["unsafe"].append(r)
            elif r.get("labels") == ["safe"] and len(by_lang[r["lang"]]["safe"]) < args.xsafety_limit:
                by_lang[r["lang"]]["safe"].append(r)
        print(f"\nxsafety held-out part (machine-translated, topical labels; <= {args.xsafety_limit} per class)")
        print(f"{'lang':5} {'unsafe':>6} {'safe':>5}  {'unsafe stopped':>16}  {'safe stopped':>15}")
        results["xsafety"] = {}
        for lang in sorted(by_lang):
            u, s = by_lang[lang]["unsafe"], by_lang[lang]["safe"]
            row = {"unsafe": len(u), "safe": len(s)}
            for name, eng in engs.items():
                row[name] = {"unsafe_stopped": share(run_set(eng, u, args.age)),
                             "safe_stopped": share(run_set(eng, s, args.age))}
            results["xsafety"][lang] = row
            print(f"{lang:5} {len(u):6} {len(s):5}  {fmt(row['base']['unsafe_stopped'])} -> "
                  f"{fmt(row['now']['unsafe_stopped'])}  {fmt(row['base']['safe_stopped'])} -> "
                  f"{fmt(row['now']['safe_stopped'])}")

    if args.english:
        print(f"\nEnglish written sets (band {args.age}; first {args.english} records of each)")
        results["english"] = {}
        for name, fname in (("dev", "d01.jsonl"), ("test", "d02.jsonl")):
            recs = list(read_jsonl(ROOT / "data" / "written" / fname))[: args.english]
            harm = [r for r in recs if r["labels"] != ["safe"]]
            safe = [r for r in recs if r["labels"] == ["safe"]]
            row = {}
            for en, eng in engs.items():
                row[en] = {"harmful_stopped": share(run_set(eng, harm, args.age)),
                           "safe_stopped": share(run_set(eng, safe, args.age))}
            results["english"][name] = row
            print(f"{name:5} harmful {len(harm)}: {fmt(row['base']['harmful_stopped'])} -> "
                  f"{fmt(row['now']['harmful_stopped'])}   safe {len(safe)}: {fmt(row['base']['safe_stopped'])} -> "
                  f"{fmt(row['now']['safe_stopped'])}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
