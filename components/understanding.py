"""What the NLU components of this project hand each other on a message, and read of the
conversation: the classifier's readings, the keys they are kept under, the topics of the answers,
and the visitor's previous turns.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional

from rasa.shared.core.events import Restarted, SessionStarted, UserUtteranceReverted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from components import text as visitor_text
from content import answers as content_answers
from content.answers import QUESTIONS
from content.feedback import RATING_INTENT

# Keys of a message's data. READINGS is for the components only (never stored); QUESTIONS
# is part of the NLU's output, read by components/every_question_policy.py and the actions.
READINGS = "readings"
# How sure the classifier is of the whole message read as written, before its spelling is corrected:
# corrected towards English, "Jaki jest numer telefonu" reads as a question about the phone number.
AS_WRITTEN = "understood_as_written"
# Intents after which a follow-up has lost its thread ...
THREAD_BREAKERS = {"not_a_question", "other_language"}
# ... and after a safety answer, the thread is the 988 Lifeline it gave ("is that line free?").
SAFETY_INTENTS = {"emergency", "self_harm"}
SAFETY_THREAD = "ask_988"
# A question in the domain the facts do not answer: its words still set the topic.
UNANSWERED = "unknown_fact"
# Turns looked back for the topic: beyond that a follow-up has lost its thread too.
LOOK_BACK_TURNS = 3


@dataclass
class Reading:
    """One way of reading a message, with what the classifier makes of it."""

    kind: str  # whole, sentence, part, correction, in_context, same_question
    text: str
    start: int
    end: int
    # Ends with a question mark or reads like a question or request (not like background).
    asks: bool
    probabilities: Dict[str, float]

    def ranked(self, exclude=()) -> List[Dict[str, Any]]:
        return [
            {"name": name, "confidence": confidence}
            for name, confidence in sorted(self.probabilities.items(), key=lambda item: -item[1])
            if name not in exclude
        ]

    def top(self, exclude=()) -> Dict[str, Any]:
        ranked = self.ranked(exclude)
        return ranked[0] if ranked else {"name": None, "confidence": 0.0}


@dataclass(frozen=True)
class Topic:
    name: str
    # How the question is named on buttons ("What NASRO is"): it says what the answer was about.
    title: str


def load_topics(answers_file: Path) -> Dict[str, Topic]:
    """intent -> its topic and title, for every intent answered with a fact (content/answers.yml,
    read when the model is trained and kept in it)."""
    return {
        entry.key: Topic(entry.topic, entry.title)
        for entry in content_answers.load(Path(answers_file)).entries.values()
    }


@dataclass(frozen=True)
class Turn:
    intent: Optional[str]
    text: str


def previous_turns(tracker: Optional[DialogueStateTracker]) -> List[Turn]:
    """The visitor's last turns of this session, latest first, as the conversation kept them
    (messages that the two-stage fallback took back are left out, and ratings of an answer: "and
    their hours?" after rating the phone's answer still asks of the phone's)."""
    if tracker is None:
        return []
    turns: List[Turn] = []
    taken_back = 0
    for event in reversed(tracker.events):
        if isinstance(event, (SessionStarted, Restarted)):
            break
        if isinstance(event, UserUtteranceReverted):
            taken_back += 1
        elif isinstance(event, UserUttered):
            if taken_back:
                taken_back -= 1
                continue
            if event.intent_name == RATING_INTENT:
                continue
            asked = (event.parse_data or {}).get(QUESTIONS) or []
            # A message of two questions was answered in their order: "since when?" after "the
            # press office, and how many SROs has COPS funded?" asks of the SROs funded. (Not when
            # the safety check overruled the questions.)
            intent = asked[-1] if asked and asked[0] == event.intent_name else event.intent_name
            turns.append(Turn(intent, event.text or ""))
            if len(turns) == LOOK_BACK_TURNS:
                break
    return turns


def last_answered(turns: List[Turn], answerable) -> Optional[str]:
    """The intent of the last question answered with a fact (after a safety answer: the 988
    Lifeline's), unless a message that was no question came after it."""
    for turn in turns:
        if turn.intent in answerable:
            return turn.intent
        if turn.intent in SAFETY_INTENTS:
            return SAFETY_THREAD if SAFETY_THREAD in answerable else None
        if turn.intent in THREAD_BREAKERS:
            return None
    return None


def context_text(turns: List[Turn], titles: Dict[str, str]) -> Optional[str]:
    """What a follow-up may lean on: the title of the last answer given with a fact, or the
    visitor's last question itself when the assistant had no answer to it ("how much is the
    course?" ... "how long is it at least?")."""
    if turns and turns[0].intent == UNANSWERED:
        # "and 2019?" after SVPP's answer was about SVPP though the facts did not answer it: what
        # follows it ("what law created it?") still leans on SVPP's answer.
        unanswered = turns[0].text
        if visitor_text.names_a_subject(visitor_text.normalize(unanswered)):
            return unanswered
        before = last_answered(turns[1:], titles)
        return f"{titles[before]} {unanswered}" if before else unanswered
    previous = last_answered(turns, titles)
    return titles.get(previous) if previous else None
