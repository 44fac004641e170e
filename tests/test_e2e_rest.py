"""End to end: the real servers, started the way `make run` starts them (tests/conftest.py), asked
over REST with the project's command-line client, scripts/ask.py."""

import sqlite3
import subprocess
import sys
import uuid

import pytest
import requests
from conftest import ROOT, Assistant, port_is_open


def text_of(replies: list) -> str:
    return "\n".join(reply.get("text", "") for reply in replies)


@pytest.mark.parametrize(
    "question, facts",
    [
        ("what is the response center phone number?", ["800-421-6770"]),
        ("how do i email the cops office with a question", ["AskCopsRC@usdoj.gov"]),
        ("where do i send feedback about the dispatch newsletter", ["CPDispatch@usdoj.gov"]),
        ("what's your mailing address", ["145 N Street, N.E.", "Washington, DC 20530"]),
        ("where was the nasro 2019 conference held?", ["Pigeon Forge, Tennessee"]),
        ("how many people attended the nasro conference", ["2,100", "largest"]),
        ("who opened the 2019 conference", ["Phil Keith", "Jeremy Pruitt"]),
        ("what sessions were at the conference", ["Crisis Prevention and Response", "Restorative Justice"]),
        ("what is a school resource officer?", ["sworn law enforcement officer"]),
        ("who pays for the basic training of sros", ["basic training", "NASRO"]),
        ("when was the cops office created", ["1994"]),
        ("how many school resource officers has the cops office funded", ["7,300", "as of August 2019"]),
        ("who was the director of the cops office in 2019", ["Phil Keith"]),
        ("what is nasro", ["National Association of School Resource Officers", "https://www.nasro.org"]),
    ],
)
def test_questions_get_the_right_fact(assistant, question, facts):
    text = text_of(assistant.ask(question, f"e2e-{uuid.uuid4()}"))
    for fact in facts:
        assert fact in text, f"{question!r} -> {text!r}"


def test_an_emergency_is_pointed_to_911_first_then_988_and_nothing_else(assistant):
    replies = assistant.ask("help there is someone with a gun in my kid's school right now", "e2e-911")
    assert len(replies) == 2
    assert "call 911" in replies[0]["text"]
    assert "988" in replies[1]["text"] and "800-421-6770" not in replies[1]["text"]


def test_out_of_scope_invents_nothing_and_refers_to_the_response_center(assistant):
    text = text_of(assistant.ask("what will the weather be like in chicago tomorrow", "e2e-weather"))
    assert "outside what I can answer" in text
    assert "800-421-6770" in text and "AskCopsRC@usdoj.gov" in text


def test_a_follow_up_question_in_the_same_conversation(assistant):
    sender = f"e2e-{uuid.uuid4()}"
    assert "COPS Hiring Program" in text_of(assistant.ask("what is the cops hiring program", sender))
    assert "800-421-6770" in text_of(assistant.ask("and the phone?", sender))


def test_not_understood_asks_did_you_mean_then_gives_up_with_contacts(assistant):
    sender = f"e2e-{uuid.uuid4()}"
    first = assistant.ask("blorp zanquiddle frobnitz", sender)
    assert "Did you mean" in first[0]["text"]
    payloads = [button["payload"] for button in first[0]["buttons"]]
    assert 2 <= len(payloads) <= 4 and payloads[-1] == "/out_of_scope"

    # "Something else", then a second message it cannot understand either: sent as the intent
    # itself, because how unsure the model is of any one made-up text can change with retraining.
    assert "other words" in text_of(assistant.ask("/out_of_scope", sender))
    assert "Did you mean" in text_of(assistant.ask("/nlu_fallback", sender))
    last = text_of(assistant.ask("/out_of_scope", sender))
    assert "800-421-6770" in last and "AskCopsRC@usdoj.gov" in last


def test_not_understood_then_rephrased_is_answered(assistant):
    sender = f"e2e-{uuid.uuid4()}"
    assistant.ask("blorp zanquiddle frobnitz", sender)
    assistant.ask("/out_of_scope", sender)
    text = text_of(assistant.ask("who opened the nasro conference in 2019", sender))
    assert "Phil Keith" in text and "Jeremy Pruitt" in text


def test_a_suggestion_button_answers_the_original_question(assistant):
    sender = f"e2e-{uuid.uuid4()}"
    assistant.ask("blorp zanquiddle frobnitz", sender)
    assert "800-421-6770" in text_of(assistant.ask("/ask_phone", sender))


def test_conversations_are_kept_in_the_tracker_store(assistant):
    sender = f"e2e-{uuid.uuid4()}"
    assistant.ask("where was the nasro 2019 conference held?", sender)
    with sqlite3.connect(assistant.db) as db:
        kinds = [
            row[0] for row in db.execute("SELECT type_name FROM events WHERE sender_id = ? ORDER BY id", (sender,))
        ]
    assert "user" in kinds and "bot" in kinds


def test_the_command_line_client_prints_the_reply(assistant):
    printed = subprocess.run(
        [sys.executable, "scripts/ask.py", "--url", assistant.url, "what is the response center phone number?"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert "800-421-6770" in printed
    assert "[The Response Center's e-mail address] -> /ask_email" in printed


def test_the_http_api_answers_only_with_the_token(assistant):
    assert requests.get(f"{assistant.url}/status", timeout=10).status_code == 401
    assert requests.get(f"{assistant.url}/status", params={"token": "wrong"}, timeout=10).status_code == 401
    answer = requests.get(f"{assistant.url}/status", params={"token": assistant.token}, timeout=10)
    assert answer.status_code == 200 and answer.json()["model_file"].endswith("cops.tar.gz")


def test_ctrl_c_stops_every_server(tmp_path):
    """make run's launcher, on its own: Ctrl-C (SIGINT) leaves no server behind."""
    running = Assistant(tmp_path)
    try:
        running.wait_until_ready()
        ports = (running.rasa_port, running.actions_port, running.web_port)
        assert all(port_is_open(port) for port in ports)
    finally:
        running.stop()
    assert running.process.returncode == 0
    assert not any(port_is_open(port) for port in ports)
