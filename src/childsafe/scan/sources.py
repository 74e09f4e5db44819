"""Scan sources: folders, JSONL/CSV/Parquet manifests and WebDataset-style tar shards -> items.

An :class:`Item` is plain data (JSON-serialisable) so the same per-item function runs in a local process
pool or on Ray. Items are produced lazily and in a deterministic order, and each has a stable ``key``
so ``--resume`` can skip what was already scanned. A source that cannot be read in part (a bad manifest
row, a truncated shard) yields items carrying the error, so the scan records it and goes on.
"""

from __future__ import annotations

import csv
import json
import os
import tarfile
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from childsafe.types import ChildsafeError

IMAGE_EXTS = frozenset({".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff", ".ppm", ".pgm"})
TEXT_EXTS = frozenset({".txt", ".caption", ".md"})
MANIFEST_EXTS = frozenset({".jsonl", ".ndjson", ".csv", ".tsv", ".parquet"})
TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")
DEFAULT_TEXT_FIELDS = (
    "text",
    "caption",
    "prompt",
    "response",
    "completion",
    "content",
    "title",
    "alt",
    "alt_text",
    "description",
    "question",
    "answer",
)
DEFAULT_IMAGE_FIELDS = ("image", "image_path", "img", "img_path", "path", "file", "file_path", "filepath", "filename")


class SourceError(ChildsafeError):
    """A source that cannot be scanned at all (does not exist, unknown kind): a usage error."""


@dataclass(slots=True)
class Item:
    """One unit of scanning: at most one picture plus any text fields."""

    key: str
    path: str
    image_file: str | None = None
    offset: int = -1
    size: int = -1
    data: bytes | None = None
    texts: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    is_tar_member: bool = False

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["data"] = None if self.data is None else self.data.hex()
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Item:
        data = d.get("data")
        return cls(**{**d, "data": None if data is None else bytes.fromhex(data)})


@dataclass(frozen=True, slots=True)
class SourceOptions:
    text_fields: tuple[str, ...] = ()
    image_fields: tuple[str, ...] = ()
    exclude_dirs: tuple[str, ...] = ()
    """Folders never walked (the scan's own output and quarantine folders, when inside a source)."""


def check_sources(sources: Sequence[str | Path]) -> list[Path]:
    """Resolve sources, raising :class:`SourceError` for one that does not exist or is of no known kind."""
    out: list[Path] = []
    if not sources:
        raise SourceError("give at least one SOURCE (a folder, a manifest or a tar shard)")
    for s in sources:
        p = Path(s)
        if not p.exists():
            raise SourceError(f"source {str(p)!r} does not exist")
        if p.is_file() and _kind(p) is None:
            raise SourceError(
                f"source {str(p)!r} is not a folder, a manifest ({', '.join(sorted(MANIFEST_EXTS))}) "
                f"or a tar shard ({', '.join(TAR_SUFFIXES)})"
            )
        out.append(p)
    return out


def _kind(p: Path) -> str | None:
    name = p.name.lower()
    if any(name.endswith(s) for s in TAR_SUFFIXES):
        return "tar"
    if p.suffix.lower() in MANIFEST_EXTS:
        return "manifest"
    return None


def iter_items(sources: Sequence[Path], options: SourceOptions | None = None) -> Iterator[Item]:
    """All items of all sources, in a deterministic order."""
    opts = options or SourceOptions()
    for src in sources:
        if src.is_dir():
            yield from _iter_folder(src, {str(Path(d).resolve()) for d in opts.exclude_dirs})
        elif _kind(src) == "tar":
            yield from iter_tar(src, opts)
        else:
            yield from iter_manifest(src, opts)


def _iter_folder(root: Path, exclude: set[str]) -> Iterator[Item]:
    for dirpath, dirnames, filenames in os.walk(root, onerror=None, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if str((Path(dirpath) / d).resolve()) not in exclude)
        for name in sorted(filenames):
            p = Path(dirpath) / name
            if name.startswith(".") and name != ".":
                continue
            key = str(p)
            if p.suffix.lower() in TEXT_EXTS:
                try:
                    text = p.read_text("utf-8", errors="replace")
                except OSError as exc:
                    yield Item(key=key, path=key, error=f"unreadable_file: {exc.strerror or exc}")
                    continue
                yield Item(key=key, path=key, texts={"text": text})
            else:
                yield Item(key=key, path=key, image_file=key)


def _row_item(row: Any, key: str, base: Path, opts: SourceOptions, where: str) -> Item:
    if not isinstance(row, dict):
        return Item(key=key, path=where, error="invalid_manifest_row: a row must be an object")
    fields = {str(k).lower(): v for k, v in row.items()}
    image_fields = opts.image_fields or DEFAULT_IMAGE_FIELDS
    text_fields = opts.text_fields or DEFAULT_TEXT_FIELDS
    image = next((fields[f.lower()] for f in image_fields if isinstance(fields.get(f.lower()), str)), None)
    texts = {f: fields[f.lower()] for f in text_fields if isinstance(fields.get(f.lower()), str) and fields[f.lower()]}
    if image is None and not texts:
        return Item(key=key, path=where, error="invalid_manifest_row: no image path or text field in this row")
    if image is None:
        return Item(key=key, path=where, texts=texts)
    if image.startswith(("http://", "https://", "s3://", "gs://")):
        return Item(key=key, path=image, texts=texts, error="remote_path: remote URLs are not fetched; download first")
    img_path = Path(image)
    if not img_path.is_absolute():
        img_path = base / img_path
    return Item(key=key, path=str(img_path), image_file=str(img_path), texts=texts)


