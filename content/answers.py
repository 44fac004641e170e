"""Loads and checks answers.yml: every question the assistant answers with a fact, and its answer.

An entry is one question (its key is the intent the NLU recognises): the topic it belongs to, its
title on the buttons, its answer in each language, the answers for other conference years, the
page that tells more, the years its facts hold for, and the action that composes it when the answer
needs contact details. `python -m content.build` turns the file into the domain's answers and the
rules that give them; the actions and the NLU components read it as it is.
"""

import re
import string
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple

import yaml

from content.languages import DEFAULT_LANGUAGE, in_language, texts

ANSWERS_FILE = Path(__file__).with_name("answers.yml")
# The slot naming the conference year a question is about (domain/conversation.yml), and the year
# of the answers' `text:`, which an unset slot means too.
YEAR_SLOT = "conference_year"
DEFAULT_YEAR = "2019"
# Set by the NLU (components/conversation_context.py), read by the policy, the actions and the Rasa
# server's responses: the questions of a message that asks several, answered in their order ...
QUESTIONS = "questions"
# ... and the conference years of a question asked of several (YEAR_SLOT's values).
YEARS = "years"
# The conference years the slot conference_year tells apart (domain/conversation.yml) besides the
# 2019 conference of `text:`; an answer asked of any other year (the slot's ANOTHER_YEAR) gets
# `another_year`.
OTHER_YEARS = ("2020", "2021")
ANOTHER_YEAR = "other"
# The response that follows a fact which has a page: the page, then the next questions of its
# topic (written by channels/responses.py in the Rasa server).
PAGE_RESPONSE = "utter_more_info"
# What an action's text may ask to be filled in (content/formatting.py contact_values).
CONTACT_PLACEHOLDERS = {
    "center_name",
    "handles",
    "hours",
    "phone",
    "email",
    "feedback_email",
    "address",
    "address_line",
    "website",
    "subscribe_page",
    "nasro_site",
    "press_name",
    "press_phone",
    "press_email",
}
FIELDS = ("topic", "title", "text", "years", "link", "dated", "action", "then")
_KEY = re.compile(r"^[a-z][a-z0-9_]*$")
_ACTION = re.compile(r"^(?:action|utter)_[a-z0-9_]+$")


class AnswersError(ValueError):
    """answers.yml is missing a field or holds a value of the wrong shape."""


@dataclass(frozen=True)
class Answer:
    key: str
    topic: str
    # language -> how the question is named on the buttons
    titles: Dict[str, str]
    # language -> the answer; empty when the action composes the whole reply (the links)
    text: Dict[str, str]
    # conference year -> language -> the answer for that year
    years: Dict[str, Dict[str, str]]
    # the key of the page under `links:` in contact_data.yml that tells more
    link: Optional[str]
    # the years the answer's facts hold for: asked of another year, the facts do not answer
    dated: Tuple[int, ...]
    # the custom action that gives the answer (filling in contact details), if not the text alone
    action: Optional[str]
    # what follows the answer (and its page)
    then: Tuple[str, ...]

    @property
    def title(self) -> str:
        return self.titles[DEFAULT_LANGUAGE]

    @property
    def response(self) -> str:
        """The name of the answer in the domain, or of the action that gives it."""
        return self.action or f"utter_{self.key}"


@dataclass(frozen=True)
class Answers:
    entries: Dict[str, Answer]
    # language -> the answer for a conference year the facts do not cover
    another_year: Dict[str, str]

    def __contains__(self, key: object) -> bool:
        return key in self.entries

    def __getitem__(self, key: str) -> Answer:
        return self.entries[key]

    def title(self, key: Optional[str], language: str = DEFAULT_LANGUAGE) -> Optional[str]:
        entry = self.entries.get(key or "")
        return in_language(entry.titles, language) if entry else None

    def text(self, key: str, language: str = DEFAULT_LANGUAGE) -> str:
        return in_language(self.entries[key].text, language)

    def text_for_year(self, key: str, year: str, language: str = DEFAULT_LANGUAGE) -> str:
        """The answer for conference year `year` (a value of the slot conference_year)."""
        entry = self.entries[key]
        if year in entry.years:
            return in_language(entry.years[year], language)
        if year == ANOTHER_YEAR and entry.years:
            return in_language(self.another_year, language)
        return self.text(key, language)

    @cached_property
    def by_topic(self) -> Dict[str, List[str]]:
        """topic -> its questions, in the order of the file (worked out once: every answer's
        buttons ask it)."""
        found: Dict[str, List[str]] = {}
        for entry in self.entries.values():
            found.setdefault(entry.topic, []).append(entry.key)
        return found

    def related(self, key: Optional[str], count: int) -> List[str]:
        """The questions after `key` in its topic, so a visitor can walk through the topic."""
        entry = self.entries.get(key or "")
        if entry is None:
            return []
        order = self.by_topic[entry.topic]
        start = order.index(entry.key)
        return [order[(start + step) % len(order)] for step in range(1, count + 1)]

    def yearly(self) -> List[str]:
        """The questions whose answer differs by conference year."""
        return [entry.key for entry in self.entries.values() if entry.years]


