"""The training data, the held-out set and the domain hang together."""

import re
from collections import defaultdict
from pathlib import Path
from typing import Dict, Iterable, List, Set

import yaml

from actions import contact_data, replies

ROOT = Path(__file__).resolve().parent.parent
MIN_TRAINING_EXAMPLES = 15
MIN_HOLDOUT_EXAMPLES = 3
ANNOTATION = re.compile(r"\[([^\]]*)\]\{[^}]*\}")
# Intents the action server answers directly (no fact in domain.yml, no "more information" link).
BASICS = {"greet", "goodbye", "thank", "bot_challenge", "help", "affirm", "deny", "out_of_scope", "emergency",
          "self_harm", "unknown_fact", "not_a_question", "other_language"}


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


def dialogues(paths: Iterable[Path]) -> List[dict]:
    """Every rule and story in the files."""
    found: List[dict] = []
    for path in paths:
        data = load(path) or {}
        found += data.get("rules") or []
        found += data.get("stories") or []
    return found


def too_few_examples(intents: List[str], training: Dict[str, List[str]]) -> List[str]:
    """What to add for each intent with fewer than MIN_TRAINING_EXAMPLES examples."""
    found = []
    for intent in intents:
        count = len(training.get(intent, []))
        if count < MIN_TRAINING_EXAMPLES:
            found.append(
                f"intent {intent!r} has {count} training examples, {MIN_TRAINING_EXAMPLES} needed: add "
                f"{MIN_TRAINING_EXAMPLES - count} more ways visitors ask it under `- intent: {intent}` "
                "in data/nlu/<topic>.yml (docs/content.md)"
            )
    return found


def examples_of_unlisted_intents(intents: List[str], training: Dict[str, List[str]]) -> List[str]:
    return [
        f"data/nlu/ has examples of intent {intent!r}, which domain.yml does not list: add it under "
        "`intents:` in domain.yml, or fix the intent's name in data/nlu/"
        for intent in training
        if intent not in intents
    ]


def unanswered_intents(intents: List[str], rules_and_stories: List[dict]) -> List[str]:
    """What to add for each intent that no rule or story answers with an action."""
    def intents_of(step: dict) -> Set[str]:
        alternatives = step.get("or") or [step]
        return {alternative["intent"] for alternative in alternatives if "intent" in alternative}

    answered: Set[str] = set()
    for dialogue in rules_and_stories:
        steps = dialogue.get("steps") or []
        for step, following in zip(steps, steps[1:]):
            if "action" in following:
                answered |= intents_of(step)
    return [
        f"intent {intent!r} has no rule or story that answers it: add a rule to data/rules.yml, e.g.\n"
        f"- rule: Answer {intent}\n  steps:\n  - intent: {intent}\n  - action: utter_{intent}"
        for intent in intents
        if intent not in answered
    ]


def problems(found: List[str]) -> str:
    return "\n" + "\n".join(found)


DOMAIN = load(ROOT / "domain.yml")
INTENTS = DOMAIN["intents"]
TRAINING = examples(sorted((ROOT / "data" / "nlu").glob("*.yml")))
HOLDOUT = examples([ROOT / "tests" / "nlu_holdout.yml"])
RULES = load(ROOT / "data" / "rules.yml")["rules"]
DIALOGUES = dialogues(sorted((ROOT / "data").glob("*.yml")))


def test_every_intent_has_enough_training_examples():
    too_few = too_few_examples(INTENTS, TRAINING)
    assert too_few == [], problems(too_few)
    unlisted = examples_of_unlisted_intents(INTENTS, TRAINING)
    assert unlisted == [], problems(unlisted)


def test_no_example_appears_twice():
    owner: Dict[str, str] = {}
    repeated = []
    for intent, texts in TRAINING.items():
        for text in texts:
            if text in owner:
                repeated.append(f"{text!r} is an example of both {owner[text]} and {intent} in data/nlu/: "
                                "keep it under the intent it asks")
            owner[text] = intent
    assert repeated == [], problems(repeated)


