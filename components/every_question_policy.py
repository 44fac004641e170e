"""Answers every question of a message that asks several ("what's the email and the phone
number?"), one after the other, each the way its own rule answers it.

components/conversation_context.py lists the questions under `questions` in the message's parse
data; the message's intent is the first of them. This policy learns from the rules (data/rules.yml)
which actions answer each intent on its own, and after the first answer goes on with the actions of
the next question, then listens. A conference question of several years (`years`) is answered for
each by one action. For a message with one question it predicts nothing, and the other policies
decide.
"""

import json
from typing import Any, Dict, List, Optional, Text

from rasa.core.policies.policy import Policy, PolicyPrediction, SupportedData
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.constants import ACTION_LISTEN_NAME, RULE_SNIPPET_ACTION_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

from content.answers import QUESTIONS, YEARS

ANSWERS_FILE = "answers.json"
# Run by the processor after every message; no rule names it.
ACTION_EXTRACT_SLOTS = "action_extract_slots"


def answers_from_rules(trackers: List[TrackerWithCachedStates]) -> Dict[str, List[str]]:
    """intent -> the actions its rule runs, for every rule that answers a lone intent."""
    answers: Dict[str, List[str]] = {}
    for tracker in trackers:
        if not getattr(tracker, "is_rule_tracker", False):
            continue
        events = [
            event
            for event in tracker.events
            if not (isinstance(event, ActionExecuted) and event.action_name == RULE_SNIPPET_ACTION_NAME)
        ]
        users = [index for index, event in enumerate(events) if isinstance(event, UserUttered)]
        if len(users) != 1 or any(
            not isinstance(event, ActionExecuted) or event.action_name != ACTION_LISTEN_NAME
            for event in events[: users[0]]
        ):
            continue  # a rule with conditions or more than one turn answers in a context only
        intent = events[users[0]].intent_name
        actions = []
        for event in events[users[0] + 1 :]:
            if not isinstance(event, ActionExecuted) or event.action_name == ACTION_LISTEN_NAME:
                break
            actions.append(event.action_name)
        if intent and actions and all(name and not name.startswith("action_two_stage") for name in actions):
            answers.setdefault(intent, actions)
    return answers


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True)
class EveryQuestionPolicy(Policy):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # Above RulePolicy's 6: after the first answer, the rule would listen.
        # once_per_message: actions that say the same whichever answer they follow (the Response
        # Center's contacts): run once, after the last answer that has them.
        return {
            "priority": 7,
            "each_year_action": "action_answer_each_year",
            "once_per_message": ["action_refer_to_response_center"],
        }

    @staticmethod
    def supported_data() -> SupportedData:
        return SupportedData.ML_AND_RULE_DATA

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        answers: Optional[Dict[str, List[str]]] = None,
        **kwargs: Any,
    ) -> None:
        super().__init__({**self.get_default_config(), **config}, model_storage, resource, execution_context, **kwargs)
        self.answers = answers or {}

    def train(self, training_trackers: List[TrackerWithCachedStates], domain: Domain, **kwargs: Any) -> Resource:
        self.answers = answers_from_rules(training_trackers)
        with self._model_storage.write_to(self._resource) as directory:
            (directory / ANSWERS_FILE).write_text(json.dumps(self.answers), encoding="utf-8")
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "EveryQuestionPolicy":
        with model_storage.read_from(resource) as directory:
            answers = json.loads((directory / ANSWERS_FILE).read_text(encoding="utf-8"))
        return cls(config, model_storage, resource, execution_context, answers=answers)

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: Optional[Dict[Text, Any]] = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        probabilities = self._default_predictions(domain)
        following = self.next_action(tracker)
        if following is not None and following in domain.action_names_or_texts:
            probabilities[domain.index_for_action(following)] = 1.0
        return self._prediction(probabilities)

    def next_action(self, tracker: DialogueStateTracker) -> Optional[str]:
        """The next action of the answers to the latest message's questions, or None when the
        message asked one question (or the answers went another way)."""
        message = tracker.latest_message
        if message is None or tracker.active_loop_name:
            return None
        if len(message.parse_data.get(YEARS) or []) > 1:
            # One question of several conference years: one action answers it for each.
            done = self._actions_since_message(tracker)
            plan = [self.config["each_year_action"]]
            return (
                None
                if done != plan[: len(done)]
                else (plan[len(done)] if len(done) < len(plan) else ACTION_LISTEN_NAME)
            )
        questions = message.parse_data.get(QUESTIONS) or []
        if len(questions) < 2 or questions[0] != message.intent_name:
            return None
        plan: List[str] = []
        for question in questions:
            if question not in self.answers:
                return None
            plan += self.answers[question]
        for action in self.config["once_per_message"]:
            if plan.count(action) > 1:
                last = len(plan) - 1 - plan[::-1].index(action)
                plan = [name for index, name in enumerate(plan) if name != action or index == last]
        done = self._actions_since_message(tracker)
        if done != plan[: len(done)]:
            return None
        return plan[len(done)] if len(done) < len(plan) else ACTION_LISTEN_NAME

    @staticmethod
    def _actions_since_message(tracker: DialogueStateTracker) -> List[str]:
        done: List[str] = []
        for event in reversed(tracker.events):
            if isinstance(event, UserUttered):
                break
            if isinstance(event, ActionExecuted) and event.action_name not in (
                ACTION_EXTRACT_SLOTS,
                ACTION_LISTEN_NAME,
            ):
                done.append(event.action_name)
        return done[::-1]
