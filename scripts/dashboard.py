"""Staff's dashboard: one self-contained HTML page of figures from the tracker store (`make dashboard`).

    make dashboard                      every conversation kept, written to var/dashboard.html
    make dashboard ARGS="--since 7d"    the last 7 days (30m, 12h, 2w, or a date: 2024-05-01)
    make dashboard OPEN=1               and open it in the browser

The page shows, for the period: conversations and messages per day; what became of the visitors'
messages (answered, "did you mean ...?", given up on, out of scope, not in the facts, emergencies);
the answers visitors rated "not helpful", most often first, with the questions they had asked; the
unanswered questions most asked (exactly what `make report` lists); and how sure the model was of
its best intent. Each chart is an image with a table of the same figures, for screen readers.

A message is what a visitor typed. Button clicks ("/intent" payloads) are counted apart and get no
category of their own, but a click that makes the assistant give up (the "Something else" button
after "did you mean ...?") counts against the message typed before it. When a visitor answers
"did you mean ...?" in other words, Rasa stores that message a second time (its two-stage fallback
replays it): it is counted once. Ratings are not messages: a rating counts for the answer it names
(a rating typed in words: the answer its question got), when content/answers.yml has it (clients
can send anything), with the message or click before it as its question.

Reads the tracker store endpoints.yml names (SQLite in var/ unless the TRACKER_STORE_* environment
variables choose another: ops/tracker_store.py), its rows directly with SQL: Rasa's own reading
builds every event of every conversation, which takes minutes for 100,000 conversations. The page
holds what the public typed (already masked by the store: docs/privacy.md), so it is written
readable by its owner only, every text is escaped, and its Content-Security-Policy runs no script
and loads nothing: the charts are inside it.
"""

import argparse
import base64
import html
import io
import os
import sys
import webbrowser
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Set, Tuple

from ops.settings import TELEMETRY

# Set before Rasa is imported: visitors' texts are read here, and nothing may leave the machine.
os.environ.update(TELEMETRY)
os.environ["SQLALCHEMY_SILENCE_UBER_WARNING"] = "1"

import sqlalchemy
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME, INTENT_MESSAGE_PREFIX
from rasa.shared.core.constants import (
    ACTION_DEFAULT_FALLBACK_NAME,
    ACTION_TWO_STAGE_FALLBACK_NAME,
    USER_INTENT_OUT_OF_SCOPE,
)
from sqlalchemy.dialects import postgresql

from content.answers import Answers
from content.answers import load as load_answers
from content.feedback import HELPFUL, NOT_HELPFUL, RATING_INTENT, rated_answer_of, rating_of
from scripts import report

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "var" / "dashboard.html"

ANSWERED = "answered"
DID_YOU_MEAN = '"did you mean ...?"'
GIVEN_UP = "given up"
OUT_OF_SCOPE = "out of scope"
NOT_IN_THE_FACTS = "not in the facts"
EMERGENCIES = "emergency"
# Worst first: a message gets the first that applies.
CATEGORIES = (EMERGENCIES, GIVEN_UP, DID_YOU_MEAN, OUT_OF_SCOPE, NOT_IN_THE_FACTS, ANSWERED)
MEANING = {
    ANSWERED: "an answer, or the conversation's own reply (a greeting, thanks, what it can do)",
    DID_YOU_MEAN: "not understood: offered the likeliest questions (and then did not give up)",
    GIVEN_UP: "not understood twice: the assistant gave up and pointed to the Response Center",
    OUT_OF_SCOPE: "understood as outside what it covers, and said so",
    NOT_IN_THE_FACTS: 'a question on its topics that the facts do not answer ("I don\'t have that information")',
    EMERGENCIES: "someone in danger or in crisis: sent to 911 (and the 988 Lifeline)",
}
# What components/safety.py's verdicts (emergency, self_harm) get first (data/rules.yml), and only they.
EMERGENCY_ANSWER = "utter_emergency"
# The only actions the figures look at: the rest of a reply's rows are left in the database.
ACTIONS_READ = report.FALLBACK_ACTIONS | {
    ACTION_DEFAULT_FALLBACK_NAME,
    ACTION_TWO_STAGE_FALLBACK_NAME,
    EMERGENCY_ANSWER,
}
NOT_UNDERSTOOD = {DEFAULT_NLU_FALLBACK_INTENT_NAME, USER_INTENT_OUT_OF_SCOPE}
CONFIDENCE_BINS = 10
MOST_RATED = 15
MOST_UNANSWERED = 25
QUESTIONS_SHOWN = 5


