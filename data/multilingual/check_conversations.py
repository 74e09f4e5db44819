"""Check a multilingual development conversation file (<lang>.dev.jsonl or <lang>.dev2.jsonl):
python data/multilingual/check_conversations.py FILE."""
import json, sys, collections, re, os
SPLIT = "dev2" if os.path.basename(sys.argv[1]).endswith(".dev2.jsonl") else "dev"
TAG = "d2" if SPLIT == "dev2" else "d"
LANGS = {"es", "fr", "de", "pt", "it", "ar", "hi", "zh", "ru", "tr"}
n = bad = 0; lab = collections.Counter(); lens = []; ids = set()
for i, line in enumerate(open(sys.argv[1], encoding="utf-8"), 1):
    if not line.strip(): continue
    n += 1
    try: r = json.loads(line)
    except Exception as e: print(f"line {i}: invalid JSON {e}"); bad += 1; continue
    for k in ("id", "group", "lang", "labels", "messages", "split", "batch", "kind", "alert_at"):
        if k not in r: print(f"line {i}: missing {k}"); bad += 1
    if r.get("lang") not in LANGS: print(f"line {i}: lang must be one of {sorted(LANGS)}"); bad += 1
    if not re.fullmatch(rf"mlc-[a-z]{{2}}-{TAG}-\d{{3}}", str(r.get("id", ""))) or not str(r.get("id")).startswith(f"mlc-{r.get('lang')}-"):
        print(f"line {i}: id must be mlc-<lang>-{TAG}-NNN"); bad += 1
    if r.get("id") in ids: print(f"line {i}: duplicate id"); bad += 1
    ids.add(r.get("id"))
    if r.get("split") != SPLIT: print(f"line {i}: split must be {SPLIT}"); bad += 1
    m = r.get("messages") or []
    if not (8 <= len(m) <= 35): print(f"line {i}: {len(m)} messages (want 8-30)"); bad += 1
    if any(x.get("role") not in ("child", "contact") or not str(x.get("text", "")).strip() for x in m):
        print(f"line {i}: bad message role/text"); bad += 1
    if r.get("labels") not in (["safe"], ["grooming"]): print(f"line {i}: labels must be ['safe'] or ['grooming']"); bad += 1
    if r.get("labels") == ["grooming"]:
        a = r.get("alert_at")
        if not isinstance(a, int) or not (0 <= a < len(m)): print(f"line {i}: grooming needs alert_at (0-based index into messages)"); bad += 1
        elif m[a].get("role") != "contact": print(f"line {i}: alert_at should point at a contact message"); bad += 1
    elif r.get("alert_at") is not None: print(f"line {i}: safe needs alert_at null"); bad += 1
    lab[(r.get("lang"), tuple(r.get("labels", [])))] += 1; lens.append(len(m))
print(f"{n} conversations, {bad} problems, by language/label {dict(lab)}, median length {sorted(lens)[len(lens)//2] if lens else 0}")
