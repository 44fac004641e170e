"""Rasa's socket.io channel (the web widget's), with the project's checks.

- Browsers from other origins are refused: Rasa 3.6 builds its socket.io server with CORS handling
  switched off, so any web page could open a conversation. Here the socket.io server checks the
  allowed origins itself (HTTP 400 otherwise). The CORS headers come from the Rasa server's `--cors`
  (the same origins): if socket.io added its own too, browsers would see the
  Access-Control-Allow-Origin header twice and refuse the response.
- An empty, non-text or over-long message gets a short reply and never reaches the model.
- The visitor always gets an answer: when the assistant sends none (the action server is down) or
  none within guard.REPLY_DEADLINE_S (it hangs), the Response Center's phone and e-mail. The message
  is still handled to the end, so the conversation keeps it and a late answer still arrives.
"""

from typing import Any, Awaitable, Callable, Text

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint

from channels import guard
from channels.settings import allowed_origins


class CountingSocketIOOutput(SocketIOOutput):
    """Rasa's socket.io output, remembering whether anything was sent."""

    sent = False

    async def _send_message(self, socket_id: Text, response: Any) -> None:
        self.sent = True
        await super()._send_message(socket_id, response)


class SocketIOChannel(SocketIOInput):
    @classmethod
    def name(cls) -> Text:
        # Same name as Rasa's channel: trackers record "socketio", and the actions shape replies for it.
        return "socketio"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        async def checked(message: UserMessage) -> None:
            text = message.text if isinstance(message.text, str) else ""
            refused = guard.refusal(text)
            if refused is not None:
                await message.output_channel.send_text_message(message.sender_id, refused)
                return
            output = CountingSocketIOOutput(self.sio, self.bot_message_evt)
            message.output_channel = output
            await guard.handled_in_time(on_new_message(message), message.sender_id)
            if not output.sent:
                await output.send_text_message(message.sender_id, guard.unavailable())

        blueprint = super().blueprint(checked)
        # Rasa's handler strips the message before `checked` sees it: a number or a list would
        # crash it, so anything but a text arrives as an empty message instead.
        namespace = self.namespace or "/"
        rasa_handler = self.sio.handlers[namespace][self.user_message_evt]

        async def text_only(sid: Text, data: Any) -> None:
            data = data if isinstance(data, dict) else {}
            if not isinstance(data.get("message"), str):
                data = {**data, "message": ""}
            await rasa_handler(sid, data)

        self.sio.on(self.user_message_evt, text_only, namespace=namespace)
        engine = self.sio.eio
        engine.cors_allowed_origins = allowed_origins()
        engine._cors_headers = lambda environ: []
        return blueprint
