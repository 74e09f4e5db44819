"""The grooming text model (speakers unmarked) and how the engine uses it inside and outside conversations."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from childsafe.config import Config
from childsafe.detectors.base import DetectorUnavailable
from childsafe.detectors.grooming_text import MODEL_DIR, GroomingTextConfig, GroomingTextDetector, cues
from childsafe.engine import Engine
from childsafe.text import TextContext
from childsafe.types import Action, Category, Role

# A pasted log, no speaker names: an adult learns the other is 13, then asks for secrecy and a meeting.
GROOMING_LOG = "\n".join([
    "hey whats up", "nm just got home from school", "cool how old r u", "13 wbu", "im 31 but age is just a number",
    "ur really mature for 13", "dont tell ur mom we talk ok she wouldnt get it", "ok", "delete our chats after",
    "wanna meet up at the park saturday, just us", "idk", "ill bring u a present, our secret",
])
# Two adults flirting on a dating app: sexual words, ages, a meeting, but no child.
ADULT_LOG = "\n".join([
    "hey you", "hey stranger, how was work", "long, my boss is a nightmare", "need a drink tbh",
    "im 29 btw, you?", "32, and yes i have a mortgage lol", "you looked so hot in that pic", "stop it you",
    "wanna grab drinks friday at the wine bar", "its a date, i'll wear the red dress", "cant wait to kiss you",
])
FAMILY_LOG = "\n".join([
    "where r u", "at the bus stop", "ok pick u up at 5", "can we get pizza", "maybe if homework is done",
    "dont tell ur sister about her birthday present", "i wont lol", "love u", "love u too see u at 5",
])


def _score(det: GroomingTextDetector, text: str, role: Role = Role.CHILD) -> float:
    found = det.detect(TextContext.from_text(text, role=role))
    assert [d.category for d in found] == [Category.GROOMING]
    return found[0].score


@pytest.fixture(scope="module")
def det() -> GroomingTextDetector:
    d = GroomingTextDetector()
    d.load()
    return d


def test_a_grooming_log_outranks_adults_flirting_and_family_logistics(det: GroomingTextDetector) -> None:
    groom = _score(det, GROOMING_LOG)
    assert groom >= 0.5
    assert _score(det, ADULT_LOG) < 0.5 < groom
    assert _score(det, FAMILY_LOG) < 0.5


def test_one_ordinary_question_checked_alone_is_not_escalated() -> None:
    engine = Engine.from_config(Config())
    for text in ("how old are you", "add me on discord so we can play later", "ur drawings are so good"):
        d = engine.check(text, age="13-15", role=Role.CONTACT)
        assert d.scores[Category.GROOMING] < 0.5, text
        assert d.action.severity < Action.ESCALATE.severity, (text, d.reasons)


def test_cues_read_stated_ages_and_stages_in_combination() -> None:
    c = cues(TextContext.from_text("im 13. dont tell ur parents, lets meet").normalized)
    assert "age:minor" in c
    assert "minor+secrecy" in c and "minor+meeting" in c
    assert "pair:meeting+secrecy" in c
    adult = cues(TextContext.from_text("im 34 m, ran 13 mins today").normalized)
    assert "age:adult" in adult and "age:minor" not in adult


def test_a_model_that_does_not_match_its_checksum_is_refused(tmp_path: Path) -> None:
    for f in MODEL_DIR.iterdir():
        shutil.copy(f, tmp_path / f.name)
    card = json.loads((tmp_path / "card.json").read_text())
    card["sha256"] = "0" * 64
    (tmp_path / "card.json").write_text(json.dumps(card))
    with pytest.raises(DetectorUnavailable, match="checksum"):
        GroomingTextDetector(GroomingTextConfig(model_dir=str(tmp_path))).load()


def test_a_segment_checked_as_one_text_is_stopped_and_adult_chat_is_not_called_grooming() -> None:
    engine = Engine.from_config(Config())
    groom = engine.check(GROOMING_LOG, age="13-15")
    assert groom.scores[Category.GROOMING] >= 0.5
    assert Category.GROOMING in groom.categories
    adult = engine.check(ADULT_LOG, age="13-15")
    assert adult.scores[Category.GROOMING] < groom.scores[Category.GROOMING]
    assert Category.GROOMING not in adult.categories


def test_inside_a_conversation_one_ambiguous_message_does_not_stop_or_escalate() -> None:
    engine = Engine.from_config(Config())
    for text in ("how old r u anyway", "don't tell your brother, he'll want one too", "r u home alone rn"):
        mon = engine.monitor(age="13-15")
        mon.add({"role": "child", "text": "hey"}, emit=False)
        d = mon.add({"role": "contact", "text": text}, emit=False)
        assert d.scores[Category.GROOMING] <= engine.config.conversation.message_grooming_cap + 1e-9, text
        assert Category.GROOMING not in d.categories, text
        alone = engine.check(text, age="13-15", role=Role.CONTACT)  # the same words with no conversation
        assert alone.scores[Category.GROOMING] >= d.scores[Category.GROOMING]


def test_the_cap_is_configurable_and_folds_the_evidence_for_reviewers() -> None:
    text = "r u home alone rn"
    capped = Engine.from_config(Config()).monitor(age="13-15")
    d = capped.add({"role": "contact", "text": text}, emit=False)
    folded = [x for x in d.detections if x.detector == "message"]
    assert folded and "conversation risk decides" in folded[0].evidence
    off = Engine.from_config(Config.model_validate({"conversation": {"message_grooming_cap": 1.0}}))
    d_off = off.monitor(age="13-15").add({"role": "contact", "text": text}, emit=False)
    assert d_off.scores[Category.GROOMING] > d.scores[Category.GROOMING]
    assert d_off.action.severity >= Action.BLOCK.severity


def test_written_conversations_are_read_by_their_own_split() -> None:
    from childsafe.train.grooming import load_written_v2

    dev = load_written_v2("dev")
    test = load_written_v2("test")
    train = load_written_v2("train")
    assert dev and test and train
    ids = [{c.id for c in part} for part in (train, dev, test)]
    assert not (ids[0] & ids[1]) and not (ids[0] & ids[2]) and not (ids[1] & ids[2])
    assert all(c.meta["alert_at"] is not None for c in dev if c.label == 1)
    assert {c.meta["batch"] for c in test} == {"ct1"}


def test_an_explicit_secrecy_request_still_stops_a_message_inside_a_conversation() -> None:
    engine = Engine.from_config(Config())
    mon = engine.monitor(age="10-12")
    mon.add({"role": "contact", "text": "hey what game are you playing"}, emit=False)
    d = mon.add({"role": "contact", "text": "dont tell your parents about us ok, this is our secret"}, emit=False)
    assert Category.GROOMING in d.categories
    assert d.action.severity >= Action.BLOCK.severity
