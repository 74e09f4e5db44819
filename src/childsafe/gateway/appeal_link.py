"""The appeal link a child gets with a stopped message: the decision id and the web page that contests it.

The child's appeal page (``GET /appeal?decision_id=...``, gateway/web) needs no account: the decision id, a
random 128-bit token, is the capability. So the id must reach the child with the explanation, in words an app
shows as they are (the message) and in a field an app can turn into a button (``childsafe.appeal``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from childsafe.review.service import CONTESTABLE_ACTIONS
from childsafe.types import Category, Decision

APPEAL_PAGE = "/appeal"
"""The web console's appeal form (gateway/web: ``appeal_form``)."""


def appeal_for(decision: Decision, base_url: str) -> dict[str, Any] | None:
    """``{"decision_id", "url"}`` when the decision stopped content a child may contest, else None."""
    if not decision.action.stops_content or decision.action.value not in CONTESTABLE_ACTIONS:
        return None
    if not decision.decision_id:
        return None
    url = f"{base_url.rstrip('/')}{APPEAL_PAGE}?decision_id={quote(decision.decision_id, safe='')}"
    return {"decision_id": decision.decision_id, "url": url}


def with_appeal_link(text: str, decision: Decision, base_url: str) -> str:
    """The child-facing explanation followed by the appeal link, when the explanation invites an appeal.

    A crisis message (self-harm) stays as it is: it points the child to help, not to a form."""
    appeal = appeal_for(decision, base_url)
    if appeal is None or Category.SELF_HARM in decision.categories:
        return text
    return f"{text}\n{appeal['url']}"
