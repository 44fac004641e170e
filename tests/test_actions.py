"""Every custom action, run as the action server runs it: a real Tracker, a CollectingDispatcher.

The expected values are the facts of ../shared/FACTS.md, written out here on purpose: a wrong value
in content/contact_data.yml must fail these tests.
"""

from typing import Dict, List, Optional

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

from actions import actions

PHONE = "800-421-6770"
EMAIL = "AskCopsRC@usdoj.gov"
FEEDBACK_EMAIL = "CPDispatch@usdoj.gov"
HOME = "https://cops.usdoj.gov"
HOURS = "Monday to Friday, 9:00 a.m. to 5:00 p.m."
PRESS_EMAIL = "cops.office.public.affairs@usdoj.gov"
PRESS_PHONE = "202-514-9079"


def make_tracker(
    intent: str,
    channel: str = "rest",
    text: str = "a visitor's question",
    entities: Optional[List[Dict]] = None,
    ranking: Optional[List[Dict]] = None,
) -> Tracker:
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.9},
        "entities": entities or [],
        "intent_ranking": ranking or [{"name": intent, "confidence": 0.9}],
    }
    events = [
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": text, "parse_data": latest, "input_channel": channel},
    ]
    return Tracker("visitor-1", {}, latest, events, False, None, {}, "action_listen")


def run(action, tracker: Tracker):
    dispatcher = CollectingDispatcher()
    events = action.run(dispatcher, tracker, {})
    return dispatcher.messages, events


def only_message(messages: List[Dict]) -> Dict:
    assert len(messages) == 1, messages
    return messages[0]


def answer_of(messages: List[Dict]) -> Dict:
    """The answer's own message: on channels with buttons, the next questions follow it."""
    assert len(messages) in (1, 2), messages
    if len(messages) == 2:
        assert messages[1]["text"] == "Related questions:", messages
    return messages[0]


def next_questions(messages: List[Dict]) -> List[str]:
    return [button["payload"] for button in messages[1]["buttons"]] if len(messages) == 2 else []


def ratings(message: Dict) -> List[Dict]:
    return [button for button in message["buttons"] if button["payload"].startswith("/rate_answer")]


# --- contact answers ----------------------------------------------------------------------------


def test_phone_on_the_web_is_a_clickable_number_with_next_questions():
    messages, events = run(actions.ActionGivePhone(), make_tracker("ask_phone", "socketio"))
    message = answer_of(messages)
    assert events == []
    assert f"[{PHONE}](tel:+18004216770)" in message["text"]
    assert "COPS Office Response Center" in message["text"]
    assert next_questions(messages) == ["/ask_email", "/ask_hours", "/ask_address"]


@pytest.mark.parametrize("channel", ["twilio", "cmdline"])
def test_no_rating_buttons_where_buttons_would_be_lines_of_text_or_a_menu(channel):
    assert ratings(answer_of(run(actions.ActionGivePhone(), make_tracker("ask_phone", channel))[0])) == []


@pytest.mark.parametrize("channel", ["socketio", "rest", "telegram"])
def test_an_answer_can_be_rated_helpful_or_not_with_the_answer_it_rates(channel):
    message = answer_of(run(actions.ActionGivePhone(), make_tracker("ask_phone", channel))[0])
    assert ratings(message) == [
        {"title": "Helpful", "payload": '/rate_answer{"rating": "helpful", "rated_answer": "ask_phone"}'},
        {"title": "Not helpful", "payload": '/rate_answer{"rating": "not_helpful", "rated_answer": "ask_phone"}'},
    ]


def test_phone_in_the_shell_is_plain_text_without_buttons():
    messages, _ = run(actions.ActionGivePhone(), make_tracker("ask_phone", "cmdline"))
    message = only_message(messages)
    assert PHONE in message["text"]
    assert "](" not in message["text"]
    assert message["buttons"] == []


def test_email_is_a_mailto_link_over_rest():
    message = answer_of(run(actions.ActionGiveEmail(), make_tracker("ask_email"))[0])
    assert f"[{EMAIL}](mailto:{EMAIL})" in message["text"]


def test_feedback_goes_to_the_dispatch_editorial_board():
    message = answer_of(run(actions.ActionGiveFeedbackEmail(), make_tracker("ask_feedback_email", "cmdline"))[0])
    assert FEEDBACK_EMAIL in message["text"]
    assert "editorial board" in message["text"]
    assert EMAIL not in message["text"]


