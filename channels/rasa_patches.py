"""Every place the project touches Rasa's internals, each with its reason.

They hold for Rasa 3.6.21 only: `check_version` refuses any other, so that an upgrade fails loudly
here (and in tests/test_rasa_patches.py) instead of quietly changing what visitors get.

1. socket.io: only a text reaches Rasa's message handler (`text_only`). Rasa's handler calls
   `.strip()` on what the browser sent: a number or a list would crash it.
2. socket.io: the allowed origins are checked by the socket.io server itself, and it adds no CORS
   headers (`own_origins_no_cors_headers`). Rasa 3.6 builds that server with CORS checks off, so any
   page could open a conversation; the Rasa server's `--cors` already adds the headers, and a second
   Access-Control-Allow-Origin makes browsers refuse the response.
3. socket.io: the output channel remembers whether it sent anything (`CountingSocketIOOutput`, over
   the private `_send_message` every reply goes through), so a visitor who got nothing gets the
   fallback answer.
4. `rasa shell`: Ctrl-D (or a terminal that went away) at the prompt ends the session like /stop
   (`console_eof_is_stop`). Rasa's console lets prompt_toolkit's EOFError kill its input task and
   leaves the server running with nobody to talk to.
5. `rasa shell` in Spanish (`make shell CHAT_LANGUAGE=es`): the session opens by asking for the
   language, as a visitor would (`console_opens_in`). Rasa's console posts only the typed text, with
   no metadata to name a language in.
"""

from typing import Any, Awaitable, Callable, Iterable, Optional, Text

import rasa
from rasa.core.channels.socketio import SocketIOOutput

RASA_VERSION = "3.6.21"


class UnsupportedRasaVersion(RuntimeError):
    """The installed Rasa is not the one these patches were written for."""


def check_version(installed: Optional[str] = None) -> None:
    installed = installed or rasa.__version__
    if installed != RASA_VERSION:
        raise UnsupportedRasaVersion(
            f"channels/rasa_patches.py patches Rasa {RASA_VERSION}'s internals, but Rasa {installed} is installed: "
            "check each patch against the new version, then change RASA_VERSION"
        )


check_version()


def text_only(sio: Any, event: Text, namespace: Text) -> None:
    """Patch 1: wraps the handler Rasa registered for `event` so that it only ever gets a text."""
    rasa_handler = sio.handlers[namespace][event]

    async def handler(sid: Text, data: Any) -> None:
        data = data if isinstance(data, dict) else {}
        if not isinstance(data.get("message"), str):
            data = {**data, "message": ""}
        await rasa_handler(sid, data)

    sio.on(event, handler, namespace=namespace)


def own_origins_no_cors_headers(sio: Any, origins: Iterable[str]) -> None:
    """Patch 2: the engine refuses other origins (HTTP 400) and adds no CORS headers of its own."""
    engine = sio.eio
    engine.cors_allowed_origins = list(origins)
    engine._cors_headers = lambda environ: []


class CountingSocketIOOutput(SocketIOOutput):
    """Patch 3: Rasa's socket.io output, remembering whether anything was sent."""

    sent = False

    async def _send_message(self, socket_id: Text, response: Any) -> None:
        self.sent = True
        await super()._send_message(socket_id, response)


def console_eof_is_stop() -> None:
    """Patch 4: at `rasa shell`'s prompt, end of input is /stop."""
    import rasa.core.channels.console as console

    get_user_input: Callable[[Any], Awaitable[Optional[Text]]] = console._get_user_input

    async def eof_is_stop(previous_response: Any) -> Optional[Text]:
        try:
            return await get_user_input(previous_response)
        except (EOFError, OSError):
            return None  # what record_messages gets for /stop

    console._get_user_input = eof_is_stop


def console_opens_in(language: str) -> None:
    """Patch 5: the first message of the `rasa shell` session asks for `language` (en, es)."""
    import rasa.core.channels.console as console

    get_user_input: Callable[[Any], Awaitable[Optional[Text]]] = console._get_user_input
    opened = []

    async def first_asks_for_language(previous_response: Any) -> Optional[Text]:
        if not opened:
            opened.append(language)
            return f'/switch_language{{"language": "{language}"}}'
        return await get_user_input(previous_response)

    console._get_user_input = first_asks_for_language
