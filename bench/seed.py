"""Fills a PostgreSQL tracker store with many realistic conversations, fast: `make bench`'s
dashboard row reads 100,000 of them.

The conversations are copies of real ones. VISITS are held once with the real assistant (its action
and Rasa servers started here on free ports of 127.0.0.1, with the given model and a throw-away
SQLite store); the rows the project's tracker store wrote for them are then copied, in one COPY,
as many times as asked, each copy a new conversation id at a new time within the last DAYS days.
So every row is one the assistant wrote (masked, as stored), only the ids and times differ.

    TRACKER_STORE_DIALECT=postgresql TRACKER_STORE_PORT=... (ops/tracker_store.py) \\
        .venv/bin/python -m bench.seed --conversations 100000 [--model models/cops.tar.gz]

The store's events table is created the way Rasa creates it (its columns and index), if missing.
"""

import argparse
import json
import os
import random
import sqlite3
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path
from typing import Iterator, List, Optional, Sequence, Tuple

import yaml

from content.feedback import HELPFUL, NOT_HELPFUL
from content.feedback import payload as rating
from ops import launch, settings
from ops.process import free_local_port
from ops.tracker_store import DIALECT, apply_tracker_store_defaults, open_tracker_store
from scripts.ask import ask

ROOT = Path(__file__).resolve().parent.parent
DAYS = 30


# What visitors do, in the proportions of the list: questions answered (follow-ups, contacts,
# Spanish), rated helpful or not, "did you mean ...?" clarified or given up, out of scope, a fact
# not known, an emergency.
VISITS: Sequence[Sequence[str]] = (
    ("hi", "what is a school resource officer?", rating(HELPFUL, "what_is_sro"), "thanks"),
    ("what is the response center phone number?", "and their hours?"),
    ("where was the nasro conference in 2019?", "who opened it", rating(NOT_HELPFUL, "conference_openers")),
    ("how can my school get an SRO?", rating(NOT_HELPFUL, "get_sro"), "what is the COPS hiring program?"),
    ("what does the COPS Office do?", "who is the director?", "bye"),
    ("blorf snaggle wump", "what is nasro"),
    ("blorf snaggle wump", "frobnitz quux wobble"),
    ("what's the weather in paris?",),
    ("how much does the basic sro course cost?",),
    ("there's a man with a gun in our parking lot",),
    ("¿qué es un oficial de recursos escolares?", "¿cuál es el teléfono?"),
    ("what is the email address of the response center?", rating(HELPFUL, "ask_email")),
)

# type_name, seconds after the conversation's first row, intent_name, action_name, and the data
# as CSV text around its timestamp
Row = Tuple[str, float, str, str, str, str]


def hold(model: Path, work: Path) -> List[List[Row]]:
    """VISITS held with the real assistant serving `model`: each conversation's stored rows."""
    rasa_port, actions_port = free_local_port(), free_local_port()
    store = work / "templates.db"
    endpoints = yaml.safe_load((ROOT / "endpoints.yml").read_text(encoding="utf-8"))
    endpoints["action_endpoint"]["url"] = f"http://127.0.0.1:{actions_port}/webhook"
    endpoints_file = work / "endpoints.yml"
    endpoints_file.write_text(yaml.safe_dump(endpoints), encoding="utf-8")
    # Not the PostgreSQL store being seeded: the templates are held in a file of their own.
    env = settings.child_env()
    env.update(
        TRACKER_STORE_DIALECT="sqlite",
        TRACKER_STORE_DB=str(store),
        TRACKER_STORE_PORT="0",
        TRACKER_STORE_URL="",
        TRACKER_STORE_USER="",
        TRACKER_STORE_PASSWORD="",
    )
    apply_tracker_store_defaults(env)
    url = f"http://127.0.0.1:{rasa_port}"
    with (work / "servers.log").open("w") as log:
        action_server = launch.action_server("127.0.0.1", actions_port, log)
        rasa_server = None
        try:
            action_server.wait_until_up()
            rasa_server = launch.rasa_server(
                model,
                endpoints_file,
                ROOT / "credentials.yml",
                "127.0.0.1",
                rasa_port,
                launch.allowed_origins(),
                os.urandom(16).hex(),
                env,
                log,
            )
            rasa_server.wait_until_up()
            senders = []
            for number, visit in enumerate(VISITS):
                senders.append(f"template-{number}")
                for message in visit:
                    ask(message, senders[-1], url)
        finally:
            if rasa_server is not None:
                rasa_server.stop()
            action_server.stop()
    with closing(sqlite3.connect(store)) as database:
        return [template(database, sender) for sender in senders]


