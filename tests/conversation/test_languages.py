"""Grooming across a conversation in languages besides English: the stage phrases and the multilingual reading."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from childsafe.config import Config, ConversationConfig
from childsafe.conversation import ConversationTracker
from childsafe.conversation.model import ModelUnavailable, packaged_model_dir
from childsafe.conversation.multilingual import MAP_FILE, MultilingualReader, reader_from
from childsafe.detectors.base import DetectorUnavailable
from childsafe.detectors.grooming import CHILD_DISCLOSURES
from childsafe.detectors.grooming_multilingual import (
    SIGNAL_CAP,
    STAGE_SCORES,
    MultilingualStageDetector,
    load_stage_lists,
    stage_list,
)
from childsafe.detectors.multilingual import LANGUAGES
from childsafe.engine import Engine
from childsafe.text import TextContext
from childsafe.types import Action, Category, Role

CONTACT_STAGES = [s for s in STAGE_SCORES if s not in CHILD_DISCLOSURES]

# Written for these tests (not from any data file). An adult builds trust with a 12-year-old, probes whether
# the parents are home, offers game currency, moves the chat to another app and asks for secrecy.
GROOMING_ES = [
    ("contact", "holaa q tal, cuantos años tienes?"),
    ("child", "12 y tu"),
    ("contact", "24 jaja pero eres muy madura para tu edad, se nota"),
    ("child", "jaja gracias"),
    ("contact", "tus papas estan en casa ahora?"),
    ("child", "no, trabajando"),
    ("contact", "te paso robux si quieres, solo pq me caes bien"),
    ("contact", "agregame en snap mejor q aqui nos leen"),
    ("contact", "y no le digas a nadie q hablamos ok? es nuestro secreto"),
]
# Two classmates planning a surprise for a friend: a secret, a move to another app, a meeting, no adult.
ORDINARY_ES = [
    ("contact", "oye el sabado es el cumple de lucia"),
    ("child", "siii q le regalamos"),
    ("contact", "una sudadera de su grupo favorito?"),
    ("child", "buena idea, yo pongo 5 euros"),
    ("contact", "vale pero no le digas nada q es sorpresa"),
    ("child", "tranqui jaja"),
    ("contact", "hago un grupo de whatsapp con los demas"),
    ("child", "ok quedamos en el parque a las 5 para comprarla?"),
    ("contact", "si, mi madre nos lleva"),
]


def _stream(script: list[tuple[str, str]], config: ConversationConfig | None = None) -> ConversationTracker:
    det = MultilingualStageDetector()
    tracker = ConversationTracker(config)
    for i, (role, text) in enumerate(script):
        ctx = TextContext.from_text(text, role=Role.parse(role), index=i, language="es")
        tracker.add(ctx, det.detect(ctx))
    return tracker


# -- stage phrases ------------------------------------------------------------------------------------


def test_stage_list_matches_words_in_order_with_gaps_stems_and_folding() -> None:
    sl = stage_list("es", {"stages": {"secrecy": ["no le digas a nadie"], "age_probe": ["cuant* años tienes"]}})
    assert set(sl.found("No le digas NUNCA a nadie")) == {"secrecy"}
    assert set(sl.found("cuantos anos tienes")) == {"age_probe"}  # accents folded, stem
    assert sl.found("nadie le digas") == {}


def test_allow_phrase_cancels_the_stage_phrase_it_overlaps() -> None:
    sl = stage_list("es", {"stages": {"secrecy": ["no le digas"]}, "allow": ["no le digas q es sorpresa"]})
    assert sl.found("no le digas q es sorpresa") == {}
    assert set(sl.found("no le digas a tu madre")) == {"secrecy"}


def test_unknown_stage_or_key_is_refused_with_its_name() -> None:
    with pytest.raises(DetectorUnavailable, match="unknown stage 'flattery'"):
        stage_list("es", {"stages": {"flattery": ["guapa"]}})
    with pytest.raises(DetectorUnavailable, match="unknown keys"):
        stage_list("es", {"phrases": []})


def test_every_language_ships_phrases_for_every_stage() -> None:
    lists = load_stage_lists()
    assert set(lists) == set(LANGUAGES)
    for code, sl in lists.items():
        empty = [s for s in STAGE_SCORES if s not in sl.stages or sl.stages[s].size == 0]
        assert empty == [], f"{code}: no phrases for {empty}"


def test_contact_stages_are_signals_under_every_grooming_action() -> None:
    det = MultilingualStageDetector()
    ctx = TextContext.from_text("y no le digas a nadie q hablamos, es nuestro secreto", role=Role.CONTACT,
                                language="es")
    found = det.detect(ctx)
    assert [d.signal for d in found] == ["secrecy"]
    assert found[0].category is Category.GROOMING
    assert 0.15 <= found[0].score <= SIGNAL_CAP
    assert ctx.raw[found[0].span.start:found[0].span.end]  # type: ignore[union-attr]


def test_child_gives_only_disclosures_and_contact_none() -> None:
    det = MultilingualStageDetector()
    child = det.detect(TextContext.from_text("estoy solo en casa, mis papas estan trabajando", role=Role.CHILD,
                                             language="es"))
    assert {d.signal for d in child} == {"child_disclosure_alone"}
    assert all(d.category is Category.PERSONAL_INFO for d in child)
    asked = det.detect(TextContext.from_text("tus papas estan en casa?", role=Role.CHILD, language="es"))
    assert asked == []  # a child asking the same is ordinary between kids
    told = det.detect(TextContext.from_text("estoy solo en casa", role=Role.CONTACT, language="es"))
    assert all(d.signal not in CHILD_DISCLOSURES for d in told)


def test_english_is_not_read_by_the_stage_phrases() -> None:
    assert "en" not in MultilingualStageDetector.languages  # type: ignore[operator]


# -- the multilingual reading in the tracker ------------------------------------------------------------


def test_reader_reads_other_languages_and_leaves_english_to_the_message_model() -> None:
    reader = reader_from(None)
    assert reader is not None
    en = TextContext.from_text("how old are you", role=Role.CONTACT)
    assert reader.logit(en) is None
    mild = reader.logit(TextContext.from_text("jugamos otra partida?", role=Role.CONTACT, language="es"))
    bold = reader.logit(TextContext.from_text("mandame una foto sin ropa, nadie se va a enterar",
                                              role=Role.CONTACT, language="es"))
    assert mild is not None and bold is not None and bold > mild
    assert np.all(np.diff(reader.mapped(np.linspace(-8, 8, 50))) >= 0)


def _grooming_dir(tmp_path: Path, spec_edit: dict[str, object]) -> Path:
    d = tmp_path / "grooming"
    shutil.copytree(packaged_model_dir(), d)
    spec = json.loads((d / MAP_FILE).read_text(encoding="utf-8"))
    spec.update(spec_edit)
    (d / MAP_FILE).write_text(json.dumps(spec), encoding="utf-8")
    return d


def test_a_map_fitted_for_other_weights_is_refused(tmp_path: Path) -> None:
    d = _grooming_dir(tmp_path, {"multilingual_ngram_sha256": "0" * 64})
    with pytest.raises(ModelUnavailable, match="fitted for other multilingual weights"):
        MultilingualReader(d / MAP_FILE)


def test_a_falling_map_is_refused(tmp_path: Path) -> None:
    d = _grooming_dir(tmp_path, {"x": [0.0, 1.0, 2.0], "y": [1.0, 0.0, 2.0]})
    with pytest.raises(ModelUnavailable, match="not a rising curve"):
        MultilingualReader(d / MAP_FILE)


def test_operator_model_without_a_map_reads_with_its_message_model(tmp_path: Path) -> None:
    d = tmp_path / "own"
    shutil.copytree(packaged_model_dir(), d)
    (d / MAP_FILE).unlink()
    assert reader_from(str(d)) is None
    tracker = _stream(GROOMING_ES[:3], ConversationConfig(model_dir=str(d)))
    assert tracker.multilingual is None


def test_spanish_grooming_rises_with_the_multilingual_reading_and_stages() -> None:
    now = _stream(GROOMING_ES)
    before = ConversationTracker(ConversationConfig(multilingual=False))
    for i, (role, text) in enumerate(GROOMING_ES):
        before.add(TextContext.from_text(text, role=Role.parse(role), index=i, language="es"), [])
    assert now.risk >= now.model.threshold > before.risk
    stages = {s for s, _ in now.stages}
    assert {"age_probe", "circumstance_probe", "gifts", "off_platform", "secrecy"} <= stages


def test_spanish_classmates_planning_a_surprise_stay_under_the_threshold() -> None:
    tracker = _stream(ORDINARY_ES)
    assert tracker.risk < tracker.model.threshold


def test_damaged_map_fails_closed_in_the_engine(tmp_path: Path) -> None:
    d = _grooming_dir(tmp_path, {"multilingual_ngram_sha256": "0" * 64})
    cfg = Config(detectors={"grooming_stages_ml": {}}, conversation=ConversationConfig(model_dir=str(d)))
    engine = Engine.from_config(cfg)
    mon = engine.monitor(12, language="es")
    decision = mon.add({"role": "contact", "text": "hola que tal"}, emit=False)
    assert decision.action is not Action.ALLOW
    assert "engine.fail_closed" in decision.rules
    assert any("conversation" in r for r in decision.reasons)
