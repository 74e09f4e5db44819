"""Every file the README names exists, and the samples in examples/ work with the commands that name them."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from childsafe.eval.run import read_records

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
CLI = [sys.executable, "-m", "childsafe.cli.main"]

_REPO_PATH = re.compile(r"(?<![\w/.])((?:examples|docs|bench|src)/[\w./-]*[\w/])")
# the file arguments of the commands shown: inputs must exist; UPPERCASE words are placeholders for yours
_INPUT = re.compile(
    r"(?:--file|--dataset|--config|--hash-list|config validate|load_config\()\s*\(?[\"']?(?:pdq:)?([\w./-]+)"
)


def _is_placeholder(arg: str) -> bool:
    return Path(arg).stem.isupper() or arg.isupper()


def test_every_path_the_readme_names_exists() -> None:
    paths = set(_REPO_PATH.findall(README))
    assert any(p.startswith("examples/") for p in paths)
    missing = sorted(p for p in paths if not (ROOT / p).exists())
    assert missing == []


def test_every_input_file_of_a_readme_command_is_shipped() -> None:
    inputs = {a for a in _INPUT.findall(README) if not _is_placeholder(a)}
    assert {"examples/in.jsonl", "examples/gateway.yaml", "examples/dataset.jsonl"} <= inputs
    assert sorted(a for a in inputs if not (ROOT / a).is_file()) == []
    assert all(a.startswith(("examples/", "src/")) for a in inputs), inputs


def test_the_samples_run(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    r = subprocess.run(
        [*CLI, "check", "--file", "examples/in.jsonl", "--out", str(out), "--age", "12"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert r.returncode == 0, r.stderr
    actions = {rec["id"]: rec["action"] for rec in map(json.loads, out.read_text().splitlines())}
    assert actions["t1"] == "allow" and actions["t2"] == "block" and actions["c1"] in ("escalate", "report")
    r = subprocess.run([*CLI, "config", "validate", "examples/gateway.yaml"], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    r = subprocess.run(
        [*CLI, "hashlist", "validate", "pdq:examples/hashes.pdq.txt"], cwd=ROOT, capture_output=True, text=True
    )
    assert r.returncode == 0 and "2 hashes" in r.stdout, r.stdout + r.stderr
    records = read_records(ROOT / "examples" / "dataset.jsonl")
    assert any(rec.safe for rec in records) and any(rec.unsafe for rec in records)
