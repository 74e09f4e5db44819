from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from childsafe.review import ReviewError
from childsafe.review.testing import OversightEnv

Env = OversightEnv


@pytest.fixture
def env(db_url: str, tmp_path: Path) -> Any:
    e = OversightEnv(db_url, tmp_path)
    yield e
    e.store.close()


def test_escalations_become_cases_by_urgency_with_sla(env: Env) -> None:
    env.decision("d-groom", "escalate", ["grooming"], "asks a 12-year-old for photos and to keep it secret")
    env.decision("d-viol", "escalate", ["violence"], "describes a fight")
    env.decision("d-ok", "block", ["violence"], "blocked only")
    assert env.review.import_escalations() == 2
    assert env.review.import_escalations() == 0  # idempotent
    cases = env.review.queue()
    assert [c.decision_id for c in cases] == ["d-groom", "d-viol"]
    assert [c.severity for c in cases] == [1, 2]
    assert cases[0].due_at - cases[0].created_at == timedelta(hours=1)
    assert cases[1].due_at - cases[1].created_at == timedelta(hours=24)
    env.clock.now += timedelta(hours=2)
    assert cases[0].overdue(env.clock.now) and not cases[1].overdue(env.clock.now)


def test_claim_view_decide_are_audited_and_role_checked(env: Env) -> None:
    env.decision("d1", "escalate", ["grooming"], "asks a 12-year-old for photos and to keep it secret")
    env.review.import_escalations()
    case = env.review.queue()[0]
    with pytest.raises(ReviewError) as denied:
        env.review.view(case.id, "guardian1", "guardian")
    assert denied.value.status == 403
    with pytest.raises(ReviewError, match="claim"):
        env.review.decide(case.id, "mod1", "confirm", "clear grooming pattern")
    env.review.claim(case.id, "mod1")
    with pytest.raises(ReviewError) as taken:
        env.review.claim(case.id, "mod2")
    assert taken.value.status == 409
    view = env.review.view(case.id, "mod1", "moderator")
    assert view.messages == [{"role": "contact", "text": "asks a 12-year-old for photos and to keep it secret"}]
    with pytest.raises(ReviewError, match="reason"):
        env.review.decide(case.id, "mod1", "confirm", "  ")
    done = env.review.decide(case.id, "mod1", "change_category", "sexual request to a minor", category="sexual_minors")
    assert done.status == "resolved" and done.final_category == "sexual_minors"
    assert env.store.decisions.escalations("open") == []
    types = [(r.type, r.actor) for r in env.audit.records()]
    assert types == [
        ("case_opened", "system"),
        ("case_claimed", "mod1"),
        ("moderator_view", "mod1"),
        ("moderator_decision", "mod1"),
    ]
    with env.store.engine.connect() as c:
        dump = repr(c.execute(text("SELECT * FROM audit_events")).all())
    assert "photos" not in dump  # the view is audited, the content is not copied into the log
    assert env.audit.verify().ok


def test_appeal_round_trip_with_age_appropriate_answer(env: Env) -> None:
    env.decision("d-block", "block", ["violence"], "a history question about a battle")
    env.decision("d-allow", "allow", [], "hello")
    with pytest.raises(ReviewError, match="nothing was blocked"):
        env.review.file_appeal("d-allow", "why")
    with pytest.raises(ReviewError) as missing:
        env.review.file_appeal("nope", "why")
    assert missing.value.status == 404
    appeal = env.review.file_appeal("d-block", "it was for my history homework")
    assert env.review.file_appeal("d-block", "again").id == appeal.id
    pending = appeal.public()
    assert pending["status"] == "pending" and "safety team" in pending["message"]
    case = env.review.get(appeal.case_id)
    assert case.source == "appeal" and case.appeal_id == appeal.id
    env.review.claim(case.id, "mod1")
    env.review.decide(case.id, "mod1", "overturn", "history homework, not violent")
    told = env.review.appeal(appeal.id).public()
    assert told["status"] == "decided" and told["outcome"] == "overturn"
    assert "you were right" in told["message"].lower()


def test_feedback_export_in_dataset_format(env: Env, db_url: str, tmp_path: Path) -> None:
    import typer

    from childsafe.cli.audit_cmd import register

    env.decision("d1", "escalate", ["grooming"], "asks a 12-year-old for photos and to keep it secret")
    env.decision("d2", "escalate", ["violence"], "a story about a dragon fight")
    env.review.import_escalations()
    for case, outcome in zip(env.review.queue(), ["confirm", "overturn"], strict=True):
        env.review.claim(case.id, "mod1")
        env.review.decide(case.id, "mod1", outcome, "checked")
    cli = typer.Typer()
    register(cli)
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(f"store:\n  url: '{db_url}'\n  data_dir: '{tmp_path / 'data'}'\n  store_messages: true\n")
    out = tmp_path / "feedback.jsonl"
    result = CliRunner().invoke(cli, ["feedback", "export", "--config", str(cfg), "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = {r["decision_id"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert rows["d1"]["labels"] == ["grooming"] and rows["d2"]["labels"] == ["safe"]
    assert rows["d1"]["text"].startswith("asks a 12-year-old") and rows["d1"]["source"] == "childsafe-review"
    assert set(rows["d1"]) >= {"id", "text", "labels", "source"}


def test_a_case_is_not_opened_for_a_decision_erased_after_it_was_read(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The intake reads an escalation, then the child is erased, then it opens the case: the case would be a
    row about an erased child, so it is not stored."""
    env.decision("d-erased", "escalate", ["grooming"], "asks a 12-year-old for photos")
    read = env.review._decisions.get

    def read_then_erase(decision_id: str) -> Any:
        entry = read(decision_id)
        with env.store.engine.begin() as c:  # the erasure commits between the read and the case
            c.execute(text("DELETE FROM decisions WHERE id = :d"), {"d": decision_id})
        return entry

    monkeypatch.setattr(env.review._decisions, "get", read_then_erase)
    assert env.review.import_escalations() == 0
    assert env.review.queue() == []
