import base64
import json
import re
from pathlib import Path
from typing import Any

import pytest

from childsafe.hashing import load_hash_list
from childsafe.scan import ScanSettings, ScanUsageError, run_scan
from childsafe.scan.report import MANIFEST_KEYS
from childsafe.scan.worker import ItemScanner


def _settings(dataset: dict[str, Path], **kw: Any) -> ScanSettings:
    lists = [load_hash_list(dataset["pdq_list"]), load_hash_list(dataset["md5_list"])]
    return ScanSettings(lists=lists, **{"text": False, **kw})


def _manifest(out: Path) -> dict[str, dict[str, Any]]:
    rows = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    return {Path(r["path"]).name: r for r in rows}


def test_folder_scan_writes_every_output(dataset: dict[str, Path]) -> None:
    out = dataset["root"] / "out"
    res = run_scan([dataset["data"]], out, _settings(dataset), workers=1, progress=False)
    rows = _manifest(out)
    assert len(rows) == res.total == 13
    assert all(tuple(r) == MANIFEST_KEYS for r in rows.values())
    # edited copies of the known picture match the PDQ list (the mirrored one through the dihedral variants)
    for name in ("copy_resized.jpg", "copy_mirrored.png"):
        (m,) = rows[name]["matches"]
        assert m["list"] == "test-bank" and m["signal"] == "pdq" and m["distance"] <= 31
        assert rows[name]["action"] == "remove"
    (m,) = rows["exact.png"]["matches"]
    assert (m["list"], m["signal"], m["distance"]) == ("md5", "md5", 0)
    # bad input: recorded with a reason, the scan went on
    assert rows["zero.jpg"]["error"].startswith("empty_file")
    assert rows["truncated.jpg"]["error"].startswith("corrupt_image")
    assert rows["notes.bin"]["error"].startswith("unsupported_format")
    assert {r["action"] for n, r in rows.items() if r["status"] == "error"} == {"review"}
    assert res.errors == 3 and res.exit_code == 1
    assert rows["flat.png"]["status"] == "ok" and rows["flat.png"]["matches"] == []
    assert all(r["action"] == "keep" for n, r in rows.items() if n.startswith("ok"))
    assert all(isinstance(r["nudity"], float) and 0 <= r["nudity"] <= 1 for n, r in rows.items() if n.startswith("ok"))
    removed = {Path(p).name for p in (out / "remove.txt").read_text().split()}
    assert removed == {"copy_resized.jpg", "copy_mirrored.png", "exact.png"}
    # low PDQ quality recorded in hashes.jsonl, not matched
    hashes = {Path(h["path"]).name: h for h in map(json.loads, (out / "hashes.jsonl").read_text().splitlines())}
    assert hashes["flat.png"]["pdq_quality"] < 50 and hashes["flat.png"]["pdq_matchable"] is False
    # incident drafts for the three hash matches only, with hashes for the report
    drafts = [json.loads(p.read_text()) for p in (out / "incidents").glob("*.json")]
    assert len(drafts) == 3
    assert all(d["status"] == "draft_unconfirmed" and d["requires_human_confirmation"] for d in drafts)
    md5_draft = next(d for d in drafts if d["matches"][0]["signal"] == "md5")
    assert md5_draft["matches"][0]["list_metadata"] == {"case_id": "case-42"}
    assert set(md5_draft["content"][0]["hashes"]) == {"md5", "sha1", "sha256", "pdq"}
    summary = json.loads((out / "summary.json").read_text())
    assert summary["actions"] == {"remove": 3, "review": 3, "keep": 7}
    assert summary["hash_lists"][0]["invalid_lines"] == 1
    page = (out / "summary.html").read_text()
    pngs = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert len(pngs) == 4 and all(base64.b64decode(p).startswith(b"\x89PNG") for p in pngs)


def test_quarantine_moves_only_hash_matched_files(dataset: dict[str, Path]) -> None:
    q = dataset["root"] / "quarantine"
    run_scan([dataset["data"]], dataset["root"] / "out", _settings(dataset), workers=1, progress=False, quarantine=q)
    assert not (dataset["data"] / "exact.png").exists() and not (dataset["data"] / "copy_resized.jpg").exists()
    assert (dataset["data"] / "ok10.png").exists() and (dataset["data"] / "truncated.jpg").exists()
    log = [json.loads(line) for line in (q / "quarantine.jsonl").read_text().splitlines()]
    assert len(log) == 3 and all(Path(e["moved_to"]).is_file() for e in log)
    assert all(Path(e["moved_to"]).parent == q for e in log)


