"""Personal details a child discloses, or that someone asks a child for (detector ``personal_info``).

A small registry of recognizers, one module per kind of detail (:class:`PiiType`), each returning
:class:`PiiMatch` objects that carry the recognizer and the rule that fired (the explanation), the way
Presidio's predefined recognizers do, but with a closed type enum instead of free-string labels. Each
recognizer's patterns, word lists, scores and rule texts are data in ``detectors/data/personal_info/``.

Structured values (phones, emails, handles, coordinates, dates) are matched on the RAW text, because
normalisation folds leetspeak inside tokens and would mangle ``tacoNinja77`` or ``jo@mail.com``.
Conversational cues ("i go to", "my snap is", "what school do you go to") are matched on the normalised
text, so "ur", "u", "pic", "snap" and odd spellings are already folded.

Role decides the score: a child's own detail is scored for redaction; an assistant or contact ASKING a
child for a detail scores high (the policy blocks it); a contact giving out their own contact details is
an off-platform move and scores high; an assistant quoting a number (a helpline) scores low.
"""

from childsafe.detectors.personal_info.base import (
    CONTACT_TYPES,
    GROUPS,
    IDENTITY_TERMS,
    PiiMatch,
    PiiType,
    Recognizer,
)
from childsafe.detectors.personal_info.detector import (
    ASSISTANT_VALUE_SCORE,
    CHILD_QUESTION_SCORE,
    CONTACT_SHARES_SCORE,
    PersonalInfoConfig,
    PersonalInfoDetector,
)

__all__ = [
    "ASSISTANT_VALUE_SCORE",
    "CHILD_QUESTION_SCORE",
    "CONTACT_SHARES_SCORE",
    "CONTACT_TYPES",
    "GROUPS",
    "IDENTITY_TERMS",
    "PersonalInfoConfig",
    "PersonalInfoDetector",
    "PiiMatch",
    "PiiType",
    "Recognizer",
]
