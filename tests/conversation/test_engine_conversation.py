"""Conversation risk through the public API: Engine.check_messages, ConversationMonitor and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from childsafe.config import Config
from childsafe.engine import Engine
from childsafe.types import Action, Category

Script = list[tuple[str, str]]
CLI = [sys.executable, "-m", "childsafe.cli.main"]


# Only the stage detector runs, so these tests measure the conversation model, not other detectors'
# per-message rules (the lexicon, for one, escalates "what school do you go to" from a contact on its own).
@pytest.fixture(scope="module")
def engine() -> Engine:
    eng = Engine.from_config(Config(detectors={"grooming_stages": {}}))
    assert eng.warmup() == {}
    return eng


def _msgs(script: Script) -> list[dict[str, str]]:
    return [{"role": r, "text": t} for r, t in script]


def test_check_messages_flags_grooming_early(engine: Engine, grooming_script: Script) -> None:
    d = engine.check_messages(_msgs(grooming_script), age=12)
    assert d.action.severity >= Action.ESCALATE.severity
    assert d.scores[Category.GROOMING] >= 0.5
    assert d.first_flag_index is not None
    assert d.first_flag_index < len(grooming_script) - 1
    stages = {s for s, _ in d.extra["stages"]}
    assert {"age_probe", "secrecy", "photo_request"} <= stages
    conv = [x for x in d.detections if x.detector == "conversation" and x.category is Category.GROOMING]
    assert conv and "age_probe@2" in conv[0].evidence


def test_check_messages_leaves_ordinary_chats_alone(engine: Engine, safe_scripts: dict[str, Script]) -> None:
    for name, script in safe_scripts.items():
        d = engine.check_messages(_msgs(script), age=11)
        assert d.scores[Category.GROOMING] < 0.3, name
        assert d.first_flag_index is None, (name, d.reasons)


def test_monitor_state_survives_save_and_restore(engine: Engine, grooming_script: Script) -> None:
    whole = engine.monitor(age=12)
    for m in _msgs(grooming_script):
        last = whole.add(m, emit=False)
    half = len(grooming_script) // 2
    first = engine.monitor(age=12)
    for m in _msgs(grooming_script[:half]):
        first.add(m, emit=False)
    saved = json.loads(json.dumps(first.state()))
    resumed = engine.monitor(state=saved)
    for m in _msgs(grooming_script[half:]):
        again = resumed.add(m, emit=False)
    assert again.scores[Category.GROOMING] == pytest.approx(last.scores[Category.GROOMING])
    assert again.first_flag_index == last.first_flag_index


def test_cli_check_file_gives_conversation_scores(tmp_path: Path, grooming_script: Script,
                                                  safe_scripts: dict[str, Script]) -> None:
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text("detectors:\n  grooming_stages: {}\n", encoding="utf-8")
    src = tmp_path / "in.jsonl"
    recs = [{"id": "g", "age": 12, "messages": _msgs(grooming_script)},
            {"id": "k", "age": 11, "messages": _msgs(safe_scripts["kids"])}]
    src.write_text("".join(json.dumps(r) + "\n" for r in recs), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    r = subprocess.run([*CLI, "check", "--file", str(src), "--out", str(out), "--config", str(cfg)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    rows = {row["id"]: row for row in map(json.loads, out.read_text(encoding="utf-8").splitlines())}
    assert rows["g"]["scores"]["grooming"] >= 0.5
    assert rows["g"]["first_flag_index"] is not None and rows["g"]["first_flag_index"] < len(grooming_script) - 1
    assert rows["k"]["scores"]["grooming"] < 0.3
    assert rows["k"]["first_flag_index"] is None


@pytest.mark.parametrize("hold", [False, True])
def test_ordinary_talk_after_a_passing_suspicion_goes_through(hold: bool) -> None:
    cfg = Config(detectors={"grooming_stages": {}})
    cfg.conversation.hold_below_alert = hold
    mon = Engine.from_config(cfg).monitor("13-15")
    first = mon.add({"role": "contact", "text": "lets keep this between us ok"}, emit=False)
    assert first.action is not Action.ALLOW
    assert first.scores[Category.GROOMING] < 0.5  # a precaution, not an alert
    later = [mon.add({"role": r, "text": t}, emit=False).action for r, t in [
        ("child", "ok"), ("child", "anyway did u finish the maths homework"), ("contact", "yeah page 42 was hard"),
        ("child", "see u at school tomorrow"), ("contact", "yes bring the football"), ("child", "lol ok"),
        ("contact", "what time is practice"), ("child", "4pm"), ("contact", "ok cool"),
    ]]
    if hold:
        assert Action.ALLOW not in later[-4:]
    else:
        assert later[-4:] == [Action.ALLOW] * 4


def test_a_transcript_checked_at_once_keeps_every_earlier_finding() -> None:
    engine = Engine.from_config(Config(detectors={"grooming_stages": {}}))
    transcript = [
        ("contact", "lets keep this between us ok"), ("child", "ok"), ("child", "anyway did u finish the maths"),
        ("contact", "yeah page 42 was hard"), ("child", "see u at school tomorrow"), ("contact", "yes bring the ball"),
        ("child", "lol ok"), ("contact", "what time is practice"), ("child", "4pm"), ("contact", "ok cool"),
    ]
    mon = engine.monitor("13-15")
    streamed = [mon.add({"role": r, "text": t}, emit=False) for r, t in transcript]
    assert streamed[-1].action is Action.ALLOW  # one at a time, each message was acted on and the suspicion lapsed
    whole = engine.check_messages(_msgs(transcript), age="13-15")
    assert whole.action is not Action.ALLOW  # only this decision is emitted: the earlier finding stands
    assert whole.first_flag_index == 0