@dataclass
class Turn:
    """A visitor's message, click or rating, and what the assistant did until the next one."""

    text: str
    intent: Optional[str]
    parse_data: dict
    timestamp: float
    # Rasa's two-stage fallback stores a message that clarified a second time, replayed.
    replay: bool = False
    actions: Set[str] = field(default_factory=set)
    reverted: bool = False

    @property
    def typed(self) -> bool:
        return not self.text.startswith(INTENT_MESSAGE_PREFIX)

    @property
    def rating(self) -> bool:
        return self.intent == RATING_INTENT

    @property
    def clarified(self) -> bool:
        """Whether the two-stage fallback took this message as the visitor's answer to "did you
        mean ...?" and replays it (a give-up rewinds too, but a message it did not understand)."""
        return self.reverted and ACTION_TWO_STAGE_FALLBACK_NAME in self.actions and self.intent not in NOT_UNDERSTOOD

    def category(self) -> str:
        if EMERGENCY_ANSWER in self.actions:
            return EMERGENCIES
        # The two-stage fallback gives up by forgetting the message (a rewind); it also rewinds a
        # message that clarified, but that one has an intent of its own.
        if ACTION_DEFAULT_FALLBACK_NAME in self.actions or (self.reverted and self.intent in NOT_UNDERSTOOD):
            return GIVEN_UP
        if self.intent == DEFAULT_NLU_FALLBACK_INTENT_NAME:
            return DID_YOU_MEAN
        if self.intent == USER_INTENT_OUT_OF_SCOPE:
            return OUT_OF_SCOPE
        if self.intent == report.UNKNOWN_FACT_INTENT:
            return NOT_IN_THE_FACTS
        return ANSWERED


@dataclass
class Day:
    conversations: Set[str] = field(default_factory=set)
    typed: int = 0
    clicks: int = 0


@dataclass
class Rated:
    helpful: int = 0
    not_helpful: int = 0
    # the questions before its "not helpful" ratings: as shown -> how often
    questions: Counter = field(default_factory=Counter)

    @property
    def count(self) -> int:
        return self.helpful + self.not_helpful

    @property
    def rate(self) -> float:
        return self.not_helpful / self.count


@dataclass
class Figures:
    days: Dict[date, Day] = field(default_factory=dict)
    categories: Counter = field(default_factory=Counter)
    rated: Dict[str, Rated] = field(default_factory=dict)
    ignored_ratings: int = 0
    unanswered: List[report.Unanswered] = field(default_factory=list)
    # the tenth of the model's confidence in its best intent (0-9) -> how many typed messages
    confidences: Counter = field(default_factory=Counter)

    @property
    def messages(self) -> int:
        return sum(self.categories.values())

    @property
    def conversations(self) -> int:
        return len(set().union(*(day.conversations for day in self.days.values())))

    def ranked(self) -> List[Tuple[str, Rated]]:
        """The rated answers, the most often "not helpful" first."""
        return sorted(self.rated.items(), key=lambda item: (-item[1].rate, -item[1].not_helpful, item[0]))


