"""Latency and throughput of Engine.check on 1,000 varied messages.

    python bench/check_latency.py [--detectors lexicon,classifier] [--n 1000]

Prints p50/p99 single-message latency and batched throughput, and compares with the target for the
lexicon-only engine (p50 <= 0.3 ms) in the same run.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import time

from childsafe.config import Config
from childsafe.engine import Engine

TEMPLATES = [
    "can you help me with my {subj} homework?",
    "i played {game} all day and beat the boss",
    "you are a loser and nobody likes you",
    "how do i stop being bullied at {place}",
    "dont tell your parents about us ok",
    "what is the history of the {war}",
    "i want to kill myself",
    "where can i buy vapes near {place}",
    "my address is {n} oak street",
    "lets do the blackout challenge",
    "wyd? asl",
    "y0u 4re s0 stup1d",
    "how do i kill a python process",
    "my teacher says sex education starts next week",
    "what's your favourite {subj} topic and why do you like it so much? tell me everything",
]
FILL = {
    "subj": ["maths", "science", "history", "art", "english"],
    "game": ["minecraft", "fortnite", "roblox", "zelda"],
    "place": ["school", "the park", "camp", "home"],
    "war": ["second world war", "cold war", "atomic bomb"],
    "n": ["12", "221", "7"],
}


def messages(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        t = rng.choice(TEMPLATES)
        out.append(t.format(**{k: rng.choice(v) for k, v in FILL.items()}))
    return out


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))]


def run(detectors: list[str], n: int) -> dict[str, float]:
    cfg = Config.model_validate({"detectors": {d: {} for d in detectors}})
    t0 = time.perf_counter()
    engine = Engine.from_config(cfg)
    engine.warmup()
    cold = time.perf_counter() - t0
    msgs = messages(n)
    for m in msgs[:50]:
        engine.check(m, age=11)
    lat = []
    for m in msgs:
        s = time.perf_counter()
        engine.check(m, age=11)
        lat.append((time.perf_counter() - s) * 1000)
    s = time.perf_counter()
    for i in range(0, len(msgs), 64):
        engine.check_batch(msgs[i : i + 64], age=11)
    batch_s = time.perf_counter() - s
    return {
        "cold_s": cold,
        "p50_ms": statistics.median(lat),
        "p99_ms": pct(lat, 99),
        "mean_ms": statistics.fmean(lat),
        "batched_per_s": len(msgs) / batch_s,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--detectors", default="lexicon")
    ap.add_argument("--n", type=int, default=1000)
    args = ap.parse_args()
    dets = [d.strip() for d in args.detectors.split(",") if d.strip()]
    cpu = platform.processor() or platform.machine()
    print(f"machine: {cpu}, {os.cpu_count()} cores, Python {platform.python_version()}")
    rows = [("lexicon only", run(["lexicon"], args.n))]
    if dets != ["lexicon"]:
        rows.append(("+".join(dets), run(dets, args.n)))
    print(f"{'engine':<28}{'cold s':>8}{'p50 ms':>9}{'p99 ms':>9}{'mean ms':>9}{'batched msg/s':>15}")
    for name, r in rows:
        print(
            f"{name:<28}{r['cold_s']:>8.2f}{r['p50_ms']:>9.3f}{r['p99_ms']:>9.3f}{r['mean_ms']:>9.3f}"
            f"{r['batched_per_s']:>15.0f}"
        )
    lex = rows[0][1]
    target = 0.3
    verdict = "meets" if lex["p50_ms"] <= target else "MISSES"
    print(f"lexicon-only p50 {lex['p50_ms']:.3f} ms vs target {target} ms: {verdict}")


if __name__ == "__main__":
    main()