def test_mailing_address_is_complete():
    text = answer_of(run(actions.ActionGiveAddress(), make_tracker("ask_address"))[0])["text"]
    for line in (
        "U.S. Department of Justice",
        "Office of Community Oriented Policing Services",
        "145 N Street, N.E.",
        "Washington, DC 20530",
    ):
        assert line in text


def test_all_the_ways_to_reach_the_office():
    text = answer_of(run(actions.ActionGiveContacts(), make_tracker("ask_contact", "cmdline"))[0])["text"]
    for detail in (PHONE, EMAIL, FEEDBACK_EMAIL, "145 N Street, N.E.", HOME):
        assert detail in text


def test_hours_say_when_and_where_to_call():
    text = answer_of(run(actions.ActionGiveHours(), make_tracker("ask_hours", "cmdline"))[0])["text"]
    assert "Monday to Friday, 9:00 a.m. to 5:00 p.m." in text
    assert PHONE in text


def test_subscribe_points_to_the_subscribe_box_on_the_dispatch_pages():
    text = answer_of(run(actions.ActionGiveSubscribe(), make_tracker("ask_subscribe"))[0])["text"]
    assert '"Subscribe" box' in text
    assert "(https://cops.usdoj.gov/html/dispatch/index.html)" in text


# --- links ----------------------------------------------------------------------------------------


def topic(value: str) -> Dict:
    return {"entity": "resource_topic", "value": value}


def test_link_for_a_named_topic():
    tracker = make_tracker("ask_link", "cmdline", entities=[topic("hiring")])
    text = answer_of(run(actions.ActionGiveLinks(), tracker)[0])["text"]
    assert "COPS Hiring Program (CHP): https://cops.usdoj.gov/chp" in text
    assert "nasro.org" not in text


def test_sro_training_links_go_to_nasro_and_the_training_portal():
    tracker = make_tracker("ask_link", "cmdline", entities=[topic("sro_training")])
    text = answer_of(run(actions.ActionGiveLinks(), tracker)[0])["text"]
    assert "https://www.nasro.org" in text
    assert "https://copstrainingportal.org" in text


def test_an_unconfirmed_link_gives_way_to_the_cops_home_page():
    tracker = make_tracker("ask_link", "rest", entities=[topic("school_safety")])
    text = answer_of(run(actions.ActionGiveLinks(), tracker)[0])["text"]
    assert f"({HOME})" in text
    assert "supportingsafeschools" not in text and "/svpp" not in text


def test_links_without_a_topic_list_every_confirmed_page_clickably():
    text = answer_of(run(actions.ActionGiveLinks(), make_tracker("ask_link"))[0])["text"]
    for url in (HOME, "https://cops.usdoj.gov/chp", "https://www.nasro.org", "https://copstrainingportal.org"):
        assert f"]({url})" in text
    assert "supportingsafeschools" not in text


def link_request_after(answered: str, text: str = "link pls") -> Tracker:
    """A tracker in which the visitor asks for a link right after the answer `answered`."""
    earlier = {"text": "a question", "intent": {"name": answered, "confidence": 0.9}, "entities": []}
    latest = {"text": text, "intent": {"name": "ask_link", "confidence": 0.9}, "entities": []}
    events = [
        {"event": "user", "text": earlier["text"], "parse_data": earlier, "input_channel": "rest"},
        {"event": "action", "name": f"utter_{answered}"},
        {"event": "action", "name": "utter_more_info"},
        {"event": "user", "text": text, "parse_data": latest, "input_channel": "rest"},
    ]
    return Tracker("visitor-1", {}, latest, events, False, None, {}, "action_listen")


def test_a_link_asked_right_after_an_answer_is_that_answer_s_page():
    text = answer_of(run(actions.ActionGiveLinks(), link_request_after("nasro_courses"))[0])["text"]
    assert text.startswith("Here's where to find it:")
    assert "supervisors-management-course" in text and "cops.usdoj.gov/chp" not in text


def test_a_link_asked_after_rating_an_answer_is_still_that_answer_s_page():
    tracker = link_request_after("nasro_courses")
    rating = {"text": "Helpful", "intent": {"name": "rate_answer", "confidence": 1.0}, "entities": []}
    tracker.events[3:3] = [
        {"event": "user", "text": "Helpful", "parse_data": rating, "input_channel": "rest"},
        {"event": "action", "name": "action_acknowledge_rating"},
    ]
    text = answer_of(run(actions.ActionGiveLinks(), tracker)[0])["text"]
    assert "supervisors-management-course" in text and "cops.usdoj.gov/chp" not in text


