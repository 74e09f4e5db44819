"""Which language a message is written in: offline identification for short chat text.

The identifier is py3langid (a naive Bayes model over byte n-grams for 97 languages, shipped inside its wheel;
nothing is downloaded). Chat messages are short, so the raw guess is adjusted in three ways:

- the writing system decides when it is unambiguous for the supported languages (Arabic letters, Devanagari,
  Chinese characters, Cyrillic): a two-word message in Cyrillic is Russian for childsafe's purposes, even
  when the model leans towards Bulgarian;
- a short Latin-script message ("lol ok", "kys") whose guess is not confident keeps the deployment's (or the
  child's) language instead of the model's coin toss;
- Hindi, Arabic and Russian typed in Latin letters (Hinglish, Arabizi, transliteration), which the model was not
  trained on and calls English, are recognised by their function words (``how == "words"``) or, failing that,
  by a small learned model of romanised chat (``how == "romanised"``: hashed words and character n-grams, five classes:
  English, the other Latin-script languages, and Hindi, Arabic and Russian in Latin letters; trained with
  ``python -m childsafe.train.romanised``, numpy at run time).

``supported`` says whether childsafe has detection built for the language (:data:`SUPPORTED`); an
unsupported language is routed by the ``unsupported_language`` setting, see ``docs/languages.md``.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import threading
import unicodedata
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

SUPPORTED: tuple[str, ...] = ("en", "es", "fr", "de", "pt", "it", "ar", "hi", "zh", "ru", "tr")
"""Languages with detection built and measured (English plus the ten of docs/languages.md)."""

NAMES = {
    "en": "English", "es": "Spanish", "fr": "French", "de": "German", "pt": "Portuguese", "it": "Italian",
    "ar": "Arabic", "hi": "Hindi", "zh": "Chinese", "ru": "Russian", "tr": "Turkish",
}

_SHORT_LETTERS = 12
"""A Latin-script message with fewer letters than this is 'short': its guess needs more confidence."""
_CONFIDENT = 0.9
_UNSUPPORTED_MIN_LETTERS = 20
"""An unsupported language is only declared for a message with at least this many letters."""

SCRIPTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("ar", re.compile(r"[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]")),
    ("hi", re.compile(r"[\u0900-\u097f]")),
    ("zh", re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]")),
    ("ru", re.compile(r"[\u0400-\u04ff]")),
)
"""The writing systems that decide a supported language on their own (Arabic letters, Devanagari, Chinese
characters, Cyrillic)."""
_KANA = re.compile(r"[\u3040-\u30ff]")
_HANGUL = re.compile(r"[\uac00-\ud7af]")
_OTHER_SCRIPT = re.compile(r"[\u0370-\u03ff\u0590-\u05ff\u0e00-\u0e7f\u0980-\u09ff\u0a00-\u0dff\u10a0-\u10ff]")
"""Greek, Hebrew, Thai, Bengali and other Indic scripts, Georgian: no supported language is written in them."""
_SCRIPT_FAMILY = {
    # Languages written in a supported script that py3langid may name instead of the supported one.
    "ar": {"ar", "fa", "ur", "ps", "ku", "ug"},
    "hi": {"hi", "mr", "ne"},
    "zh": {"zh"},
    "ru": {"ru", "uk", "be", "bg", "mk", "sr", "kk", "ky", "mn"},
}
_LETTER = re.compile(r"[^\W\d_]")

_lock = threading.Lock()
_identifier: Any = None


@dataclass(frozen=True, slots=True)
class LanguageGuess:
    """The language of one message."""

    code: str
    """ISO 639-1 code ("es"), or "und" when there is nothing to identify (digits, emoji only)."""
    confidence: float
    """The identifier's probability for ``code`` (1.0 when the script decided, 0.0 for the default)."""
    supported: bool
    """Whether childsafe has detection built for ``code``."""
    candidates: tuple[str, ...] = ()
    """The supported languages worth checking, best first (the guess itself and close runners-up)."""
    how: str = "model"
    """What decided: "model", "script", "words" or "romanised" (Hindi, Arabic or Russian in Latin letters: their
    function words, or the romanised-chat model), "default" (short or unsure text kept the default), "empty"."""

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "confidence": round(self.confidence, 3), "supported": self.supported,
                "how": self.how}


