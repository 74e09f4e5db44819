"""Matcher: every loaded hash list, indexed per signal type, queried with an item's hashes."""

from __future__ import annotations

import gc
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from childsafe.hashing.hashers import ContentHashes
from childsafe.hashing.index import SignalIndex, build_index
from childsafe.hashing.lists import HashList
from childsafe.hashing.signals import PDQ_DEFAULT_THRESHOLD, HashingError


@dataclass(frozen=True, slots=True)
class Match:
    """One hit of an item against one list entry, with enough provenance to trace it back."""

    list: str
    list_version: str
    signal: str
    distance: int
    hash: str
    """The list's hash that matched (not the item's)."""
    metadata: dict[str, str] = field(default_factory=dict)
    line: int = 0

    def to_manifest(self) -> dict[str, Any]:
        return {"list": self.list, "signal": self.signal, "distance": self.distance, "hash": self.hash}

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.to_manifest(),
            "list_version": self.list_version,
            "line": self.line,
            "metadata": dict(self.metadata),
        }


class Matcher:
    """Matches :class:`ContentHashes` against several lists; indexes are built once, on first use."""

    def __init__(
        self, lists: Sequence[HashList], *, pdq_threshold: int = PDQ_DEFAULT_THRESHOLD, index_kind: str = "auto"
    ) -> None:
        if not 0 <= pdq_threshold < 256:
            raise HashingError(f"PDQ threshold must be in 0..255, got {pdq_threshold}")
        self.lists = list(lists)
        self.pdq_threshold = pdq_threshold
        self.index_kind = index_kind
        self._indexes: list[tuple[HashList, str, SignalIndex, list[int]]] | None = None

    def build(self) -> None:
        """Build every index now (otherwise done on the first match)."""
        if self._indexes is not None:
            return
        built: list[tuple[HashList, str, SignalIndex, list[int]]] = []
        gc_was_on = gc.isenabled()
        gc.disable()  # a million short-lived strings would trigger the cyclic GC over and over
        try:
            self._build_into(built)
        finally:
            if gc_was_on:
                gc.enable()
        self._indexes = built

    def _build_into(self, built: list[tuple[HashList, str, SignalIndex, list[int]]]) -> None:
        for hl in self.lists:
            for sig in hl.signals():
                positions = [i for i, e in enumerate(hl.entries) if e.signal == sig]
                hashes = [hl.entries[i].hash for i in positions]
                built.append((hl, sig, build_index(sig, hashes, self.index_kind), positions))

    @property
    def signals(self) -> set[str]:
        return {e.signal for hl in self.lists for e in hl.entries}

    def match(self, hashes: ContentHashes) -> list[Match]:
        self.build()
        assert self._indexes is not None
        out: list[Match] = []
        for hl, sig, index, positions in self._indexes:
            queries = hashes.query_hashes(sig)
            if not queries:
                continue
            threshold = self.pdq_threshold if sig == "pdq" else None
            for eid, dist in index.query(queries, threshold):
                entry = hl.entries[positions[eid]]
                out.append(Match(hl.name, hl.version, sig, int(dist), entry.hash, entry.metadata, entry.line))
        out.sort(key=lambda m: (m.distance, m.list, m.signal))
        return out

    def __getstate__(self) -> dict[str, Any]:
        # Indexes are rebuilt in each worker process rather than pickled.
        return {"lists": self.lists, "pdq_threshold": self.pdq_threshold, "index_kind": self.index_kind}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.lists = state["lists"]
        self.pdq_threshold = state["pdq_threshold"]
        self.index_kind = state["index_kind"]
        self._indexes = None
