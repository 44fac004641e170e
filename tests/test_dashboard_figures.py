"""`make dashboard`'s figures, on a small SQLite tracker store written by the project's own store
class from the events Rasa records (the sequences below are those of real conversations with the
assistant: a "did you mean ...?" clarified, the two-stage fallback giving up twice over, Rasa's core
fallback). What the page shows is read back from its tables, as a screen reader would.
tests/test_dashboard.py does the same in a browser, on conversations held with the running
assistant."""

import asyncio
import subprocess
import sys
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Dict, List

import pytest
import yaml
from conftest import ROOT
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    SessionStarted,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from content.answers import load as load_answers
from privacy.tracker_store import PrivateSQLTrackerStore
from scripts import dashboard, report

DAY_1 = datetime(2026, 3, 2, 10, 0).timestamp()
DAY_2 = datetime(2026, 3, 3, 15, 0).timestamp()
THRESHOLD = 0.4
MARKUP = "<script>alert('x')</script> what's the weather?"
TWO_STAGE = "action_two_stage_fallback"


class Clock:
    """Event timestamps a second apart, from the start of a conversation."""

    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        self.now += 1
        return self.now


def said(clock: Clock, text: str, intent: str, confidence: float = 0.95, entities: tuple = (), guess: str = "affirm"):
    ranking = [{"name": intent, "confidence": confidence}]
    if intent == "nlu_fallback":  # the FallbackClassifier keeps the model's guess second
        ranking.append({"name": guess, "confidence": 0.05})
    parse_data = {"text": text, "intent": ranking[0], "intent_ranking": ranking, "entities": list(entities)}
    return UserUttered(text, ranking[0], list(entities), parse_data, timestamp=clock())


def clicked(clock: Clock, intent: str):
    return said(clock, f"/{intent}", intent, 1.0)


def rating(clock: Clock, value: str, answer: str):
    entities = ({"entity": "rating", "value": value}, {"entity": "rated_answer", "value": answer})
    text = f'/rate_answer{{"rating": "{value}", "rated_answer": "{answer}"}}'
    return [said(clock, text, "rate_answer", 1.0, entities), *replied(clock, "action_acknowledge_rating")]


def replied(clock: Clock, *actions: str) -> list:
    events = []
    for action in actions:
        events += [ActionExecuted(action, timestamp=clock()), BotUttered("...", timestamp=clock())]
    return events + [ActionExecuted("action_listen", timestamp=clock())]


def did_you_mean(clock: Clock, text: str) -> list:
    return [
        said(clock, text, "nlu_fallback", 0.4),
        ActionExecuted(TWO_STAGE, timestamp=clock()),
        ActiveLoop(TWO_STAGE, timestamp=clock()),
        BotUttered("Did you mean ...?", timestamp=clock()),
        ActionExecuted("action_listen", timestamp=clock()),
    ]


def gives_up(clock: Clock, user: UserUttered) -> list:
    """The two-stage fallback's last step: the give-up reply, and the message forgotten."""
    return [
        user,
        ActionExecuted(TWO_STAGE, timestamp=clock()),
        ActiveLoop(None, timestamp=clock()),
        BotUttered("Sorry, I still couldn't understand.", timestamp=clock()),
        UserUtteranceReverted(timestamp=clock()),
        ActionExecuted("action_listen", timestamp=clock()),
    ]


