"""Content hashing: bytes -> cryptographic hashes, pictures -> PDQ (with its 8 dihedral variants).

This is the "content type" side of the separation: it knows how to read a kind of content and produce
signals, and nothing about lists or indexes. Pillow, numpy and pdqhash are imported lazily (extra ``[scan]``).
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from childsafe.hashing.signals import PDQ_MIN_QUALITY, HashingError

if TYPE_CHECKING:
    from PIL.Image import Image

PDQ_MAX_SIDE = 1024
"""Pictures larger than this are downscaled before PDQ (PDQ itself reduces to 64x64, so the hash barely moves)."""

DIHEDRAL_NAMES = ("original", "rotate90", "rotate180", "rotate270", "flip_x", "flip_y", "flip_plus1", "flip_minus1")


class ImageError(HashingError):
    """A file that could not be read as a picture; ``reason`` is a short stable code for manifests."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class PdqResult:
    """PDQ of one picture: the hash, its quality (0-100) and the hashes of its 8 rotations/flips."""

    hash: str
    quality: int
    dihedral: tuple[str, ...] = ()
    """All 8 variants (first is the original); empty when dihedral hashing was off."""

    @property
    def matchable(self) -> bool:
        return self.quality >= PDQ_MIN_QUALITY

    def query_hashes(self) -> tuple[str, ...]:
        return self.dihedral or (self.hash,)


@dataclass(frozen=True, slots=True)
class ContentHashes:
    """Every signal computed for one item."""

    md5: str
    sha1: str
    sha256: str
    size: int
    pdq: PdqResult | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def query_hashes(self, signal: str) -> tuple[str, ...]:
        """Hashes to look up for ``signal`` (PDQ: all dihedral variants, only when quality is high enough)."""
        if signal == "pdq":
            if self.pdq is None or not self.pdq.matchable:
                return ()
            return self.pdq.query_hashes()
        value = {"md5": self.md5, "sha1": self.sha1, "sha256": self.sha256}.get(signal) or self.extra.get(signal)
        return (value,) if value else ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "md5": self.md5,
            "sha1": self.sha1,
            "sha256": self.sha256,
            "size": self.size,
            "pdq": None if self.pdq is None else self.pdq.hash,
            "pdq_quality": None if self.pdq is None else self.pdq.quality,
        }


def hash_bytes(data: bytes) -> tuple[str, str, str]:
    """(md5, sha1, sha256) of ``data``."""
    return hashlib.md5(data).hexdigest(), hashlib.sha1(data).hexdigest(), hashlib.sha256(data).hexdigest()


def decode_image(data: bytes) -> Image:
    """Decode bytes into an RGB picture, or raise :class:`ImageError` with a stable reason code.

    Reasons: ``empty_file``, ``unsupported_format``, ``decompression_bomb`` (Pillow's pixel limit),
    ``corrupt_image`` (truncated or damaged data).
    """
    from PIL import Image as PILImage
    from PIL import UnidentifiedImageError

    if not data:
        raise ImageError("empty_file", "the file is zero bytes")
    with warnings.catch_warnings():
        # Pillow only warns between 1x and 2x its pixel limit; treat both as a bomb so the limit is the limit.
        warnings.simplefilter("error", PILImage.DecompressionBombWarning)
        try:
            img = PILImage.open(io.BytesIO(data))
            if img.format == "JPEG":
                img.draft("RGB", (PDQ_MAX_SIDE, PDQ_MAX_SIDE))  # decode at reduced scale: much faster
            img.load()
        except (PILImage.DecompressionBombError, PILImage.DecompressionBombWarning) as exc:
            raise ImageError("decompression_bomb", str(exc)) from None
        except UnidentifiedImageError:
            raise ImageError("unsupported_format", "not a picture format Pillow can read") from None
        except (OSError, ValueError, SyntaxError, EOFError) as exc:
            raise ImageError("corrupt_image", str(exc) or type(exc).__name__) from None
        except Exception as exc:  # a damaged file can make a decoder fail in odd ways: never crash the scan
            raise ImageError("corrupt_image", f"{type(exc).__name__}: {exc}") from None
    if img.width < 1 or img.height < 1:
        raise ImageError("corrupt_image", "picture has no pixels")
    if img.mode != "RGB":
        return img.convert("RGB")
    return img


def pdq_hash_image(img: Image, *, dihedral: bool = True) -> PdqResult:
    """PDQ hash and quality of a picture; with ``dihedral`` also the hashes of its 8 rotations/flips."""
    import numpy as np
    import pdqhash
    from PIL import Image as PILImage

    if max(img.size) > PDQ_MAX_SIDE:
        img = img.copy()
        img.thumbnail((PDQ_MAX_SIDE, PDQ_MAX_SIDE), PILImage.Resampling.BILINEAR)
    if img.mode != "RGB":
        img = img.convert("RGB")
    arr = np.ascontiguousarray(np.asarray(img, dtype=np.uint8))
    if dihedral:
        vectors, quality = pdqhash.compute_dihedral(arr)
        hashes = tuple(_vector_to_hex(v) for v in vectors)
        return PdqResult(hash=hashes[0], quality=int(quality), dihedral=hashes)
    vector, quality = pdqhash.compute(arr)
    return PdqResult(hash=_vector_to_hex(vector), quality=int(quality))


def pdq_hex(data: bytes) -> str:
    """The PDQ hash of a picture file as it is (no rotations): the form an incident report's media evidence
    carries. Raises :class:`ImageError` when the bytes are no picture."""
    return pdq_hash_image(decode_image(data), dihedral=False).hash


def _vector_to_hex(vector: Any) -> str:
    import numpy as np

    # pdqhash returns bits most-significant first, the order of PDQ's canonical hex form.
    return bytes(np.packbits(np.asarray(vector, dtype=np.uint8))).hex()


def hash_content(data: bytes, *, image: bool = True, dihedral: bool = True) -> ContentHashes:
    """All signals for one file; raises :class:`ImageError` when ``image`` is set and it is no picture."""
    md5, sha1, sha256 = hash_bytes(data)
    pdq = pdq_hash_image(decode_image(data), dihedral=dihedral) if image else None
    return ContentHashes(md5=md5, sha1=sha1, sha256=sha256, size=len(data), pdq=pdq)