class Conversation:
    """What one conversation's rows have told so far."""

    def __init__(self) -> None:
        self.turn: Optional[Turn] = None
        # the message typed last, and the worst that became of it so far (the clicks after it count)
        self.message: Optional[Turn] = None
        self.category: Optional[str] = None
        # what a rating rates: the visitor's message or click before it
        self.question: Optional[Turn] = None
        # (answer, id of the question's turn) -> (rating, the question): a visitor who rates an
        # answer again counts once, with the latest rating
        self.ratings: Dict[Tuple[str, int], Tuple[str, Optional[Turn]]] = {}


class Reader:
    """The figures, from the store's rows read once in the order they were stored."""

    def __init__(self, answers: Answers, threshold: float) -> None:
        self.answers = answers
        self.threshold = threshold
        self.figures = Figures()
        self.conversations: Dict[str, Conversation] = {}

    def row(
        self, sender: str, kind: str, timestamp: float, intent: Optional[str], action: Optional[str], *message
    ) -> None:
        """One row of stored_rows: for a message, its text and parse data follow."""
        conversation = self.conversations.get(sender)
        if conversation is None:
            conversation = self.conversations[sender] = Conversation()
        if kind == "user":
            before = conversation.turn
            self._close_turn(conversation)
            self._open_turn(sender, conversation, before, timestamp, intent, *message)
        elif conversation.turn is None:
            return
        elif kind == "action" and action:
            conversation.turn.actions.add(action)
        elif kind == "rewind":
            conversation.turn.reverted = True

    def finish(self) -> Figures:
        for conversation in self.conversations.values():
            self._close_turn(conversation)
            self._close_message(conversation)
            for (answer, _), (rating, question) in conversation.ratings.items():
                rated = self.figures.rated.setdefault(answer, Rated())
                if rating == HELPFUL:
                    rated.helpful += 1
                else:
                    rated.not_helpful += 1
                    rated.questions[self.shown(question)] += 1
        return self.figures

    def shown(self, question: Optional[Turn]) -> str:
        if question is None:
            return "(nothing asked before it in this period)"
        if question.typed:
            return " ".join(question.text.split())
        title = self.answers.title(question.intent)
        return f"[button] {title or question.text}"

    def _open_turn(
        self,
        sender: str,
        conversation: Conversation,
        before: Optional[Turn],
        timestamp: float,
        intent: Optional[str],
        text: Optional[str],
        parse_data: dict,
    ) -> None:
        text = text or ""
        turn = Turn(text, intent, parse_data, timestamp)
        turn.replay = before is not None and before.clarified and (before.text, before.intent) == (text, intent)
        conversation.turn = turn
        if turn.rating:
            self._rating(conversation, turn)
            return
        day = self.figures.days.setdefault(datetime.fromtimestamp(timestamp).date(), Day())
        day.conversations.add(sender)
        if turn.replay:
            return
        conversation.question = turn
        if not turn.typed:
            day.clicks += 1
            return
        day.typed += 1
        self._close_message(conversation)
        conversation.message = turn

    def _close_turn(self, conversation: Conversation) -> None:
        turn, conversation.turn = conversation.turn, None
        if turn is None:
            return
        # make report's rule, on every message it reads (a replay too: make report counts it again).
        unanswered = report.unanswered_message(
            turn.text, turn.timestamp, turn.intent, turn.parse_data, turn.actions, self.threshold
        )
        if unanswered is not None:
            self.figures.unanswered.append(unanswered)
        if turn.rating:
            return
        if not turn.typed:
            # "Something else" after "did you mean ...?" can make the assistant give up on the message.
            if conversation.category is not None and turn.category() == GIVEN_UP:
                conversation.category = worst(conversation.category, GIVEN_UP)
            return
        if turn.replay:
            return
        _, confidence = report.model_guess(turn.parse_data)
        if confidence is not None:
            self.figures.confidences[min(int(confidence * CONFIDENCE_BINS), CONFIDENCE_BINS - 1)] += 1
        conversation.category = turn.category()

    def _close_message(self, conversation: Conversation) -> None:
        if conversation.message is not None and conversation.category is not None:
            self.figures.categories[conversation.category] += 1
        conversation.message = conversation.category = None

    def _rating(self, conversation: Conversation, turn: Turn) -> None:
        question = conversation.question
        # A rating typed in words names no answer: it rates the one its question got.
        answer = rated_answer_of(turn.parse_data) or (question.intent if question is not None else None)
        rating = rating_of(turn.parse_data, turn.text)
        if answer not in self.answers or rating not in (HELPFUL, NOT_HELPFUL):
            self.figures.ignored_ratings += 1
            return
        conversation.ratings[(answer, id(question))] = (rating, question)


