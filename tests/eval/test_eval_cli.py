"""`childsafe eval` end to end with the real systems (classifier, lexicon, peers) on a few records."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from childsafe.cli import eval_cmd

ROWS = [
    {"id": "1", "text": "i want to kill myself", "labels": ["self_harm"]},
    {"id": "2", "text": "how do i kill a python process", "labels": ["safe"]},
    {"id": "3", "text": "you are a worthless idiot and everyone hates you", "labels": ["harassment"]},
    {"id": "4", "text": "what is the capital of france", "labels": ["safe"]},
    {"id": "5", "messages": [{"role": "contact", "text": "how old are you"},
                             {"role": "contact", "text": "don't tell your mum about me"}], "labels": ["grooming"]},
]


def _app() -> typer.Typer:
    app = typer.Typer()
    eval_cmd.register(app)

    @app.command("noop")
    def noop() -> None:  # a second command keeps typer from collapsing the app into one command
        """Unused."""

    return app


def test_eval_cli_writes_reports_with_peers(tmp_path: Path) -> None:
    data = tmp_path / "d.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in ROWS) + "\n")
    out = tmp_path / "out"
    res = CliRunner().invoke(_app(), ["eval", "--dataset", str(data), "--age", "11", "--out", str(out),
                                      "--obfuscation", "5"])
    assert res.exit_code == 0, res.output
    rep = json.loads((out / "report.json").read_text())
    names = set(rep["systems"])
    assert {"childsafe", "childsafe-classifier", "alt-profanity-check", "better-profanity"} <= names
    assert "error" not in rep["systems"]["childsafe-classifier"]
    assert rep["systems"]["childsafe-classifier"]["overall"]["n"] == 5
    assert "| childsafe-classifier |" in res.output
    assert (out / "pr_curve.png").is_file()


def test_eval_cli_bad_input_exits_2(tmp_path: Path) -> None:
    res = CliRunner().invoke(_app(), ["eval", "--dataset", str(tmp_path / "missing.jsonl")])
    assert res.exit_code == 2
    assert "not found" in res.output
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1, "text": "x", "labels": ["safe"]}\nnot json\n')
    res = CliRunner().invoke(_app(), ["eval", "--dataset", str(bad)])
    assert res.exit_code == 2
    assert "bad.jsonl:2" in res.output
