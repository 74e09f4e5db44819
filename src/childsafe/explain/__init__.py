"""Child-facing explanations, AI disclosure and reviewer explanations."""

from childsafe.explain.messages import AI_DISCLOSURE, GRADE_TARGET, child_message, level_for, reviewer_explanation
from childsafe.explain.readability import fk_grade

__all__ = ["AI_DISCLOSURE", "GRADE_TARGET", "child_message", "fk_grade", "level_for", "reviewer_explanation"]
