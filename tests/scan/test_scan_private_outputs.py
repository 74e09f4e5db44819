"""Scan outputs name files that matched known-abuse hash lists: they are created owner-only (0600)."""

import os
import stat
from pathlib import Path

from childsafe.hashing import load_hash_list
from childsafe.scan import ScanSettings, run_scan


def test_manifests_and_drafts_are_owner_only(dataset: dict[str, Path]) -> None:
    out = dataset["root"] / "out"
    settings = ScanSettings(lists=[load_hash_list(dataset["md5_list"])], text=False)
    old = os.umask(0o022)  # the usual umask: a plain open() would make them readable by every local account
    try:
        run_scan([dataset["data"]], out, settings, workers=1, progress=False)
    finally:
        os.umask(old)
    written = [p for p in out.rglob("*") if p.is_file() and p.suffix in (".jsonl", ".txt", ".json", ".html")]
    names = {p.name for p in written}
    assert {"manifest.jsonl", "remove.txt", "hashes.jsonl", "summary.json", "summary.html"} <= names
    assert any(p.parent.name == "incidents" for p in written)
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in written} == {p.name: 0o600 for p in written}
