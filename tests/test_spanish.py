"""Spanish: every text a visitor may see has a Spanish version stating the same facts, and the
conversation's language is told from what the visitor writes (components/language.py)."""

import re
import string
from pathlib import Path
from typing import Dict, Iterator, Optional, Set, Tuple

import pytest
import yaml
from rasa.shared.core.events import SlotSet
from rasa.shared.core.slots import CategoricalSlot
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import ENTITIES, INTENT, METADATA, TEXT
from rasa.shared.nlu.training_data.message import Message

from components.language import LanguageChooser, asked_for, language_of
from content import answers, contact_data, replies

ROOT = Path(__file__).resolve().parent.parent
MONTHS = "january february march april may june july august september october november december".split()
MESES = "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre".split()
DAYS = "monday tuesday wednesday thursday friday saturday sunday".split()
DIAS = "lunes martes miercoles jueves viernes sabado domingo".split()
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
URL = re.compile(r"https?://\S+")
NUMBER = re.compile(r"\d[\d,.:]*\d|\d")


def facts(text: str) -> Dict[str, Set[str]]:
    """What a text states that must not differ between languages: numbers (with their separators:
    1,100 and 9:00 as written), dates' months and days, e-mail addresses, URLs and placeholders."""
    folded = text.lower().translate(str.maketrans("áéíóú", "aeiou"))
    words = set(re.findall(r"[a-z]+", folded))
    months = {MONTHS[i] for i, (month, mes) in enumerate(zip(MONTHS, MESES)) if month in words or mes in words}
    # "may" is also an English verb: only a month with a number beside it counts.
    if "may" in words and not re.search(r"\bmay \d|\d,? may\b", folded):
        months.discard("may")
    return {
        "numbers": set(NUMBER.findall(URL.sub(" ", EMAIL.sub(" ", text)))),
        "months": months,
        "days": {DAYS[i] for i, (day, dia) in enumerate(zip(DAYS, DIAS)) if day in words or dia in words},
        "e-mail addresses": set(EMAIL.findall(text)),
        "URLs": set(URL.findall(text)),
        "placeholders": {field for _, field, _, _ in string.Formatter().parse(text) if field},
    }


def pairs() -> Iterator[Tuple[str, Dict[str, str]]]:
    """(where, {language: text}) for every text a visitor may see."""
    loaded = answers.load()
    yield "answers.yml: another_year", loaded.another_year
    for entry in loaded.entries.values():
        yield f"answers.yml: {entry.key}.title", entry.titles
        if entry.text:
            yield f"answers.yml: {entry.key}.text", entry.text
        for year, written in entry.years.items():
            yield f"answers.yml: {entry.key}.years.{year}", written
    loaded_replies = replies.load()
    for key, written in loaded_replies.templates.items():
        yield f"replies.yml: {key}", written
    yield "replies.yml: none_of_these", loaded_replies.none_of_these_titles
    contacts = contact_data.load(answers=loaded)
    yield "contact_data.yml: response_center.hours", contacts.hours
    yield "contact_data.yml: response_center.handles", contacts.handles
    for link in contacts.links.values():
        yield f"contact_data.yml: links.{link.key}.title", link.titles
    domain = yaml.safe_load((ROOT / "domain" / "conversation.yml").read_text(encoding="utf-8"))
    for name, variants in domain["responses"].items():
        written = {}
        for variant in variants:
            conditions = {condition["name"]: condition["value"] for condition in variant.get("condition") or []}
            written[conditions.get("language", "en")] = variant["text"]
        yield f"domain/conversation.yml: {name}", written


PAIRS = dict(pairs())


@pytest.mark.parametrize("where", list(PAIRS))
def test_every_text_has_a_spanish_version_with_the_same_facts(where):
    written = PAIRS[where]
    assert set(written) == {"en", "es"}, f"{where}: no Spanish version"
    english, spanish = facts(written["en"]), facts(written["es"])
    differences = [
        f"{kind}: English {sorted(english[kind])}, Spanish {sorted(spanish[kind])}"
        for kind in english
        if english[kind] != spanish[kind]
    ]
    assert differences == [], f"{where}: the facts differ between languages:\n" + "\n".join(differences)


