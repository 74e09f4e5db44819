"""Learned multi-label classifier: int8 MiniLM in ONNX, calibrated per category, scored on raw and normalised text."""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field

from childsafe.detectors.base import Detector, DetectorConfig, DetectorUnavailable
from childsafe.detectors.personal_info import IDENTITY_TERMS
from childsafe.text.context import TextContext
from childsafe.text.spelling import default_corrector
from childsafe.types import Category, Detection, Role

MODELS_DIR = Path(__file__).resolve().parent.parent / "models"

# Words too common in other senses ("man, that was hard", "a white board", "straight away") are left alone.
_AMBIGUOUS = frozenset({"white", "black", "brown", "native", "mixed", "straight", "bi", "cis"})
"""Identity terms only when they describe a person: before a person noun or after "I'm"/"is"/"are"."""
_IDENTITY = IDENTITY_TERMS - _AMBIGUOUS - {"man", "woman"}
_PERSON_NOUNS = frozenset(
    "people person persons kid kids child children boy boys girl girls man men woman women guy guys family families"
    " student students friend friends folks teen teens neighbour neighbours neighbor neighbors".split()
)
_COPULAS = frozenset({"am", "im", "i'm", "is", "are", "was", "were", "be", "being", "as"})
_REFERENCE_GROUPS = ("christian", "polish", "deaf", "asian")
_HELP_SEEKING = re.compile(
    r"^(?:.{0,30}\b)?(how (do|can|should) i (stop|deal|handle|cope|report|tell|respond)|what (do|should) i do"
    r"|how to (stop|deal with|handle|cope|report|respond)|someone (called|keeps calling) me|i am being bullied"
    r"|i'm being bullied|im being bullied|they (call|called) me)\b"
)
_CONTEXT_CATEGORIES = frozenset({Category.VIOLENCE, Category.HATE, Category.HARASSMENT, Category.OTHER_UNSAFE})
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
_NOT_ALNUM = re.compile(r"[\W_]+")
_HYPHENATED_IDENTITY = re.compile(r"\bnon[- ]binary\b|\bwheelchair users?\b")
_HELP_SEEKING_SOFTENS = (Category.HARASSMENT, Category.HATE, Category.VIOLENCE)
_HELP_SEEKING_CAP = 0.35
MANIFEST_NAME = "classifier.json"


