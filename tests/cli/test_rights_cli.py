"""`childsafe data ...` and `childsafe consent ...` against a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
import yaml
from sqlalchemy import text
from typer.testing import CliRunner

from childsafe.cli import data_cmd
from childsafe.privacy.rights import load_export
from childsafe.privacy.service import PrivacyServices
from childsafe.store import ConversationRecord, Store
from childsafe.store.crypto import load_master_key
from childsafe.store.testing import isolated_database

PG_URL = os.environ.get("CHILDSAFE_TEST_PG_URL")
PG = pytest.param(
    "postgresql",
    marks=[pytest.mark.postgres, pytest.mark.skipif(not PG_URL, reason="CHILDSAFE_TEST_PG_URL is not set")],
)
RUNNER = CliRunner()


def _cli() -> typer.Typer:
    app = typer.Typer()

    @app.command("version")
    def _version() -> None:  # a second command keeps typer from collapsing the app into one command
        typer.echo("x")

    data_cmd.register(app)
    return app


APP = _cli()


@pytest.fixture(params=["sqlite", PG])
def setup(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Path, str]]:
    with isolated_database(request.param, tmp_path, PG_URL) as url:
        cfg = tmp_path / "childsafe.yaml"
        cfg.write_text(
            yaml.safe_dump({"store": {"url": url, "data_dir": str(tmp_path / "data"), "store_messages": True}})
        )
        store = Store.open(url, tmp_path / "data", store_messages=True)
        app = store.apps.ensure("app", "k", 10)
        child = store.children.get_or_create(app.id, "kid", "10-12").id
        store.conversations.save(ConversationRecord("conv-1", app.id, child, None, 1, False))
        s = PrivacyServices(store, load_master_key(None, tmp_path / "data"))
        s.message_vault(30).put("conv-1", "user", "my hamster is Nibbles", None)
        store.close()
        yield cfg, child


def run(*args: str) -> tuple[int, str]:
    result = RUNNER.invoke(APP, list(args))
    return result.exit_code, result.output


def test_consent_commands(setup: tuple[Path, str]) -> None:
    cfg, child = setup
    code, out = run("consent", "guardian-add", "Parent", "--child", child, "-c", str(cfg))
    assert code == 0, out
    guardian = json.loads(out)
    assert guardian["token"].startswith("gdn_") and guardian["children"] == [child]
    gid = guardian["guardian_id"]

    code, out = run("consent", "grant", child, "safety_checking", "--guardian", gid, "-c", str(cfg))
    assert code == 2 and "child_assent" in out  # an 11-year-old is asked too
    code, out = run("consent", "grant", child, "safety_checking", "--guardian", gid, "--assent", "-c", str(cfg))
    assert code == 0 and json.loads(out)["granted"] is True
    code, out = run("consent", "withdraw", child, "safety_checking", "--guardian", gid, "-c", str(cfg))
    assert code == 0
    code, out = run("consent", "show", child, "-c", str(cfg))
    shown = json.loads(out)
    assert shown["purposes"]["safety_checking"] is False
    assert [h["granted"] for h in shown["history"]] == [True, False]

    url = yaml.safe_load(cfg.read_text())["store"]["url"]
    store = Store.open(url, cfg.parent / "data")
    try:
        with store.engine.connect() as c:
            rows = c.execute(text("SELECT data FROM audit_events WHERE subject = :c"), {"c": child}).scalars().all()
    finally:
        store.close()
    logged = [json.loads(r)["event"] if isinstance(r, str) else r["event"] for r in rows]
    assert logged == ["guardian.linked", "consent.granted", "consent.withdrawn"]  # the CLI writes the audit chain

    code, out = run("consent", "grant", child, "advertising", "--guardian", gid, "-c", str(cfg))
    assert code == 2 and "unknown consent purpose 'advertising'" in out
    code, out = run("consent", "grant", child, "analytics", "--guardian", "gd_other", "--assent", "-c", str(cfg))
    assert code == 2 and "is not the guardian" in out


def test_export_erase_purge(setup: tuple[Path, str], tmp_path: Path) -> None:
    cfg, child = setup
    out_json, out_md = tmp_path / "export.json", tmp_path / "export.md"
    code, out = run("data", "export", child, "--out", str(out_json), "--summary", str(out_md), "-c", str(cfg))
    assert code == 0, out
    data = load_export(out_json.read_text())
    assert [m["text"] for m in data["messages"]] == ["my hamster is Nibbles"]
    assert "my hamster is Nibbles" in out_md.read_text()
    code, stdout_json = run("data", "export", child, "-c", str(cfg))
    assert code == 0 and load_export(stdout_json)["child"] == data["child"]

    code, out = run("data", "rectify", child, "--age", "14", "-c", str(cfg))
    assert code == 0 and "13-15" in out

    code, out = run("data", "erase", child, "-c", str(cfg))
    assert code == 2 and "--yes" in out
    code, out = run("data", "erase", child, "--yes", "-c", str(cfg))
    assert code == 0 and json.loads(out)["key_destroyed"] is True
    code, out = run("data", "export", child, "-c", str(cfg))
    assert code == 2 and "no stored child" in out

    code, out = run("data", "purge", "-c", str(cfg))
    assert code == 0 and set(json.loads(out)["deleted"]) == {
        "messages",
        "decisions",
        "conversations",
        "usage",
        "upstream_errors",
    }


def test_bad_input_exits_2(tmp_path: Path) -> None:
    code, out = run("data", "export", "ch_x", "-c", str(tmp_path / "missing.yaml"))
    assert code == 2 and "config file not found" in out
    code, out = run("data", "export", "ch_x", "--format", "xml")
    assert code == 2 and "--format" in out
