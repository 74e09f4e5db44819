from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from childsafe.config import ConversationConfig
from childsafe.conversation import ConversationTracker
from childsafe.conversation.model import default_model
from childsafe.detectors.grooming import GroomingStageDetector
from childsafe.text import TextContext
from childsafe.types import Category, Detection, InvalidInputError, Role

Script = list[tuple[str, str]]
Runner = Callable[..., ConversationTracker]


def test_grooming_script_is_flagged_with_stage_evidence(run: Runner, grooming_script: Script) -> None:
    tr = run(grooming_script)
    threshold = default_model().threshold
    assert tr.risk >= threshold
    names = [s for s, _ in tr.stages]
    for stage in ("age_probe", "circumstance_probe", "secrecy", "off_platform", "photo_request"):
        assert stage in names
    assert ("age_probe", 2) in tr.stages
    assert ("child_disclosure_age", 3) in tr.stages


def test_conversation_detections(run: Runner, grooming_script: Script, detector: GroomingStageDetector) -> None:
    tr = run(grooming_script[:-1])
    ctx = TextContext.from_text(grooming_script[-1][1], role=Role.CONTACT, index=len(grooming_script) - 1)
    dets = tr.add(ctx, detector.detect(ctx))
    grooming = [d for d in dets if d.category is Category.GROOMING]
    assert len(grooming) == 1
    g = grooming[0]
    assert g.detector == "conversation"
    assert g.score == pytest.approx(tr.risk)
    assert g.evidence.startswith("stages: ")
    assert "age_probe@2" in g.evidence and "secrecy@7" in g.evidence and "photo_request@9" in g.evidence
    # asking a child for a photo in a risky conversation is also sexual_minors at conversation level
    assert any(d.category is Category.SEXUAL_MINORS for d in dets)


def test_safe_chats_stay_below_threshold(run: Runner, safe_scripts: dict[str, Script]) -> None:
    threshold = default_model().threshold
    for name, script in safe_scripts.items():
        tr = run(script)
        assert tr.risk < threshold, (name, tr.risk, tr.stages)


def test_early_warning_before_the_photo_request(run: Runner, grooming_script: Script) -> None:
    threshold = default_model().threshold
    risks = []
    tr = ConversationTracker()
    for i, item in enumerate(grooming_script):
        run([item], tracker=tr, start=i)
        risks.append(tr.risk)
    assert risks == sorted(risks), "risk rises through a grooming script"
    first = next(i for i, r in enumerate(risks) if r >= threshold)
    assert first < len(grooming_script) - 1


def test_state_round_trip_is_exact(run: Runner, grooming_script: Script) -> None:
    half = len(grooming_script) // 2
    a = run(grooming_script[:half])
    saved = json.loads(json.dumps(a.state()))
    b = ConversationTracker(state=saved)
    assert b.state() == a.state()
    run(grooming_script[half:], tracker=a, start=half)
    run(grooming_script[half:], tracker=b, start=half)
    assert b.risk == pytest.approx(a.risk)
    assert b.stages == a.stages


def test_state_is_bounded(run: Runner, grooming_script: Script) -> None:
    cfg = ConversationConfig(window=20)
    tr = ConversationTracker(config=cfg)
    long = ([*grooming_script, ("child", "lol ok"), ("contact", "what music do you like")]) * 60
    run(long, tracker=tr)
    size_long = len(json.dumps(tr.state()))
    tr2 = ConversationTracker(config=cfg)
    run(long[:60], tracker=tr2)
    assert len(tr.state()["window"]) == 20
    assert size_long < 2 * len(json.dumps(tr2.state()))
    assert len(tr.stages) <= 20 * 3 + 14


@pytest.mark.parametrize(
    "bad",
    [
        {"v": 99},
        {"v": 1, "n": "x"},
        {"v": 1, "n": 1, "n_other": 1, "sum_logit": 0, "ema": 0, "peak_ema": 0, "hot": 0, "first": {},
         "stage_max": {}, "sm_max": 0, "risk": 7, "window": []},
        {"v": 1, "n": 1, "n_other": 1, "sum_logit": 0, "ema": 0, "peak_ema": 0, "hot": 0, "first": {},
         "stage_max": {}, "sm_max": 0, "risk": 0, "window": [[0, "zz", None, []]]},
        {"v": 1, "n": 1, "n_other": 1, "sum_logit": 0, "ema": 0, "peak_ema": 0, "hot": 0, "first": {},
         "stage_max": {}, "sm_max": 0, "risk": 0.6, "peak": 0.2, "window": []},
    ],
)
def test_malformed_state_is_a_clear_error(bad: dict[str, object]) -> None:
    with pytest.raises(InvalidInputError, match="conversation state"):
        ConversationTracker(state=bad)


