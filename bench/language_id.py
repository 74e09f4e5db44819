"""Language identification on chat text: the development sets, their romanised messages, and English that must
stay English.

    PYTHONPATH=src python bench/language_id.py [--shared ../shared/datasets] [--limit N] [--json FILE]

Two configurations in the same run: **words** (function-word lists only for Hindi, Arabic and Russian typed in Latin
letters: ``identify(..., romanised=False)``) and **now** (plus the romanised-chat model). Printed:

- per development set (``data/multilingual/dev``, ``dev2``; nothing is trained or tuned on them): share identified
  as the language the writer wrote in, over all messages and over the Hindi, Arabic and Russian messages written in
  Latin letters;
- per English set that no part of language identification was trained on: the share of messages identified as
  Hindi, Arabic or Russian (each is English; ToxicChat also holds other languages, so its figure counts a few real
  ones);
- time per message.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from childsafe.text.language import identify, warm  # noqa: E402
from childsafe.train.data import read_jsonl, record_texts  # noqa: E402
from childsafe.train.multilingual import load_split  # noqa: E402
from childsafe.train.romanised import ENGLISH_SETS, NATIVE  # noqa: E402

HELD_OUT_ENGLISH = {
    "toxicchat_train": "toxicchat_train/toxicchat_train.jsonl",
    "olid": "olid_offenseval_train/olid_offenseval_train.jsonl",
    "cyberbullying_tweets": "cyberbullying_tweets_finegrained/cyberbullying_9996.jsonl",
    "reddit_cssrs": "reddit_cssrs_suicide/reddit_cssrs_500users.jsonl.gz",
    "threatgram": "threatgram_telegram_threats/threatgram_labeled.jsonl.gz",
    "unhealthy_conversations": "unhealthy_conversations_valtest/ucc_valtest_8852.jsonl.gz",
    "counsel_chat": "counsel_chat_therapy_answers/counsel_chat.jsonl.gz",
    "toxic_spans": "toxic_spans_civil_comments/toxic_spans_16100.jsonl.gz",
    "reddit_misogyny": "reddit_misogyny_eacl2021/misogyny_reddit.jsonl.gz",
    "ethos": "ethos_hate/ethos_hate.jsonl",
}
CONFIGS = {"words": False, "now": True}


def english(path: Path, limit: int, trained: set[str]) -> list[str]:
    """The first ``limit`` messages of a set, leaving out any that is also in a set the model was trained on (the
    cyberbullying tweets hold some of the Davidson ones)."""
    out: list[str] = []
    for rec in read_jsonl(path):
        out += [t for t in record_texts(rec) if t.strip() and t.strip() not in trained]
        if len(out) >= limit:
            break
    return out[:limit]


def trained_english(shared: Path) -> set[str]:
    """Every message of the English sets the romanised-chat model samples its training English from."""
    out: set[str] = set()
    for rel in ENGLISH_SETS.values():
        if (shared / rel).is_file():
            out.update(t.strip() for rec in read_jsonl(shared / rel) for t in record_texts(rec))
    return out


def romanised(rec: dict[str, Any]) -> bool:
    native = NATIVE.get(str(rec.get("lang")))
    text = str(rec.get("text", ""))
    return native is not None and not native.search(text) and re.search("[A-Za-z]", text) is not None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "datasets")
    ap.add_argument("--limit", type=int, default=10000, help="messages per English set")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    warm()
    out: dict[str, Any] = {"dev sets": {}, "english": {}, "ms per message": {}, "ms per dev message": {}}
    print(f"{'set':28} {'messages':>9} " + " ".join(f"{c:>10}" for c in CONFIGS))
    for split in ("dev", "dev2"):
        recs = load_split(split)
        for name, subset in ((split, recs), (f"{split}, romanised hi/ar/ru", [r for r in recs if romanised(r)])):
            row = {c: sum(identify(str(r["text"]), romanised=on).code == r["lang"] for r in subset)
                   / max(1, len(subset)) for c, on in CONFIGS.items()}
            out["dev sets"][name] = {"messages": len(subset), **row}
            print(f"{name:28} {len(subset):>9} " + " ".join(f"{row[c]:>10.1%}" for c in CONFIGS) + "  correct")
    dev_texts = [str(r["text"]) for split in ("dev", "dev2") for r in load_split(split)]
    for c, on in CONFIGS.items():
        t0 = time.perf_counter()
        for t in dev_texts:
            identify(t, romanised=on)
        out["ms per dev message"][c] = 1000 * (time.perf_counter() - t0) / len(dev_texts)
    times: dict[str, list[float]] = {c: [] for c in CONFIGS}
    trained = trained_english(args.shared)
    for name, rel in HELD_OUT_ENGLISH.items():
        if rel in ENGLISH_SETS.values():
            print(f"{name}: the romanised-chat model is trained on it, skipped")
            continue
        path = args.shared / rel
        if not path.is_file():
            print(f"{name}: not found at {path}, skipped")
            continue
        texts = english(path, args.limit, trained)
        row = {}
        for c, on in CONFIGS.items():
            t0 = time.perf_counter()
            called = sum(identify(t, romanised=on).code in ("hi", "ar", "ru") for t in texts)
            times[c].append((time.perf_counter() - t0) / max(1, len(texts)))
            row[c] = called / max(1, len(texts))
        out["english"][name] = {"messages": len(texts), **row}
        print(f"{name:28} {len(texts):>9} " + " ".join(f"{row[c]:>10.2%}" for c in CONFIGS) + "  called hi/ar/ru")
    for c in CONFIGS:
        ms = 1000 * sum(times[c]) / max(1, len(times[c]))
        out["ms per message"][c] = ms
    print("ms per English message: " + ", ".join(f"{c} {v:.3f}" for c, v in out["ms per message"].items()))
    print("ms per dev message (chat, all languages): "
          + ", ".join(f"{c} {v:.3f}" for c, v in out["ms per dev message"].items()))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
