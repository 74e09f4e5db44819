"""The per-item function: read, hash, match, score nudity, check text, decide. Runs anywhere.

:class:`ItemScanner` holds the heavy, per-process state (indexes, the nudity model, the safety engine),
built lazily on first use, so a local process pool and Ray actors construct it once per worker and then
call :meth:`ItemScanner.scan_batch` on plain dictionaries. Nothing here writes files: the runner owns
outputs, so matched content is never copied by a worker.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from childsafe.hashing.hashers import ContentHashes, ImageError, decode_image, hash_bytes, pdq_hash_image
from childsafe.hashing.lists import HashList
from childsafe.hashing.matcher import Matcher
from childsafe.scan.nudity import NudityModel, NudityUnavailable
from childsafe.scan.sources import Item

REMOVE_CATEGORIES = frozenset({"sexual_minors"})
"""Text categories whose presence removes an item outright (others send it to review)."""


@dataclass(slots=True)
class ScanSettings:
    """Everything a worker needs; plain data so it pickles to processes and Ray actors."""

    lists: list[HashList] = field(default_factory=list)
    pdq_threshold: int = 31
    index_kind: str = "auto"
    dihedral: bool = True
    nudity: bool = True
    nudity_review: float = 0.5
    nudity_remove: float = 0.85
    text: bool = True
    text_age: str = "10-12"
    text_role: str = "assistant"
    max_file_bytes: int = 200 * 1024 * 1024


def decide_action(record: dict[str, Any], settings: ScanSettings) -> str:
    """remove | review | keep, from one record (documented in docs/scanner.md)."""
    if record["matches"]:
        return "remove"
    cats = set(record["text_categories"])
    if cats & REMOVE_CATEGORIES:
        return "remove"
    nudity = record["nudity"]
    if nudity is not None and nudity >= settings.nudity_remove:
        return "remove"
    if record["status"] == "error":
        return "review"  # fail closed: an item that could not be checked is not silently kept
    if cats or (nudity is not None and nudity >= settings.nudity_review):
        return "review"
    return "keep"


def read_item_bytes(item: Item, max_bytes: int) -> bytes:
    """The picture's bytes (file, tar member by offset, or inline), or :class:`ImageError`."""
    if item.data is not None:
        return item.data
    assert item.image_file is not None
    try:
        if item.offset >= 0:
            if item.size > max_bytes:
                raise ImageError("file_too_large", f"{item.size} bytes (limit {max_bytes})")
            with open(item.image_file, "rb") as fh:
                fh.seek(item.offset)
                data = fh.read(item.size)
            if len(data) != item.size:
                raise ImageError("corrupt_image", "tar member is truncated")
            return data
        size = os.path.getsize(item.image_file)
        if size > max_bytes:
            raise ImageError("file_too_large", f"{size} bytes (limit {max_bytes})")
        with open(item.image_file, "rb") as fh:
            return fh.read()
    except FileNotFoundError:
        raise ImageError("missing_file", "the file does not exist") from None
    except IsADirectoryError:
        raise ImageError("unreadable_file", "is a directory") from None
    except PermissionError:
        raise ImageError("unreadable_file", "permission denied") from None
    except OSError as exc:
        raise ImageError("unreadable_file", exc.strerror or str(exc)) from None


