"""Hash lists: read and write lists of known hashes, with versions, provenance and line-numbered errors.

Formats read (detected from the content, so a list is used as it was received):

* **plain**: one hex hash per line; ``#`` comments; the signal type comes from the caller
  (``pdq:FILE``), a ``# signal_type: pdq`` header, the file name, or the hash length (32 = md5, 40 = sha1;
  64 digits is PDQ *or* SHA-256, so it must be said).
* **csv** (or tab-separated) with a header row: a hash column (``hash``, ``signal``, ``signal_value``,
  ``pdq``, ``md5``, ``sha256``...), an optional signal-type column (``signal_type``, ``hash_type``,
  ``indicator_type``), every other column kept as metadata of the entry (case id, category, source...).
* **threatexchange / HMA exports**: ``signal_type hash`` per line (python-threatexchange's local file
  format), headerless PDQ hasher output ``hash,quality[,name]``, HMA bank CSV exports with
  ``signal_type,signal_value`` columns, and JSON lines ``{"signal_type": "pdq", "signal": "..."}``.

Provenance: leading ``# key: value`` comment lines (``name``, ``version``, ``source``, ``retrieved``,
``license``...) and an optional sidecar ``FILE.provenance.json`` are kept with the list; the version
defaults to a digest of the file, so two different files never share a version.
"""

from __future__ import annotations

import contextlib
import csv
import gc
import hashlib
import io
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from childsafe.hashing.signals import HashingError, InvalidHashError, SignalType, get_signal_type

HASH_COLUMNS = (
    "hash",
    "signal",
    "signal_value",
    "signal_str",
    "value",
    "indicator",
    "pdq",
    "pdq_hash",
    "md5",
    "md5_hash",
    "sha256",
    "sha256_hash",
    "sha1",
    "sha1_hash",
    "content_hash",
)
TYPE_COLUMNS = ("signal_type", "hash_type", "type", "indicator_type", "signal_type_name")
_HEX_LINE = re.compile(r"^(?:0x)?[0-9a-fA-F]+$")
_PROVENANCE_LINE = re.compile(r"^#\s*([A-Za-z_][\w-]*)\s*:\s*(.*?)\s*$")
MAX_ERRORS_KEPT = 1000
_NO_METADATA: dict[str, str] = {}  # shared by entries without metadata (entries are read-only)


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Building a million small objects triggers the cyclic GC over and over; none of them form cycles."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class HashListError(HashingError):
    """A hash list that cannot be used at all (unreadable, empty, ambiguous); the message says why."""


