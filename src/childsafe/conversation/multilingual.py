"""Non-English messages in the conversation tracker.

The tracker's message model (``GroomingModel.message_logit``) is an English n-gram model: on a Spanish or Arabic
message it reads next to nothing. For a message identified as one of the ten other languages, the tracker takes
the multilingual model's grooming reading instead: the larger of its grooming and sexual_minors log-odds over
their thresholds (n-gram model alone, with the language's offset), read on the message with the phrases of the
stages children also use among themselves masked (as the English message model masks its own, so the stage
features count them once), and put on the message model's scale by a rising curve. The curve
(``multilingual.json`` beside the grooming model) is the expected message-model logit given that reading, fitted
on English conversations neither model trained on (``python -m childsafe.train.grooming_multilingual``). It
names the grooming model and the multilingual weights it was fitted for, by checksum; other weights are refused.
The multilingual model read here is always the packaged one (the detector's ``model_dir`` does not apply).
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from childsafe.conversation.model import ModelUnavailable, packaged_model_dir
from childsafe.detectors.grooming_multilingual import mask_stages
from childsafe.detectors.multilingual import (
    MODEL_DIR,
    MultilingualDetector,
    MultilingualModel,
    load_phrase_lists,
    model_text,
    phrase_features,
    phrase_hits,
)
from childsafe.text.context import TextContext
from childsafe.text.fold import fold
from childsafe.text.language import LanguageGuess
from childsafe.types import Category

MAP_FILE = "multilingual.json"
READ_HEADS = (Category.GROOMING, Category.SEXUAL_MINORS)
"""The multilingual heads whose reading stands in for the message model's."""


def ngram_digest(model_dir: Path = MODEL_DIR) -> str:
    """The checksum of the multilingual n-gram weights a map is fitted for."""
    return hashlib.sha256((model_dir / "ngram.npz").read_bytes()).hexdigest()


def grooming_digest(model_dir: Path) -> str:
    """The checksum of the grooming model (``grooming.npz``) a map is fitted for."""
    try:
        return hashlib.sha256((model_dir / "grooming.npz").read_bytes()).hexdigest()
    except OSError:
        return ""


class GroomingReading:
    """The multilingual model's grooming reading (n-gram model alone): per text, the larger of the ``READ_HEADS``
    log-odds over their thresholds, with the language's offset."""

    def __init__(self, model_dir: Path = MODEL_DIR) -> None:
        self.model = MultilingualModel(model_dir, encoder=False)
        self.heads = [self.model.categories.index(c) for c in READ_HEADS]
        self.lists = load_phrase_lists()

    def __call__(self, texts: list[str], languages: list[str], guesses: list[LanguageGuess] | None = None
                 ) -> npt.NDArray[np.float64]:
        """``guesses``: each text's identified language, for the phrase lists' features (none without)."""
        raws = [model_text(t) for t in texts]
        extras = None if guesses is None else [
            phrase_features(phrase_hits(self.lists, t, g)) for t, g in zip(texts, guesses, strict=True)]
        d = self.model.distances([fold(r).text for r in raws], raws, extras, languages)
        return np.asarray(d[:, self.heads].max(axis=1), dtype=np.float64)


class MultilingualReader:
    """The grooming reading of a non-English message, on the tracker's message-model scale."""

    def __init__(self, map_path: Path, model_dir: Path = MODEL_DIR) -> None:
        try:
            spec: dict[str, Any] = json.loads(map_path.read_text(encoding="utf-8"))
            self.x = np.asarray(spec["x"], dtype=np.float64)
            self.y = np.asarray(spec["y"], dtype=np.float64)
            expected = str(spec["multilingual_ngram_sha256"])
            expected_grooming = str(spec["grooming_model_sha256"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelUnavailable(f"conversation: the multilingual map {map_path} cannot be read: {exc}") from None
        if (len(self.x) < 2 or len(self.x) != len(self.y) or not np.all(np.isfinite(self.x))
                or not np.all(np.isfinite(self.y)) or np.any(np.diff(self.x) <= 0) or np.any(np.diff(self.y) < 0)):
            raise ModelUnavailable(f"conversation: the multilingual map {map_path} is not a rising curve")
        refit = "; refit it (python -m childsafe.train.grooming_multilingual)"
        if ngram_digest(model_dir) != expected:
            raise ModelUnavailable(f"conversation: the multilingual map {map_path} was fitted for other "
                                   f"multilingual weights{refit}")
        if grooming_digest(map_path.parent) != expected_grooming:
            raise ModelUnavailable(f"conversation: the multilingual map {map_path} was fitted for another grooming "
                                   f"model than the one beside it{refit}")
        self.reading = GroomingReading(model_dir)

    def mapped(self, reading: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return np.asarray(np.interp(reading, self.x, self.y), dtype=np.float64)

    def logit(self, ctx: TextContext) -> float | None:
        """The message-model logit for ``ctx``, or None for plain English (the message model reads it)."""
        guess = ctx.language
        if not reads_other(guess):
            return None
        text = mask_stages(ctx.raw, guess)
        return float(self.mapped(self.reading([text], [guess.code], [guess]))[0])


def reads_other(guess: LanguageGuess) -> bool:
    """Whether the tracker reads a message with the multilingual model: identified as another language than
    English (an unsure guess whose first choice is English stays with the English message model)."""
    return guess.code != "en" and MultilingualDetector.applies(guess)


@lru_cache(maxsize=4)
def reader_from(directory: str | None) -> MultilingualReader | None:
    """The reader for the grooming model in ``directory`` (``ConversationConfig.model_dir``) or the packaged one;
    None when a model of the operator's own has no map (its non-English messages are read by its message model).
    The packaged model always has one: missing, it is an error."""
    path = (packaged_model_dir() if directory is None else Path(directory)) / MAP_FILE
    if directory is not None and not path.is_file():
        return None
    return MultilingualReader(path)


__all__ = ["MAP_FILE", "READ_HEADS", "GroomingReading", "MultilingualReader", "grooming_digest", "ngram_digest",
           "reader_from", "reads_other"]
