"""Validate a multilingual batch: python data/multilingual/check.py FILE.jsonl"""
import json, sys, collections, re, unicodedata
CATS = {"sexual_minors","grooming","sexual","self_harm","violence","harassment","hate","dangerous","drugs","personal_info","other_unsafe","safe"}
ROLES = {"child","contact","assistant","user"}
LANGS = {"es","fr","de","pt","it","ar","hi","zh","ru","tr"}
path = sys.argv[1]
seen = set(); ids = set(); cnt = collections.Counter(); roles = collections.Counter(); bad = 0; n = 0; langs = collections.Counter()
harm = 0
for i, line in enumerate(open(path, encoding="utf-8"), 1):
    if not line.strip():
        continue
    n += 1
    try:
        r = json.loads(line)
    except Exception as e:
        print(f"line {i}: invalid JSON: {e}"); bad += 1; continue
    for k in ("id","lang","text","role","labels","split","batch"):
        if k not in r:
            print(f"line {i}: missing {k}"); bad += 1
    if r.get("lang") not in LANGS:
        print(f"line {i}: bad lang {r.get('lang')}"); bad += 1
    langs[r.get("lang")] += 1
    if r.get("id") in ids:
        print(f"line {i}: duplicate id {r.get('id')}"); bad += 1
    ids.add(r.get("id"))
    labs = r.get("labels") or []
    if not labs or any(l not in CATS for l in labs) or ("safe" in labs and len(labs) > 1):
        print(f"line {i}: bad labels {labs}"); bad += 1
    if r.get("role") not in ROLES:
        print(f"line {i}: bad role {r.get('role')}"); bad += 1
    t = unicodedata.normalize("NFKC", str(r.get("text", ""))).casefold()
    key = " ".join(re.findall(r"\w+", t))
    if not key:
        print(f"line {i}: empty text"); bad += 1
    if key in seen:
        print(f"line {i}: duplicate text"); bad += 1
    seen.add(key)
    for l in labs: cnt[l] += 1
    harm += labs != ["safe"]
    roles[r.get("role")] += 1
print(f"{n} records ({harm} harmful, {n-harm} safe), {bad} problems")
print("langs:", dict(langs))
print("labels:", dict(cnt.most_common()))
print("roles:", dict(roles))
