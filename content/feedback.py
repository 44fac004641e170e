"""A visitor's rating of an answer: how it is asked for, and how it is read back.

Every answer that states a fact or a contact carries two buttons, "Helpful" and "Not helpful"
(actions/actions.py). A button sends `/rate_answer{"rating": ..., "rated_answer": ...}`: the intent
and its entities are kept in the conversation like any message, so the tracker store holds each
rating next to the answer it rates, and `make dashboard` ranks the answers by it.
"""

import json
import re
from typing import Any, Dict, Optional

RATING_INTENT = "rate_answer"
RATING_ENTITY = "rating"
RATED_ANSWER_ENTITY = "rated_answer"
HELPFUL = "helpful"
NOT_HELPFUL = "not_helpful"
RATINGS = (HELPFUL, NOT_HELPFUL)

# A rating typed in words ("that didn't help", "no me sirvió") has no entity: a negation makes it
# "not helpful". The words are those of data/nlu/feedback.yml and data/nlu/es/feedback.yml.
_NEGATION = re.compile(
    r"\b(?:not?|never|useless|wrong|unhelpful|bad|poor|nada|nunca|in[uú]til|mal[ao]?|tampoco)\b|n't\b",
    re.IGNORECASE,
)


def payload(rating: str, answer: str) -> str:
    """The button's payload: the rating and the key of the answer it rates (content/answers.yml)."""
    return f"/{RATING_INTENT}" + json.dumps({RATING_ENTITY: rating, RATED_ANSWER_ENTITY: answer})


def is_rating_payload(text: Optional[str]) -> bool:
    return isinstance(text, str) and text.startswith(f"/{RATING_INTENT}")


def _entity(parse_data: Dict[str, Any], name: str) -> Optional[str]:
    for entity in parse_data.get("entities") or []:
        if entity.get("entity") == name and isinstance(entity.get("value"), str):
            return entity["value"]
    return None


def rating_of(parse_data: Dict[str, Any], text: str = "") -> Optional[str]:
    """HELPFUL or NOT_HELPFUL for a visitor's message rating an answer; None for any other message,
    or for a button payload naming no known rating (clients can send anything)."""
    if ((parse_data.get("intent") or {}).get("name")) != RATING_INTENT:
        return None
    named = _entity(parse_data, RATING_ENTITY)
    if named is not None or is_rating_payload(text):
        return named if named in RATINGS else None
    return NOT_HELPFUL if _NEGATION.search(text or "") else HELPFUL


def rated_answer_of(parse_data: Dict[str, Any]) -> Optional[str]:
    """The key of the answer a rating button named (unchecked: compare it with content/answers.yml)."""
    return _entity(parse_data, RATED_ANSWER_ENTITY)
