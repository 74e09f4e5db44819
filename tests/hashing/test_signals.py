import pytest

from childsafe.hashing import SIGNAL_TYPES, HashingError, InvalidHashError, get_signal_type, pdq_hash_image
from childsafe.scan.synthetic import structured_image


@pytest.mark.parametrize("name", ["pdq", "md5", "sha256", "sha1"])
def test_examples_are_valid_and_canonical(name: str) -> None:
    sig = get_signal_type(name)
    assert sig.examples()
    for ex in sig.examples():
        assert sig.validate(ex) == ex
        assert sig.distance(ex, ex) == 0
        assert sig.matches(ex, ex)


def test_pdq_examples_are_hashes_of_the_generated_pictures() -> None:
    sig = get_signal_type("pdq")
    for seed, example in zip((1, 2), sig.examples(), strict=True):
        assert sig.distance(pdq_hash_image(structured_image(seed)).hash, example) <= 2


def test_validation_normalises_and_rejects() -> None:
    md5 = get_signal_type("MD5")
    assert md5.validate("  D41D8CD98F00B204E9800998ECF8427E \n") == "d41d8cd98f00b204e9800998ecf8427e"
    assert md5.validate("0xd41d8cd98f00b204e9800998ecf8427e") == "d41d8cd98f00b204e9800998ecf8427e"
    with pytest.raises(InvalidHashError, match="32 hex digits, got 31"):
        md5.validate("d41d8cd98f00b204e9800998ecf8427")
    with pytest.raises(InvalidHashError, match="hexadecimal"):
        md5.validate("z41d8cd98f00b204e9800998ecf8427e")
    with pytest.raises(InvalidHashError, match="empty"):
        get_signal_type("pdq").validate("   ")


def test_pdq_distance_is_hamming() -> None:
    pdq = get_signal_type("pdq")
    a = "0" * 64
    assert pdq.distance(a, "f" + "0" * 63) == 4
    assert pdq.distance(a, "f" * 64) == 256
    b = "7" + "f" * 7 + "0" * 56  # 31 bits set
    assert pdq.distance(a, b) == 31 and pdq.matches(a, b)
    assert not pdq.matches(a, "f" * 8 + "0" * 56)  # 32 bits
    assert pdq.threshold == 31


def test_exact_signals_match_only_identical() -> None:
    sha = get_signal_type("sha256")
    e = sha.examples()
    assert sha.distance(e[0], e[1]) == 1 and not sha.matches(e[0], e[1])


def test_unknown_signal_names_the_known_ones() -> None:
    with pytest.raises(HashingError, match="known: pdq, md5, sha256"):
        get_signal_type("tlsh")
    assert get_signal_type("HASH_PDQ").name == "pdq"
    assert set(SIGNAL_TYPES) >= {"pdq", "md5", "sha256"}
