"""Benchmark the conversation grooming model on the held-back validation split.

    PYTHONPATH=src python bench/grooming.py [--model DIR] [--limit N]

Streams every validation conversation message by message through the real GroomingStageDetector and
ConversationTracker and prints a table: conversation AUPRC, F0.5 (PAN 2012 measure), precision, recall,
false-flag rate on safe chats (per source), median fraction of messages seen before the first flag, and
latency per message. Two baselines are computed in the same run on the same data:

* ``stage rules``: noisy-OR of the other party's stage scores (no learning);
* ``message max``: the running maximum of the per-message model probability (no conversation features).

Baseline thresholds are tuned on the validation split itself (best F0.5), which flatters them; the model's
threshold comes from its card (chosen on cross-fitted training data), so the comparison is conservative.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from childsafe.conversation.model import GroomingModel, default_model, sigmoid
from childsafe.conversation.tracker import ConversationTracker
from childsafe.detectors.grooming import CHILD_DISCLOSURES, GroomingStageDetector
from childsafe.text.context import TextContext
from childsafe.train.grooming import Conversation, build_splits
from childsafe.types import Role


def auprc(scores: Sequence[float], labels: Sequence[int]) -> float:
    """Average precision (area under the precision-recall curve, step interpolation)."""
    order = np.argsort(-np.asarray(scores), kind="stable")
    y = np.asarray(labels)[order]
    tp = np.cumsum(y)
    precision = tp / np.arange(1, len(y) + 1)
    return float(np.sum(precision * y) / max(1, y.sum()))


def f05(pred: Sequence[bool], labels: Sequence[int]) -> tuple[float, float, float]:
    p_arr, y = np.asarray(pred), np.asarray(labels)
    tp = float(np.sum(p_arr & (y == 1)))
    fp = float(np.sum(p_arr & (y == 0)))
    fn = float(np.sum(~p_arr & (y == 1)))
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    f = 1.25 * prec * rec / (0.25 * prec + rec) if prec + rec else 0.0
    return f, prec, rec


class Run:
    """Per-conversation streaming score trajectory for one method."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.trajectories: list[list[float]] = []


def stream(convs: list[Conversation], model: GroomingModel) -> tuple[dict[str, Run], list[float], list[float]]:
    det = GroomingStageDetector()
    runs = {k: Run(k) for k in ("model", "stage rules", "message max")}
    tracker_ms: list[float] = []
    full_ms: list[float] = []
    for conv in convs:
        tr = ConversationTracker(model=model)
        stage_best: dict[str, float] = {}
        msg_best = 0.0
        traj: dict[str, list[float]] = {k: [] for k in runs}
        for i, (role, text) in enumerate(conv.messages):
            t0 = time.perf_counter()
            ctx = TextContext.from_text(text, role=role, index=i)
            t1 = time.perf_counter()
            dets = det.detect(ctx)
            tr.add(ctx, dets)
            t2 = time.perf_counter()
            tracker_ms.append((t2 - t1) * 1000)
            full_ms.append((t2 - t0) * 1000)
            traj["model"].append(tr.risk)
            for d in dets:
                if d.signal and (role is not Role.CHILD or d.signal in CHILD_DISCLOSURES):
                    stage_best[d.signal] = max(stage_best.get(d.signal, 0.0), d.score)
            traj["stage rules"].append(1.0 - float(np.prod([1.0 - s for s in stage_best.values()])))
            if role is not Role.CHILD:
                msg_best = max(msg_best, sigmoid(model.message_logit(ctx.normalized)))
            traj["message max"].append(msg_best)
        for k, run in runs.items():
            run.trajectories.append(traj[k])
    return runs, tracker_ms, full_ms


def summarise(
    run: Run, convs: list[Conversation], threshold: float | None, warn: float | None = None
) -> tuple[dict[str, float | str], float]:
    labels = [c.label for c in convs]
    finals = [t[-1] if t else 0.0 for t in run.trajectories]
    if threshold is None:  # tune on this split (baselines only)
        best = (0.5, -1.0)
        for t in sorted(set(np.round(finals, 4))):
            f, _, _ = f05([s >= t for s in finals], labels)
            if f > best[1]:
                best = (float(t), f)
        threshold = best[0]
    pred = [s >= threshold for s in finals]
    f, prec, rec = f05(pred, labels)
    fracs = []
    counts = []
    for traj, y in zip(run.trajectories, labels, strict=True):
        if y == 1:
            first = next((i for i, s in enumerate(traj) if s >= threshold), None)
            if first is not None:
                fracs.append((first + 1) / len(traj))
                counts.append(first + 1)
    row: dict[str, float | str] = {
        "method": run.name,
        "threshold": threshold,
        "AUPRC": auprc(finals, labels),
        "F0.5": f,
        "precision": prec,
        "recall": rec,
        "median first flag": statistics.median(fracs) if fracs else float("nan"),
        "median msgs to flag": float(statistics.median(counts)) if counts else float("nan"),
    }
    for src in sorted({c.source for c in convs if c.label == 0}):
        idx = [i for i, c in enumerate(convs) if c.label == 0 and c.source == src]
        row[f"FP {src}"] = sum(pred[i] for i in idx) / len(idx)
    safe = [i for i, c in enumerate(convs) if c.label == 0]
    row["FP all safe"] = sum(pred[i] for i in safe) / len(safe)
    for src in sorted({c.source for c in convs if c.label == 1}):
        idx = [i for i, c in enumerate(convs) if c.label == 1 and c.source == src]
        row[f"recall {src}"] = sum(pred[i] for i in idx) / len(idx)
    if warn is not None:  # the policy's earlier grooming.warn level
        wpred = [s >= warn for s in finals]
        row[f"FP all safe @{warn}"] = sum(wpred[i] for i in safe) / len(safe)
        row[f"recall @{warn}"] = sum(wpred[i] for i, c in enumerate(convs) if c.label == 1) / sum(labels)
    return row, threshold


