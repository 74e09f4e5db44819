"""Signed checkpoints kept outside the database, so removing the newest audit events is detected.

The hash chain proves that no event was edited, inserted or removed *between* others, and the signed
checkpoints in ``audit_checkpoints`` prove the chain up to each of them. Neither can show that the newest
events are gone: someone who deletes the last rows of ``audit_events`` (and the checkpoints after them) leaves a
shorter chain that is still perfectly consistent. What catches that is a record of how long the chain was,
kept where that someone cannot reach.

So the gateway ships checkpoints out: every ``audit.checkpoint_minutes`` it signs the newest event (when new
events came), and whenever the database holds a newer signed checkpoint than the file (the log signs one every
``audit.checkpoint_every`` events) it appends that checkpoint to ``<audit.checkpoint_dir>/audit-checkpoints.jsonl``
(fsynced, mode 0600). ``childsafe audit verify`` then reports the log as truncated when it ends before the
newest checkpoint in the file, and as altered when the event there no longer has the signed hash. The file is
only as safe as its directory: point ``audit.checkpoint_dir`` outside the data folder (another disk or host,
an append-only mount), so that access to the database and the data folder is not enough to rewrite it.

Each line is a checkpoint as the database holds it (event number, head hash, time, key id, Ed25519
signature), so it is checked with the same key. The head hash commits to every event before it, so the newest
valid line is the one that matters; older lines are kept as history.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from time import monotonic

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from childsafe.audit.log import AuditLog, Checkpoint, Problem, VerifyReport
from childsafe.audit.settings import audit_config, data_dir_of
from childsafe.audit.signing import checkpoint_message, key_id, signature_valid
from childsafe.config import AuditConfig
from childsafe.types import ChildsafeError

log = logging.getLogger("childsafe.audit")

CHECKPOINT_FILE = "audit-checkpoints.jsonl"
_POLL_S = 5.0


class CheckpointFileError(ChildsafeError):
    """The checkpoint file or its directory cannot be created, written or read."""


def checkpoint_path(section: AuditConfig, data_dir: str | Path) -> Path:
    """``<checkpoint_dir>/audit-checkpoints.jsonl``, or in ``data_dir`` when no directory is set."""
    directory = section.checkpoint_dir or data_dir
    return Path(str(directory)).expanduser() / CHECKPOINT_FILE


def checkpoint_file_path(config: object) -> Path:
    """:func:`checkpoint_path` for a whole config (``audit.checkpoint_dir``, else ``store.data_dir``)."""
    return checkpoint_path(audit_config(config), data_dir_of(config))


@dataclass(frozen=True, slots=True)
class ShippedCheckpoint:
    """One line of the checkpoint file."""

    line: int
    seq: int
    head_hash: str
    at: str
    key_id: str
    signature: str

    def signed_by(self, public: Ed25519PublicKey) -> bool:
        message = checkpoint_message(self.seq, self.head_hash, self.at, self.key_id)
        return self.key_id == key_id(public) and signature_valid(public, message, self.signature)


def _parse(line_no: int, raw: bytes) -> ShippedCheckpoint | None:
    try:
        data = json.loads(raw)
        cp = ShippedCheckpoint(line_no, data["seq"], data["head_hash"], data["at"], data["key_id"], data["signature"])
    except (ValueError, KeyError, TypeError):
        return None
    fields_ok = isinstance(cp.seq, int) and cp.seq > 0
    fields_ok = fields_ok and all(isinstance(v, str) for v in (cp.head_hash, cp.at, cp.key_id, cp.signature))
    return cp if fields_ok else None


class CheckpointFile:
    """The append-only JSON-lines file of shipped checkpoints."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def append(self, cp: Checkpoint) -> None:
        """Append ``cp`` as one line and fsync it (the file is created with mode 0600)."""
        record = {
            "seq": cp.seq,
            "head_hash": cp.head_hash,
            "at": cp.at.isoformat(timespec="microseconds"),
            "key_id": cp.key_id,
            "signature": cp.signature,
        }
        line = (json.dumps(record, sort_keys=True, separators=(",", ":")) + "\n").encode("ascii")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line)  # one short write to an O_APPEND file: lines of several writers never mix
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise CheckpointFileError(f"cannot write the audit checkpoint file {self.path}: {exc.strerror}") from None

    def read(self) -> tuple[list[ShippedCheckpoint], list[int]] | None:
        """(checkpoints, numbers of unreadable lines), or None when the file does not exist."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise CheckpointFileError(f"cannot read the audit checkpoint file {self.path}: {exc.strerror}") from None
        checkpoints: list[ShippedCheckpoint] = []
        unreadable: list[int] = []
        for n, line in enumerate(raw.split(b"\n"), start=1):
            if not line.strip():
                continue
            cp = _parse(n, line)
            if cp is None:
                unreadable.append(n)
            else:
                checkpoints.append(cp)
        return checkpoints, unreadable

    def newest_seq(self) -> int:
        found = self.read()
        return max((cp.seq for cp in found[0]), default=0) if found else 0


class CheckpointShipper:
    """Signs the newest event every ``every_minutes`` and copies each newer signed checkpoint to the file.

    ``start`` runs it on a daemon thread that looks every few seconds (one indexed query when nothing is new);
    ``close`` stops the thread and ships a last checkpoint, so a clean shutdown leaves the whole log covered.
    A failed write is logged and retried at the next look; ``failures`` counts them."""

    def __init__(
        self,
        audit: AuditLog,
        file: CheckpointFile,
        *,
        every_minutes: float,
        clock: Callable[[], float] = monotonic,
    ) -> None:
        self._audit = audit
        self.file = file
        self._every_s = every_minutes * 60.0
        self._poll_s = min(_POLL_S, self._every_s)
        self._clock = clock
        self._signed_at = clock()
        self._shipped = file.newest_seq()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.shipped = 0
        """Checkpoints appended to the file since start."""
        self.failures = 0

    def ship(self, *, sign_now: bool = False) -> int:
        """Sign the head if due (or ``sign_now``), then append the newest signed checkpoint if the file lacks it;
        returns the newest event number the file covers."""
        with self._lock:
            if sign_now or self._clock() - self._signed_at >= self._every_s:
                self._signed_at = self._clock()
                newest = self._audit.newest_checkpoint()
                if self._audit.head_seq() > (newest.seq if newest else 0):
                    self._audit.checkpoint()
            newest = self._audit.newest_checkpoint()
            if newest is not None and newest.seq > self._shipped:
                self.file.append(newest)
                self._shipped = newest.seq
                self.shipped += 1
            return self._shipped

    def _run(self) -> None:
        while not self._stop.wait(self._poll_s):
            try:
                self.ship()
            except Exception as exc:  # the database or the disk is away for now; the next look tries again
                self.failures += 1
                log.error("could not ship an audit checkpoint: %s", _reason(exc))

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="childsafe-audit-checkpoints", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        try:
            self.ship(sign_now=True)
        except Exception as exc:
            log.error("could not ship the last audit checkpoint: %s", _reason(exc))


def _reason(exc: Exception) -> str:
    return str(exc) if isinstance(exc, CheckpointFileError) else type(exc).__name__


def open_shipper(audit: AuditLog, store: object, config: object) -> CheckpointShipper:
    """The gateway's shipper for a whole ``config`` (not started); see :func:`shipper_for`.

    ``store`` (the store's engine, as callers pass it) is not read again: ``audit`` is already over it."""
    return shipper_for(audit, audit_config(config), data_dir_of(config))


def shipper_for(audit: AuditLog, section: AuditConfig, data_dir: str | Path) -> CheckpointShipper:
    """The shipper for the ``audit`` section (not started). Fails at start-up when the directory is not
    writable: an operator who asked for checkpoints outside the data folder must not silently get none."""
    path = checkpoint_path(section, data_dir)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CheckpointFileError(f"cannot create audit.checkpoint_dir {path.parent}: {exc.strerror}") from None
    if not os.access(path.parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise CheckpointFileError(f"the audit checkpoint file {path} is not writable by this process")
    return CheckpointShipper(audit, CheckpointFile(path), every_minutes=section.checkpoint_minutes)


# -- verification -------------------------------------------------------------------------------------------


@dataclass
class ShippedReport:
    """What ``verify_shipped`` found in the file (its problems are added to the log's ``VerifyReport``)."""

    path: Path
    found: bool = False
    checkpoints: int = 0
    newest_seq: int | None = None
    problems: list[Problem] = field(default_factory=list)

    def summary(self) -> str:
        if not self.found:
            return f"no checkpoint file at {self.path}: removal of the newest events cannot be checked"
        newest = f", newest at event #{self.newest_seq}" if self.newest_seq else ""
        return f"{self.checkpoints} checkpoints in {self.path}{newest}"


def verify_shipped(
    log: object, path: str | Path, public: Ed25519PublicKey | None, report: VerifyReport | None = None
) -> ShippedReport:
    """Check the checkpoint file against the log: every line's signature, and the newest valid line's event.

    ``log`` is the :class:`AuditLog`, or what one is opened over (the store's engine, as the CLI passes it).
    The log is *truncated* when it ends before that event, *altered* when the event there has another hash.
    Problems go to ``report`` too when one is given (so one verdict covers the chain and the file)."""
    file = CheckpointFile(path)
    result = ShippedReport(file.path)
    found = file.read()
    if found is not None:
        result.found = True
        _check_lines(log if isinstance(log, AuditLog) else AuditLog(log, None), file.path, found, public, result)
    if report is not None:
        report.problems.extend(result.problems)
    return result


def _check_lines(
    log: AuditLog,
    path: Path,
    found: tuple[list[ShippedCheckpoint], list[int]],
    public: Ed25519PublicKey | None,
    result: ShippedReport,
) -> None:
    checkpoints, unreadable = found
    result.checkpoints = len(checkpoints)
    for n in unreadable:
        result.problems.append(Problem("checkpoint", 0, None, f"{path.name} line {n} is not a checkpoint record"))
    if not checkpoints:
        return
    if public is None:
        result.problems.append(Problem("checkpoint", 0, None, f"no public key to check the signatures in {path}"))
        return
    valid: list[ShippedCheckpoint] = []
    for cp in checkpoints:
        if cp.signed_by(public):
            valid.append(cp)
        else:
            message = f"{path.name} line {cp.line} (event #{cp.seq}): signature is not valid"
            result.problems.append(Problem("checkpoint", cp.seq, None, message))
    if not valid:
        return
    newest = max(valid, key=lambda cp: cp.seq)
    result.newest_seq = newest.seq
    problem = _against_log(log, newest, path)
    if problem is not None:
        result.problems.append(problem)


def _against_log(log: AuditLog, cp: ShippedCheckpoint, path: Path) -> Problem | None:
    last = log.head_seq()
    row = log.record(cp.seq)
    signed = f"a checkpoint signed at {cp.at} and kept in {path}"
    if last < cp.seq:
        span = f"#{last + 1}" if last + 1 == cp.seq else f"#{last + 1}..#{cp.seq}"
        return Problem(
            "truncated",
            last + 1,
            None,
            f"the newest events were removed: the log ends at event #{last}, but {signed} names event #{cp.seq} "
            f"(events {span} are missing)",
        )
    if row is None:
        return Problem("removed", cp.seq, None, f"event #{cp.seq} was removed ({signed} names it)")
    if row.hash != cp.head_hash:
        return Problem(
            "altered",
            cp.seq,
            str(row.id),
            f"the log up to event #{cp.seq} (id {row.id}) differs from {signed} (events were altered, removed "
            "or inserted and the chain rebuilt)",
        )
    return None
