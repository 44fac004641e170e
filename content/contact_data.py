"""Loads and checks contact_data.yml, the only place contact details and links are written.

The action server loads it at start-up, so a typo in the data file stops it with a message naming
the bad key instead of letting it answer visitors with a broken detail. Which answer ends with
which page is each answer's `link:` in answers.yml.
"""

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import yaml

from content import answers as answers_file
from content.answers import Answers
from content.languages import DEFAULT_LANGUAGE, in_language, texts

DATA_FILE = Path(__file__).with_name("contact_data.yml")

_PHONE = re.compile(r"^\d{3}-\d{3}-\d{4}$")
_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
_URL = re.compile(r"^https://[A-Za-z0-9.-]+\.[A-Za-z]{2,}(/\S*)?$")


class ContactDataError(ValueError):
    """The data file is missing a key or holds a value of the wrong shape."""


@dataclass(frozen=True)
class Link:
    key: str
    # language -> the page's name, shown as the link's text
    titles: Dict[str, str]
    url: str
    confirmed: bool
    fallback: Optional[str]
    topics: Tuple[str, ...]
    answers: Tuple[str, ...]
    # The link to give instead when the visitor asks about another year than this page's (2019).
    other_years: Optional[str] = None
    # Answers that name this page's subject without ending with its link: asked for "the link"
    # after one of them, the visitor gets this page too.
    mentioned_in: Tuple[str, ...] = ()

    def title(self, language: str = DEFAULT_LANGUAGE) -> str:
        return in_language(self.titles, language)


@dataclass(frozen=True)
class ContactData:
    center_name: str
    phone: str
    email: str
    # language -> the text
    hours: Dict[str, str]
    handles: Dict[str, str]
    feedback_name: str
    feedback_email: str
    press_name: str
    press_phone: str
    press_email: str
    mailing_address: Tuple[str, ...]
    subscribe_link: str
    links: Dict[str, Link]

    def shown(self, link: Link) -> Link:
        """The link to give a visitor: an unconfirmed address gives way to its fallback."""
        return link if link.confirmed else self.links[link.fallback]

    def link_answering(self, intent: Optional[str], another_year: bool = False) -> Optional[Link]:
        """The page that tells more about an answer; for a conference of another year than 2019
        (`another_year`), the page that covers the other years."""
        for link in self.links.values():
            if intent in link.answers:
                if another_year and link.other_years:
                    link = self.links[link.other_years]
                return self.shown(link)
        return None

    def links_after(self, intent: Optional[str], another_year: bool = False) -> List[Link]:
        """The pages to give for "the link?" asked right after an answer: its own, then those of
        what it names."""
        found = [link for link in [self.link_answering(intent, another_year)] if link is not None]
        for link in self.links.values():
            if intent in link.mentioned_in and self.shown(link) not in found:
                found.append(self.shown(link))
        return found

    def links_for_topic(self, topic: str) -> List[Link]:
        found: List[Link] = []
        for link in self.links.values():
            shown = self.shown(link)
            if topic in link.topics and shown not in found:
                found.append(shown)
        return found

    def topics(self) -> List[str]:
        """The resource_topic values the links answer (data/nlu/contacts.yml names their phrases)."""
        return list(dict.fromkeys(topic for link in self.links.values() for topic in link.topics))

    def all_links(self) -> List[Link]:
        return [link for link in self.links.values() if link.confirmed]

    @property
    def tel_uri(self) -> str:
        return tel_uri(self.phone)


def tel_uri(phone: str) -> str:
    """A phone number written with hyphens as a tel: address (the number of digits kept)."""
    return "tel:+1" + phone.replace("-", "")


