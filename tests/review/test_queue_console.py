"""The review queue a moderator works through: due times from the escalation, cases grouped by conversation,
counts and times, no-child checks kept out of the queue, and the case view's conversation and explanation."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from childsafe.config import Config
from childsafe.engine import Engine
from childsafe.review import ReviewService, ReviewSettings
from childsafe.review.queue import format_span, group_by_conversation
from childsafe.review.service import UrgentCase
from childsafe.review.testing import OversightEnv
from childsafe.store import ConversationRecord, DecisionEntry, DecisionScope, StoreEventSink, scoped


@pytest.fixture
def env(db_url: str, tmp_path: Path) -> Iterator[OversightEnv]:
    e = OversightEnv(db_url, tmp_path)
    yield e
    e.store.close()


def _review(env: OversightEnv, **settings: object) -> tuple[ReviewService, list[UrgentCase]]:
    urgent: list[UrgentCase] = []
    review = ReviewService(
        env.store.engine,
        env.store.decisions,
        env.audit,
        env.store.messages,
        clock=env.clock,
        settings=ReviewSettings.model_validate(settings),
        on_urgent=urgent.append,
    )
    return review, urgent


def _no_child(env: OversightEnv, decision_id: str, categories: list[str]) -> None:
    """A decision as a bare /v1/check records it: the app, no child, no conversation."""
    env.store.decisions.record(
        [
            DecisionEntry(
                id=decision_id,
                kind="input",
                action="escalate",
                categories=categories,
                scores={c: 0.9 for c in categories},
                reasons=["test"],
                policy_version="p1",
                age_band="10-12",
                role="child",
                excerpt="[redacted]",
                app_id=env.app_id,
            )
        ]
    )


def test_due_time_and_age_count_from_the_escalation_not_from_the_import(env: OversightEnv) -> None:
    escalated_at = env.clock.now
    env.decision("d-late", "escalate", ["self_harm"], "i want to hurt myself")
    env.clock.now += timedelta(hours=5)  # nobody opened the queue for five hours
    assert env.review.import_escalations() == 1
    case = env.review.queue()[0]
    assert case.created_at == escalated_at and case.due_at == escalated_at + timedelta(hours=1)
    assert case.overdue(env.clock.now)
    counts = env.review.counts(env.clock.now)
    assert (counts.open, counts.overdue, counts.by_severity) == (1, 1, ((1, 1),))
    row = group_by_conversation([case], env.clock.now)[0].rows[0]
    assert row.age == "5 h 00 min" and row.time_left == "overdue by 4 h 00 min" and row.overdue


def test_cases_are_grouped_by_conversation_with_counts_and_times(env: OversightEnv) -> None:
    env.decision("c1", "escalate", ["grooming"], "you are so mature, keep it our secret")
    env.clock.now += timedelta(minutes=10)
    env.decision("c2", "report", ["sexual_minors"], "send me a photo of you")
    env.decision("c3", "block", ["violence"], "a fight at school")
    env.store.conversations.save(ConversationRecord("conv2", env.app_id, env.child.id, None, 1, False))
    env.store.decisions.record(
        [
            DecisionEntry(
                id="other",
                kind="input",
                action="escalate",
                categories=["violence"],
                scores={"violence": 0.9},
                reasons=["test"],
                policy_version="p1",
                age_band="10-12",
                role="child",
                app_id=env.app_id,
                child_id=env.child.id,
                conversation_id="conv2",
            )
        ]
    )
    env.clock.now += timedelta(minutes=20)
    env.review.import_escalations()
    env.review.file_appeal("c3", "it was about a history lesson")
    cases = env.review.queue()
    assert len(cases) == 4
    groups = group_by_conversation(cases, env.clock.now)
    assert [(g.conversation_id, len(g.rows)) for g in groups] == [("conv1", 3), ("conv2", 1)]
    conv1 = groups[0]
    assert [r.case.decision_id for r in conv1.rows] == ["c1", "c2", "c3"]  # in the order they arose
    assert [r.age for r in conv1.rows] == ["30 min", "20 min", "0 min"]
    assert [r.time_left for r in conv1.rows] == ["30 min", "40 min", "2 d 0 h"]
    counts = env.review.counts(env.clock.now)
    assert (counts.unresolved, counts.open, counts.claimed, counts.overdue) == (4, 4, 0, 0)
    assert dict(counts.by_severity) == {1: 2, 2: 1, 3: 1}


def test_checks_naming_no_child_stay_out_of_the_queue_unless_configured(env: OversightEnv) -> None:
    for i in range(3):
        _no_child(env, f"bare{i}", ["self_harm"])
    env.decision("kid", "escalate", ["self_harm"], "i want to die")
    review, urgent = _review(env)
    assert review.import_escalations(limit=2) == 1  # the no-child escalations do not use up the batch
    assert [c.decision_id for c in review.queue()] == ["kid"] and [u.categories for u in urgent] == [("self_harm",)]
    assert env.store.decisions.get("bare0") is not None  # still recorded
    assert len(env.store.decisions.escalations("open")) == 4

    everything, _ = _review(env, queue_without_child=True)
    assert everything.import_escalations() == 3
    assert sorted(c.decision_id for c in everything.queue()) == ["bare0", "bare1", "bare2", "kid"]


def test_only_severity_one_escalations_call_the_urgent_hook(env: OversightEnv) -> None:
    review, urgent = _review(env)
    env.decision("g1", "escalate", ["grooming"], "keep it our secret")
    env.decision("v1", "escalate", ["violence"], "a fight")
    env.decision("r1", "report", ["other_unsafe"], "x")
    env.decision("b1", "block", ["self_harm"], "y")
    review.import_escalations()
    review.file_appeal("b1", "please check")  # an appeal is severity 2 at most: no alert
    assert sorted(u.case_id for u in urgent) == sorted(c.id for c in review.queue() if c.severity == 1)
    assert {u.action for u in urgent} == {"escalate", "report"}
    first = urgent[0]
    assert first.due_at - first.opened_at == timedelta(hours=1) and first.severity == 1

    def broken(case: UrgentCase) -> None:
        raise RuntimeError("alert queue down")

    env.decision("g2", "escalate", ["grooming"], "send a pic")
    failing = ReviewService(
        env.store.engine, env.store.decisions, env.audit, env.store.messages, clock=env.clock, on_urgent=broken
    )
    assert failing.import_escalations() == 1  # a failing alert never costs the case


def test_case_view_shows_the_conversation_around_the_flag_and_the_explanation(env: OversightEnv) -> None:
    vault = env.store.messages
    assert vault is not None
    for i in range(8):
        vault.put("conv1", "child" if i % 2 else "contact", f"earlier message {i}", None)
    flagged = "you are so mature for your age, send me a photo and dont tell your parents"
    env.store.decisions.record(
        [
            DecisionEntry(
                id="dx",
                kind="input",
                action="escalate",
                categories=["grooming"],
                scores={"grooming": 0.99},
                reasons=["grooming score 0.99 >= 0.50 (escalate)"],
                policy_version="p1",
                age_band="10-12",
                role="contact",
                app_id=env.app_id,
                child_id=env.child.id,
                conversation_id="conv1",
                extra={
                    "rules": ["grooming.escalate"],
                    "detections": [
                        {"detector": "lexicon", "version": "1", "category": "grooming", "score": 0.75,
                         "span": [0, 30], "signal": None},
                        {"detector": "grooming_stages", "version": "1", "category": "grooming", "score": 0.25,
                         "span": [52, 74], "signal": "secrecy"},
                        {"detector": "classifier", "version": "2", "category": "grooming", "score": 0.88,
                         "span": None, "signal": None},
                    ],
                },
            )
        ]
    )
    vault.put("conv1", "contact", flagged, "dx")
    for i in range(5):
        vault.put("conv1", "child", f"later message {i}", None)
    env.review.import_escalations()
    case = env.review.queue()[0]
    view = env.review.view(case.id, "mod1", "moderator")
    texts = [m.text for m in view.conversation]
    assert texts == [f"earlier message {i}" for i in range(2, 8)] + [flagged] + [f"later message {i}" for i in range(3)]
    marked = [t for m in view.conversation if m.flagged for t, hit in m.parts if hit]
    assert marked == ["you are so mature for your age", "dont tell your parents"]
    ex = view.explanation
    assert ex.rules == ["grooming.escalate"] and [f.detector for f in ex.findings] == [
        "classifier", "lexicon", "grooming_stages"]
    assert ex.findings[1].quote == "you are so mature for your age" and ex.findings[2].signal == "secrecy"
    last = [r for r in env.audit.records() if r.type == "moderator_view"][-1]
    assert last.data["messages_shown"] == 10 and "earlier message" not in repr(last.data)


def test_without_consent_the_view_has_the_explanation_but_no_words(env: OversightEnv) -> None:
    env.decision("dn", "escalate", ["grooming"], "keep it our secret", extra={
        "rules": ["grooming.escalate"],
        "detections": [{"detector": "lexicon", "version": "1", "category": "grooming", "score": 0.8,
                        "span": [0, 4], "signal": None}],
    })
    review = ReviewService(
        env.store.engine, env.store.decisions, env.audit, env.store.messages, clock=env.clock,
        consent=lambda child, purpose: False,
    )
    review.import_escalations()
    view = review.view(review.queue()[0].id, "mod1", "moderator")
    assert view.consent_withheld and view.conversation == [] and view.messages == []
    assert view.explanation.rules == ["grooming.escalate"]
    assert view.explanation.findings[0].span == (0, 4) and view.explanation.findings[0].quote is None


def test_stored_decisions_keep_detector_spans_and_rules_but_never_the_evidence(db_url: str, tmp_path: Path) -> None:
    env = OversightEnv(db_url, tmp_path)
    try:
        engine = Engine(config=Config())
        sink = StoreEventSink(env.store.decisions)
        engine.sinks.append(sink)
        text = "you are so mature for your age, send me a photo and dont tell your parents"
        with scoped(DecisionScope(env.app_id, env.child.id, "conv1")):
            decision = engine.check(text, age=11, role="contact")
        assert sink.flush()
        stored = env.store.decisions.get(decision.decision_id)
        assert stored is not None and stored.extra["rules"] == list(decision.rules)
        found = stored.extra["detections"]
        assert found and {"detector", "version", "category", "score", "span", "signal"} == set(found[0])
        assert any(f["span"] == [0, 30] and f["detector"] == "lexicon" for f in found)
        assert "mature" not in repr(stored.extra)
        sink.close()
    finally:
        env.store.close()


def test_format_span() -> None:
    assert [format_span(timedelta(minutes=m)) for m in (0, 59, 61, 24 * 60 + 61)] == [
        "0 min", "59 min", "1 h 01 min", "1 d 1 h"]
    assert format_span(timedelta(seconds=-5)) == "0 min"