class ItemScanner:
    """Per-worker scanner; see the module docstring."""

    def __init__(self, settings: ScanSettings) -> None:
        self.settings = settings
        self._matcher: Matcher | None = None
        self._nudity: NudityModel | None = None
        self._nudity_error: str | None = None
        self._engine: Any = None
        self._engine_error: str | None = None

    def warmup(self) -> None:
        """Build indexes and load the nudity model now rather than on the first item."""
        if self.settings.lists:
            _ = self.matcher
        self._nudity_model()

    @property
    def matcher(self) -> Matcher:
        if self._matcher is None:
            self._matcher = Matcher(
                self.settings.lists, pdq_threshold=self.settings.pdq_threshold, index_kind=self.settings.index_kind
            )
            self._matcher.build()
        return self._matcher

    def _nudity_model(self) -> NudityModel | None:
        if not self.settings.nudity or self._nudity_error is not None:
            return None
        if self._nudity is None:
            try:
                self._nudity = NudityModel.load()
            except NudityUnavailable as exc:
                self._nudity_error = str(exc)
                return None
        return self._nudity

    def scan_batch(self, items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """Scan plain-dict items (see :class:`Item`) and return one record dict each, in order."""
        parsed = [Item.from_dict(d) for d in items]
        records: list[dict[str, Any]] = []
        images: list[tuple[int, Any]] = []
        for item in parsed:
            rec, img = self._scan_image(item)
            if img is not None:
                images.append((len(records), img))
            records.append(rec)
        self._score_nudity(records, images)
        self._check_texts(parsed, records)
        for rec in records:
            rec["action"] = decide_action(rec, self.settings)
        return records

    def _scan_image(self, item: Item) -> tuple[dict[str, Any], Any]:
        rec: dict[str, Any] = {
            "key": item.key,
            "path": item.path,
            "status": "ok",
            "error": item.error,
            "matches": [],
            "match_details": [],
            "nudity": None,
            "text_categories": [],
            "action": "keep",
            "hashes": None,
            "pdq_quality": None,
            "pdq_low_quality": False,
            "image_file": None if item.is_tar_member else item.image_file,
            "is_tar_member": item.is_tar_member,
            "notes": [],
        }
        if item.error is not None:
            rec["status"] = "error"
            return rec, None
        if item.image_file is None and item.data is None:
            return rec, None
        img = None
        try:
            data = read_item_bytes(item, self.settings.max_file_bytes)
            md5, sha1, sha256 = hash_bytes(data)
            rec["hashes"] = {"md5": md5, "sha1": sha1, "sha256": sha256, "size": len(data), "pdq": None}
            pdq = None
            try:
                img = decode_image(data)
                pdq = pdq_hash_image(img, dihedral=self.settings.dihedral)
                rec["hashes"]["pdq"] = pdq.hash
                rec["pdq_quality"] = pdq.quality
                if not pdq.matchable:
                    rec["pdq_low_quality"] = True
                    rec["notes"].append(f"pdq quality {pdq.quality} < 50: recorded, not matched")
            except ImageError as exc:
                rec["status"], rec["error"] = "error", f"{exc.reason}: {exc.detail}"
            # Exact hashes are matched even when the picture does not decode: a known file is known.
            content = ContentHashes(md5=md5, sha1=sha1, sha256=sha256, size=len(data), pdq=pdq)
            matches = self.matcher.match(content) if self.settings.lists else []
            rec["matches"] = [m.to_manifest() for m in matches]
            rec["match_details"] = [m.to_dict() for m in matches]
        except ImageError as exc:
            rec["status"], rec["error"] = "error", f"{exc.reason}: {exc.detail}"
        return rec, img

    def _score_nudity(self, records: list[dict[str, Any]], images: list[tuple[int, Any]]) -> None:
        if not images or not self.settings.nudity:
            return
        model = self._nudity_model()
        if model is None:
            for i, _ in images:
                records[i]["notes"].append(f"nudity not scored: {self._nudity_error}")
            return
        try:
            scores = model.score([img for _, img in images])
        except Exception as exc:  # the model must never crash the scan; the items go to review
            for i, _ in images:
                records[i]["status"], records[i]["error"] = "error", f"nudity_failed: {type(exc).__name__}: {exc}"
            return
        for (i, _), s in zip(images, scores, strict=True):
            records[i]["nudity"] = round(float(s), 4)

    def _engine_instance(self) -> Any:
        if self._engine is None and self._engine_error is None:
            try:
                from childsafe.engine import Engine

                self._engine = Engine.from_config()
            except Exception as exc:  # engine missing or misconfigured: text checks fail closed
                self._engine_error = f"{type(exc).__name__}: {exc}"
        return self._engine

    def _check_texts(self, items: list[Item], records: list[dict[str, Any]]) -> None:
        if not self.settings.text:
            return
        flat: list[tuple[int, str]] = [
            (i, t) for i, it in enumerate(items) if it.error is None for t in it.texts.values() if t.strip()
        ]
        if not flat:
            return
        engine = self._engine_instance()
        if engine is None:
            for i in sorted({i for i, _ in flat}):
                if records[i]["status"] == "ok":
                    records[i]["status"] = "error"
                    records[i]["error"] = f"text_check_unavailable: {self._engine_error}"
            return
        try:
            decisions = check_texts(engine, [t for _, t in flat], self.settings.text_age, self.settings.text_role)
        except Exception as exc:
            for i in sorted({i for i, _ in flat}):
                records[i]["status"], records[i]["error"] = "error", f"text_check_failed: {type(exc).__name__}: {exc}"
            return
        for (i, _), cats in zip(flat, decisions, strict=True):
            merged = set(records[i]["text_categories"]) | set(cats)
            records[i]["text_categories"] = sorted(merged)


def check_texts(engine: Any, texts: list[str], age: str, role: str) -> list[list[str]]:
    """Flagged categories per text, from the safety engine checking at a child's age band."""
    decisions = engine.check_batch(texts, age=age, role=role)
    return [[str(getattr(c, "value", c)) for c in d.categories] for d in decisions]