class _Reader:
    """Reads one mapping, naming the full key path in every error."""

    def __init__(self, source: str, data: Any, path: str = "") -> None:
        self.source = source
        self.path = path
        if not isinstance(data, dict):
            self.fail("must be a mapping of keys to values")
        self.data = data

    def fail(self, problem: str, key: str = "") -> None:
        where = ".".join(part for part in (self.path, key) if part) or "(top level)"
        raise ContactDataError(f"{self.source}: {where}: {problem}")

    def child(self, key: str) -> "_Reader":
        return _Reader(self.source, self._get(key), self._join(key))

    def text(self, key: str, pattern: Optional[re.Pattern] = None) -> str:
        value = self._get(key)
        if not isinstance(value, str) or not value.strip():
            self.fail("must be a non-empty text", key)
        if pattern is not None and not pattern.match(value):
            self.fail(f"{value!r} does not look like {_describe(pattern)}", key)
        return value.strip()

    def texts(self, key: str) -> Dict[str, str]:
        """language -> text (content/languages.py)."""
        return texts(self._get(key), self._join(key), lambda where, problem: self._fail_at(where, problem))

    def _fail_at(self, where: str, problem: str) -> None:
        raise ContactDataError(f"{self.source}: {where}: {problem}")

    def flag(self, key: str) -> bool:
        value = self._get(key)
        if not isinstance(value, bool):
            self.fail("must be true or false", key)
        return value

    def names(self, key: str) -> Tuple[str, ...]:
        value = self._get(key)
        if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
            self.fail("must be a list of names", key)
        return tuple(value)

    def only_keys(self, *allowed: str) -> None:
        unknown = sorted(set(self.data) - set(allowed))
        if unknown:
            self.fail(f"unknown key {unknown[0]!r} (allowed: {', '.join(allowed)})")

    def _get(self, key: str) -> Any:
        if key not in self.data:
            self.fail("is missing", key)
        return self.data[key]

    def _join(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key


def _describe(pattern: re.Pattern) -> str:
    return {
        _PHONE: "a phone number written with hyphens (3-3-4 digits)",
        _EMAIL: "an e-mail address",
        _URL: "an https:// address",
    }[pattern]


def load(path: Path = DATA_FILE, answers: Optional[Answers] = None) -> ContactData:
    """The contact data of `path`, each link knowing the answers that end with it (`answers`, by
    default those of answers.yml)."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ContactDataError(f"{path.name}: cannot be read: {error}") from error
    top = _Reader(path.name, raw)
    top.only_keys(
        "response_center", "dispatch_editorial_board", "public_affairs", "mailing_address", "subscribe", "links"
    )

    center = top.child("response_center")
    center.only_keys("name", "phone", "email", "hours", "handles")
    board = top.child("dispatch_editorial_board")
    board.only_keys("name", "email")
    press = top.child("public_affairs")
    press.only_keys("name", "phone", "email")

    address = raw.get("mailing_address")
    if (
        not isinstance(address, list)
        or len(address) < 2
        or not all(isinstance(line, str) and line.strip() for line in address)
    ):
        top.fail("must be a list of at least two address lines", "mailing_address")

    if answers is None:
        answers = answers_file.load(links=(raw.get("links") or {}) if isinstance(raw, dict) else None)
    links = _read_links(top.child("links"), answers)
    subscribe = top.child("subscribe")
    subscribe.only_keys("link")
    subscribe_link = subscribe.text("link")
    if subscribe_link not in links:
        subscribe.fail(f"names no link under links: {subscribe_link!r}", "link")

    return ContactData(
        center_name=center.text("name"),
        phone=center.text("phone", _PHONE),
        email=center.text("email", _EMAIL),
        hours=center.texts("hours"),
        handles=center.texts("handles"),
        feedback_name=board.text("name"),
        feedback_email=board.text("email", _EMAIL),
        press_name=press.text("name"),
        press_phone=press.text("phone", _PHONE),
        press_email=press.text("email", _EMAIL),
        mailing_address=tuple(line.strip() for line in address),
        subscribe_link=subscribe_link,
        links=links,
    )


def _read_links(section: _Reader, answers: Answers) -> Dict[str, Link]:
    links: Dict[str, Link] = {}
    for key in section.data:
        entry = section.child(key)
        entry.only_keys("title", "url", "confirmed", "fallback", "topics", "other_years", "mentioned_in")
        confirmed = entry.flag("confirmed")
        fallback = None if confirmed else entry.text("fallback")
        link = Link(
            key=key,
            titles=entry.texts("title"),
            url=entry.text("url", _URL),
            confirmed=confirmed,
            fallback=fallback,
            topics=entry.names("topics"),
            answers=tuple(answer.key for answer in answers.entries.values() if answer.link == key),
            other_years=entry.data.get("other_years"),
            mentioned_in=entry.names("mentioned_in") if "mentioned_in" in entry.data else (),
        )
        for intent in link.mentioned_in:
            if intent not in answers:
                entry.fail(f"{intent!r} is no question of answers.yml", "mentioned_in")
        links[key] = link

    for answer in answers.entries.values():
        if answer.link is not None and answer.link not in links:
            raise ContactDataError(
                f"answers.yml: answers.{answer.key}.link: names no link under links: {answer.link!r}"
            )
    for link in links.values():
        if link.other_years is not None and link.other_years not in links:
            section.fail(f"names no link under links: {link.other_years!r}", f"{link.key}.other_years")
        if link.fallback is not None:
            target = links.get(link.fallback)
            if target is None or not target.confirmed:
                section.fail(f"must name a confirmed link, not {link.fallback!r}", f"{link.key}.fallback")
    return links
