"""End to end in Spanish: the real servers (tests/conftest.py), asked over REST as a Spanish speaker
would: the answers come in Spanish with the same facts, the language is kept across turns, switched on
request, named by a client's metadata, and the channels' own replies speak it too."""

import uuid

import pytest
import requests
import yaml
from conftest import ROOT

PHONE = "800-421-6770"


def text_of(replies: list) -> str:
    return "\n".join(reply.get("text", "") for reply in replies)


def post(assistant, message: str, sender: str, metadata=None) -> str:
    body = {"sender": sender, "message": message}
    if metadata is not None:
        body["metadata"] = metadata
    response = requests.post(f"{assistant.url}/webhooks/rest/webhook", json=body, timeout=60)
    response.raise_for_status()
    return text_of(response.json())


@pytest.mark.parametrize(
    "question, facts",
    [
        ("¿cuál es el número de teléfono?", [PHONE, "Puede llamar"]),
        ("cual es el correo electronico de la oficina cops", ["AskCopsRC@usdoj.gov"]),
        ("donde fue la conferencia de nasro en 2019", ["Pigeon Forge", "Tennessee", "conferencia"]),
        ("cuantas personas fueron a la conferencia", ["2,100"]),
        ("que es un oficial de recursos escolares", ["oficial"]),
        ("cuando se creo la oficina cops", ["1994"]),
    ],
)
def test_a_question_in_spanish_gets_its_facts_in_spanish(assistant, question, facts):
    text = post(assistant, question, f"es-{uuid.uuid4()}")
    for fact in facts:
        assert fact in text, f"{question!r} -> {text!r}"
    assert "Sorry" not in text and "Here's" not in text, text


def test_the_language_is_kept_across_turns_and_switched_on_request(assistant):
    sender = f"es-{uuid.uuid4()}"
    assert "Hola" in post(assistant, "hola", sender)
    # "ok" and a name say nothing of their language: still Spanish.
    hours = post(assistant, "ok, y el horario?", sender)
    assert "lunes a viernes" in hours, hours
    assert "Soy un asistente virtual" in post(assistant, "eres un robot?", sender)
    switched = post(assistant, "english please", sender)
    assert "English" in switched, switched
    assert "Monday to Friday" in post(assistant, "what are the hours", sender)
    assert "español" in post(assistant, "en español por favor", sender)
    assert "lunes a viernes" in post(assistant, "hours?", sender)


def test_an_emergency_in_spanish_gets_911_in_spanish(assistant):
    text = post(assistant, "auxilio hay un hombre con una pistola en la escuela", f"es-{uuid.uuid4()}")
    assert "llame al 911" in text and "988" in text, text


def spanish_response(name: str) -> str:
    domain = yaml.safe_load((ROOT / "domain" / "conversation.yml").read_text(encoding="utf-8"))
    return next(variant["text"] for variant in domain["responses"][name] if variant.get("condition"))


def test_a_client_names_the_language_of_a_new_conversation(assistant):
    sender = f"es-{uuid.uuid4()}"
    # In the metadata of a message that does not tell its language ...
    assert post(assistant, "ok", sender, metadata={"language": "es"}) == spanish_response("utter_affirm")
    # ... or, for a button's payload, as its entity (the web page's greeting does so).
    assert "¡Hola!" in post(assistant, '/greet{"language": "es"}', f"es-{uuid.uuid4()}")
    # One English word does not take a Spanish conversation back to English.
    phone = post(assistant, "ok, phone?", sender)
    assert PHONE in phone and "Puede llamar" in phone, phone


def test_the_channels_own_replies_speak_spanish(assistant):
    empty = post(assistant, "   ", f"es-{uuid.uuid4()}", metadata={"language": "es"})
    assert empty.startswith("Escriba una pregunta"), empty
    too_long = post(assistant, "hola " * 400, f"es-{uuid.uuid4()}")
    assert "911" in too_long and "Su mensaje" in too_long, too_long
