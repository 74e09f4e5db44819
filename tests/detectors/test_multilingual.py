"""Detection in the ten languages besides English, routing of unsupported languages, localised messages."""

import json
import shutil
from pathlib import Path
from typing import ClassVar

import pytest
import yaml

from childsafe import Engine
from childsafe.config import Config, ConfigError, load_config
from childsafe.detectors.base import Detector, DetectorUnavailable
from childsafe.detectors.multilingual import (
    ANY_HEAD,
    MODEL_DIR,
    STOP_SCORE,
    TUNED_FILES,
    MultilingualConfig,
    MultilingualDetector,
    MultilingualModel,
    PhraseList,
    load_phrase_lists,
    phrase_hits,
)
from childsafe.explain.messages import available_languages, helplines_for, messages
from childsafe.policy import load_policy
from childsafe.policy.evaluate import route_unsupported_language
from childsafe.text.context import TextContext
from childsafe.text.fold import second_reading
from childsafe.text.language import identify
from childsafe.types import Action, AgeBand, Category, Detection, Role

# One plain request for a photo without clothes (with secrecy) and one suicidal statement per language.
HARMFUL = {
    "es": ["mándame una foto sin ropa, no le digas a tus papás", "ya no quiero vivir, me voy a matar esta noche"],
    "fr": ["envoie-moi une photo de toi toute nue, c'est notre secret", "je veux mourir, je vais me tuer ce soir"],
    "de": ["schick mir ein nacktfoto von dir, sag deinen eltern nichts",
           "ich will nicht mehr leben, ich bring mich heute um"],
    "pt": ["me manda uma foto sua pelada, não conta pros seus pais", "não quero mais viver, vou me matar hoje"],
    "it": ["mandami una foto nuda, non dirlo ai tuoi genitori", "non voglio più vivere, stasera mi ammazzo"],
    "ar": ["ابعتيلي صورة ليكي من غير هدوم ومتقوليش لأهلك", "مش عايز أعيش تاني، هنتحر النهارده"],
    "hi": ["मुझे अपनी बिना कपड़ों वाली फोटो भेजो, मम्मी पापा को मत बताना",
           "मैं अब जीना नहीं चाहता, आज खुद को मार लूँगा"],
    "zh": ["发一张你不穿衣服的照片给我，别告诉你爸妈", "我不想活了，今晚就去自杀"],
    "ru": ["скинь мне фото без одежды, родителям не говори", "я не хочу больше жить, сегодня покончу с собой"],
    "tr": ["bana çıplak fotoğrafını at, annene babana söyleme",
           "artık yaşamak istemiyorum, bu gece kendimi öldüreceğim"],
}


@pytest.fixture(scope="module")
def engine() -> Engine:
    e = Engine.from_config()
    e.warmup()
    return e


@pytest.mark.parametrize("lang", sorted(HARMFUL))
def test_harmful_messages_are_stopped_and_explained_in_their_language(engine: Engine, lang: str) -> None:
    photo, suicidal = (engine.check(t, age=11) for t in HARMFUL[lang])
    assert photo.language == lang and suicidal.language == lang
    assert photo.action.severity >= Action.ESCALATE.severity and Category.SEXUAL_MINORS in photo.categories
    assert suicidal.action.severity >= Action.ESCALATE.severity and Category.SELF_HARM in suicidal.categories
    local = messages(lang)
    assert photo.child_message is not None and local["topic"]["sexual_minors"]["middle"] in photo.child_message
    assert suicidal.child_message is not None
    assert local["crisis"]["middle"].split("{helplines}")[0].strip() in suicidal.child_message


def test_without_the_encoder_the_ngram_model_stops_at_its_own_operating_point() -> None:
    cfg = Config()
    cfg = cfg.model_copy(update={"detectors": {**cfg.detectors, "multilingual": {"encoder": False}}})
    engine = Engine.from_config(cfg)
    for lang, (photo, suicidal) in HARMFUL.items():
        d = engine.check(photo, age=11)
        assert Category.SEXUAL_MINORS in d.categories and d.action.stops_content, lang
        d = engine.check(suicidal, age=11)
        assert Category.SELF_HARM in d.categories and d.action.stops_content, lang
    assert not engine.check("q peli vemos el viernes? yo voto la de terror", age=11).action.stops_content
    alone = MultilingualModel(MODEL_DIR, encoder=False)
    card = json.loads((MODEL_DIR / "card.json").read_text())
    assert alone.tuned is None and alone.offsets == card["ngram_only"]["language_offsets"]
    assert alone.offsets != MultilingualModel(MODEL_DIR).offsets