def conversations() -> Dict[str, list]:
    found = {}

    clock = Clock(DAY_1)
    found["answered-and-rated"] = [
        said(clock, "what is a school resource officer?", "what_is_sro", 0.97),
        *replied(clock, "utter_what_is_sro", "utter_more_info"),
        *rating(clock, "not_helpful", "what_is_sro"),
        said(clock, "what's the phone number?", "ask_phone", 0.78),
        *replied(clock, "action_give_phone"),
        # changed their mind: counts once, as helpful
        *rating(clock, "not_helpful", "ask_phone"),
        *rating(clock, "helpful", "ask_phone"),
    ]

    clock = Clock(DAY_1 + 600)
    clarified = said(clock, "what is nasro", "what_is_nasro", 0.96)
    replayed = said(clock, "what is nasro", "what_is_nasro", 1.0)
    found["did-you-mean-clarified"] = [
        *did_you_mean(clock, "blorf snaggle wump"),
        clarified,
        ActionExecuted(TWO_STAGE, timestamp=clock()),
        ActiveLoop(None, timestamp=clock()),
        UserUtteranceReverted(timestamp=clock()),
        ActionExecuted("action_listen", timestamp=clock()),
        replayed,
        *replied(clock, "utter_what_is_nasro", "utter_more_info"),
        *rating(clock, "not_helpful", "what_is_nasro"),
    ]

    clock = Clock(DAY_2)
    found["given-up-after-two-tries"] = [
        *did_you_mean(clock, "blorf snaggle wump"),
        *gives_up(clock, said(clock, "frobnitz quux wobble", "nlu_fallback", 0.4, guess="goodbye")),
        # typed again after the give-up: a new message, not a replay
        *did_you_mean(clock, "frobnitz quux wobble"),
    ]

    clock = Clock(DAY_2 + 60)
    found["markup-and-odd-ratings"] = [
        said(clock, MARKUP, "out_of_scope", 0.99),
        *replied(clock, "utter_out_of_scope", "action_refer_to_response_center"),
        *rating(clock, "not_helpful", "no_such_answer"),
        clicked(clock, "what_is_sro"),
        *replied(clock, "utter_what_is_sro", "utter_more_info"),
        *rating(clock, "not_helpful", "what_is_sro"),
        *rating(clock, "helpful", "what_is_nasro"),
    ]

    clock = Clock(DAY_2 + 120)
    found["emergency"] = [
        said(clock, "there's a man with a gun in our parking lot", "emergency", 1.0),
        *replied(clock, "utter_emergency", "utter_crisis_line"),
    ]

    clock = Clock(DAY_2 + 180)
    found["core-fallback"] = [
        said(clock, "tell me everything", "help", 0.9),
        ActionExecuted("action_default_fallback", timestamp=clock()),
        BotUttered("...", timestamp=clock()),
        UserUtteranceReverted(timestamp=clock()),
        ActionExecuted("action_listen", timestamp=clock()),
    ]

    clock = Clock(DAY_2 + 240)
    found["not-in-the-facts"] = [
        said(clock, "how much does the basic sro course cost?", "unknown_fact", 0.98),
        *replied(clock, "action_give_unknown"),
    ]

    # "Something else" twice: the second click gives up on the message typed before it.
    clock = Clock(DAY_2 + 300)
    found["given-up-after-something-else"] = [
        *did_you_mean(clock, "blorf snaggle wump"),
        clicked(clock, "out_of_scope"),
        ActionExecuted(TWO_STAGE, timestamp=clock()),
        BotUttered("Could you ask it in other words?", timestamp=clock()),
        ActionExecuted("action_listen", timestamp=clock()),
        said(clock, "zzzz qqq wibble", "nlu_fallback", 0.4, guess="goodbye"),
        ActionExecuted(TWO_STAGE, timestamp=clock()),
        BotUttered("Did you mean ...?", timestamp=clock()),
        ActionExecuted("action_listen", timestamp=clock()),
        *gives_up(clock, clicked(clock, "out_of_scope")),
    ]
    return found


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("dashboard") / "conversations.db"
    written = PrivateSQLTrackerStore(domain=Domain.from_path(ROOT / "domain"), dialect="sqlite", db=str(path))
    for sender, events in conversations().items():
        start = events[0].timestamp - 1
        opening = [ActionExecuted("action_session_start", timestamp=start), SessionStarted(timestamp=start)]
        tracker = DialogueStateTracker.from_events(sender, opening + [ActionExecuted("action_listen")] + events)
        asyncio.run(written.save(tracker))
    return written