def _model() -> Any:
    global _identifier
    if _identifier is None:
        with _lock:
            if _identifier is None:
                from py3langid.langid import MODEL_FILE, LanguageIdentifier  # type: ignore[import-untyped]

                _identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    return _identifier


def reads(languages: frozenset[str] | None, guess: LanguageGuess) -> bool:
    """Whether a detector built for ``languages`` (None: any) should read a message of ``guess``: yes unless
    the message is identified as another language (an unsure guess reads as anything)."""
    return languages is None or guess.code in languages or guess.how in ("default", "empty")


def warm() -> None:
    """Load the identifier and the romanised-chat model now (they load lazily on first use otherwise)."""
    _model()
    _romanised_model()


def identify(text: str, default: str = "en", *, romanised: bool = True) -> LanguageGuess:
    """The language of ``text``; ``default`` (the deployment's or the child's language) wins when unsure.
    ``romanised=False`` leaves out the romanised-chat model (function words only; for comparison)."""
    default = default if default in SUPPORTED else "en"
    letters = _LETTER.findall(text)
    if not letters:
        return LanguageGuess("und", 0.0, True, (default,), "empty")
    sample = text if len(text) <= 2000 else text[:2000]
    if _KANA.search(sample):
        return _ranked(sample, default, forced=None, family={"ja"})
    if _HANGUL.search(sample):
        return LanguageGuess("ko", 1.0, False, (default,), "script")
    if _OTHER_SCRIPT.search(sample) and not any(p.search(sample) for _, p in SCRIPTS):
        return _ranked(sample, default, forced=None, family=None, min_letters=0)
    counts = {code: len(p.findall(sample)) for code, p in SCRIPTS}
    script, n = max(counts.items(), key=lambda kv: kv[1])
    if n and n * 2 >= len(letters):
        return _ranked(sample, default, forced=script, family=_SCRIPT_FAMILY[script])
    guess = _ranked(sample, default, forced=None, family=None, short=len(letters) < _SHORT_LETTERS)
    # Hindi typed in Latin letters is outside the identifier's training: py3langid calls it English or a
    # random language. Its function words decide, unless another Latin-script language is clear.
    # The same holds for Arabic in Latin letters (Arabizi) and for transliterated Russian.
    clear_other = guess.code not in ("en", "hi", "ar", "ru") and guess.how == "model" and guess.confidence >= 0.5
    if not clear_other:
        for code, test in _ROMANISED:
            if test(sample):
                return LanguageGuess(code, 0.8, True, _with((code, "en"), default), "words")
        if romanised:
            try:
                found = romanised_guess(sample)
            except RomanisedModelError:
                # Reported by ``warm`` (the engine's warm-up marks it unavailable and fails closed); a caller
                # that never warmed gets the word lists' answer rather than an exception on every message.
                found = None
            if found is not None:
                code, p = found
                return LanguageGuess(code, p, True, _with((code, "en"), default), "romanised")
    return guess


_HINGLISH = frozenset(
    "hai hain hoon hu ho mujhe mujh mera meri mere tera teri tere tujhe tumhe tum tumhara tumhari apna apni kya "
    "kyu kyun kaise kaisa kaha kahan kaun kaunse kaunsi kitne kitna nahi nhi nahin bhi aur se ka ki ke ko wala "
    "wali karo karna kr krna kar raha rahi rha rhi tha thi yeh woh isko usko abhi aaj kal bahut bohot bhai yaar "
    "ghar jaldi chahiye dekh dekho bata batao bolo bolna kuch bhejo bhej bina dunga dungi denge mat sirf saath "
    "akele baje toh tujhse mujhse humko hum unko usne maine tune".split()
)
_LATIN_WORD = re.compile(r"[a-z]+")


