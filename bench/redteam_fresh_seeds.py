"""Red-team transforms with fresh random seeds: does detection hold beyond the suite's fixed variants?

Usage: python bench/redteam_fresh_seeds.py [--seeds 5] [--transforms misspelling,emoji,...] [--config FILE]
The suite seeds each transform by probe id, so its variants never change; lexicon phrases and seed examples
written after reading its misses could fit those exact variants. This applies every randomised transform
to the single-message probes with ``--seeds`` other seeds and prints, per transform, the detection rate
(action above allow, age 11) next to the rate on the suite's own variants in the same run (the baseline).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from childsafe.config import load_config
from childsafe.engine import Engine
from childsafe.eval.redteam.data import load_probes
from childsafe.eval.redteam.transforms import TRANSFORMS
from childsafe.types import Action, Message

RANDOMISED = ("leetspeak", "homoglyphs", "zero_width", "spacing", "punctuation", "emoji", "misspelling")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--transforms", default=",".join(RANDOMISED))
    ap.add_argument("--config", type=Path, default=None)
    a = ap.parse_args()
    names = [t.strip() for t in a.transforms.split(",") if t.strip()]
    by_name = {t.name: t for t in TRANSFORMS}
    unknown = [t for t in names if t not in by_name]
    if unknown:
        raise SystemExit(f"error: unknown transform(s) {unknown}; choose from {sorted(by_name)}")
    engine = Engine.from_config(load_config(a.config) if a.config else None)
    probes = [p for p in load_probes() if not p.is_script]

    def detected(msgs: tuple[Message, ...]) -> bool:
        return engine.check(msgs[0].text, age=11, role=msgs[0].role).action is not Action.ALLOW

    out: dict[str, dict[str, float | int]] = {}
    start = time.perf_counter()
    for name in names:
        transform = by_name[name]
        own = fresh = total = 0
        for p in probes:
            own += detected(transform.apply(p.messages, p.id))  # the suite's own variant
            for seed in range(a.seeds):
                total += 1
                fresh += detected(transform.apply(p.messages, f"fresh/{seed}/{p.id}"))
        out[name] = {"probes": len(probes), "suite_seed_rate": round(own / len(probes), 4),
                     "fresh_texts": total, "fresh_seed_rate": round(fresh / max(total, 1), 4)}
        print(f"{name:12s} suite seed {own / len(probes):6.1%}   fresh seeds {fresh / max(total, 1):6.1%} "
              f"({total} texts)")
    print(json.dumps({"transforms": out, "elapsed_s": round(time.perf_counter() - start, 1)}, indent=2))


if __name__ == "__main__":
    main()