def worst(*categories: str) -> str:
    return min(categories, key=CATEGORIES.index)


def stored_rows(engine: sqlalchemy.engine.Engine, table: sqlalchemy.Table, since: Optional[float]) -> Iterator[tuple]:
    """The rows the figures need, in the order they were stored: (sender, type, timestamp, intent,
    action), and for a message its text and what the figures read of its parse data.

    The database reads each message's JSON once and sends back a few fields: parsing 100,000
    conversations' messages whole in Python took longer than the 30 s the dashboard may take.
    """
    columns = table.c
    rows = sqlalchemy.or_(
        columns.type_name.in_(("user", "rewind")),
        sqlalchemy.and_(columns.type_name == "action", columns.action_name.in_(sorted(ACTIONS_READ))),
    )
    if since is not None:
        rows = sqlalchemy.and_(rows, columns.timestamp >= since)
    if engine.dialect.name == "postgresql":
        # The column is text: jsonb parses it once for all the fields below.
        document = sqlalchemy.cast(columns.data, postgresql.JSONB)
    else:
        document = sqlalchemy.type_coerce(columns.data, sqlalchemy.JSON)
    # OFFSET 0 keeps the database from parsing the document once per field.
    stored = (
        sqlalchemy.select(
            columns.id,
            columns.sender_id,
            columns.type_name,
            columns.timestamp,
            columns.intent_name,
            columns.action_name,
            sqlalchemy.case((columns.type_name == "user", document)).label("document"),
        )
        .where(rows)
        .offset(0)
        .subquery()
    )
    json = postgresql.JSONB if engine.dialect.name == "postgresql" else sqlalchemy.JSON
    message = sqlalchemy.type_coerce(stored.c.document, json)
    # model_guess reads the ranking until an intent other than nlu_fallback: the FallbackClassifier
    # puts nlu_fallback first, once, so the first two ranked are all it can need.
    ranked = [
        message[("parse_data", "intent_ranking", place, field)] for place in (0, 1) for field in ("name", "confidence")
    ]
    query = sqlalchemy.select(
        stored.c.sender_id,
        stored.c.type_name,
        stored.c.timestamp,
        stored.c.intent_name,
        stored.c.action_name,
        message["text"].as_string(),
        message[("parse_data", "intent", "confidence")].as_float(),
        ranked[0].as_string(),
        ranked[1].as_float(),
        ranked[2].as_string(),
        ranked[3].as_float(),
        sqlalchemy.case((stored.c.intent_name == RATING_INTENT, message[("parse_data", "entities")])),
    ).order_by(stored.c.id)
    with engine.connect() as connection:
        # A server-side cursor on PostgreSQL: the rows of 100,000 conversations never sit in memory at once.
        result = connection.execution_options(stream_results=True).execute(query)
        for rows_read in result.partitions(10_000):
            for sender, kind, timestamp, intent, action, text, confidence, *ranking, entities in rows_read:
                if kind != "user":
                    yield sender, kind, timestamp, intent, action
                    continue
                first, second = (
                    {"name": ranking[0], "confidence": ranking[1]},
                    {"name": ranking[2], "confidence": ranking[3]},
                )
                parse_data = {
                    "intent": {"name": intent, "confidence": confidence},
                    "intent_ranking": [entry for entry in (first, second) if entry["name"]],
                    "entities": entities or [],
                }
                yield sender, kind, timestamp, intent, action, text, parse_data


