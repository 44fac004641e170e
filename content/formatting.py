"""The content as the servers use it, loaded and checked once, and a reply shaped for a channel:
clickable Markdown links for the web widget and REST clients, plain text for `rasa shell`; and what
follows an answer (its page, the next questions of its topic), the same from either server."""

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence

from content import answers, contact_data, feedback, replies
from content.answers import Answers
from content.contact_data import ContactData, Link, tel_uri
from content.languages import DEFAULT_LANGUAGE, LANGUAGES, in_language
from content.replies import Replies

# Loaded at start-up: a broken file stops the server with the bad key's name.
ANSWERS: Answers = answers.load()
CONTACTS: ContactData = contact_data.load(answers=ANSWERS)
REPLIES: Replies = replies.load()

# Clients of these channels render Markdown, so links and addresses become clickable.
MARKDOWN_CHANNELS = {"rest", "socketio", "callback"}
# `rasa shell` would turn buttons into a menu; it gets plain text.
PLAIN_TEXT_CHANNELS = {"cmdline"}
# Rasa writes buttons out as numbered lines of text ("1: title (payload)") on these: a question
# reads well enough that way, a rating's payload does not, and the visitor can type one instead.
BUTTONS_AS_TEXT_CHANNELS = {"twilio", "webexteams"}
# The web widget keeps its own copy of the conversation in the visitor's browser: once the
# conversation is erased, the socket.io channel sends it this event (channels/socketio.py), and the
# page (web/chat.js) deletes that copy too.
CONVERSATION_ERASED = "conversation_erased"
# How many of its topic's next questions follow an answer.
RELATED_QUESTIONS = 3


@dataclass(frozen=True)
class ReplyStyle:
    """How a reply is shaped for the visitor's channel, in the conversation's language."""

    markdown: bool
    buttons: bool
    language: str = DEFAULT_LANGUAGE
    rating_buttons_shown: bool = True

    @classmethod
    def for_channel(cls, channel: str, language: Optional[str] = None) -> "ReplyStyle":
        return cls(
            markdown=channel in MARKDOWN_CHANNELS,
            buttons=channel not in PLAIN_TEXT_CHANNELS,
            language=language if language in LANGUAGES else DEFAULT_LANGUAGE,
            rating_buttons_shown=channel not in PLAIN_TEXT_CHANNELS | BUTTONS_AS_TEXT_CHANNELS,
        )

    def link(self, link: Link) -> str:
        title = link.title(self.language)
        return f"[{title}]({link.url})" if self.markdown else f"{title}: {link.url}"

    def link_list(self, links: List[Link]) -> str:
        return "\n".join(f"- {self.link(link)}" for link in links)

    def phone(self, number: str = CONTACTS.phone) -> str:
        return f"[{number}]({tel_uri(number)})" if self.markdown else number

    def email(self, address: str) -> str:
        return f"[{address}](mailto:{address})" if self.markdown else address

    def question_buttons(self, intents: List[str]) -> List[Dict[str, str]]:
        if not self.buttons:
            return []
        return [{"title": ANSWERS.title(intent, self.language), "payload": f"/{intent}"} for intent in intents]

    def rating_buttons(self, answer: str) -> List[Dict[str, str]]:
        """ "Helpful" and "Not helpful" for the answer with this key (content/feedback.py)."""
        if not self.rating_buttons_shown:
            return []
        return [
            {"title": REPLIES.rating_title(rating, self.language), "payload": feedback.payload(rating, answer)}
            for rating in feedback.RATINGS
        ]


def contact_values(style: ReplyStyle) -> Dict[str, str]:
    """Every contact placeholder an answer or a reply may use (answers.CONTACT_PLACEHOLDERS)."""
    return {
        "center_name": CONTACTS.center_name,
        "handles": in_language(CONTACTS.handles, style.language),
        "hours": in_language(CONTACTS.hours, style.language),
        "phone": style.phone(),
        "email": style.email(CONTACTS.email),
        "feedback_email": style.email(CONTACTS.feedback_email),
        "address": "\n".join(CONTACTS.mailing_address),
        "address_line": ", ".join(CONTACTS.mailing_address),
        "website": style.link(CONTACTS.links["cops_home"]),
        "subscribe_page": style.link(CONTACTS.shown(CONTACTS.links[CONTACTS.subscribe_link])),
        "nasro_site": style.link(CONTACTS.links["nasro"]),
        "press_name": CONTACTS.press_name,
        "press_phone": style.phone(CONTACTS.press_phone),
        "press_email": style.email(CONTACTS.press_email),
    }


def is_last_answer(answered: Optional[str], questions: Sequence[str]) -> bool:
    """Whether `answered` is the last answer to a message that asked `questions` (one or several):
    the next questions of a topic follow the last answer only."""
    return not questions or answered not in questions or answered == questions[-1]


def next_question_buttons(style: ReplyStyle, answered: Optional[str], questions: Sequence[str]) -> List[Dict[str, str]]:
    """The next questions of the answer's topic, as buttons (none before a message's last answer)."""
    return style.question_buttons(
        ANSWERS.related(answered, RELATED_QUESTIONS) if is_last_answer(answered, questions) else []
    )


def page_reply(
    style: ReplyStyle, answered: Optional[str], another_year: bool, next_questions: bool = True
) -> Optional[Dict[str, Any]]:
    """ "More information" and the page that tells more about an answer (for a conference of
    another year than 2019, the page that covers the other years), then, with `next_questions`,
    the next questions of its topic as buttons; None for an answer that has no page."""
    link = CONTACTS.link_answering(answered, another_year)
    if link is None:
        return None
    text = REPLIES.text("more_info", style.language, **contact_values(style), link=style.link(link))
    buttons = style.question_buttons(ANSWERS.related(answered, RELATED_QUESTIONS)) if next_questions else []
    if buttons:
        text += "\n\n" + REPLIES.text("related_questions", style.language)
    return {"text": text, "buttons": buttons}
