"""Loads and checks replies.yml: the wording of the actions' replies around the answers."""

import string
from dataclasses import dataclass
from pathlib import Path
from typing import Dict

import yaml

from content.answers import CONTACT_PLACEHOLDERS

REPLIES_FILE = Path(__file__).with_name("replies.yml")

# The contact details, plus what single replies add.
PLACEHOLDERS = CONTACT_PLACEHOLDERS | {"links", "link", "suggestions", "max_chars"}


class RepliesError(ValueError):
    """replies.yml is missing a key or uses a placeholder no action fills."""


@dataclass(frozen=True)
class Replies:
    templates: Dict[str, str]
    none_of_these: str

    def text(self, key: str, **values: str) -> str:
        return self.templates[key].format(**values)


def load(path: Path = REPLIES_FILE) -> Replies:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))

    def fail(where: str, problem: str) -> None:
        raise RepliesError(f"{path.name}: {where}: {problem}")

    if not isinstance(raw, dict):
        fail("(top level)", "must be a mapping")
    for key in ("replies", "none_of_these"):
        if key not in raw:
            fail(key, "is missing")

    templates = raw["replies"]
    for key, template in templates.items():
        if not isinstance(template, str) or not template.strip():
            fail(f"replies.{key}", "must be a non-empty text")
        for _, field, _, _ in string.Formatter().parse(template):
            if field is not None and field not in PLACEHOLDERS:
                fail(f"replies.{key}", f"unknown placeholder {{{field}}}")

    return Replies(templates=templates, none_of_these=raw["none_of_these"])
