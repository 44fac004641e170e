"""The content, the training data, the held-out set and the domain hang together; what is missing is
named in one line, with where to add it."""

import re
from collections import defaultdict
from pathlib import Path
from typing import Dict, Iterable, List, Set

import pytest
import yaml

from content import answers as answers_file
from content import build

ROOT = Path(__file__).resolve().parent.parent
MIN_TRAINING_EXAMPLES = 15
MIN_HOLDOUT_EXAMPLES = 3
ANNOTATION = re.compile(r"\[([^\]]*)\]\{[^}]*\}")
# The conversation's intents (domain/conversation.yml): no fact, no "did you mean" title.
BASICS = {
    "greet",
    "goodbye",
    "thank",
    "bot_challenge",
    "help",
    "affirm",
    "deny",
    "out_of_scope",
    "emergency",
    "self_harm",
    "unknown_fact",
    "not_a_question",
    "rate_answer",
    "other_language",
    "switch_language",
    "erase_conversation",
}
# Read whatever the language: code and markup, and languages the assistant does not speak.
NO_SPANISH_NEEDED = {"not_a_question", "other_language"}


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


def too_few_examples(
    intents: List[str], training: Dict[str, List[str]], where: str = "data/nlu/<topic>.yml"
) -> List[str]:
    """What to add for each intent with fewer than MIN_TRAINING_EXAMPLES examples in `where`."""
    found = []
    for intent in intents:
        count = len(training.get(intent, []))
        if count < MIN_TRAINING_EXAMPLES:
            found.append(
                f"intent {intent!r} has {count} training examples, {MIN_TRAINING_EXAMPLES} needed: add "
                f"{MIN_TRAINING_EXAMPLES - count} more ways visitors ask it under `- intent: {intent}` "
                f"in {where} (docs/content.md)"
            )
    return found


def examples_of_unlisted_intents(intents: List[str], training: Dict[str, List[str]]) -> List[str]:
    return [
        f"data/nlu/ has examples of intent {intent!r}, which is no question of content/answers.yml: add its "
        "entry there (docs/content.md), or fix the intent's name in data/nlu/"
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
        f"intent {intent!r} has no rule or story that answers it: give it an entry in content/answers.yml, "
        "or, for a conversation intent of domain/conversation.yml, a rule in data/rules.yml, e.g.\n"
        f"- rule: Answer {intent}\n  steps:\n  - intent: {intent}\n  - action: utter_{intent}"
        for intent in intents
        if intent not in answered
    ]


def problems(found: List[str]) -> str:
    return "\n" + "\n".join(found)


ANSWERS = answers_file.load()
CONVERSATION = load(ROOT / "domain" / "conversation.yml")
INTENTS = CONVERSATION["intents"] + list(ANSWERS.entries)
ENGLISH_TRAINING = examples(sorted((ROOT / "data" / "nlu").glob("*.yml")))
SPANISH_TRAINING = examples(sorted((ROOT / "data" / "nlu" / "es").glob("*.yml")))
TRAINING = examples(sorted((ROOT / "data" / "nlu").rglob("*.yml")))
HOLDOUT = examples([ROOT / "tests" / "nlu_holdout.yml"])
SPANISH_HOLDOUT = examples([ROOT / "tests" / "nlu_holdout_es.yml"])
# The hand-written rules and stories, and those content/build.py writes for the answers.
DIALOGUES = dialogues(sorted((ROOT / "data").glob("*.yml"))) + build.rules(ANSWERS)


def test_every_intent_has_enough_training_examples():
    too_few = too_few_examples(INTENTS, ENGLISH_TRAINING)
    assert too_few == [], problems(too_few)
    too_few_in_spanish = too_few_examples(
        [intent for intent in INTENTS if intent not in NO_SPANISH_NEEDED], SPANISH_TRAINING, "data/nlu/es/<topic>.yml"
    )
    assert too_few_in_spanish == [], problems(too_few_in_spanish)
    unlisted = examples_of_unlisted_intents(INTENTS, TRAINING)
    assert unlisted == [], problems(unlisted)


def test_no_example_appears_twice():
    owner: Dict[str, str] = {}
    repeated = []
    for intent, texts in TRAINING.items():
        for text in texts:
            if text in owner:
                repeated.append(
                    f"{text!r} is an example of both {owner[text]} and {intent} in data/nlu/: "
                    "keep it under the intent it asks"
                )
            owner[text] = intent
    assert repeated == [], problems(repeated)


@pytest.mark.parametrize(
    "holdout, path, needed",
    [(HOLDOUT, "tests/nlu_holdout.yml", set()), (SPANISH_HOLDOUT, "tests/nlu_holdout_es.yml", NO_SPANISH_NEEDED)],
    ids=["English", "Spanish"],
)
def test_the_holdout_set_covers_every_intent_with_unseen_text(holdout, path, needed):
    too_few = [
        f"intent {intent!r} has {len(holdout[intent])} phrasings in {path}, "
        f"{MIN_HOLDOUT_EXAMPLES} needed: add phrasings that are not in data/nlu/"
        for intent in INTENTS
        if intent not in needed and len(holdout[intent]) < MIN_HOLDOUT_EXAMPLES
    ]
    assert too_few == [], problems(too_few)
    seen = {text for texts in TRAINING.values() for text in texts}
    trained_on = [
        f"{text!r} is in both {path} and data/nlu/: the held-out set must be phrasings "
        "never trained on; rephrase or remove one"
        for texts in holdout.values()
        for text in texts
        if text in seen
    ]
    assert trained_on == [], problems(trained_on)


