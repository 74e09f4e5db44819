"""An incident report carries the messages the moderator saw, with the times they were sent (not when the case
was opened), and its XML has every field a CyberTipline-style report needs."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from childsafe.cli.main import app as cli
from childsafe.reporting import ReporterSettings, ReportingError, ReportingService
from childsafe.reporting.schema import REQUIRED, report_problems

from .test_report_cli import ORG

EARLIER = "hey, how old are you? do your parents check your phone?"
FLAGGED = "asks a 12-year-old for photos and to keep it secret"


def _conversation_then_late_review(env: Any) -> tuple[str, Any, Any]:
    """A contact's two messages (5 minutes apart), the case opened and confirmed 3 hours later."""
    sent_first = env.clock.now
    env.store.messages.put("conv1", "contact", EARLIER, None)
    env.clock.now += timedelta(minutes=5)
    sent_flagged = env.clock.now
    env.decision("d-late", "escalate", ["grooming"], FLAGGED)
    env.clock.now += timedelta(hours=3)  # the queue is worked through later: the case is opened now
    env.review.import_escalations()
    (case,) = env.review.queue()
    env.review.claim(case.id, "mod1")
    env.review.decide(case.id, "mod1", "confirm", "adult asks child for photos and secrecy")
    return str(case.id), sent_first, sent_flagged


def _service(env: Any, **kw: Any) -> ReportingService:
    kw = {"decisions": env.store.decisions, "messages": env.store.messages, **kw}
    return ReportingService(env.store.engine, env.review, env.audit, b"k" * 32, clock=env.clock, **kw)


def test_the_report_carries_the_stored_messages_with_their_real_times(env: Any) -> None:
    case_id, sent_first, sent_flagged = _conversation_then_late_review(env)
    report = _service(env).create(case_id, incident_type="enticement", actor="mod1")
    r = report.package["report"]
    assert r["incidentSummary"]["incidentDateTime"] == sent_flagged.isoformat()  # not the case's opening time
    assert r["evidence"]["messages"] == [
        {"role": "contact", "sentAt": sent_first.isoformat(), "flagged": False, "text": EARLIER},
        {"role": "contact", "sentAt": sent_flagged.isoformat(), "flagged": True, "text": FLAGGED},
    ]
    root = ET.fromstring(report.xml)
    assert [m.findtext("sentAt") for m in root.iterfind("evidence/messages/message")] == [
        sent_first.isoformat(), sent_flagged.isoformat()
    ]
    assert [m.findtext("flagged") for m in root.iterfind("evidence/messages/message")] == ["false", "true"]
    assert root.findtext("additionalInformation/categories/category") == "grooming"
    assert root.find(".//categorie") is None
    assert report_problems(report.xml) == []
    kinds = [json.loads(data) for kind, data in _service(env).evidence(report.id) if kind == "message"]
    assert [m["text"] for m in kinds] == [EARLIER, FLAGGED]  # preserved under the hold as they were sent


def test_report_build_from_the_cli_reads_the_stored_messages(env: Any, tmp_path: Path) -> None:
    case_id, _first, sent_flagged = _conversation_then_late_review(env)
    config = tmp_path / "childsafe.yaml"
    url = str(env.store.engine.url.render_as_string(hide_password=False))
    store = {"url": url, "data_dir": str(tmp_path / "data"), "store_messages": True}
    config.write_text(yaml.safe_dump({"store": store, "reporting": ORG}))
    out = tmp_path / "out"
    args = ["report", "build", case_id, "--type", "enticement", "--out", str(out), "--actor", "mod1", "-c", str(config)]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output
    (package,) = [json.loads(p.read_text()) for p in out.glob("*.json")]
    messages = package["report"]["evidence"]["messages"]
    assert [m["text"] for m in messages] == [EARLIER, FLAGGED] and messages[1]["sentAt"] == sent_flagged.isoformat()
    (xml,) = [p.read_text() for p in out.glob("*.xml")]
    assert report_problems(xml) == [] and "<category>grooming</category>" in xml


def test_without_stored_messages_the_excerpt_is_dated_by_the_decision(env: Any) -> None:
    case_id, _first, sent_flagged = _conversation_then_late_review(env)
    report = _service(env, messages=None).create(case_id, incident_type="enticement", actor="mod1")
    (message,) = report.package["report"]["evidence"]["messages"]
    assert message["sentAt"] == sent_flagged.isoformat() and message["redacted"] is True
    assert message["text"] == "[redacted excerpt]" and report_problems(report.xml) == []


def test_an_incomplete_report_is_refused_naming_the_fields(env: Any) -> None:
    case_id, *_ = _conversation_then_late_review(env)
    reporter = ReporterSettings(**{**ORG, "contact_email": " "})
    with pytest.raises(ReportingError, match="reporter/reportingPerson/email: missing or empty"):
        _service(env, reporter=reporter).create(case_id, incident_type="enticement", actor="mod1")
    assert _service(env).for_case(case_id) is None  # nothing stored, nothing held


def test_the_schema_check_names_what_is_missing_or_wrong() -> None:
    (broken,) = report_problems("<report>")
    assert broken.startswith("not well-formed XML")
    assert report_problems("<package/>") == ["the root element must be <report>, not <package>"]
    problems = report_problems(
        "<report><incidentSummary><incidentDateTime>yesterday</incidentDateTime></incidentSummary>"
        "<evidence><messages><message><role>contact</role><text>x</text></message></messages></evidence>"
        "<additionalInformation><categories><categorie>grooming</categorie></categories></additionalInformation>"
        "</report>"
    )
    for path in REQUIRED:
        if path != "incidentSummary/incidentDateTime":  # given, but not a time
            assert f"{path}: missing or empty" in problems
    assert "evidence/messages/message[0]/sentAt: missing or empty" in problems
    assert "incidentSummary/incidentDateTime: not an ISO 8601 time with a time zone: 'yesterday'" in problems
    assert "categories: items must be <category>, found <categorie>" in problems
    assert "evidence: no message and no file (a report must show what was seen)" in report_problems(
        "<report><evidence/></report>"
    )