def test_child_questions_do_not_raise_risk_like_contact_questions(run: Runner) -> None:
    questions = ["how old are you", "are your parents home", "dont tell anyone ok", "add me on snapchat"]
    as_contact = run([("contact", q) for q in questions])
    as_child = run([("child", q) for q in questions])
    assert as_child.risk < as_contact.risk
    assert as_child.stages == []


def test_system_messages_are_ignored(run: Runner) -> None:
    tr = run([("system", "how old are you? send me a picture")])
    assert tr.risk == 0.0 and tr.stages == []


def test_assistant_asking_weighs_at_least_as_much_as_a_contact(run: Runner) -> None:
    lines = ["how old are you?", "are your parents home right now?", "let's keep our chats a secret from them"]
    contact = run([("contact", t) for t in lines])
    assistant = run([("assistant", t) for t in lines])
    assert assistant.risk >= contact.risk
    assert {s for s, _ in assistant.stages} == {"age_probe", "circumstance_probe", "secrecy"}


ORDINARY_TAIL: Script = [
    ("child", "anyway did u finish the maths homework"), ("contact", "yeah page 42 was hard"),
    ("child", "ok see u at school tomorrow"), ("contact", "yes bring the football"),
    ("child", "lol ok"), ("contact", "what time is practice"), ("child", "4pm"), ("contact", "ok cool"),
]


@pytest.mark.parametrize("hold", [False, True])
def test_a_passing_suspicion_lapses_below_the_alert_unless_held(run: Runner, hold: bool) -> None:
    # one request for secrecy between kids: a precautionary stop, not an alert
    tr = ConversationTracker(config=ConversationConfig(hold_below_alert=hold))
    run([("contact", "lets keep this between us ok"), ("child", "ok")], tracker=tr)
    suspicion = tr.risk
    assert 0.25 <= suspicion < default_model().threshold  # the policy warns or blocks from 0.25 / 0.3
    run(ORDINARY_TAIL, tracker=tr, start=2)
    if hold:
        assert tr.risk == suspicion
    else:
        assert tr.risk < 0.2, "the suspicion should have lapsed after ordinary talk"
    restored = ConversationTracker(config=tr.config, state=json.loads(json.dumps(tr.state())))
    assert restored.state() == tr.state()


def test_an_alert_stands_through_ordinary_talk(run: Runner, grooming_script: Script) -> None:
    tr = run(grooming_script)
    alert = tr.risk
    assert alert >= default_model().threshold
    run(ORDINARY_TAIL * 3, tracker=tr, start=len(grooming_script))
    assert tr.risk == alert


def _sexual_minors_reading(score: float) -> Detection:
    return Detection(Category.SEXUAL_MINORS, score, "classifier", "test", None, "a reading", None)


@pytest.mark.parametrize(("score", "hold", "stands"), [(0.6, False, False), (0.6, True, True), (0.9, False, True)])
def test_an_uncertain_sexual_minors_reading_is_not_repeated_on_later_messages(
    run: Runner, detector: GroomingStageDetector, score: float, hold: bool, stands: bool
) -> None:
    tr = ConversationTracker(config=ConversationConfig(hold_below_alert=hold))
    ctx = TextContext.from_text("nice pic", role=Role.CONTACT, index=0)
    tr.add(ctx, [*detector.detect(ctx), _sexual_minors_reading(score)])
    ordinary: list[bool] = []
    for i, (role, text) in enumerate(ORDINARY_TAIL, start=1):
        ctx = TextContext.from_text(text, role=Role.parse(role), index=i)
        later = tr.add(ctx, detector.detect(ctx))
        ordinary.append(any(d.category is Category.SEXUAL_MINORS for d in later))
    # a serious reading also lifts the conversation to the alert; an uncertain one leaves it below
    assert (tr.risk >= default_model().threshold) == (score >= 0.85)
    assert all(ordinary) if stands else not any(ordinary)


def test_a_suspicion_repeated_after_small_talk_is_read_against_the_highest_risk(run: Runner) -> None:
    tr = ConversationTracker()
    run([("contact", "lets keep this between us ok"), ("child", "ok")], tracker=tr)
    first = tr.risk
    run(ORDINARY_TAIL * 4, tracker=tr, start=2)
    assert tr.risk < 0.2
    run([("contact", "remember, keep this between us ok")], tracker=tr, start=2 + 4 * len(ORDINARY_TAIL))
    assert tr.risk >= first


def test_a_state_saved_before_the_peak_was_kept_restores_with_its_risk_as_peak(run: Runner) -> None:
    tr = ConversationTracker()
    run([("contact", "lets keep this between us ok"), ("child", "ok")], tracker=tr)
    old = tr.state()
    del old["peak"]  # the earlier format: "risk" was the highest risk
    restored = ConversationTracker(state=old)
    assert restored.state()["peak"] == old["risk"]
    run(ORDINARY_TAIL, tracker=restored, start=2)
    assert restored.risk < old["risk"]