def test_the_holdout_set_covers_every_intent_with_unseen_text():
    too_few = [
        f"intent {intent!r} has {len(HOLDOUT[intent])} phrasings in tests/nlu_holdout.yml, "
        f"{MIN_HOLDOUT_EXAMPLES} needed: add phrasings that are not in data/nlu/"
        for intent in INTENTS if len(HOLDOUT[intent]) < MIN_HOLDOUT_EXAMPLES
    ]
    assert too_few == [], problems(too_few)
    seen = {text for texts in TRAINING.values() for text in texts}
    trained_on = [
        f"{text!r} is in both tests/nlu_holdout.yml and data/nlu/: the held-out set must be phrasings "
        "never trained on; rephrase or remove one"
        for texts in HOLDOUT.values() for text in texts if text in seen
    ]
    assert trained_on == [], problems(trained_on)


def test_every_intent_is_answered_by_a_rule_or_story():
    unanswered = unanswered_intents(INTENTS, DIALOGUES)
    assert unanswered == [], problems(unanswered)


def test_every_fact_is_followed_by_its_link_and_every_linked_intent_exists():
    data = contact_data.load()
    fact_intents = [
        rule["steps"][0]["intent"]
        for rule in RULES
        if [step.get("action") for step in rule["steps"][1:]][-1:] == ["action_share_link"]
    ]
    assert fact_intents, "no rule ends with action_share_link"
    linkless = [
        f"the rule for {intent!r} ends with action_share_link, but no link in actions/contact_data.yml "
        f"lists {intent} under `answers:`: add it to the link that tells more"
        for intent in fact_intents if data.link_answering(intent) is None
    ]
    assert linkless == [], problems(linkless)
    linked = {intent for link in data.links.values() for intent in link.answers + link.mentioned_in}
    assert linked - set(INTENTS) == set(), (
        "actions/contact_data.yml `answers:` or `mentioned_in:` names intents domain.yml does not list")


def test_every_question_has_a_button_title():
    titled = {intent for topic in replies.load().topics.values() for intent in topic}
    assert titled - set(INTENTS) == set()
    assert set(INTENTS) - BASICS - titled == set()


def test_topic_buttons_ask_real_questions():
    payloads = [button["payload"] for button in DOMAIN["responses"]["utter_help"][0]["buttons"]]
    assert len(payloads) == 4
    assert [payload for payload in payloads if payload.lstrip("/") not in INTENTS] == []


# --- each check fails on bad content, naming the offender and what to do -----------------------

def test_an_intent_with_too_few_examples_is_named_with_how_many_to_add(tmp_path):
    new_topic = tmp_path / "fax.yml"
    new_topic.write_text(
        'version: "3.1"\nnlu:\n- intent: ask_fax\n  examples: |\n    - what is your fax number\n'
        "    - can I fax you\n    - fax\n",
        encoding="utf-8",
    )
    training = examples(sorted((ROOT / "data" / "nlu").glob("*.yml")) + [new_topic])
    assert too_few_examples(INTENTS + ["ask_fax"], training) == [
        "intent 'ask_fax' has 3 training examples, 15 needed: add 12 more ways visitors ask it under "
        "`- intent: ask_fax` in data/nlu/<topic>.yml (docs/content.md)"
    ]
    assert examples_of_unlisted_intents(INTENTS, training) == [
        "data/nlu/ has examples of intent 'ask_fax', which domain.yml does not list: add it under "
        "`intents:` in domain.yml, or fix the intent's name in data/nlu/"
    ]


def test_an_intent_no_rule_or_story_answers_is_named_with_the_rule_to_add(tmp_path):
    rules = load(ROOT / "data" / "rules.yml")
    rules["rules"] = [rule for rule in rules["rules"] if rule["steps"][0].get("intent") != "ask_hours"]
    without = tmp_path / "rules.yml"
    without.write_text(yaml.safe_dump(rules), encoding="utf-8")
    assert unanswered_intents(INTENTS, dialogues([without, ROOT / "data" / "stories.yml"])) == [
        "intent 'ask_hours' has no rule or story that answers it: add a rule to data/rules.yml, e.g.\n"
        "- rule: Answer ask_hours\n  steps:\n  - intent: ask_hours\n  - action: utter_ask_hours"
    ]


def test_a_story_or_an_or_step_answers_an_intent_too():
    story = {"story": "hours", "steps": [{"or": [{"intent": "ask_hours"}, {"intent": "ask_phone"}]},
                                         {"action": "action_give_hours"}]}
    assert unanswered_intents(["ask_hours", "ask_phone"], [story]) == []
    unanswered_question = {"story": "asked, no answer", "steps": [{"intent": "ask_hours"}]}
    assert len(unanswered_intents(["ask_hours"], [unanswered_question])) == 1
