"""Rasa's socket.io channel, accepting browsers from the allowed origins only.

Rasa 3.6 builds its socket.io server with CORS handling switched off, so any web page could open a
conversation. This channel hands the allowed origins to the socket.io server instead: a connection
from another origin is refused with HTTP 400. The CORS headers themselves come from the Rasa
server's `--cors` (the same origins): if socket.io added its own too, browsers would see the
Access-Control-Allow-Origin header twice and refuse the response.
"""

from typing import Any, Awaitable, Callable, Text

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput
from sanic import Blueprint

from channels.settings import allowed_origins


class SocketIOChannel(SocketIOInput):
    @classmethod
    def name(cls) -> Text:
        # Same name as Rasa's channel: trackers record "socketio", and the actions shape replies for it.
        return "socketio"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(on_new_message)
        engine = self.sio.eio
        engine.cors_allowed_origins = allowed_origins()
        engine._cors_headers = lambda environ: []
        return blueprint
