"""The safety check: a visitor in danger gets "call 911" before anything else, and one who speaks
of suicide, self-harm or a crisis also gets the 988 Lifeline; nobody else gets either.

It runs on every message of every channel, as the last NLU component before the fallback threshold
(config.yml), so its word is final: a message it finds dangerous becomes `emergency` or
`self_harm` whatever the classifier thought, even when the danger is one sentence of a longer
question, and a message it does not find dangerous never is, even when the classifier guessed so
(a question *about* emergencies, an idiom, a harmless follow-up). It decides from the words of
components/safety_terms.yml, read on the whole message and on each of its sentences and parts,
with the classifier's probability of `emergency` and `self_harm` as a second opinion for dangers
the word lists do not name.

Spanish is read too; a danger in Spanish sets the entity `language` to `es`, so the answers come
in Spanish (domain/conversation.yml).
"""

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Text

import yaml
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from components import text as visitor_text
from components.not_a_question import NOT_A_QUESTION
from components.understanding import READINGS, Reading
from content.answers import QUESTIONS, YEAR_SLOT
from content.languages import LANGUAGE_SLOT

TERMS_FILE = Path(__file__).with_name("safety_terms.yml")
EMERGENCY, CRISIS = "emergency", "self_harm"
# The word lists a piece of text is matched against ("cries" counts only as written, see `evidence`).
_MATCHED = (
    "report",
    "danger",
    "danger_if_happening",
    "distress",
    "self_harm",
    "own_crisis",
    "happening_now",
    "happening",
    "question",
    "about",
)
LANGUAGES = {"english": "en", "spanish": "es"}
_TAG = re.compile(r"<[^<>]*>")


@dataclass
class Lexicon:
    """One language's word lists, compiled."""

    report: List[re.Pattern]
    danger: List[re.Pattern]
    danger_if_happening: List[re.Pattern]
    distress: List[re.Pattern]
    cries: List[re.Pattern]
    self_harm: List[re.Pattern]
    own_crisis: List[re.Pattern]
    happening_now: List[re.Pattern]
    happening: List[re.Pattern]
    question: List[re.Pattern]
    about: List[re.Pattern]
    harmless: List[re.Pattern]
    # Words that show a message is in this language (none: every message is read in it).
    markers: set

    def reads(self, normalized: str) -> bool:
        return not self.markers or any(word in self.markers for word in normalized.split())

    @classmethod
    def from_terms(cls, terms: Dict[str, Any]) -> "Lexicon":
        # Each list as one pattern: one search a list, not one a line.
        lists = {
            key: [re.compile("|".join(f"(?:{pattern})" for pattern in terms[key]))] if terms.get(key) else []
            for key in (*_MATCHED, "cries")
        }
        lists["harmless"] = (
            [re.compile("|".join(f"(?:{pattern})" for pattern in terms["harmless"]))] if terms.get("harmless") else []
        )
        return cls(**lists, markers=set(terms.get("markers") or []))


def _without_harmless(lexicon: "Lexicon", normalized: str) -> str:
    """The normalised text with its idioms and look-alike words (`harmless`) taken out."""
    for pattern in lexicon.harmless:
        normalized = pattern.sub(" ", normalized)
    return " ".join(normalized.split())


