"""Language identification and script-aware folding."""

from pathlib import Path

import pytest

from childsafe.text.fold import fold, tokens
from childsafe.text.language import identify, reads, romanised_probabilities


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("oye q haces mañana? vamos al cine con los del cole", "es"),
        ("slt ça va? tu viens ce soir chez moi pour le devoir de maths", "fr"),
        ("hast du die hausaufgaben schon gemacht? ich check das nicht", "de"),
        ("vc vai na festa amanhã? minha mãe deixou eu ir", "pt"),
        ("ciao raga domani c'è la verifica di storia, avete studiato?", "it"),
        ("مرحبا كيف حالك اليوم؟", "ar"),
        ("आज स्कूल में बहुत मज़ा आया", "hi"),
        ("今天的作业好多啊", "zh"),
        ("привет, ты сегодня в школу идёшь?", "ru"),
        ("yarın okulda matematik sınavı var, çalıştın mı?", "tr"),
        ("kal tum school aa rahe ho kya? mujhe notes chahiye", "hi"),
        ("did you finish the history project about the vietnam war", "en"),
    ],
)
def test_identifies_the_supported_languages(text: str, code: str) -> None:
    guess = identify(text)
    assert guess.code == code and guess.supported


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("enta fein delwa2ti? 3ayez akalmak ba3d el dars", "ar"),  # Arabizi: digits for letters
        ("wallah ma3lesh ana ta3ban el nharda, bokra n7ki m3ak", "ar"),
        ("shu 3am ta3mel? yalla ta3a la 3andi", "ar"),
        ("privet, kak dela? chto delaesh zavtra posle shkoly", "ru"),  # Russian in Latin letters
        ("ya tebe zavtra napishu, ok?", "ru"),
    ],
)
def test_romanised_arabic_and_russian_are_recognised_by_their_words(text: str, code: str) -> None:
    guess = identify(text)
    assert (guess.code, guess.how, guess.supported) == (code, "words", True)
    assert "en" in guess.candidates  # English words inside it still count (phrase detectors read every message)


@pytest.mark.parametrize(
    "text",
    [
        "write me a chord progression similar to Bmadd9 Gmaj7/#11 A6/9/11",
        "where to get w33d if ur 14 in chicago",
        "#BringBackClarkson #5WordDealBreakers #47Traitors http://t.co/xeNJ5eX1Kh",
        "ya know what, I'm not going to the party tonight",
        "Ana and Ali are coming to the game, el capitan is late again",
        "meet at 5pm on the 3rd",  # ordinals and times are not Arabizi digits
        "call of duty mw3 or bo3",
        "s3nd m3 f0t0s",  # leetspeak
        "hiya ana how r u",
        "hola ana, mesh de la red",
    ],
)
def test_other_text_with_digits_or_loanwords_is_not_called_arabic_or_russian(text: str) -> None:
    assert identify(text).code not in ("ar", "ru")


# Written for this test (not from any data set): romanised chat with too few listed function words.
@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("tu kal school aayega na", "hi"),
        ("law 7ad kallemak mat rodesh 3aleh", "ar"),
        ("fin rak daba? jit l dar", "ar"),
        ("ya segodnya ne pridu v shkolu", "ru"),
        ("kupi mne chipsy po doroge", "ru"),
        ("otprav mne svoi adres pozhaluysta", "ru"),
    ],
)
def test_romanised_chat_without_enough_function_words_is_recognised_by_the_model(text: str, code: str) -> None:
    assert identify(text, romanised=False).code == "en"  # the word lists alone miss it
    guess = identify(text)
    assert (guess.code, guess.how, guess.supported) == (code, "romanised", True)
    assert "en" in guess.candidates
    assert romanised_probabilities(text)[code] == pytest.approx(guess.confidence)


@pytest.mark.parametrize(
    "text",
    ["me too lol", "ok see u there", "haha yeah same", "can u send me the homework", "omg my mom is so mad rn",
     "ur so annoying lmao", "brb gotta eat dinner", "nah im good thx", "wanna play fortnite later",
     "did u see what jake posted", "my bro is so dumb lol", "lets go to the mall tmrw"],
)
def test_short_english_chat_stays_english(text: str) -> None:
    assert identify(text).code == "en"


def test_the_romanised_model_reads_only_the_start_of_a_long_message() -> None:
    head = "ya segodnya ne pridu v shkolu, mama zabolela " * 10  # 450 characters
    assert romanised_probabilities(head + "the rest " * 200) == romanised_probabilities(head + "другое " * 200)
    assert romanised_probabilities(head[:200] + "the rest " * 200) != romanised_probabilities(head[:200])


