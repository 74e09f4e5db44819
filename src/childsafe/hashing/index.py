"""Indexes: find the list entries within a distance of a query hash, fast.

Why one interface with several implementations: exact signals (md5, sha256) need only a dictionary;
PDQ needs Hamming-distance search, where the best structure depends on the list size. A linear scan is
simplest and fastest below a few tens of thousands of hashes; above that, multi-index hashing (MIH)
answers in well under a millisecond for a million hashes, and FAISS's binary multi-hash index is the
off-the-shelf alternative. All of them are *exact* within the threshold (multi-index hashing by the
pigeonhole principle: if two 256-bit hashes differ in at most ``t`` bits, one of the 16 16-bit chunks
differs in at most ``t // 16`` bits), so the choice changes speed, never results.

Contract: ``query(hashes, threshold)`` takes one or more canonical hashes (e.g. the 8 dihedral variants of
one picture) and returns ``(entry_id, distance)`` pairs, one per matching entry with its smallest
distance, sorted by distance. ``entry_id`` is the position of the hash in the order it was given.
Indexes are plain numpy data (no pickle of foreign objects), so they travel to worker processes cheaply.
"""

from __future__ import annotations

import itertools
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from childsafe.hashing.signals import PDQ_BITS, HashingError, SignalType, get_signal_type

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

LINEAR_MAX = 20_000
"""Below this many PDQ hashes a linear scan is as fast as anything else."""


class SignalIndex(ABC):
    """Search structure for one signal type. See the module docstring for the contract."""

    kind: ClassVar[str]

    def __init__(self, signal: SignalType) -> None:
        self.signal = signal

    @abstractmethod
    def __len__(self) -> int: ...

    @abstractmethod
    def query(self, hashes: Sequence[str], threshold: int | None = None) -> list[tuple[int, int]]:
        """Entries within ``threshold`` (default: the signal's) of any of ``hashes``, best first."""


class ExactIndex(SignalIndex):
    """Dictionary lookup for exact signals (md5, sha256, sha1)."""

    kind = "exact"

    def __init__(self, signal: SignalType, hashes: Sequence[str]) -> None:
        super().__init__(signal)
        self._n = len(hashes)
        self._table: dict[str, list[int]] = {}
        for i, h in enumerate(hashes):
            self._table.setdefault(h, []).append(i)

    def __len__(self) -> int:
        return self._n

    def query(self, hashes: Sequence[str], threshold: int | None = None) -> list[tuple[int, int]]:
        found: dict[int, int] = {}
        for h in hashes:
            for i in self._table.get(h.lower(), ()):
                found[i] = 0
        return sorted(found.items())


