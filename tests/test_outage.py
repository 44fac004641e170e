"""A failing or slow action server: visitors still get an answer, and it recovers by itself.

The Rasa server runs as `make run` runs it, but the test owns the action server's port: first
nothing listens there (stopped), then a server that accepts and never answers (hanging), then the
real action server (back again). The Rasa server is never restarted.
"""

import os
import socket
import subprocess
import sys
import threading
import time
import uuid

import pytest
import requests
import yaml
from conftest import ROOT, free_port, port_is_open, process_tree

from ops.settings import MODEL, child_env
from ops.tracker_store import apply_tracker_store_defaults

PHONE = "800-421-6770"
EMAIL = "AskCopsRC@usdoj.gov"
STARTUP_TIMEOUT_S = 180


class HangingServer:
    """Accepts connections and never answers, like an action server stuck in a slow call."""

    def __init__(self, port: int) -> None:
        self.listener = socket.create_server(("127.0.0.1", port))
        self.connections = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.connections.append(connection)

    def close(self) -> None:
        self.listener.close()
        for connection in self.connections:
            connection.close()


def wait_for(url: str, process: subprocess.Popen, log=None) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()[-3000:] if log else f"{url}: the process exited"
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    pytest.fail(f"{url} did not come up:\n{log.read_text()[-3000:] if log else ''}")


@pytest.fixture(scope="module")
def rasa_without_actions(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("outage")
    actions_port, rasa_port = free_port(), free_port()
    endpoints = yaml.safe_load((ROOT / "endpoints.yml").read_text(encoding="utf-8"))
    endpoints["action_endpoint"]["url"] = f"http://127.0.0.1:{actions_port}/webhook"
    endpoints["tracker_store"] = {"type": "SQL", "dialect": "sqlite", "db": str(tmp / "conversations.db")}
    (tmp / "endpoints.yml").write_text(yaml.safe_dump(endpoints), encoding="utf-8")
    log = tmp / "rasa.log"
    with log.open("w") as output:
        rasa = subprocess.Popen(
            [
                str(ROOT / ".venv" / "bin" / "rasa"),
                "run",
                "--model",
                str(MODEL),
                "--endpoints",
                str(tmp / "endpoints.yml"),
                "--credentials",
                "credentials.yml",
                "--interface",
                "127.0.0.1",
                "--port",
                str(rasa_port),
            ],
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
            # endpoints.yml names the lock store's variables too: their defaults, an in-memory lock.
            env=apply_tracker_store_defaults(child_env()),
        )
    url = f"http://127.0.0.1:{rasa_port}"
    try:
        wait_for(f"{url}/webhooks/rest/", rasa, log)
        yield url, actions_port
    finally:
        rasa.terminate()
        rasa.wait(30)


def ask(url: str, text: str, sender: str) -> tuple:
    started = time.monotonic()
    response = requests.post(f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=30)
    assert response.status_code == 200
    return response.json(), time.monotonic() - started


def assert_apology_with_contacts(replies: list) -> None:
    assert len(replies) == 1
    text = replies[0]["text"]
    assert text.startswith("Sorry")
    assert PHONE in text and EMAIL in text


def test_action_server_stopped_hanging_then_back(rasa_without_actions):
    url, actions_port = rasa_without_actions
    assert not port_is_open(actions_port)

    # Stopped: the contact question is answered with the apology and the contacts, fast.
    replies, elapsed = ask(url, "what is the response center phone number?", f"down-{uuid.uuid4()}")
    assert_apology_with_contacts(replies)
    assert elapsed < 2.0

    # A fact, its page and the next questions come from the Rasa server alone: all come through.
    replies, _ = ask(url, "where was the nasro 2019 conference held?", f"down-{uuid.uuid4()}")
    assert "Pigeon Forge" in replies[0]["text"] and replies[0]["buttons"]
    assert "(https://cops.usdoj.gov/html/dispatch/08-2019/nasro.html)" in replies[1]["text"]
    assert len(replies) == 2 and len(replies[1]["buttons"]) == 3

    # Hanging: the visitor gets the same answer within 5 s (Rasa alone would wait 300 s).
    hanging = HangingServer(actions_port)
    try:
        replies, elapsed = ask(url, "what is the response center phone number?", f"hang-{uuid.uuid4()}")
        assert_apology_with_contacts(replies)
        assert elapsed < 5.0
    finally:
        hanging.close()

    # Back again: the next question is answered normally, without restarting anything.
    actions = subprocess.Popen(
        [sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", str(actions_port)],
        cwd=ROOT,
        env=dict(os.environ, SANIC_HOST="127.0.0.1"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(f"http://127.0.0.1:{actions_port}/health", actions, None)
        replies, _ = ask(url, "what is the response center phone number?", f"back-{uuid.uuid4()}")
        # The answer, with its rating buttons, then its related questions: no apology.
        assert [reply["text"] for reply in replies][1:] == ["Related questions:"]
        assert f"[{PHONE}](tel:+18004216770)" in replies[0]["text"] and replies[0]["buttons"]
        assert not replies[0]["text"].startswith("Sorry")
    finally:
        actions.terminate()
        actions.wait(30)


def test_make_run_starts_a_stopped_action_server_again(tmp_path):
    """Under `make run`, the action server stopping is an outage, not the end: it comes back."""
    from conftest import Assistant

    running = Assistant(tmp_path)
    try:
        running.wait_until_ready()
        pid = next(pid for pid, (_, command) in process_tree(running.process.pid).items() if "rasa_sdk" in command)
        os.kill(pid, 9)
        deadline = time.monotonic() + 120
        while "starting it again" not in running.log_path.read_text() and time.monotonic() < deadline:
            time.sleep(0.5)
        wait_for(f"http://127.0.0.1:{running.actions_port}/health", running.process, running.log_path)
        replies, _ = ask(running.url, "what is the response center phone number?", f"again-{uuid.uuid4()}")
        assert f"[{PHONE}](tel:+18004216770)" in replies[0]["text"]
        assert running.process.poll() is None
    finally:
        running.stop()
    assert running.process.returncode == 0
