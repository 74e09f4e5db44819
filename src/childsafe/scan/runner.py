"""Run a scan: items -> workers (local processes or Ray) -> a checkpointed results file -> outputs.

Checkpointing: every record is appended to ``OUTDIR/.childsafe-scan/results.jsonl`` as soon as its batch
returns (flushed to disk); ``--resume`` reads it back, drops a half-written last line and skips every key
already there, so a crash costs at most the batches in flight. The public outputs (manifest, removal list,
summary, incident drafts) are derived from that file at the end, so they are always complete and
consistent, also after a resume.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, BrokenExecutor, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TextIO

from childsafe.scan.sources import Item, SourceOptions, check_sources, iter_items
from childsafe.scan.worker import ItemScanner, ScanSettings
from childsafe.store.files import open_private, write_private
from childsafe.types import ChildsafeError

STATE_DIR = ".childsafe-scan"
BATCH_SIZE = 32


class ScanUsageError(ChildsafeError):
    """A scan that cannot start as asked (bad output folder, resume mismatch...): CLI exit code 2."""


class ScanAborted(ChildsafeError):
    """A scan stopped part-way (a worker died); what was scanned is checkpointed: rerun with --resume."""


@dataclass(slots=True)
class ScanResult:
    out_dir: Path
    total: int = 0
    scanned_now: int = 0
    resumed: int = 0
    errors: int = 0
    actions: dict[str, int] = field(default_factory=dict)
    matched: int = 0
    seconds: float = 0.0
    first_result_s: float = 0.0
    """Seconds until the first batch came back (worker start-up and model loading)."""
    first_batch: int = 0
    nudity_status: str = ""

    @property
    def exit_code(self) -> int:
        return 1 if self.errors else 0

    @property
    def items_per_second(self) -> float:
        return self.scanned_now / self.seconds if self.seconds > 0 else 0.0

    @property
    def steady_items_per_second(self) -> float:
        """Throughput after start-up (first batch excluded): what a long scan sees."""
        span = self.seconds - self.first_result_s
        return (self.scanned_now - self.first_batch) / span if span > 0 else self.items_per_second


def _fingerprint(sources: Sequence[Path], settings: ScanSettings, options: SourceOptions) -> dict[str, Any]:
    return {
        "sources": [str(p.resolve()) for p in sources],
        "lists": [{"name": hl.name, "version": hl.version, "sha256": hl.sha256} for hl in settings.lists],
        "pdq_threshold": settings.pdq_threshold,
        "nudity": settings.nudity,
        "text": settings.text,
        "text_age": settings.text_age,
        "text_fields": list(options.text_fields),
        "image_fields": list(options.image_fields),
    }


def _load_done(results: Path) -> set[str]:
    """Keys already scanned; a torn last line (crash mid-write) is cut off."""
    done: set[str] = set()
    if not results.exists():
        return done
    good_bytes = 0
    with results.open("rb") as fh:
        for raw in fh:
            if not raw.endswith(b"\n"):
                break
            try:
                done.add(json.loads(raw)["key"])
            except (ValueError, KeyError):
                break
            good_bytes += len(raw)
    if good_bytes != results.stat().st_size:
        with results.open("r+b") as fh:
            fh.truncate(good_bytes)
    return done


def _batches(items: Iterable[Item], size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for it in items:
        batch.append(it.to_dict())
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


_WORKER: ItemScanner | None = None


def _init_worker(settings: ScanSettings) -> None:
    global _WORKER
    _WORKER = ItemScanner(settings)
    _WORKER.warmup()


def _work(batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
    assert _WORKER is not None
    return _WORKER.scan_batch(batch)


def _run_local(
    batches: Iterator[list[dict[str, Any]]],
    settings: ScanSettings,
    workers: int,
    sink: Callable[[list[dict[str, Any]]], None],
) -> None:
    if workers <= 1:
        scanner = ItemScanner(settings)
        for b in batches:
            sink(scanner.scan_batch(b))
        return
    import multiprocessing as mp

    # spawn: onnxruntime and faiss hold threads that do not survive fork safely.
    ctx = mp.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=ctx, initializer=_init_worker, initargs=(settings,)
    ) as pool:
        pending: set[Future[list[dict[str, Any]]]] = set()
        try:
            for b in batches:
                pending.add(pool.submit(_work, b))
                if len(pending) >= workers * 3:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for f in done:
                        sink(f.result())
            for f in pending:
                sink(f.result())
        except BrokenExecutor as exc:
            raise ScanAborted(
                f"a worker process died ({exc}); results so far are saved: rerun the same command with --resume"
            ) from None


def run_scan(
    sources: Sequence[str | Path],
    out_dir: str | Path,
    settings: ScanSettings,
    *,
    engine: str = "local",
    workers: int | None = None,
    resume: bool = False,
    quarantine: str | Path | None = None,
    options: SourceOptions | None = None,
    progress: bool = True,
    batch_size: int = BATCH_SIZE,
) -> ScanResult:
    """Scan ``sources`` into ``out_dir``; see the module docstring. Raises :class:`ScanUsageError`."""
    from childsafe.scan.report import write_outputs

    opts = options or SourceOptions()
    srcs = check_sources(sources)
    if engine not in ("local", "ray"):
        raise ScanUsageError(f"unknown engine {engine!r}: use local or ray")
    nworkers = workers if workers is not None else (os.cpu_count() or 1)
    if nworkers < 1:
        raise ScanUsageError("--workers must be at least 1")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ScanUsageError(f"--out {str(out)!r} exists and is not a folder")
    state_dir = out / STATE_DIR
    results = state_dir / "results.jsonl"
    state_file = state_dir / "state.json"
    fp = _fingerprint(srcs, settings, opts)
    if results.exists() and not resume:
        raise ScanUsageError(f"{str(out)!r} already holds a scan: add --resume to continue it, or choose another --out")
    if resume and state_file.exists():
        old = json.loads(state_file.read_text("utf-8"))
        if old != fp:
            raise ScanUsageError("--resume: the sources, hash lists or options differ from the interrupted scan")
    quarantine_dir = Path(quarantine) if quarantine else None
    if quarantine_dir is not None:
        if quarantine_dir.exists() and not quarantine_dir.is_dir():
            raise ScanUsageError(f"--quarantine {str(quarantine_dir)!r} is not a folder")
        quarantine_dir.mkdir(parents=True, exist_ok=True)
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_private(state_file, json.dumps(fp, indent=2))  # scan files name matched items: owner-only
    done = _load_done(results) if resume else set()

    result = ScanResult(out_dir=out, resumed=len(done))
    from childsafe.scan.nudity import nudity_status

    result.nudity_status = nudity_status() if settings.nudity else "off (--no-nudity)"
    walk_opts = replace(
        opts, exclude_dirs=(*opts.exclude_dirs, str(out), *([str(quarantine_dir)] if quarantine_dir else []))
    )
    todo = (it for it in iter_items(srcs, walk_opts) if it.key not in done)
    batches = _batches(todo, batch_size)
    started = time.perf_counter()
    with open_private(results, append=True) as fh, _Progress(progress) as bar:

        def sink(records: list[dict[str, Any]]) -> None:
            for rec in records:
                if quarantine_dir is not None:
                    _quarantine(rec, quarantine_dir)
                fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
            fh.flush()
            if not result.scanned_now:
                result.first_result_s = time.perf_counter() - started
                result.first_batch = len(records)
            result.scanned_now += len(records)
            bar.advance(len(records))

        if engine == "ray":
            from childsafe.scan.ray_engine import run_ray

            run_ray(batches, settings, nworkers, sink)
        else:
            _run_local(batches, settings, nworkers, sink)
        _fsync(fh)
    result.seconds = time.perf_counter() - started
    write_outputs(out, results, settings, result)
    return result


def _fsync(fh: TextIO) -> None:
    fh.flush()
    try:
        os.fsync(fh.fileno())
    except OSError:
        pass


def _quarantine(rec: dict[str, Any], qdir: Path) -> None:
    """Move a hash-matched local file into the quarantine folder (never copy it anywhere else)."""
    if not rec["matches"]:
        return
    src = rec.get("image_file")
    entry: dict[str, Any] = {"path": rec["path"], "sha256": (rec.get("hashes") or {}).get("sha256")}
    if not src or rec.get("is_tar_member"):
        entry["moved_to"] = None
        entry["note"] = "inside a tar shard: not moved; drop it from the shard using remove.txt"
    else:
        sha = entry["sha256"] or hashlib.sha256(src.encode()).hexdigest()
        dest = qdir / (sha + Path(src).suffix.lower())
        try:
            shutil.move(src, dest)
            entry["moved_to"] = str(dest)
            os.chmod(dest, 0o400)
        except OSError as exc:
            entry["moved_to"] = None
            entry["note"] = f"could not move: {exc.strerror or exc}"
    rec["quarantine"] = entry
    with open_private(qdir / "quarantine.jsonl", append=True) as fh:
        fh.write(json.dumps(entry) + "\n")


class _Progress:
    """rich progress bar with items/s; silent when disabled."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._p: Any = None
        self._task: Any = None

    def __enter__(self) -> _Progress:
        if self.enabled:
            from rich.console import Console
            from rich.progress import MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self._p = Progress(
                SpinnerColumn(),
                TextColumn("scanning"),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]} items/s"),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=False,
            )
            self._p.__enter__()
            self._task = self._p.add_task("scan", total=None, rate="0.0")
            self._start = time.perf_counter()
            self._n = 0
        return self

    def advance(self, n: int) -> None:
        if self._p is not None:
            self._n += n
            rate = self._n / max(time.perf_counter() - self._start, 1e-9)
            self._p.update(self._task, advance=n, rate=f"{rate:.1f}")

    def __exit__(self, *exc: object) -> None:
        if self._p is not None:
            self._p.__exit__(None, None, None)
