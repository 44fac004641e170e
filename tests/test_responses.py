"""The Rasa server's own writer of responses (channels/responses.py), run as Rasa runs it: built by
Rasa's factory from endpoints.yml, on the project's domain, with real trackers. A fact of
content/answers.yml is rated, and followed by its page and the next questions, without the action
server."""

import asyncio
from pathlib import Path
from typing import Dict, List, Optional

import pytest
import yaml
from rasa.core.nlg import NaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from channels.responses import AnswerResponses

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = Domain.from_path(ROOT / "domain")
ARTICLE = "https://cops.usdoj.gov/html/dispatch/08-2019/nasro.html"


def generator_of(endpoints_file: Path) -> NaturalLanguageGenerator:
    endpoints = yaml.safe_load(endpoints_file.read_text(encoding="utf-8"))
    return NaturalLanguageGenerator.create(EndpointConfig.from_dict(endpoints["nlg"]), DOMAIN)


GENERATOR = generator_of(ROOT / "endpoints.yml")


def conversation(
    intent: str,
    answered: List[str],
    channel: str = "rest",
    questions: Optional[List[str]] = None,
    **slots: str,
) -> DialogueStateTracker:
    """A visitor's message asking `intent` (and `questions`), then the responses `answered`."""
    parse_data = {
        "text": "a visitor's question",
        "intent": {"name": intent, "confidence": 0.9},
        "entities": [],
        "questions": questions or [intent],
    }
    events = [
        *(SlotSet(name, value) for name, value in slots.items()),
        ActionExecuted("action_listen"),
        UserUttered(parse_data["text"], parse_data["intent"], [], parse_data, input_channel=channel),
        *(ActionExecuted(name) for name in answered),
    ]
    return DialogueStateTracker.from_events("visitor-1", events, slots=DOMAIN.slots)


def say(response: str, tracker: DialogueStateTracker) -> Dict:
    # Rasa names the REST channel's output "collector": the visitor's channel is the input's.
    return asyncio.run(GENERATOR.generate(response, tracker, "collector", domain_responses=DOMAIN.responses))


def payloads(message: Dict, prefix: str = "/") -> List[str]:
    return [button["payload"] for button in message.get("buttons") or [] if button["payload"].startswith(prefix)]


def test_both_endpoints_files_have_rasa_build_this_writer():
    assert isinstance(GENERATOR, AnswerResponses)
    assert isinstance(generator_of(ROOT / "deploy" / "endpoints.yml"), AnswerResponses)


@pytest.mark.parametrize(
    "intent, url",
    [
        ("what_is_nasro", "https://www.nasro.org"),
        ("conference_location", ARTICLE),
        ("ask_chp", "https://cops.usdoj.gov/chp"),
        ("ask_svpp", "https://cops.usdoj.gov"),  # its own address is unconfirmed
        ("what_is_dispatch", "https://cops.usdoj.gov/html/dispatch/index.html"),
    ],
)
def test_a_fact_is_followed_by_its_page_and_the_next_questions(intent, url):
    message = say("utter_more_info", conversation(intent, [f"utter_{intent}"]))
    assert message["text"].startswith("More information: [")
    assert message["text"].endswith(f"]({url})\n\nRelated questions:")
    assert len(payloads(message)) == 3 and f"/{intent}" not in payloads(message)


def test_a_fact_is_rated_under_itself_in_the_conversation_s_language():
    tracker = conversation("conference_location", [], "socketio", language="es")
    fact = say("utter_conference_location", tracker)
    assert "Pigeon Forge" in fact["text"]
    assert [button["title"] for button in fact["buttons"]] == ["Útil", "No fue útil"]
    assert payloads(fact) == [
        '/rate_answer{"rating": "helpful", "rated_answer": "conference_location"}',
        '/rate_answer{"rating": "not_helpful", "rated_answer": "conference_location"}',
    ]
    page = say(
        "utter_more_info", conversation("conference_location", ["utter_conference_location"], "socketio", language="es")
    )
    assert page["text"].startswith("Más información: [") and page["text"].endswith("Preguntas relacionadas:")


def test_the_page_follows_the_fact_just_given_and_the_next_questions_the_last_answer():
    questions = ["conference_location", "what_is_nasro"]
    first = say(
        "utter_more_info", conversation("conference_location", ["utter_conference_location"], questions=questions)
    )
    assert first["text"].startswith("More information: [") and first["text"].endswith(f"]({ARTICLE})")
    assert first["buttons"] == []
    answered = ["utter_conference_location", "utter_more_info", "utter_what_is_nasro"]
    last = say("utter_more_info", conversation("conference_location", answered, questions=questions))
    assert "](https://www.nasro.org)\n\nRelated questions:" in last["text"] and len(last["buttons"]) == 3


def test_a_conference_of_another_year_has_nasro_s_site_for_its_page():
    assert (
        "](https://www.nasro.org)"
        in say(
            "utter_more_info",
            conversation("conference_location", ["utter_conference_location"], conference_year="2021"),
        )["text"]
    )
    assert (
        ARTICLE
        in say(
            "utter_more_info",
            conversation("conference_location", ["utter_conference_location"], conference_year="2019"),
        )["text"]
    )


def test_the_shell_gets_the_page_as_plain_text_without_buttons():
    tracker = conversation("what_is_nasro", ["utter_what_is_nasro"], "cmdline")
    assert say("utter_what_is_nasro", conversation("what_is_nasro", [], "cmdline"))["buttons"] == []
    message = say("utter_more_info", tracker)
    assert message == {"text": "More information: NASRO: https://www.nasro.org", "buttons": []}


def test_responses_that_are_no_fact_are_rasa_s_own():
    greeting = say("utter_greet", conversation("greet", []))
    assert greeting["text"].startswith("Hello! I'm the COPS Office's virtual assistant.")
    assert payloads(greeting, "/rate_answer") == []
    # A page asked after something that has none: the domain's words, no invented link.
    assert say("utter_more_info", conversation("greet", ["utter_greet"]))["text"] == (
        "Ask me for the link if you'd like the page about this."
    )