@pytest.mark.parametrize(
    "text",
    [
        "m a n d a m e una foto s i n r o p a",  # letters spaced apart
        "s.c.h.i.c.k mir ein n.a.c.k.t.f.o.t.o",  # letters punctuated apart
        "m\u0430nd\u0430me un\u0430 f\u043eto sin r\u043ep\u0430",  # Cyrillic look-alikes in Latin words
        "sch\u0456ck m\u0456r e\u0456n n\u0430cktf\u043et\u043e",
        "\u0441k\u0438\u043d\u044c \u0444\u043e\u0442\u043e \u0431\u0435\u0437 o\u0434e\u0436\u0434\u044b",
        "m\u200band\u200ba\u200bme una f\u200boto sin r\u200bopa",  # invisible characters
        "MaNdAmE uNa FoTo SiN rOpA",  # alternating case
        "m4nd4m3 un4 f0t0 s1n r0p4",  # digits for letters
        "s3nd m3 f0t0s s1n r0p4 pl3453",  # digits for letters, "3" among them (an Arabizi letter too)
    ],
)
def test_a_disguise_does_not_hide_a_message(engine: Engine, text: str) -> None:
    d = engine.check(text, age=11)
    assert d.action.stops_content and Category.SEXUAL_MINORS in d.categories
    undone = [x for x in d.detections if x.detector == "multilingual" and "disguise undone" in x.evidence]
    assert undone and all(x.span is None for x in undone)  # a second reading has no span in the original


def test_a_first_reading_does_not_depend_on_a_second_one() -> None:
    # the int8 encoder quantises per batch: the two readings are scored apart
    text = "viste el video de m4t4d0r?"
    on, off = MultilingualDetector(), MultilingualDetector(MultilingualConfig(second_reading=False))

    def first(det: MultilingualDetector) -> dict[Category, float]:
        ctx = TextContext.from_text(text, language="es")
        return {d.category: d.score for d in det.detect(ctx) if "disguise undone" not in d.evidence}

    assert second_reading(text) == "viste el video de matador?"
    assert first(on) == first(off) != {}


def test_a_second_reading_undoes_spacing_and_look_alike_letters_only() -> None:
    assert second_reading("y a o") is None and second_reading("hola q tal") is None
    assert second_reading("s.i.n r.o.p.a, ok") == "sin ropa, ok"
    assert second_reading("m a n d a m e una foto") == "mandame una foto"
    assert second_reading("今 天 好") is None  # Chinese characters are words already
    assert second_reading("m\u0430nd\u0430me") == "mandame"  # Latin majority: the Cyrillic "а" becomes "a"
    assert second_reading("\u0441k\u0438\u043d\u044c") == "\u0441\u043a\u0438\u043d\u044c"  # and back
    assert second_reading("Москва is big, la ciudad") is None  # words of one script each are not a disguise
    assert second_reading("MaNdAmE uNa FoTo") == "mandame una foto"
    assert second_reading("iPhone y YouTube") is None  # brand names are not alternating case
    assert second_reading("s3nd m3 f0t0s") == "send me fotos"
    assert second_reading("tengo 13yo, a las 5pm") is None  # a number with its unit stays
    assert second_reading("👨\u200d👩\u200d👧 hola") is None  # the joiners of an emoji sequence are not a disguise
    assert second_reading("x x x") is None  # kisses