def test_a_link_asked_after_the_dispatch_answer_gives_the_article_it_names_too():
    text = answer_of(run(actions.ActionGiveLinks(), link_request_after("what_is_dispatch"))[0])["text"]
    assert "dispatch/index.html" in text and "08-2019/nasro.html" in text


def test_all_the_links_asked_after_an_answer_are_all_of_them():
    text = answer_of(run(actions.ActionGiveLinks(), link_request_after("nasro_courses", "all the links please"))[0])[
        "text"
    ]
    assert text.startswith("Here are the pages I can point you to:") and "cops.usdoj.gov/chp" in text


# --- not understood -----------------------------------------------------------------------------


RANKING = [
    {"name": "nlu_fallback", "confidence": 0.5},
    {"name": "ask_phone", "confidence": 0.3},
    {"name": "greet", "confidence": 0.2},
    {"name": "out_of_scope", "confidence": 0.1},
    {"name": "ask_hours", "confidence": 0.1},
    {"name": "what_is_sro", "confidence": 0.05},
    {"name": "ask_chp", "confidence": 0.04},
]


def test_did_you_mean_offers_the_three_likeliest_questions_and_something_else():
    tracker = make_tracker("nlu_fallback", "socketio", ranking=RANKING)
    messages, events = run(actions.ActionAskAffirmation(), tracker)
    message = only_message(messages)
    assert events == []
    assert message["text"] == "Sorry, I'm not sure I understood. Did you mean one of these?"
    assert message["buttons"] == [
        {"title": "The Response Center's phone number", "payload": "/ask_phone"},
        {"title": "When the Response Center is open", "payload": "/ask_hours"},
        {"title": "What a school resource officer does", "payload": "/what_is_sro"},
        {"title": "Something else", "payload": "/out_of_scope"},
    ]


def test_did_you_mean_never_puts_911_in_front_of_a_harmless_question():
    """The safety check (components/safety.py) has found the message harmless before the fallback
    runs: an emergency among the likeliest intents must not alarm the visitor."""
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.5},
        {"name": "what_is_sro", "confidence": 0.3},
        {"name": "emergency", "confidence": 0.25},
        {"name": "ask_phone", "confidence": 0.1},
    ]
    message = only_message(run(actions.ActionAskAffirmation(), make_tracker("nlu_fallback", ranking=ranking))[0])
    assert "911" not in message["text"]
    assert "/emergency" not in [button["payload"] for button in message["buttons"]]


def test_did_you_mean_says_nothing_of_911_when_no_emergency_is_likely():
    messages, _ = run(actions.ActionAskAffirmation(), make_tracker("nlu_fallback", ranking=RANKING))
    assert [message.get("response") for message in messages] == [None]


def test_did_you_mean_in_the_shell_lists_the_suggestions_as_text():
    tracker = make_tracker("nlu_fallback", "cmdline", ranking=RANKING)
    message = only_message(run(actions.ActionAskAffirmation(), tracker)[0])
    assert message["buttons"] == []
    assert "- The Response Center's phone number\n- When the Response Center is open" in message["text"]


def test_ask_rephrase():
    message = only_message(run(actions.ActionAskRephrase(), make_tracker("out_of_scope"))[0])
    assert "other words" in message["text"]


def test_giving_up_says_what_it_covers_and_offers_a_person():
    messages, events = run(actions.ActionGiveUp(), make_tracker("nlu_fallback", "cmdline"))
    assert len(messages) == 2
    assert "SRO training" in messages[0]["text"]
    assert PHONE in messages[1]["text"] and EMAIL in messages[1]["text"]
    assert HOURS in messages[1]["text"]
    assert events == [UserUtteranceReverted()]


def not_understood_twice(channel: str = "cmdline") -> Tracker:
    """A visitor whose message was not understood, then "something else", then another one."""
    events = []
    for text, intent in (("blorp", "nlu_fallback"), ("/out_of_scope", "out_of_scope"), ("zorp", "nlu_fallback")):
        parse = {"text": text, "intent": {"name": intent, "confidence": 0.3}, "entities": [], "intent_ranking": RANKING}
        events += [
            {"event": "action", "name": "action_listen"},
            {"event": "user", "text": text, "parse_data": parse, "input_channel": channel},
        ]
    return Tracker("visitor-1", {}, events[-1]["parse_data"], events, False, None, {}, "action_listen")


