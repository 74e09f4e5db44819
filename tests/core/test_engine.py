import asyncio
import json
import time
from typing import ClassVar

import pytest

from childsafe.config import Config, ConfigError
from childsafe.detectors.base import Detector, DetectorUnavailable
from childsafe.detectors.lexicon import LexiconDetector
from childsafe.engine import Engine
from childsafe.events import ListSink
from childsafe.text import TextContext
from childsafe.types import Action, AgeBand, Category, Detection, Message, Role


class Boom(Detector):
    name = "boom"
    version = "1"
    categories: ClassVar[frozenset[Category]] = frozenset({Category.HATE})

    def detect(self, ctx: TextContext) -> list[Detection]:
        raise RuntimeError("model crashed")


class Slow(Detector):
    name = "slow"
    version = "1"
    categories: ClassVar[frozenset[Category]] = frozenset({Category.HATE})

    def detect(self, ctx: TextContext) -> list[Detection]:
        time.sleep(0.05)
        return []


class Broken(Detector):
    name = "broken"
    version = "1"
    categories: ClassVar[frozenset[Category]] = frozenset({Category.HATE})

    def _load(self) -> None:
        raise DetectorUnavailable("model file missing")

    def detect(self, ctx: TextContext) -> list[Detection]:
        return []


def test_default_engine_checks_text() -> None:
    e = Engine.from_config()
    d = e.check("you are a loser and nobody likes you", age=11)
    assert d.action is Action.BLOCK and Category.HARASSMENT in d.categories
    assert d.child_message and d.reviewer_explanation.startswith("action=block")
    assert e.check("can you help me with my fractions homework?", age=11).action is Action.ALLOW


def test_detector_error_fails_closed() -> None:
    e = Engine(detectors=[LexiconDetector(), Boom()])
    d = e.check("hello there", age=11)
    assert d.action is Action.BLOCK
    assert "safety check unavailable: boom" in d.reasons[0]
    assert d.child_message and "safety check" in d.child_message


def test_detector_timeout_fails_closed() -> None:
    cfg = Config.model_validate({"engine": {"detector_timeout_s": 0.01}})
    e = Engine(detectors=[Slow()], config=cfg)
    d = e.check("hello", age=11)
    assert d.action is Action.BLOCK and "slow (timeout)" in d.reasons[0]


def test_async_hard_timeout_fails_closed() -> None:
    class Hang(Slow):
        name = "hang"

        def detect(self, ctx: TextContext) -> list[Detection]:
            time.sleep(0.5)
            return []

    cfg = Config.model_validate({"engine": {"detector_timeout_s": 0.05}})
    e = Engine(detectors=[Hang()], config=cfg)
    d = asyncio.run(e.acheck("hello", age=11))
    assert d.action is Action.BLOCK


def test_unloadable_detector_fails_closed_and_reports_health() -> None:
    e = Engine(detectors=[LexiconDetector(), Broken()])
    assert e.warmup() == {"broken": "model file missing"}
    assert e.health()["ok"] is False
    assert e.check("what a nice day", age=11).action is Action.BLOCK


def test_unknown_detector_in_config_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="unknown detector 'nope'"):
        Engine.from_config(Config.model_validate({"detectors": {"nope": {}}}))
    with pytest.raises(ConfigError, match=r"detectors.lexicon: invalid options"):
        Engine.from_config(Config.model_validate({"detectors": {"lexicon": {"colour": 1}}}))


def test_long_text_is_checked_in_chunks_with_original_spans() -> None:
    e = Engine(detectors=[LexiconDetector()])
    filler = "we went to the park and played. " * 4000  # ~128k characters
    text = filler + "i want to kill myself. " + filler
    d = e.check(text, age=13)
    assert d.action is Action.ESCALATE
    span = next(x.span for x in d.detections if x.category is Category.SELF_HARM)
    assert span is not None and text[span.start : span.end] == "kill myself"


def test_batch_matches_single_checks() -> None:
    e = Engine(detectors=[LexiconDetector()])
    texts = ["hi", "you are a loser", "blackout challenge anyone?", "kill the process"]
    batch = e.check_batch(texts, age="10-12")
    single = [e.check(t, age="10-12") for t in texts]
    assert [d.action for d in batch] == [d.action for d in single]
    assert [d.scores for d in batch] == [d.scores for d in single]


def test_redaction_of_child_details() -> None:
    from childsafe.detectors.personal_info import PersonalInfoDetector

    e = Engine(detectors=[LexiconDetector(), PersonalInfoDetector()])
    d = e.check("my address is 12 Oak Street. see you", age=9)
    assert d.action is Action.REDACT
    assert d.redacted_text is not None and "12 Oak Street" not in d.redacted_text
    assert d.redacted_text.endswith("see you")


def test_events_hold_hash_not_raw_text() -> None:
    sink = ListSink()
    e = Engine(detectors=[LexiconDetector()], sinks=[sink])
    e.check("you are a loser, sam", age=11)
    ev = sink.events[-1]
    assert len(ev.content_sha256) == 64
    assert ev.redacted_excerpt is not None and "loser" not in ev.redacted_excerpt


def test_check_messages_first_flag_and_role() -> None:
    e = Engine(detectors=[LexiconDetector()])
    msgs = [
        Message(Role.CONTACT, "hey what game are you playing"),
        Message(Role.CHILD, "minecraft"),
        Message(Role.CONTACT, "cool. dont tell your parents about us ok, this is our secret"),
        Message(Role.CONTACT, "so what else do you like"),
    ]
    d = e.check_messages(msgs, age=11)
    assert d.first_flag_index == 2
    assert d.scores[Category.GROOMING] > 0.5  # conversation risk carries over to the newest message


def test_monitor_state_round_trips() -> None:
    import json

    e = Engine(detectors=[LexiconDetector()])
    mon = e.monitor(age=12)
    mon.add({"role": "contact", "text": "are your parents home?"})
    saved = json.loads(json.dumps(mon.state()))
    mon2 = e.monitor(state=saved)
    assert mon2.age_band is AgeBand.AGE_10_12 and mon2.count == 1
    d = mon2.add(Message(Role.CONTACT, "ok"))
    assert d.extra["message_index"] == 1


def test_a_request_split_across_two_messages_is_read_whole() -> None:
    engine = Engine(detectors=[LexiconDetector()])
    first, second = "i want to kill", "myself"
    # each half alone is at most a warning ("i want to kill" is a weak phrase); only the two read whole escalate
    assert not engine.check(first, age=11).action.stops_content
    assert engine.check(second, age=11).action is Action.ALLOW
    joined = engine.check_messages([{"role": "user", "content": first}, {"role": "user", "content": second}], age=11)
    assert joined.action is Action.ESCALATE and Category.SELF_HARM in joined.categories
    assert all(d.span is None for d in joined.detections if d.category is Category.SELF_HARM)
    # Two different speakers are not one request, and the monitor keeps no message text in its state.
    mixed = engine.check_messages([{"role": "assistant", "content": first}, {"role": "user", "content": second}])
    assert not mixed.action.stops_content and Category.SELF_HARM not in mixed.categories
    mon = engine.monitor(11)
    mon.add({"role": "user", "content": first})
    assert mon.add({"role": "user", "content": second}, previous=first).action is Action.ESCALATE
    assert first not in json.dumps(mon.state())