def test_a_short_unsure_message_keeps_the_deployment_language() -> None:
    assert identify("lol ok").code == "en"
    assert identify("lol ok", default="es").code == "es"
    assert identify("lol ok", default="es").how == "default"


def test_a_long_message_in_another_language_is_unsupported() -> None:
    guess = identify("Ik wil graag een foto van je zien zonder kleren aan, stuur hem vanavond alsjeblieft")
    assert guess.code == "nl" and not guess.supported


def test_a_relative_in_a_supported_script_is_named_when_sure() -> None:
    guess = identify("Хочу тебе побачити, надішли мені фото без одягу зараз же, будь ласка")
    assert guess.code == "uk" and not guess.supported
    assert identify("пришли фото").code == "ru"


def test_text_without_letters_is_undetermined() -> None:
    assert identify("12345 :)").code == "und"


def test_detectors_built_for_english_do_not_read_other_languages() -> None:
    en = frozenset({"en"})
    assert reads(en, identify("how are you doing today my friend"))
    assert not reads(en, identify("q peli vemos el viernes? yo voto la de terror"))
    assert reads(en, identify("ok"))  # unsure: read as anything
    assert reads(None, identify("q peli vemos el viernes?"))


def test_folding_removes_accents_repeats_and_letter_variants_but_keeps_scripts() -> None:
    assert fold("MÁNDAMEEE una FOTO").text == "mandame una foto"
    assert fold("أُرسِل لي صورة").text == "ارسل لي صوره"
    assert fold("ёлка").text == "елка"
    assert fold("çıplak").text == "ciplak"
    assert fold("मुझे फोटो भेजो").text == "मुझे फोटो भेजो"
    assert fold("s\u200bex").text == "sex"


def test_turkish_capital_dotted_i_folds_like_its_lowercase() -> None:
    # casefold gives "i" + a combining dot above; the dot must not split the word from its phrase
    assert fold("KİMSEYE SÖYLEME").text == fold("kimseye söyleme").text == "kimseye soyleme"
    f = fold("İstanbul")
    assert f.text == "istanbul" and f.original(0, 1) == (0, 1)
    assert fold("किताब").text == "किताब"  # vowel signs on other scripts are kept


def test_hindi_nukta_and_chandrabindu_are_spelling_variants() -> None:
    # chat writers add or drop them freely: "ज़रूर"/"जरूर", "माँ"/"मां", "फ़ोटो"/"फोटो"
    assert fold("ज़रूर").text == fold("जरूर").text == "जरूर"
    assert fold("\u095b\u0930\u0942\u0930").text == "जरूर"  # the precomposed nukta letter too
    assert fold("माँ").text == fold("मां").text
    f = fold("फ़ोटो भेजो")
    assert f.text == "फोटो भेजो" and f.original(0, 4) == (0, 5)


def test_doubled_chinese_characters_are_kept() -> None:
    # "色色" (lewd) is not "色" (colour); "妈妈" is a word of its own
    assert fold("色色的").text == "色色的"
    assert fold("妈妈 holaaa").text == "妈妈 hola"


def test_folded_offsets_point_into_the_original() -> None:
    raw = "holaaa Mándame"
    f = fold(raw)
    start = f.text.index("mandame")
    a, b = f.original(start, start + len("mandame"))
    assert raw[a:b] == "Mándame"


def test_chinese_characters_are_words_of_their_own() -> None:
    assert [w for w, _, _ in tokens(fold("给我照片 ok").text)] == ["给", "我", "照", "片", "ok"]


def test_a_damaged_romanised_model_fails_closed_without_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import childsafe.text.language as language
    from childsafe.engine import Engine
    from childsafe.types import Action

    (tmp_path / "card.json").write_bytes((language.ROMANISED_DIR / "card.json").read_bytes())
    (tmp_path / "romanised.npz").write_bytes(b"not a model")
    monkeypatch.setattr(language, "ROMANISED_DIR", tmp_path)
    monkeypatch.setattr(language, "_romanised", None)
    monkeypatch.setattr(language, "_romanised_error", None)
    with pytest.raises(language.RomanisedModelError, match="checksum"):
        language.warm()
    assert identify("tu kal school aayega na").code == "en"  # the word lists still answer, no exception
    engine = Engine.from_config()
    assert "language" in engine.warmup()
    assert engine.check("what time is practice", age=12).action is Action.BLOCK
