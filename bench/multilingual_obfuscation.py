"""Disguised messages in the ten languages besides English: how many harmful messages stay stopped.

    python bench/multilingual_obfuscation.py [--split dev] [--age 10-12] [--json FILE]

The harmful development messages (core categories) that the default engine stops as written are rewritten the
way someone dodging a filter would, and checked again. Per transform, the share still stopped, in two
configurations from the same run:

* **before**: the multilingual detector without its second reading (``second_reading: false``);
* **now**: the default engine (a disguised message is read a second time undisguised).

The transforms work on words of any script (the red-team transforms of ``childsafe redteam`` are written for
English): letters of longer words spaced apart or punctuated apart, look-alike letters of the other script
(Cyrillic in Latin-script languages, Latin in Russian), invisible characters between letters, alternating case,
digits for letters (Latin-script languages). Each rewrite is seeded by the message id, so runs compare.
Ordinary development messages go through the same transforms, to show the second reading does not stop them.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import zlib
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from childsafe import Engine  # noqa: E402
from childsafe.config import Config  # noqa: E402
from childsafe.eval.redteam.transforms import case_games  # noqa: E402
from childsafe.train.multilingual import HEADS, load_split  # noqa: E402
from childsafe.types import Action  # noqa: E402

CORE = set(HEADS[:-1])  # the model's core categories (its last head is "any of them")
WORD = re.compile(r"[^\W\d_]+")
LATIN_TO_CYRILLIC = dict(zip("aceopxyijs", "асеорхуіјѕ", strict=True))
CYRILLIC_TO_LATIN = dict(zip("асеорхукАВЕКМНОРСТХ", "acepoxykABEKMHOPCTX", strict=True))
LEET = {"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7"}
ZW = ("\u200b", "\u200c", "\u200d", "\u2060")


def _words(text: str, fn: Callable[[str], str], min_len: int) -> str:
    return WORD.sub(lambda m: fn(m.group(0)) if len(m.group(0)) >= min_len else m.group(0), text)


def spacing(text: str, lang: str, rng: random.Random) -> str:
    return _words(text, " ".join, 4)


def punctuation(text: str, lang: str, rng: random.Random) -> str:
    return _words(text, lambda w: rng.choice(".-*_").join(w), 4)


def look_alikes(text: str, lang: str, rng: random.Random) -> str:
    table = CYRILLIC_TO_LATIN if lang == "ru" else LATIN_TO_CYRILLIC
    return "".join(table.get(c, c) if rng.random() < 0.5 else c for c in text)


def invisible(text: str, lang: str, rng: random.Random) -> str:
    return _words(text, lambda w: rng.choice(ZW).join(w), 2)


def alternating_case(text: str, lang: str, rng: random.Random) -> str:
    return case_games(text, rng)


def digits(text: str, lang: str, rng: random.Random) -> str:
    return "".join(LEET.get(c, c) for c in text)


TRANSFORMS: dict[str, tuple[Callable[[str, str, random.Random], str], frozenset[str] | None]] = {
    "spacing": (spacing, None),
    "punctuation": (punctuation, None),
    "look_alikes": (look_alikes, frozenset({"es", "fr", "de", "pt", "it", "tr", "ru"})),
    "invisible": (invisible, None),
    "alternating_case": (alternating_case, frozenset({"es", "fr", "de", "pt", "it", "tr", "ru"})),
    "digits": (digits, frozenset({"es", "fr", "de", "pt", "it", "tr"})),
}
"""Each transform and the languages it applies to (None: all ten)."""


def engines() -> dict[str, Engine]:
    before = Config()
    before = before.model_copy(update={"detectors": {**before.detectors, "multilingual": {"second_reading": False}}})
    out = {"before": Engine.from_config(before), "now": Engine.from_config(Config())}
    for e in out.values():
        e.warmup()
    return out


def stopped(engine: Engine, text: str, age: str, role: str) -> bool:
    return engine.check(text, age=age, role=role).action.severity >= Action.REDACT.severity


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--split", default="dev", help="folder under data/multilingual (dev or dev2)")
    ap.add_argument("--age", default="10-12")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    recs = load_split(args.split)
    if not recs:
        raise SystemExit(f"no records in data/multilingual/{args.split}")
    engs = engines()
    role = {"user": "child"}
    harmful = [r for r in recs if set(r.get("labels") or []) & CORE]
    ordinary = [r for r in recs if r.get("labels") == ["safe"]]
    # Only what the default engine stops as written: a disguise can only hide what was found.
    found = [r for r in harmful if stopped(engs["now"], r["text"], args.age, role.get(r["role"], r["role"]))]
    res: dict[str, dict[str, dict[str, list[bool]]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    for name, (fn, langs) in TRANSFORMS.items():
        for kind, rows in (("harmful", found), ("ordinary", ordinary)):
            for r in rows:
                if langs is not None and r["lang"] not in langs:
                    continue
                rng = random.Random(zlib.crc32(f"{r['id']}|{name}".encode()))
                text = fn(str(r["text"]), r["lang"], rng)
                for cfg, eng in engs.items():
                    res[name][kind][cfg].append(stopped(eng, text, args.age, role.get(r["role"], r["role"])))
    print(f"{args.split}, band {args.age}: {len(found)} of {len(harmful)} harmful messages stopped as written; "
          f"{len(ordinary)} ordinary")
    print(f"{'transform':18} {'harmful still stopped':>30} {'ordinary stopped':>26}   [before -> now]")
    out: dict[str, Any] = {"split": args.split, "age": args.age, "harmful_found": len(found), "transforms": {}}
    for name in TRANSFORMS:
        h, o = res[name]["harmful"], res[name]["ordinary"]
        cell = {k: {c: sum(v) / max(1, len(v)) for c, v in d.items()} for k, d in (("harmful", h), ("ordinary", o))}
        out["transforms"][name] = {**cell, "n": {"harmful": len(h["now"]), "ordinary": len(o["now"])}}
        print(f"{name:18} {cell['harmful']['before']:>14.1%} -> {cell['harmful']['now']:<8.1%} (n={len(h['now'])})"
              f" {cell['ordinary']['before']:>8.1%} -> {cell['ordinary']['now']:<6.1%} (n={len(o['now'])})")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
