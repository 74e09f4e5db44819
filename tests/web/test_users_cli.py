"""`childsafe users ...` (typer's CliRunner) against the same database a running gateway serves: accounts made
on the command line log in to the real pages, and disabling or resetting one ends its sessions at once."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import typer
import yaml
from sqlalchemy import select
from typer.testing import CliRunner

from childsafe.cli import users_cmd
from childsafe.store.schema import Base

from .conftest import API_KEY, Site
from .test_pages import csrf_of


def cli() -> typer.Typer:
    app = typer.Typer(pretty_exceptions_enable=False)
    users_cmd.register(app)
    return app


def config_for(site: Site, tmp_path: Path) -> Path:
    """A config naming the site's own database, data folder and app (as an operator's gateway.yaml would)."""
    path = tmp_path / "gateway.yaml"
    url = site.store.engine.url.render_as_string(hide_password=False)
    path.write_text(
        yaml.safe_dump(
            {
                "store": {"url": url, "data_dir": str(tmp_path / "data")},
                "server": {"apps": [{"name": "web-app", "key": API_KEY}, {"name": "other-app", "key": "sk-other"}]},
            }
        )
    )
    return path


def run(config: Path, *args: str, input: str | None = None) -> Any:
    return CliRunner().invoke(cli(), ["users", *args, "--config", str(config)], input=input)


def ok(config: Path, *args: str, input: str | None = None) -> Any:
    res = run(config, *args, input=input)
    assert res.exit_code == 0, res.output
    return res


def refused(config: Path, *args: str, input: str | None = None) -> str:
    res = run(config, *args, input=input)
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    return str(res.output)


def login(site: Site, username: str, password: str) -> tuple[httpx.Client, int]:
    c = httpx.Client(base_url=site.url, trust_env=False, timeout=10)
    page = c.get("/login")
    r = c.post("/login", data={"csrf": csrf_of(page.text), "username": username, "password": password})
    return c, r.status_code


def test_add_moderator_with_prompted_password_then_log_in(site: Site, tmp_path: Path) -> None:
    config = config_for(site, tmp_path)
    too_short = refused(config, "add", "mo", "--role", "moderator", input="short-pw\nshort-pw\n")
    assert "at least 12 characters" in too_short and "short-pw" not in too_short
    # a mismatch is asked again; the password is never echoed
    res = ok(
        config,
        "add",
        "mo",
        "--role",
        "moderator",
        input="first-password-1\nother-password-1\n" + "mod-password-22\n" * 2,
    )
    assert "Passwords need at least 12 characters" in res.output and "do not match" in res.output
    assert "password-1" not in res.output and "mod-password-22" not in res.output
    _, status = login(site, "mo", "other-password-1")
    assert status == 401
    client, status = login(site, "mo", "mod-password-22")
    assert status == 303 and client.get("/review").status_code == 200
    assert "already exists" in refused(config, "add", "mo", "--role", "admin", "--password", "admin-password-1")


def test_bad_input_is_named_without_a_traceback(site: Site, tmp_path: Path) -> None:
    config = config_for(site, tmp_path)
    pw = ("--password", "a-good-password-1")
    assert "role must be one of admin, moderator, guardian" in refused(config, "add", "x", "--role", "root", *pw)
    assert "username must be" in refused(config, "add", "bad name", "--role", "admin", *pw)
    assert "--role guardian only" in refused(config, "add", "x", "--role", "admin", "--app", "web-app", *pw)
    needs = refused(config, "add", "x", "--role", "guardian", *pw)
    assert "--guardian GUARDIAN_ID" in needs and "--app APP" in needs
    unknown_app = refused(config, "add", "x", "--role", "guardian", "--app", "nope", *pw)
    assert "no app named 'nope'" in unknown_app and "web-app" in unknown_app
    assert "no guardian record with id 'gd_nope'" in refused(
        config, "add", "x", "--role", "guardian", "--guardian", "gd_nope", *pw
    )
    assert "no account named 'ghost'" in refused(config, "disable", "ghost")
    assert "no account named 'ghost'" in refused(config, "reset-password", "ghost", "--password", "a-good-password-1")
    missing = CliRunner().invoke(cli(), ["users", "list", "--config", str(tmp_path / "missing.yaml")])
    assert missing.exit_code == 2 and "config file not found" in missing.output
    assert site.app.state.web.users.accounts() == []  # nothing half-made


def test_guardian_login_is_tied_to_a_guardian_record_of_the_app(site: Site, tmp_path: Path) -> None:
    config = config_for(site, tmp_path)
    res = ok(
        config, "add", "mum", "--role", "guardian", "--app", "web-app", "--name", "Mum", "--password", "mum-password-12"
    )
    guardian_id = next(a.guardian_id for a in site.app.state.web.users.accounts() if a.username == "mum")
    assert guardian_id is not None and guardian_id in res.output and "/children" in res.output
    record = site.app.state.privacy.guardians.get(guardian_id)
    assert record is not None and record.app_id == site.app_id and record.display_name == "Mum"
    # the app links its child to the guardian; the guardian's page then shows that child
    r = httpx.post(
        site.url + f"/v1/guardians/{guardian_id}/children",
        json={"user": "kid-web"},
        headers={"Authorization": f"Bearer {API_KEY}"},
        trust_env=False,
    )
    assert r.status_code == 201, r.text
    client, status = login(site, "mum", "mum-password-12")
    assert status == 303
    assert f"/guardian/children/{site.child_id}" in client.get("/guardian").text
    # a second login for the same record (the other parent), and a record of another app refused
    ok(
        config,
        "add",
        "dad",
        "--role",
        "guardian",
        "--guardian",
        guardian_id,
        "--app",
        "web-app",
        "--password",
        "dad-password-12",
    )
    other = refused(
        config,
        "add",
        "x",
        "--role",
        "guardian",
        "--guardian",
        guardian_id,
        "--app",
        "other-app",
        "--password",
        "x-password-1234",
    )
    assert "belongs to another app" in other


def test_list_disable_and_reset_password(site: Site, tmp_path: Path) -> None:
    config = config_for(site, tmp_path)
    ok(config, "add", "mo", "--role", "moderator", "--password", "mod-password-22")
    ok(config, "add", "boss", "--role", "admin", "--password", "boss-password-1")
    listed = ok(config, "list").output
    assert "USERNAME" in listed and "mo" in listed and "moderator" in listed and "$argon2" not in listed
    rows = [json.loads(line) for line in ok(config, "list", "--json").output.splitlines()]
    assert [(r["username"], r["role"], r["disabled"]) for r in rows] == [
        ("mo", "moderator", False),
        ("boss", "admin", False),
    ]
    assert all(set(r) == {"username", "role", "guardian_id", "disabled", "created"} for r in rows)

    client, status = login(site, "mo", "mod-password-22")
    assert status == 303 and client.get("/review").status_code == 200
    ok(config, "disable", "mo")
    assert client.get("/review").status_code == 303  # the open session ended with the account
    assert login(site, "mo", "mod-password-22")[1] == 401
    assert [r["disabled"] for r in map(json.loads, ok(config, "list", "--json").output.splitlines())] == [True, False]
    ok(config, "enable", "mo")

    client, status = login(site, "mo", "mod-password-22")
    assert status == 303
    assert "at least 12" in refused(config, "reset-password", "mo", input="tiny\ntiny\n")
    ok(config, "reset-password", "mo", input="new-mod-password-3\nnew-mod-password-3\n")
    assert client.get("/review").status_code == 303  # a new password ends the sessions of the old one
    assert login(site, "mo", "mod-password-22")[1] == 401
    assert login(site, "mo", "new-mod-password-3")[1] == 303

    events = [r for r in site.oversight.audit.records() if r.data.get("event", "").startswith("account.")]
    assert [r.data["event"] for r in events] == [
        "account.created",
        "account.created",
        "account.disabled",
        "account.enabled",
        "account.password_reset",
    ]
    assert all(r.actor == "operator:cli" for r in events)
    assert not any("password-" in json.dumps(r.data) for r in events)
    users = Base.metadata.tables["web_users"]
    with site.store.engine.connect() as c:
        hashes = [h for (h,) in c.execute(select(users.c.password_hash))]
    assert all(h.startswith("$argon2id$") for h in hashes)
