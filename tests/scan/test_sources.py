from pathlib import Path
from typing import Any

import pytest

from childsafe.scan.sources import SourceError, SourceOptions, check_sources, iter_items
from childsafe.scan.synthetic import encode, structured_image


def test_folder_is_walked_recursively_in_order(dataset: dict[str, Path]) -> None:
    items = list(iter_items(check_sources([dataset["data"]])))
    names = [Path(i.path).name for i in items]
    assert names == [*sorted(names[:-1]), "copy_mirrored.png"]  # files first, then sub/
    assert all(i.image_file == i.path and i.key == i.path for i in items)


def test_jsonl_and_csv_manifests_with_text_and_relative_paths(tmp_path: Path, write_jsonl: Any) -> None:
    (tmp_path / "a.png").write_bytes(encode(structured_image(1)))
    m = write_jsonl(
        tmp_path / "m.jsonl",
        [
            {"image": "a.png", "caption": "a red square"},
            {"text": "only text"},
            "{bad json",
            {"other": 1},
            {"image": "https://example.org/x.jpg"},
        ],
    )
    items = list(iter_items([m]))
    assert items[0].image_file == str(tmp_path / "a.png") and items[0].texts == {"caption": "a red square"}
    assert items[1].image_file is None and items[1].texts == {"text": "only text"}
    assert items[2].error is not None and items[2].error.startswith("invalid_manifest_row: line 3")
    assert items[3].error is not None and "no image path or text" in items[3].error
    assert items[4].error is not None and items[4].error.startswith("remote_path")
    assert len({i.key for i in items}) == 5
    c = tmp_path / "m.csv"
    c.write_text("file,prompt,alt\na.png,draw a cat,\n")
    (item,) = iter_items([c], SourceOptions(image_fields=("file",), text_fields=("prompt",)))
    assert item.image_file == str(tmp_path / "a.png") and item.texts == {"prompt": "draw a cat"}


def test_parquet_manifest_and_unreadable_parquet(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"image_path": ["x.png", None], "text": ["hello", "world"]}), tmp_path / "m.parquet")
    items = list(iter_items([tmp_path / "m.parquet"]))
    assert [i.image_file for i in items] == [str(tmp_path / "x.png"), None]
    assert items[1].texts == {"text": "world"}
    (tmp_path / "bad.parquet").write_bytes(b"PAR1 this is not parquet")
    (bad,) = iter_items([tmp_path / "bad.parquet"])
    assert bad.error is not None and bad.error.startswith("unreadable_manifest")


def test_webdataset_shard_groups_members_by_key(tmp_path: Path, make_tar: Any) -> None:
    img = encode(structured_image(1))
    shard = make_tar(
        tmp_path / "s.tar",
        [
            {"jpg": img, "txt": b"a caption", "json": b'{"caption": "json caption"}'},
            {"txt": b"text only"},
            {"pdf": b"%PDF"},
        ],
    )
    items = list(iter_items([shard]))
    assert len(items) == 3
    first = items[0]
    assert first.path == f"{shard}#shard/000000.jpg" and first.offset > 0 and first.size == len(img)
    assert first.texts == {"txt": "a caption", "json.caption": "json caption"}
    with open(shard, "rb") as fh:
        fh.seek(first.offset)
        assert fh.read(first.size) == img
    assert items[1].texts == {"txt": "text only"} and items[1].image_file is None
    assert items[2].error is not None and items[2].error.startswith("unsupported_format")


def test_truncated_shard_yields_what_it_can_then_an_error(tmp_path: Path, make_tar: Any) -> None:
    shard = make_tar(tmp_path / "s.tar", [{"png": encode(structured_image(i))} for i in range(3)])
    data = shard.read_bytes()
    cut = tmp_path / "cut.tar"
    cut.write_bytes(data[: len(data) // 2 + 100])
    items = list(iter_items([cut]))
    assert items[-1].error is not None and items[-1].error.startswith("unreadable_tar")


def test_bad_sources_are_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="does not exist"):
        check_sources([tmp_path / "missing"])
    (tmp_path / "x.docx").write_text("?")
    with pytest.raises(SourceError, match="not a folder, a manifest"):
        check_sources([tmp_path / "x.docx"])
