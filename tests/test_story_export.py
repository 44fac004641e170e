"""`make story ID=...`: a real conversation becomes a test story staff can paste into tests/."""

import subprocess
import sys
import uuid

import yaml
from conftest import ROOT


def test_a_conversation_becomes_a_test_story(assistant):
    sender = f"staff-{uuid.uuid4()}"
    assistant.ask("hello", sender)
    assistant.ask("where was the nasro 2019 conference held?", sender)
    printed = subprocess.run(
        [sys.executable, "-m", "scripts.story", sender, "--endpoints", str(assistant.endpoints)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    [story] = yaml.safe_load(printed)
    assert story["story"] == sender
    assert story["steps"] == [
        {"intent": "greet", "user": "hello"},
        {"action": "utter_greet"},
        # the entity the lookup table found is annotated, as a test story expects it (with the
        # topic its phrase stands for, data/nlu/contacts.yml)
        {
            "intent": "conference_location",
            "user": 'where was the [nasro 2019 conference]{"entity": "resource_topic", "value": "conference"} held?',
        },
        {"action": "utter_conference_location"},
        {"action": "utter_more_info"},
    ]


def test_an_unknown_conversation_is_said_so(assistant):
    finished = subprocess.run(
        [sys.executable, "-m", "scripts.story", "nobody", "--endpoints", str(assistant.endpoints)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert finished.returncode != 0
    assert "no conversation 'nobody'" in finished.stderr
