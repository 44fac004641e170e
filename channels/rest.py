"""Rasa's REST channel, with the request checked before anything reaches the model.

Same address (/webhooks/rest/webhook) and the same replies as Rasa's, but:
- a request that is not a JSON object with a text `sender` and a text `message` gets HTTP 400 and a
  JSON error naming the field (Rasa answers 500 to some, and files a missing sender under the
  conversation `default`, shared by everyone);
- an empty or over-long message gets a short reply without reaching the model;
- the visitor always gets an answer: if the assistant produced none (the action server is down) or
  takes longer than guard.REPLY_DEADLINE_S (it hangs), the Response Center's phone and e-mail.
  The message is still handled to the end in the background, so the conversation keeps it.
"""

import json
from typing import Any, Awaitable, Callable, Dict, Optional, Text, Tuple

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels import guard

MAX_SENDER_CHARS = 255


class BadRequest(ValueError):
    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field


def parse_request(body: bytes) -> Tuple[str, str, Optional[Dict[str, Any]]]:
    """sender, message and metadata of a webhook request, or BadRequest naming what is wrong."""
    if not body or not body.strip():
        raise BadRequest("body", 'is empty: send a JSON object {"sender": "...", "message": "..."}')
    try:
        payload = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise BadRequest("body", "is not UTF-8 text")
    except json.JSONDecodeError as error:
        raise BadRequest("body", f"is not valid JSON ({error.msg} at character {error.pos})")
    if not isinstance(payload, dict):
        raise BadRequest("body", f"must be a JSON object, not a JSON {type(payload).__name__}")

    sender = payload.get("sender")
    if not isinstance(sender, str) or not sender.strip():
        raise BadRequest("sender", "is required: a text naming the conversation, one per visitor")
    if len(sender) > MAX_SENDER_CHARS:
        raise BadRequest("sender", f"is longer than {MAX_SENDER_CHARS} characters")
    if "message" not in payload:
        raise BadRequest("message", "is required: the visitor's text")
    message = payload["message"]
    if not isinstance(message, str):
        raise BadRequest("message", f"must be a text, not a JSON {type(message).__name__}")
    metadata = payload.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise BadRequest("metadata", "must be a JSON object")
    return sender, message, metadata


async def answer_within_deadline(on_new_message: Callable[[UserMessage], Awaitable[Any]], message: UserMessage) -> list:
    """The bot's replies, or the fallback answer when there are none in time."""
    collector: CollectingOutputChannel = message.output_channel
    in_time = await guard.handled_in_time(on_new_message(message), message.sender_id)
    if not in_time or not collector.messages:
        return [guard.bot_message(message.sender_id, guard.unavailable(message.text or "", message.metadata))]
    return collector.messages


class RestChannel(RestInput):
    @classmethod
    def name(cls) -> Text:
        # Rasa's name: the same webhook address, and trackers record "rest".
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        webhook = Blueprint("checked_rest_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                sender, text, metadata = parse_request(request.body)
            except BadRequest as error:
                return response.json({"error": str(error), "field": error.field}, status=400)

            refused = guard.refusal(text, metadata)
            if refused is not None:
                return response.json([guard.bot_message(sender, refused)])

            message = UserMessage(text, CollectingOutputChannel(), sender, input_channel=self.name(), metadata=metadata)
            return response.json(await answer_within_deadline(on_new_message, message))

        return webhook
