"""Operator commands on a store the gateway wrote (per-child message keys), as a new operator runs them."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from childsafe.cli.main import app as cli

from .conftest import API_KEY, CHILD, HTTP, GatewayFactory, Gw

AUTH = {"Authorization": f"Bearer {API_KEY}"}
GROOMING = "dont tell your parents about us, this is our secret"


def _config(db_url: str, tmp_path: Path) -> Path:
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(
        f"store:\n  url: '{db_url}'\n  data_dir: '{tmp_path / 'data'}'\n  store_messages: true\n"
        "reporting:\n  org_name: Example Kids Chat Ltd\n  contact_email: safety@kidschat.test\n"
    )
    return cfg


def _confirmed_case(g: Gw, text: str) -> str:
    """A child message through the chat API, escalated, then confirmed by a moderator; the case id."""
    r = HTTP.post(
        g.base + "/chat/completions",
        json={"model": "m", "user": CHILD, "messages": [{"role": "user", "content": text}]},
        headers=AUTH,
    )
    assert r.status_code == 200 and r.json()["childsafe"]["action"] in ("escalate", "report"), r.text
    g.flush()
    review = g.app.state.oversight.review
    review.import_escalations()  # (the gateway's intake may have opened the case already)
    (case,) = review.queue()
    review.claim(case.id, "mod1")
    review.decide(case.id, "mod1", "confirm", "checked")
    return str(case.id)


def test_feedback_export_reads_per_child_keys(
    gateway_factory: GatewayFactory, db_url: str, tmp_path: Path
) -> None:
    g = gateway_factory(auto_create_children=True, store={"store_messages": True})
    case_id = _confirmed_case(g, GROOMING)
    out = tmp_path / "feedback.jsonl"
    args = ["feedback", "export", "--config", str(_config(db_url, tmp_path)), "--out", str(out)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    (row,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert row["id"] == case_id and row["text"] == GROOMING and row["labels"] == ["grooming"]


def test_report_build_carries_the_childs_stored_messages(
    gateway_factory: GatewayFactory, db_url: str, tmp_path: Path
) -> None:
    g = gateway_factory(auto_create_children=True, store={"store_messages": True})
    case_id = _confirmed_case(g, GROOMING)
    out = tmp_path / "report"
    args = ["report", "build", case_id, "--type", "enticement", "--out", str(out), "--actor", "mod1"]
    result = CliRunner().invoke(cli, [*args, "--config", str(_config(db_url, tmp_path))])
    assert result.exit_code == 0, result.output
    (package,) = [json.loads(p.read_text()) for p in out.glob("*.json")]
    messages = package["report"]["evidence"]["messages"]
    flagged = [m for m in messages if m["flagged"] and m["role"] == "user"]  # (and the reply that replaced it)
    assert [m["text"] for m in flagged] == [GROOMING]
    assert flagged[0]["sentAt"].endswith("+00:00")
    assert package["report"]["incidentSummary"]["incidentDateTime"] <= flagged[0]["sentAt"]
