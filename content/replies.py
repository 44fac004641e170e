"""Loads and checks replies.yml: the wording of the actions' replies around the answers."""

import string
from dataclasses import dataclass
from pathlib import Path
from typing import Dict

import yaml

from content.answers import CONTACT_PLACEHOLDERS
from content.feedback import RATINGS
from content.languages import DEFAULT_LANGUAGE, in_language, texts

REPLIES_FILE = Path(__file__).with_name("replies.yml")

# The contact details, plus what single replies add.
PLACEHOLDERS = CONTACT_PLACEHOLDERS | {"links", "link", "suggestions", "max_chars"}


class RepliesError(ValueError):
    """replies.yml is missing a key or uses a placeholder no action fills."""


@dataclass(frozen=True)
class Replies:
    # key -> language -> the reply
    templates: Dict[str, Dict[str, str]]
    # language -> the last "did you mean" button's title
    none_of_these_titles: Dict[str, str]
    # rating (content/feedback.py) -> language -> its button's title
    rating_titles: Dict[str, Dict[str, str]]

    def template(self, key: str, language: str = DEFAULT_LANGUAGE) -> str:
        """The reply with its {placeholders}, to be filled in by the caller."""
        return in_language(self.templates[key], language)

    def text(self, key: str, language: str = DEFAULT_LANGUAGE, **values: str) -> str:
        return self.template(key, language).format(**values)

    def none_of_these(self, language: str = DEFAULT_LANGUAGE) -> str:
        return in_language(self.none_of_these_titles, language)

    def rating_title(self, rating: str, language: str = DEFAULT_LANGUAGE) -> str:
        return in_language(self.rating_titles[rating], language)


def load(path: Path = REPLIES_FILE) -> Replies:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))

    def fail(where: str, problem: str) -> None:
        raise RepliesError(f"{path.name}: {where}: {problem}")

    if not isinstance(raw, dict):
        fail("(top level)", "must be a mapping")
    for key in ("replies", "none_of_these", "rating"):
        if key not in raw:
            fail(key, "is missing")

    templates = {key: texts(written, f"replies.{key}", fail) for key, written in raw["replies"].items()}
    for key, written in templates.items():
        for language, template in written.items():
            for _, field, _, _ in string.Formatter().parse(template):
                if field is not None and field not in PLACEHOLDERS:
                    fail(f"replies.{key}.{language}", f"unknown placeholder {{{field}}}")

    if not isinstance(raw["rating"], dict) or set(raw["rating"]) != set(RATINGS):
        fail("rating", f"must give the title of each rating: {', '.join(RATINGS)}")
    return Replies(
        templates=templates,
        none_of_these_titles=texts(raw["none_of_these"], "none_of_these", fail),
        rating_titles={rating: texts(raw["rating"][rating], f"rating.{rating}", fail) for rating in RATINGS},
    )
