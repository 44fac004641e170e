"""Bad input on the REST and socket.io channels: a clear answer, nothing lost, the server goes on.

Runs against the real servers (tests/conftest.py), as a visitor's browser or a careless client
would send it.
"""

import asyncio
import json
import sqlite3
import time
import uuid
from pathlib import Path

import pytest
import requests
import socketio
from conftest import process_tree

PHONE = "800-421-6770"


def webhook(assistant) -> str:
    return f"{assistant.url}/webhooks/rest/webhook"


def post_raw(assistant, body: bytes) -> requests.Response:
    return requests.post(webhook(assistant), data=body, headers={"Content-Type": "application/json"}, timeout=30)


def user_texts(assistant, sender: str) -> list:
    with sqlite3.connect(assistant.db) as db:
        rows = db.execute(
            "SELECT data FROM events WHERE sender_id = ? AND type_name = 'user' ORDER BY id", (sender,)
        ).fetchall()
    return [json.loads(data)["text"] for (data,) in rows]


def senders(assistant) -> set:
    with sqlite3.connect(assistant.db) as db:
        return {sender for (sender,) in db.execute("SELECT DISTINCT sender_id FROM events")}


@pytest.fixture
def still_serving(assistant):
    """After each bad request, the next visitor is answered normally."""
    yield
    replies = assistant.ask("what is the response center phone number?", f"next-{uuid.uuid4()}")
    assert PHONE in replies[0]["text"]


@pytest.mark.parametrize("text", ["", "   ", "\n\t "])
def test_an_empty_message_gets_a_prompt(assistant, still_serving, text):
    sender = f"empty-{uuid.uuid4()}"
    response = requests.post(webhook(assistant), json={"sender": sender, "message": text}, timeout=30)
    assert response.status_code == 200
    assert "Please type a question" in response.json()[0]["text"]
    assert user_texts(assistant, sender) == []


@pytest.mark.parametrize(
    "body, field",
    [
        ({"message": "hello"}, "sender"),
        ({"sender": "", "message": "hello"}, "sender"),
        ({"sender": 42, "message": "hello"}, "sender"),
        ({"sender": "a"}, "message"),
        ({"sender": "a", "message": 42}, "message"),
        ({"sender": "a", "message": ["hello"]}, "message"),
        ({"sender": "a", "message": {"text": "hello"}}, "message"),
        ({"sender": "a", "message": None}, "message"),
    ],
)
def test_a_missing_or_wrong_field_is_refused_by_name(assistant, still_serving, body, field):
    response = requests.post(webhook(assistant), json=body, timeout=30)
    assert response.status_code == 400
    assert response.json()["field"] == field
    assert response.json()["error"].startswith(f"{field}: ")


def test_no_sender_never_lands_in_the_shared_default_conversation(assistant, still_serving):
    requests.post(webhook(assistant), json={"message": "my private question"}, timeout=30)
    assert "default" not in senders(assistant)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"   ",
        b"{not json",
        b'{"sender": "a", "message": "hi"',
        b'["sender", "message"]',
        b'"hello"',
        b"42",
        b"null",
        b'\xff\xfe{"sender": "a"}',
    ],
)
def test_a_body_that_is_not_a_json_object_is_refused(assistant, still_serving, body):
    response = post_raw(assistant, body)
    assert response.status_code == 400
    assert response.json()["field"] == "body"


def test_an_over_long_message_gets_a_polite_reply_at_once_and_never_reaches_the_model(assistant, still_serving):
    sender = f"long-{uuid.uuid4()}"
    started = time.monotonic()
    response = requests.post(webhook(assistant), json={"sender": sender, "message": "x" * 100_000}, timeout=30)
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert "shorter" in response.json()[0]["text"]
    assert elapsed < 1.0
    assert user_texts(assistant, sender) == []


def test_a_message_at_the_limit_still_reaches_the_model(assistant):
    sender = f"limit-{uuid.uuid4()}"
    text = ("what is the response center phone number? " * 30)[:999] + "?"  # 1,000 characters
    replies = requests.post(webhook(assistant), json={"sender": sender, "message": text}, timeout=30).json()
    assert replies and "shorter" not in replies[0]["text"]
    assert user_texts(assistant, sender) == [text]


