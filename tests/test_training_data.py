"""The training data, the held-out set and the domain hang together."""

import re
from collections import defaultdict
from pathlib import Path
from typing import Dict, List

import yaml

from actions import contact_data, replies

ROOT = Path(__file__).resolve().parent.parent
MIN_TRAINING_EXAMPLES = 15
MIN_HOLDOUT_EXAMPLES = 3
ANNOTATION = re.compile(r"\[([^\]]*)\]\{[^}]*\}")
# Intents the action server answers directly (no fact in domain.yml, no "more information" link).
BASICS = {"greet", "goodbye", "thank", "bot_challenge", "help", "affirm", "deny", "out_of_scope", "emergency"}


def load(path: Path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def examples(paths: List[Path]) -> Dict[str, List[str]]:
    """Intent -> examples, with entity annotations reduced to their text, lower-cased."""
    found: Dict[str, List[str]] = defaultdict(list)
    for path in paths:
        for block in load(path)["nlu"]:
            if "intent" not in block:
                continue
            for line in block["examples"].splitlines():
                text = line.strip()[2:].strip()
                if text:
                    found[block["intent"]].append(" ".join(ANNOTATION.sub(r"\1", text).lower().split()))
    return found


DOMAIN = load(ROOT / "domain.yml")
INTENTS = DOMAIN["intents"]
TRAINING = examples(sorted((ROOT / "data" / "nlu").glob("*.yml")))
HOLDOUT = examples([ROOT / "tests" / "nlu_holdout.yml"])
RULES = load(ROOT / "data" / "rules.yml")["rules"]


def test_every_intent_has_enough_training_examples():
    too_few = {intent: len(TRAINING[intent]) for intent in INTENTS if len(TRAINING[intent]) < MIN_TRAINING_EXAMPLES}
    assert too_few == {}
    assert set(TRAINING) == set(INTENTS)


def test_no_example_appears_twice():
    owner: Dict[str, str] = {}
    repeated = []
    for intent, texts in TRAINING.items():
        for text in texts:
            if text in owner:
                repeated.append(f"{text!r}: {owner[text]} and {intent}")
            owner[text] = intent
    assert repeated == []


def test_the_holdout_set_covers_every_intent_with_unseen_text():
    assert {intent for intent in INTENTS if len(HOLDOUT[intent]) < MIN_HOLDOUT_EXAMPLES} == set()
    seen = {text for texts in TRAINING.values() for text in texts}
    assert [text for texts in HOLDOUT.values() for text in texts if text in seen] == []


def test_every_intent_is_answered_by_a_rule():
    first_steps = {rule["steps"][0].get("intent") for rule in RULES}
    assert [intent for intent in INTENTS if intent not in first_steps] == []


def test_every_fact_is_followed_by_its_link_and_every_linked_intent_exists():
    data = contact_data.load()
    fact_intents = [
        rule["steps"][0]["intent"]
        for rule in RULES
        if [step.get("action") for step in rule["steps"][1:]][-1:] == ["action_share_link"]
    ]
    assert fact_intents, "no rule ends with action_share_link"
    assert [intent for intent in fact_intents if data.link_answering(intent) is None] == []
    linked = {intent for link in data.links.values() for intent in link.answers}
    assert linked - set(INTENTS) == set()


def test_every_question_has_a_button_title():
    titled = {intent for topic in replies.load().topics.values() for intent in topic}
    assert titled - set(INTENTS) == set()
    assert set(INTENTS) - BASICS - titled == set()


def test_topic_buttons_ask_real_questions():
    payloads = [button["payload"] for button in DOMAIN["responses"]["utter_help"][0]["buttons"]]
    assert len(payloads) == 4
    assert [payload for payload in payloads if payload.lstrip("/") not in INTENTS] == []
