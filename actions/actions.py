"""Custom actions: the replies that carry a contact detail, a link or a suggestion.

The answers' wording comes from content/answers.yml, the replies around them from
content/replies.yml, the values from content/contact_data.yml; all are read and checked once, when
the action server starts. Replies are shaped for the visitor's channel (content/formatting.py).
"""

import re
from abc import ABC, abstractmethod
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

from content.answers import DEFAULT_YEAR, PAGE_RESPONSE, QUESTIONS, YEAR_SLOT, YEARS
from content.contact_data import Link
from content.feedback import HELPFUL, NOT_HELPFUL, RATING_INTENT, rating_of
from content.formatting import (
    ANSWERS,
    CONTACTS,
    CONVERSATION_ERASED,
    REPLIES,
    ReplyStyle,
    contact_values,
    next_question_buttons,
    page_reply,
)
from content.languages import LANGUAGE_SLOT

MAX_SUGGESTIONS = 3
# Rasa's two-stage fallback reads this intent as "none of these": it then asks to rephrase.
NONE_OF_THESE_INTENT = "out_of_scope"
NOT_UNDERSTOOD_INTENT = "nlu_fallback"


def _style(tracker: Tracker) -> ReplyStyle:
    """The reply's shape for the visitor's channel, in the conversation's language (the slot
    `language`, set by components/language.py)."""
    return ReplyStyle.for_channel(tracker.get_latest_input_channel(), tracker.get_slot(LANGUAGE_SLOT))


def _latest_intent(tracker: Tracker) -> Optional[str]:
    return (tracker.latest_message.get("intent") or {}).get("name")


def _answer(
    dispatcher: CollectingDispatcher, tracker: Tracker, template: str, intent: Optional[str], **extra: str
) -> None:
    """Utters `template` filled in, answering `intent`, and, where the channel has buttons, the
    visitor's rating of it (content/feedback.py) and the next questions of its topic (after the last
    answer only, when the message asked several questions)."""
    style = _style(tracker)
    related = next_question_buttons(style, intent, tracker.latest_message.get(QUESTIONS) or [])
    dispatcher.utter_message(
        text=template.format(**contact_values(style), **extra),
        buttons=style.rating_buttons(intent) if intent in ANSWERS else [],
    )
    if related:
        dispatcher.utter_message(text=REPLIES.text("related_questions", style.language), buttons=related)


class ContactAction(Action, ABC):
    """Answers a contact question (`intent`) with its answer in answers.yml, the contact details
    filled in."""

    intent = ""

    @abstractmethod
    def name(self) -> Text:
        """The action's name in the domain."""

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        _answer(dispatcher, tracker, ANSWERS.text(self.intent, _style(tracker).language), self.intent)
        return []


class ActionGivePhone(ContactAction):
    intent = "ask_phone"

    def name(self) -> Text:
        return "action_give_phone"


class ActionGiveEmail(ContactAction):
    intent = "ask_email"

    def name(self) -> Text:
        return "action_give_email"


class ActionGiveFeedbackEmail(ContactAction):
    intent = "ask_feedback_email"

    def name(self) -> Text:
        return "action_give_feedback_email"


class ActionGiveAddress(ContactAction):
    intent = "ask_address"

    def name(self) -> Text:
        return "action_give_address"


class ActionGiveHours(ContactAction):
    intent = "ask_hours"

    def name(self) -> Text:
        return "action_give_hours"


class ActionGiveContacts(ContactAction):
    intent = "ask_contact"

    def name(self) -> Text:
        return "action_give_contacts"


class ActionGiveSubscribe(ContactAction):
    intent = "ask_subscribe"

    def name(self) -> Text:
        return "action_give_subscribe"


class ActionGivePerson(ContactAction):
    intent = "ask_person"

    def name(self) -> Text:
        return "action_give_person"


class ActionGivePress(ContactAction):
    intent = "ask_press"

    def name(self) -> Text:
        return "action_give_press"


class ActionGiveUnknown(Action):
    """An answer the facts do not hold: said so, with who can tell."""

    def name(self) -> Text:
        return "action_give_unknown"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        style = _style(tracker)
        dispatcher.utter_message(text=REPLIES.text("unknown", style.language, **contact_values(style)))
        return []


class ActionGiveLinks(Action):
    """Links for the topics the visitor named (entity resource_topic), else every link."""

    def name(self) -> Text:
        return "action_give_links"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        style = _style(tracker)
        links: List[Link] = []
        for topic in tracker.get_latest_entity_values("resource_topic"):
            for link in CONTACTS.links_for_topic(topic):
                if link not in links:
                    links.append(link)
        if not links and not _ALL_LINKS.search(tracker.latest_message.get("text") or ""):
            # "Link pls" right after the NASRO courses asks for the courses' page.
            links = CONTACTS.links_after(
                _intent_answered_before(tracker), tracker.get_slot(YEAR_SLOT) not in (None, DEFAULT_YEAR)
            )
        reply = REPLIES.template("topic_links" if links else "all_links", style.language)
        links = links or CONTACTS.all_links()
        _answer(dispatcher, tracker, reply, "ask_link", links=style.link_list(links))
        return []


# "All the links", "every page", "other links": the whole list, whatever came before.
_ALL_LINKS = re.compile(r"\b(?:all|every|other|list|useful|more)\b", re.IGNORECASE)


def _intent_answered_before(tracker: Tracker) -> Optional[str]:
    """The intent of the answer given to the visitor's message before the latest one (a rating
    of it in between is no message of the conversation's thread)."""
    seen_latest = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            if seen_latest:
                intent = (event.get("parse_data") or {}).get("intent", {}).get("name")
                if intent != RATING_INTENT:
                    return intent
            seen_latest = True
        elif seen_latest and event.get("event") == "action":
            name = event.get("name") or ""
            if name.startswith("utter_") and name != PAGE_RESPONSE:
                return name[len("utter_") :]
    return None


