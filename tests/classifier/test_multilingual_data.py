"""The multilingual data's splits stay apart: no development message is also a training message."""

from __future__ import annotations

from pathlib import Path

import pytest

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