class ClassifierConfig(DetectorConfig):
    model_dir: str | None = None
    """Directory holding classifier.json, the ONNX model and tokenizer.json (default: the shipped model)."""
    floor: float = Field(0.0, ge=0.0, le=1.0)
    """Calibrated scores below this are not reported. 0 by default: every category's score reaches the decision
    record, so records can be ranked (a reader's PR curve needs the model's low scores too)."""
    threads: int = Field(1, ge=1, le=64)
    """CPU threads one model run may use: onnxruntime intra-op threads, or with ``exact_rows`` the workers that
    score the rows of a large batch side by side (1 keeps latency stable when many requests run at once)."""
    exact_rows: bool = True
    """Run every window on its own, so a message's score never depends on the other messages scored with it.
    The int8 model quantises activations per run: in a padded batch of 300 texts, scores moved from the
    single-text score by 0.015 at the median and up to 0.15 (measured; fp32 moved < 1e-6). Off: padded
    batches, about 1.3x more throughput on one core, scores that depend on the batch."""
    batch_size: int = Field(64, ge=1, le=1024)
    concurrent_runs: int = Field(2, ge=1, le=64)
    """Model runs at once when many threads call the detector (a server): callers that arrive while all runs
    are busy are merged into the next run, so under load one forward pass scores many messages."""
    window_tokens: int = Field(96, ge=16, le=512)
    """Window size for long texts (capped by the model's max_length): mean pooling over a shorter window dilutes a
    harmful sentence less among benign ones (measured: 0.33 at 128 vs 0.62 at 96 tokens)."""
    window_stride: int = Field(64, ge=8, le=512)
    max_windows: int = Field(32, ge=1, le=1024)
    """Longest text scored = max_windows overlapping windows; the rest is not scored by this detector."""
    sentence_views: bool = True
    """Also score each sentence of a multi-sentence message on its own (max per category): mean pooling over a
    window dilutes one harmful sentence among benign ones (measured: "i want to kill myself tonight." after a
    paragraph of beach-day filler scored 0.14 in its 96-token window and 0.9+ alone)."""
    max_sentences: int = Field(32, ge=0, le=1024)
    sentence_categories: list[Category] = Field(
        default_factory=lambda: [c for c in Category if c not in _CONTEXT_CATEGORIES]
    )
    """Categories a lone sentence may raise. Violence, hate, harassment and other_unsafe need the whole text:
    out of context, sentences of news and history read as violence (measured on 600 AG News texts: stopped
    4.5% by whole-text scoring, 16.8% with sentence views for every category, 4.7% with this default)."""
    child_grooming_factor: float = Field(1.0, ge=0.0, le=1.0)
    """Multiplies the grooming score of a child's own message. The first model read ordinary child talk about
    parents and secrets as grooming and shipped with 0.5; the current one, trained with child-voice examples,
    scores those at 0.01-0.09, and halving hid adult-voice requests typed into a child's account ("how can i
    get a child alone...": 0.61 -> 0.30)."""
    score_raw: bool = False
    """Also score the raw text (not only the normalised one) and keep the max per category, when normalisation
    changed its letters or digits (not only case, punctuation, apostrophes, spacing or emoji). Off by default:
    measured on the shipped model, it changed no figure of the red-team suite, JailbreakBench, probes, seed
    test, AG News or unhealthy_conversations by more than 0.001 AUPRC, and it was the cause of the fairness
    audit's one text-speak false positive ("so tired 2day stayed up late": 0.31 self_harm raw, 0.20
    normalised); it doubles the cost of messages with slang or typos."""
    spelling: bool = True
    """Also score the normalised text with typos corrected (one edit away, by word frequency: "yur paretns" ->
    "your parents"), max per category: the uncorrected text is still scored, so a wrong correction only adds
    a view."""
    identity_invariant: bool = True
    """Score a text that names an identity group (Muslim, trans, Black, deaf...) as the mean over the same text
    with the group replaced by each of a fixed set of reference groups, so every group gets the same score for
    the same sentence (the fairness audit found the model over-flagging benign sentences about some groups)."""


class _Job:
    __slots__ = ("done", "error", "lead", "result", "windows")

    def __init__(self, windows: Sequence[list[int]]) -> None:
        self.windows = windows
        self.result: np.ndarray | None = None
        self.error: BaseException | None = None
        self.lead = False
        self.done = threading.Event()


class _Batcher:
    """Opportunistic micro-batching of model runs across threads.

    A caller that finds a free run slot runs its windows at once (no added latency when the server is idle).
    Callers that arrive while every slot is busy queue up; when a run ends, its thread hands the slot to the
    oldest waiter, which runs everything queued by then as one batch. Under load a single forward pass then
    scores many messages, which costs far less per message than one pass each on a CPU.
    """

    def __init__(self, run: Callable[[Sequence[list[int]]], np.ndarray], slots: int, max_windows: int) -> None:
        self._run = run
        self._slots = slots
        self._max = max_windows
        self._busy = 0
        self._queue: list[_Job] = []
        self._lock = threading.Lock()

    def submit(self, windows: Sequence[list[int]]) -> np.ndarray:
        job = _Job(windows)
        with self._lock:
            if self._busy < self._slots:
                self._busy += 1
                job.lead = True
            else:
                self._queue.append(job)
        if not job.lead:
            job.done.wait()
        if job.lead:
            self._lead(job)
        if job.error is not None:
            raise job.error
        assert job.result is not None
        return job.result

    def _lead(self, own: _Job) -> None:
        """Run ``own`` plus whatever is queued (up to the window budget), then pass the slot on."""
        with self._lock:
            batch, size = [own], len(own.windows)
            while self._queue and size + len(self._queue[0].windows) <= self._max:
                nxt = self._queue.pop(0)
                batch.append(nxt)
                size += len(nxt.windows)
        try:
            merged = [w for job in batch for w in job.windows]
            probs = self._run(merged)
            start = 0
            for job in batch:
                job.result = probs[start : start + len(job.windows)]
                start += len(job.windows)
        except BaseException as exc:  # every caller in the batch sees the failure (and fails closed)
            for job in batch:
                job.error = exc
        with self._lock:
            if self._queue:
                heir = self._queue.pop(0)
                heir.lead = True
                heir.done.set()
            else:
                self._busy -= 1
        for job in batch:
            if job is not own:
                job.done.set()


