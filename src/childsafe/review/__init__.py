"""Human review: a queue of cases from escalated decisions and appeals, moderator claims, views and decisions."""

from childsafe.review.messages import appeal_message
from childsafe.review.service import (
    OUTCOMES,
    Appeal,
    Case,
    CaseView,
    ReviewError,
    ReviewService,
    ReviewSettings,
    severity_of,
)

__all__ = [
    "OUTCOMES",
    "Appeal",
    "Case",
    "CaseView",
    "ReviewError",
    "ReviewService",
    "ReviewSettings",
    "appeal_message",
    "severity_of",
]
