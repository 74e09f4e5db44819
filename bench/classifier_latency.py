"""Classifier latency, throughput, cold start, memory and obfuscation invariance, with peers in the same run.

Usage: python bench/classifier_latency.py [--model-dir DIR] [--n 2000]
Targets (issue 3): p50 <= 3 ms per short message single-threaded, >= 500 msg/s batched on 2 cores,
cold start <= 1 s. Obfuscation invariance: share of seed dev/test texts whose block decision is unchanged
under leetspeak / homoglyph / spacing / zero-width variants.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

SHORT = [
    "can you help me with my maths homework",
    "i want to kill myself",
    "how do i kill a python process",
    "you're so ugly nobody likes you",
    "what's your address? i want to send you a present",
    "let's talk on snapchat instead, don't tell your mum",
    "what is the history of the atomic bomb",
    "where can i buy vapes if i'm 14",
    "my favourite game is minecraft",
    "i'm gay and proud",
]


def note(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def pct(xs: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(xs) * 1000, q))


def cold_start(model_dir: str | None) -> dict[str, float]:
    """Fresh interpreter: import + load + first message, and load() alone."""
    code = (
        "import time; t0=time.perf_counter();"
        "from childsafe.detectors.classifier import ClassifierDetector, ClassifierConfig;"
        "from childsafe.text.context import TextContext;"
        f"d=ClassifierDetector(ClassifierConfig(model_dir={model_dir!r})); t1=time.perf_counter(); d.load();"
        "t2=time.perf_counter(); d.detect(TextContext.from_text('hello there')); t3=time.perf_counter();"
        "print(t1-t0, t2-t1, t3-t0)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"})
    imp, load, total = (float(x) for x in out.stdout.split())
    return {"import_s": round(imp, 3), "load_s": round(load, 3), "import_load_first_message_s": round(total, 3)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model-dir", default=None)
    ap.add_argument("--n", type=int, default=2000)
    args = ap.parse_args()

    from childsafe.detectors.classifier import ClassifierConfig, ClassifierDetector
    from childsafe.eval.transforms import TRANSFORMS
    from childsafe.text.context import TextContext
    from childsafe.types import Category

    seed = [json.loads(line) for line in (ROOT / "data/seed/seed.jsonl").read_text().splitlines()]
    texts = [r["text"] for r in seed]
    rng = np.random.default_rng(0)
    sample = [texts[i] for i in rng.choice(len(texts), size=min(args.n, len(texts)), replace=False)]
    res: dict[str, object] = {"cold_start": cold_start(args.model_dir)}

    note("cold start measured")
    single = ClassifierDetector(ClassifierConfig(model_dir=args.model_dir, threads=1))
    single.load()
    lat = []
    cpu = []  # process CPU time: what a message costs when the machine is not shared (wall time is also printed)
    for t in (SHORT * 40)[:400] + sample[:600]:
        ctx = TextContext.from_text(t)
        s, c = time.perf_counter(), time.process_time()
        single.detect(ctx)
        lat.append(time.perf_counter() - s)
        cpu.append(time.process_time() - c)
    res["single_thread_ms"] = {"p50": round(pct(lat, 50), 2), "p99": round(pct(lat, 99), 2), "n": len(lat),
                               "cpu_p50": round(pct(cpu, 50), 2), "cpu_p99": round(pct(cpu, 99), 2),
                               # the target's "short message": the ten chat lines above (4-12 words)
                               "short_p50": round(pct(lat[:400], 50), 2), "short_cpu_p50": round(pct(cpu[:400], 50), 2),
                               "seed_p50": round(pct(lat[400:], 50), 2)}
    res["load_average_1min"] = round(__import__("os").getloadavg()[0], 2)
    long_text = " ".join(texts[:300])[:4000]
    ll = []
    for _ in range(20):
        s = time.perf_counter()
        single.detect(TextContext.from_text(long_text))
        ll.append(time.perf_counter() - s)
    res["long_4000_chars_ms_p50"] = round(pct(ll, 50), 2)

    note("single-thread latency measured")
    batched = ClassifierDetector(ClassifierConfig(model_dir=args.model_dir, threads=2, batch_size=64))
    batched.load()
    ctxs = [TextContext.from_text(t) for t in sample]
    batched.detect_batch(ctxs[:64])
    s, c = time.perf_counter(), time.process_time()
    for k in range(0, len(ctxs), 256):
        batched.detect_batch(ctxs[k : k + 256])
    el, cel = time.perf_counter() - s, time.process_time() - c
    res["batched_2_threads_msg_per_s"] = round(len(ctxs) / el, 1)
    res["batched_msg_per_cpu_core_s"] = round(len(ctxs) / cel, 1)
    s = time.perf_counter()
    built = [TextContext.from_text(t) for t in sample]
    res["normalisation_ms_per_msg"] = round((time.perf_counter() - s) / len(built) * 1000, 3)

    note("throughput measured")
    # Peers, same messages, same process.
    peers: dict[str, dict[str, float]] = {}
    try:
        from profanity_check import predict_prob

        pl = []
        for t in sample[:500]:
            s = time.perf_counter()
            predict_prob([t])
            pl.append(time.perf_counter() - s)
        s = time.perf_counter()
        predict_prob(sample)
        peers["alt-profanity-check"] = {"p50_ms": round(pct(pl, 50), 2),
                                        "batched_msg_per_s": round(len(sample) / (time.perf_counter() - s), 1)}
    except ImportError:
        pass
    try:
        from better_profanity import profanity

        profanity.load_censor_words()
        pl = []
        for t in sample[:500]:
            s = time.perf_counter()
            profanity.contains_profanity(t)
            pl.append(time.perf_counter() - s)
        peers["better-profanity"] = {"p50_ms": round(pct(pl, 50), 2)}
    except ImportError:
        pass
    try:
        from childsafe.detectors.lexicon import LexiconDetector

        lex = LexiconDetector()
        lex.load()
        pl = []
        for t in sample[:500]:
            ctx = TextContext.from_text(t)
            s = time.perf_counter()
            lex.detect(ctx)
            pl.append(time.perf_counter() - s)
        peers["childsafe-lexicon"] = {"p50_ms": round(pct(pl, 50), 3)}
    except ImportError:
        pass
    res["peers"] = peers

    note("peers measured")
    # Obfuscation invariance on the held-out seed texts (dev + test templates), at the block thresholds.
    held = [r for r in seed if r["split"] == "dev"]
    block = np.array([single.manifest["thresholds"][c.value]["block"] for c in Category])

    def decisions(ts: list[str]) -> np.ndarray:
        ds = batched.detect_batch([TextContext.from_text(t) for t in ts])
        out = np.zeros(len(ts), dtype=bool)
        for i, dets in enumerate(ds):
            out[i] = any(d.score >= block[list(Category).index(d.category)] for d in dets)
        return out

    base = decisions([r["text"] for r in held])
    unsafe = np.array([r["labels"] != ["safe"] for r in held])
    inv: dict[str, object] = {"records": len(held), "clean_caught": round(float(base[unsafe].mean()), 4),
                              "clean_safe_blocked": round(float(base[~unsafe].mean()), 4)}
    same = []
    for name, fn in TRANSFORMS.items():
        d = decisions([fn(r["text"]) for r in held])
        rate = float((d == base).mean())
        same.append(rate)
        inv[name] = {"same_decision": round(rate, 4), "caught": round(float(d[unsafe].mean()), 4),
                     "safe_blocked": round(float(d[~unsafe].mean()), 4)}
    inv["mean_same_decision"] = round(statistics.mean(same), 4)
    res["obfuscation_invariance"] = inv
    res["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
