import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from childsafe.cli.scan_cmd import register

app = typer.Typer()
register(app)


@app.command("version")
def _version() -> None:  # a second command keeps typer in multi-command mode, as in the real CLI
    pass


runner = CliRunner()


def test_scan_exit_codes_and_outputs(dataset: dict[str, Path]) -> None:
    out = dataset["root"] / "out"
    args = [
        "scan",
        str(dataset["data"]),
        "--out",
        str(out),
        "--hash-list",
        str(dataset["pdq_list"]),
        "--hash-list",
        str(dataset["md5_list"]),
        "--workers",
        "1",
        "--no-progress",
        "--no-nudity",
    ]
    res = runner.invoke(app, args)
    assert res.exit_code == 1, res.output  # bad files in the folder: errors occurred
    assert "remove 3, review 3, keep 7" in res.output
    assert "line 4" in res.output and "not-a-hash" in res.output  # invalid list line reported with its number
    clean = dataset["root"] / "clean"
    clean.mkdir()
    (clean / "a.png").write_bytes((dataset["data"] / "ok10.png").read_bytes())
    res = runner.invoke(
        app,
        ["scan", str(clean), "--out", str(dataset["root"] / "o2"), "--workers", "1", "--no-progress", "--no-nudity"],
    )
    assert res.exit_code == 0, res.output
    row = json.loads((dataset["root"] / "o2" / "manifest.jsonl").read_text())
    assert row["action"] == "keep" and row["nudity"] is None


def test_usage_errors_exit_2_without_traceback(dataset: dict[str, Path]) -> None:
    base = ["scan", str(dataset["data"]), "--out", str(dataset["root"] / "o"), "--no-progress"]
    cases = [
        (["scan", str(dataset["root"] / "nope"), "--out", str(dataset["root"] / "o")], "does not exist"),
        ([*base, "--hash-list", str(dataset["root"] / "missing.txt")], "does not exist"),
        ([*base, "--engine", "spark"], "--engine must be local or ray"),
        ([*base, "--workers", "0"], "--workers must be at least 1"),
        ([*base, "--age", "grown-up"], "unknown age"),
        ([*base, "--pdq-threshold", "300"], "between 0 and 255"),
    ]
    sha_list = dataset["root"] / "lists" / "ambiguous.txt"
    sha_list.write_text("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n")
    cases.append(([*base, "--hash-list", str(sha_list)], "PDQ or SHA-256"))
    for args, message in cases:
        res = runner.invoke(app, args)
        assert res.exit_code == 2, (args, res.output)
        assert message in " ".join(res.output.split()), res.output
        assert "Traceback" not in res.output


def test_hashlist_build_and_validate(dataset: dict[str, Path]) -> None:
    out = dataset["root"] / "built.csv"
    res = runner.invoke(
        app,
        [
            "hashlist",
            "build",
            str(dataset["data"]),
            "--out",
            str(out),
            "--name",
            "mine",
            "--version",
            "3",
            "--source",
            "unit test",
        ],
    )
    assert res.exit_code == 1  # the folder holds unreadable files, reported and skipped
    assert "skipped" in res.output
    res = runner.invoke(app, ["hashlist", "validate", str(out), "--json"])
    assert res.exit_code == 0, res.output
    info = json.loads(res.output)
    assert info["name"] == "mine" and info["version"] == "3" and info["provenance"]["source"] == "unit test"
    assert info["by_signal"]["md5"] == 10 and info["by_signal"]["pdq"] == 9  # flat.png: quality too low for PDQ
    res = runner.invoke(app, ["hashlist", "validate", f"pdq:{dataset['pdq_list']}"])
    assert res.exit_code == 1 and "line 4" in res.output
