"""What visitors asked that the assistant could not answer, most asked first (`make report`).

    make report                                     every unanswered message, as a Markdown table
    make report ARGS="--since 7d --min-count 2"     the last 7 days, asked at least twice
    make report ARGS="--since 2024-05-01"           since a date
    make report ARGS="--csv unanswered.csv"         for a spreadsheet
    make report ARGS="--nlu to_label.yml"           a Rasa NLU stub for staff to label

A visitor's message is unanswered when the model sent it to the fallback (the nlu_fallback intent,
or a fallback action answered it), classified it out_of_scope, found it in the domain but not in
the facts (unknown_fact: "I don't have that information"), or was less sure of its best intent
than the FallbackClassifier threshold in config.yml. Button clicks ("/intent" payloads) are not
what visitors typed and are left out. Texts that differ only in case, punctuation and spacing make
one row: how often, first and last seen, and what the model guessed (the latest guess: it is the
current model's) with its confidence.

The NLU stub lists each row's text under the intent the model guessed, so that it passes
`rasa data validate` as it is; staff move each line to the intent it really asks (or a new one,
docs/content.md) and delete the rest.

Reads the tracker store named in endpoints.yml (SQLite in var/ unless the TRACKER_STORE_*
environment variables choose another: ops/tracker_store.py). Visitors' texts are the
public's data: nothing is sent anywhere, and files are written readable by their owner only. The
store holds them with personal data already masked ("[PHONE]", "[EMAIL]": docs/privacy.md).
"""

import argparse
import asyncio
import csv
import os
import re
import sys
import time
import unicodedata
import warnings
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from itertools import takewhile
from pathlib import Path
from typing import IO, Iterable, Iterator, List, Optional, Sequence, Set, Tuple

from ops.settings import TELEMETRY

# Set before Rasa is imported: visitors' texts are read here, and nothing may leave the machine.
os.environ.update(TELEMETRY)
# Rasa 3.6's pinned libraries warn of their own deprecations: nothing staff can act on, and it
# would bury the report. (Rasa adds warning filters of its own, so PYTHONWARNINGS is not enough.)
os.environ["SQLALCHEMY_SILENCE_UBER_WARNING"] = "1"

import yaml
from rasa.core.constants import DEFAULT_NLU_FALLBACK_THRESHOLD
from rasa.core.tracker_store import TrackerStore
from rasa.shared.constants import (
    DEFAULT_NLU_FALLBACK_INTENT_NAME,
    INTENT_MESSAGE_PREFIX,
)
from rasa.shared.core.constants import (
    ACTION_DEFAULT_ASK_AFFIRMATION_NAME,
    ACTION_DEFAULT_ASK_REPHRASE_NAME,
    ACTION_DEFAULT_FALLBACK_NAME,
    USER_INTENT_OUT_OF_SCOPE,
)
from rasa.shared.core.events import ActionExecuted, Event, UserUttered
from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from ops.tracker_store import apply_tracker_store_defaults, open_tracker_store
from scripts.table import markdown_table

ROOT = Path(__file__).resolve().parent.parent

# action_two_stage_fallback is not among them: it also runs, and ends its loop, after a visitor's
# clearer second try that was then answered. A message that starts it is nlu_fallback anyway.
FALLBACK_ACTIONS = {
    ACTION_DEFAULT_FALLBACK_NAME,
    ACTION_DEFAULT_ASK_AFFIRMATION_NAME,
    ACTION_DEFAULT_ASK_REPHRASE_NAME,
}
WENT_TO_FALLBACK = "fallback"
OUT_OF_SCOPE = "out of scope"
LOW_CONFIDENCE = "low confidence"
NOT_IN_THE_FACTS = "not in the facts"
UNKNOWN_FACT_INTENT = "unknown_fact"


TIME_SPAN = re.compile(r"(\d+)\s*([mhdw])")
SECONDS_PER = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}

# In a training example "[text](entity)", "[text]{...}" and "[text][...]" annotate an entity: a
# visitor's brackets must not become entities nobody declared.
ANNOTATION_LIKE = re.compile(r"\](?=[({\[])")

TABLE_HEADER = ["count", "visitor's text", "first seen", "last seen", "model's guess", "confidence", "why"]
CSV_HEADER = ["count", "text", "first_seen", "last_seen", "guessed_intent", "confidence", "why", "variants"]

NLU_STUB_HEADER = """\
# Visitors' messages the assistant did not answer, written by scripts/report.py on {written}.
# Each is listed under the intent the model guessed, usually wrongly; most asked first.
# To label them: move each line to the intent it really asks, in data/nlu/<topic>.yml, or to a
# new intent (docs/content.md); delete lines that need no answer; then `make test` (it retrains).
"""


@dataclass(frozen=True)
class Unanswered:
    text: str
    timestamp: float
    guess: Optional[str]
    confidence: Optional[float]
    why: str