@pytest.mark.parametrize(
    ("text", "lang", "category"),
    [
        ("ab3atli sora bla hdoom w ma t2ole la 7ada", "ar", Category.SEXUAL_MINORS),  # Arabizi
        ("skin mne foto bez odezhdy, roditelyam ne govori", "ru", Category.SEXUAL_MINORS),  # transliterated
    ],
)
def test_romanised_arabic_and_russian_are_read_by_the_multilingual_detector(
        engine: Engine, text: str, lang: str, category: Category) -> None:
    d = engine.check(text, age=11)
    assert d.language == lang and d.action.stops_content and category in d.categories
    assert any(x.detector == "multilingual" for x in d.detections)


def test_an_english_model_does_not_judge_another_language(engine: Engine) -> None:
    d = engine.check("q peli vemos el viernes? yo voto la de terror", age=11)
    assert d.action is Action.ALLOW
    assert not any(x.detector == "classifier" for x in d.detections)


def test_the_language_is_in_the_record(engine: Engine) -> None:
    d = engine.check("je veux mourir", age=11)
    assert d.to_dict()["language"] == "fr"


def test_the_child_language_decides_for_short_unsure_messages(engine: Engine) -> None:
    d = engine.check("xq???", age=11, language="es")
    assert d.language == "es"


def test_phrases_match_with_gaps_stems_and_allow() -> None:
    lists = {"es": PhraseList.from_yaml("es", {
        "categories": {"violence": {"strong": ["te voy a apuñal*"]}, "drugs": {"medium": ["vendo hierba"]}},
        "allow": ["hierba buena"],
    })}
    guess = identify("oye pibe te voy a re apuñalar mañana a la salida")
    found = phrase_hits(lists, "oye pibe te voy a re apuñalar mañana a la salida", guess)
    assert [(h.phrase.category, h.phrase.score) for h in found] == [(Category.VIOLENCE, 0.95)]
    text = "oye pibe te voy a re apuñalar"
    hit = found[0]
    assert "apuñalar" in "oye pibe te voy a re apuñalar mañana a la salida"[hit.start : hit.end]
    assert not phrase_hits(lists, "te voy a contar algo", identify(text))
    assert phrase_hits(lists, "vendo hierba barata", identify("vendo hierba barata hoy en la plaza"))
    assert not phrase_hits(lists, "vendo hierba buena para el té", identify("vendo hierba buena para el té"))


def test_chinese_phrases_match_inside_text_without_spaces() -> None:
    lists = {"zh": PhraseList.from_yaml("zh", {"categories": {"self_harm": {"strong": ["不想活了"]}}})}
    found = phrase_hits(lists, "我真的不想活了", identify("我真的不想活了"))
    assert found and "我真的不想活了"[found[0].start : found[0].end] == "不想活了"


def test_every_language_ships_a_phrase_list() -> None:
    assert sorted(load_phrase_lists()) == sorted(HARMFUL)


def test_a_model_that_does_not_match_its_checksum_fails_closed(tmp_path: Path) -> None:
    broken = tmp_path / "model"
    shutil.copytree(MODEL_DIR, broken)
    card = json.loads((broken / "card.json").read_text())
    with (broken / "ngram.npz").open("ab") as f:
        f.write(b"tampered")
    (broken / "card.json").write_text(json.dumps(card))
    det = MultilingualDetector(MultilingualConfig(model_dir=str(broken)))
    with pytest.raises(DetectorUnavailable, match="checksum"):
        det.load()
    engine = Engine(detectors=[det], config=Config())
    d = engine.check("hola que tal", age=11)
    assert d.action.stops_content and "safety check unavailable" in d.reasons[0]


def _model_with(tmp_path: Path, **card_changes: object) -> MultilingualModel:
    folder = tmp_path / "model"
    shutil.copytree(MODEL_DIR, folder)
    card = json.loads((folder / "card.json").read_text())
    card.update(card_changes)
    (folder / "card.json").write_text(json.dumps(card))
    return MultilingualModel(folder)


ORDINARY = "q peli vemos el viernes? yo voto la de terror"


def _scores(model: MultilingualModel, text: str, lang: str) -> list[float]:
    from childsafe.text.fold import fold

    return [float(x) for x in model.scores([fold(text).text], [text], [[]], [lang])[0]]


