"""`make report`: the unanswered questions of real conversations with the running assistant, read
from its tracker store (SQLite, as `make run` keeps it), grouped, counted, filtered and written as
a table, CSV and an NLU stub that `rasa data validate` accepts."""

import csv
import os
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta

import pytest
import yaml
from conftest import ROOT, assert_rasa_accepts
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

from scripts import report

WEATHER = [
    "What's the weather like in Paris?",
    "what's the weather like in paris",
    "WHAT'S THE WEATHER  LIKE IN PARIS!!!",
]
GIBBERISH = "sdfkj qqq wxyz"
PRIVATE = "i lost my dog, write me at jane.doe@example.com or 555-010-0199"
# What the tracker store keeps of it, and so what a report can show.
PRIVATE_AS_KEPT = "i lost my dog, write me at [EMAIL] or [PHONE]"
UNDERSTOOD = "what is the phone number of the response center"
FIRST_TRY = "blorf snaggle wump"
LATER = "can you recommend a good pizza place"
DOMAIN_INTENTS = set(
    yaml.safe_load((ROOT / "domain" / "conversation.yml").read_text(encoding="utf-8"))["intents"]
) | set(yaml.safe_load((ROOT / "content" / "answers.yml").read_text(encoding="utf-8"))["answers"])


def next_second() -> str:
    """A --since date after every message so far and before every message sent from now on."""
    start = datetime.now().replace(microsecond=0) + timedelta(seconds=1)
    time.sleep((start - datetime.now()).total_seconds() + 0.05)
    return start.isoformat()


@pytest.fixture(scope="module")
def conversations(assistant):
    """Visitors talking to the running assistant; returns the --since dates before and after the
    last visitor. Other tests' conversations in the same store came before the first date."""

    def visitor(*messages: str) -> None:
        sender = f"report-{uuid.uuid4()}"
        for message in messages:
            assistant.ask(message, sender)

    start = next_second()
    for text in WEATHER:
        visitor(text)
    visitor(GIBBERISH)
    visitor(GIBBERISH)
    visitor(PRIVATE)
    visitor(UNDERSTOOD)
    # "did you mean ...?", then "Something else" (a button), then the question in other words
    visitor(FIRST_TRY, "/out_of_scope", UNDERSTOOD)
    later = next_second()
    visitor(LATER)
    return start, later


