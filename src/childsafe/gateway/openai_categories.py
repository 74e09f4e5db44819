"""childsafe's categories read as the OpenAI moderation categories, for ``POST /v1/moderations``.

The ``openai`` client parses ``results[].categories`` and ``category_scores`` into fixed fields
(``self_harm`` read from ``"self-harm"``, ``sexual_minors`` from ``"sexual/minors"``, ...): a client written
against OpenAI's moderation endpoint reads these keys and no others, so the gateway answers with exactly them.
childsafe's own categories stay in each result's ``childsafe`` object, where nothing is lost.

The mapping (documented in docs/gateway.md):

- each OpenAI key is flagged when any childsafe category mapped to it is flagged, and scores the highest
  score among them;
- a sub-category also sets its parent, as OpenAI's own model does (``sexual/minors`` implies ``sexual``,
  ``illicit/violent`` implies ``illicit``);
- OpenAI splits that childsafe does not make (``self-harm/intent``, ``self-harm/instructions``,
  ``harassment/threatening``, ``hate/threatening``, ``violence/graphic``) are never flagged and score 0: a
  guess would look like a finding;
- ``grooming`` and ``personal_info`` have no OpenAI key: they appear only in the ``childsafe`` object, and a
  result they flag has ``flagged: true`` with no OpenAI category set.
"""

from __future__ import annotations

from collections.abc import Mapping

from childsafe.types import Category

OPENAI_CATEGORIES: tuple[str, ...] = (
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/instructions",
    "self-harm/intent",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
)
"""The category keys of OpenAI's moderation result (``openai.types.Moderation``), in its order."""

TO_OPENAI: Mapping[Category, tuple[str, ...]] = {
    Category.SEXUAL_MINORS: ("sexual/minors", "sexual"),
    Category.SEXUAL: ("sexual",),
    Category.SELF_HARM: ("self-harm",),
    Category.VIOLENCE: ("violence",),
    Category.HARASSMENT: ("harassment",),
    Category.HATE: ("hate",),
    # weapons, explosives and acts that could injure: OpenAI's "wrongdoing that includes violence, or the
    # procurement of any weapon"
    Category.DANGEROUS: ("illicit/violent", "illicit"),
    Category.DRUGS: ("illicit",),  # obtaining drugs, alcohol, vapes: illicit acts for a child
    Category.OTHER_UNSAFE: ("illicit",),  # fraud, scams, hacking others, theft
    Category.GROOMING: (),
    Category.PERSONAL_INFO: (),
}
"""Each childsafe category -> the OpenAI keys it sets (parents included); empty: no OpenAI key."""


def openai_categories(flagged: set[Category]) -> dict[str, bool]:
    """Every OpenAI key -> whether a childsafe category mapped to it is flagged."""
    out = dict.fromkeys(OPENAI_CATEGORIES, False)
    for category in flagged:
        for key in TO_OPENAI.get(category, ()):
            out[key] = True
    return out


def openai_scores(scores: Mapping[Category, float]) -> dict[str, float]:
    """Every OpenAI key -> the highest score of the childsafe categories mapped to it (0 when none is)."""
    out = dict.fromkeys(OPENAI_CATEGORIES, 0.0)
    for category, score in scores.items():
        for key in TO_OPENAI.get(category, ()):
            out[key] = max(out[key], round(float(score), 6))
    return out


def applied_input_types() -> dict[str, list[str]]:
    """What each score was computed on: childsafe checks text only."""
    return {key: ["text"] for key in OPENAI_CATEGORIES}
