import json
import subprocess
import sys
from pathlib import Path

import pytest

from childsafe.types import Category

CLI = [sys.executable, "-m", "childsafe.cli.main"]


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def test_check_text_json_record() -> None:
    r = run("check", "you are a loser and nobody likes you", "--age", "11", "--json")
    assert r.returncode == 0, r.stderr
    rec = json.loads(r.stdout)
    assert set(rec) == {"action", "categories", "scores", "reasons"}
    assert rec["action"] == "block" and "harassment" in rec["categories"]
    assert rec["scores"]["harassment"] >= 0.9 and rec["scores"]["harassment"] == max(rec["scores"].values())
    assert set(rec["scores"]) == {c.value for c in Category}


def test_check_text_human() -> None:
    r = run("check", "how do I stop being bullied?", "--age", "10-12")
    assert r.returncode == 0 and "action: allow" in r.stdout


def test_check_file_texts_and_messages(tmp_path: Path) -> None:
    inp = tmp_path / "in.jsonl"
    lines = [
        {"id": 1, "text": "hello"},
        {"id": "b", "text": "i want to kill myself"},
        {"id": 3, "messages": [
            {"role": "contact", "text": "hi"},
            {"role": "user", "text": "hi"},
            {"role": "contact", "text": "this is our secret, dont tell your mom"},
        ]},
        {"id": 4, "text": "x" * 150_000},
    ]
    inp.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    out = tmp_path / "out.jsonl"
    r = run("check", "--file", str(inp), "--out", str(out), "--age", "12")
    assert r.returncode == 0, r.stderr
    recs = [json.loads(x) for x in out.read_text().splitlines()]
    assert [x["id"] for x in recs] == [1, "b", 3, 4]
    assert recs[0]["action"] == "allow" and recs[1]["action"] == "escalate"
    assert recs[2]["first_flag_index"] == 2 and "first_flag_index" not in recs[0]
    assert all(set(x["scores"]) == {c.value for c in Category} for x in recs)


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ('{"id": 1, "text": "ok"}\n{"id": 2, "text": \n', "line 2: invalid JSON"),
        ('{"id": 1}\n', "line 1: record has neither 'text' nor 'messages'"),
        ('{"id": 1, "messages": [{"role": "teacher", "text": "x"}]}\n', "line 1: unknown role 'teacher'"),
        ('[1, 2]\n', "line 1: a record must be a JSON object"),
        ('{"id": 1, "text": 5}\n', "line 1: 'text' must be a string"),
        ('{"id": 1, "text": "a", "age": "old"}\n', "line 1: unknown age 'old'"),
    ],
)
def test_bad_records_exit_2_naming_the_line(tmp_path: Path, content: str, needle: str) -> None:
    inp = tmp_path / "in.jsonl"
    inp.write_text(content)
    out = tmp_path / "out.jsonl"
    out.write_text("previous results\n")
    r = run("check", "--file", str(inp), "--out", str(out))
    assert r.returncode == 2
    assert needle in r.stderr and "Traceback" not in r.stderr
    assert out.read_text() == "previous results\n"  # an earlier output is never lost


def test_skip_invalid_records_and_continues(tmp_path: Path) -> None:
    inp = tmp_path / "in.jsonl"
    inp.write_text('{"id": 1, "text": "hi"}\nnot json\n{"id": 3, "text": "bye"}\n')
    out = tmp_path / "out.jsonl"
    r = run("check", "--file", str(inp), "--out", str(out), "--skip-invalid")
    assert r.returncode == 0, r.stderr
    assert [json.loads(x)["id"] for x in out.read_text().splitlines()] == [1, 3]
    errs = [json.loads(x) for x in (tmp_path / "out.jsonl.errors.jsonl").read_text().splitlines()]
    assert errs[0]["line"] == 2


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["check", "hi", "--age", "eleven"], "unknown age 'eleven'"),
        (["check", "hi", "--role", "teacher"], "unknown role 'teacher'"),
        (["check", "--file", "/nonexistent/in.jsonl", "--out", "o.jsonl"], "input file not found"),
        (["check", "--file", "in.jsonl"], "--file needs --out"),
        (["check"], "give a TEXT"),
    ],
)
def test_usage_errors(args: list[str], needle: str, tmp_path: Path) -> None:
    r = run(*args, cwd=tmp_path)
    assert r.returncode == 2
    assert needle in r.stderr and "Traceback" not in r.stderr


def test_unreadable_and_non_utf8_files(tmp_path: Path) -> None:
    inp = tmp_path / "in.jsonl"
    inp.write_bytes(b'{"id": 1, "text": "\xff\xfe"}\n')
    r = run("check", "--file", str(inp), "--out", str(tmp_path / "o.jsonl"))
    assert r.returncode == 2 and "line 1: not valid UTF-8" in r.stderr
    r = run("check", "--file", str(tmp_path), "--out", str(tmp_path / "o.jsonl"))
    assert r.returncode == 2 and "is a directory" in r.stderr


def test_config_validate(tmp_path: Path) -> None:
    good = tmp_path / "c.yaml"
    good.write_text("engine:\n  default_age: '13-15'\n")
    assert run("config", "validate", str(good)).returncode == 0
    bad = tmp_path / "b.yaml"
    bad.write_text("engine:\n  default_age: '13-15'\n  detector_timeout: 3\n")
    r = run("config", "validate", str(bad))
    assert r.returncode == 2 and "engine.detector_timeout (line 3): unknown key" in r.stderr


def test_check_file_role_is_the_default_for_text_records(tmp_path: Path) -> None:
    inp = tmp_path / "in.jsonl"
    asked = "what school do you go to?"  # a contact asking a child is blocked; the child's own words are redacted
    lines = [{"id": 1, "text": asked}, {"id": 2, "text": asked, "role": "child"}]
    inp.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    out = tmp_path / "out.jsonl"
    r = run("check", "--file", str(inp), "--out", str(out), "--age", "11", "--role", "contact")
    assert r.returncode == 0, r.stderr
    recs = {x["id"]: x for x in map(json.loads, out.read_text().splitlines())}
    assert recs[1]["action"] == "block" and recs[2]["action"] == "redact"


def test_config_validate_names_a_missing_model_folder(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "conversation:\n"
        f"  model_dir: {tmp_path / 'nowhere'}\n"
        "detectors:\n"
        "  lexicon: {}\n"
        "  classifier:\n"
        f"    model_dir: {empty}\n"
    )
    r = run("config", "validate", str(cfg))
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert "conversation.model_dir (line 2): model folder not found" in r.stderr
    assert "detectors.classifier.model_dir (line 6): no model in" in r.stderr and "classifier.json" in r.stderr
    from childsafe.detectors.classifier import MODELS_DIR  # the shipped model: a folder with a model is valid

    cfg.write_text(f"detectors:\n  classifier:\n    model_dir: {MODELS_DIR}\n")
    r = run("config", "validate", str(cfg))
    assert r.returncode == 0, r.stderr