def test_a_language_offset_moves_only_that_languages_scores(tmp_path: Path) -> None:
    shipped = MultilingualModel(MODEL_DIR)
    assert set(shipped.offsets) == set(HARMFUL), "every language gets its own operating point"
    raised = _model_with(tmp_path, language_offsets={**shipped.offsets, "es": shipped.offsets["es"] + 3.0})
    before_es, after_es = _scores(shipped, ORDINARY, "es"), _scores(raised, ORDINARY, "es")
    assert all(a > b for a, b in zip(after_es, before_es, strict=True))
    assert _scores(raised, ORDINARY, "fr") == _scores(shipped, ORDINARY, "fr")
    # A language without an offset (not trained on) is read at the global thresholds.
    no_offsets = _model_with(tmp_path / "b", language_offsets={})
    assert _scores(raised, ORDINARY, "nl") == _scores(no_offsets, ORDINARY, "nl")


def test_the_pooled_head_stops_through_the_category_nearest_its_threshold(tmp_path: Path) -> None:
    shipped = MultilingualModel(MODEL_DIR)
    assert shipped.pooled
    base = _scores(shipped, ORDINARY, "es")
    assert max(base) < STOP_SCORE, "an ordinary message stays under every stopping score"
    card = json.loads((MODEL_DIR / "card.json").read_text())
    eager = _model_with(tmp_path, thresholds={**card["thresholds"], ANY_HEAD: 1e-6})
    lifted = _scores(eager, ORDINARY, "es")
    nearest = max(range(len(base)), key=base.__getitem__)
    assert lifted[nearest] >= STOP_SCORE
    assert [x for i, x in enumerate(lifted) if i != nearest] == [x for i, x in enumerate(base) if i != nearest]


def test_the_shipped_model_combines_the_fine_tuned_encoder() -> None:
    model = MultilingualModel(MODEL_DIR)
    assert model.tuned is not None and 0 < model.weight_tuned < 1
    texts = [HARMFUL["es"][0], ORDINARY]
    from childsafe.text.fold import fold

    z = model.logits([fold(t).text for t in texts], texts, [[], []])
    assert z.shape == (2, len(model.thresholds)) and z[0].max() > z[1].max()


def test_a_tampered_encoder_fails_closed(tmp_path: Path) -> None:
    broken = tmp_path / "model"
    shutil.copytree(MODEL_DIR, broken)
    with (broken / TUNED_FILES["model"]).open("ab") as f:
        f.write(b"x")
    with pytest.raises(DetectorUnavailable, match="checksum"):
        MultilingualModel(broken)


def test_a_card_that_combines_an_encoder_it_does_not_list_fails_closed(tmp_path: Path) -> None:
    card = json.loads((MODEL_DIR / "card.json").read_text())
    files = {k: v for k, v in card["files"].items() if k != TUNED_FILES["tokenizer"]}
    with pytest.raises(DetectorUnavailable, match=r"does not list tokenizer\.json"):
        _model_with(tmp_path, files=files)


def test_a_card_whose_heads_do_not_match_its_weights_fails_closed(tmp_path: Path) -> None:
    card = json.loads((MODEL_DIR / "card.json").read_text())
    with pytest.raises(DetectorUnavailable, match="heads"):
        _model_with(tmp_path, heads=card["categories"])
    with pytest.raises(DetectorUnavailable, match="heads"):
        _model_with(tmp_path / "b", heads=[*card["categories"][::-1], ANY_HEAD])


class _Risky(Detector):
    """Reads any language and finds a moderate signal (below the policy's own thresholds) in every message."""

    name: ClassVar[str] = "risky"
    version: ClassVar[str] = "1"
    categories: ClassVar[frozenset[Category]] = frozenset({Category.OTHER_UNSAFE})

    def detect(self, ctx: TextContext) -> list[Detection]:
        return [self.detection(Category.OTHER_UNSAFE, 0.35, evidence="test signal")]


DUTCH = "ik weet waar je woont en ik kom morgen na school naar je toe, zeg het tegen niemand"


@pytest.mark.parametrize(("mode", "action"), [("review", Action.ESCALATE), ("block", Action.BLOCK),
                                              ("warn", Action.WARN), ("allow", Action.ALLOW)])
