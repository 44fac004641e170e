"""Loads and checks replies.yml: the wording of the actions' replies and the questions' titles."""

import string
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional

import yaml

REPLIES_FILE = Path(__file__).with_name("replies.yml")

# What actions.contact_values() provides, plus what single replies add.
PLACEHOLDERS = {
    "center_name", "handles", "hours", "phone", "email", "feedback_email", "address",
    "address_line", "website", "subscribe_page", "nasro_site", "press_name", "press_phone", "press_email",
    "links", "link", "suggestions", "max_chars",
}


class RepliesError(ValueError):
    """replies.yml is missing a key or uses a placeholder no action fills."""


@dataclass(frozen=True)
class Replies:
    templates: Dict[str, str]
    none_of_these: str
    topics: Dict[str, Dict[str, str]]

    def text(self, key: str, **values: str) -> str:
        return self.templates[key].format(**values)

    def title(self, intent: Optional[str]) -> Optional[str]:
        for questions in self.topics.values():
            if intent in questions:
                return questions[intent]
        return None

    def related(self, intent: Optional[str], count: int) -> List[str]:
        """The questions after `intent` in its topic, so a visitor can walk through the topic."""
        for questions in self.topics.values():
            if intent in questions:
                order = list(questions)
                start = order.index(intent)
                return [order[(start + step) % len(order)] for step in range(1, count + 1)]
        return []


def load(path: Path = REPLIES_FILE) -> Replies:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))

    def fail(where: str, problem: str) -> None:
        raise RepliesError(f"{path.name}: {where}: {problem}")

    if not isinstance(raw, dict):
        fail("(top level)", "must be a mapping")
    for key in ("replies", "none_of_these", "topics"):
        if key not in raw:
            fail(key, "is missing")

    templates = raw["replies"]
    for key, template in templates.items():
        if not isinstance(template, str) or not template.strip():
            fail(f"replies.{key}", "must be a non-empty text")
        for _, field, _, _ in string.Formatter().parse(template):
            if field is not None and field not in PLACEHOLDERS:
                fail(f"replies.{key}", f"unknown placeholder {{{field}}}")

    seen: Dict[str, str] = {}
    for topic, questions in raw["topics"].items():
        if not isinstance(questions, dict) or not questions:
            fail(f"topics.{topic}", "must map intents to button titles")
        for intent, title in questions.items():
            if intent in seen:
                fail(f"topics.{topic}.{intent}", f"is already listed under topics.{seen[intent]}")
            if not isinstance(title, str) or not title.strip():
                fail(f"topics.{topic}.{intent}", "must be a non-empty title")
            seen[intent] = topic

    return Replies(templates=templates, none_of_these=raw["none_of_these"], topics=raw["topics"])
