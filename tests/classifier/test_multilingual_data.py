"""The multilingual data's splits stay apart (no development message is also a training message), and every
development message has its second reading."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from childsafe.detectors.multilingual import LANGUAGES
from childsafe.text.fold import fold
from childsafe.train.grooming import load_multilingual
from childsafe.train.multilingual import load_split

ROOT = Path(__file__).resolve().parents[2]


def _key(text: str) -> str:
    return fold(text).text.strip()


@pytest.mark.parametrize("split", ["dev", "dev2"])
def test_no_dev_message_is_in_the_training_files(split: str) -> None:
    train = {_key(str(r["text"])) for r in load_split("train", ROOT / "data" / "multilingual")}
    dev = load_split(split, ROOT / "data" / "multilingual")
    assert len(train) > 10_000 and len(dev) > 900
    shared = [r["id"] for r in dev if _key(str(r["text"])) in train]
    assert shared == [], f"{split} messages also in training files: {shared}"


def test_the_two_dev_sets_share_no_message() -> None:
    dev = {_key(str(r["text"])) for r in load_split("dev", ROOT / "data" / "multilingual")}
    shared = [r["id"] for r in load_split("dev2", ROOT / "data" / "multilingual") if _key(str(r["text"])) in dev]
    assert shared == [], f"dev2 messages also in dev: {shared}"


def _sentences(split: str) -> set[str]:
    """The messages of three words or more in a split's conversations (single words and placeholders such as
    "ok", "[foto]", "12" are in every set, as in any chat; a sentence is not)."""
    convs = load_multilingual(split, ROOT / "data" / "conversations" / "multilingual")
    assert len(convs) >= 200
    assert {str(c.meta["lang"]) for c in convs} == {"es", "fr", "de", "pt", "it", "ar", "hi", "zh", "ru", "tr"}
    return {_key(t) for c in convs for _, t in c.messages if len(_key(t).split()) >= 3}


@pytest.mark.parametrize("split", ["dev", "dev2"])
def test_dev_conversations_share_no_sentence_with_the_training_files(split: str) -> None:
    train = {_key(str(r["text"])) for r in load_split("train", ROOT / "data" / "multilingual")}
    shared = _sentences(split) & train
    assert shared == set(), f"{split} conversation messages also in training files: {sorted(shared)[:5]}"


def test_the_two_conversation_sets_share_no_sentence() -> None:
    shared = _sentences("dev") & _sentences("dev2")
    assert shared == set(), f"dev2 conversation messages also in dev: {sorted(shared)[:5]}"


def test_training_files_can_be_left_out_by_name() -> None:
    folder = ROOT / "data" / "multilingual"
    every = load_split("train", folder)
    without = load_split("train", folder, without=["*.b10*.jsonl"])
    assert any(str(r["batch"]).startswith("ml-train10") for r in every)
    assert not any(str(r["batch"]).startswith("ml-train10") for r in without)
    assert len(without) < len(every)


# -- the second reading of the development messages (data/multilingual/review, bench/label_agreement.py) ------


def _agreement_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("label_agreement", ROOT / "bench" / "label_agreement.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_development_message_has_one_valid_second_reading(lang: str) -> None:
    out = subprocess.run([sys.executable, str(ROOT / "data" / "multilingual" / "check_review.py"),
                          str(ROOT / "data" / "multilingual" / "review" / f"{lang}.jsonl")],
                         capture_output=True, text=True, check=True).stdout
    assert " 0 problems" in out, out


def test_the_review_checker_names_missing_and_malformed_lines(tmp_path: Path) -> None:
    first = load_split("dev", ROOT / "data" / "multilingual")
    es = [r["id"] for r in first if r["lang"] == "es"]
    bad = tmp_path / "es.jsonl"
    bad.write_text(json.dumps({"id": es[0], "labels": ["safe"], "confidence": "clear", "note": ""}) + "\n"
                   + json.dumps({"id": es[0], "labels": ["nonsense"], "confidence": "sure"}) + "\n"
                   + json.dumps({"id": "es-x-9999", "labels": ["safe"], "confidence": "clear"}) + "\n",
                   encoding="utf-8")
    out = subprocess.run([sys.executable, str(ROOT / "data" / "multilingual" / "check_review.py"), str(bad)],
                         capture_output=True, text=True, check=True).stdout
    assert "bad labels ['nonsense']" in out
    assert "confidence must be clear or borderline, not 'sure'" in out
    assert "unknown id es-x-9999" in out
    assert f"id {es[0]} appears 2 times" in out
    assert "ids missing" in out and " 0 problems" not in out


def test_label_agreement_classes_and_kappa() -> None:
    la = _agreement_module()
    assert la.klass(["safe"]) == "ordinary"
    assert la.klass(["hate"]) == "other"
    assert la.klass(["hate", "grooming"]) == "core"
    assert la.kappa([True, False, True, False], [True, False, True, False]) == 1.0
    assert la.kappa([True, True, False, False], [True, False, True, False]) == 0.0
    # 3 of 4 agree, both readers 50/50: (0.75 - 0.5) / 0.5
    assert la.kappa([True, True, False, False], [True, True, True, False]) == pytest.approx(0.5)


def test_label_agreement_names_a_missing_second_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    la = _agreement_module()
    (tmp_path / "dev").mkdir()
    (tmp_path / "review").mkdir()
    for lang in LANGUAGES:
        (tmp_path / "dev" / f"{lang}.jsonl").write_text(
            json.dumps({"id": f"{lang}-d-0001", "labels": ["safe"]}) + "\n", encoding="utf-8")
        (tmp_path / "review" / f"{lang}.jsonl").write_text(
            json.dumps({"id": f"{lang}-d-0001", "labels": ["grooming"], "confidence": "clear"}) + "\n",
            encoding="utf-8")
    monkeypatch.setattr(la, "DATA", tmp_path)
    got = la.pairs("dev")
    assert la.summary(got["es"])["writer ordinary, second harmful"] == 1
    (tmp_path / "review" / "tr.jsonl").write_text("", encoding="utf-8")
    with pytest.raises(SystemExit, match="no second reading of tr-d-0001"):
        la.pairs("dev")
    (tmp_path / "review" / "tr.jsonl").unlink()
    with pytest.raises(SystemExit, match=r"tr\.jsonl: missing \(every language needs its second reading\)"):
        la.pairs("dev")
    (tmp_path / "review" / "tr.jsonl").write_text("{not json\n", encoding="utf-8")
    with pytest.raises(SystemExit, match=r"tr\.jsonl: not JSON Lines"):
        la.pairs("dev")