@pytest.mark.parametrize(
    "text",
    [
        "what is an SRO? 👮‍♀️🏫",
        "¿Qué es un oficial de recursos escolares? café naïve",
        "ما هو ضابط الموارد المدرسية؟",
        "phone\x00number\x01\x07 please",
        "<script>alert(1)</script> what is nasro",
        "<img src=x onerror=alert(1)>",
    ],
)
def test_unusual_text_is_answered_and_stored_intact(assistant, still_serving, text):
    sender = f"unusual-{uuid.uuid4()}"
    response = requests.post(webhook(assistant), json={"sender": sender, "message": text}, timeout=30)
    assert response.status_code == 200
    assert response.json() and all(reply.get("text") for reply in response.json())
    assert user_texts(assistant, sender) == [text]


# --- socket.io -------------------------------------------------------------------------------------


async def socket_exchange(assistant, payload: dict, origin: str) -> list:
    """Opens a widget-like session, sends one message, returns the bot's messages within 5 s."""
    received: list = []
    client = socketio.AsyncClient(reconnection=False)
    client.on("bot_uttered", lambda data: received.append(data))
    await client.connect(assistant.url, headers={"Origin": origin}, transports=["polling"], socketio_path="socket.io")
    session = payload["session_id"]
    await client.emit("session_request", {"session_id": session})
    await client.emit("user_uttered", payload)
    for _ in range(50):
        if received:
            await asyncio.sleep(0.5)  # let the rest of the answer arrive
            break
        await asyncio.sleep(0.1)
    await client.disconnect()
    return received


@pytest.mark.parametrize(
    "message, expected",
    [
        ("", "Please type a question"),
        ("   ", "Please type a question"),
        (42, "Please type a question"),
        ("x" * 5000, "shorter"),
    ],
)
def test_socketio_bad_messages_get_a_clear_answer(assistant, message, expected):
    session = f"sock-{uuid.uuid4()}"
    received = asyncio.run(
        socket_exchange(assistant, {"message": message, "session_id": session, "customData": {}}, assistant.origin)
    )
    assert received and expected in received[0]["text"]
    assert user_texts(assistant, session) == []


def test_socketio_answers_a_normal_message(assistant):
    session = f"sock-{uuid.uuid4()}"
    received = asyncio.run(
        socket_exchange(
            assistant,
            {"message": "what is the response center phone number?", "session_id": session, "customData": {}},
            assistant.origin,
        )
    )
    assert any(PHONE in message.get("text", "") for message in received)


def test_socketio_refuses_another_origin(assistant):
    with pytest.raises(socketio.exceptions.ConnectionError):
        asyncio.run(
            socket_exchange(assistant, {"message": "hello", "session_id": "x", "customData": {}}, "http://evil.example")
        )


# --- memory -----------------------------------------------------------------------------------------


def rasa_server_rss_mb(assistant) -> float:
    for pid, (_, command) in process_tree(assistant.process.pid).items():
        if "bin/rasa run" in command:
            status = Path(f"/proc/{pid}/status").read_text()
            rss_kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
            return rss_kb / 1024
    raise AssertionError("no Rasa server process found under make run's launcher")


def test_the_whole_bad_input_set_grows_memory_by_less_than_50_mb(assistant):
    bad_bodies = [b"", b"{not json", b'["a"]', b"\xff\xfe", b'{"message": "hi"}', b'{"sender": "a", "message": 5}']
    texts = ["", "   ", "x" * 100_000, "👮‍♀️ what is an sro", "ما هو ضابط", "a\x00b", "<img src=x onerror=alert(1)>"]
    assistant.ask("hello", f"warm-{uuid.uuid4()}")
    before = rasa_server_rss_mb(assistant)
    for _ in range(3):
        for body in bad_bodies:
            post_raw(assistant, body)
        for text in texts:
            requests.post(webhook(assistant), json={"sender": f"mem-{uuid.uuid4()}", "message": text}, timeout=30)
    after = rasa_server_rss_mb(assistant)
    print(f"Rasa server RSS: {before:.0f} MB before, {after:.0f} MB after the bad-input set")
    assert after - before < 50, f"Rasa server grew from {before:.0f} MB to {after:.0f} MB"
