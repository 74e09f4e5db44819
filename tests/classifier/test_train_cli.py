"""`childsafe train` argument errors are clear and exit 2 (the full run is covered by the slow test)."""

from __future__ import annotations

from pathlib import Path

import typer
from typer.testing import CliRunner

from childsafe.cli import train_cmd


def _app() -> typer.Typer:
    app = typer.Typer()
    train_cmd.register(app)

    @app.command("noop")
    def noop() -> None:  # keeps typer from collapsing a one-command app
        """Unused."""

    return app


def test_missing_shared_folder_exits_2(tmp_path: Path) -> None:
    res = CliRunner().invoke(_app(), ["train", "--out", str(tmp_path / "o"), "--shared", str(tmp_path / "nope")])
    assert res.exit_code == 2
    assert "shared data sets folder not found" in res.output


def test_bad_mode_exits_2(tmp_path: Path) -> None:
    res = CliRunner().invoke(_app(), ["train", "--out", str(tmp_path / "o"), "--mode", "magic"])
    assert res.exit_code == 2
    assert "--mode must be" in res.output


def test_missing_seed_file_exits_2(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    res = CliRunner().invoke(_app(), ["train", "--out", str(tmp_path / "o"), "--shared", str(shared),
                                      "--seed", str(tmp_path / "seed.jsonl")])
    assert res.exit_code == 2
    assert "seed corpus not found" in res.output


def test_bad_source_weight_exits_2(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    for bad in ("toxicchat_train", "toxicchat_train=lots", "toxicchat_train=-1"):
        res = CliRunner().invoke(_app(), ["train", "--out", str(tmp_path / "o"), "--shared", str(shared),
                                          "--source-weight", bad])
        assert res.exit_code == 2, bad
        assert "--source-weight takes NAME=NUMBER" in res.output


def test_missing_written_folder_exits_2(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    res = CliRunner().invoke(_app(), ["train", "--out", str(tmp_path / "o"), "--shared", str(shared),
                                      "--written", str(tmp_path / "nope")])
    assert res.exit_code == 2
    assert "written corpus folder not found" in res.output


def test_grooming_mode_names_the_missing_transcripts(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    res = CliRunner().invoke(_app(), ["train", "--grooming", "--out", str(tmp_path / "o"), "--shared", str(shared)])
    assert res.exit_code == 2
    assert "grooming_perverted_justice_train" in res.output
