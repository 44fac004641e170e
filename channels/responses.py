"""Rasa's writer of responses (endpoints.yml's `nlg`), which also writes what follows a fact of
content/answers.yml, so that a fact and its page are answered in the Rasa server alone, with no
call to the action server:

- the fact (`utter_<question>`, written into the domain by content/build.py) gets the visitor's
  rating buttons ("Helpful" / "Not helpful", content/feedback.py), as a contact answer does;
- `utter_more_info` (PAGE_RESPONSE), which the fact's rule runs next, becomes "More information" with the fact's
  page from content/contact_data.yml (the only place a link is written), shaped for the visitor's
  channel and language, for the conference year asked, and the next questions of its topic.

Every other response is Rasa's own, chosen and filled in as Rasa does.
"""

from typing import Any, Dict, List, Optional, Text

from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from content.answers import DEFAULT_YEAR, PAGE_RESPONSE, QUESTIONS, YEAR_SLOT
from content.formatting import ANSWERS, ReplyStyle, is_last_answer, page_reply
from content.languages import LANGUAGE_SLOT

RESPONSE_PREFIX = "utter_"


class AnswerResponses(TemplatedNaturalLanguageGenerator):
    """The domain's responses, and the facts' ratings and pages from the content."""

    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, domain: Optional[Domain] = None) -> None:
        # Rasa gives a newly loaded model's responses to `self.responses` (Agent.load_model).
        super().__init__(domain.responses if domain else {})

    async def generate(
        self, utter_action: Text, tracker: DialogueStateTracker, output_channel: Text, **kwargs: Any
    ) -> Optional[Dict[Text, Any]]:
        # The channel the visitor wrote on: REST replies go out through Rasa's "collector".
        style = ReplyStyle.for_channel(tracker.get_latest_input_channel() or "", tracker.get_slot(LANGUAGE_SLOT))
        if utter_action == PAGE_RESPONSE:
            answered = answered_fact(tracker)
            reply = page_reply(
                style,
                answered,
                another_year=tracker.get_slot(YEAR_SLOT) not in (None, DEFAULT_YEAR),
                next_questions=is_last_answer(answered, questions_of(tracker)),
            )
            if reply is not None:
                return reply
        message = await super().generate(utter_action, tracker, output_channel, **kwargs)
        fact = utter_action[len(RESPONSE_PREFIX) :]
        if message is not None and utter_action.startswith(RESPONSE_PREFIX) and fact in ANSWERS:
            message["buttons"] = [*(message.get("buttons") or []), *style.rating_buttons(fact)]
        return message


def answered_fact(tracker: DialogueStateTracker) -> Optional[str]:
    """The question whose fact (`utter_<question>`) was given last for the latest message: in a
    message that asked several, not always the message's intent."""
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            break
        if isinstance(event, ActionExecuted):
            name = event.action_name or ""
            if name.startswith(RESPONSE_PREFIX) and name != PAGE_RESPONSE:
                return name[len(RESPONSE_PREFIX) :]
    return tracker.latest_message.intent.get("name") if tracker.latest_message else None


def questions_of(tracker: DialogueStateTracker) -> List[str]:
    message = tracker.latest_message
    return list((message.parse_data.get(QUESTIONS) if message else None) or [])