def test_every_intent_is_answered_by_a_rule_or_story():
    unanswered = unanswered_intents(INTENTS, DIALOGUES)
    assert unanswered == [], problems(unanswered)


def test_the_conversation_intents_are_the_ones_without_a_fact():
    assert set(CONVERSATION["intents"]) == BASICS
    assert set(ANSWERS.entries) & BASICS == set()


def test_the_generated_domain_and_rules_are_the_content():
    """What Rasa reads (make train writes it) is answers.yml as it is now."""
    generated = {"domain": load(build.DOMAIN_OUT), "rules": load(build.RULES_OUT)}
    assert generated["domain"]["intents"] == list(ANSWERS.entries), "run make train: the generated domain is old"
    assert generated["domain"]["responses"] == build.responses(ANSWERS), "run make train: the generated domain is old"
    assert generated["rules"]["rules"] == build.rules(ANSWERS), "run make train: the generated rules are old"


def test_an_answer_is_given_with_its_page_and_what_follows_it():
    by_intent = {
        rule["steps"][0]["intent"]: [step["action"] for step in rule["steps"][1:]] for rule in build.rules(ANSWERS)
    }
    assert by_intent["conference_location"] == ["utter_conference_location", "utter_more_info"]
    assert by_intent["apply_grant"] == ["utter_apply_grant", "utter_more_info", "action_refer_to_response_center"]
    assert by_intent["ask_phone"] == ["action_give_phone"]
    # No page of its own: the 988 Lifeline's answer.
    assert by_intent["ask_988"] == ["utter_ask_988"]


def chosen_by_rasa(variants: List[dict], slots: Dict[str, object]) -> List[str]:
    """The texts Rasa chooses among at random for these slot values (rasa/core/nlg/generator.py):
    the variations whose every condition holds, else those with none."""
    conditional = [
        variant["text"]
        for variant in variants
        if variant.get("condition")
        and all(slots.get(condition["name"]) == condition["value"] for condition in variant["condition"])
    ]
    return conditional or [variant["text"] for variant in variants if not variant.get("condition")]


@pytest.mark.parametrize("language", [None, "en", "es"])
@pytest.mark.parametrize("year", [None, "2019", "2020", "2021", "other"])
def test_every_answer_has_one_text_for_each_language_and_year(language, year):
    for response, variants in build.responses(ANSWERS).items():
        key = response.removeprefix("utter_")
        expected = ANSWERS.text_for_year(key, year or "2019", language or "en")
        assert chosen_by_rasa(variants, {"language": language, "conference_year": year}) == [expected], response


def test_topic_buttons_ask_real_questions():
    payloads = [button["payload"] for button in CONVERSATION["responses"]["utter_help"][0]["buttons"]]
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
        "data/nlu/ has examples of intent 'ask_fax', which is no question of content/answers.yml: add its "
        "entry there (docs/content.md), or fix the intent's name in data/nlu/"
    ]


def test_an_intent_no_rule_or_story_answers_is_named_with_the_rule_to_add(tmp_path):
    rules = load(ROOT / "data" / "rules.yml")
    rules["rules"] = [rule for rule in rules["rules"] if rule["steps"][0].get("intent") != "thank"]
    without = tmp_path / "rules.yml"
    without.write_text(yaml.safe_dump(rules), encoding="utf-8")
    assert unanswered_intents(INTENTS, dialogues([without]) + build.rules(ANSWERS)) == [
        "intent 'thank' has no rule or story that answers it: give it an entry in content/answers.yml, "
        "or, for a conversation intent of domain/conversation.yml, a rule in data/rules.yml, e.g.\n"
        "- rule: Answer thank\n  steps:\n  - intent: thank\n  - action: utter_thank"
    ]


def test_a_story_or_an_or_step_answers_an_intent_too():
    story = {
        "story": "hours",
        "steps": [{"or": [{"intent": "ask_hours"}, {"intent": "ask_phone"}]}, {"action": "action_give_hours"}],
    }
    assert unanswered_intents(["ask_hours", "ask_phone"], [story]) == []
    unanswered_question = {"story": "asked, no answer", "steps": [{"intent": "ask_hours"}]}
    assert len(unanswered_intents(["ask_hours"], [unanswered_question])) == 1


def test_the_conference_years_of_the_answers_are_the_slot_s_and_the_understanding_s():
    from components.conversation_context import ConversationContext

    slot = CONVERSATION["slots"]["conference_year"]["values"]
    assert slot == ["2019", *answers_file.OTHER_YEARS, answers_file.ANOTHER_YEAR]
    assert ConversationContext.get_default_config()["known_years"] == [int(year) for year in slot[:-1]]
