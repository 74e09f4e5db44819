"""Metrics, record parsing, transforms and the eval report (with stand-in systems where noted)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from childsafe.eval.metrics import average_precision, binary_metrics, pr_curve
from childsafe.eval.run import read_records, run_eval
from childsafe.eval.systems import CATS, System
from childsafe.eval.transforms import TRANSFORMS, homoglyphs, leetspeak, spacing
from childsafe.text.context import TextContext
from childsafe.types import AgeBand, InvalidInputError


def test_average_precision_matches_sklearn() -> None:
    sk = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(1)
    y = rng.random(500) < 0.3
    s = rng.random(500) + y * 0.4
    s[:50] = np.round(s[:50], 1)  # ties
    assert average_precision(s, y) == pytest.approx(sk.average_precision_score(y, s), abs=1e-9)


def test_pr_curve_and_binary_metrics() -> None:
    p, r, t = pr_curve(np.array([0.9, 0.8, 0.1]), np.array([1, 0, 1]))
    assert list(p) == [1.0, 0.5, 2 / 3]
    assert list(t) == [0.9, 0.8, 0.1]
    assert list(r) == [0.5, 0.5, 1.0]
    m = binary_metrics(np.array([True, True, False, False]), np.array([True, False, True, False]))
    assert (m["precision"], m["recall"], m["fpr"]) == (0.5, 0.5, 0.5)


def test_transforms_fold_back_to_clean_text() -> None:
    text = "send me your address please"
    assert leetspeak(text) != text and homoglyphs(text) != text and spacing(text) != text
    for name, fn in TRANSFORMS.items():
        if name in ("mixed", "leetspeak"):  # the normaliser folds leetspeak only where it is unambiguous
            continue
        assert TextContext.from_text(fn(text)).normalized.replace(" ", "") == text.replace(" ", "")


def _write(path: Path, rows: list[object]) -> Path:
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n")
    return path


def test_read_records_errors_name_the_line(tmp_path: Path) -> None:
    f = _write(tmp_path / "d.jsonl", [{"id": 1, "text": "hi", "labels": ["safe"]}, "{not json"])
    with pytest.raises(InvalidInputError, match=r"d.jsonl:2"):
        read_records(f)
    f = _write(tmp_path / "e.jsonl", [{"id": 1, "text": "hi", "labels": ["nonsense"]}])
    with pytest.raises(InvalidInputError, match="unknown label"):
        read_records(f)
    f = _write(tmp_path / "g.jsonl", [{"id": 1, "labels": []}])
    with pytest.raises(InvalidInputError, match="neither 'text' nor 'messages'"):
        read_records(f)


class KeywordSystem(System):
    """Stand-in scorer: flags 'hate' when the word 'bad' appears (exercises the report arithmetic)."""

    name = "keyword"

    def score(self, records: Sequence[list[str]]) -> tuple[np.ndarray, np.ndarray, np.ndarray | None,
                                                            np.ndarray | None]:
        cs = np.zeros((len(records), len(CATS)))
        for i, r in enumerate(records):
            cs[i, CATS.index(CATS[6])] = 0.9 if any("bad" in t for t in r) else 0.1
        return cs.max(1), cs.max(1) >= 0.5, cs, cs >= 0.5


def test_run_eval_report(tmp_path: Path) -> None:
    rows = [
        {"id": "a", "text": "they are bad people", "labels": ["hate"]},
        {"id": "b", "text": "bad weather today", "labels": ["safe"]},
        {"id": "c", "text": "nice weather", "labels": ["safe"]},
        {"id": "d", "text": "group x should leave", "labels": ["hate"]},
        {"id": "e", "text": "bad unknown", "labels": []},
        {"id": "f", "messages": [{"role": "user", "text": "hi"}, {"role": "user", "text": "so bad"}],
         "labels": ["harassment"]},
    ]
    f = _write(tmp_path / "d.jsonl", rows)
    rep = run_eval(f, age=11, out_dir=tmp_path / "out", systems=[KeywordSystem()], obfuscation=0, n_timed=3)
    o = rep["systems"]["keyword"]["overall"]
    assert rep["labelled"] == 5 and rep["unsafe"] == 3 and rep["safe"] == 2 and rep["age_band"] == "10-12"
    assert o["n"] == 5  # the unknown record is excluded
    assert o["recall"] == pytest.approx(2 / 3, abs=1e-3)
    assert o["precision"] == pytest.approx(2 / 3, abs=1e-3)
    assert o["fpr_safe"] == pytest.approx(0.5)
    hate = rep["systems"]["keyword"]["per_category"]["hate"]
    assert hate["positives"] == 2 and hate["recall"] == pytest.approx(0.5)
    assert rep["systems"]["keyword"]["latency_ms"]["timed_records"] == 3
    out = tmp_path / "out"
    assert (out / "report.md").read_text().startswith("# childsafe eval")
    assert json.loads((out / "report.json").read_text())["records"] == 6
    assert (out / "pr_curve.png").stat().st_size > 1000


def test_failing_system_is_reported_not_fatal(tmp_path: Path) -> None:
    class Broken(System):
        name = "broken"

        def load(self) -> None:
            raise ImportError("not installed")

    f = _write(tmp_path / "d.jsonl", [{"id": 1, "text": "hi", "labels": ["safe"]}])
    rep = run_eval(f, systems=[Broken(), KeywordSystem()], obfuscation=0, n_timed=1)
    assert "not installed" in rep["systems"]["broken"]["error"]
    assert "overall" in rep["systems"]["keyword"]
    assert AgeBand(rep["age_band"]) is AgeBand.AGE_10_12