def _romanised_hindi(text: str) -> bool:
    """Hindi typed in Latin letters (Hinglish): enough of its function words, which English and the other
    supported languages do not use."""
    words = _LATIN_WORD.findall(text.lower())
    if len(words) < 3:
        return False
    hits = sum(w in _HINGLISH for w in words)
    return len({w for w in words if w in _HINGLISH}) >= 2 and hits * 4 >= len(words)


_ARABIZI = frozenset(
    # Egyptian, Levantine, Gulf and Maghrebi function words as typed in Latin letters. Words that other
    # languages write too ("ana", "mesh", "wesh", "fein") are in _ARABIZI_WEAK: they count, never decide.
    "enta enti inta inti howa heya ehna e7na ento intu msh mish mafi mafish ma3 3shan 3ashan 3chan 3la "
    "3ala ya3ni y3ni yaani wallah wallahi walah yalla yallah keda kda kdh hek heik hayk kteer ktir kter awi "
    "2awi ezay ezzay izzay ezayak ezayek kifak kifik kifek shu shou chnou chno lesh leish lech 3lach wach "
    "bghit bghiti dyal dyali ta3 ta3i rani raki ghadi ghir bezaf barcha barsha kaman bokra bukra delwa2ti "
    "dlw2ty halla2 hala2 lazem lazim 3ayez 3ayz 3awez 3ayza 3awza baddi bdi abghi habibi habibti 7abibi "
    "7abibti inshallah nshallah inchallah mashallah khalas 5alas tayeb ma3lesh m3lsh feen mnin emta imta 2eh "
    "3ndi 3andi 3ndk 3andak 3andek 3omrek 3omrak 3mrk nharda enty nta nti kifach lyouma zouj chkoun bzaf bzzaf "
    "nmchiw awy wla bghitch ghedwa moshkla gher hamoot daba wakha mzyan kayn makaynch sahbi khouya khoya okhti "
    "labas kidayr shway momken tany mafeesh zayi elli illi".split()
)
_ARABIZI_DIGIT = re.compile(r"[a-z]+[2357][a-z]+|[3579][a-z]{3,}")
"""A word with a digit standing for an Arabic letter (3 = ع, 7 = ح, 5 = خ, 9 = ق, 2 = ء) inside it or in front
of three letters or more: "3omrek", "la2atlak". Ordinals, times and game titles ("3rd", "5pm", "ps5", "mw3")
do not have that shape."""
_ARABIZI_WEAK = frozenset(
    "el il al ya fe fi fel fil w wa b bel bil l bas bs eh tab wen ma la ana hiya mesh mush wesh chou fein "
    "wein bade ente rak bla chi mn li fin kan min sana bach safi dima liya".split()
)
"""Arabizi words that other languages write too: they count towards the share, never decide."""
_ALNUM_WORD = re.compile(r"[a-z0-9]+")
_NOT_PROSE = re.compile(r"https?://\S+|www\.\S+|[@#]\w+")
_TRANSLIT_RU = frozenset(
    "ty tebya tebe menya mne chto shto chego kogda gde pochemu zachem skolko kto eto etot vse vsyo vsem "
    "nikto nikomu nichego tozhe tolko uzhe eshche esche ochen khorosho horosho normalno privet davai davay "
    "seichas seychas sejchas shas schas zavtra segodnya vchera mozhno nado nuzhno hochu khochu hochesh "
    "khochesh znaesh znayu budu budesh budet esli potomu blin kstati prosto sebya tvoi tvoya tvoy moya moy "
    "bez ili kak dela ogo zdarova spasibo posle shkoly shkole urokov tvoyu nikogda nikomu pokazhu zhdi zvoni "
    "roditeli roditelyam roditeley delaesh pridesh mozhet voobshe zhivu nashel ponyal".split()
)
_TRANSLIT_RU_WEAK = frozenset("ya ne net na po za ot v s k u i a tak vot mama papa".split())
"""Transliterated Russian words that other languages write too: they count towards the share, never decide."""


