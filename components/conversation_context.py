"""Understands a message in its conversation: follow-ups, corrections, other years, two questions.

Rasa hands an NLU component the conversation's tracker when its `process` asks for one, so the
meaning of "and who opened it?" or "what about by post?" is settled here, before the fallback
threshold is applied, and the conversation records the intent that was understood. From the
classifier's readings (components/intent_classifier.py) and the previous turns it decides:

- a follow-up ("and ...", "what about ...", "it", "that one", or a message too short to stand
  alone) is read within the topic of the last question answered: the intents of that topic count
  more; so is a message that names its subject but is unsure by itself which answer it asks;
- a correction ("no, I meant the postal one") is read without the intent just answered;
- "and the 2021 one?", "and the next year?" after a conference answer ask the same about another
  year; every conference question names its year in the entity `conference_year` (2019 unless the
  visitor says otherwise), which picks the answer for that year (content/answers.yml, `years:`);
- a message with two questions ("what's the email and the phone number?") lists both under
  `questions`, answered in turn by components/every_question_policy.py; one conference question
  of two years ("did more people go in 2019 or in 2021?") lists the years under `years`;
- a long message with its question last is read by its asking sentence;
- a follow-up that only names another subject ("and nasro?") asks the visitor's last question of
  it.

The topics, the answers that differ by year and the years of dated answers are those of
content/answers.yml, read when the model is trained and kept in it.
"""

import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any, Dict, List, Optional, Text, Tuple

import yaml
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components import text as visitor_text
from components.intent_classifier import RANKING_LENGTH
from components.understanding import (
    READINGS,
    SAFETY_THREAD,
    UNANSWERED,
    Reading,
    Turn,
    last_answered,
    previous_turns,
)
from content import answers as content_answers
from content.answers import QUESTIONS, YEAR_SLOT, YEARS
from content.feedback import RATING_INTENT

# The entity fills the slot of the same name.
YEAR_ENTITY = YEAR_SLOT
TOPICS_FILE = "topics.json"
# Set by components/not_a_question.py.
NO_QUESTION = {"not_a_question", "other_language"}
# "ok", "thanks", "no": a reply to the last answer, not a question about its subject.
ACKNOWLEDGMENTS = {"affirm", "deny", "thank", "greet", "goodbye"}
# "Yes" and "no, keep it" after a question that asks for one ("Do you want me to delete this
# conversation?"): the reply, never a follow-up or a correction of the answer before.
CONFIRMATION_REPLIES = {"affirm", "deny"}
# "and their number?" is short; "is that the same line as the response center?" names its own.
SHORT_FOLLOW_UP_WORDS = 5
# The entity naming the subject of a page asked for (data/nlu/contacts.yml).
LINK_TOPIC = "resource_topic"
# Words of a follow-up that ask nothing themselves: "and what about the 2021 one?"
_FILLER = {
    "and",
    "what",
    "about",
    "how",
    "the",
    "one",
    "conference",
    "in",
    "for",
    "of",
    "then",
    "ok",
    "okay",
    "so",
    "same",
    "is",
    "it",
    "was",
    "that",
    "year",
    "a",
    "an",
    "nasro",
    "there",
    "did",
    "they",
    "have",
}
# Words of a correction that mean another answer than the one just given: "no, the other one",
# "I'm not press, I just have a general question".
_NOT_THE_SAME = {"not", "no", "nothing", "other", "another", "else", "different"}
_BARE_YEAR = re.compile(r"^\W*(?:19|20)\d\d\W*$|^\W*'\d\d\W*$")


def asked_to_confirm(tracker: Optional[DialogueStateTracker], confirmations: List[str]) -> bool:
    """Whether the assistant's last action, right before this message, asked one of the questions
    that want a yes or a no (`confirmations`)."""
    if tracker is None:
        return False
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            return False
        if isinstance(event, ActionExecuted) and event.action_name != ACTION_LISTEN_NAME:
            return event.action_name in confirmations
    return False


def _details(path: Path) -> Dict[str, Dict[str, Any]]:
    """components/details.yml, each `<name>` of its patterns replaced by the words listed as `name`."""
    content = yaml.safe_load(path.read_text(encoding="utf-8"))
    words = content.get("words") or {}

    def filled(pattern: str) -> str:
        return re.sub(r"<(\w+)>", lambda found: words[found.group(1)], pattern)

    return {
        name: {**detail, "asked": filled(detail["asked"]), "answered": filled(detail["answered"])}
        for name, detail in content["details"].items()
    }


def _agreement(alone: Dict[str, float], in_context: Dict[str, float]) -> Dict[str, float]:
    """What the message says alone and after the last answer's title, together: an intent must
    fit both (the geometric mean)."""
    return normalised({name: (value * in_context.get(name, 0.0)) ** 0.5 for name, value in alone.items()})


def normalised(probabilities: Dict[str, float]) -> Dict[str, float]:
    total = sum(probabilities.values()) or 1.0
    return {name: value / total for name, value in probabilities.items()}


def _unanswered(probabilities: Dict[str, float], understood: str) -> Dict[str, float]:
    """What was understood as `understood` is a question the facts do not answer."""
    moved = dict(probabilities)
    moved[UNANSWERED] = moved.get(UNANSWERED, 0.0) + moved.pop(understood)
    return moved


def _no_rating_if_it_asks(reading: Reading) -> Reading:
    """Not normalised again, as in _unnamed_dropped: what the rating held is doubt. (The whole
    message's reading is marked as asking whatever it says: its own words decide here.)"""
    if RATING_INTENT not in reading.probabilities or not visitor_text.asks(reading.text):
        return reading
    return replace(
        reading, probabilities={name: value for name, value in reading.probabilities.items() if name != RATING_INTENT}
    )


