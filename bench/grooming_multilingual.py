"""Grooming across a conversation in the ten languages besides English, through the whole engine.

    PYTHONPATH=src python bench/grooming_multilingual.py [--split dev|dev2|dev,dev2] [--json FILE]

Every written conversation in ``data/conversations/multilingual`` of the split (``dev``: written by writers who
did not write the stage phrases of that language; ``dev2``: a second set by ten further writers, one per
language, to a brief that asks for other situations; nothing is trained or tuned on either) is streamed message
by message through ``Engine.monitor`` at age band 13-15, with the conversation's language as the child's language, as in
``bench/grooming_early.py``: an *alert* is the first message whose grooming score reaches the policy's
``grooming.escalate`` threshold. Per language: grooming conversations alerted, ordinary conversations alerted,
ordinary conversations with any stop (any category), the share of the messages of ordinary conversations that
were stopped, and how the alert falls against the writers' ``alert_at`` mark; in the mean line, the share of
grooming conversations with a message of the other party whose ``sexual_minors`` reading reaches the tracker's
floor (``SEXUAL_MINORS_FLOOR``: such a message alerts at once). Two configurations in the same run:

* **before**: the conversation tracker reads every message with the English message model and sees only the
  English stage rules (``conversation.multilingual: false``, ``grooming_stages_ml`` off);
* **now**: the default configuration (the multilingual grooming reading and the stage phrases of each language).

English written test conversations (``data/conversations/v2``, split test) are a control row: both
configurations must read them the same.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from childsafe.config import Config  # noqa: E402
from childsafe.conversation.tracker import SEXUAL_MINORS_FLOOR  # noqa: E402
from childsafe.engine import Engine  # noqa: E402
from childsafe.train.grooming import Conversation, load_multilingual, load_written_v2  # noqa: E402
from childsafe.types import Action, Category, Role  # noqa: E402

AGE = "13-15"


def engines(hold: bool = False) -> dict[str, Engine]:
    before, now = Config(), Config()
    before.conversation.multilingual = False
    before.detectors["grooming_stages_ml"] = {"enabled": False}
    for cfg in (before, now):
        cfg.conversation.hold_below_alert = hold
    return {"before": Engine.from_config(before), "now": Engine.from_config(now)}


def alert_threshold(engine: Engine) -> float:
    return next(float(r.min_score) for r in engine.policy.rules if r.id == "grooming.escalate")


def stream(engine: Engine, conv: Conversation, threshold: float, sources: Counter[str] | None = None
           ) -> tuple[int | None, int, float, bool]:
    """(index of the first alert or None, how many messages were stopped, seconds per message, whether a message
    of the other party read ``sexual_minors`` at the tracker's floor, which alerts at once). ``sources``: counts,
    for each stopped message, the detector and category of its strongest flagged finding."""
    lang = conv.meta.get("lang", "en")
    mon = engine.monitor(AGE, language=None if lang == "en" else lang)
    alert: int | None = None
    stopped = 0
    serious = False
    t0 = time.perf_counter()
    for i, (role, text) in enumerate(conv.messages):
        d = mon.add({"role": role.value, "text": text}, emit=False)
        if alert is None and d.scores[Category.GROOMING] >= threshold:
            alert = i
        stopped += d.action is not Action.ALLOW
        serious = serious or (role is not Role.CHILD and any(
            x.category is Category.SEXUAL_MINORS and x.detector != "conversation" and x.score >= SEXUAL_MINORS_FLOOR
            for x in d.detections))
        if sources is not None and d.action is not Action.ALLOW:
            flagged = [x for x in d.detections if x.category in d.categories]
            best = max(flagged, key=lambda x: x.score, default=None)
            sources[f"{best.detector} {best.category.value}" if best else "(no finding)"] += 1
    return alert, stopped, (time.perf_counter() - t0) / max(1, len(conv.messages)), serious


def table(convs: list[Conversation], runs: list[tuple[int | None, int, float, bool]]) -> dict[str, Any]:
    pos = [i for i, c in enumerate(convs) if c.label]
    neg = [i for i, c in enumerate(convs) if not c.label]
    vs_mark = [runs[i][0] - convs[i].meta["alert_at"] for i in pos  # type: ignore[operator]
               if runs[i][0] is not None and convs[i].meta.get("alert_at") is not None]
    return {
        "conversations": f"{len(pos)}+{len(neg)}",
        "grooming alerted": sum(runs[i][0] is not None for i in pos) / max(1, len(pos)),
        "ordinary alerted": sum(runs[i][0] is not None for i in neg) / max(1, len(neg)),
        "ordinary any stop": sum(runs[i][1] > 0 for i in neg) / max(1, len(neg)),
        "ordinary messages stopped": sum(runs[i][1] for i in neg) / max(1, sum(len(convs[i].messages) for i in neg)),
        "alert - alert_at (median)": float(statistics.median(vs_mark)) if vs_mark else float("nan"),
        "grooming with a serious sexual_minors message": sum(runs[i][3] for i in pos) / max(1, len(pos)),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--split", default="dev", help="a split, or several joined by commas (dev,dev2)")
    ap.add_argument("--json", type=Path, help="write the figures here")
    ap.add_argument("--sources", action="store_true",
                    help="also print where the stops inside ordinary conversations come from (now)")
    ap.add_argument("--hold", action="store_true",
                    help="conversation.hold_below_alert in both configurations (a conversation's highest risk stands)")
    args = ap.parse_args()
    convs = [conv for split in args.split.split(",") for conv in load_multilingual(split.strip())]
    if not convs:
        raise SystemExit(f"no conversations of split {args.split!r} in data/conversations/multilingual")
    control = load_written_v2("test")
    groups: dict[str, list[Conversation]] = defaultdict(list)
    for c in convs:
        groups[str(c.meta["lang"])].append(c)
    groups["en (control)"] = control
    out: dict[str, Any] = {"split": args.split, "age_band": AGE, "hold_below_alert": args.hold, "languages": {}}
    per_message: dict[str, list[float]] = defaultdict(list)
    sources: Counter[str] = Counter()
    for name, engine in engines(args.hold).items():
        threshold = alert_threshold(engine)
        for lang, cs in sorted(groups.items()):
            counted = sources if args.sources and name == "now" and lang != "en (control)" else None
            runs = [stream(engine, c, threshold, None if c.label else counted) for c in cs]
            out["languages"].setdefault(lang, {})[name] = table(cs, runs)
            if lang != "en (control)":
                per_message[name] += [r[2] for r in runs]
    cols = ["grooming alerted", "ordinary alerted", "ordinary any stop", "ordinary messages stopped",
            "alert - alert_at (median)"]
    print(f"age band {AGE}; alert = grooming score >= grooming.escalate; hold_below_alert {args.hold}; before -> now")
    print(f"{'lang':14} {'convs':>7} " + " ".join(f"{c:>28}" for c in cols))
    rows = sorted(out["languages"].items(), key=lambda kv: (kv[0].startswith("en"), kv[0]))
    for lang, res in rows:
        b, n = res["before"], res["now"]
        cells = []
        for c in cols:
            fmt = "{:.1f}" if c.startswith("alert -") else "{:.0%}"
            cells.append(f"{fmt.format(b[c]):>12} -> {fmt.format(n[c]):<12}")
        print(f"{lang:14} {n['conversations']:>7} " + " ".join(f"{c:>28}" for c in cells))
    langs = [lang for lang in out["languages"] if lang != "en (control)"]
    for name in ("before", "now"):
        mean = {c: statistics.mean(out["languages"][lang][name][c] for lang in langs)
                for c in [*cols[:4], "grooming with a serious sexual_minors message"]}
        out[f"mean {name}"] = mean
        lat = sorted(per_message[name])
        out[f"ms per message {name}"] = 1000 * statistics.median(lat)
        print(f"mean over {len(langs)} languages, {name}: " + ", ".join(f"{c} {v:.1%}" for c, v in mean.items())
              + f"; median {1000 * statistics.median(lat):.2f} ms per message")
    if args.sources:
        total = sum(sources.values())
        print(f"stops inside ordinary conversations (now, {len(langs)} languages), by the strongest flagged finding: "
              f"{total}")
        for src, k in sources.most_common():
            print(f"  {k:5d}  {src}")
        out["sources now"] = dict(sources)
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