def _romanised_arabic(text: str) -> bool:
    """Arabic typed in Latin letters (Arabizi): one of its function words and either a second one or a word with
    a digit standing for a letter; or three such digit words; and enough of the message in them."""
    plain = _NOT_PROSE.sub(" ", text.lower())
    words = _LATIN_WORD.findall(plain)
    tokens = _ALNUM_WORD.findall(plain)
    found = {w for w in tokens if w in _ARABIZI}
    digit_words = {w for w in tokens if _ARABIZI_DIGIT.fullmatch(w) and w not in _ARABIZI}
    if len(words) < 3:
        return False
    if not ((found and (len(found) >= 2 or digit_words)) or len(digit_words) >= 3):
        return False
    hits = sum(w in _ARABIZI or w in _ARABIZI_WEAK for w in tokens) + len(digit_words)
    return hits * 3 >= len(words)


def _romanised_russian(text: str) -> bool:
    """Russian typed in Latin letters: enough of its words, which the other languages do not use."""
    words = _LATIN_WORD.findall(text.lower())
    if len(words) < 3:
        return False
    found = {w for w in words if w in _TRANSLIT_RU}
    hits = sum(w in _TRANSLIT_RU or w in _TRANSLIT_RU_WEAK for w in words)
    return len(found) >= 2 and hits * 3 >= len(words)


_ROMANISED = (("hi", _romanised_hindi), ("ar", _romanised_arabic), ("ru", _romanised_russian))


ROMANISED_CLASSES = ("en", "latin", "hi", "ar", "ru")
"""The romanised-chat model's classes: English, the other Latin-script languages (es fr de pt it tr), and Hindi,
Arabic and Russian typed in Latin letters."""
ROMANISED_BUCKETS = 1 << 17
ROMANISED_DIR = Path(__file__).resolve().parents[1] / "models" / "language"
_ROMANISED_MIN_WORDS = 3
_ROMANISED_MAX_CHARS = 300
"""The model reads the start of a long message (py3langid is reliable on long text; the model is for chat)."""
_romanised: tuple[Any, Any, float] | None = None


def romanised_features(text: str) -> list[int]:
    """Hashed features of a Latin-script message for the romanised-chat model: its words and the character 2-4-grams
    inside them (digits kept: "3omrek", "la2"), links and handles left out."""
    words = _ALNUM_WORD.findall(_NOT_PROSE.sub(" ", text.lower()))
    feats: set[int] = set()
    for w in words:
        feats.add(zlib.crc32(b"w:" + w.encode()))
        padded = f" {w} ".encode()
        for n in (2, 3, 4):
            feats.update(zlib.crc32(b"c:" + padded[i:i + n]) for i in range(len(padded) - n + 1))
    return sorted({f % ROMANISED_BUCKETS for f in feats})


_romanised_error: str | None = None


def _romanised_model() -> tuple[Any, Any, float]:
    """The romanised-chat model (weights, biases, threshold). A missing or damaged model raises
    :class:`RomanisedModelError` every time, without reading the files again."""
    global _romanised, _romanised_error
    if _romanised is None:
        with _lock:
            if _romanised_error is not None:
                raise RomanisedModelError(_romanised_error)
            if _romanised is None:
                try:
                    _romanised = _load_romanised(ROMANISED_DIR)
                except Exception as exc:
                    _romanised_error = f"romanised-chat model in {ROMANISED_DIR} cannot be used: {exc}"
                    raise RomanisedModelError(_romanised_error) from None
    return _romanised


def _load_romanised(folder: Path) -> tuple[Any, Any, float]:
    card = json.loads((folder / "card.json").read_text(encoding="utf-8"))
    if tuple(card["classes"]) != ROMANISED_CLASSES or card["buckets"] != ROMANISED_BUCKETS:
        raise ValueError("its classes or buckets do not match this version of childsafe")
    raw = (folder / "romanised.npz").read_bytes()
    if hashlib.sha256(raw).hexdigest() != card["sha256"]:
        raise ValueError("romanised.npz does not match the checksum in card.json")
    with np.load(io.BytesIO(raw)) as z:
        w, b = z["w"].astype(np.float32), z["b"].astype(np.float32)
    if w.shape != (ROMANISED_BUCKETS, len(ROMANISED_CLASSES)) or b.shape != (len(ROMANISED_CLASSES),):
        raise ValueError(f"weights of shape {w.shape} and {b.shape}")
    return w, b, float(card["threshold"])


