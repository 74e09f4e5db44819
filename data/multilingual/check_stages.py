"""Check a stage phrase file: python data/multilingual/check_stages.py FILE (what the stage-phrase writers ran)."""
import json, sys, collections
from pathlib import Path
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))
import yaml
from childsafe.detectors.multilingual import PhraseList, _phrase
from childsafe.text.fold import fold, tokens
STAGES = ["rapport", "age_probe", "circumstance_probe", "adult_age", "secrecy", "isolation", "gifts",
          "desensitisation", "sexual_talk", "photo_request", "off_platform", "meeting",
          "child_disclosure_age", "child_disclosure_location", "child_disclosure_alone"]
path = Path(sys.argv[1]); data = yaml.safe_load(path.read_text(encoding="utf-8"))
lang = data.get("language"); bad = 0
if set(data) - {"language", "stages", "allow"}: print("unknown top-level keys", set(data) - {"language", "stages", "allow"}); bad += 1
stages = data.get("stages") or {}
for s in stages:
    if s not in STAGES: print(f"unknown stage {s!r}"); bad += 1
lists = {}
for s, items in stages.items():
    ps = []
    for it in items or []:
        p = _phrase(str(it), None, 0.0, lang)
        if p is None: print(f"{s}: phrase {it!r} is empty after folding"); bad += 1; continue
        if not p.cjk and len(p.words) == 1 and not p.stems[0] and len(p.words[0]) < 5:
            print(f"{s}: phrase {it!r} is one short word: too generic?")
        ps.append(p)
    lists[s] = PhraseList(lang, ps)
allow = PhraseList(lang, [p for it in data.get("allow") or [] if (p := _phrase(str(it), None, 0.0, lang))])
# Coverage on the project's multilingual TRAINING messages of this language (never the dev files).
recs = []
for f in sorted((ROOT / "data" / "multilingual" / "train").glob(f"{lang}*.jsonl")):
    recs += [json.loads(l) for l in f.open(encoding="utf-8") if l.strip()]
ordinary = [r for r in recs if r.get("labels") == ["safe"]]
groom = [r for r in recs if {"grooming", "sexual_minors"} & set(r.get("labels") or [])]
def hits(text):
    f = fold(text); w = tokens(f.text); al = [(s, e) for _, s, e in allow.match(w, f.text)]
    out = set()
    for s, pl in lists.items():
        for p, a, b in pl.match(w, f.text):
            if not any(x < b and a < y for x, y in al): out.add((s, p.text))
    return out
per_phrase = collections.Counter(); per_stage_o = collections.Counter(); per_stage_g = collections.Counter()
for r in ordinary:
    h = hits(r["text"])
    for s, t in h: per_phrase[(s, t)] += 1
    for s in {s for s, _ in h}: per_stage_o[s] += 1
for r in groom:
    for s in {s for s, _ in hits(r["text"])}: per_stage_g[s] += 1
print(f"{lang}: {sum(len(v or []) for v in stages.values())} phrases in {len(stages)} stages; "
      f"training messages: {len(ordinary)} ordinary, {len(groom)} grooming/sexual_minors")
for s in STAGES:
    print(f"  {s:26} phrases {len(stages.get(s) or []):3}  ordinary hit {per_stage_o[s]:4}  grooming/sm hit {per_stage_g[s]:4}")
noisy = [(k, v) for k, v in per_phrase.items() if v >= max(3, 0.004 * len(ordinary))]
for (s, t), v in sorted(noisy, key=lambda kv: -kv[1]):
    print(f"  NOISY? {s}: {t!r} matches {v} ordinary training messages (fine for weak probes like age_probe if they are real probes; otherwise make it more specific or add an allow phrase)")
print(f"{bad} problems")