def test_the_check_finds_a_changed_fact():
    english = "Call {phone} Monday to Friday, 9:00 a.m. to 5:00 p.m.; more than 1,100 attended on June 24, 2019."
    faithful = "Llame al {phone} de lunes a viernes, de 9:00 a. m. a 5:00 p. m.; asistieron más de 1,100 el 24 de junio de 2019."
    assert facts(english) == facts(faithful)
    for unfaithful in (
        faithful.replace("1,100", "1,000"),
        faithful.replace("junio", "julio"),
        faithful.replace("viernes", "sábado"),
        faithful.replace("{phone}", "{email}"),
    ):
        assert facts(english) != facts(unfaithful), unfaithful


# --- the conversation's language ----------------------------------------------------------------


@pytest.mark.parametrize(
    "text, current, expected",
    [
        ("telefono?", None, "es"),
        ("¿cuál es el número de teléfono?", None, "es"),
        ("cual es el phone number", None, "es"),
        ("Hola, necesito ayuda", "en", "es"),
        ("what is the phone number", "es", "en"),
        ("how do I apply for a grant?", None, "en"),
        # Spanish speakers write English words: one does not take the conversation back to English.
        ("email?", "es", None),
        ("necesito el email", "es", "es"),
        # Names, numbers and "ok" tell nothing.
        ("ok", "es", None),
        ("ok", None, None),
        ("Phil Keith", None, None),
        ("2019", "es", None),
        ("SRO?", None, None),
        ("NASRO", "es", None),
        # Words English writes the same: "director", "son".
        ("phil keith director dates", None, None),
        ("my son", None, "en"),
    ],
)
def test_a_message_tells_its_language_only_when_it_does(text, current, expected):
    assert language_of(text, current) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("English please", "en"),
        ("¿Habla español?", "es"),
        ("espanol", "es"),
        ("en ingles por favor", "en"),
        ("no hablo ingles", "es"),
        ("I don't speak Spanish", "en"),
        ("can you answer in spanish", "es"),
    ],
)
def test_a_request_for_a_language_names_it(text, expected):
    assert asked_for(text) == expected


LANGUAGE_SLOT = CategoricalSlot(
    "language", mappings=[{"type": "from_entity", "entity": "language"}], values=["en", "es"]
)


def chosen(text: str, current: Optional[str], intent: str = "ask_phone", metadata: Optional[dict] = None):
    """What LanguageChooser makes of `text` in a conversation whose slot `language` is `current`."""
    message = Message(data={TEXT: text, INTENT: {"name": intent, "confidence": 0.9}, METADATA: metadata or {}})
    events = [SlotSet("language", current)] if current else []
    tracker = DialogueStateTracker.from_events("visitor", events, slots=[LANGUAGE_SLOT])
    LanguageChooser().process([message], tracker=tracker)
    values = [entity["value"] for entity in message.get(ENTITIES) or [] if entity["entity"] == "language"]
    return (values[0] if values else None), message.get(INTENT)["name"]


def test_the_slot_changes_only_when_the_language_does():
    assert chosen("telefono?", None) == ("es", "ask_phone")
    assert chosen("telefono?", "es") == (None, "ask_phone")
    assert chosen("what is the phone number", "es") == ("en", "ask_phone")
    assert chosen("ok", "es", intent="affirm") == (None, "affirm")


def test_a_language_name_alone_is_a_request_to_switch():
    assert chosen("Español", None, intent="nlu_fallback") == ("es", "switch_language")
    assert chosen("english please", "es", intent="out_of_scope") == ("en", "switch_language")


def test_the_client_names_the_language_of_a_new_conversation_when_the_message_does_not():
    assert chosen("ok", None, intent="affirm", metadata={"language": "es"}) == ("es", "affirm")
    # The page's language may lag behind the conversation's: it does not take it back.
    assert chosen("ok", "es", intent="affirm", metadata={"language": "en"}) == (None, "affirm")
    # ... but what the visitor writes wins.
    assert chosen("what is the phone number", "es", metadata={"language": "es"}) == ("en", "ask_phone")
    assert chosen("telefono?", None, metadata={"language": "xx"}) == ("es", "ask_phone")


def test_a_danger_is_answered_in_the_language_it_is_written_in():
    # The safety check found it by the classifier, not by its Spanish word lists: still Spanish.
    assert chosen("auxilio hay un hombre con una pistola", None, intent="emergency") == ("es", "emergency")
    assert chosen("help there is a man with a gun", "es", intent="emergency") == ("en", "emergency")