class RomanisedModelError(RuntimeError):
    """The romanised-chat model is missing or damaged (``warm`` raises it; the engine then fails closed)."""


def romanised_probabilities(text: str) -> dict[str, float]:
    """The romanised-chat model's probability for each of :data:`ROMANISED_CLASSES`."""
    w, b, _ = _romanised_model()
    idx = romanised_features(text[:_ROMANISED_MAX_CHARS])
    z = b + (w[idx].sum(axis=0) / np.sqrt(len(idx)) if idx else 0.0)
    e = np.exp(z - z.max())
    return {c: float(v) for c, v in zip(ROMANISED_CLASSES, e / e.sum(), strict=True)}


def romanised_guess(text: str) -> tuple[str, float] | None:
    """Hindi, Arabic or Russian typed in Latin letters, by the romanised-chat model, when it is sure (its card's
    threshold) and the message has at least three words; else None."""
    if len(_LATIN_WORD.findall(text.lower())) < _ROMANISED_MIN_WORDS:
        return None
    threshold = _romanised_model()[2]
    probs = romanised_probabilities(text)
    code = max(("hi", "ar", "ru"), key=lambda c: probs[c])
    return (code, probs[code]) if probs[code] >= threshold else None


def _ranked(
    text: str,
    default: str,
    forced: str | None,
    family: set[str] | None,
    short: bool = False,
    min_letters: int = _UNSUPPORTED_MIN_LETTERS,
) -> LanguageGuess:
    ident = _model()
    folded = unicodedata.normalize("NFKC", text)
    ranking = ident.rank(folded)
    probs = {code: float(p) for code, p in ranking}
    best, p_best = ranking[0][0], float(ranking[0][1])
    if forced is not None:
        # The script decided the supported language; a close relative in the same script (Ukrainian, Persian,
        # Marathi) is an unsupported language only when the model is sure and the text is long enough.
        if best != forced and best in (family or set()) and p_best >= _CONFIDENT and \
                len(_LETTER.findall(text)) >= min_letters:
            return LanguageGuess(best, p_best, False, (forced,), "model")
        return LanguageGuess(forced, 1.0, True, (forced,), "script")
    supported = [(c, probs.get(c, 0.0)) for c in SUPPORTED]
    supported.sort(key=lambda kv: -kv[1])
    close = tuple(c for c, p in supported[:3] if p >= 0.05) or (default,)
    if family is not None and best in family:
        return LanguageGuess(best, p_best, False, (default,), "model")
    letters = len(_LETTER.findall(text))
    if best not in SUPPORTED and p_best >= _CONFIDENT and letters >= min_letters:
        return LanguageGuess(best, p_best, False, close, "model")
    # Among the supported languages, the leader's share of their probability: "mándame una foto" may lean to
    # Galician overall and still be clearly Spanish among the languages childsafe checks.
    total = sum(p for _, p in supported) or 1.0
    top, p_top = supported[0]
    share = p_top / total
    if share >= 0.5 and p_top >= 0.1 and (not short or p_top >= _CONFIDENT or top == default):
        return LanguageGuess(top, p_top, True, (top,) if p_top >= _CONFIDENT else _with(close, default), "model")
    return LanguageGuess(default, 0.0, True, _with(close, default), "default")


def _with(codes: tuple[str, ...], default: str) -> tuple[str, ...]:
    return codes if default in codes else (*codes, default)


__all__ = ["NAMES", "ROMANISED_CLASSES", "SCRIPTS", "SUPPORTED", "LanguageGuess", "RomanisedModelError", "identify",
           "reads", "romanised_features", "romanised_guess", "romanised_probabilities", "warm"]