@dataclass(frozen=True, slots=True)
class LineError:
    """An invalid line of a hash list: reported, skipped, never silently dropped."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass(frozen=True, slots=True)
class HashEntry:
    """One known hash with whatever metadata the list gave it."""

    signal: str
    hash: str
    metadata: dict[str, str] = field(default_factory=lambda: _NO_METADATA)
    line: int = 0


@dataclass(slots=True)
class HashList:
    """A named, versioned list of known hashes with its provenance and the lines that were invalid."""

    name: str
    version: str
    entries: list[HashEntry]
    provenance: dict[str, str] = field(default_factory=dict)
    errors: list[LineError] = field(default_factory=list)
    error_count: int = 0
    format: str = "plain"
    path: str | None = None
    sha256: str | None = None

    def signals(self) -> list[str]:
        return sorted({e.signal for e in self.entries})

    def __getstate__(self) -> dict[str, Any]:
        # Columnar form: pickling a million entry objects to each worker process is slow.
        state = {k: getattr(self, k) for k in self.__slots__ if k != "entries"}
        state["_signals"] = [e.signal for e in self.entries]
        state["_hashes"] = [e.hash for e in self.entries]
        state["_lines"] = [e.line for e in self.entries]
        state["_meta"] = {i: e.metadata for i, e in enumerate(self.entries) if e.metadata}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        meta: dict[int, dict[str, str]] = state.pop("_meta")
        signals, hashes, lines = state.pop("_signals"), state.pop("_hashes"), state.pop("_lines")
        for k, v in state.items():
            setattr(self, k, v)
        with _gc_paused():
            self.entries = [
                HashEntry(s, h, meta.get(i, _NO_METADATA), n)
                for i, (s, h, n) in enumerate(zip(signals, hashes, lines, strict=True))
            ]

    def by_signal(self, signal: str) -> list[HashEntry]:
        return [e for e in self.entries if e.signal == signal]

    def summary(self) -> dict[str, Any]:
        counts: dict[str, int] = {}
        for e in self.entries:
            counts[e.signal] = counts.get(e.signal, 0) + 1
        return {
            "name": self.name,
            "version": self.version,
            "format": self.format,
            "path": self.path,
            "sha256": self.sha256,
            "entries": len(self.entries),
            "by_signal": counts,
            "invalid_lines": self.error_count,
            "provenance": dict(self.provenance),
        }


def parse_list_spec(spec: str) -> tuple[str | None, str]:
    """``"pdq:lists/known.txt"`` -> ("pdq", "lists/known.txt"); a plain path gives (None, path)."""
    head, sep, tail = spec.partition(":")
    if sep and tail:
        try:
            return get_signal_type(head).name, tail
        except HashingError:
            pass
    return None, spec


def load_hash_list(
    path: str | Path, *, signal: str | None = None, name: str | None = None, version: str | None = None
) -> HashList:
    """Read a hash list in any supported format. Invalid lines are collected in ``errors`` (with line
    numbers); a file that is missing, unreadable, ambiguous or has no valid hash raises :class:`HashListError`."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise HashListError(f"hash list {str(p)!r} does not exist") from None
    except IsADirectoryError:
        raise HashListError(f"hash list {str(p)!r} is a directory, not a file") from None
    except OSError as exc:
        raise HashListError(f"cannot read hash list {str(p)!r}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise HashListError(f"hash list {str(p)!r} is not UTF-8 text") from None
    sidecar = p.with_name(p.name + ".provenance.json")
    extra_prov: dict[str, str] = {}
    if sidecar.is_file():
        try:
            loaded = json.loads(sidecar.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise HashListError(f"provenance file {str(sidecar)!r} is not valid JSON: {exc}") from None
        if not isinstance(loaded, dict):
            raise HashListError(f"provenance file {str(sidecar)!r} must hold a JSON object")
        extra_prov = {str(k): str(v) for k, v in loaded.items()}
    hl = parse_hash_list(text, signal=signal, source_name=p.name, provenance=extra_prov)
    hl.path = str(p)
    hl.sha256 = hashlib.sha256(raw).hexdigest()
    hl.name = name or hl.provenance.get("name") or p.stem
    hl.version = version or hl.provenance.get("version") or "sha256:" + hl.sha256[:12]
    hl.provenance.setdefault("loaded_at", datetime.now(UTC).isoformat(timespec="seconds"))
    return hl


def parse_hash_list(
    text: str, *, signal: str | None = None, source_name: str = "", provenance: dict[str, str] | None = None
) -> HashList:
    """Parse the text of a hash list (see the module docstring for formats)."""
    prov: dict[str, str] = dict(provenance or {})
    lines = text.splitlines()
    body_start = 0
    for i, line in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            m = _PROVENANCE_LINE.match(stripped)
            if m:
                prov.setdefault(m.group(1).lower(), m.group(2))
            continue
        body_start = i
        break
    else:
        body_start = len(lines)
    default_sig = signal or prov.get("signal_type") or prov.get("signal")
    if default_sig:
        default_sig = get_signal_type(default_sig).name
    elif "pdq" in source_name.lower():
        default_sig = "pdq"
    elif "sha256" in source_name.lower():
        default_sig = "sha256"

    body = [(n + 1, ln) for n, ln in enumerate(lines) if n >= body_start]
    first = next((ln.strip() for _, ln in body if ln.strip() and not ln.strip().startswith("#")), "")
    entries: list[HashEntry] = []
    errors: list[LineError] = []
    fmt: str
    with _gc_paused():
        fmt = _parse_body(body, first, default_sig, entries, errors)
    if not entries:
        detail = f"; first problem: {errors[0]}" if errors else ""
        raise HashListError(f"hash list {source_name or '(text)'} holds no valid hash{detail}")
    return HashList(
        name=prov.get("name", Path(source_name).stem if source_name else "list"),
        version=prov.get("version", "sha256:" + hashlib.sha256(text.encode()).hexdigest()[:12]),
        entries=entries,
        provenance=prov,
        errors=errors[:MAX_ERRORS_KEPT],
        error_count=len(errors),
        format=fmt,
    )


def _parse_body(
    body: Sequence[tuple[int, str]], first: str, sig: str | None, entries: list[HashEntry], errors: list[LineError]
) -> str:
    if first.startswith("{"):
        _parse_jsonl(body, sig, entries, errors)
        return "jsonl"
    if ("," in first or "\t" in first) and not _HEX_LINE.match(re.split(r"[,\t]", first)[0].strip()):
        _parse_csv(body, sig, entries, errors)
        return "csv"
    if "," in first or "\t" in first:
        _parse_headerless(body, sig, entries, errors)  # "hash,quality[,name]" as written by PDQ hashers
        return "hasher-output"
    if len(first.split()) == 2:
        _parse_typed_lines(body, sig, entries, errors)  # "signal_type hash" lines
        return "threatexchange"
    _parse_plain(body, sig, entries, errors)
    return "plain"


def _infer_signal(value: str, default: str | None) -> SignalType:
    if default:
        return get_signal_type(default)
    n = len(value.strip().removeprefix("0x"))
    if n == 32:
        return get_signal_type("md5")
    if n == 40:
        return get_signal_type("sha1")
    if n == 64:
        raise HashListError(
            "64-digit hashes may be PDQ or SHA-256: say which with pdq:FILE / sha256:FILE, "
            "a '# signal_type: pdq' header line, or a signal_type column"
        )
    raise InvalidHashError(f"cannot tell the signal type of a {n}-digit value")


def _add(
    entries: list[HashEntry],
    errors: list[LineError],
    line: int,
    value: str,
    sig_name: str | None,
    metadata: dict[str, str] | None = None,
) -> None:
    try:
        sig = _infer_signal(value, sig_name)
        entries.append(HashEntry(sig.name, sig.validate(value), metadata or _NO_METADATA, line))
    except HashListError:
        raise
    except HashingError as exc:
        errors.append(LineError(line, str(exc)))


def _parse_plain(
    body: Sequence[tuple[int, str]], sig: str | None, entries: list[HashEntry], errors: list[LineError]
) -> None:
    for n, ln in body:
        s = ln.strip()
        if not s or s.startswith("#"):
            continue
        _add(entries, errors, n, s, sig)


def _parse_typed_lines(
    body: Sequence[tuple[int, str]], sig: str | None, entries: list[HashEntry], errors: list[LineError]
) -> None:
    for n, ln in body:
        s = ln.strip()
        if not s or s.startswith("#"):
            continue
        parts = s.split()
        if len(parts) == 1:
            _add(entries, errors, n, parts[0], sig)
            continue
        if len(parts) != 2:
            errors.append(LineError(n, "expected 'signal_type hash'"))
            continue
        try:
            typ = get_signal_type(parts[0]).name
        except HashingError as exc:
            errors.append(LineError(n, str(exc)))
            continue
        _add(entries, errors, n, parts[1], typ)


def _parse_headerless(
    body: Sequence[tuple[int, str]], sig: str | None, entries: list[HashEntry], errors: list[LineError]
) -> None:
    names = ("quality", "name")
    for n, ln in body:
        s = ln.strip()
        if not s or s.startswith("#"):
            continue
        cells = [c.strip() for c in re.split(r"[,\t]", s)]
        meta = {names[i] if i < len(names) else f"col{i + 2}": v for i, v in enumerate(cells[1:]) if v}
        _add(entries, errors, n, cells[0], sig, meta)


def _parse_csv(
    body: Sequence[tuple[int, str]], sig: str | None, entries: list[HashEntry], errors: list[LineError]
) -> None:
    rows = [(n, ln) for n, ln in body if ln.strip() and not ln.strip().startswith("#")]
    header_line, header_text = rows[0]
    delim = "\t" if "\t" in header_text and "," not in header_text else ","
    header = [h.strip().lower() for h in next(csv.reader(io.StringIO(header_text), delimiter=delim))]
    hash_col = next((header.index(c) for c in HASH_COLUMNS if c in header), None)
    if hash_col is None:
        raise HashListError(
            f"CSV hash list (header on line {header_line}) has no hash column; expected one of: "
            + ", ".join(HASH_COLUMNS[:8])
        )
    type_col = next((header.index(c) for c in TYPE_COLUMNS if c in header), None)
    col_sig = sig
    if type_col is None and header[hash_col] not in (
        "hash",
        "signal",
        "signal_value",
        "signal_str",
        "value",
        "indicator",
        "content_hash",
    ):
        col_sig = get_signal_type(header[hash_col].removesuffix("_hash")).name
    for n, ln in rows[1:]:
        try:
            cells = next(csv.reader(io.StringIO(ln), delimiter=delim))
        except (csv.Error, StopIteration) as exc:
            errors.append(LineError(n, f"unreadable CSV row: {exc}"))
            continue
        if len(cells) <= hash_col:
            errors.append(LineError(n, f"row has {len(cells)} columns, the hash is column {hash_col + 1}"))
            continue
        row_sig = col_sig
        if type_col is not None and type_col < len(cells) and cells[type_col].strip():
            try:
                row_sig = get_signal_type(cells[type_col]).name
            except HashingError as exc:
                errors.append(LineError(n, str(exc)))
                continue
        meta = {
            header[i]: c.strip()
            for i, c in enumerate(cells)
            if i not in (hash_col, type_col) and i < len(header) and c.strip()
        }
        _add(entries, errors, n, cells[hash_col], row_sig, meta)


def _parse_jsonl(
    body: Sequence[tuple[int, str]], sig: str | None, entries: list[HashEntry], errors: list[LineError]
) -> None:
    for n, ln in body:
        s = ln.strip()
        if not s or s.startswith("#"):
            continue
        try:
            obj = json.loads(s)
        except ValueError as exc:
            errors.append(LineError(n, f"invalid JSON: {exc.args[0] if exc.args else exc}"))
            continue
        if not isinstance(obj, dict):
            errors.append(LineError(n, "expected a JSON object"))
            continue
        value = next((obj[c] for c in HASH_COLUMNS if isinstance(obj.get(c), str)), None)
        if value is None:
            errors.append(LineError(n, "no hash field (signal, hash, signal_value, pdq, md5, sha256)"))
            continue
        typ = next((obj[c] for c in TYPE_COLUMNS if isinstance(obj.get(c), str)), None)
        row_sig = sig
        if typ:
            try:
                row_sig = get_signal_type(typ).name
            except HashingError as exc:
                errors.append(LineError(n, str(exc)))
                continue
        meta = {k: str(v) for k, v in obj.items() if k not in HASH_COLUMNS and k not in TYPE_COLUMNS}
        _add(entries, errors, n, value, row_sig, meta)


def write_hash_list(
    path: str | Path, entries: Iterable[HashEntry], *, name: str, version: str, provenance: dict[str, str] | None = None
) -> int:
    """Write entries as a CSV hash list with a provenance header; returns the number of entries written."""
    items = list(entries)
    meta_keys = sorted({k for e in items for k in e.metadata})
    buf = io.StringIO()
    buf.write(f"# name: {name}\n# version: {version}\n")
    for k, v in sorted((provenance or {}).items()):
        if k not in ("name", "version"):
            buf.write(f"# {k}: {v}\n")
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["signal_type", "hash", *meta_keys])
    for e in items:
        w.writerow([e.signal, e.hash, *(e.metadata.get(k, "") for k in meta_keys)])
    Path(path).write_text(buf.getvalue(), encoding="utf-8")
    return len(items)
