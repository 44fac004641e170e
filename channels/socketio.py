"""Rasa's socket.io channel (the web widget's), with the project's checks.

- Browsers from other origins are refused (HTTP 400): the socket.io server checks the allowed
  origins itself (channels/rasa_patches.py says why and how, as for the two points below).
- An empty, non-text or over-long message gets a short reply and never reaches the model.
- The visitor always gets an answer: when the assistant sends none (the action server is down) or
  none within guard.REPLY_DEADLINE_S (it hangs), the Response Center's phone and e-mail. The message
  is still handled to the end, so the conversation keeps it and a late answer still arrives.
- Once the visitor's conversation is erased, the widget is told, and deletes its own copy.
- The "Helpful" / "Not helpful" buttons under an answer, and the related questions after it, stay
  in the conversation's history: the widget (rasa-webchat) hides "quick replies" once another
  message follows, but keeps "buttons". (A "did you mean" stays quick replies: its suggestions
  answer that one message.) A choice made later is no harm: a rated pair is disabled (web/chat.js),
  and a related question is a question like any other.
"""

from typing import Any, Awaitable, Callable, Dict, List, Text

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput
from sanic import Blueprint

from channels import guard, rasa_patches
from channels.rasa_patches import CountingSocketIOOutput
from channels.settings import allowed_origins
from content.feedback import is_rating_payload
from content.formatting import CONVERSATION_ERASED, REPLIES

# The text above the related questions, in each language (content/replies.yml).
RELATED_QUESTIONS_LABELS = set(REPLIES.templates["related_questions"].values())


class WidgetOutput(CountingSocketIOOutput):
    """Rasa's socket.io output, which also tells the widget when the conversation was erased, and
    sends the buttons of a rating and of the related questions as buttons that stay."""

    async def send_text_with_buttons(
        self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        rating = bool(buttons) and all(is_rating_payload(button.get("payload")) for button in buttons)
        if not rating and text.strip() not in RELATED_QUESTIONS_LABELS:
            await super().send_text_with_buttons(recipient_id, text, buttons, **kwargs)
            return
        # As Rasa's output does: each paragraph a message, the buttons under the last.
        paragraphs = text.strip().split("\n\n")
        for paragraph in paragraphs[:-1]:
            await self._send_message(recipient_id, {"text": paragraph})
        persistent = [{"title": button["title"], "payload": button["payload"]} for button in buttons]
        await self._send_message(recipient_id, {"text": paragraphs[-1], "buttons": persistent})

    async def send_custom_json(self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any) -> None:
        if json_message.get(CONVERSATION_ERASED) is True:
            await self.sio.emit(CONVERSATION_ERASED, {}, room=recipient_id)
            return
        await super().send_custom_json(recipient_id, json_message, **kwargs)


class SocketIOChannel(SocketIOInput):
    @classmethod
    def name(cls) -> Text:
        # Same name as Rasa's channel: trackers record "socketio", and the actions shape replies for it.
        return "socketio"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        async def checked(message: UserMessage) -> None:
            text = message.text if isinstance(message.text, str) else ""
            refused = guard.refusal(text, message.metadata)
            if refused is not None:
                await message.output_channel.send_text_message(message.sender_id, refused)
                return
            output = WidgetOutput(self.sio, self.bot_message_evt)
            message.output_channel = output
            await guard.handled_in_time(on_new_message(message), message.sender_id)
            if not output.sent:
                await output.send_text_message(message.sender_id, guard.unavailable(text, message.metadata))

        blueprint = super().blueprint(checked)
        rasa_patches.text_only(self.sio, self.user_message_evt, self.namespace or "/")
        rasa_patches.own_origins_no_cors_headers(self.sio, allowed_origins())
        return blueprint
