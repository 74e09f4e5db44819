import numpy as np
import pytest

from childsafe.hashing import FaissPdqIndex, LinearPdqIndex, MihPdqIndex, build_index, get_signal_type
from childsafe.hashing.index import ExactIndex

PDQ = get_signal_type("pdq")


def _flip(h: str, bits: list[int]) -> str:
    v = int(h, 16)
    for b in bits:
        v ^= 1 << b
    return f"{v:064x}"


@pytest.fixture(scope="module")
def corpus() -> tuple[list[str], list[str]]:
    rng = np.random.default_rng(7)
    base = [bytes(rng.integers(0, 256, 32, dtype=np.uint8)).hex() for _ in range(3000)]
    # Queries at distances straddling the threshold from known entries, plus random ones.
    queries = []
    for i, d in enumerate([0, 1, 15, 16, 17, 30, 31, 32, 33, 47, 48, 60]):
        queries.append(_flip(base[i * 11], [int(b) for b in rng.choice(256, d, replace=False)]))
    queries += [bytes(rng.integers(0, 256, 32, dtype=np.uint8)).hex() for _ in range(20)]
    return base, queries


def _brute(base: list[str], queries: list[str], t: int) -> list[tuple[int, int]]:
    best: dict[int, int] = {}
    for q in queries:
        for i, h in enumerate(base):
            d = PDQ.distance(q, h)
            if d <= t and (i not in best or d < best[i]):
                best[i] = d
    return sorted(best.items(), key=lambda p: (p[1], p[0]))


@pytest.mark.parametrize("cls", [LinearPdqIndex, MihPdqIndex, FaissPdqIndex])
@pytest.mark.parametrize("threshold", [0, 15, 31, 47])
def test_pdq_indexes_return_exactly_the_entries_within_threshold(
    cls: type, threshold: int, corpus: tuple[list[str], list[str]]
) -> None:
    base, queries = corpus
    index = cls(base)
    assert len(index) == len(base)
    for q in queries:
        assert index.query([q], threshold) == _brute(base, [q], threshold), q
    # several queries at once (e.g. the 8 dihedral variants): best distance per entry
    assert index.query(queries[:9], threshold) == _brute(base, queries[:9], threshold)


def test_default_threshold_is_31_bits(corpus: tuple[list[str], list[str]]) -> None:
    base, _ = corpus
    idx = MihPdqIndex(base)
    assert idx.query([_flip(base[0], list(range(31)))]) == [(0, 31)]
    assert idx.query([_flip(base[0], list(range(32)))]) == []


def test_duplicate_hashes_all_returned() -> None:
    h = PDQ.examples()[0]
    for cls in (LinearPdqIndex, MihPdqIndex, FaissPdqIndex):
        assert cls([h, PDQ.examples()[1], h]).query([h]) == [(0, 0), (2, 0)]


def test_build_index_picks_by_signal_and_size() -> None:
    md5 = get_signal_type("md5").examples()
    ex = build_index("md5", md5)
    assert isinstance(ex, ExactIndex)
    assert ex.query([md5[1].upper()]) == [(1, 0)]
    assert isinstance(build_index("pdq", PDQ.examples()), LinearPdqIndex)
    assert isinstance(build_index("pdq", PDQ.examples(), kind="faiss"), FaissPdqIndex)
    assert build_index("pdq", []).query([PDQ.examples()[0]]) == []