def test_did_you_mean_the_first_time_offers_no_person():
    messages, _ = run(actions.ActionAskAffirmation(), make_tracker("nlu_fallback", "cmdline", ranking=RANKING))
    assert PHONE not in "\n".join(message["text"] for message in messages)


def test_not_understood_twice_in_a_row_offers_the_response_center_itself():
    messages, _ = run(actions.ActionAskAffirmation(), not_understood_twice())
    assert "Did you mean" in messages[0]["text"]
    offer = messages[-1]["text"]
    assert "talk to a person" in offer
    assert PHONE in offer and EMAIL in offer and HOURS in offer


# --- a person, the press, what the facts do not say --------------------------------------------


def test_a_person_gets_the_response_center_phone_hours_and_email():
    message = answer_of(run(actions.ActionGivePerson(), make_tracker("ask_person", "socketio"))[0])
    assert "can't pass this chat to a person" in message["text"]
    assert f"[{PHONE}](tel:+18004216770)" in message["text"]
    assert HOURS in message["text"] and f"[{EMAIL}](mailto:{EMAIL})" in message["text"]


def test_the_press_gets_public_affairs_not_the_response_center():
    text = answer_of(run(actions.ActionGivePress(), make_tracker("ask_press", "cmdline"))[0])["text"]
    assert PRESS_EMAIL in text and PRESS_PHONE in text
    assert PHONE not in text


def test_a_question_the_facts_do_not_answer_says_so_and_who_can_tell():
    text = only_message(run(actions.ActionGiveUnknown(), make_tracker("unknown_fact", "cmdline"))[0])["text"]
    assert "I don't have that information" in text
    assert PHONE in text and EMAIL in text and HOME in text and "https://www.nasro.org" in text


# --- two questions in one message ----------------------------------------------------------------


def two_questions_tracker(answered: List[str]) -> Tracker:
    """ "what's the email and the phone number?" after the actions in `answered` ran."""
    latest = {
        "text": "what's the email and the phone number?",
        "intent": {"name": "ask_email", "confidence": 0.8},
        "entities": [],
        "intent_ranking": [],
        "questions": ["ask_email", "ask_phone"],
    }
    events = [
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": latest["text"], "parse_data": latest, "input_channel": "rest"},
    ]
    events += [{"event": "action", "name": name} for name in answered]
    return Tracker("visitor-1", {}, latest, events, False, None, {}, answered[-1] if answered else "action_listen")


def test_in_a_message_with_two_questions_only_the_last_answer_offers_next_questions():
    first = run(actions.ActionGiveEmail(), two_questions_tracker([]))[0]
    second = run(actions.ActionGivePhone(), two_questions_tracker(["action_give_email"]))[0]
    assert EMAIL in answer_of(first)["text"] and next_questions(first) == []
    assert PHONE in answer_of(second)["text"] and next_questions(second)
    # Each answer is rated on its own.
    assert ratings(answer_of(first)) and ratings(answer_of(second))


def test_out_of_scope_referral_gives_phone_and_email():
    message = only_message(run(actions.ActionReferToResponseCenter(), make_tracker("out_of_scope", "rest"))[0])
    assert f"[{PHONE}](tel:+18004216770)" in message["text"]
    assert f"[{EMAIL}](mailto:{EMAIL})" in message["text"]


def test_a_conference_question_of_two_years_is_answered_for_each_with_its_page():
    """ "How many attended in 2019, and in 2021?" (the NLU names the years under `years`)."""
    tracker = make_tracker("conference_attendance", text="how many attended in 2019, and in 2021?")
    tracker.latest_message["years"] = ["2019", "2021"]
    dispatcher = CollectingDispatcher()
    assert actions.ActionAnswerEachYear().run(dispatcher, tracker, {}) == []
    texts = [message["text"] for message in dispatcher.messages]
    assert "2,100" in texts[0] and "08-2019/nasro" in texts[1]
    assert "1,100" in texts[2] and "nasro.org" in texts[3]
    assert not ratings(dispatcher.messages[0]) and not dispatcher.messages[1]["buttons"]
    assert ratings(dispatcher.messages[2]), "the last answer is rated..."
    assert texts[3].endswith("Related questions:") and len(dispatcher.messages[3]["buttons"]) == 3, (
        "... and offers what to ask next"
    )


