"""Early grooming detection through the whole engine, as an operator runs it (issue #15's measures).

    PYTHONPATH=src python bench/grooming_early.py [--split dev|test] [--pj-limit N] [--json FILE]

Every conversation is streamed message by message through ``Engine.monitor`` at age band 13-15 (the real
detectors, fusion, conversation tracker and policy). Three measures, each printed with two baselines from
the same run (the per-message grooming score without the conversation state, and alt-profanity-check when
installed, for segments):

* **Written conversations** (``data/conversations/v2``, split ``dev`` by default): per conversation,
  an *alert* is the first message whose grooming score reaches the policy's ``grooming.escalate`` threshold
  (a person is asked to look). Precision, recall, F0.5, latency-weighted F1 (Vogt, Leser and Akbik 2021,
  after Sadeque et al. 2018: penalty(k) = -1 + 2 / (1 + exp(-p (k - 1))), p set so that the penalty is 0.5 at
  the median length of the grooming conversations; speed = 1 - median penalty over detected ones;
  F_latency = F1 x speed), alerts per 1,000 ordinary conversations, and how early the first alert comes
  relative to the writers' ``alert_at`` mark. Also: any stop (any category) on ordinary conversations.
* **Perverted-Justice dev split** (the 20% of ``grooming_perverted_justice_train`` predators that training
  holds back, by group hash): the predator side alone, role contact (as the issue measured): share alerted and
  the first alert as a fraction of the predator's messages.
* **Segments**: windows of 10-40 messages joined with newlines, speakers unmarked, checked as single texts
  (role child, the CLI's default): grooming AUPRC and the share of ordinary segments whose grooming score
  reaches the child-role warn threshold. Grooming segments come from the PJ dev split (both sides,
  interleaved by position) and from written dev grooming conversations from their ``alert_at`` on; ordinary
  segments from written dev conversations, the IRC / Topical-Chat / SMS dev groups, and adult sexual chat
  (written dev records labelled ``sexual`` only, joined in runs), because real chat corpora are full of it.

Nothing here is trained or tuned on: the dev split guides work, the test split (``--split test``) is read
once at the end.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from childsafe.config import Config
from childsafe.engine import Engine
from childsafe.eval.metrics import average_precision
from childsafe.train.grooming import Conversation, datasets_dir, load_pj, load_written_v2, split_of
from childsafe.train.grooming_text import dev_texts
from childsafe.types import Action, Category, Role

AGE = "13-15"


def rule_threshold(engine: Engine, rule_id: str) -> float:
    for rule in engine.policy.rules:
        if rule.id == rule_id:
            return float(rule.min_score)
    raise SystemExit(f"the policy has no rule {rule_id!r}")


def stream(engine: Engine, conv: Conversation, baseline: bool = False) -> dict[str, Any]:
    """Grooming score and action after each message, plus the per-message grooming score alone."""
    mon = engine.monitor(AGE)
    conv_scores: list[float] = []
    msg_scores: list[float] = []
    stops: list[bool] = []
    for role, text in conv.messages:
        d = mon.add({"role": role.value, "text": text}, emit=False)
        conv_scores.append(d.scores[Category.GROOMING])
        stops.append(d.action is not Action.ALLOW)
        # baseline in the same run: the same message checked alone, without the conversation
        msg_scores.append(engine.check(text, age=AGE, role=role).scores[Category.GROOMING] if baseline else 0.0)
    return {"conv": conv_scores, "msg": msg_scores, "stop": stops}


def first(values: Sequence[float], threshold: float) -> int | None:
    return next((i for i, v in enumerate(values) if v >= threshold), None)


def latency_f1(f1: float, delays: list[int], median_len: float) -> tuple[float, float]:
    if not delays:
        return 0.0, 0.0
    p = math.log(3) / max(1.0, median_len - 1)
    penalties = [-1 + 2 / (1 + math.exp(-p * (k - 1))) for k in delays]
    speed = 1 - statistics.median(penalties)
    return f1 * speed, speed


def conversation_table(name: str, convs: list[Conversation], trajs: list[dict[str, Any]], key: str,
                       threshold: float) -> dict[str, Any]:
    labels = [c.label for c in convs]
    firsts = [first(t[key], threshold) for t in trajs]
    pred = [f is not None for f in firsts]
    tp = sum(p and y for p, y in zip(pred, labels, strict=True))
    fp = sum(p and not y for p, y in zip(pred, labels, strict=True))
    fn = sum(y and not p for p, y in zip(pred, labels, strict=True))
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    f05 = 1.25 * prec * rec / (0.25 * prec + rec) if prec + rec else 0.0
    pos = [i for i, y in enumerate(labels) if y]
    neg = [i for i, y in enumerate(labels) if not y]
    delays = [firsts[i] + 1 for i in pos if firsts[i] is not None]  # type: ignore[operator]
    median_len = statistics.median(len(convs[i].messages) for i in pos) if pos else 1.0
    flat, speed = latency_f1(f1, delays, median_len)
    fracs = [(firsts[i] + 1) / len(convs[i].messages) for i in pos if firsts[i] is not None]  # type: ignore[operator]
    vs_mark = [firsts[i] - convs[i].meta["alert_at"] for i in pos  # type: ignore[operator]
               if firsts[i] is not None and convs[i].meta.get("alert_at") is not None]
    return {
        "method": name, "threshold": threshold, "conversations": f"{len(pos)}+{len(neg)}",
        "precision": prec, "recall": rec, "F0.5": f05, "F1": f1, "speed": speed, "F_latency": flat,
        "median msgs to alert": float(statistics.median(delays)) if delays else float("nan"),
        "median fraction seen": statistics.median(fracs) if fracs else float("nan"),
        "alert - alert_at (median)": float(statistics.median(vs_mark)) if vs_mark else float("nan"),
        "early alerts (before mark)": sum(v < 0 for v in vs_mark) / len(vs_mark) if vs_mark else float("nan"),
        "false alerts / 1000 ordinary": 1000 * fp / max(1, len(neg)),
        "ordinary with any stop": sum(any(trajs[i]["stop"]) for i in neg) / max(1, len(neg)),
    }


def pj_table(engine: Engine, limit: int, threshold: float, max_messages: int) -> tuple[dict[str, Any], list[float]]:
    """The predator side alone (role contact) of the held-back Perverted-Justice groups."""
    convs = [c for c in load_pj() if split_of("pj", c.group) == "val"]
    convs = sorted(convs, key=lambda c: c.id)[: limit or None]
    fracs, alerted, stops = [], 0, []
    ms: list[float] = []
    for c in convs:
        pred = [(r, t) for r, t in c.messages if r is Role.CONTACT][:max_messages]
        full = sum(1 for r, _ in c.messages if r is Role.CONTACT)
        t0 = time.perf_counter()
        traj = stream(engine, Conversation(c.id, c.group, "pj", 1, pred))
        ms.append((time.perf_counter() - t0) * 1000 / max(1, len(pred)))
        f = first(traj["conv"], threshold)
        s = first([1.0 if x else 0.0 for x in traj["stop"]], 1.0)
        stops.append((s + 1) / full if s is not None else float("nan"))
        if f is not None:
            alerted += 1
            fracs.append((f + 1) / full)
    row = {
        "predators": len(convs),
        "alerted": alerted / max(1, len(convs)),
        "median fraction of predator messages at first alert": statistics.median(fracs) if fracs else float("nan"),
        "median fraction at first stop (any category)": float(np.nanmedian(stops)) if stops else float("nan"),
    }
    return row, ms


def build_segments(split: str) -> tuple[list[str], list[int], list[str]]:
    """The held-out windows of ``childsafe.train.grooming_text.dev_texts`` (its single records left out)."""
    texts, labels, sources = dev_texts(split)
    keep = [i for i, src in enumerate(sources) if src != "single record"]
    return [texts[i] for i in keep], [labels[i] for i in keep], [sources[i] for i in keep]


def segment_table(engine: Engine, split: str) -> list[dict[str, Any]]:
    texts, labels, sources = build_segments(split)
    warn = rule_threshold(engine, "grooming.child.warn")
    scores = [engine.check(t, age=AGE, role=Role.CHILD).scores[Category.GROOMING] for t in texts]
    rows = [{"method": "childsafe", "segments": f"{sum(labels)}+{len(labels) - sum(labels)}",
             "AUPRC": average_precision(np.asarray(scores), np.asarray(labels)), "chance": sum(labels) / len(labels),
             f"ordinary >= warn ({warn})": _rate(scores, labels, sources, warn, None),
             f"grooming >= warn ({warn})": sum(s >= warn for s, y in zip(scores, labels, strict=True) if y)
             / max(1, sum(labels))}]
    for src in sorted(set(sources)):
        rows[0][f"  >= warn: {src}"] = _rate(scores, labels, sources, warn, src)
    try:
        from profanity_check import predict_prob  # type: ignore[import-not-found]
    except ImportError:
        return rows
    base = [float(x) for x in predict_prob(texts)]
    rows.append({"method": "alt-profanity-check", "AUPRC": average_precision(np.asarray(base), np.asarray(labels))})
    return rows


def _rate(scores: list[float], labels: list[int], sources: list[str], t: float, src: str | None) -> float:
    idx = [i for i, (y, s) in enumerate(zip(labels, sources, strict=True)) if (src is None and not y) or s == src]
    return sum(scores[i] >= t for i in idx) / max(1, len(idx))


def print_rows(title: str, rows: list[dict[str, Any]]) -> None:
    print(f"\n## {title}")
    keys = list(dict.fromkeys(k for r in rows for k in r))
    width = max(len(k) for k in keys) + 2
    for k in keys:
        cells = []
        for r in rows:
            v = r.get(k, "")
            cells.append((f"{v:.3f}" if isinstance(v, float) else str(v)).rjust(22))
        print(k.ljust(width) + "".join(cells))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="early grooming detection through the engine")
    ap.add_argument("--split", choices=("dev", "test"), default="dev")
    ap.add_argument("--pj-limit", type=int, default=0, help="at most N Perverted-Justice predators (0: all)")
    ap.add_argument("--pj-max-messages", type=int, default=1000, help="messages read per predator")
    ap.add_argument("--skip", default="", help="comma list of parts to skip: written,pj,segments")
    ap.add_argument("--grooming-model", type=Path, default=None, help="grooming model directory (default: packaged)")
    ap.add_argument("--cap", type=float, default=None, help="conversation.message_grooming_cap (default: config's)")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures as JSON")
    args = ap.parse_args(argv)
    skip = set(filter(None, args.skip.split(",")))
    if not datasets_dir().exists():
        raise SystemExit(f"shared datasets not found at {datasets_dir()} (set CHILDSAFE_DATASETS)")
    conv: dict[str, Any] = {}
    if args.grooming_model:
        conv["model_dir"] = str(args.grooming_model)
    if args.cap is not None:
        conv["message_grooming_cap"] = args.cap
    engine = Engine.from_config(Config.model_validate({"conversation": conv}))
    alert = rule_threshold(engine, "grooming.escalate")
    out: dict[str, Any] = {"split": args.split, "age_band": AGE, "alert_threshold": alert}
    print(f"engine at age band {AGE}; alert = grooming score >= {alert} (policy grooming.escalate)")
    if "written" not in skip:
        convs = load_written_v2(args.split)
        trajs = [stream(engine, c, baseline=True) for c in convs]
        rows = [conversation_table("conversation risk", convs, trajs, "conv", alert),
                conversation_table("each message alone", convs, trajs, "msg", alert)]
        print_rows(f"written conversations ({args.split})", rows)
        out["written"] = rows
    if "pj" not in skip:
        row, ms = pj_table(engine, args.pj_limit, alert, args.pj_max_messages)
        print_rows("Perverted-Justice dev split, predator side only (role contact)", [row])
        print(f"engine time per message: median {np.median(ms):.2f} ms")
        out["pj"] = row
    if "segments" not in skip:
        rows = segment_table(engine, args.split)
        print_rows(f"segments, speakers unmarked ({args.split})", rows)
        out["segments"] = rows
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