def test_resume_after_a_crash_skips_done_items(dataset: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    out = dataset["root"] / "out"
    calls: list[str] = []
    real = ItemScanner.scan_batch

    def crashing(self: ItemScanner, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if calls:
            raise KeyboardInterrupt  # the machine "dies" during the second batch
        calls.extend(i["key"] for i in items)
        return real(self, items)

    monkeypatch.setattr(ItemScanner, "scan_batch", crashing)
    with pytest.raises(KeyboardInterrupt):
        run_scan([dataset["data"]], out, _settings(dataset), workers=1, progress=False, batch_size=5)
    results = out / ".childsafe-scan" / "results.jsonl"
    with results.open("a") as fh:
        fh.write('{"key": "torn')  # a half-written line
    assert not (out / "manifest.jsonl").exists()
    with pytest.raises(ScanUsageError, match="--resume"):
        run_scan([dataset["data"]], out, _settings(dataset), workers=1, progress=False)
    seen: list[str] = []

    def counting(self: ItemScanner, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        seen.extend(i["key"] for i in items)
        return real(self, items)

    monkeypatch.setattr(ItemScanner, "scan_batch", counting)
    res = run_scan([dataset["data"]], out, _settings(dataset), workers=1, progress=False, resume=True, batch_size=5)
    assert res.resumed == 5 and res.scanned_now == 8 and res.total == 13
    assert not set(seen) & set(calls)
    assert len(_manifest(out)) == 13
    with pytest.raises(ScanUsageError, match="differ"):
        run_scan([dataset["data"]], out, _settings(dataset, pdq_threshold=20), workers=1, progress=False, resume=True)


def test_process_pool_gives_the_same_manifest(dataset: dict[str, Path]) -> None:
    run_scan([dataset["data"]], dataset["root"] / "one", _settings(dataset), workers=1, progress=False)
    run_scan([dataset["data"]], dataset["root"] / "two", _settings(dataset), workers=2, progress=False, batch_size=3)
    assert _manifest(dataset["root"] / "one") == _manifest(dataset["root"] / "two")


def test_manifest_and_shard_sources_with_text(
    dataset: dict[str, Path], make_tar: Any, write_jsonl: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import childsafe.scan.worker as worker

    def fake_check(engine: Any, texts: list[str], age: str, role: str) -> list[list[str]]:
        assert age == "10-12"
        return [["dangerous"] if "ladder" in t else (["sexual_minors"] if "secret" in t else []) for t in texts]

    monkeypatch.setattr(worker, "check_texts", fake_check)
    monkeypatch.setattr(worker.ItemScanner, "_engine_instance", lambda self: object())
    root = dataset["root"]
    m = write_jsonl(
        root / "m.jsonl",
        [
            {"image": "data/ok10.png", "caption": "a blue circle"},
            {"text": "climb the ladder with no hands"},
            {"text": "asks a 12-year-old for photos and to keep it secret"},
            {"image": "data/missing.png"},
        ],
    )
    shard = make_tar(
        root / "s.tar",
        [
            {"png": (dataset["data"] / "exact.png").read_bytes(), "txt": b"a caption"},
            {"jpg": b"\xff\xd8 broken"},
        ],
    )
    out = root / "out"
    res = run_scan([m, shard], out, _settings(dataset, text=True), workers=1, progress=False)
    rows = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    by = {r["path"]: r for r in rows}
    assert by[str(root / "data/ok10.png")]["action"] == "keep"
    assert by[f"{m}#L2"]["text_categories"] == ["dangerous"] and by[f"{m}#L2"]["action"] == "review"
    assert by[f"{m}#L3"]["text_categories"] == ["sexual_minors"] and by[f"{m}#L3"]["action"] == "remove"
    assert by[str(root / "data/missing.png")]["error"].startswith("missing_file")
    member = by[f"{shard}#shard/000000.png"]
    assert member["matches"][0]["signal"] == "md5" and member["action"] == "remove"
    assert by[f"{shard}#shard/000001.jpg"]["status"] == "error"
    assert res.exit_code == 1


def test_text_check_unavailable_fails_closed(
    dataset: dict[str, Path], write_jsonl: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import childsafe.scan.worker as worker

    def broken(self: worker.ItemScanner) -> None:
        self._engine_error = "ImportError: no engine"

    monkeypatch.setattr(worker.ItemScanner, "_engine_instance", broken)
    m = write_jsonl(dataset["root"] / "m.jsonl", [{"text": "hello"}])
    out = dataset["root"] / "out"
    res = run_scan([m], out, _settings(dataset, text=True), workers=1, progress=False)
    (row,) = _manifest(out).values()
    assert row["status"] == "error" and row["error"].startswith("text_check_unavailable")
    assert row["action"] == "review" and res.exit_code == 1


def test_real_engine_flags_dataset_text(dataset: dict[str, Path], write_jsonl: Any) -> None:
    pytest.importorskip("childsafe.engine")
    m = write_jsonl(dataset["root"] / "m.jsonl", [{"text": "how to make a bomb at home"}, {"text": "a cat on a mat"}])
    out = dataset["root"] / "out"
    run_scan([m], out, _settings(dataset, text=True), workers=1, progress=False)
    rows = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    assert "dangerous" in rows[0]["text_categories"] and rows[0]["action"] == "review"
    assert rows[1]["text_categories"] == [] and rows[1]["action"] == "keep"


def test_existing_output_is_not_overwritten(dataset: dict[str, Path]) -> None:
    out = dataset["root"] / "out"
    run_scan([dataset["data"]], out, _settings(dataset, nudity=False), workers=1, progress=False)
    with pytest.raises(ScanUsageError, match="already holds a scan"):
        run_scan([dataset["data"]], out, _settings(dataset, nudity=False), workers=1, progress=False)


def test_output_and_quarantine_inside_the_source_are_not_scanned(dataset: dict[str, Path]) -> None:
    data = dataset["data"]
    res = run_scan(
        [data], data / "scan-out", _settings(dataset), workers=1, progress=False, quarantine=data / "quarantine"
    )
    assert res.total == 13
    paths = [json.loads(x)["path"] for x in (data / "scan-out" / "manifest.jsonl").read_text().splitlines()]
    top = {Path(p).relative_to(data).parts[0] for p in paths}
    assert not top & {"scan-out", "quarantine"} and len(paths) == 13