def _swapped(probabilities: Dict[str, float], giver: str, understood: str) -> Dict[str, float]:
    """What was understood as `understood` is `giver`'s answer, and the other way round."""
    moved = dict(probabilities)
    moved[giver], moved[understood] = moved[understood], moved.get(giver, 0.0)
    return moved


def ranked(probabilities: Dict[str, float]) -> List[Dict[str, Any]]:
    return [
        {"name": name, "confidence": value} for name, value in sorted(probabilities.items(), key=lambda item: -item[1])
    ]


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class ConversationContext(GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "answers_file": "content/answers.yml",
            # How much more an intent of the last answer's topic counts in a follow-up.
            "follow_up_boost": 4.0,
            # ... and the last answer itself, when the follow-up points back to its subject ("when
            # did he start?" after who the director was asks the director's answer again).
            "same_subject_boost": 2.0,
            # ... unless the message by itself asks another topic's question this clearly.
            "clearly_asked": 0.3,
            # A short message the classifier reads as no question this surely is none, not a
            # follow-up.
            "no_question": 0.5,
            # A follow-up that names its subject and is this sure of one answer by itself is not
            # read after the last answer's title as well.
            "stands_alone": 0.7,
            # A message in a conversation that names its subject but is read by itself less
            # surely than this is read in the thread too: "which program would the police apply
            # to?" after who may apply for a grant is between two answers alone, and CHP's in it.
            "unsure_alone": 0.5,
            # A follow-up read in its thread is surer than its few words alone: its probabilities
            # are raised to this power (and normalised) so that "where?" can pass the threshold.
            "follow_up_sharpening": 2.0,
            # Each of two questions in one message must be at least this likely on its own, and
            # a one-word question ("email + address?") more (a split of "crisis prevention and
            # response" must not read "response" alone as the Response Center).
            "question_confidence": 0.4,
            "one_word_question_confidence": 0.75,
            # A sentence of a longer message is read on its own when it is this much surer than
            # the whole message ("I've tried all week ... what's the number?").
            "sentence_margin": 0.2,
            # The answer about the conferences after 2019 in general.
            "later_conferences_intent": "conference_next",
            # A follow-up asking for one of these, after this answer, is answered by it again:
            # "and their number?" after the press contacts is Public Affairs' number.
            "same_answer": {},
            # The conference years the answers tell apart (content/answers.yml: 2019, and `years:`).
            "known_years": [2019, 2020, 2021],
            "default_year": 2019,
            # Answers given only to a message that names what they are about (a pattern of its
            # normalised words), or that follows them.
            "named_only": {},
            # The question for a link, and where the answers with a link of their own are listed:
            # "svpp link" is as much SVPP's answer (which gives its link) as a question for links.
            "link_intent": "ask_link",
            "links_file": "content/contact_data.yml",
            # ... when the answer is at least this likely beside the question for links.
            "linked_answer_confidence": 0.25,
            # The answer for a visitor who asks for a person, and the answers that already give
            # people to reach.
            "person_intent": "ask_person",
            "people_to_reach": ["ask_press", "ask_phone", "ask_email", "ask_contact", "ask_hours"],
            # A correction read (in its thread) this surely as the answer just given meant another
            # subject of it.
            "meant_the_same_answer": 0.5,
            # A follow-up the classifier reads by itself this surely as a request for a person
            # asks for one, not the thread's topic.
            "clearly_a_person": 0.85,
            # Details a question may ask that its subject's answer may not hold (the file says
            # more); the answers' texts are those of answers_file.
            "details_file": "components/details.yml",
            # The placeholders of the answers whose values (in links_file) tell details:
            # "open {hours}" says it is open Monday to Friday, 9 to 5.
            "placeholder_values": {
                "hours": "response_center.hours",
                "handles": "response_center.handles",
                "phone": "response_center.phone",
                "press_phone": "public_affairs.phone",
                "center_name": "response_center.name",
                "address": "mailing_address",
                "address_line": "mailing_address",
                "press_name": "public_affairs.name",
            },
            # A question asking a detail marked off_topic gets this answer.
            "off_topic_intent": "out_of_scope",
            # The assistant's questions that ask for a yes or a no (data/rules.yml): the message
            # after one that the classifier reads as a yes or a no is that reply.
            "confirmations": ["utter_ask_erase_conversation"],
            # Requests about the conversation itself, not about the subject of the last answer
            # ("delete my conversation", "I typed my phone number by mistake, erase this chat"),
            # and a rating of the last answer ("that didn't help"): read as the classifier reads
            # the whole message, when it is at least `no_question` sure, not as a follow-up nor by
            # a sentence of it.
            "about_the_conversation": ["erase_conversation", RATING_INTENT],
            # A question that is no follow-up asks the answer that gives a detail it asks only when
            # it is this likely by itself (module docstring of components/details.yml).
            "detail_giver_confidence": 0.05,
            # ... and any question asks it when it is nearly as likely as the answer that lacks
            # the detail, at least this share of it: "what does it cover?" after "we're applying
            # for SVPP" is SVPP's answer, but "what courses are on the COPS training portal?" is
            # not about NASRO's courses, which the classifier hears in "courses".
            "detail_giver_alone": 0.75,
            # An answer that holds others' facts ({covering: [covered, ...]}): a message read as
            # two of them about equally ("contact number for the office": the phone or all the
            # contacts?) gets the one that holds both, not "did you mean".
            "covering_answers": {},
            # ... when "did you mean" would ask instead: the two likeliest this close, or the
            # likeliest less sure than this (config.yml gives the FallbackClassifier's own values).
            "covering_margin": 0.05,
            "covering_below": 0.4,
        }

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        topics: Optional[Dict[str, str]] = None,
        linked: Optional[List[str]] = None,
        details: Optional[Dict[str, str]] = None,
        answered: Optional[Dict[str, List[str]]] = None,
        off_topic: Optional[List[str]] = None,
        own_answer_only: Optional[List[str]] = None,
        yearly: Optional[List[str]] = None,
        dated: Optional[Dict[str, List[int]]] = None,
    ) -> None:
        self.config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        # intent -> its topic, for every intent answered with a fact
        self.topics: Dict[str, str] = topics or {}
        # intents whose answer gives a link of its own
        self.linked = set(linked or [])
        self.names = {intent: re.compile(pattern) for intent, pattern in self.config["named_only"].items()}
        # detail -> the pattern of a question asking it; intent -> the details its answer gives
        self.details = {name: re.compile(pattern) for name, pattern in (details or {}).items()}
        self.answered = {intent: set(names) for intent, names in (answered or {}).items()}
        self.off_topic = set(off_topic or [])
        self.own_answer_only = set(own_answer_only or [])
        # the answers that differ by conference year, the overview first
        self.yearly: List[str] = list(yearly or [])
        # answer -> the years its facts hold for: asked of another year, the facts do not answer
        self.dated: Dict[str, List[int]] = dict(dated or {})

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "ConversationContext":
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        answers = content_answers.load(Path(self.config["answers_file"]))
        self.topics = {entry.key: entry.topic for entry in answers.entries.values()}
        self.linked = {entry.key for entry in answers.entries.values() if entry.link}
        self.yearly = answers.yearly()
        self.dated = {entry.key: list(entry.dated) for entry in answers.entries.values() if entry.dated}
        details = _details(Path(self.config["details_file"]))
        answered = {
            answer: sorted(
                name for name, detail in details.items() if re.search(detail["answered"], text, re.IGNORECASE)
            )
            for answer, text in self._answer_texts(answers).items()
        }
        asked = {name: detail["asked"] for name, detail in details.items()}
        self.details = {name: re.compile(pattern) for name, pattern in asked.items()}
        self.answered = {intent: set(names) for intent, names in answered.items()}
        self.off_topic = {name for name, detail in details.items() if detail.get("off_topic")}
        self.own_answer_only = {name for name, detail in details.items() if detail.get("own_answer_only")}
        kept = {
            "topics": self.topics,
            "linked": sorted(self.linked),
            "details": asked,
            "answered": answered,
            "off_topic": sorted(self.off_topic),
            "own_answer_only": sorted(self.own_answer_only),
            "yearly": self.yearly,
            "dated": self.dated,
        }
        with self._model_storage.write_to(self._resource) as directory:
            (directory / TOPICS_FILE).write_text(json.dumps(kept), encoding="utf-8")
        return self._resource

    def _answer_texts(self, answers: content_answers.Answers) -> Dict[str, str]:
        """intent -> the text of its answer (contact details filled in), and "intent@year" -> the
        text of its answer for that conference year: the 2020 conference's dates do not tell when
        the 2019 one ended."""
        values = self._placeholder_values()
        texts: Dict[str, str] = {}
        for entry in answers.entries.values():
            template = entry.text.get(content_answers.DEFAULT_LANGUAGE, "")
            texts[entry.key] = re.sub(r"\{(\w+)\}", lambda field: values.get(field.group(1), ""), template)
            for year, by_language in entry.years.items():
                texts[f"{entry.key}@{year}"] = by_language[content_answers.DEFAULT_LANGUAGE]
            if entry.years:
                texts[f"{entry.key}@other"] = answers.another_year[content_answers.DEFAULT_LANGUAGE]
        return texts

    def _placeholder_values(self) -> Dict[str, str]:
        data = yaml.safe_load(Path(self.config["links_file"]).read_text(encoding="utf-8"))
        values = {}
        for placeholder, path in self.config["placeholder_values"].items():
            value: Any = data
            for key in path.split("."):
                value = value[key]
            if isinstance(value, dict):  # written in each language: the details are read in English
                value = value[content_answers.DEFAULT_LANGUAGE]
            values[placeholder] = ", ".join(value) if isinstance(value, list) else str(value)
        return values

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "ConversationContext":
        with model_storage.read_from(resource) as directory:
            kept = json.loads((directory / TOPICS_FILE).read_text(encoding="utf-8"))
        return cls(
            config,
            model_storage,
            resource,
            kept["topics"],
            kept["linked"],
            kept["details"],
            kept["answered"],
            kept.get("off_topic"),
            kept.get("own_answer_only"),
            kept.get("yearly"),
            kept.get("dated"),
        )

    def process(self, messages: List[Message], tracker: DialogueStateTracker) -> List[Message]:
        turns = previous_turns(tracker)
        year_slot = tracker.get_slot(YEAR_ENTITY) if tracker is not None and YEAR_ENTITY in tracker.slots else None
        confirming = asked_to_confirm(tracker, self.config["confirmations"])
        for message in messages:
            text = message.get(TEXT) or ""
            readings: List[Reading] = message.get(READINGS) or []
            if not readings or text.startswith("/"):
                continue  # a button's payload names its intent itself
            # A rating of the answer says something of it: "was the conference helpful?" asks.
            readings = [_no_rating_if_it_asks(reading) for reading in readings]
            decided = message.get(INTENT) or {}
            if confirming and decided.get("name") in CONFIRMATION_REPLIES:
                continue  # "no, keep it" answers the question just asked: no correction of the answer before
            if (
                decided.get("name") in self.config["about_the_conversation"]
                and (decided.get("confidence") or 0.0) >= self.config["no_question"]
                # ... unless it is a rating in the words of a question, dropped from the readings above
                and decided.get("name") in readings[0].probabilities
            ):
                continue
            # components/not_a_question.py found no question in words (it is sure: 1.0); but
            # "2021" after a conference answer is one.
            if (
                decided.get("name") in NO_QUESTION
                and decided.get("confidence") == 1.0
                and not (_BARE_YEAR.match(text) and last_answered(turns, self.topics))
            ):
                continue
            self._understand(message, text, readings, turns, year_slot)
        return messages

    # --- the decision -------------------------------------------------------------------------

    def _understand(
        self, message: Message, text: str, readings: List[Reading], turns: List[Turn], year_slot: Optional[str]
    ) -> None:
        # "Thank you. And in writing?" follows up as "And in writing?" does.
        normalized = visitor_text.normalize(visitor_text.without_courtesies(text))
        previous = last_answered(turns, self.topics)
        if previous == self.config["link_intent"] and turns and turns[0].intent == previous:
            # The page of the answer before (actions/actions.py) keeps its subject: "how long is
            # it?" after the courses, then their link, asks of the courses.
            before = last_answered(turns[1:], self.topics)
            previous = before if before in self.linked else previous
        readings = [self._unnamed_dropped(reading, previous) for reading in readings]
        whole = readings[0]
        leans = previous is not None or bool(turns and turns[0].intent == UNANSWERED)
        # Two made-up words are short, but no follow-up: the classifier reads them as no question
        # (and a word it does not know, "tribes too?", as a question it is unsure of).
        gibberish = (
            whole.top()["name"] in NO_QUESTION
            and sum(whole.probabilities.get(name, 0.0) for name in NO_QUESTION) >= self.config["no_question"]
            and not visitor_text.refers_back(normalized)
        )
        focus = self._focus(readings)
        # Not a message read as no question or off-topic (a recipe in Spanish is not about the
        # thread), nor one that names a year, which the year's answer decides.
        alone = focus.top()
        unsure_alone = (
            self._a_question_of_the_facts(alone["name"])
            and alone["confidence"] < self.config["unsure_alone"]
            and not visitor_text.names_a_year(normalized)
        )
        # After a safety answer the thread is the Lifeline's, but "ok police are here now. what
        # was that hiring program you mentioned?" names a subject of its own: it has left it.
        left_the_lifeline = previous == SAFETY_THREAD and visitor_text.names_a_subject_besides_the_lifeline(normalized)
        # "ok" after the attendance is no question of the conference: the classifier, alone, reads it
        # as a reply surely enough ("ok and by email?" it reads as a question).
        acknowledged = (
            whole.top()["name"] in ACKNOWLEDGMENTS
            and whole.top()["confidence"] >= self.config["no_question"]
            and not visitor_text.refers_back(normalized)
            # "hasta cuando estuvo?" after the director reads like "hasta luego", but asks.
            and not visitor_text.asks(text)
        )
        follow_up = (
            leans
            and (visitor_text.is_follow_up(normalized) or unsure_alone)
            and not gibberish
            and not acknowledged
            and not left_the_lifeline
        )
        by_kind = {reading.kind: reading for reading in readings}

        compared = self._years_compared(turns, previous) if follow_up and visitor_text.compares(normalized) else []
        if len(compared) > 1:
            # "Which was bigger?" after the attendance of 2019, then of 2021: both years' answer.
            self._set_intent(message, {**{name: 0.0 for name in whole.probabilities}, previous: 1.0})
            message.set(YEARS, compared, add_to_output=True)
            return

        questions = self._questions(readings)
        if len(questions) > 1:
            first = questions[0][0]
            names = [name for _, name in questions]
            asked = set(names) | {question.top()["name"] for question, _ in questions}
            probabilities = {name: value for name, value in first.probabilities.items() if name not in asked}
            if len(names) > 1:
                message.set(QUESTIONS, names, add_to_output=True)
            # As sure as the least sure of the questions.
            probabilities[names[0]] = min(question.top()["confidence"] for question, _ in questions)
            self._set_intent(message, probabilities)
            self._name_year(message, text, first, False, previous, year_slot)
            return

        same = by_kind.get("same_question")
        if (
            follow_up
            and same
            and self._a_question_of_the_facts(same.top()["name"])
            and same.top()["confidence"] >= self.config["stands_alone"]
        ):
            # "and nasro?" after "when was the cops office created?" is that question of NASRO,
            # which names its subject: no longer a follow-up of the thread (and after "who leads
            # it today?", one the facts do not answer).
            focus, follow_up = same, False
        # "chp link and svpp link" asks for two pages, not for SVPP's answer with its page.
        topics_named = {
            entity.get("value") for entity in message.get(ENTITIES) or [] if entity.get("entity") == LINK_TOPIC
        }
        probabilities = (
            focus.probabilities if len(topics_named) > 1 else self._link_with_its_answer(focus.probabilities)
        )
        if "correction" in by_kind:
            probabilities = dict(by_kind["correction"].probabilities)
            if previous is not None:
                # "sorry, I meant the basic" after the advanced course's hours: the answer of
                # every course holds it, so the same answer is meant, not another.
                meant = visitor_text.words(visitor_text.normalize(by_kind["correction"].text))
                in_thread = (
                    _agreement(probabilities, by_kind["in_context"].probabilities)
                    if "in_context" in by_kind
                    else probabilities
                )
                if (
                    in_thread.get(previous, 0.0) < self.config["meant_the_same_answer"]
                    or len(meant) > SHORT_FOLLOW_UP_WORDS
                    or _NOT_THE_SAME & set(meant)
                ):
                    probabilities[previous] = 0.0
                follow_up = True
        context_year = self._year_number(year_slot)
        mention = visitor_text.year_mentioned(normalized, context_year, relative_ones=follow_up)
        if mention:
            # "No wait, I meant 2019" asks nothing but the year once its correction words are read.
            asking = visitor_text.normalize(by_kind["correction"].text) if "correction" in by_kind else normalized
            probabilities = self._about_the_year(probabilities, asking, previous, follow_up, mention[0])
            later = self.config["later_conferences_intent"]
            if visitor_text.names_a_year(normalized) and later in probabilities:
                # "Where was the 2021 one?" asks about that year's conference, not about the ones
                # after 2019 in general: what else it asks tells which answer.
                probabilities = normalised({name: value for name, value in probabilities.items() if name != later})
            if mention[0] is not None and self._year_value(mention[0]) == "other":
                # Every conference answer says the same of a year the facts do not cover.
                probabilities = self._merge_yearly(probabilities)
        # Whether it is a question at all, components/not_a_question.py has decided: here it is one.
        probabilities = {name: value for name, value in probabilities.items() if name not in NO_QUESTION}
        if follow_up:
            # The thread decides what a follow-up's few words ask, not what a follow-up that names
            # its subject asks clearly by itself: "and how does the police department apply?"
            # after how a school gets an SRO asks how to apply ("how long has it existed?" points
            # back to the thread).
            best_alone = max(probabilities, key=probabilities.get, default=None)
            stands_alone = (
                (
                    probabilities.get(best_alone, 0.0) >= self.config["stands_alone"]
                    and len(visitor_text.words(normalized)) > SHORT_FOLLOW_UP_WORDS
                    and not visitor_text.points_back(normalized)
                )
                # "and who do I call to talk it through?" asks for a person
                # whatever the thread was about.
                or (
                    best_alone == self.config["person_intent"]
                    and probabilities[best_alone] >= self.config["clearly_a_person"]
                )
            )
            if "in_context" in by_kind and not stands_alone:
                probabilities = _agreement(probabilities, by_kind["in_context"].probabilities)
            probabilities = self._within_topic(
                probabilities,
                # A bare "where?" names no other topic, however its one word leans by itself.
                {} if visitor_text.only_an_asking_word(normalized) else readings[0].probabilities,
                previous,
                visitor_text.points_back(normalized),
            )
            if previous in self.topics and visitor_text.only_asks_back(normalized):
                # "why?" after the state certification of the courses: its answer says why ("on
                # what?" after the partnership with NASRO: on training).
                probabilities = {**{name: 0.0 for name in probabilities}, previous: 1.0}
            held = [name for name in self.config["same_answer"].get(previous, []) if name in probabilities]
            understood = max(probabilities, key=probabilities.get) if probabilities else None
            if (
                (understood in held or understood == previous)
                and held
                and (
                    len(visitor_text.words(normalized)) <= SHORT_FOLLOW_UP_WORDS or visitor_text.points_back(normalized)
                )
                and not visitor_text.asks_of_the_rest(normalized)
            ):
                # "phone?" after the press contacts, read as either about equally, is theirs, and
                # so is "what hours do they pick up?".
                probabilities[previous] = probabilities.get(previous, 0.0) + sum(
                    probabilities.pop(name) for name in held
                )
            elif held and understood == previous and visitor_text.asks_of_the_rest(normalized):
                # "and for general questions that aren't press?" after the press contacts asks
                # for anyone's but theirs.
                probabilities = normalised({**probabilities, previous: 0.0})
        if mention and visitor_text.names_a_year(normalized):
            # After the thread is read: "and in 2019?" after SVPP's 2018 figures asks SVPP's.
            probabilities = self._one_conference_answer(self._of_another_year(probabilities, mention[0]))
        asked_year = (
            self._year_value(mention[0]) if mention and mention[0] is not None else year_slot if follow_up else None
        )
        probabilities = self._covering_answer(probabilities)
        probabilities = self._a_detail_not_given(
            probabilities, visitor_text.normalize(focus.text), readings, previous, follow_up, asked_year
        )
        probabilities = self._a_person_when_asked(probabilities, normalized)
        self._set_intent(message, probabilities)
        self._name_year(message, text, focus, follow_up, previous, year_slot)
        self._name_years(message, normalized)

    def _years_compared(self, turns: List[Turn], previous: Optional[str]) -> List[str]:
        """The conference years of the last turns that asked the last answer's question (the
        conference year of the conversation for one that named none), as conference_year's values."""
        if previous not in self.yearly:
            return []
        years = []
        for turn in reversed(turns):
            if turn.intent == previous:
                named = visitor_text.years_named(turn.text.lower()) or [self.config["default_year"]]
                years += [self._year_value(year) for year in named]
        return list(dict.fromkeys(years))

    def _name_years(self, message: Message, normalized: str) -> None:
        """ "How many attended in 2019, and in 2021?" asks one conference question of two years:
        `years` lists them (as conference_year's values), and each gets its own answer
        (components/every_question_policy.py)."""
        if message.get(INTENT, {}).get("name") not in self.yearly:
            return
        values = list(dict.fromkeys(self._year_value(year) for year in visitor_text.years_named(normalized)))
        if len(values) > 1:
            message.set(YEARS, values, add_to_output=True)

    def _a_detail_not_given(
        self,
        probabilities: Dict[str, float],
        asking: str,
        readings: List[Reading],
        previous: Optional[str],
        follow_up: bool,
        year: Optional[str],
    ) -> Dict[str, float]:
        """ "Is the NASRO basic course online?": a question asking a detail (components/details.yml)
        that the answer it is understood as does not give is one the facts do not answer. But
        "Can I visit your office? What's the street address?" asks the address by itself too."""
        asked = self._details_asked(asking)
        if not probabilities or not asked:
            return probabilities
        best = max(probabilities, key=probabilities.get)
        if (
            follow_up
            and previous in self.topics
            and best != previous
            and visitor_text.points_back(asking)
            and not visitor_text.names_a_subject(asking)
            and not self._lacks(previous, asked, year)
        ):
            # "Which year was that?" after SVPP's figures asks the year its answer gives, however
            # much its words alone sound like the conference's dates.
            return _swapped(probabilities, previous, best)
        if best not in self.topics and asked & self.off_topic:
            # "What was the weather like at the conference?" is no question for the Response
            # Center, however unsure the classifier is of what else it asks, nor is "how many
            # calories are in a banana?" one the facts lack an answer to.
            return {**{name: 0.0 for name in probabilities}, self.config["off_topic_intent"]: 1.0}
        if best == UNANSWERED:
            # "Does the response center have a Spanish line?" is as likely unknown as the phone's
            # answer, which does not say: it is unknown.
            return self._without_answers_lacking(probabilities, asked, year)
        own_answer_only = asked & self.own_answer_only
        if (
            own_answer_only
            and follow_up
            and previous in self.topics
            and best != previous
            and not visitor_text.names_a_subject(asking)
            and self._lacks(previous, own_answer_only, year)
        ):
            # "Is it free?" after NASRO's courses asks it of them, whatever else the classifier
            # hears in "free": the free online courses are another answer's.
            return _unanswered(probabilities, best)
        if best not in self.topics or not self._lacks(best, asked, year):
            return probabilities
        if any(
            reading.kind == "sentence"
            and reading.asks
            and reading.top()["name"] == best
            and not self._lacks(best, self._details_asked(visitor_text.normalize(reading.text)), year)
            for reading in readings
        ):
            return probabilities
        if asked & self.off_topic:
            # "Did he win that season?" after the coach: no question for the Response Center.
            return {**{name: 0.0 for name in probabilities}, self.config["off_topic_intent"]: 1.0}
        # In a conversation, the answer of the thread's topic that gives the detail is the one
        # meant: the last answer itself ("when did it start?" after what NASRO is), or the
        # likeliest other ("what do they help with?" after the Response Center's e-mail: the
        # answer with its phone says), which a question that is no follow-up must ask by itself
        # too ("which program would the police apply to?" after who may apply). A first question
        # asked for what it said: "is the basic course online?" is none about the free online
        # courses. (An answer dropped for not being named, the 988 Lifeline's, gives nothing.)
        if previous in self.topics:
            floor = 0.0 if follow_up else self.config["detail_giver_confidence"]
            givers = [
                name
                for name, value in probabilities.items()
                if self.topics.get(name) == self.topics[previous]
                and value >= floor
                and not self._lacks(name, asked, year)
                and (name == previous or not (asked & self.own_answer_only or previous in self.config["same_answer"]))
            ]
            if givers:
                giver = previous if previous in givers else max(givers, key=lambda name: probabilities.get(name, 0.0))
                return _swapped(probabilities, giver, best)
        # "We're applying for SVPP for cameras. What does it cover?": read as much as SVPP's
        # answer, which says what it funds, as how to apply, which does not.
        return self._nearly_as_likely_giver(probabilities, best, asked, year) or self._without_answers_lacking(
            probabilities, asked, year
        )

    def _nearly_as_likely_giver(
        self, probabilities: Dict[str, float], best: str, asked: set, year: Optional[str]
    ) -> Optional[Dict[str, float]]:
        """The likeliest answer giving the detail, in the place of `best`, when it is nearly as
        likely (config `detail_giver_alone`); None when none is."""
        givers = [
            name
            for name, value in probabilities.items()
            if name in self.topics
            and value >= self.config["detail_giver_alone"] * probabilities[best]
            and not self._lacks(name, asked, year)
        ]
        if not givers:
            return None
        return _swapped(probabilities, max(givers, key=lambda name: probabilities[name]), best)

    def _without_answers_lacking(
        self, probabilities: Dict[str, float], asked: set, year: Optional[str]
    ) -> Dict[str, float]:
        """The answers that do not give the detail asked count for the question the facts do not
        answer: "what should we put in the MOU?" is between three answers that mention an MOU,
        and none says what goes in it."""
        for name in list(probabilities):
            if name in self.topics and self._lacks(name, asked, year):
                probabilities = _unanswered(probabilities, name)
        return probabilities

    def _details_asked(self, asking: str) -> set:
        return {name for name, pattern in self.details.items() if pattern.search(asking)}

    def _lacks(self, intent: str, asked: set, year: Optional[str] = None) -> bool:
        """Whether the answer `intent` leaves out one of the details `asked`."""
        return bool(asked - self._given(intent, year))

    def _given(self, intent: str, year: Optional[str]) -> set:
        """The details an answer gives, in the conference year asked (its own answer for that
        year, when it has one)."""
        return self.answered.get(f"{intent}@{year}", self.answered.get(intent, set()))

    def _covering_answer(self, probabilities: Dict[str, float]) -> Dict[str, float]:
        """The two likeliest answers, when one answer holds the facts of both, as that one."""
        if len(probabilities) < 2:
            return probabilities
        first, second = sorted(probabilities, key=probabilities.get, reverse=True)[:2]
        if (
            probabilities[first] - probabilities[second] >= self.config["covering_margin"]
            and probabilities[first] >= self.config["covering_below"]
        ):
            return probabilities
        for covering, covered in self.config["covering_answers"].items():
            family = {covering, *covered}
            if first in family and second in family:
                merged = {name: value for name, value in probabilities.items() if name not in (first, second)}
                merged[covering] = probabilities[first] + probabilities[second]
                return merged
        return probabilities

    def _a_person_when_asked(self, probabilities: Dict[str, float], normalized: str) -> Dict[str, float]:
        """A visitor who asks for a person, in whatever words, gets the people who answer: the
        Response Center, unless what the classifier understood already names people to reach
        (the press office for "a human in your press shop")."""
        person = self.config["person_intent"]
        if not probabilities or not visitor_text.asks_for_a_person(normalized):
            return probabilities
        best = max(probabilities, key=probabilities.get)
        chosen = best if best in self.config["people_to_reach"] else person
        return {**{name: 0.0 for name in probabilities}, chosen: 1.0}

    def _unnamed_dropped(self, reading: Reading, previous: Optional[str]) -> Reading:
        """The reading without the answers it does not name: "help a student in a mental health
        crisis" is about training, not a question about the 988 Lifeline."""
        unnamed = [
            intent
            for intent, name in self.names.items()
            if intent != previous and not name.search(visitor_text.normalize(reading.text))
        ]
        if not any(reading.probabilities.get(intent) for intent in unnamed):
            return reading
        # Not normalised again: what the dropped answer held is doubt, not another answer's due.
        return replace(
            reading,
            probabilities={intent: value for intent, value in reading.probabilities.items() if intent not in unnamed},
        )

    def _a_question_of_the_facts(self, intent: str) -> bool:
        """An answer with a fact, or a question the facts do not answer (not small talk, no
        question, off-topic)."""
        return intent in self.topics or intent == UNANSWERED

    def _answerable_top(self, reading: Reading) -> Optional[Dict[str, Any]]:
        top = reading.top()
        return top if top["name"] in self.topics else None

    def _questions(self, readings: List[Reading]) -> List[Tuple[Reading, str]]:
        """The readings that each ask a different question, in the message's order, with the
        answer each asks. One asking a detail its answer does not give is a question the facts do
        not answer: "can I walk in? what are the visitor hours?" asks neither the contacts nor the
        Response Center's hours, and "how do I apply for CHP and what's the deadline?" asks how to
        apply, and a deadline the facts do not have."""
        whole = readings[0]
        parts = [reading for reading in readings if reading.kind == "part"]
        sentences = [reading for reading in readings if reading.kind == "sentence" and reading.asks]
        units = []
        for sentence in sentences or [whole]:
            inside = [part for part in parts if sentence.start <= part.start and part.end <= sentence.end]
            units += [part for part in inside if part.asks] if inside else ([sentence] if sentence is not whole else [])
        if not units:
            units = [part for part in parts if part.asks]
        found, seen = [], set()
        for unit in sorted(units, key=lambda reading: reading.start):
            top = unit.top()
            details = self._details_asked(visitor_text.normalize(unit.text))
            if top["name"] in self.topics:
                name = UNANSWERED if self._lacks(top["name"], details) else top["name"]
            elif (
                top["name"] in (UNANSWERED, self.config["off_topic_intent"])
                and details - self.off_topic
                and not any(
                    name in self.topics
                    and value >= self.config["detail_giver_confidence"]
                    and not self._lacks(name, details)
                    for name, value in unit.probabilities.items()
                )
            ):
                # "... and when is it due?" alone reads as homework, but asks a grant's deadline,
                # which no answer gives ("... and how long is it?" may ask the courses' hours).
                name = UNANSWERED
            else:
                continue
            one_word = len(visitor_text.words(visitor_text.normalize(unit.text))) < 2
            if (
                top["confidence"] < self.config["question_confidence"]
                or (one_word and top["confidence"] < self.config["one_word_question_confidence"])
                or name in seen
            ):
                continue
            seen.add(name)
            found.append((unit, name))
        return found

    def _focus(self, readings: List[Reading]) -> Reading:
        """The whole message, or its asking sentence when that is much surer (the question comes
        last in a long message that tells its story first)."""
        whole = readings[0]
        best, best_confidence = whole, whole.top()["confidence"] + self.config["sentence_margin"]
        if whole.top()["name"] not in self.topics:
            # "Hello, I am from Brazil. What is the COPS?": the question, not the greeting.
            best_confidence = min(whole.top()["confidence"], self.config["question_confidence"])
        for reading in readings[1:]:
            if reading.kind == "sentence" and reading.asks:
                top = self._answerable_top(reading)
                if top and top["confidence"] > best_confidence:
                    best, best_confidence = reading, top["confidence"]
        return best

    def _about_the_year(
        self,
        probabilities: Dict[str, float],
        normalized: str,
        previous: Optional[str],
        follow_up: bool,
        year: Optional[int],
    ) -> Dict[str, float]:
        """ "And 2021?", "and the year after?" after a conference answer, or after an answer of
        dated facts ("and a year later?" after the SROs funded): the same question, of that year
        (the message asks nothing else); of a year the dated facts do not cover, one they do not
        answer."""
        rest = visitor_text.words(visitor_text.without_year(normalized))
        asks_nothing_else = len([word for word in rest if word not in _FILLER]) <= 1
        if not (follow_up and asks_nothing_else):
            return probabilities
        conference_topics = {self.topics.get(name) for name in self.yearly} - {None}
        if self.topics.get(previous) in conference_topics:
            # The same question of another year; after a conference answer that is not of one
            # year (what NASRO is, later conferences), the overview of that year's conference.
            same = previous if previous in self.yearly else self.yearly[0]
            return {**{name: 0.0 for name in probabilities}, same: 1.0}
        years = self.dated.get(previous)
        if years:
            same = previous if year in years else UNANSWERED
            return {**{name: 0.0 for name in probabilities}, same: 1.0}
        return probabilities

    def _of_another_year(self, probabilities: Dict[str, float], year: Optional[int]) -> Dict[str, float]:
        """ "How much did SVPP give in 2021?": the facts have that answer for 2018 only, so the
        question is one they do not answer. Every dated answer of other years counts so, not the
        likeliest alone: "SVPP funding in 2019?" between SVPP and an unknown fact is unknown."""
        for name, years in self.dated.items():
            if name in probabilities and year not in years:
                probabilities = _unanswered(probabilities, name)
        return probabilities

    def _one_conference_answer(self, probabilities: Dict[str, float]) -> Dict[str, float]:
        """ "Was there a NASRO conference in 2020?" is as much the overview as the place of that
        year's conference, and each answer of that year says what it was: the likelier takes both
        shares, rather than asking the visitor which they meant."""
        two = sorted(probabilities, key=probabilities.get, reverse=True)[:2]
        yearly = self.yearly
        if len(two) < 2 or not all(name in yearly for name in two):
            return probabilities
        merged = dict(probabilities)
        merged[two[0]] += merged.pop(two[1])
        return merged

    def _merge_yearly(self, probabilities: Dict[str, float]) -> Dict[str, float]:
        """A year the facts do not cover: every conference answer says so and where to look, as
        the answer for an unknown fact would ("did nasro have a conference in 2018?"). Unless the
        question is likelier another's: "how much money in 2018?" after SVPP."""
        yearly = [name for name in self.yearly if name in probabilities]
        others = [value for name, value in probabilities.items() if name not in yearly and name != UNANSWERED]
        if not yearly or sum(probabilities[name] for name in yearly) <= max(others, default=0.0):
            return probabilities
        best = max(yearly, key=probabilities.get)
        merged = {name: value for name, value in probabilities.items() if name not in yearly and name != UNANSWERED}
        merged[best] = sum(probabilities[name] for name in yearly) + probabilities.get(UNANSWERED, 0.0)
        return merged

    def _link_with_its_answer(self, probabilities: Dict[str, float]) -> Dict[str, float]:
        """ "svpp link": when the question for links and an answer with a link of its own are
        the two likeliest, that answer (which ends with its link) is the one to give."""
        link_intent = self.config["link_intent"]
        two = sorted(probabilities, key=probabilities.get, reverse=True)[:2]
        if link_intent not in two or len(two) < 2:
            return probabilities
        other = two[1] if two[0] == link_intent else two[0]
        if other not in self.linked or probabilities[other] < self.config["linked_answer_confidence"]:
            return probabilities
        merged = {name: value for name, value in probabilities.items() if name != link_intent}
        merged[other] += probabilities[link_intent]
        return merged

    def _within_topic(
        self,
        probabilities: Dict[str, float],
        alone: Dict[str, float],
        previous: Optional[str],
        points_back: bool = False,
    ) -> Dict[str, float]:
        """A follow-up is read within the last answer's topic: its intents count more, and only
        they, and what the message by itself clearly asks, remain candidates. A question the
        facts do not answer belongs to every topic: "which states so far?" after state
        certification asks what that answer does not hold. (After a question that had no answer
        there is no topic: the words of that question did their part.)"""
        topic = self.topics.get(previous)
        boost = self.config["follow_up_boost"] if topic is not None else 1.0
        kept = {
            name: value * (boost if self.topics.get(name) == topic or name == UNANSWERED else 1.0)
            for name, value in probabilities.items()
            if topic is None
            or self.topics.get(name) == topic
            or self.topics.get(name) is None
            or alone.get(name, 0.0) >= self.config["clearly_asked"]
        }
        if not kept:
            kept = probabilities
        if points_back and previous in kept:
            kept[previous] *= self.config["same_subject_boost"]
        # Read in its thread, a follow-up is surer than its few words alone (squared, then
        # normalised: "where?" after the Director's message is the conference's place).
        return normalised({name: value ** self.config["follow_up_sharpening"] for name, value in kept.items()})

    @staticmethod
    def _set_intent(message: Message, probabilities: Dict[str, float]) -> None:
        ranking = ranked(probabilities)
        message.set(INTENT, ranking[0], add_to_output=True)
        message.set(INTENT_RANKING_KEY, ranking[:RANKING_LENGTH], add_to_output=True)

    # --- the year -----------------------------------------------------------------------------

    def _year_number(self, year_slot: Optional[str]) -> Optional[int]:
        if year_slot is None:
            return self.config["default_year"]
        return int(year_slot) if str(year_slot).isdigit() else None

    def _year_value(self, year: Optional[int]) -> str:
        return str(year) if year in self.config["known_years"] else "other"

    def _name_year(
        self,
        message: Message,
        text: str,
        asking: Reading,
        follow_up: bool,
        previous: Optional[str],
        year_slot: Optional[str],
    ) -> None:
        """Sets `conference_year` when a conference question is about another year than the one
        the conversation was at (none named and no follow-up: the 2019 conference). The year is
        looked for where the question is asked first ("I missed 2019 ... where was 2021?")."""
        yearly = self.yearly
        if message.get(INTENT, {}).get("name") not in yearly:
            return
        current = year_slot or str(self.config["default_year"])
        context_year = self._year_number(year_slot)
        mention = visitor_text.year_mentioned(
            text[asking.start : asking.end].lower(), context_year, relative_ones=follow_up
        )
        if mention:
            mention = (mention[0], asking.start + mention[1], asking.start + mention[2])
        else:
            mention = visitor_text.year_mentioned(text.lower(), context_year, relative_ones=follow_up)
        if mention:
            value, start, end = self._year_value(mention[0]), mention[1], mention[2]
        elif follow_up and previous in yearly:
            return
        else:
            value, start, end = str(self.config["default_year"]), 0, len(text)
        if value == current:
            return
        entity = {
            "entity": YEAR_ENTITY,
            "value": value,
            "start": start,
            "end": end,
            "extractor": self.__class__.__name__,
            "confidence_entity": 1.0,
        }
        message.set(ENTITIES, (message.get(ENTITIES) or []) + [entity], add_to_output=True)