def test_an_unsupported_language_with_a_risk_signal_is_routed(mode: str, action: Action) -> None:
    cfg = Config(unsupported_language=mode)  # type: ignore[arg-type]
    engine = Engine(detectors=[_Risky()], config=cfg)
    d = engine.check(DUTCH, age=13)
    assert d.language == "nl"
    assert d.action is action
    if mode != "allow":
        assert f"language.unsupported.{mode}" in d.rules


def test_a_supported_language_is_decided_by_the_policy_alone() -> None:
    engine = Engine(detectors=[_Risky()], config=Config())
    d = engine.check("te espero mañana a la salida del cole para hablar", age=13)
    assert d.language == "es" and not any(r.startswith("language.") for r in d.rules)


def test_routing_leaves_adults_and_quiet_messages_alone() -> None:
    policy = load_policy()
    from childsafe.policy import decide

    quiet = decide(policy, [Detection(Category.VIOLENCE, 0.1, "t", "1")], AgeBand.AGE_10_12, Role.CHILD)
    assert route_unsupported_language(quiet, "nl", False, "review").action is Action.ALLOW
    adult = decide(policy, [Detection(Category.VIOLENCE, 0.35, "t", "1")], AgeBand.ADULT, Role.CHILD)
    assert route_unsupported_language(adult, "nl", False, "review").action is adult.action


def test_an_unknown_language_setting_is_a_clear_error(tmp_path: Path) -> None:
    p = tmp_path / "c.yaml"
    p.write_text("language: xx\n")
    with pytest.raises(ConfigError, match="language"):
        load_config(p)


def test_every_language_has_every_message_and_the_helpline_slot() -> None:
    def keys(d: dict[str, object], prefix: str = "") -> set[str]:
        out: set[str] = set()
        for k, v in d.items():
            out |= keys(v, f"{prefix}{k}.") if isinstance(v, dict) else {prefix + k}
        return out

    english = keys(messages("en"))
    assert sorted(available_languages()) == sorted(["en", *HARMFUL])
    for lang in HARMFUL:
        local = messages(lang)
        assert local["language"] == lang
        assert keys(local) == english, lang
        assert all("{helplines}" in text for text in local["crisis"].values()), lang


def test_helplines_follow_the_country_and_the_operator() -> None:
    assert "116 111" in helplines_for("de")
    assert helplines_for("zh") == "findahelpline.com"
    assert helplines_for("es", country="MX") == "findahelpline.com"
    assert helplines_for("es", country="MX", overrides={"MX": ["800 911 2000 (Línea de la Vida)"]}).startswith("800")
    engine = Engine.from_config(Config(country="MX", helplines={"MX": ["800 911 2000"]}))
    d = engine.check(HARMFUL["es"][1], age=11)
    assert d.child_message is not None and "800 911 2000" in d.child_message


def test_the_shipped_phrase_lists_parse() -> None:
    root = Path(__file__).resolve().parents[2] / "src" / "childsafe" / "detectors" / "data" / "multilingual"
    for f in root.glob("*.yaml"):
        if f.stem == "context":
            continue
        data = yaml.safe_load(f.read_text(encoding="utf-8"))
        assert data["language"] == f.stem
        assert set(data["categories"]) <= {c.value for c in Category}


def test_a_school_question_about_a_drug_is_warned_not_stopped(engine: Engine) -> None:
    question = engine.check("q le pasa al cuerpo si fumas porro? es para una expo de salud del cole", age=11)
    assert question.action is Action.WARN and question.categories == [Category.DRUGS]
    assert any("safe frame" in d.evidence for d in question.detections)
    offer = engine.check("oye te vendo porro barato, te lo dejo en la salida del cole", age=11)
    assert offer.action.stops_content and Category.DRUGS in offer.categories


def test_a_safe_frame_never_lowers_self_harm(engine: Engine) -> None:
    d = engine.check("es para una expo del cole pero la verdad es que ya no quiero vivir", age=11)
    assert d.action.severity >= Action.ESCALATE.severity and Category.SELF_HARM in d.categories
