"""Hash matching: signal types (pdq, md5, sha256), content hashing, hash lists and indexes.

A leaf library: it imports nothing from childsafe but :mod:`childsafe.types`. Pillow, numpy, pdqhash and
faiss are imported lazily inside the functions that need them (extra ``[scan]``).
"""

from childsafe.hashing.hashers import (
    ContentHashes,
    ImageError,
    PdqResult,
    decode_image,
    hash_bytes,
    hash_content,
    pdq_hash_image,
)
from childsafe.hashing.index import ExactIndex, FaissPdqIndex, LinearPdqIndex, MihPdqIndex, SignalIndex, build_index
from childsafe.hashing.lists import (
    HashEntry,
    HashList,
    HashListError,
    LineError,
    load_hash_list,
    parse_hash_list,
    parse_list_spec,
    write_hash_list,
)
from childsafe.hashing.matcher import Match, Matcher
from childsafe.hashing.signals import (
    PDQ_DEFAULT_THRESHOLD,
    PDQ_MIN_QUALITY,
    SIGNAL_TYPES,
    HashingError,
    InvalidHashError,
    SignalType,
    get_signal_type,
)

__all__ = [
    "PDQ_DEFAULT_THRESHOLD",
    "PDQ_MIN_QUALITY",
    "SIGNAL_TYPES",
    "ContentHashes",
    "ExactIndex",
    "FaissPdqIndex",
    "HashEntry",
    "HashList",
    "HashListError",
    "HashingError",
    "ImageError",
    "InvalidHashError",
    "LineError",
    "LinearPdqIndex",
    "Match",
    "Matcher",
    "MihPdqIndex",
    "PdqResult",
    "SignalIndex",
    "SignalType",
    "build_index",
    "decode_image",
    "get_signal_type",
    "hash_bytes",
    "hash_content",
    "load_hash_list",
    "parse_hash_list",
    "parse_list_spec",
    "pdq_hash_image",
    "write_hash_list",
]
