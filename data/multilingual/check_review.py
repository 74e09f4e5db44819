"""Validate a second reading of one language's development messages (briefs/review.md):

    python data/multilingual/check_review.py data/multilingual/review/<lang>.jsonl

Every id of the language's ``dev`` and ``dev2`` files must appear exactly once, with valid labels and a
confidence. Prints missing, repeated and unknown ids and malformed lines, never the first writers' labels.
"""
import collections, json, re, sys
from pathlib import Path

CATS = {"sexual_minors", "grooming", "sexual", "self_harm", "violence", "harassment", "hate", "dangerous", "drugs",
        "personal_info", "other_unsafe", "safe"}
HERE = Path(__file__).resolve().parent

path = Path(sys.argv[1])
lang = re.match(r"([a-z]{2})\b", path.name)
if lang is None:
    sys.exit(f"{path.name}: the file name must start with the language code (es.jsonl)")
expected = set()
for split in ("dev", "dev2"):
    f = HERE / split / f"{lang.group(1)}.jsonl"
    expected |= {json.loads(line)["id"] for line in f.open(encoding="utf-8") if line.strip()}
seen: collections.Counter[str] = collections.Counter()
bad = 0
labels: collections.Counter[str] = collections.Counter()
borderline = 0
for i, line in enumerate(path.open(encoding="utf-8"), 1):
    if not line.strip():
        continue
    try:
        r = json.loads(line)
    except json.JSONDecodeError as e:
        print(f"line {i}: invalid JSON: {e}"); bad += 1; continue
    rid = r.get("id")
    seen[rid] += 1
    if rid not in expected:
        print(f"line {i}: unknown id {rid}"); bad += 1
    labs = r.get("labels")
    if not isinstance(labs, list) or not labs or any(x not in CATS for x in labs) or ("safe" in labs and len(labs) > 1):
        print(f"line {i}: bad labels {labs}"); bad += 1
    else:
        labels.update(labs)
    if r.get("confidence") not in ("clear", "borderline"):
        print(f"line {i}: confidence must be clear or borderline, not {r.get('confidence')!r}"); bad += 1
    borderline += r.get("confidence") == "borderline"
    if not isinstance(r.get("note", ""), str):
        print(f"line {i}: note must be a string"); bad += 1
for rid, k in seen.items():
    if k > 1:
        print(f"id {rid} appears {k} times"); bad += 1
missing = sorted(expected - set(seen))
if missing:
    print(f"{len(missing)} ids missing, e.g. {', '.join(missing[:8])}"); bad += 1
print(f"{sum(seen.values())} lines for {len(expected)} messages, {borderline} borderline, {bad} problems")
print("your labels:", dict(labels.most_common()))