class ActionAnswerEachYear(Action):
    """ "How many attended in 2019, and in 2021?": the answer to the message's conference question
    (content/answers.yml) for each year it names, each with its page; the last is rated."""

    def name(self) -> Text:
        return "action_answer_each_year"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        intent = _latest_intent(tracker)
        answered_in_words = intent in ANSWERS and ANSWERS[intent].text
        years = (tracker.latest_message.get(YEARS) or []) if answered_in_words else []
        style = _style(tracker)
        for position, year in enumerate(years):
            last = position == len(years) - 1
            dispatcher.utter_message(
                text=ANSWERS.text_for_year(intent, year, style.language),
                buttons=style.rating_buttons(intent) if last else [],
            )
            # What to ask next comes after the last answer only.
            page = page_reply(style, intent, year != DEFAULT_YEAR, next_questions=last)
            if page is not None:
                dispatcher.utter_message(**page)
        return []


class ActionAcknowledgeRating(Action):
    """A visitor rated an answer: thanks, and after "not helpful", the way on: other words, or a
    person. The rating itself is the visitor's message, kept in the conversation."""

    def name(self) -> Text:
        return "action_acknowledge_rating"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        style = _style(tracker)
        rating = rating_of(tracker.latest_message, tracker.latest_message.get("text") or "")
        if rating == HELPFUL:
            dispatcher.utter_message(text=REPLIES.text("rated_helpful", style.language))
        elif rating == NOT_HELPFUL:
            dispatcher.utter_message(text=REPLIES.text("rated_not_helpful", style.language))
            dispatcher.utter_message(text=REPLIES.text("person_offer", style.language, **contact_values(style)))
        else:
            # A client's own payload naming no rating: nothing is counted, and the visitor goes on.
            dispatcher.utter_message(text=REPLIES.text("ask_rephrase", style.language))
        return []


class ActionReferToResponseCenter(Action):
    """Points a question the assistant cannot answer to the people who can."""

    def name(self) -> Text:
        return "action_refer_to_response_center"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        style = _style(tracker)
        dispatcher.utter_message(text=REPLIES.text("refer_to_response_center", style.language, **contact_values(style)))
        return []


class ActionEraseConversation(Action):
    """ "Delete my conversation", confirmed (data/rules.yml): says it has been deleted, in the
    conversation's language.

    The deletion itself is the tracker store's: when it saves a turn that ran this action, it
    deletes every event of the conversation before it but the language, so that the visitor goes
    on being answered in it (privacy/tracker_store.py). The action returns no events.
    """

    def name(self) -> Text:
        return "action_erase_conversation"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        dispatcher.utter_message(text=REPLIES.text("conversation_erased", _style(tracker).language))
        if tracker.get_latest_input_channel() == "socketio":
            # For the widget only: other channels' clients keep no copy, and Slack or Telegram
            # would try to post it.
            dispatcher.utter_message(json_message={CONVERSATION_ERASED: True})
        return []


def _not_understood_before(tracker: Tracker) -> bool:
    """Whether one of the visitor's two messages before this one was not understood either
    (the "something else" button may sit between them)."""
    intents = [
        (event.get("parse_data") or {}).get("intent", {}).get("name")
        for event in tracker.applied_events()
        if event.get("event") == "user"
    ]
    return NOT_UNDERSTOOD_INTENT in intents[-3:-1]


class ActionAskAffirmation(Action):
    """Two-stage fallback, first stage: "did you mean ...?" with the likeliest questions.

    Replaces Rasa's default, which offers only the single top intent with Yes/No.
    """

    def name(self) -> Text:
        return "action_default_ask_affirmation"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        style = _style(tracker)
        ranked = [entry.get("name") for entry in tracker.latest_message.get("intent_ranking") or []]
        # Emergencies are not suggested: the safety check (components/safety.py) has already
        # found this message harmless, and a "did you mean an emergency?" would only alarm.
        suggestions = [intent for intent in ranked if ANSWERS.title(intent)][:MAX_SUGGESTIONS]
        if style.buttons:
            buttons = style.question_buttons(suggestions)
            buttons.append({"title": REPLIES.none_of_these(style.language), "payload": f"/{NONE_OF_THESE_INTENT}"})
            dispatcher.utter_message(text=REPLIES.text("did_you_mean", style.language), buttons=buttons)
        else:
            listed = "\n".join(f"- {ANSWERS.title(intent, style.language)}" for intent in suggestions)
            dispatcher.utter_message(text=REPLIES.text("did_you_mean_plain", style.language, suggestions=listed))
        if _not_understood_before(tracker):
            dispatcher.utter_message(text=REPLIES.text("person_offer", style.language, **contact_values(style)))
        return []


class ActionAskRephrase(Action):
    """Two-stage fallback, second stage: none of the suggestions fit."""

    def name(self) -> Text:
        return "action_default_ask_rephrase"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        dispatcher.utter_message(text=REPLIES.text("ask_rephrase", _style(tracker).language))
        return []


class ActionGiveUp(Action):
    """Two-stage fallback, last stage: what the assistant covers, and who can help instead."""

    def name(self) -> Text:
        return "action_default_fallback"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        style = _style(tracker)
        values = contact_values(style)
        dispatcher.utter_message(text=REPLIES.text("give_up", style.language))
        dispatcher.utter_message(text=REPLIES.text("person_offer", style.language, **values))
        # Like Rasa's own fallback: forget the message, so the dialogue carries on as before it.
        return [UserUtteranceReverted()]