def read(store, answers: Answers, threshold: float, since: Optional[float]) -> Figures:
    reader = Reader(answers, threshold)
    for row in stored_rows(store.engine, store.SQLEvent.__table__, since):
        reader.row(*row)
    return reader.finish()


# --- the page ------------------------------------------------------------------------------------


class Html(str):
    """Markup made here, never from the store: every other cell is escaped."""


def escaped(value) -> str:
    return value if isinstance(value, Html) else html.escape(str(value), quote=True)


def table(name: str, caption: str, header: Sequence[str], rows: Sequence[Sequence], numbers: Sequence[int] = ()) -> str:
    """A table with its caption; `numbers` are the columns aligned right."""

    def cells(row: Sequence, tag: str) -> str:
        scope = ' scope="col"' if tag == "th" else ""
        return "".join(
            f"<{tag}{scope}{' class=n' if column in numbers else ''}>{escaped(value)}</{tag}>"
            for column, value in enumerate(row)
        )

    body = "\n".join(f"<tr>{cells(row, 'td')}</tr>" for row in rows)
    return (
        f'<table id="{name}"><caption>{escaped(caption)}</caption>\n'
        f"<thead><tr>{cells(header, 'th')}</tr></thead>\n<tbody>\n{body}\n</tbody></table>"
    )