@dataclass(frozen=True)
class Group:
    """Messages whose texts differ only in case, punctuation and spacing; oldest first."""

    messages: Tuple[Unanswered, ...]

    @property
    def variants(self) -> List[str]:
        """The texts as typed, most frequent first (ties: the first typed)."""
        return [text for text, _ in Counter(message.text for message in self.messages).most_common()]

    @property
    def text(self) -> str:
        return self.variants[0]

    @property
    def count(self) -> int:
        return len(self.messages)

    @property
    def first_seen(self) -> float:
        return self.messages[0].timestamp

    @property
    def last_seen(self) -> float:
        return self.messages[-1].timestamp

    @property
    def guess(self) -> Optional[str]:
        return self.messages[-1].guess

    @property
    def confidence(self) -> Optional[float]:
        return self.messages[-1].confidence

    @property
    def why(self) -> str:
        return ", ".join(sorted({message.why for message in self.messages}))


def fallback_threshold(config: Path) -> float:
    """The FallbackClassifier's threshold in config.yml; Rasa's default when it names none."""
    try:
        pipeline = (yaml.safe_load(config.read_text(encoding="utf-8")) or {}).get("pipeline") or []
    except (OSError, yaml.YAMLError, AttributeError) as error:
        raise SystemExit(f"cannot read the pipeline from {config}: {error}")
    for component in pipeline:
        if component.get("name") == "FallbackClassifier":
            return float(component.get("threshold", DEFAULT_NLU_FALLBACK_THRESHOLD))
    return DEFAULT_NLU_FALLBACK_THRESHOLD


def model_guess(parse_data: dict) -> Tuple[Optional[str], Optional[float]]:
    """The intent the model ranked first: under nlu_fallback, the FallbackClassifier keeps it second."""
    for ranked in parse_data.get("intent_ranking") or [parse_data.get("intent") or {}]:
        if ranked.get("name") and ranked["name"] != DEFAULT_NLU_FALLBACK_INTENT_NAME:
            return ranked["name"], ranked.get("confidence")
    return None, None


def unanswered_in(events: Sequence[Event], threshold: float) -> Iterator[Unanswered]:
    """The visitor's messages in one conversation's events that the assistant did not answer."""
    for index, event in enumerate(events):
        if not isinstance(event, UserUttered):
            continue
        replies = takewhile(lambda later: not isinstance(later, UserUttered), events[index + 1 :])
        actions = {later.action_name for later in replies if isinstance(later, ActionExecuted)}
        found = unanswered_message(
            event.text or "", event.timestamp, event.intent_name, event.parse_data, actions, threshold
        )
        if found is not None:
            yield found


def unanswered_message(
    text: str, timestamp: float, intent: Optional[str], parse_data: dict, actions: Set[str], threshold: float
) -> Optional[Unanswered]:
    """The message, if the assistant did not answer it; `actions` ran in reply, before the next
    message. (scripts/dashboard.py reads the store's rows with it, without Rasa's events.)"""
    if not text.strip() or text.startswith(INTENT_MESSAGE_PREFIX):
        return None
    guess, confidence = model_guess(parse_data)
    if intent == DEFAULT_NLU_FALLBACK_INTENT_NAME or actions & FALLBACK_ACTIONS:
        why = WENT_TO_FALLBACK
    elif intent == USER_INTENT_OUT_OF_SCOPE:
        why = OUT_OF_SCOPE
    elif intent == UNKNOWN_FACT_INTENT:
        why = NOT_IN_THE_FACTS
    elif confidence is not None and confidence < threshold:
        why = LOW_CONFIDENCE
    else:
        return None
    return Unanswered(" ".join(text.split()), timestamp, guess, confidence, why)


