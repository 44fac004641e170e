"""Custom actions: the replies that carry a contact detail, a link or a suggestion.

Wording comes from replies.yml, values from contact_data.yml; both are read and checked once, when
the action server starts. Replies are shaped for the visitor's channel: clickable Markdown links
and buttons for the web widget and REST clients, plain text for `rasa shell`.
"""

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

from actions import contact_data, replies
from actions.contact_data import ContactData, Link
from actions.replies import Replies

# Loaded once, at start-up: a broken file stops the action server with the bad key's name.
CONTACTS: ContactData = contact_data.load()
REPLIES: Replies = replies.load()

# Clients of these channels render Markdown, so links and addresses become clickable.
MARKDOWN_CHANNELS = {"rest", "socketio", "callback"}
# `rasa shell` would turn buttons into a menu; it gets plain text.
PLAIN_TEXT_CHANNELS = {"cmdline"}

MAX_SUGGESTIONS = 3
RELATED_QUESTIONS = 3
EMERGENCY_INTENT = "emergency"
# Rasa's two-stage fallback reads this intent as "none of these": it then asks to rephrase.
NONE_OF_THESE_INTENT = "out_of_scope"


@dataclass(frozen=True)
class ReplyStyle:
    markdown: bool
    buttons: bool

    @classmethod
    def of(cls, tracker: Tracker) -> "ReplyStyle":
        channel = tracker.get_latest_input_channel()
        return cls(
            markdown=channel in MARKDOWN_CHANNELS, buttons=channel not in PLAIN_TEXT_CHANNELS
        )

    def link(self, link: Link) -> str:
        return f"[{link.title}]({link.url})" if self.markdown else f"{link.title}: {link.url}"

    def link_list(self, links: List[Link]) -> str:
        return "\n".join(f"- {self.link(link)}" for link in links)

    def phone(self) -> str:
        return f"[{CONTACTS.phone}]({CONTACTS.tel_uri})" if self.markdown else CONTACTS.phone

    def email(self, address: str) -> str:
        return f"[{address}](mailto:{address})" if self.markdown else address

    def question_buttons(self, intents: List[str]) -> List[Dict[str, str]]:
        if not self.buttons:
            return []
        return [{"title": REPLIES.title(intent), "payload": f"/{intent}"} for intent in intents]


def contact_values(style: ReplyStyle) -> Dict[str, str]:
    """Every contact placeholder a reply in replies.yml may use."""
    return {
        "center_name": CONTACTS.center_name,
        "handles": CONTACTS.handles,
        "hours": CONTACTS.hours,
        "phone": style.phone(),
        "email": style.email(CONTACTS.email),
        "feedback_email": style.email(CONTACTS.feedback_email),
        "address": "\n".join(CONTACTS.mailing_address),
        "address_line": ", ".join(CONTACTS.mailing_address),
        "website": style.link(CONTACTS.links["cops_home"]),
        "subscribe_page": style.link(CONTACTS.shown(CONTACTS.links[CONTACTS.subscribe_link])),
    }


def _latest_intent(tracker: Tracker) -> Optional[str]:
    return (tracker.latest_message.get("intent") or {}).get("name")


def _answer(dispatcher: CollectingDispatcher, tracker: Tracker, reply: str, **extra: str) -> None:
    """Utters a reply and, where the channel has buttons, the next questions of its topic."""
    style = ReplyStyle.of(tracker)
    related = REPLIES.related(_latest_intent(tracker), RELATED_QUESTIONS)
    dispatcher.utter_message(
        text=REPLIES.text(reply, **contact_values(style), **extra),
        buttons=style.question_buttons(related),
    )


class ContactAction(Action, ABC):
    """Answers a contact question with one reply from replies.yml."""

    reply = ""

    @abstractmethod
    def name(self) -> Text:
        """The action's name in domain.yml."""

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        _answer(dispatcher, tracker, self.reply)
        return []


class ActionGivePhone(ContactAction):
    reply = "phone"

    def name(self) -> Text:
        return "action_give_phone"


class ActionGiveEmail(ContactAction):
    reply = "email"

    def name(self) -> Text:
        return "action_give_email"