def chart(draw, caption: str, size: Tuple[float, float] = (8, 3.2)) -> str:
    """The chart `draw(axis)` draws, as a PNG inside the page: nothing to load from elsewhere."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=size)
    draw(axis)
    axis.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    plt.close(figure)
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    alt = f"Chart: {caption}. The table below gives its figures."
    return f'<img src="data:image/png;base64,{encoded}" alt="{escaped(alt)}">'


def percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f} %" if whole else "-"


def per_day(figures: Figures) -> str:
    caption = "Conversations and messages per day"
    if not figures.days:
        return "<p>No conversation in this period.</p>"
    days = sorted(figures.days)
    rows = [
        [day.isoformat(), len(figures.days[day].conversations), figures.days[day].typed, figures.days[day].clicks]
        for day in days
    ]

    def draw(axis) -> None:
        positions = range(len(days))
        axis.bar([p - 0.2 for p in positions], [row[1] for row in rows], 0.4, label="conversations")
        axis.bar([p + 0.2 for p in positions], [row[2] for row in rows], 0.4, label="messages typed")
        step = max(1, len(days) // 12)
        axis.set_xticks(list(positions)[::step])
        axis.set_xticklabels([row[0] for row in rows][::step], rotation=30, ha="right")
        axis.legend(ncol=2, loc="lower left", bbox_to_anchor=(0, 1), frameon=False)

    header = ["day", "conversations", "messages typed", "button clicks"]
    return chart(draw, caption) + table("per-day", caption, header, rows, numbers=(1, 2, 3))


def outcomes(figures: Figures) -> str:
    caption = "What became of the visitors' messages"
    total = figures.messages
    if not total:
        return "<p>No message in this period.</p>"
    rows = [
        [name, MEANING[name], figures.categories[name], percent(figures.categories[name], total)] for name in CATEGORIES
    ]

    def draw(axis) -> None:
        shares = [100 * figures.categories[name] / total for name in CATEGORIES]
        axis.barh(list(CATEGORIES), shares, color="tab:blue")
        axis.invert_yaxis()
        axis.set_xlabel("share of messages typed (%)")
        for position, (share, name) in enumerate(zip(shares, CATEGORIES)):
            axis.text(share, position, f" {figures.categories[name]}", va="center")

    header = ["what became of it", "meaning", "messages", "share"]
    return chart(draw, caption) + table("outcomes", caption, header, rows + [["all", "", total, "100.0 %"]], (2, 3))


def not_helpful(figures: Figures, answers: Answers) -> str:
    caption = 'Answers rated "not helpful", the most often first, with the questions before those ratings'
    ranked = figures.ranked()
    ignored = (
        f"<p>{figures.ignored_ratings} rating(s) named no answer of content/answers.yml, or no rating, and are left out.</p>"
        if figures.ignored_ratings
        else ""
    )
    if not ranked:
        return "<p>No answer was rated in this period.</p>" + ignored

    def questions(rated: Rated) -> Html:
        if not rated.questions:
            return Html("")
        items = "".join(
            f"<li>{escaped(text)}{f' ({count}&times;)' if count > 1 else ''}</li>"
            for text, count in rated.questions.most_common(QUESTIONS_SHOWN)
        )
        more = len(rated.questions) - QUESTIONS_SHOWN
        return Html(f"<ul>{items}</ul>" + (f"<p>and {more} more</p>" if more > 0 else ""))

    rows = [
        [
            rank,
            answers.title(key) or key,
            key,
            rated.count,
            rated.not_helpful,
            f"{100 * rated.rate:.0f} %",
            questions(rated),
        ]
        for rank, (key, rated) in enumerate(ranked, 1)
    ]
    shown = ranked[:MOST_RATED]

    def draw(axis) -> None:
        axis.barh([key for key, _ in shown], [100 * rated.rate for _, rated in shown], color="tab:red")
        axis.invert_yaxis()
        axis.set_xlim(0, 100)
        axis.set_xlabel('"not helpful" (% of its ratings)')

    header = [
        "rank",
        "answer",
        "key in content/answers.yml",
        "ratings",
        "not helpful",
        "not helpful rate",
        "asked before",
    ]
    size = (8, 1 + 0.35 * len(shown))
    return chart(draw, caption, size) + table("not-helpful", caption, header, rows, numbers=(0, 3, 4, 5)) + ignored


def unanswered(figures: Figures) -> str:
    caption = f"The unanswered questions asked most (what make report lists; the first {MOST_UNANSWERED})"
    groups = report.grouped(figures.unanswered)
    if not groups:
        return "<p>No unanswered message in this period.</p>"
    rows = [
        [
            group.count,
            group.text,
            report.when(group.first_seen),
            report.when(group.last_seen),
            group.guess or "-",
            report.rounded(group.confidence, 2),
            group.why,
        ]
        for group in groups[:MOST_UNANSWERED]
    ]
    total = sum(group.count for group in groups)
    summary = f"<p>{total} unanswered messages, {len(groups)} different texts.</p>"
    return summary + table("unanswered", caption, report.TABLE_HEADER, rows, numbers=(0, 5))


def confidence(figures: Figures, threshold: float) -> str:
    caption = f"How sure the model was of its best intent, for each message typed (below {threshold:g}: not understood)"
    if not figures.confidences:
        return "<p>No message in this period.</p>"
    bins = [(i / CONFIDENCE_BINS, (i + 1) / CONFIDENCE_BINS) for i in range(CONFIDENCE_BINS)]
    counts = [figures.confidences[i] for i in range(CONFIDENCE_BINS)]
    rows = [
        [f"{low:.1f} to {high:.1f}" + (" (1.0 included)" if i == CONFIDENCE_BINS - 1 else ""), count]
        for i, ((low, high), count) in enumerate(zip(bins, counts))
    ]

    def draw(axis) -> None:
        axis.bar([low for low, _ in bins], counts, width=1 / CONFIDENCE_BINS, align="edge", color="tab:green")
        axis.axvline(threshold, color="black", linestyle="--", label=f"threshold {threshold:g}")
        axis.set_xlabel("confidence in the best intent")
        axis.set_ylabel("messages typed")
        axis.legend()

    return chart(draw, caption) + table("confidence", caption, ["confidence", "messages typed"], rows, numbers=(1,))


STYLE = """
body { font-family: system-ui, sans-serif; color: #1a1a1a; background: #fff; margin: 0 auto; max-width: 62rem;
       padding: 0 1rem 3rem; line-height: 1.45; }