def template(database: sqlite3.Connection, sender: str) -> List[Row]:
    stored = database.execute(
        "SELECT type_name, timestamp, intent_name, action_name, data FROM events WHERE sender_id = ? ORDER BY id",
        (sender,),
    ).fetchall()
    start = stored[0][1]
    rows = []
    for kind, timestamp, intent, action, data in stored:
        event = json.loads(data)
        event["timestamp"] = "@TIMESTAMP@"
        before, after = json.dumps(event).replace('"', '""').split('""@TIMESTAMP@""')
        rows.append((kind, timestamp - start, intent or "", action or "", before, after))
    return rows


def csv_lines(templates: List[List[Row]], conversations: int, days: float, seed: int = 1) -> Iterator[str]:
    """The rows of `conversations` copies, as CSV for COPY (an unquoted empty field is NULL)."""
    chosen = random.Random(seed)
    end = time.time()
    start = end - days * 86400
    for number in range(conversations):
        sender = f"seed-{number:06d}"
        began = start + (end - start - 3600) * number / conversations + chosen.uniform(0, 60)
        for kind, offset, intent, action, before, after in templates[number % len(templates)]:
            timestamp = repr(began + offset)
            yield f'{sender},{kind},{timestamp},{intent},{action},"{before}{timestamp}{after}"\n'


class Lines:
    """A file to read from, for COPY, made of the lines an iterator gives."""

    def __init__(self, lines: Iterator[str]) -> None:
        self.lines = lines
        self.buffer = ""

    def read(self, size: int = -1) -> str:
        while size < 0 or len(self.buffer) < size:
            chunk = "".join(line for _, line in zip(range(2000), self.lines))
            if not chunk:
                break
            self.buffer += chunk
        if size < 0:
            found, self.buffer = self.buffer, ""
        else:
            found, self.buffer = self.buffer[:size], self.buffer[size:]
        return found


def seed(templates: List[List[Row]], conversations: int, days: float = DAYS) -> int:
    """Appends the copies to the store of the TRACKER_STORE_* variables; returns the rows written."""
    store = open_tracker_store(ROOT / "endpoints.yml", ROOT / "domain")  # creates Rasa's table if missing
    columns = "sender_id, type_name, timestamp, intent_name, action_name, data"
    connection = store.engine.raw_connection()
    try:
        with connection.cursor() as cursor:
            cursor.copy_expert(
                f"COPY events ({columns}) FROM STDIN WITH (FORMAT csv)",
                Lines(csv_lines(templates, conversations, days)),
                size=1 << 20,
            )
            written = cursor.rowcount
        connection.commit()
        with connection.cursor() as cursor:
            connection.set_isolation_level(0)  # VACUUM runs outside a transaction
            cursor.execute("VACUUM ANALYZE events")
    finally:
        connection.close()
    return written


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--days", type=float, default=DAYS, help=f"spread over the last DAYS days (default {DAYS})")
    parser.add_argument("--model", type=Path, default=settings.MODEL, help="the model the templates are held with")
    args = parser.parse_args(argv)
    if not args.model.is_file():
        raise SystemExit(f"{args.model} does not exist: `make train` first, or name one with --model")
    apply_tracker_store_defaults(os.environ)
    if os.environ[DIALECT] != "postgresql":
        raise SystemExit(f"bench.seed fills a PostgreSQL store: set {DIALECT}=postgresql and the rest (README.md)")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="cops-seed-") as work:
        templates = hold(args.model, Path(work))
    held = time.perf_counter()
    written = seed(templates, args.conversations, args.days)
    print(
        f"{args.conversations} conversations ({written} rows) copied from {len(templates)} held with the assistant "
        f"in {held - started:.0f} s, written in {time.perf_counter() - held:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