def print_table(rows: list[dict[str, float | str]], out: Callable[[str], None] = print) -> None:
    keys = list(dict.fromkeys(k for r in rows for k in r))
    width = max(len(k) for k in keys) + 2
    out("".ljust(width) + "".join(str(r["method"]).rjust(14) for r in rows))
    for k in keys[1:]:
        cells = []
        for r in rows:
            v = r.get(k, "")
            cells.append((f"{v:.3f}" if isinstance(v, float) else str(v)).rjust(14))
        out(k.ljust(width) + "".join(cells))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="grooming conversation benchmark on the validation split")
    ap.add_argument("--model", type=Path, default=None, help="model directory (default: the packaged model)")
    ap.add_argument("--limit", type=int, default=0, help="use at most N conversations per label (quick runs)")
    args = ap.parse_args(argv)
    model = GroomingModel.load(args.model) if args.model else default_model()
    convs = build_splits()["val"]
    if args.limit:
        pos = [c for c in convs if c.label == 1][: args.limit]
        neg = [c for c in convs if c.label == 0][: args.limit]
        convs = pos + neg
    n_msgs = sum(len(c.messages) for c in convs)
    print(f"validation split: {len(convs)} conversations ({sum(c.label for c in convs)} grooming), {n_msgs} messages")
    print(f"model {model.version}, threshold {model.threshold:.3f} (from the model card)")
    runs, tracker_ms, full_ms = stream(convs, model)
    rows = []
    row, _ = summarise(runs["model"], convs, model.threshold, warn=0.3)
    rows.append(row)
    for name in ("stage rules", "message max"):
        row, _ = summarise(runs[name], convs, None)
        row["method"] = name + "*"
        rows.append(row)
    print_table(rows)
    print("* baseline threshold tuned on this validation split (optimistic for the baseline)")
    print("median first flag = median over flagged grooming conversations of (messages seen at first flag / length)")
    tm = np.asarray(tracker_ms)
    fm = np.asarray(full_ms)
    print(
        f"latency per message: detector+tracker median {np.median(tm):.3f} ms, p99 {np.percentile(tm, 99):.3f} ms; "
        f"with normalisation median {np.median(fm):.3f} ms, p99 {np.percentile(fm, 99):.3f} ms"
    )
    print(state_and_long_message_figures(model, convs))
    return 0


def state_and_long_message_figures(model: GroomingModel, convs: list[Conversation]) -> str:
    """State size after short and long conversations, and the cost of one long message."""
    import json

    det = GroomingStageDetector()
    longest = max(convs, key=lambda c: len(c.messages))
    sizes = {}
    for n in (50, len(longest.messages)):
        tr = ConversationTracker(model=model)
        for i, (role, text) in enumerate(longest.messages[:n]):
            ctx = TextContext.from_text(text, role=role, index=i)
            tr.add(ctx, det.detect(ctx))
        sizes[n] = len(json.dumps(tr.state()))
    ms = {}
    for chars in (300, 2000):
        base = ("we played football after school and then went home for dinner " * 40)[: chars - 4]
        # distinct texts, so no cache helps
        ctxs = [TextContext.from_text(f"{base} {k}", role=Role.CONTACT, index=k) for k in range(20)]
        tr = ConversationTracker(model=model)
        t0 = time.perf_counter()
        for ctx in ctxs:
            tr.add(ctx, det.detect(ctx))
        ms[chars] = (time.perf_counter() - t0) / len(ctxs) * 1000
    size_txt = ", ".join(f"{n} messages: {b} bytes" for n, b in sizes.items())
    return (
        f"state size (JSON): {size_txt}; "
        f"one long message (detector+tracker): 300 chars {ms[300]:.2f} ms, 2000 chars {ms[2000]:.2f} ms"
    )


if __name__ == "__main__":
    sys.exit(main())