class ActionGiveFeedbackEmail(ContactAction):
    reply = "feedback_email"

    def name(self) -> Text:
        return "action_give_feedback_email"


class ActionGiveAddress(ContactAction):
    reply = "address"

    def name(self) -> Text:
        return "action_give_address"


class ActionGiveHours(ContactAction):
    reply = "hours"

    def name(self) -> Text:
        return "action_give_hours"


class ActionGiveContacts(ContactAction):
    reply = "contacts"

    def name(self) -> Text:
        return "action_give_contacts"


class ActionGiveSubscribe(ContactAction):
    reply = "subscribe"

    def name(self) -> Text:
        return "action_give_subscribe"


class ActionGiveLinks(Action):
    """Links for the topics the visitor named (entity resource_topic), else every link."""

    def name(self) -> Text:
        return "action_give_links"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        links: List[Link] = []
        for topic in tracker.get_latest_entity_values("resource_topic"):
            for link in CONTACTS.links_for_topic(topic):
                if link not in links:
                    links.append(link)
        reply = "topic_links" if links else "all_links"
        links = links or CONTACTS.all_links()
        _answer(dispatcher, tracker, reply, links=ReplyStyle.of(tracker).link_list(links))
        return []


class ActionShareLink(Action):
    """Follows a fact from domain.yml with the page that tells more about it."""

    def name(self) -> Text:
        return "action_share_link"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        link = CONTACTS.link_answering(_latest_intent(tracker))
        if link is not None:
            _answer(dispatcher, tracker, "more_info", link=ReplyStyle.of(tracker).link(link))
        return []


class ActionReferToResponseCenter(Action):
    """Points a question the assistant cannot answer to the people who can."""

    def name(self) -> Text:
        return "action_refer_to_response_center"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        style = ReplyStyle.of(tracker)
        dispatcher.utter_message(text=REPLIES.text("refer_to_response_center", **contact_values(style)))
        return []


class ActionAskAffirmation(Action):
    """Two-stage fallback, first stage: "did you mean ...?" with the likeliest questions.

    Replaces Rasa's default, which offers only the single top intent with Yes/No.
    """

    def name(self) -> Text:
        return "action_default_ask_affirmation"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        style = ReplyStyle.of(tracker)
        ranked = [entry.get("name") for entry in tracker.latest_message.get("intent_ranking") or []]
        likeliest = [intent for intent in ranked if intent != "nlu_fallback"][:MAX_SUGGESTIONS]
        if EMERGENCY_INTENT in likeliest:
            # Unsure, but it may be an emergency: 911 comes first, whatever else it might be.
            dispatcher.utter_message(response="utter_emergency")
        suggestions = [intent for intent in ranked if REPLIES.title(intent)][:MAX_SUGGESTIONS]
        if style.buttons:
            buttons = style.question_buttons(suggestions)
            buttons.append({"title": REPLIES.none_of_these, "payload": f"/{NONE_OF_THESE_INTENT}"})
            dispatcher.utter_message(text=REPLIES.text("did_you_mean"), buttons=buttons)
        else:
            listed = "\n".join(f"- {REPLIES.title(intent)}" for intent in suggestions)
            dispatcher.utter_message(text=REPLIES.text("did_you_mean_plain", suggestions=listed))
        return []


class ActionAskRephrase(Action):
    """Two-stage fallback, second stage: none of the suggestions fit."""

    def name(self) -> Text:
        return "action_default_ask_rephrase"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        dispatcher.utter_message(text=REPLIES.text("ask_rephrase"))
        return []


class ActionGiveUp(Action):
    """Two-stage fallback, last stage: what the assistant covers, and who can help instead."""

    def name(self) -> Text:
        return "action_default_fallback"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        values = contact_values(ReplyStyle.of(tracker))
        dispatcher.utter_message(text=REPLIES.text("give_up"))
        dispatcher.utter_message(text=REPLIES.text("refer_to_response_center", **values))
        # Like Rasa's own fallback: forget the message, so the dialogue carries on as before it.
        return [UserUtteranceReverted()]