def _any(patterns: Iterable[re.Pattern], text: str) -> bool:
    return any(pattern.search(text) for pattern in patterns)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class SafetyCheck(GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            # How sure the classifier must be that a message is an emergency or a crisis, when no
            # danger word of the lists is in it: with a lesser danger word ("fell", "scared") ...
            "classifier_with_words": 0.4,
            # ... with a sign that it is happening now ("right now", "just", "I can hear") ...
            "classifier_alone": 0.85,
            # ... and a statement with neither (never a question).
            "classifier_on_a_statement": 0.75,
            # A sign of trouble (`distress` in safety_terms.yml) counts when no ordinary answer is
            # surer than this.
            "understood": 0.5,
        }

    def __init__(self, config: Dict[Text, Any], lexicons: Dict[str, Lexicon]) -> None:
        self.config = {**self.get_default_config(), **config}
        self.lexicons = lexicons

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "SafetyCheck":
        terms = yaml.safe_load(TERMS_FILE.read_text(encoding="utf-8"))
        return cls(config, {language: Lexicon.from_terms(terms[language]) for language in LANGUAGES})

    def process(self, messages: List[Message], tracker: DialogueStateTracker) -> List[Message]:
        language_slot = (
            tracker.get_slot(LANGUAGE_SLOT) if tracker is not None and LANGUAGE_SLOT in tracker.slots else None
        )
        for message in messages:
            text = message.get(TEXT) or ""
            if text.startswith("/"):
                continue  # a button's payload
            readings: List[Reading] = message.get(READINGS) or []
            if (message.get(INTENT) or {}).get("name") == NOT_A_QUESTION:
                # Code or markup: only the word lists judge it; the classifier, trained on what
                # people write, is no judge of "rm -rf /tmp/cache".
                readings = [replace(reading, probabilities={}) for reading in readings]
            verdict, language = self.assess(text, readings, self._understood(message))
            if verdict is None:
                self._not_dangerous(message)
            else:
                self._dangerous(message, verdict, language, language_slot)
        return messages

    # --- the decision -------------------------------------------------------------------------

    @staticmethod
    def _understood(message: Message) -> float:
        """How sure the NLU is of an answer (an intent answered with something) to the message."""
        best = next(
            (
                entry
                for entry in message.get(INTENT_RANKING_KEY) or []
                if entry["name"] not in (EMERGENCY, CRISIS, "out_of_scope", NOT_A_QUESTION, "other_language")
            ),
            None,
        )
        return best["confidence"] if best else 0.0

    def assess(self, text: str, readings: List[Reading], understood: float = 0.0) -> tuple:
        """(`emergency`, `self_harm` or None, the language it was found in). `understood`: how
        sure the NLU is of an ordinary answer."""
        # What markup says inside its tags (an attribute's "stroke", "target") is no one's danger.
        text = _TAG.sub(" ", text)
        sentences = [reading for reading in readings if reading.kind == "sentence"]

        def around(part: Reading) -> tuple:
            """The sentence a part belongs to (or the whole message), and whether it asks."""
            sentence = next((sentence for sentence in sentences if sentence.start <= part.start <= sentence.end), None)
            return (sentence.text, sentence.asks) if sentence is not None else (text, visitor_text.asks(text))

        # (text, what the classifier makes of it, the sentence of a part and whether that asks)
        pieces = [(text, readings[0].probabilities if readings else {}, None, visitor_text.asks(text))]
        # The classifier may decide alone only on a message that asks nothing at all.
        statement = not visitor_text.asks(text) and not any(sentence.asks for sentence in sentences)
        pieces += [
            (
                _TAG.sub(" ", reading.text),
                reading.probabilities,
                around(reading) if reading.kind == "part" else None,
                reading.asks,
            )
            for reading in readings[1:]
            if reading.kind in ("sentence", "part")
        ]
        # A clause that tells, inside a sentence that asks, is judged as what it is: "what's the
        # mailing address, my ex-husband is outside with a gun" asks nothing about guns.
        pieces += [
            (clause, {}, None, False)
            for clause in visitor_text.telling_clauses(text)
            if not self._harmless_in_its_message(clause, text)
        ]
        shouting = _shouting(text)
        found, language = None, None
        for index, (piece, probabilities, sentence, asks) in enumerate(pieces):
            # A sentence that tells rather than asks is read for signs of trouble even beside a
            # question the assistant understands ("what's NASRO's website? also my mom's face is
            # drooping").
            telling = index > 0 and not asks and not (sentence is not None and sentence[1])
            for name, lexicon in self.lexicons.items():
                verdict = self._judge(
                    lexicon, piece, probabilities, shouting, sentence, statement=statement and index == 0
                )
                if verdict is None and (understood < self.config["understood"] or telling):
                    verdict = self._unsure(lexicon, piece, probabilities, sentence)
                if verdict == CRISIS:
                    return CRISIS, LANGUAGES[name]
                if verdict == EMERGENCY and found is None:
                    found, language = EMERGENCY, LANGUAGES[name]
        return found, language

    def _harmless_in_its_message(self, clause: str, text: str) -> bool:
        """Whether the message's harmless phrases take in some of the clause: "It's an emergency,
        my application is due at 5" is about a deadline, though "It's an emergency" alone is not."""
        clause, whole = visitor_text.normalize(clause), visitor_text.normalize(text)
        if clause not in whole:
            return False
        return any(clause not in _without_harmless(lexicon, whole) for lexicon in self.lexicons.values())

    def _unsure(
        self, lexicon: Lexicon, piece: str, probabilities: Dict[str, float], sentence: Optional[tuple]
    ) -> Optional[str]:
        """A statement the assistant does not understand otherwise, that tells of an event with a
        sign of trouble ("I heard glass break downstairs and now footsteps", "the rope is in the
        closet"): the safety answer, phrased for whoever needs it, is the one to give."""
        found = self.evidence(lexicon, piece)
        if (
            found is None
            or found["question"]
            or found["about"]
            or (sentence is not None and sentence[1])
            or not (found["now"] or found["happening"])
            or not found["distress"]
        ):
            return None
        return CRISIS if probabilities.get(CRISIS, 0.0) > probabilities.get(EMERGENCY, 0.0) else EMERGENCY

    def _judge(
        self,
        lexicon: Lexicon,
        piece: str,
        probabilities: Dict[str, float],
        shouting: bool,
        sentence: Optional[tuple] = None,
        statement: bool = False,
    ) -> Optional[str]:
        found = self.evidence(lexicon, piece, shouting)
        if found is None:
            return None
        # A part of a sentence shares what the sentence is: a question ("... the difference
        # between an SRO and an armed guard?"), about the past or training ("our SRO was shot and
        # killed years ago"), unless it tells of something happening itself ("..., also there's
        # smoke under my door").
        if sentence is not None and not (found["now"] or found["happening"]):
            sentence_text, sentence_asks = sentence
            around = self.evidence(lexicon, sentence_text)
            found["question"] = found["question"] or sentence_asks
            found["about"] = found["about"] or bool(around and around["about"])
        # A message about such things (training, programs, statistics, the past, "what if") is no
        # emergency, nor is a question about them, unless it also says one is happening now. A
        # crisis may be told as a question ("what's the point ...?"): only the first rules it out.
        about = found["about"] and not found["now"]
        asks_about = (found["about"] or found["question"]) and not found["now"]
        if found["self_harm"] and (not about or (found["own_crisis"] and not found["question"])):
            return CRISIS
        happening = found["now"] or found["happening"]
        if (
            found["report"]
            or (found["danger"] and not asks_about)
            or (found["danger_if_happening"] and happening and not asks_about)
        ):
            return EMERGENCY
        # The classifier's second opinion, for dangers the lists do not name ("his face is drooping
        # on one side", "a power line is sparking next to the kids"): alone only on a message that
        # asks nothing, never on a question about such things.
        emergency, crisis = probabilities.get(EMERGENCY, 0.0), probabilities.get(CRISIS, 0.0)
        sure = emergency + crisis
        if asks_about:
            return None
        needed = (
            self.config["classifier_with_words"]
            if found["danger_if_happening"]
            else self.config["classifier_alone"]
            if found["now"]
            else self.config["classifier_on_a_statement"]
            if statement
            else 1.1
        )
        if sure >= needed:
            return CRISIS if crisis > emergency else EMERGENCY
        return None

    @staticmethod
    def evidence(lexicon: Lexicon, piece: str, shouting: bool = False) -> Optional[Dict[str, bool]]:
        """Which of the word lists a piece of text matches (None: not in this language)."""
        normalized = visitor_text.normalize(piece)
        if not lexicon.reads(normalized):
            return None
        normalized = _without_harmless(lexicon, normalized)
        found = {key: _any(getattr(lexicon, key), normalized) for key in _MATCHED}
        found["now"] = found.pop("happening_now")
        # A cry for help is a danger when it is written as one: now, in capitals or with "!".
        if _any(lexicon.cries, normalized) and (found["now"] or shouting or "!" in piece):
            found["danger_if_happening"] = found["happening"] = True
        found["now"] = found["now"] or shouting
        return found

    # --- the message --------------------------------------------------------------------------

    @staticmethod
    def _dangerous(message: Message, verdict: str, language: str, language_slot: Optional[str]) -> None:
        intent = {"name": verdict, "confidence": 1.0}
        message.set(INTENT, intent, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [intent], add_to_output=True)
        # No other answer in this turn: the questions asked alongside wait for the next.
        message.data.pop(QUESTIONS, None)
        entities = [entity for entity in message.get(ENTITIES) or [] if entity.get("entity") != YEAR_SLOT]
        if language != (language_slot or "en"):
            text = message.get(TEXT) or ""
            entities.append(
                {
                    "entity": LANGUAGE_SLOT,
                    "value": language,
                    "start": 0,
                    "end": len(text),
                    "extractor": SafetyCheck.__name__,
                    "confidence_entity": 1.0,
                }
            )
        message.set(ENTITIES, entities, add_to_output=True)

    @staticmethod
    def _not_dangerous(message: Message) -> None:
        """The classifier's guess of an emergency, overruled: the next likeliest intent instead,
        as sure as the classifier is of it among the answers that remain ("what is the suicide
        crisis line number" is mostly read as a crisis; once it is known to be none, the
        Lifeline's answer is what it asks, not a "did you mean")."""
        if (message.get(INTENT) or {}).get("name") not in (EMERGENCY, CRISIS):
            return
        remaining = [
            entry for entry in message.get(INTENT_RANKING_KEY) or [] if entry["name"] not in (EMERGENCY, CRISIS)
        ]
        total = sum(entry["confidence"] for entry in remaining)
        if total > 0:
            remaining = [{**entry, "confidence": entry["confidence"] / total} for entry in remaining]
        message.set(INTENT, remaining[0] if remaining else {"name": None, "confidence": 0.0}, add_to_output=True)
        message.set(INTENT_RANKING_KEY, remaining, add_to_output=True)


def _shouting(text: str) -> bool:
    """Written in capitals (three words or more): "HELP SOMEONE IS IN THE HOUSE"."""
    letters = [char for char in text if char.isalpha()]
    return (
        len(text.split()) >= 3 and len(letters) >= 10 and sum(char.isupper() for char in letters) / len(letters) > 0.8
    )
