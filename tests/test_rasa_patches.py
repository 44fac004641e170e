"""The Rasa internals channels/rasa_patches.py touches are there, on the one Rasa version it is for."""

import inspect

import pytest
import rasa
import rasa.core.channels.console as console
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput

from channels import rasa_patches


def test_the_patches_are_for_the_installed_rasa_and_refuse_another():
    assert rasa.__version__ == rasa_patches.RASA_VERSION
    with pytest.raises(rasa_patches.UnsupportedRasaVersion) as refused:
        rasa_patches.check_version("3.6.22")
    assert "Rasa 3.6.21's internals, but Rasa 3.6.22 is installed" in str(refused.value)


def test_what_the_patches_replace_is_where_they_expect_it():
    # Patch 3 overrides the private method every socket.io reply goes through.
    assert inspect.iscoroutinefunction(SocketIOOutput._send_message)
    assert "_send_message" in inspect.getsource(SocketIOOutput.send_text_message)
    # Patches 4 and 5 replace the console's prompt reader, which Rasa's console loop calls by name.
    assert inspect.iscoroutinefunction(console._get_user_input)
    assert "_get_user_input(" in inspect.getsource(console.record_messages)
    # Patches 1 and 2 work on the socket.io server Rasa's channel builds.
    channel = SocketIOInput()
    channel.blueprint(lambda message: None)
    handlers = channel.sio.handlers["/"]
    assert channel.user_message_evt in handlers
    assert callable(channel.sio.eio._cors_headers)


def test_only_a_text_reaches_rasa_s_handler_and_no_cors_header_is_added():
    import asyncio

    channel = SocketIOInput()
    channel.blueprint(lambda message: None)
    seen = []

    async def rasa_handler(sid, data):
        seen.append(data)

    channel.sio.on(channel.user_message_evt, rasa_handler, namespace="/")
    rasa_patches.text_only(channel.sio, channel.user_message_evt, "/")
    patched = channel.sio.handlers["/"][channel.user_message_evt]
    for data in ({"message": 42, "session_id": "s"}, ["not", "a", "dict"], {"message": "hi"}):
        asyncio.run(patched("sid", data))
    assert seen == [{"message": "", "session_id": "s"}, {"message": ""}, {"message": "hi"}]

    rasa_patches.own_origins_no_cors_headers(channel.sio, ["https://example.org"])
    assert channel.sio.eio.cors_allowed_origins == ["https://example.org"]
    assert channel.sio.eio._cors_headers({"HTTP_ORIGIN": "https://example.org"}) == []


def test_a_spanish_shell_session_opens_by_asking_for_spanish(monkeypatch):
    import asyncio

    async def typed(previous_response):
        return "hola"

    monkeypatch.setattr(console, "_get_user_input", typed)
    rasa_patches.console_opens_in("es")
    first, second = (asyncio.run(console._get_user_input(None)) for _ in range(2))
    assert (first, second) == ('/switch_language{"language": "es"}', "hola")
