"""Opportunistic micro-batching: concurrent callers share forward passes and get their own results."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import numpy as np
import pytest

from childsafe.detectors.classifier import ClassifierConfig, ClassifierDetector, _Batcher


def _slow_identity(calls: list[int], delay: float = 0.02):  # type: ignore[no-untyped-def]
    """A fake 'model' that returns each window's first token id as its score, slowly, and counts runs."""

    def run(windows: Sequence[list[int]]) -> np.ndarray:
        calls.append(len(windows))
        time.sleep(delay)
        return np.array([[float(w[0])] for w in windows])

    return run


def _hammer(batcher: _Batcher, n: int) -> tuple[dict[int, np.ndarray], list[BaseException]]:
    results: dict[int, np.ndarray] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(n)

    def worker(i: int) -> None:
        start.wait()
        try:
            results[i] = batcher.submit([[i, 0], [i + 1000, 0]])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    return results, errors


def test_concurrent_callers_are_merged_and_each_gets_its_own_rows() -> None:
    calls: list[int] = []
    batcher = _Batcher(_slow_identity(calls), slots=1, max_windows=64)
    results, errors = _hammer(batcher, 12)
    assert not errors
    assert len(results) == 12
    for i, rows in results.items():
        assert rows[:, 0].tolist() == [float(i), float(i + 1000)]
    # 12 callers, one slot: the first runs alone, the rest wait and are merged into far fewer runs.
    assert sum(calls) == 24
    assert len(calls) < 12


def test_window_budget_splits_large_queues() -> None:
    calls: list[int] = []
    batcher = _Batcher(_slow_identity(calls), slots=1, max_windows=4)
    results, errors = _hammer(batcher, 10)
    assert not errors and len(results) == 10
    assert max(calls) <= 4


def test_a_failing_run_fails_every_caller_in_it_and_the_batcher_recovers() -> None:
    broken = threading.Event()
    broken.set()

    def run(windows: Sequence[list[int]]) -> np.ndarray:
        time.sleep(0.01)
        if broken.is_set():
            raise RuntimeError("model failed")
        return np.zeros((len(windows), 1))

    batcher = _Batcher(run, slots=2, max_windows=64)
    results, errors = _hammer(batcher, 6)
    assert len(errors) == 6 and not results
    assert all(isinstance(e, RuntimeError) for e in errors)
    broken.clear()
    results, errors = _hammer(batcher, 6)
    assert not errors and len(results) == 6


@pytest.fixture(scope="module")
def det() -> ClassifierDetector:
    d = ClassifierDetector(ClassifierConfig(concurrent_runs=1))
    d.load()
    return d


def test_threaded_scores_match_sequential_scores(det: ClassifierDetector) -> None:
    texts = [
        "i want to kill myself tonight",
        "can you help me with my maths homework",
        "send me your address and keep it secret from your mum",
        "what is the history of the atomic bomb",
        "where can i buy weed if i'm 14",
        "my dog learned a new trick today",
    ] * 3
    sequential = det.score_texts(texts)
    out: dict[int, np.ndarray] = {}
    start = threading.Barrier(len(texts))

    def worker(i: int) -> None:
        start.wait()
        out[i] = det.score_texts([texts[i]])[0]

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(texts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(out) == len(texts)
    threaded = np.stack([out[i] for i in range(len(texts))])
    # exact rows: every window runs alone, so merging callers changes no score at all
    assert np.array_equal(threaded, sequential)
    assert (sequential >= 0.5).any(axis=1).sum() >= 6  # the harmful texts really score high


def test_a_score_does_not_depend_on_the_batch() -> None:
    """Dynamic int8 quantisation scales activations per run: padded batches moved scores by up to 0.15."""
    texts = [
        "i want to kill myself tonight",
        "send me your address and keep it secret from your mum",
        "my dog learned a new trick today",
        "what is the history of the atomic bomb and why was it dropped on two cities in 1945",
    ]
    exact = ClassifierDetector(ClassifierConfig(threads=2))
    alone = np.vstack([exact.score_texts([t]) for t in texts])
    assert np.array_equal(exact.score_texts(texts), alone)
    assert np.array_equal(exact.score_texts(texts[::-1])[::-1], alone)
    padded = ClassifierDetector(ClassifierConfig(exact_rows=False))
    batched = padded.score_texts(texts)
    assert np.abs(batched - alone).max() < 0.2  # the same model either way; only the quantisation scale moves
    assert ((batched >= 0.5) == (alone >= 0.5)).all()