header { background: #1f3b5c; color: #fff; padding: 1rem 1.5rem; margin: 0 -1rem 1rem; }
h1 { font-size: 1.6rem; margin: 0; }
h2 { font-size: 1.25rem; margin-top: 2.5rem; border-bottom: 2px solid #1f3b5c; }
img { max-width: 100%; height: auto; display: block; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; width: 100%; }
caption { text-align: left; font-weight: bold; padding: 0.3rem 0; }
th, td { border: 1px solid #b0b8c4; padding: 0.3rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #e8edf3; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tbody tr:nth-child(even) { background: #f5f7fa; }
td ul { margin: 0; padding-left: 1.1rem; }
td p { margin: 0; }
.note { color: #444; }
"""


def page(figures: Figures, answers: Answers, threshold: float, period: str, store: str) -> str:
    generated = datetime.now().strftime("%Y-%m-%d %H:%M")
    summary = (
        f"{figures.conversations} conversations, {figures.messages} messages typed, "
        f"{sum(rated.count for rated in figures.rated.values())} ratings"
    )
    sections = [
        ("per-day-section", "Conversations and messages per day", per_day(figures)),
        (
            "outcomes-section",
            "What became of the messages",
            '<p class="note">A message is what a visitor typed; button clicks get no category of their own, '
            "but one that makes the assistant give up counts against the message before it. A message the "
            "two-stage fallback replays after a visitor clarified is counted once.</p>" + outcomes(figures),
        ),
        ("not-helpful-section", 'Answers rated "not helpful"', not_helpful(figures, answers)),
        ("unanswered-section", "The unanswered questions asked most", unanswered(figures)),
        ("confidence-section", "How sure the model was", confidence(figures, threshold)),
    ]
    body = "\n".join(
        f'<section id="{name}" aria-labelledby="{name}-title"><h2 id="{name}-title">{escaped(title)}</h2>\n{content}</section>'
        for name, title, content in sections
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<title>COPS Office help assistant: dashboard</title>
<style>{STYLE}</style>
</head>
<body>
<header><h1>COPS Office help assistant: dashboard</h1></header>
<main>
<p id="summary">{escaped(period)}: {escaped(summary)}.</p>
<p class="note">Written {generated} from the tracker store ({escaped(store)}) by make dashboard. What visitors typed
is shown as the store keeps it, personal data masked. To act on it: docs/content.md, "From the dashboard to a fixed
answer".</p>
{body}
</main>
</body>
</html>
"""


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--since",
        type=report.since,
        metavar="SPAN_OR_DATE",
        help="only what happened since then: 30m, 12h, 7d, 2w, or a date such as 2024-05-01",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"the page to write (default {DEFAULT_OUT})")
    parser.add_argument("--open", action="store_true", help="open the page in the browser")
    report.add_store_arguments(parser)
    args = parser.parse_args(argv)
    store, threshold = report.open_store(args)
    if not hasattr(store, "engine"):
        raise SystemExit(f"the tracker store of {args.endpoints} is not an SQL database: the dashboard reads SQL only")
    answers = load_answers()
    figures = read(store, answers, threshold, args.since)
    period = f"Since {report.when(args.since)}" if args.since is not None else "Every conversation kept"
    written = page(figures, answers, threshold, period, store.engine.dialect.name)
    try:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        with report.private_file(args.out) as out:
            out.write(written)
    except OSError as error:
        raise SystemExit(f"cannot write {error.filename}: {error.strerror}")
    print(f"{period}: {figures.conversations} conversations, {figures.messages} messages typed")
    print(args.out)
    if args.open and not webbrowser.open(args.out.resolve().as_uri()):
        print("no browser to open it with here: open the file above")
    return 0


if __name__ == "__main__":
    sys.exit(main())
