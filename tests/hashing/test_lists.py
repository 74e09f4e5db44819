import json
from pathlib import Path

import pytest

from childsafe.hashing import (
    HashEntry,
    HashListError,
    get_signal_type,
    load_hash_list,
    parse_hash_list,
    parse_list_spec,
    write_hash_list,
)

PDQ = get_signal_type("pdq").examples()
MD5 = get_signal_type("md5").examples()
SHA = get_signal_type("sha256").examples()


def test_plain_list_with_provenance_header_and_bad_lines(tmp_path: Path) -> None:
    p = tmp_path / "known.txt"
    p.write_text(
        "# name: unit-list\n# version: 2024-05\n# source: generated\n# signal_type: pdq\n"
        f"{PDQ[0]}\n\nnot-hex\n{PDQ[1].upper()}\n{PDQ[0][:60]}\n"
    )
    hl = load_hash_list(p)
    assert [e.hash for e in hl.entries] == [PDQ[0], PDQ[1]]
    assert {e.signal for e in hl.entries} == {"pdq"}
    assert (hl.name, hl.version, hl.format) == ("unit-list", "2024-05", "plain")
    assert hl.provenance["source"] == "generated"
    assert [e.line for e in hl.errors] == [7, 9]
    assert "64 hex digits, got 60" in hl.errors[1].message
    assert hl.sha256 and len(hl.sha256) == 64


def test_plain_md5_list_is_inferred_but_64_digits_must_be_named(tmp_path: Path) -> None:
    p = tmp_path / "a.txt"
    p.write_text("\n".join(MD5) + "\n")
    hl = load_hash_list(p)
    assert hl.signals() == ["md5"] and hl.version.startswith("sha256:")
    q = tmp_path / "b.txt"
    q.write_text(SHA[0] + "\n")
    with pytest.raises(HashListError, match="PDQ or SHA-256"):
        load_hash_list(q)
    assert load_hash_list(q, signal="sha256").signals() == ["sha256"]
    assert parse_list_spec(f"sha256:{q}") == ("sha256", str(q))
    assert parse_list_spec("C:/lists/x.txt") == (None, "C:/lists/x.txt")


def test_csv_with_metadata_columns_and_type_column() -> None:
    text = (
        "signal_type,hash,case_id,category\n"
        f"pdq,{PDQ[0]},C-1,A\n"
        f"md5,{MD5[1]},C-2,B\n"
        f"tlsh,{MD5[1]},C-3,B\n"
        f"md5,{MD5[1][:-1]},C-4,B\n"
    )
    hl = parse_hash_list(text, source_name="bank.csv")
    assert hl.format == "csv"
    assert [(e.signal, e.metadata["case_id"]) for e in hl.entries] == [("pdq", "C-1"), ("md5", "C-2")]
    assert [e.line for e in hl.errors] == [4, 5]


def test_csv_named_hash_column_gives_the_signal() -> None:
    hl = parse_hash_list(f"sha256\tlabel\n{SHA[1]}\tx\n", source_name="s.tsv")
    assert hl.entries[0].signal == "sha256" and hl.entries[0].metadata == {"label": "x"}


def test_threatexchange_typed_lines_and_hasher_output() -> None:
    hl = parse_hash_list(f"pdq {PDQ[0]}\nmd5 {MD5[0]}\nvideo_tmk abc\n")
    assert hl.format == "threatexchange"
    assert [e.signal for e in hl.entries] == ["pdq", "md5"]
    assert hl.errors[0].line == 3 and "unknown signal type" in hl.errors[0].message
    out = parse_hash_list(f"{PDQ[0]},100,a.jpg\n{PDQ[1]},87,b.jpg\n", signal="pdq")
    assert out.format == "hasher-output"
    assert out.entries[1].metadata == {"quality": "87", "name": "b.jpg"}


def test_hma_jsonl_export() -> None:
    rows = [
        {"signal_type": "pdq", "signal": PDQ[1], "bank": "demo", "content_id": 7},
        {"signal_type": "md5", "signal_value": MD5[0]},
        {"bank": "demo"},
    ]
    hl = parse_hash_list("\n".join(json.dumps(r) for r in rows) + "\n{broken\n")
    assert hl.format == "jsonl"
    assert hl.entries[0].metadata == {"bank": "demo", "content_id": "7"}
    assert [e.line for e in hl.errors] == [3, 4]


def test_unusable_lists_raise_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(HashListError, match="does not exist"):
        load_hash_list(tmp_path / "nope.txt")
    (tmp_path / "empty.txt").write_text("# nothing\n")
    with pytest.raises(HashListError, match="no valid hash"):
        load_hash_list(tmp_path / "empty.txt")
    (tmp_path / "bin.txt").write_bytes(b"\xff\xfe\x00\x81")
    with pytest.raises(HashListError, match="not UTF-8"):
        load_hash_list(tmp_path / "bin.txt")
    with pytest.raises(HashListError, match="no hash column"):
        parse_hash_list("name,label\nx,y\n")


def test_write_and_reload_roundtrip_with_sidecar_provenance(tmp_path: Path) -> None:
    p = tmp_path / "out.csv"
    entries = [HashEntry("pdq", PDQ[0], {"quality": "90"}), HashEntry("md5", MD5[0], {"name": "x.png"})]
    assert write_hash_list(p, entries, name="mine", version="7", provenance={"source": "unit test"}) == 2
    (tmp_path / "out.csv.provenance.json").write_text(json.dumps({"license": "internal"}))
    hl = load_hash_list(p)
    assert (hl.name, hl.version) == ("mine", "7")
    assert hl.provenance["source"] == "unit test" and hl.provenance["license"] == "internal"
    assert [(e.signal, e.hash) for e in hl.entries] == [("pdq", PDQ[0]), ("md5", MD5[0])]
    assert hl.entries[0].metadata == {"quality": "90"}
