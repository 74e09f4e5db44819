"""The romanised-chat model's training pieces and the shipped model's card."""

from __future__ import annotations

import hashlib
import json
import random
import re

import numpy as np
import pytest

from childsafe.text.language import ROMANISED_BUCKETS, ROMANISED_CLASSES, ROMANISED_DIR, romanised_features

pytest.importorskip("sklearn")
from childsafe.train.romanised import fit, matrix, softmax, translit_ru, written_records


def test_transliteration_gives_latin_letters_with_one_spelling_per_letter_in_a_message() -> None:
    text = "Привет! Ты где? Жду тебя у школы, жаркий день"
    out = translit_ru(text, random.Random(1))
    assert not re.search(r"[\u0400-\u04ff]", out)
    assert out.startswith("Privet! T") and "!" in out and "?" in out
    zh = re.findall(r"(zh|j|g)du|(zh|j|g)arkiy", out.lower())
    assert len({a or b for a, b in zh}) == 1  # "ж" spelt the same way both times
    spellings = {translit_ru("жук", random.Random(seed)) for seed in range(40)}
    assert {"zhuk", "juk"} <= spellings  # across messages the spelling varies


def test_features_are_stable_hashed_buckets() -> None:
    a = romanised_features("Tu kal SCHOOL aayega na https://x.y/z @someone")
    assert a == romanised_features("tu kal school aayega na")  # links and handles are left out, case folded
    assert all(0 <= i < ROMANISED_BUCKETS for i in a) and a == sorted(set(a))


def test_a_small_model_learns_the_classes() -> None:
    texts = {
        "en": ["are you coming tonight", "send me the homework pls", "what time is the game", "i love this song"],
        "latin": ["vienes esta noche", "tu viens ce soir", "kommst du heute", "vieni stasera"],
        "hi": ["tu kal aayega kya", "mujhe bata na yaar", "kya kar raha hai", "ghar pe koi nahi hai"],
        "ar": ["enta fein delwa2ti", "3ayez akalmak bokra", "shu 3am ta3mel", "ma3lesh ana ta3ban"],
        "ru": ["ty gde seichas", "privet kak dela", "zavtra pridesh", "ya tebe napishu"],
    }
    flat = [(t, ROMANISED_CLASSES.index(c)) for c, ts in texts.items() for t in ts]
    x = matrix([t for t, _ in flat])
    w, b = fit(x, np.array([y for _, y in flat]), 10.0)
    p = softmax(x @ w + b)
    assert (p.argmax(axis=1) == np.array([y for _, y in flat])).all()


def test_the_shipped_model_matches_its_card() -> None:
    card = json.loads((ROMANISED_DIR / "card.json").read_text(encoding="utf-8"))
    assert tuple(card["classes"]) == ROMANISED_CLASSES and card["buckets"] == ROMANISED_BUCKETS
    assert hashlib.sha256((ROMANISED_DIR / "romanised.npz").read_bytes()).hexdigest() == card["sha256"]
    assert 0.5 <= card["threshold"] < 1.0


def test_the_shipped_cards_command_selects_the_written_records_it_was_trained_on() -> None:
    """The files the card leaves out (``without``) give the non-English record counts it records: a batch added
    after the model was trained is either left out by the card's command or the model is retrained."""
    card = json.loads((ROMANISED_DIR / "card.json").read_text(encoding="utf-8"))
    written = written_records(random.Random(0), card.get("without", []))
    assert {cls: len(texts) for cls, texts in written.items()} == {
        cls: n for cls, n in card["records"].items() if cls != "en"}
    assert all(f" --without '{g}'" in card["command"] for g in card.get("without", []))
