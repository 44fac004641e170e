"""The conversations of tests/test_conversations.yml on the real servers (tests/conftest.py): each
turn over REST, the intent the conversation recorded for it read back through the HTTP API."""

import uuid

import pytest
import requests
import yaml
from conftest import ROOT
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

CONVERSATIONS = yaml.safe_load((ROOT / "tests" / "test_conversations.yml").read_text(encoding="utf-8"))["conversations"]


def understood(assistant, sender: str) -> str:
    """The intent of the visitor's latest message, as the conversation keeps it (after the
    two-stage fallback has taken back what it replaced)."""
    answer = requests.get(
        f"{assistant.url}/conversations/{sender}/tracker", params={"token": assistant.token}, timeout=10
    )
    answer.raise_for_status()
    tracker = DialogueStateTracker.from_dict(sender, answer.json()["events"])
    users = [event for event in tracker.applied_events() if isinstance(event, UserUttered)]
    return users[-1].intent_name


@pytest.mark.parametrize("conversation", CONVERSATIONS, ids=[c["name"] for c in CONVERSATIONS])
def test_a_conversation(assistant, conversation):
    sender = f"conversation-{uuid.uuid4()}"
    for turn in conversation["turns"]:
        text = "\n".join(reply.get("text", "") for reply in assistant.ask(turn["say"], sender))
        for fact in turn["reply"]:
            assert fact in text, f"{turn['say']!r} -> {text!r}"
        if "intent" in turn:
            assert understood(assistant, sender) == turn["intent"], turn["say"]