def load(path: Path = ANSWERS_FILE, links: Optional[Iterable[str]] = None) -> Answers:
    """The answers of `path`; with `links`, every page named must be one of them."""
    source = path.name

    def fail(where: str, problem: str) -> None:
        raise AnswersError(f"{source}: {where}: {problem}")

    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise AnswersError(f"{source}: cannot be read: {error}") from error
    if not isinstance(raw, dict) or not isinstance(raw.get("answers"), dict) or not raw["answers"]:
        fail("answers", "must map each question's key to its entry")
    another_year = texts(raw["another_year"], "another_year", fail) if "another_year" in raw else {}
    known_links = set(links) if links is not None else None

    entries: Dict[str, Answer] = {}
    for key, entry in raw["answers"].items():
        where = f"answers.{key}"
        if not isinstance(key, str) or not _KEY.match(key):
            fail(where, "a key is written in small letters, digits and _ (it is the intent's name)")
        if not isinstance(entry, dict):
            fail(where, "must be a mapping of fields")
        unknown = sorted(set(entry) - set(FIELDS))
        if unknown:
            fail(f"{where}.{unknown[0]}", f"unknown field (allowed: {', '.join(FIELDS)})")
        if not isinstance(entry.get("topic"), str) or not entry["topic"].strip():
            fail(f"{where}.topic", "must be a non-empty text")
        if "title" not in entry:
            fail(f"{where}.title", "is missing")
        titles = texts(entry["title"], f"{where}.title", fail)
        action = entry.get("action")
        if action is not None and not (isinstance(action, str) and _ACTION.match(action)):
            fail(f"{where}.action", "must be the name of a custom action (action_...)")
        if "text" not in entry and action is None:
            fail(f"{where}.text", "is missing (only an answer an action composes may have none)")
        text = texts(entry["text"], f"{where}.text", fail) if "text" in entry else {}
        for language, words in text.items():
            fields = {field for _, field, _, _ in string.Formatter().parse(words) if field is not None}
            if fields and action is None:
                fail(f"{where}.text.{language}", "only an answer given by an action may have {placeholders}")
            if fields - CONTACT_PLACEHOLDERS:
                fail(f"{where}.text.{language}", f"unknown placeholder {{{sorted(fields - CONTACT_PLACEHOLDERS)[0]}}}")
        years = entry.get("years") or {}
        if not isinstance(years, dict):
            fail(f"{where}.years", "must map conference years to answers")
        for year in years:
            if str(year) not in OTHER_YEARS:
                fail(f"{where}.years.{year}", f"is not a year the assistant tells apart ({', '.join(OTHER_YEARS)})")
        missing = [year for year in OTHER_YEARS if years and year not in {str(given) for given in years}]
        if missing:
            # Otherwise that year's slot value would get the 2019 answer.
            fail(f"{where}.years", f"has no answer for {missing[0]}: an answer that differs by year gives each")
        if years and not another_year:
            fail("another_year", f"is missing, and {where} has answers for other years")
        link = entry.get("link")
        if link is not None and known_links is not None and link not in known_links:
            fail(f"{where}.link", f"names no link under links: in contact_data.yml: {link!r}")
        dated = entry.get("dated") or []
        if not isinstance(dated, list) or not all(isinstance(year, int) for year in dated):
            fail(f"{where}.dated", "must be a list of years, like [2019, 2020]")
        then = entry.get("then") or []
        if not isinstance(then, list) or not all(isinstance(name, str) and _ACTION.match(name) for name in then):
            fail(f"{where}.then", "must be a list of action names")
        entries[key] = Answer(
            key=key,
            topic=entry["topic"].strip(),
            titles=titles,
            text=text,
            years={str(year): texts(written, f"{where}.years.{year}", fail) for year, written in years.items()},
            link=link,
            dated=tuple(dated),
            action=action,
            then=tuple(then),
        )
    return Answers(entries=entries, another_year=another_year)