_MARKUP = re.compile(r"```[a-z0-9_+-]*|`|\*\*|__|^#{1,6}\s*\w*|(?<=\s)#{1,6}\s+\w+\s+(?=>)|(?:^|(?<=\s))>\s")


_CODE = re.compile(r"(?<!\S)(?:\S*[=(){}\[\];<>\\$]\S*|[=(){}\[\];<>$]+)(?!\S)")
"""A code-like token ("k=v(1)", "f(y);", "{x}", a lone "="): a few of them before a request made the model read
the whole message as code ("k=v(1) " took a clear request about a child from report to allow)."""


def _unmarked(text: str) -> str:
    """The text without markdown emphasis, headings, quote marks, code fences (with their language tag) and
    code-like tokens."""
    return " ".join(_CODE.sub(" ", _MARKUP.sub(" ", text)).split())


def _skeleton(text: str) -> str:
    """Letters and digits only, lowercased: what a normalisation must change for the raw view to be scored."""
    return _NOT_ALNUM.sub("", text.lower())


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class ClassifierDetector(Detector):
    """Multi-label safety classifier (see docs/model-card.md)."""

    name = "classifier"
    version = "2"
    categories = frozenset(Category)
    languages = frozenset({"en"})
    Config = ClassifierConfig

    def __init__(self, config: DetectorConfig | None = None) -> None:
        super().__init__(config)
        self._session: Any = None
        self._tokenizer: Any = None
        self._cats: list[Category] = []
        self._a = np.ones(0)
        self._b = np.zeros(0)
        self._win = 126
        self._stride = 96
        self._cls = 101
        self._sep = 102
        self._batcher: _Batcher | None = None
        self._rows_pool: ThreadPoolExecutor | None = None
        self.manifest: dict[str, Any] = {}

    @property
    def cfg(self) -> ClassifierConfig:
        assert isinstance(self.config, ClassifierConfig)
        return self.config

    def _load(self) -> None:
        model_dir = Path(self.cfg.model_dir) if self.cfg.model_dir else MODELS_DIR
        manifest_path = model_dir / MANIFEST_NAME
        if not manifest_path.is_file():
            raise DetectorUnavailable(f"classifier model manifest not found: {manifest_path}")
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
            model_path = model_dir / str(manifest["model_file"])
            tok_path = model_dir / str(manifest["tokenizer_file"])
            expected = {model_path: str(manifest["sha256"]), tok_path: str(manifest["tokenizer_sha256"])}
            cats = [Category.parse(c) for c in manifest["categories"]]
            params = manifest["calibration"]["params"]
            a = np.array([float(params[c.value]["a"]) for c in cats])
            b = np.array([float(params[c.value]["b"]) for c in cats])
            max_length = int(manifest["max_length"])
        except (ValueError, KeyError, TypeError) as exc:
            raise DetectorUnavailable(f"classifier manifest {manifest_path} is invalid: {exc}") from None
        for path, digest in expected.items():
            if not path.is_file():
                raise DetectorUnavailable(f"classifier file missing: {path}")
            actual = _sha256(path)
            if actual != digest:
                raise DetectorUnavailable(
                    f"classifier file {path.name} failed its checksum (expected sha256 {digest[:12]}..., "
                    f"got {actual[:12]}...): the model is corrupt or was replaced"
                )
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer

            so = ort.SessionOptions()
            # exact rows: one thread per run, and up to ``threads`` runs side by side (bs1 runs parallelise
            # better across runs than inside one: 592 against 473 rows/s on 2 cores, measured)
            so.intra_op_num_threads = 1 if self.cfg.exact_rows else self.cfg.threads
            so.inter_op_num_threads = 1
            so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            session = ort.InferenceSession(str(model_path), so, providers=["CPUExecutionProvider"])
            tokenizer = Tokenizer.from_file(str(tok_path))
        except Exception as exc:  # onnxruntime raises its own exception types for corrupt graphs
            raise DetectorUnavailable(f"classifier model could not be loaded: {exc}") from None
        tokenizer.no_truncation()
        tokenizer.no_padding()
        cls_id, sep_id = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
        if cls_id is None or sep_id is None:
            raise DetectorUnavailable("classifier tokenizer has no [CLS]/[SEP] tokens")
        self._session, self._tokenizer, self._cats, self._a, self._b = session, tokenizer, cats, a, b
        self._win = min(self.cfg.window_tokens, max_length) - 2
        self._stride = max(1, min(self.cfg.window_stride, self._win))
        self._cls, self._sep = cls_id, sep_id
        self.manifest = manifest
        if self.cfg.spelling:
            default_corrector()  # starts loading the word list now, off the first message's path
        if self.cfg.exact_rows and self.cfg.threads > 1:
            self._rows_pool = ThreadPoolExecutor(self.cfg.threads, thread_name_prefix="childsafe-classifier")
        self._batcher = _Batcher(self._run, self.cfg.concurrent_runs, max(self.cfg.batch_size, self.cfg.max_windows))
        # Warm the graph once so the first real message does not pay for lazy kernel setup.
        self._run([[cls_id, sep_id]])

    def _windows(self, ids: list[int]) -> list[list[int]]:
        """Overlapping windows of at most max_length tokens, each wrapped in [CLS] ... [SEP]."""
        if len(ids) <= self._win:
            return [[self._cls, *ids, self._sep]]
        out: list[list[int]] = []
        start = 0
        while start < len(ids) and len(out) < self.cfg.max_windows:
            out.append([self._cls, *ids[start : start + self._win], self._sep])
            if start + self._win >= len(ids):
                break
            start += self._stride
        return out

    def _run(self, windows: Sequence[list[int]]) -> np.ndarray:
        """Calibrated probabilities, one row per window: one run each (``exact_rows``), or length-sorted padded
        batches."""
        n = len(windows)
        probs = np.zeros((n, len(self._cats)), dtype=np.float64)
        if self.cfg.exact_rows:
            def one(i: int) -> None:
                ids = np.asarray([windows[i]], dtype=np.int64)
                logits = self._session.run(["logits"], {"input_ids": ids, "attention_mask": np.ones_like(ids)})[0]
                probs[i] = 1.0 / (1.0 + np.exp(-(logits[0].astype(np.float64) * self._a + self._b)))

            if self._rows_pool is not None and n > 1:
                list(self._rows_pool.map(one, range(n)))
            else:
                for i in range(n):
                    one(i)
            return probs
        order = sorted(range(n), key=lambda i: len(windows[i]))
        bs = self.cfg.batch_size
        groups: list[list[int]] = []
        for i in order:
            # A new batch when this row would pad the batch's shortest row to more than ~1.3x its length:
            # sentences and the whole message in one padded batch cost as much as the whole message each.
            if groups and len(groups[-1]) < bs and len(windows[i]) <= 1.3 * len(windows[groups[-1][0]]) + 4:
                groups[-1].append(i)
            else:
                groups.append([i])
        for idx in groups:
            width = max(len(windows[i]) for i in idx)
            ids = np.zeros((len(idx), width), dtype=np.int64)
            mask = np.zeros((len(idx), width), dtype=np.int64)
            for r, i in enumerate(idx):
                ids[r, : len(windows[i])] = windows[i]
                mask[r, : len(windows[i])] = 1
            logits = self._session.run(["logits"], {"input_ids": ids, "attention_mask": mask})[0]
            probs[idx] = 1.0 / (1.0 + np.exp(-(logits.astype(np.float64) * self._a + self._b)))
        return probs

    def score_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Calibrated probability per category for each text (max over its windows); shape (len, categories)."""
        self.load()
        encs = self._tokenizer.encode_batch(list(texts), add_special_tokens=False)
        windows: list[list[int]] = []
        seen: dict[tuple[int, ...], int] = {}
        owner: list[int] = []
        slot: list[int] = []
        for t, enc in enumerate(encs):
            for w in self._windows(list(enc.ids)):
                # The raw and normalised views often tokenise identically (the tokenizer lowercases): run once.
                key = tuple(w)
                if key not in seen:
                    seen[key] = len(windows)
                    windows.append(w)
                owner.append(t)
                slot.append(seen[key])
        out = np.zeros((len(texts), len(self._cats)), dtype=np.float64)
        if windows:
            assert self._batcher is not None
            probs = self._batcher.submit(windows)
            np.maximum.at(out, np.asarray(owner), probs[np.asarray(slot)])
        return out

    def _identity_variants(self, ctx: TextContext) -> list[str] | None:
        """Counterfactual copies of the normalised text with every identity term swapped for each reference."""
        if not self.cfg.identity_invariant:
            return None
        words = ctx.words
        hits: list[tuple[int, int, bool]] = []
        for k, (tok, start, end) in enumerate(words):
            if tok in _AMBIGUOUS:
                nxt = words[k + 1][0] if k + 1 < len(words) else ""
                prev = words[k - 1][0] if k > 0 else ""
                if nxt in _PERSON_NOUNS or prev in _COPULAS:
                    hits.append((start, end, False))
            elif tok in _IDENTITY:
                hits.append((start, end, False))
            elif tok.endswith("s") and tok[:-1] in _IDENTITY:
                hits.append((start, end, True))
        for m in _HYPHENATED_IDENTITY.finditer(ctx.normalized):
            hits.append((m.start(), m.end(), m.group(0).endswith("s")))
        if not hits:
            return None
        hits.sort()
        text = ctx.normalized
        variants = []
        for ref in _REFERENCE_GROUPS:
            out, pos = [], 0
            for start, end, plural in hits:
                out.append(text[pos:start])
                out.append(ref + ("s" if plural else ""))
                pos = end
            out.append(text[pos:])
            variants.append("".join(out))
        return variants

    def _views(self, ctx: TextContext, raw: bool = True) -> tuple[list[str], bool]:
        """Texts to score for one message, and whether they are identity counterfactuals (averaged, not maxed)."""
        variants = self._identity_variants(ctx)
        if variants is not None:
            # averaged, so the wrapper (markdown, code-like tokens) is taken off each rather than added as views
            return [bare if (bare := _unmarked(v)).strip() else v for v in variants], True
        # The raw view guards against a normalisation that changed the words ("pics" -> "pictures", a leet
        # decode that was wrong). When only case, punctuation, apostrophes, spacing or emoji changed ("i'm" ->
        # "im"), a second forward pass scored the same (measured in docs/model-card.md) at up to twice the cost.
        views = [ctx.normalized]
        bare = _unmarked(ctx.normalized)
        if bare != ctx.normalized and bare.strip():
            # markdown, code fences and code-like tokens around a message ("```text ... ```", "### note > **...**",
            # "k=v(1) ...") are a wrapper the model reads as a different kind of text; the message without them is
            # scored too
            views.append(bare)
        spelled = ctx.spelled() if self.cfg.spelling else None
        if spelled is not None:
            # a wrong correction ("wats" -> "wants") must not hide what the normalised text said
            views.append(spelled.normalized)
        if raw and self.cfg.score_raw and ctx.raw.strip() and _skeleton(ctx.raw) != _skeleton(ctx.normalized):
            views.append(ctx.raw)
        return views, False

    def detect(self, ctx: TextContext) -> list[Detection]:
        return self.detect_batch([ctx])[0]

    def _sentences(self, ctx: TextContext) -> list[str]:
        """The distinct sentences (3+ words) of a message that has at least two of them."""
        if not self.cfg.sentence_views or len(ctx.raw) < 80:  # short chat lines dilute little
            return []
        seen: dict[str, str] = {}
        for part in _SENTENCE_END.split(ctx.raw):
            part = part.strip()
            if len(part.split()) >= 3:
                seen.setdefault(part.lower(), part)
        sentences = list(seen.values())
        return sentences[: self.cfg.max_sentences] if len(sentences) >= 2 else []

    def detect_batch(self, ctxs: Sequence[TextContext]) -> list[list[Detection]]:
        units = list(ctxs)
        parent = list(range(len(ctxs)))
        for i, ctx in enumerate(ctxs):
            for sentence in self._sentences(ctx):
                units.append(TextContext.from_text(sentence, ctx.role, ctx.index, decode=False))
                parent.append(i)
        unit_scores = self._scores(units, whole=len(ctxs))
        scores = unit_scores[: len(ctxs)].copy()
        if len(units) > len(ctxs):
            cols = [j for j, c in enumerate(self._cats) if c in self.cfg.sentence_categories]
            for k in range(len(ctxs), len(units)):
                scores[parent[k], cols] = np.maximum(scores[parent[k], cols], unit_scores[k, cols])
        return self._finish(ctxs, scores)

    def _scores(self, ctxs: Sequence[TextContext], whole: int | None = None) -> np.ndarray:
        """Calibrated scores per message (views, identity counterfactual mean, decoded stretches), unadjusted.

        Only the first ``whole`` contexts (the messages, not their sentences) also get the raw-text view."""
        texts: list[str] = []
        owner: list[int] = []
        averaged: list[bool] = []
        extra: list[bool] = []  # decoded (base64, rot13) stretches: their own max, after the identity mean
        for i, ctx in enumerate(ctxs):
            views, counterfactual = self._views(ctx, raw=whole is None or i < whole)
            for v in views:
                texts.append(v)
                owner.append(i)
                extra.append(False)
            averaged.append(counterfactual)
            for d in ctx.decoded:
                texts.append(d.context.normalized)
                owner.append(i)
                extra.append(True)
        per_text = self.score_texts(texts) if texts else np.zeros((0, len(self._cats)))
        scores = np.zeros((len(ctxs), len(self._cats)), dtype=np.float64)
        if texts:
            own, dec = np.asarray(owner), np.asarray(extra, dtype=bool)
            for i in range(len(ctxs)):
                base = per_text[(own == i) & ~dec]
                if len(base):
                    # counterfactual views: their mean, not their max, is the group-invariant score
                    scores[i] = base.mean(axis=0) if averaged[i] else base.max(axis=0)
                decoded = per_text[(own == i) & dec]
                if len(decoded):
                    scores[i] = np.maximum(scores[i], decoded.max(axis=0))
        return scores

    def _finish(self, ctxs: Sequence[TextContext], scores: np.ndarray) -> list[list[Detection]]:
        """Role and help-seeking adjustments, then one Detection per category above the floor."""
        floor = self.cfg.floor
        results: list[list[Detection]] = []
        if Category.GROOMING in self._cats and self.cfg.child_grooming_factor != 1.0:
            g = self._cats.index(Category.GROOMING)
            for i, ctx in enumerate(ctxs):
                if ctx.role is Role.CHILD:
                    scores[i, g] *= self.cfg.child_grooming_factor
        soft = [self._cats.index(c) for c in _HELP_SEEKING_SOFTENS if c in self._cats]
        for i, ctx in enumerate(ctxs):
            if len(ctx.normalized) <= 160 and _HELP_SEEKING.search(ctx.normalized[:60]):
                # "how do i stop being bullied?", "someone called me a slur, what should i do": a child asking for
                # help about harm done to them is not doing that harm (the lexicon applies the same cue).
                scores[i, soft] = np.minimum(scores[i, soft], _HELP_SEEKING_CAP)
        for row in scores:
            dets = [
                self.detection(cat, float(p), evidence=f"classifier p={p:.2f}")
                for cat, p in zip(self._cats, row, strict=True)
                if p >= floor and p > 0.0
            ]
            results.append(dets)
        return results
