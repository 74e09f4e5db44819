import hashlib

import pytest
from PIL import Image, ImageEnhance, ImageOps

from childsafe.hashing import (
    HashList,
    ImageError,
    Matcher,
    decode_image,
    get_signal_type,
    hash_content,
    pdq_hash_image,
)
from childsafe.hashing.lists import HashEntry
from childsafe.scan.synthetic import encode, flat_image, structured_image

PDQ = get_signal_type("pdq")


def _best(ref: str, img: Image.Image) -> int:
    return min(PDQ.distance(ref, h) for h in pdq_hash_image(img).dihedral)


def test_cryptographic_hashes_are_of_the_file_bytes() -> None:
    data = encode(structured_image(3))
    h = hash_content(data)
    assert h.md5 == hashlib.md5(data).hexdigest() and h.sha256 == hashlib.sha256(data).hexdigest()
    assert h.sha1 == hashlib.sha1(data).hexdigest() and h.size == len(data)
    assert h.pdq is not None and len(h.pdq.dihedral) == 8 and h.pdq.dihedral[0] == h.pdq.hash


def test_pdq_survives_light_edits_and_separates_different_pictures() -> None:
    img = structured_image(4, (320, 240))
    ref = pdq_hash_image(img)
    assert ref.quality >= 50
    assert _best(ref.hash, decode_image(encode(img, "JPEG", quality=60))) <= 31
    assert _best(ref.hash, img.resize((160, 120))) <= 31
    assert _best(ref.hash, ImageEnhance.Brightness(img).enhance(0.8)) <= 31
    assert _best(ref.hash, img.crop((2, 2, 318, 238))) <= 31
    assert _best(ref.hash, ImageOps.mirror(img)) <= 31  # through the dihedral variants
    assert _best(ref.hash, ImageOps.flip(img)) <= 31
    assert PDQ.distance(ref.hash, pdq_hash_image(ImageOps.mirror(img)).hash) > 31  # without them: no match
    assert min(PDQ.distance(ref.hash, pdq_hash_image(structured_image(s, (320, 240))).hash) for s in range(5, 15)) > 60


def test_dihedral_variants_are_exact_without_resampling() -> None:
    img = structured_image(9, (64, 64))
    ref = pdq_hash_image(img)
    for t in (ImageOps.mirror, ImageOps.flip, lambda i: i.rotate(90), lambda i: i.rotate(180)):
        assert _best(ref.hash, t(img)) == 0


def test_flat_picture_has_low_quality_and_is_never_matched() -> None:
    data = encode(flat_image())
    h = hash_content(data)
    assert h.pdq is not None and h.pdq.quality < 50 and not h.pdq.matchable
    lists = [HashList("l", "1", [HashEntry("pdq", h.pdq.hash), HashEntry("md5", h.md5)])]
    matches = Matcher(lists).match(h)
    assert [m.signal for m in matches] == ["md5"]  # the exact copy still matches by md5


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty_file"),
        (b"this is plain text, not a picture", "unsupported_format"),
        (encode(structured_image(1), "JPEG")[:400], "corrupt_image"),
        (encode(structured_image(1), "PNG")[:200], "corrupt_image"),
    ],
)
def test_bad_pictures_raise_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(ImageError) as err:
        decode_image(data)
    assert err.value.reason == reason


def test_decompression_bomb_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    data = encode(structured_image(1, (300, 300)))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10_000)
    with pytest.raises(ImageError) as err:
        decode_image(data)  # 90,000 px: over 2x the limit -> Pillow's DecompressionBombError
    assert err.value.reason == "decompression_bomb"
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 60_000)
    with pytest.raises(ImageError, match="decompression_bomb"):
        decode_image(data)  # between 1x and 2x: Pillow only warns, we refuse


def test_matcher_reports_list_provenance_and_distance() -> None:
    img = structured_image(2)
    h = pdq_hash_image(img).hash
    lst = HashList("bank", "v9", [HashEntry("pdq", h, {"case": "7"}, line=3)])
    copy = hash_content(encode(img.resize((200, 200)), "JPEG", quality=80))
    m = Matcher([lst]).match(copy)
    assert len(m) == 1
    assert (m[0].list, m[0].list_version, m[0].signal, m[0].hash, m[0].line) == ("bank", "v9", "pdq", h, 3)
    assert 0 < m[0].distance <= 31 and m[0].metadata == {"case": "7"}
    assert Matcher([lst], pdq_threshold=0).match(copy) == []