class Tables(HTMLParser):
    """The page's tables as a screen reader reads them: id -> rows of cell texts."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.tables: Dict[str, List[List[str]]] = {}
        self.captions: Dict[str, str] = {}
        self._table = self._cell = self._caption = None
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self._table = dict(attrs)["id"]
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self.tables[self._table].append([])
        elif tag in ("td", "th") and self._table:
            self._cell = []
        elif tag == "caption":
            self._caption = []
        elif tag == "li" and self._cell is not None and self._cell:
            self._cell.append("\n")

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[self._table][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "caption":
            self.captions[self._table] = "".join(self._caption)
            self._caption = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        for collecting in (self._cell, self._caption):
            if collecting is not None:
                collecting.append(data)

    def body(self, name: str) -> List[List[str]]:
        return self.tables[name][1:]


def page_of(store, since=None) -> str:
    answers = load_answers()
    figures = dashboard.read(store, answers, THRESHOLD, since)
    return dashboard.page(figures, answers, THRESHOLD, "Every conversation kept", "sqlite")


def test_what_became_of_each_message_typed(store):
    outcomes = {row[0]: (int(row[2]), row[3]) for row in Tables(page_of(store)).body("outcomes")}
    assert outcomes == {
        "emergency": (1, "7.7 %"),
        "given up": (3, "23.1 %"),
        '"did you mean ...?"': (4, "30.8 %"),
        "out of scope": (1, "7.7 %"),
        "not in the facts": (1, "7.7 %"),
        # the clarified message once, though Rasa stored it twice
        "answered": (3, "23.1 %"),
        "all": (13, "100.0 %"),
    }


def test_conversations_messages_and_clicks_per_day(store):
    assert Tables(page_of(store)).body("per-day") == [
        ["2026-03-02", "2", "4", "0"],
        ["2026-03-03", "6", "9", "3"],
    ]


def test_answers_ranked_by_not_helpful_rate_with_the_questions_before(store):
    rows = Tables(page_of(store)).body("not-helpful")
    answers = load_answers()
    assert [(row[0], row[2], row[3], row[4], row[5]) for row in rows] == [
        ("1", "what_is_sro", "2", "2", "100 %"),
        ("2", "what_is_nasro", "2", "1", "50 %"),
        ("3", "ask_phone", "1", "0", "0 %"),
    ]
    assert rows[0][1] == answers.title("what_is_sro")
    assert rows[0][6].split("\n") == ["what is a school resource officer?", f"[button] {answers.title('what_is_sro')}"]
    assert rows[1][6] == "what is nasro"
    assert rows[2][6] == ""


def test_a_rating_of_an_answer_that_does_not_exist_is_left_out(store):
    assert "1 rating(s) named no answer of content/answers.yml" in page_of(store)


def test_the_unanswered_questions_are_exactly_make_reports(store):
    shown = Tables(page_of(store)).body("unanswered")
    trackers = [asyncio.run(store.retrieve_full_tracker(sender)) for sender in asyncio.run(store.keys())]
    found = report.grouped(
        [message for tracker in trackers for message in report.unanswered_in(list(tracker.events), THRESHOLD)]
    )
    assert [(row[0], row[1], row[6]) for row in shown] == [(str(group.count), group.text, group.why) for group in found]
    assert [row[1] for row in shown][:1] == ["blorf snaggle wump"]
    assert {row[1] for row in shown} == {
        "blorf snaggle wump",
        "frobnitz quux wobble",
        "zzzz qqq wibble",
        MARKUP,
        "tell me everything",
        "how much does the basic sro course cost?",
    }


def test_the_confidence_of_each_message_typed(store):
    counts = {row[0]: int(row[1]) for row in Tables(page_of(store)).body("confidence")}
    # the model's own guess under nlu_fallback (0.05) for the six not understood
    assert counts["0.0 to 0.1"] == 6
    assert counts["0.7 to 0.8"] == 1
    assert counts["0.9 to 1.0 (1.0 included)"] == 6
    assert sum(counts.values()) == 13


def test_since_leaves_out_the_days_before(store):
    tables = Tables(page_of(store, since=datetime(2026, 3, 3).timestamp()))
    assert tables.body("per-day") == [["2026-03-03", "6", "9", "3"]]
    assert [row[2] for row in tables.body("not-helpful")] == ["what_is_sro", "what_is_nasro"]


def test_what_visitors_typed_is_shown_as_text_and_the_page_runs_nothing(store):
    page = page_of(store)
    assert "<script" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert MARKUP in [row[1] for row in Tables(page).body("unanswered")]
    assert "default-src 'none'; img-src data:" in page
    # nothing to load: every chart is inside the page
    assert "src=" not in page.replace('src="data:image/png;base64,', "")


def test_make_dashboard_writes_the_page_readable_by_its_owner_only(store, tmp_path):
    endpoints = yaml.safe_load((ROOT / "endpoints.yml").read_text(encoding="utf-8"))
    endpoints["tracker_store"]["db"] = store.engine.url.database
    path = tmp_path / "endpoints.yml"
    path.write_text(yaml.safe_dump(endpoints), encoding="utf-8")
    out = tmp_path / "dashboard.html"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "scripts.dashboard",
            "--endpoints",
            str(path),
            "--out",
            str(out),
            "--since",
            "2026-03-03",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.splitlines() == ["Since 2026-03-03 00:00: 6 conversations, 9 messages typed", str(out)]
    assert Path(out).stat().st_mode & 0o077 == 0
    assert Tables(out.read_text(encoding="utf-8")).body("per-day") == [["2026-03-03", "6", "9", "3"]]
