"""Generated datasets for scanner tests: shapes and noise only, never photos."""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import ImageOps

from childsafe.hashing import pdq_hash_image
from childsafe.scan.synthetic import encode, flat_image, structured_image

KNOWN_SEED = 1


@pytest.fixture()
def dataset(tmp_path: Path) -> dict[str, Path]:
    """A folder with a known picture's edited copies, harmless pictures and every kind of bad file."""
    d = tmp_path / "data"
    (d / "sub").mkdir(parents=True)
    known = structured_image(KNOWN_SEED, (320, 240))
    (d / "copy_resized.jpg").write_bytes(encode(known.resize((200, 150)), "JPEG", quality=70))
    (d / "sub" / "copy_mirrored.png").write_bytes(encode(ImageOps.mirror(known)))
    exact = encode(structured_image(2, (300, 200)))
    (d / "exact.png").write_bytes(exact)
    for i in range(10, 16):
        (d / f"ok{i}.png").write_bytes(encode(structured_image(i)))
    (d / "flat.png").write_bytes(encode(flat_image()))
    (d / "zero.jpg").write_bytes(b"")
    (d / "truncated.jpg").write_bytes(encode(structured_image(5), "JPEG")[:300])
    (d / "notes.bin").write_bytes(b"\x00\x01not a picture")
    lists = tmp_path / "lists"
    lists.mkdir()
    pdq_list = lists / "known.pdq.txt"
    pdq_list.write_text(f"# name: test-bank\n# version: 5\n{pdq_hash_image(known).hash}\nnot-a-hash\n")
    import hashlib

    md5_list = lists / "md5.csv"
    md5_list.write_text(f"md5,case_id\n{hashlib.md5(exact).hexdigest()},case-42\n")
    return {"root": tmp_path, "data": d, "pdq_list": pdq_list, "md5_list": md5_list}


def _make_tar(path: Path, samples: list[dict[str, bytes]]) -> Path:
    with tarfile.open(path, "w") as tf:
        for i, sample in enumerate(samples):
            for ext, data in sample.items():
                info = tarfile.TarInfo(f"shard/{i:06d}.{ext}")
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
    return path


def _write_jsonl(path: Path, rows: list[object]) -> Path:
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n")
    return path


@pytest.fixture()
def make_tar() -> Callable[[Path, list[dict[str, bytes]]], Path]:
    """Write a WebDataset-style shard: members shard/000000.<ext> grouped by sample."""
    return _make_tar


@pytest.fixture()
def write_jsonl() -> Callable[[Path, list[object]], Path]:
    return _write_jsonl
