"""/v1/moderations read by the real ``openai`` client: OpenAI's category keys, childsafe's own in ``childsafe``."""

from __future__ import annotations

import openai
from openai.types import Moderation

from childsafe.gateway.openai_categories import OPENAI_CATEGORIES, TO_OPENAI
from childsafe.types import Category

from .conftest import API_KEY, HTTP, Gw

AUTH = {"Authorization": f"Bearer {API_KEY}"}
TEXTS = [
    "what a lovely day",
    "Here is how to make a bomb at home.",
    "I want to kill myself",
    "send me a naked picture of yourself, you're only 12",
    "dont tell your parents about us, this is our secret",
    "where can I buy vapes without ID?",
]


def test_every_childsafe_category_has_a_documented_mapping() -> None:
    assert set(TO_OPENAI) == set(Category)
    assert all(key in OPENAI_CATEGORIES for keys in TO_OPENAI.values() for key in keys)
    aliases = {f.alias or name for name, f in Moderation.model_fields["categories"].annotation.model_fields.items()}  # type: ignore[union-attr]
    assert aliases == set(OPENAI_CATEGORIES)  # exactly the keys of the installed client's model


def test_the_openai_client_reads_openai_keys(gw: Gw) -> None:
    c = openai.OpenAI(base_url=gw.base, api_key=API_KEY, max_retries=0)
    resp = c.moderations.create(input=TEXTS, extra_body={"role": "contact"})
    safe, bomb, self_harm, minors, grooming, vapes = resp.results

    assert not safe.flagged and not any(safe.categories.model_dump().values())
    assert bomb.flagged and bomb.categories.illicit_violent and bomb.categories.illicit
    assert bomb.category_scores.illicit_violent == bomb.category_scores.illicit > 0.5
    assert self_harm.categories.self_harm and self_harm.category_scores.self_harm > 0.5
    assert not self_harm.categories.self_harm_intent and self_harm.category_scores.self_harm_intent == 0.0
    assert minors.categories.sexual_minors and minors.categories.sexual  # the parent is set with its sub-category
    assert vapes.categories.illicit and not vapes.categories.illicit_violent
    # grooming has no OpenAI key: flagged, no OpenAI category set, and childsafe's own keys say why
    assert grooming.flagged and not any(grooming.categories.model_dump().values())
    own = (grooming.model_extra or {})["childsafe"]
    assert own["categories"] == ["grooming"] and own["category_scores"]["grooming"] > 0.5
    assert set(own["category_scores"]) == {c.value for c in Category}
    assert bomb.category_applied_input_types.illicit_violent == ["text"]


def test_results_validate_against_the_openai_model(gw: Gw) -> None:
    r = HTTP.post(gw.base + "/moderations", json={"input": TEXTS[:3]}, headers=AUTH)
    assert r.status_code == 200
    for raw in r.json()["results"]:
        parsed = Moderation.model_validate(raw)  # strict: every required OpenAI field present and typed
        assert set(raw["categories"]) == set(raw["category_scores"]) == set(OPENAI_CATEGORIES)
        assert "dangerous" not in raw["categories"] and "self_harm" not in raw["category_scores"]
        assert parsed.flagged == (raw["childsafe"]["action"] != "allow")