def pdq_to_array(hashes: Sequence[str]) -> npt.NDArray[np.uint8]:
    """Canonical PDQ hex strings -> (N, 32) uint8 array (fast path for large lists)."""
    import numpy as np

    if not hashes:
        return np.zeros((0, PDQ_BITS // 8), dtype=np.uint8)
    try:
        raw = bytes.fromhex("".join(hashes))
    except ValueError as exc:
        raise HashingError(f"invalid PDQ hash in index input: {exc}") from None
    if len(raw) != len(hashes) * (PDQ_BITS // 8):
        raise HashingError("every PDQ hash must have 64 hex digits")
    return np.frombuffer(raw, dtype=np.uint8).reshape(len(hashes), PDQ_BITS // 8)


class _PdqIndex(SignalIndex):
    def __init__(self, hashes: Sequence[str] | npt.NDArray[np.uint8]) -> None:
        import numpy as np

        super().__init__(get_signal_type("pdq"))
        arr = hashes if isinstance(hashes, np.ndarray) else pdq_to_array(list(hashes))
        self._bytes: npt.NDArray[np.uint8] = np.ascontiguousarray(arr, dtype=np.uint8)
        self._words: npt.NDArray[np.uint64] = self._bytes.view(np.uint64)  # (N, 4)

    def __len__(self) -> int:
        return int(self._bytes.shape[0])

    def _threshold(self, threshold: int | None) -> int:
        t = self.signal.threshold if threshold is None else threshold
        if t < 0 or t >= PDQ_BITS:
            raise HashingError(f"PDQ threshold must be in 0..255, got {t}")
        return t

    def _best(self, qids: Any, eids: Any, dists: Any) -> list[tuple[int, int]]:
        best: dict[int, int] = {}
        for e, d in zip(eids.tolist(), dists.tolist(), strict=True):
            if e not in best or d < best[e]:
                best[e] = d
        return sorted(((e, d) for e, d in best.items()), key=lambda p: (p[1], p[0]))


class LinearPdqIndex(_PdqIndex):
    """Brute-force Hamming scan with numpy popcounts; best for small lists."""

    kind = "linear"

    def query(self, hashes: Sequence[str], threshold: int | None = None) -> list[tuple[int, int]]:
        import numpy as np

        t = self._threshold(threshold)
        if not hashes or len(self) == 0:
            return []
        q = pdq_to_array(list(hashes)).view(np.uint64)  # (Q, 4)
        x = np.bitwise_count(self._words[None, :, :] ^ q[:, None, :])  # (Q, N, 4)
        d = x[..., 0].astype(np.int32) + x[..., 1] + x[..., 2] + x[..., 3]
        qi, ei = np.nonzero(d <= t)
        return self._best(qi, ei, d[qi, ei])


class MihPdqIndex(_PdqIndex):
    """Multi-index hashing over 16 chunks of 16 bits (exact within the threshold); best for large lists."""

    kind = "mih"
    CHUNKS = 16

    def __init__(self, hashes: Sequence[str] | npt.NDArray[np.uint8]) -> None:
        import numpy as np

        super().__init__(hashes)
        n = len(self)
        chunks = self._bytes.view(">u2").astype(np.int64)  # (N, 16) big-endian 16-bit chunk values
        self._order = np.empty((self.CHUNKS, n), dtype=np.int32)
        self._offsets = np.zeros((self.CHUNKS, 65537), dtype=np.int64)
        for c in range(self.CHUNKS):
            col = chunks[:, c]
            self._order[c] = np.argsort(col, kind="stable")
            self._offsets[c, 1:] = np.cumsum(np.bincount(col, minlength=65536))
        self._order_flat = self._order.reshape(-1)
        self._offsets_flat = self._offsets.reshape(-1)
        self._flip_cache: dict[int, Any] = {}

    def _flips(self, nflip: int) -> Any:
        import numpy as np

        if nflip not in self._flip_cache:
            masks = [0]
            for k in range(1, nflip + 1):
                masks.extend(sum(1 << b for b in combo) for combo in itertools.combinations(range(16), k))
            self._flip_cache[nflip] = np.array(masks, dtype=np.int64)
        return self._flip_cache[nflip]

    def query(self, hashes: Sequence[str], threshold: int | None = None) -> list[tuple[int, int]]:
        import numpy as np

        t = self._threshold(threshold)
        n = len(self)
        if not hashes or n == 0:
            return []
        qb = pdq_to_array(list(hashes))
        flips = self._flips(t // self.CHUNKS)
        nq, nf = len(qb), len(flips)
        qc = qb.view(">u2").astype(np.int64)  # (Q, 16)
        # Flat position of every probed bucket in the (16 x 65537) offsets table.
        rows = (np.arange(self.CHUNKS, dtype=np.int64) * 65537)[None, :, None]
        probes = ((qc[:, :, None] ^ flips[None, None, :]) + rows).ravel()
        start = self._offsets_flat[probes]
        lens = self._offsets_flat[probes + 1] - start
        total = int(lens.sum())
        if total == 0:
            return []
        # Expand each bucket [start, start+len) into positions of the flat (16 x N) order table.
        chunk_base = np.broadcast_to((np.arange(self.CHUNKS, dtype=np.int64) * n)[None, :, None], (nq, self.CHUNKS, nf))
        first = start + chunk_base.ravel() - (np.cumsum(lens) - lens)
        cand = self._order_flat[np.repeat(first, lens) + np.arange(total)]
        qw = qb.view(np.uint64)
        if nq == 1:
            x = np.bitwise_count(self._words[cand] ^ qw[0])
            cq = np.zeros(total, dtype=np.int64)
        else:
            cq = np.repeat(np.repeat(np.arange(nq), self.CHUNKS * nf), lens)
            x = np.bitwise_count(self._words[cand] ^ qw[cq])
        d = x[:, 0].astype(np.int32) + x[:, 1] + x[:, 2] + x[:, 3]
        keep = d <= t
        return self._best(cq[keep], cand[keep], d[keep])


class FaissPdqIndex(_PdqIndex):
    """FAISS binary multi-hash index (faiss-cpu), exact within the threshold by the same pigeonhole bound."""

    kind = "faiss"

    def __init__(self, hashes: Sequence[str] | npt.NDArray[np.uint8]) -> None:
        super().__init__(hashes)
        try:
            import faiss
        except ImportError:
            raise HashingError("the faiss index needs faiss-cpu: pip install 'childsafe[scan]'") from None
        # One thread: scanner parallelism comes from processes, and OpenMP spinning on shared cores costs more
        # than it gains for single-picture queries.
        faiss.omp_set_num_threads(1)
        self._index = faiss.IndexBinaryMultiHash(PDQ_BITS, 16, 16)
        if len(self):
            self._index.add(self._bytes)

    def query(self, hashes: Sequence[str], threshold: int | None = None) -> list[tuple[int, int]]:
        import numpy as np

        t = self._threshold(threshold)
        if not hashes or len(self) == 0:
            return []
        qb = pdq_to_array(list(hashes))
        self._index.nflip = t // 16
        lims, dists, ids = self._index.range_search(qb, t + 1)  # faiss keeps distances strictly below radius
        qid = np.repeat(np.arange(len(qb)), np.diff(lims).astype(np.int64))
        return self._best(qid, ids.astype(np.int64), dists.astype(np.int64))

    def __getstate__(self) -> dict[str, Any]:
        return {"bytes": self._bytes}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["bytes"])  # type: ignore[misc]


PDQ_INDEX_KINDS: dict[str, type[_PdqIndex]] = {"linear": LinearPdqIndex, "mih": MihPdqIndex, "faiss": FaissPdqIndex}


def build_index(signal: SignalType | str, hashes: Sequence[str], kind: str = "auto") -> SignalIndex:
    """Build the right index for ``signal``: exact for exact signals; for PDQ ``kind`` is
    ``linear``, ``mih``, ``faiss`` or ``auto`` (linear below :data:`LINEAR_MAX` hashes, else mih)."""
    sig = get_signal_type(signal) if isinstance(signal, str) else signal
    if sig.exact:
        return ExactIndex(sig, hashes)
    if kind == "auto":
        kind = "linear" if len(hashes) < LINEAR_MAX else "mih"
    try:
        cls = PDQ_INDEX_KINDS[kind]
    except KeyError:
        raise HashingError(f"unknown index kind {kind!r}; known: auto, {', '.join(PDQ_INDEX_KINDS)}") from None
    return cls(hashes)
