"""Issue #17, item 9: removing the newest audit events is detected, by checkpoints shipped out of the database.

Without them, deleting the last rows of ``audit_events`` (and of ``audit_checkpoints``) leaves a shorter chain
that verifies cleanly. The gateway appends each signed checkpoint to ``audit.checkpoint_dir`` (here a folder
outside the data folder), and ``childsafe audit verify`` compares the log with the newest one.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from sqlalchemy import text
from typer.testing import CliRunner

from childsafe.audit.checkpoints import CHECKPOINT_FILE
from childsafe.cli.audit_cmd import register
from childsafe.engine import Engine
from childsafe.gateway import create_app
from childsafe.store import Store

from .conftest import API_KEY, HTTP, FakeUpstream, ServerThread, make_config

AUTH = {"Authorization": f"Bearer {API_KEY}"}


class Running:
    def __init__(self, app: Any, store: Store) -> None:
        self.app, self.store = app, store
        self.server = ServerThread(app).__enter__()

    def moderate(self, n: int) -> None:
        for i in range(n):
            r = HTTP.post(self.server.url + "/v1/moderations", json={"input": f"octopus fact {i}"}, headers=AUTH)
            assert r.status_code == 200, r.text

    def stop(self) -> None:
        self.server.__exit__()
        self.store.close()


@pytest.fixture
def start(db_url: str, tmp_path: Path, upstream: tuple[FakeUpstream, str], shared_engine: Engine) -> Iterator[Any]:
    running: list[Running] = []

    def go(**audit: Any) -> Running:
        config = make_config(db_url, tmp_path, upstream[1])
        for name, value in audit.items():
            setattr(config.audit, name, value)
        store = Store.from_config(config.store)
        gw = Running(create_app(config, engine=shared_engine, store=store), store)
        running.append(gw)
        return gw

    yield go
    for gw in running:
        if gw.server.thread.is_alive():
            gw.stop()
    shared_engine.sinks.clear()


def shipped(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def verify(db_url: str, tmp_path: Path, outside: Path) -> Any:
    cli = typer.Typer()
    register(cli)
    config = tmp_path / "cfg.yaml"
    config.write_text(
        f"store:\n  url: '{db_url}'\n  data_dir: '{tmp_path / 'data'}'\naudit:\n  checkpoint_dir: '{outside}'\n"
    )
    return CliRunner().invoke(cli, ["audit", "verify", "--config", str(config)])


def test_removing_the_newest_audit_events_is_reported_as_truncation(start: Any, db_url: str, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"  # not under the data folder
    gw = start(checkpoint_every=5, checkpoint_dir=str(outside))
    gw.moderate(12)
    gw.stop()  # the shutdown ships a last checkpoint over every event
    lines = shipped(outside / CHECKPOINT_FILE)
    assert lines and lines[-1]["seq"] >= 12
    assert (outside / CHECKPOINT_FILE).stat().st_mode & 0o777 == 0o600
    newest = lines[-1]["seq"]
    ok = verify(db_url, tmp_path, outside)
    assert ok.exit_code == 0, ok.output
    assert f"newest at event #{newest}" in ok.output

    store = Store.open(db_url, tmp_path / "data")
    with store.engine.begin() as c:  # drop the last three events and the checkpoints that named them
        c.execute(text("DELETE FROM audit_events WHERE seq > :k"), {"k": newest - 3})
        c.execute(text("DELETE FROM audit_checkpoints WHERE seq > :k"), {"k": newest - 3})
    store.close()
    bad = verify(db_url, tmp_path, outside)
    assert bad.exit_code == 1, bad.output
    assert "truncated" in bad.output and f"ends at event #{newest - 3}" in bad.output
    assert f"#{newest - 2}..#{newest}" in bad.output


def test_the_gateway_signs_and_ships_the_newest_event_every_few_minutes(start: Any, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    # never by count here (1000 events): only the timer can produce the checkpoint
    gw = start(checkpoint_every=1000, checkpoint_minutes=0.01, checkpoint_dir=str(outside))
    gw.moderate(3)
    assert gw.app.state.gateway.sink.flush() and gw.app.state.oversight.sink.flush()
    deadline = time.monotonic() + 15
    # a tick may have shipped an older head while the decisions were being written: wait for a newer one
    while not _covers(shipped(outside / CHECKPOINT_FILE), 3) and time.monotonic() < deadline:
        time.sleep(0.1)
    lines = shipped(outside / CHECKPOINT_FILE)
    assert lines, "no checkpoint was shipped while the gateway ran"
    assert lines[-1]["seq"] >= 3  # the disclosure/consent events may add to the three decisions
    assert gw.server.thread.is_alive()  # shipped while running, not by the shutdown


def _covers(lines: list[dict[str, Any]], seq: int) -> bool:
    return bool(lines) and int(lines[-1]["seq"]) >= seq