def iter_manifest(path: Path, opts: SourceOptions) -> Iterator[Item]:
    """Rows of a JSONL, CSV/TSV or Parquet manifest; bad rows and unreadable files become error items."""
    base = path.parent
    suffix = path.suffix.lower()
    try:
        if suffix in (".jsonl", ".ndjson"):
            with path.open("r", encoding="utf-8", errors="replace") as fh:
                for n, line in enumerate(fh, 1):
                    if not line.strip():
                        continue
                    key, where = f"{path}#L{n}", f"{path}#L{n}"
                    try:
                        row = json.loads(line)
                    except ValueError as exc:
                        yield Item(key=key, path=where, error=f"invalid_manifest_row: line {n}: invalid JSON ({exc})")
                        continue
                    yield _row_item(row, key, base, opts, where)
        elif suffix in (".csv", ".tsv"):
            with path.open("r", encoding="utf-8", errors="replace", newline="") as fh:
                reader = csv.DictReader(fh, delimiter="\t" if suffix == ".tsv" else ",")
                for n, row in enumerate(reader, 2):
                    key = where = f"{path}#L{n}"
                    yield _row_item(dict(row), key, base, opts, where)
        else:
            yield from _iter_parquet(path, base, opts)
    except (OSError, UnicodeError, csv.Error) as exc:
        yield Item(key=f"{path}#unreadable", path=str(path), error=f"unreadable_manifest: {exc}")


def _iter_parquet(path: Path, base: Path, opts: SourceOptions) -> Iterator[Item]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        yield Item(
            key=f"{path}#unreadable",
            path=str(path),
            error="unreadable_manifest: Parquet needs pyarrow (pip install 'childsafe[scan]')",
        )
        return
    try:
        pf = pq.ParquetFile(str(path))
        n = 0
        for batch in pf.iter_batches(batch_size=4096):
            for row in batch.to_pylist():
                key = where = f"{path}#row{n}"
                n += 1
                yield _row_item(row, key, base, opts, where)
    except Exception as exc:  # pyarrow raises several unrelated types for a damaged file
        yield Item(key=f"{path}#unreadable", path=str(path), error=f"unreadable_manifest: {type(exc).__name__}: {exc}")


def _sample_key(name: str) -> tuple[str, str]:
    """WebDataset convention: 'dir/sample001.jpg' -> ('dir/sample001', '.jpg')."""
    head, _, base = name.rpartition("/")
    stem, dot, ext = base.partition(".")
    return (f"{head}/{stem}" if head else stem), (dot + ext).lower()


def iter_tar(path: Path, opts: SourceOptions) -> Iterator[Item]:
    """Samples of a WebDataset-style shard: members grouped by key; one item per picture (texts attached)."""
    compressed = not path.name.lower().endswith(".tar")
    group_key: str | None = None
    group: list[tuple[tarfile.TarInfo, str, bytes | None]] = []
    text_fields = opts.text_fields or DEFAULT_TEXT_FIELDS
    try:
        with tarfile.open(str(path), mode="r:*") as tf:
            for member in tf:
                if not member.isfile():
                    continue
                key, ext = _sample_key(member.name)
                if group_key is not None and key != group_key:
                    yield from _tar_group(path, group, compressed, text_fields)
                    group = []
                group_key = key
                needs_bytes = compressed or ext.rsplit(".", 1)[-1] in ("txt", "caption", "json", "cls")
                data = None
                if needs_bytes:
                    fh = tf.extractfile(member)
                    data = fh.read() if fh is not None else b""
                group.append((member, ext, data))
            if group:
                yield from _tar_group(path, group, compressed, text_fields)
    except (tarfile.TarError, OSError, EOFError) as exc:
        if group:
            yield from _tar_group(path, group, compressed, text_fields)
        yield Item(key=f"{path}#unreadable", path=str(path), error=f"unreadable_tar: {exc}")


def _tar_group(
    path: Path, group: list[tuple[tarfile.TarInfo, str, bytes | None]], compressed: bool, text_fields: Sequence[str]
) -> Iterator[Item]:
    texts: dict[str, str] = {}
    pictures: list[tuple[tarfile.TarInfo, bytes | None]] = []
    others: list[tarfile.TarInfo] = []
    for member, ext, data in group:
        last = ext.rsplit(".", 1)[-1]
        if last in ("txt", "caption") and data is not None:
            texts[last] = data.decode("utf-8", errors="replace")
        elif last == "json" and data is not None:
            try:
                obj = json.loads(data)
            except ValueError:
                obj = None
            if isinstance(obj, dict):
                for f in text_fields:
                    if isinstance(obj.get(f), str) and obj[f]:
                        texts[f"json.{f}"] = obj[f]
        elif last == "cls":
            continue
        elif "." + last in IMAGE_EXTS:
            pictures.append((member, data))
        else:
            others.append(member)
    for i, (member, data) in enumerate(pictures):
        where = f"{path}#{member.name}"
        yield Item(
            key=where,
            path=where,
            image_file=str(path),
            offset=member.offset_data,
            size=member.size,
            data=data if compressed else None,
            texts=texts if i == 0 else {},
            is_tar_member=True,
        )
    for member in others:
        where = f"{path}#{member.name}"
        yield Item(
            key=where,
            path=where,
            error=f"unsupported_format: {Path(member.name).suffix or 'no extension'}",
            is_tar_member=True,
        )
    if not pictures and texts:
        key = _sample_key(group[0][0].name)[0]
        where = f"{path}#{key}"
        yield Item(key=where, path=where, texts=texts, is_tar_member=True)
