"""End to end: the real servers, started the way `make run` starts them, asked over REST.

They run on free ports with a throw-away tracker store, so a `make run` already running is not
disturbed; everything else (model, actions, channels) is the real thing.
"""

import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests
import yaml

ROOT = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT_S = 240
REQUEST_TIMEOUT_S = 30


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def port_is_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


class Assistant:
    def __init__(self, tmp: Path) -> None:
        self.rasa_port = free_port()
        self.actions_port = free_port()
        self.db = tmp / "conversations.db"
        endpoints = yaml.safe_load((ROOT / "endpoints.yml").read_text(encoding="utf-8"))
        endpoints["action_endpoint"]["url"] = f"http://127.0.0.1:{self.actions_port}/webhook"
        endpoints["tracker_store"]["db"] = str(self.db)
        self.endpoints = tmp / "endpoints.yml"
        self.endpoints.write_text(yaml.safe_dump(endpoints), encoding="utf-8")
        self.log = (tmp / "serve.log").open("w")
        self.process = subprocess.Popen(
            [sys.executable, "scripts/serve.py", "run",
             "--endpoints", str(self.endpoints), "--port", str(self.rasa_port)],
            cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT,
        )
        self.url = f"http://127.0.0.1:{self.rasa_port}/webhooks/rest/webhook"

    def wait_until_ready(self, log_path: Path) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"make run's launcher exited:\n{log_path.read_text()[-3000:]}")
            if "is running" in log_path.read_text():
                return
            time.sleep(1)
        pytest.fail(f"the servers were not up after {STARTUP_TIMEOUT_S} s:\n{log_path.read_text()[-3000:]}")

    def ask(self, text: str, sender: str = "") -> list:
        response = requests.post(
            self.url,
            json={"sender": sender or f"e2e-{uuid.uuid4()}", "message": text},
            timeout=REQUEST_TIMEOUT_S,
        )
        assert response.status_code == 200
        return response.json()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()


@pytest.fixture(scope="module")
def assistant(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("assistant")
    running = Assistant(tmp)
    try:
        running.wait_until_ready(tmp / "serve.log")
        yield running
    finally:
        running.stop()


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
    text = text_of(assistant.ask(question))
    for fact in facts:
        assert fact in text, f"{question!r} -> {text!r}"


def test_an_emergency_is_pointed_to_911_and_nothing_else(assistant):
    replies = assistant.ask("help there is someone with a gun in my kid's school right now")
    assert len(replies) == 1
    assert "call 911" in replies[0]["text"]


def test_out_of_scope_invents_nothing_and_refers_to_the_response_center(assistant):
    text = text_of(assistant.ask("what will the weather be like in chicago tomorrow"))
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
        kinds = [row[0] for row in db.execute(
            "SELECT type_name FROM events WHERE sender_id = ? ORDER BY id", (sender,)
        )]
    assert "user" in kinds and "bot" in kinds


def test_ctrl_c_stops_both_servers(assistant):
    """Runs last in this file: it stops the servers the other tests used."""
    assert port_is_open(assistant.rasa_port) and port_is_open(assistant.actions_port)
    assistant.stop()
    assert assistant.process.returncode == 0
    assert not port_is_open(assistant.rasa_port)
    assert not port_is_open(assistant.actions_port)