def normalised(text: str) -> str:
    """What near-identical texts share: case, punctuation and spacing dropped ("What's" = "whats")."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    words = re.sub(r"[^\w\s]", " ", re.sub(r"['\u2019]", "", folded)).split()
    # A text of symbols only (an emoji) keeps its symbols, or all such texts would be one row.
    return " ".join(words) or folded.strip()


def grouped(messages: Iterable[Unanswered], min_count: int = 1) -> List[Group]:
    """Groups of near-identical texts asked at least `min_count` times, most asked first."""
    by_text = {}
    for message in sorted(messages, key=lambda message: message.timestamp):
        by_text.setdefault(normalised(message.text), []).append(message)
    groups = [Group(tuple(messages)) for messages in by_text.values() if len(messages) >= min_count]
    return sorted(groups, key=lambda group: (-group.count, -group.last_seen))


def since(value: str) -> float:
    """--since: a time span back from now (30m, 12h, 7d, 2w) or a date, with a time if wanted."""
    span = TIME_SPAN.fullmatch(value.strip().lower())
    if span:
        return time.time() - int(span[1]) * SECONDS_PER[span[2]]
    try:
        return datetime.fromisoformat(value.strip()).timestamp()
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r} is neither a time span (30m, 12h, 7d, 2w) nor a date (2024-05-01, 2024-05-01T09:30)"
        )


def at_least_one(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number of 1 or more")
    return number


async def stored_unanswered(store: TrackerStore, threshold: float) -> List[Unanswered]:
    found: List[Unanswered] = []
    for sender in await store.keys():
        tracker = await store.retrieve_full_tracker(sender)
        if tracker is not None:
            found += unanswered_in(list(tracker.events), threshold)
    return found


def when(timestamp: float, seconds: bool = False) -> str:
    return datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M" + (":%S" if seconds else ""))


def rounded(confidence: Optional[float], digits: int) -> str:
    return "-" if confidence is None else f"{confidence:.{digits}f}"


def table(groups: List[Group]) -> str:
    return markdown_table(
        TABLE_HEADER,
        [
            [
                str(group.count),
                group.text,
                when(group.first_seen),
                when(group.last_seen),
                group.guess or "-",
                rounded(group.confidence, 2),
                group.why,
            ]
            for group in groups
        ],
    )


def private_file(path: Path, encoding: str = "utf-8") -> IO[str]:
    """Opened for writing, readable by its owner only (an existing file too): it holds what the public typed."""

    def owner_only(name: str, flags: int) -> int:
        descriptor = os.open(name, flags, 0o600)
        os.fchmod(descriptor, 0o600)
        return descriptor

    return open(path, "w", encoding=encoding, newline="", opener=owner_only)


def write_csv(groups: List[Group], path: Path) -> None:
    # With a byte-order mark Excel reads the file as UTF-8, not in the local code page.
    with private_file(path, encoding="utf-8-sig") as out:
        writer = csv.writer(out)
        writer.writerow(CSV_HEADER)
        for group in groups:
            writer.writerow(
                [
                    group.count,
                    group.text,
                    when(group.first_seen, seconds=True),
                    when(group.last_seen, seconds=True),
                    group.guess or "",
                    rounded(group.confidence, 3),
                    group.why,
                    "\n".join(group.variants),
                ]
            )


def nlu_stub(groups: List[Group]) -> str:
    examples = [
        Message.build(text=ANNOTATION_LIKE.sub("] ", group.text), intent=group.guess or USER_INTENT_OUT_OF_SCOPE)
        for group in groups
    ]
    written = datetime.now().strftime("%Y-%m-%d %H:%M")
    return NLU_STUB_HEADER.format(written=written) + RasaYAMLWriter().dumps(TrainingData(examples))


def add_store_arguments(parser: argparse.ArgumentParser) -> None:
    """Where the conversations and the fallback threshold are read: `make report`'s and `make
    dashboard`'s options."""
    parser.add_argument("--endpoints", type=Path, default=ROOT / "endpoints.yml")
    parser.add_argument("--domain", type=Path, default=ROOT / "domain")
    parser.add_argument(
        "--config", type=Path, default=ROOT / "config.yml", help="where the FallbackClassifier threshold is read"
    )


def open_store(args: argparse.Namespace) -> Tuple[TrackerStore, float]:
    """The tracker store of `--endpoints` and the fallback threshold of `--config`."""
    warnings.simplefilter("ignore")
    threshold = fallback_threshold(args.config)
    apply_tracker_store_defaults(os.environ)  # endpoints.yml names them; Rasa needs each one set
    return open_tracker_store(args.endpoints, args.domain), threshold


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--since",
        type=since,
        metavar="SPAN_OR_DATE",
        help="only messages since then: 30m, 12h, 7d, 2w, or a date such as 2024-05-01",
    )
    parser.add_argument(
        "--min-count", type=at_least_one, default=1, metavar="N", help="only texts asked at least N times (default 1)"
    )
    parser.add_argument("--csv", type=Path, metavar="FILE", help="write the rows to FILE, for a spreadsheet")
    parser.add_argument("--nlu", type=Path, metavar="FILE", help="write the texts to FILE as Rasa NLU data to label")
    add_store_arguments(parser)
    args = parser.parse_args(argv)
    store, threshold = open_store(args)
    messages = asyncio.run(stored_unanswered(store, threshold))
    if args.since is not None:
        messages = [message for message in messages if message.timestamp >= args.since]
    groups = grouped(messages, args.min_count)

    period = f" since {when(args.since)}" if args.since is not None else ""
    asked = f", asked {args.min_count}+ times" if args.min_count > 1 else ""
    if groups:
        print(
            f"{sum(group.count for group in groups)} unanswered messages{period}{asked}, "
            f"{len(groups)} different texts (confidence threshold {threshold:g})"
        )
    else:
        print(f"No unanswered messages{period}{asked}.")
    try:
        if args.csv:
            write_csv(groups, args.csv)
            print(f"wrote {len(groups)} rows to {args.csv}")
        if args.nlu and groups:
            with private_file(args.nlu) as out:
                out.write(nlu_stub(groups))
            print(f"wrote {len(groups)} texts to label to {args.nlu}")
        elif args.nlu:
            print(f"nothing to label: {args.nlu} not written")
    except OSError as error:
        raise SystemExit(f"cannot write {error.filename}: {error.strerror}")
    if groups and not (args.csv or args.nlu):
        print()
        print(table(groups))
    return 0


if __name__ == "__main__":
    sys.exit(main())
