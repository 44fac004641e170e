"""The callback channel, end to end: the real servers (tests/conftest.py, started the way `make run`
starts them) and a local HTTP receiver standing in for the integrator's service.

Rasa's callback channel answers POST /webhooks/callback/webhook with "success" and POSTs each of the
bot's replies, as JSON, to the `url` of the `callback:` block of credentials.yml; for the test run
that url is http://127.0.0.1:{assistant.callback_port}/bot (tests/conftest.py).
"""

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import List

import pytest
import requests

REQUEST_TIMEOUT_S = 60
DELIVERY_TIMEOUT_S = 10


class Receiver:
    """An HTTP server on 127.0.0.1:port that records every POST it gets."""

    def __init__(self, port: int) -> None:
        self.posts: List[dict] = []
        self.arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = None
                with receiver.arrived:
                    receiver.posts.append(
                        {
                            "path": self.path,
                            "content_type": self.headers.get("Content-Type", ""),
                            "raw": raw,
                            "body": body,
                        }
                    )
                    receiver.arrived.notify_all()
                answer = b"{}"
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args) -> None:  # keep pytest's output clean
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def posts_for(self, recipient: str) -> List[dict]:
        with self.arrived:
            return [
                post
                for post in self.posts
                if isinstance(post["body"], dict) and post["body"].get("recipient_id") == recipient
            ]

    def wait_for(self, recipient: str, fact: str, timeout: float) -> List[dict]:
        """The posts for `recipient`, once one of them carries `fact` (or the timeout passed)."""
        deadline = time.monotonic() + timeout
        with self.arrived:
            while True:
                posts = [
                    post
                    for post in self.posts
                    if isinstance(post["body"], dict) and post["body"].get("recipient_id") == recipient
                ]
                if any(fact in (post["body"].get("text") or "") for post in posts):
                    return posts
                left = deadline - time.monotonic()
                if left <= 0:
                    return posts
                self.arrived.wait(left)


@pytest.fixture
def receiver(assistant):
    running = Receiver(assistant.callback_port)
    running.start()
    try:
        yield running
    finally:
        running.stop()


def test_the_callback_channel_posts_the_reply_to_the_callback_url(assistant, receiver):
    sender = f"callback-{uuid.uuid4()}"

    answer = requests.post(
        f"{assistant.url}/webhooks/callback/webhook",
        json={"sender": sender, "message": "what is the response center phone number?"},
        timeout=REQUEST_TIMEOUT_S,
    )

    # What Rasa's callback channel answers at once; the replies go to the callback url instead.
    assert answer.status_code == 200
    assert answer.text == "success"

    posts = receiver.wait_for(sender, "800-421-6770", DELIVERY_TIMEOUT_S)
    texts = [post["body"].get("text") or "" for post in posts]
    assert any("800-421-6770" in text for text in texts), (
        f"no reply with the phone number reached the receiver within {DELIVERY_TIMEOUT_S} s; "
        f"replies for {sender}: {texts!r}; everything received: {receiver.posts!r}"
    )
    for post in posts:
        # One POST per bot message, to the url's path, as JSON, addressed to the visitor.
        assert post["path"] == "/bot"
        assert post["content_type"].startswith("application/json")
        assert post["body"]["recipient_id"] == sender


def test_the_callback_replies_go_to_their_own_conversation(assistant, receiver):
    """Two visitors at once: each reply is addressed to the visitor who asked."""
    first, second = f"callback-{uuid.uuid4()}", f"callback-{uuid.uuid4()}"
    for sender in (first, second):
        answer = requests.post(
            f"{assistant.url}/webhooks/callback/webhook",
            json={"sender": sender, "message": "what is the response center phone number?"},
            timeout=REQUEST_TIMEOUT_S,
        )
        assert (answer.status_code, answer.text) == (200, "success")

    for sender in (first, second):
        posts = receiver.wait_for(sender, "800-421-6770", DELIVERY_TIMEOUT_S)
        assert any("800-421-6770" in (post["body"].get("text") or "") for post in posts), sender
