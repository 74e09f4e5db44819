"""`childsafe scan` and `childsafe hashlist`: dataset scanning and known-hash lists."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from childsafe.cli.common import err_console, fail
from childsafe.types import ChildsafeError

if TYPE_CHECKING:
    from childsafe.hashing.lists import HashList

hashlist_app = typer.Typer(help="Inspect, validate and build hash lists (pdq, md5, sha256).", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("scan")(scan)
    app.add_typer(hashlist_app, name="hashlist")


def _load_lists(specs: list[str], quiet: bool = False) -> list[HashList]:
    from childsafe.hashing.lists import load_hash_list, parse_list_spec

    lists: list[HashList] = []
    for spec in specs:
        signal, path = parse_list_spec(spec)
        hl = load_hash_list(path, signal=signal)
        if hl.error_count and not quiet:
            err_console.print(f"warning: hash list {path}: {hl.error_count} invalid line(s) skipped:")
            for e in hl.errors[:20]:
                err_console.print(f"  {path}: {e}", markup=False)
            if hl.error_count > 20:
                err_console.print(f"  ... and {hl.error_count - 20} more (see summary.json)")
        lists.append(hl)
    return lists


def scan(
    sources: Annotated[list[Path], typer.Argument(help="Folders, manifests (.jsonl/.csv/.parquet) or tar shards")],
    out: Annotated[Path, typer.Option("--out", help="Output folder (manifest.jsonl, remove.txt, summary.html)")],
    hash_list: Annotated[
        list[str] | None,
        typer.Option("--hash-list", help="Hash list file, optionally prefixed with its signal (pdq:FILE); repeatable"),
    ] = None,
    engine: Annotated[str, typer.Option("--engine", help="local (process pool) or ray")] = "local",
    workers: Annotated[int | None, typer.Option("--workers", help="Parallel workers (default: CPU count)")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue an interrupted scan in OUT")] = False,
    quarantine: Annotated[Path | None, typer.Option("--quarantine", help="Move hash-matched files here")] = None,
    pdq_threshold: Annotated[int, typer.Option("--pdq-threshold", help="PDQ match distance (bits)")] = 31,
    nudity: Annotated[bool, typer.Option("--nudity/--no-nudity", help="Score nudity (open_nsfw model)")] = True,
    text: Annotated[bool, typer.Option("--text/--no-text", help="Check text fields with the safety engine")] = True,
    age: Annotated[str, typer.Option("--age", help="Age band the text must be safe for")] = "10-12",
    text_field: Annotated[list[str] | None, typer.Option("--text-field", help="Manifest text column")] = None,
    image_field: Annotated[list[str] | None, typer.Option("--image-field", help="Manifest image-path column")] = None,
    index: Annotated[str, typer.Option("--index", help="PDQ index: auto, linear, mih or faiss")] = "auto",
    no_progress: Annotated[bool, typer.Option("--no-progress", help="No progress bar")] = False,
) -> None:
    """Scan a dataset for known-abuse hashes, nudity and unsafe text; write removal manifests.

    Exit code 0: scanned without errors; 1: some items could not be scanned (see manifest.jsonl);
    2: bad usage (missing source, bad hash list, bad option).
    """
    from childsafe.scan.runner import ScanAborted, ScanUsageError, run_scan
    from childsafe.scan.sources import SourceError, SourceOptions
    from childsafe.scan.worker import ScanSettings
    from childsafe.types import AgeBand

    if engine not in ("local", "ray"):
        fail(f"--engine must be local or ray, not {engine!r}")
    if workers is not None and workers < 1:
        fail("--workers must be at least 1")
    if not 0 <= pdq_threshold <= 255:
        fail("--pdq-threshold must be between 0 and 255")
    if index not in ("auto", "linear", "mih", "faiss"):
        fail(f"--index must be auto, linear, mih or faiss, not {index!r}")
    try:
        band = AgeBand.parse(age).value
        lists = _load_lists(hash_list or [])
        settings = ScanSettings(
            lists=lists,
            pdq_threshold=pdq_threshold,
            index_kind=index,
            nudity=nudity,
            text=text,
            text_age=band,
        )
        opts = SourceOptions(text_fields=tuple(text_field or ()), image_fields=tuple(image_field or ()))
        result = run_scan(
            sources,
            out,
            settings,
            engine=engine,
            workers=workers,
            resume=resume,
            quarantine=quarantine,
            options=opts,
            progress=not no_progress,
        )
    except (ScanUsageError, SourceError) as exc:
        fail(str(exc))
    except ScanAborted as exc:
        fail(str(exc), code=1)
    except ChildsafeError as exc:
        fail(str(exc))
    acts = result.actions
    typer.echo(
        f"{result.total} items ({result.scanned_now} this run, {result.items_per_second:.1f} items/s): "
        f"remove {acts.get('remove', 0)}, review {acts.get('review', 0)}, keep {acts.get('keep', 0)}; "
        f"hash matches {result.matched}; errors {result.errors}"
    )
    typer.echo(f"nudity: {result.nudity_status}")
    typer.echo(f"wrote {out / 'manifest.jsonl'}, {out / 'remove.txt'}, {out / 'summary.html'}")
    raise typer.Exit(result.exit_code)


@hashlist_app.command("validate")
def hashlist_validate(
    files: Annotated[list[str], typer.Argument(help="Hash list files (optionally pdq:FILE)")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON")] = False,
) -> None:
    """Check hash lists: print format, version, counts per signal and every invalid line (exit 1 if any)."""
    try:
        lists = _load_lists(files, quiet=True)
    except ChildsafeError as exc:
        fail(str(exc))
    bad = 0
    for spec, hl in zip(files, lists, strict=True):
        summary = hl.summary()
        bad += summary["invalid_lines"]
        if as_json:
            summary["errors"] = [str(e) for e in hl.errors]
            typer.echo(json.dumps(summary))
            continue
        typer.echo(
            f"{spec}: {summary['entries']} hashes {summary['by_signal']}, format {summary['format']}, "
            f"name {summary['name']}, version {summary['version']}"
        )
        for e in hl.errors:
            typer.echo(f"  line {e.line}: {e.message}")
    raise typer.Exit(1 if bad else 0)


@hashlist_app.command("build")
def hashlist_build(
    folder: Annotated[Path, typer.Argument(help="Folder of pictures to hash (recursively)")],
    out: Annotated[Path, typer.Option("--out", help="CSV hash list to write")],
    name: Annotated[str, typer.Option("--name", help="List name")] = "local",
    version: Annotated[str, typer.Option("--version", help="List version")] = "1",
    source: Annotated[str, typer.Option("--source", help="Provenance: where the pictures came from")] = "",
) -> None:
    """Hash every picture in FOLDER (pdq, md5, sha256) into a versioned CSV list with provenance."""
    from childsafe.hashing.hashers import ImageError, hash_content
    from childsafe.hashing.lists import HashEntry, write_hash_list

    if not folder.is_dir():
        fail(f"{folder} is not a folder")
    entries: list[HashEntry] = []
    skipped = 0
    for p in sorted(x for x in folder.rglob("*") if x.is_file()):
        try:
            h = hash_content(p.read_bytes(), dihedral=False)
        except (ImageError, OSError) as exc:
            err_console.print(f"skipped {p}: {exc}", markup=False)
            skipped += 1
            continue
        meta = {"name": p.name}
        entries.append(HashEntry("md5", h.md5, meta))
        entries.append(HashEntry("sha256", h.sha256, meta))
        if h.pdq is not None and h.pdq.matchable:
            entries.append(HashEntry("pdq", h.pdq.hash, {**meta, "quality": str(h.pdq.quality)}))
    n = write_hash_list(out, entries, name=name, version=version, provenance={"source": source} if source else {})
    typer.echo(f"wrote {n} hashes to {out} ({skipped} files skipped)")
    raise typer.Exit(1 if skipped else 0)