def test_a_conference_year_the_facts_do_not_cover_is_said_so_beside_the_one_they_do():
    tracker = make_tracker("conference_location", text="where was it in 2019 and in 2017?")
    tracker.latest_message["years"] = ["2019", "other"]
    dispatcher = CollectingDispatcher()
    actions.ActionAnswerEachYear().run(dispatcher, tracker, {})
    texts = [message["text"] for message in dispatcher.messages]
    assert "Pigeon Forge" in texts[0] and "LeConte" in texts[0]
    assert texts[2].startswith("I don't have information about NASRO's conference of that year")


# --- erasing the conversation -------------------------------------------------------------------


@pytest.mark.parametrize(
    "language, deleted",
    [
        (None, "Your conversation has been deleted from our records."),
        ("es", "Su conversación se ha borrado de nuestros registros."),
    ],
)
def test_erasing_says_the_conversation_is_deleted_in_its_language_and_changes_nothing_itself(language, deleted):
    """The tracker store deletes the conversation when it saves the turn of this action: the action
    only says so."""
    tracker = make_tracker("affirm", "rest", text="yes")
    tracker.slots["language"] = language
    messages, events = run(actions.ActionEraseConversation(), tracker)
    message = only_message(messages)
    assert message["text"].startswith(deleted)
    assert events == []


@pytest.mark.parametrize("channel, tells_the_widget", [("socketio", True), ("rest", False), ("slack", False)])
def test_only_the_widget_is_told_to_delete_its_own_copy(channel, tells_the_widget):
    """The widget keeps the conversation in the visitor's browser (web/chat.js deletes it on this
    signal); Slack would post the signal as a message."""
    messages, _ = run(actions.ActionEraseConversation(), make_tracker("affirm", channel, text="yes"))
    signals = [message["custom"] for message in messages if message.get("custom")]
    assert signals == ([{"conversation_erased": True}] if tells_the_widget else [])


# --- a visitor's rating of an answer ------------------------------------------------------------


def rating_tracker(text: str, entities: Optional[List[Dict]] = None, language: Optional[str] = None) -> Tracker:
    tracker = make_tracker("rate_answer", "socketio", text=text, entities=entities)
    tracker.slots["language"] = language
    return tracker


def button_entities(rating: str) -> List[Dict]:
    return [{"entity": "rating", "value": rating}, {"entity": "rated_answer", "value": "ask_phone"}]


def test_helpful_is_thanked_for_and_nothing_else_changes():
    text = '/rate_answer{"rating": "helpful", "rated_answer": "ask_phone"}'
    messages, events = run(actions.ActionAcknowledgeRating(), rating_tracker(text, button_entities("helpful")))
    assert only_message(messages)["text"] == "Thank you for letting us know."
    assert events == []


@pytest.mark.parametrize(
    "text, entities",
    [
        ('/rate_answer{"rating": "not_helpful", "rated_answer": "ask_phone"}', button_entities("not_helpful")),
        ("that didn't help me at all", None),
        ("useless answer", None),
    ],
)
def test_not_helpful_offers_other_words_or_a_person(text, entities):
    messages, events = run(actions.ActionAcknowledgeRating(), rating_tracker(text, entities))
    assert len(messages) == 2 and events == []
    assert "ask your question again in other words" in messages[0]["text"]
    assert f"[{PHONE}](tel:+18004216770)" in messages[1]["text"] and HOURS in messages[1]["text"]
    assert f"[{EMAIL}](mailto:{EMAIL})" in messages[1]["text"]


def test_a_rating_typed_in_spanish_is_answered_in_spanish():
    messages, _ = run(actions.ActionAcknowledgeRating(), rating_tracker("no me sirvió", language="es"))
    assert messages[0]["text"].startswith("Gracias por decírnoslo, y disculpe")
    assert PHONE in messages[1]["text"]
    messages, _ = run(actions.ActionAcknowledgeRating(), rating_tracker("me sirvió mucho", language="es"))
    assert only_message(messages)["text"] == "Gracias por decírnoslo."


def test_a_payload_naming_no_rating_is_not_thanked_for():
    """A client can send any payload: it counts as no rating, and the visitor is asked to go on."""
    text = '/rate_answer{"rating": "5 stars"}'
    messages, _ = run(
        actions.ActionAcknowledgeRating(), rating_tracker(text, [{"entity": "rating", "value": "5 stars"}])
    )
    assert only_message(messages)["text"].startswith("Sorry, I didn't quite get that.")