def run_report(assistant, *args: str) -> subprocess.CompletedProcess:
    finished = subprocess.run(
        [sys.executable, "-m", "scripts.report", "--endpoints", str(assistant.endpoints), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    return finished


def table(stdout: str) -> list:
    """The printed Markdown table's rows as [count, text, first seen, last seen, guess, confidence, why]."""
    header, _, *rows = [
        [cell.strip() for cell in line.strip("|").split(" | ")] for line in stdout.splitlines() if line.startswith("| ")
    ]
    assert header == report.TABLE_HEADER
    return rows


def test_the_unanswered_questions_are_listed_grouped_and_counted_most_asked_first(assistant, conversations):
    start, _ = conversations
    made = subprocess.run(
        ["make", "--no-print-directory", "report", f"ARGS=--endpoints {assistant.endpoints} --since {start}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        env={name: value for name, value in os.environ.items() if name not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")},
    )
    assert made.returncode == 0, made.stderr[-3000:]
    rows = table(made.stdout)
    counted = {row[1]: int(row[0]) for row in rows}
    # case, punctuation and spacing apart the three are one question; the first typed stands for them
    assert counted == {WEATHER[0]: 3, GIBBERISH: 2, PRIVATE_AS_KEPT: 1, FIRST_TRY: 1, LATER: 1}
    assert [row[1] for row in rows[:2]] == [WEATHER[0], GIBBERISH]
    assert made.stdout.startswith("8 unanswered messages since ")
    for count, text, first_seen, last_seen, guess, confidence, why in rows:
        assert first_seen <= last_seen
        assert guess in DOMAIN_INTENTS
        assert 0 <= float(confidence) <= 1
        assert why in ("fallback", "out of scope", "low confidence", "not in the facts")
    assert dict((row[1], row[6]) for row in rows)[GIBBERISH] == "fallback"


def test_a_minimum_count_leaves_out_rarer_questions(assistant, conversations):
    start, _ = conversations
    rows = table(run_report(assistant, "--since", start, "--min-count", "2").stdout)
    assert [(row[0], row[1]) for row in rows] == [("3", WEATHER[0]), ("2", GIBBERISH)]


def test_since_leaves_out_older_conversations(assistant, conversations):
    _, later = conversations
    assert [row[1] for row in table(run_report(assistant, "--since", later).stdout)] == [LATER]
    assert run_report(assistant, "--since", "2999-01-01").stdout == "No unanswered messages since 2999-01-01 00:00.\n"


def test_csv_for_a_spreadsheet_with_every_variant_typed(assistant, conversations, tmp_path):
    start, _ = conversations
    path = tmp_path / "unanswered.csv"
    finished = run_report(assistant, "--since", start, "--csv", str(path))
    assert f"wrote 5 rows to {path}" in finished.stdout
    assert "| count |" not in finished.stdout  # the rows went to the file
    with path.open(encoding="utf-8-sig", newline="") as opened:
        rows = list(csv.DictReader(opened))
    assert list(rows[0]) == report.CSV_HEADER
    weather = rows[0]
    assert (weather["count"], weather["text"]) == ("3", WEATHER[0])
    assert weather["variants"].split("\n") == [" ".join(text.split()) for text in WEATHER]
    assert datetime.fromisoformat(weather["first_seen"]) <= datetime.fromisoformat(weather["last_seen"])
    assert weather["guessed_intent"] in DOMAIN_INTENTS and 0 <= float(weather["confidence"]) <= 1
    assert {row["text"] for row in rows} == {WEATHER[0], GIBBERISH, PRIVATE_AS_KEPT, FIRST_TRY, LATER}
    assert path.stat().st_mode & 0o077 == 0  # what the public typed stays with its owner


def test_the_nlu_stub_passes_rasa_data_validate_with_the_projects_data(assistant, conversations, tmp_path):
    start, _ = conversations
    path = tmp_path / "to_label.yml"
    run_report(assistant, "--since", start, "--nlu", str(path))
    stub = RasaYAMLReader().read(path)
    assert {message.get("text") for message in stub.intent_examples} == {
        WEATHER[0],
        GIBBERISH,
        PRIVATE_AS_KEPT,
        FIRST_TRY,
        LATER,
    }
    assert stub.intents <= DOMAIN_INTENTS
    # as staff will use it: next to the training data, which must stay free of warnings
    assert_rasa_accepts(ROOT, str(path))


def test_personal_data_visitors_typed_is_shown_masked(assistant, conversations, tmp_path):
    """The store keeps it masked (privacy/tracker_store.py), so no report can show it."""
    start, _ = conversations
    path = tmp_path / "report.csv"
    shown = run_report(assistant, "--since", start).stdout
    run_report(assistant, "--since", start, "--csv", str(path))
    written = path.read_text(encoding="utf-8-sig")
    assert PRIVATE_AS_KEPT in shown and PRIVATE_AS_KEPT in written
    assert "jane.doe" not in shown + written and "0199" not in shown + written


def test_bad_options_and_a_missing_store_are_refused_plainly(assistant, tmp_path):
    wrong = subprocess.run(
        [sys.executable, "-m", "scripts.report", "--endpoints", str(assistant.endpoints), "--since", "yesterday"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert wrong.returncode == 2
    assert "'yesterday' is neither a time span (30m, 12h, 7d, 2w) nor a date" in wrong.stderr

    endpoints = yaml.safe_load(assistant.endpoints.read_text(encoding="utf-8"))
    endpoints["tracker_store"]["db"] = str(tmp_path / "none.db")
    elsewhere = tmp_path / "endpoints.yml"
    elsewhere.write_text(yaml.safe_dump(endpoints), encoding="utf-8")
    missing = subprocess.run(
        [sys.executable, "-m", "scripts.report", "--endpoints", str(elsewhere)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert missing.returncode == 1
    assert f"no conversations yet: {tmp_path / 'none.db'} does not exist" in missing.stderr
    assert not (tmp_path / "none.db").exists()


# --- the rules, on events and texts made here -------------------------------------------------


def said(text: str, intent: str, confidence: float, *then: str) -> list:
    ranking = [{"name": intent, "confidence": confidence}]
    message = UserUttered(
        text, {"name": intent, "confidence": confidence}, parse_data={"intent": ranking[0], "intent_ranking": ranking}
    )
    return [message, *(ActionExecuted(action) for action in then)]


def test_low_confidence_and_the_core_fallback_count_as_unanswered_even_without_nlu_fallback():
    events = (
        said("what about grants", "ask_chp", 0.42, "utter_ask_chp")
        + said("what is nasro", "what_is_nasro", 0.97, "utter_what_is_nasro")
        + said("tell me everything", "help", 0.9, "action_default_fallback")
        + said("what does the basic course cost", "unknown_fact", 0.9, "action_give_unknown")
    )
    found = list(report.unanswered_in(events, threshold=0.5))
    assert [(message.text, message.why) for message in found] == [
        ("what about grants", "low confidence"),
        ("tell me everything", "fallback"),
        ("what does the basic course cost", "not in the facts"),
    ]


def test_near_identical_texts_are_one_group_but_different_emoji_are_not():
    assert report.normalised("Whats  the phone number?") == report.normalised("what's the PHONE number")
    assert report.normalised("👍") != report.normalised("🙂")


@pytest.mark.parametrize(
    "pipeline, threshold",
    [
        ("- name: DIETClassifier\n- name: FallbackClassifier\n  threshold: 0.7\n", 0.7),
        ("- name: FallbackClassifier\n", 0.3),  # Rasa's default
        ("- name: DIETClassifier\n", 0.3),
    ],
)
def test_the_threshold_is_the_fallback_classifiers_in_the_config(tmp_path, pipeline, threshold):
    config = tmp_path / "config.yml"
    config.write_text("pipeline:\n" + pipeline, encoding="utf-8")
    assert report.fallback_threshold(config) == threshold


def test_brackets_a_visitor_typed_stay_text_in_the_nlu_stub(tmp_path):
    typed = report.Unanswered("see [this](page) please", 0.0, "out_of_scope", 0.9, "out of scope")
    path = tmp_path / "stub.yml"
    path.write_text(report.nlu_stub(report.grouped([typed])), encoding="utf-8")
    [example] = RasaYAMLReader().read(path).intent_examples
    assert example.get("text") == "see [this] (page) please"
    assert not example.get("entities")
