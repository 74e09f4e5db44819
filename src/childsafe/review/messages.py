"""What a child or guardian is told about an appeal, in words for the child's age band."""

from __future__ import annotations

_CHILD: dict[str, dict[str, str]] = {
    "young": {  # 0-5, 6-9
        "pending": "Thanks for telling us. A grown-up who helps keep this app safe will look at it soon.",
        "overturn": "A grown-up looked again. You were right, it was OK. Sorry we stopped it!",
        "confirm": "A grown-up looked again. We still think it was not safe, so it stays stopped. "
        "You did nothing wrong by asking. You can talk to a grown-up you trust about it.",
        "change_category": "A grown-up looked again. It still needs to stay stopped to keep you safe. "
        "You did nothing wrong by asking.",
    },
    "middle": {  # 10-12
        "pending": "Thanks for asking us to check. A person on our safety team will look at it soon.",
        "overturn": "A person on our safety team checked it and you were right: it should not have been "
        "blocked. Sorry about that.",
        "confirm": "A person on our safety team checked it and decided the block was right, to keep you safe. "
        "Asking was the right thing to do. If something is worrying you, talk to an adult you trust.",
        "change_category": "A person on our safety team checked it. The block stays, but for a slightly "
        "different reason than we first said. Asking was the right thing to do.",
    },
    "teen": {  # 13-15, 16-17
        "pending": "Your appeal was received. A human reviewer will look at it; you can check back here.",
        "overturn": "A human reviewer agreed with you: the block was a mistake and has been overturned.",
        "confirm": "A human reviewer looked at it and kept the block, because the content breaks the safety "
        "rules for your age. If you are worried about anything, support is available.",
        "change_category": "A human reviewer kept the block but recorded a different reason for it.",
    },
}

_GUARDIAN = {
    "pending": "The appeal was received and is waiting for a human reviewer.",
    "overturn": "A reviewer overturned the decision: the content should not have been blocked.",
    "confirm": "A reviewer confirmed the decision: the block stays.",
    "change_category": "A reviewer kept the block and changed the category it was recorded under.",
}


def _group(age_band: str) -> str:
    if age_band in ("0-5", "6-9"):
        return "young"
    if age_band == "10-12":
        return "middle"
    return "teen"


def appeal_message(status: str, outcome: str | None, age_band: str, requester: str = "child") -> str:
    key = outcome if status == "decided" and outcome else "pending"
    if requester == "guardian":
        return _GUARDIAN[key]
    return _CHILD[_group(age_band)][key]
