"""Grooming across a conversation in languages besides English: the stage phrases and the multilingual reading."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

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
    StageList,
    load_stage_lists,
    stage_list,
)
from childsafe.detectors.multilingual import LANGUAGES
from childsafe.engine import Engine
from childsafe.text import TextContext
from childsafe.types import Action, Category, Role

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

# Two kids of the same age forming a team in a game: ages, another app, parents and school come up.
TEAM_ES = [
    ("contact", "oye necesitamos uno mas para el squad de fortnite"),
    ("child", "yo me apunto"),
    ("contact", "cuantos años tienes? los demas tenemos 12"),
    ("child", "12 tambien"),
    ("contact", "va, agregame en discord y hablamos ahi con los demas"),
    ("child", "ok cual es tu user"),
    ("contact", "tus papas te dejan jugar hasta tarde el viernes?"),
    ("child", "hasta las 10"),
    ("contact", "a que cole vas? yo al san jose"),
    ("child", "al publico de mi barrio jaja"),
]


def _stream(script: list[tuple[str, str]], config: ConversationConfig | None = None) -> ConversationTracker:
    det = MultilingualStageDetector()
    tracker = ConversationTracker(config)
    for i, (role, text) in enumerate(script):
        ctx = TextContext.from_text(text, role=Role.parse(role), index=i, language="es")
        tracker.add(ctx, det.detect(ctx))
    return tracker


# -- stage phrases ------------------------------------------------------------------------------------


def _stages(sl: StageList, raw: str) -> set[str]:
    return {stage for stage, _, _, _ in sl.matches(raw)}


def test_stage_list_matches_words_in_order_with_gaps_stems_and_folding() -> None:
    sl = stage_list("es", {"stages": {"secrecy": ["no le digas a nadie"], "age_probe": ["cuant* años tienes"]}})
    assert _stages(sl, "No le digas NUNCA a nadie") == {"secrecy"}
    assert _stages(sl, "cuantos anos tienes") == {"age_probe"}  # accents folded, stem
    assert _stages(sl, "nadie le digas") == set()


def test_allow_phrase_cancels_the_stage_phrase_it_overlaps() -> None:
    sl = stage_list("es", {"stages": {"secrecy": ["no le digas"]}, "allow": ["no le digas q es sorpresa"]})
    assert _stages(sl, "no le digas q es sorpresa") == set()
    assert _stages(sl, "no le digas a tu madre") == {"secrecy"}


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
    span = found[0].span
    assert span is not None
    assert ctx.raw[span.start:span.end] in ("no le digas a nadie", "nuestro secreto", "es nuestro secreto")


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


def test_a_stage_written_as_a_string_or_a_missing_list_is_refused() -> None:
    with pytest.raises(DetectorUnavailable, match="must be a list"):
        stage_list("es", {"stages": {"secrecy": "no le digas"}})
    with pytest.raises(DetectorUnavailable, match="'allow' must be a list"):
        stage_list("es", {"stages": {}, "allow": "sorpresa"})


def test_english_even_when_unsure_is_left_to_the_english_rules_and_message_model() -> None:
    # "perfect" is identified as English with other candidates; Spanish lists must not read it
    ctx = TextContext.from_text("perfect, add me on snap", role=Role.CONTACT)
    assert ctx.language.code == "en"
    assert MultilingualStageDetector().detect(ctx) == []
    reader = reader_from(None)
    assert reader is not None and reader.logit(ctx) is None
    tracker = ConversationTracker()
    tracker.add(ctx, [])
    assert tracker.state()["window"][0][2] == pytest.approx(
        max(-4.0, min(4.0, tracker.model.message_logit(ctx.normalized))), abs=1e-4)


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


def test_stage_phrases_kids_also_use_are_masked_from_the_reading() -> None:
    # counted once, by the stage features, as in English: an age question alone reads as ordinary chat
    reader = reader_from(None)
    assert reader is not None
    asked = reader.logit(TextContext.from_text("cuantos años tienes?", role=Role.CONTACT, language="es"))
    chat = reader.logit(TextContext.from_text("jugamos otra partida?", role=Role.CONTACT, language="es"))
    assert asked is not None and chat is not None
    assert asked <= chat + 0.5


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


@pytest.mark.parametrize("curve", [{"x": [0.0, 1.0, 2.0], "y": [1.0, 0.0, 2.0]},
                                   {"x": [0.0, float("nan"), 2.0], "y": [0.0, 1.0, 2.0]},
                                   {"x": [0.0, 1.0], "y": [0.0, float("nan")]}])
def test_a_falling_or_broken_map_is_refused(tmp_path: Path, curve: dict[str, object]) -> None:
    d = _grooming_dir(tmp_path, curve)
    with pytest.raises(ModelUnavailable, match="not a rising curve"):
        MultilingualReader(d / MAP_FILE)


def test_a_map_fitted_for_another_grooming_model_is_refused(tmp_path: Path) -> None:
    d = _grooming_dir(tmp_path, {"grooming_model_sha256": "0" * 64})
    with pytest.raises(ModelUnavailable, match="another grooming model"):
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
        ctx = TextContext.from_text(text, role=Role.parse(role), index=i, language="es")
        before.add(ctx, [])
        if ctx.role is Role.CONTACT:  # off: the English message model reads every message
            assert before.state()["window"][-1][2] == pytest.approx(
                max(-4.0, min(4.0, before.model.message_logit(ctx.normalized))), abs=1e-4)
    assert now.risk >= now.model.threshold > before.risk
    stages = {s for s, _ in now.stages}
    assert {"age_probe", "circumstance_probe", "gifts", "off_platform", "secrecy"} <= stages


def test_spanish_classmates_planning_a_surprise_stay_under_the_threshold() -> None:
    tracker = _stream(ORDINARY_ES)
    assert tracker.risk < tracker.model.threshold


def test_spanish_kids_forming_a_team_stay_under_the_threshold() -> None:
    # the age, app, parents and school questions two kids ask each other: each a stage phrase, none grooming
    tracker = _stream(TEAM_ES)
    assert {"age_probe", "off_platform"} <= {s for s, _ in tracker.stages}
    assert tracker.risk < tracker.model.threshold


def test_damaged_map_fails_closed_in_the_engine(tmp_path: Path) -> None:
    d = _grooming_dir(tmp_path, {"multilingual_ngram_sha256": "0" * 64})
    cfg = Config(detectors={"grooming_stages_ml": {}}, conversation=ConversationConfig(model_dir=str(d)))
    engine = Engine.from_config(cfg)
    assert "conversation" in engine.warmup()  # reported before the first message
    assert engine.health()["ok"] is False
    mon = engine.monitor(12, language="es")
    decision = mon.add({"role": "contact", "text": "hola que tal"}, emit=False)
    assert decision.action is not Action.ALLOW
    assert "engine.fail_closed" in decision.rules
    assert any("conversation" in r for r in decision.reasons)


def test_a_message_that_cannot_be_read_leaves_the_state_as_it_was(tmp_path: Path) -> None:
    d = _grooming_dir(tmp_path, {"multilingual_ngram_sha256": "0" * 64})
    tracker = ConversationTracker(ConversationConfig(model_dir=str(d)))
    before = tracker.state()
    with pytest.raises(ModelUnavailable):
        tracker.add(TextContext.from_text("tus papas estan en casa?", role=Role.CONTACT, language="es"), [])
    assert tracker.state() == before
