"""Score fusion: the fitted combination of detector scores, its safety floors, and its fitting."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from childsafe.config import ConfigError
from childsafe.policy import category_scores, load_policy
from childsafe.policy.schema import Fusion
from childsafe.types import Category, Detection

FUSION = Fusion(
    weights={"classifier": 1.0, "lexicon": 0.0, "composition": 1.0},
    present={"lexicon": 1.5, "composition": 2.0},
    bias=dict.fromkeys(Category, -1.0),
)


def d(detector: str, cat: Category, score: float) -> Detection:
    return Detection(cat, score, detector, "1")


def sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z))


def test_the_classifier_alone_is_its_logit_through_the_bias() -> None:
    s = category_scores([d("classifier", Category.HATE, 0.5)], FUSION)
    assert s[Category.HATE] == pytest.approx(sigmoid(-1.0))


def test_a_rule_that_fired_raises_the_score_and_breaks_ties() -> None:
    alone = category_scores([d("classifier", Category.VIOLENCE, 0.3)], FUSION)[Category.VIOLENCE]
    with_rule = category_scores([d("classifier", Category.VIOLENCE, 0.3), d("lexicon", Category.VIOLENCE, 0.75)],
                                FUSION)[Category.VIOLENCE]
    z = math.log(0.3 / 0.7) - 1.0 + 1.5
    assert with_rule == pytest.approx(sigmoid(z)) and with_rule > alone
    # two records with the same rule confidence now rank by what the model saw
    low = category_scores([d("classifier", Category.VIOLENCE, 0.05), d("lexicon", Category.VIOLENCE, 0.75)], FUSION)
    assert low[Category.VIOLENCE] < with_rule


def test_floors_keep_a_rule_that_sexualises_a_child_whatever_the_model_says() -> None:
    s = category_scores([d("classifier", Category.SEXUAL_MINORS, 0.001), d("composition", Category.SEXUAL_MINORS, 0.9)],
                        FUSION)
    assert s[Category.SEXUAL_MINORS] == pytest.approx(0.9)
    # a category without a floor can be argued down by the model
    v = category_scores([d("classifier", Category.VIOLENCE, 0.001), d("composition", Category.VIOLENCE, 0.85)], FUSION)
    assert v[Category.VIOLENCE] < 0.85
    # with a strong floor, only rule detections from that score up keep their say in the other categories
    strong = FUSION.model_copy(update={"strong_floor": 0.9})
    weak = category_scores([d("classifier", Category.VIOLENCE, 0.001), d("lexicon", Category.VIOLENCE, 0.75)], strong)
    sure = category_scores([d("classifier", Category.VIOLENCE, 0.001), d("lexicon", Category.VIOLENCE, 0.95)], strong)
    assert weak[Category.VIOLENCE] < 0.75 and sure[Category.VIOLENCE] == pytest.approx(0.95)


def test_unknown_detectors_keep_their_score_and_no_classifier_means_the_maximum() -> None:
    s = category_scores([d("classifier", Category.DRUGS, 0.01), d("my_plugin", Category.DRUGS, 0.8)], FUSION)
    assert s[Category.DRUGS] == pytest.approx(0.8)
    only_rules = category_scores([d("lexicon", Category.HATE, 0.75)], FUSION)
    assert only_rules[Category.HATE] == pytest.approx(0.75)


def test_a_policy_fusion_without_every_category_is_a_clear_error(tmp_path: Path) -> None:
    f = tmp_path / "p.yaml"
    f.write_text("version: '1'\nfusion:\n  weights: {classifier: 1.0}\n  bias: {hate: 0.0}\n"
                 "rules:\n  - {id: a, category: hate, min_score: 0.5, action: block}\n")
    with pytest.raises(ConfigError, match="missing: sexual_minors"):
        load_policy(f)


def test_fit_finds_the_informative_detector() -> None:
    from childsafe.train.fusion import DETECTORS, fit, fused

    rng = np.random.default_rng(0)
    n, c = 3000, 11
    y = np.zeros((n, c))
    y[: n // 3, 4] = 1
    x = np.zeros((n, len(DETECTORS), c))
    x[:, 0, :] = rng.uniform(0.01, 0.2, (n, c))
    x[: n // 3, 0, 4] = rng.uniform(0.3, 0.99, n // 3)  # the classifier separates violence
    x[:, 1, 4] = np.where(rng.random(n) < 0.5, 0.75, 0.0)  # the lexicon fires at random: no information
    params = fit(x, y, np.zeros(n, dtype=bool))
    assert params["weights"]["classifier"] > 1.0
    assert abs(params["present"]["lexicon"]) < 0.5
    p = fused(x, params)
    assert p[: n // 3, 4].mean() > 0.5 > p[n // 3 :, 4].mean()


def test_a_category_with_its_own_weights_ignores_the_shared_ones() -> None:
    own = Fusion(
        weights={"classifier": 1.0, "lexicon": 0.0},
        present={"lexicon": 3.0},
        bias=dict.fromkeys(Category, 0.0),
        category_weights={Category.GROOMING: {"classifier": 0.5, "grooming_text": 2.0}},
    )
    dets = [d("classifier", Category.GROOMING, 0.5), d("grooming_text", Category.GROOMING, 0.8),
            d("lexicon", Category.GROOMING, 0.6)]
    z = 0.5 * 0.0 + 2.0 * math.log(0.8 / 0.2)  # the lexicon's shared 'present' weight does not apply here
    assert category_scores(dets, own)[Category.GROOMING] == pytest.approx(sigmoid(z))
    # another category still uses the shared weights and the lexicon's present weight
    other = category_scores([d("classifier", Category.HATE, 0.5), d("lexicon", Category.HATE, 0.6)], own)
    assert other[Category.HATE] == pytest.approx(sigmoid(3.0))
    # with none of the category's models present, the highest detection stands (e.g. classifier disabled)
    alone = category_scores([d("lexicon", Category.GROOMING, 0.6)], own)
    assert alone[Category.GROOMING] == pytest.approx(0.6)
