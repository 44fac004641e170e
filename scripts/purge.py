"""Deletes the conversations nobody has added to for longer than the retention period (`make purge`).

    make purge                      delete them: those idle longer than privacy/settings.yml's retention_days
    make purge DRY_RUN=1            only list them: which, since when, how many events; nothing is deleted
    make purge ARGS="--days 90"     another period, this once

A conversation is idle since its last event (the visitor's last message, the assistant's last reply,
whatever was recorded last); one idle longer than the period is deleted whole, every event of it.
A conversation that was active again even a moment before its turn came is kept.

Reads the tracker store named in endpoints.yml (SQLite in var/ unless the TRACKER_STORE_*
environment variables choose another: ops/tracker_store.py); SQL tracker stores only (SQLite,
PostgreSQL). It is safe to run while the assistant runs, one server (`make run`) or several (`make
cluster`): see `purge`.
"""

import argparse
import asyncio
import os
import sys
import time
import warnings
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import List, Optional, Sequence

from ops.settings import TELEMETRY

# Set before Rasa is imported: nothing may leave the machine.
os.environ.update(TELEMETRY)
# Rasa 3.6's pinned SQLAlchemy warns of its own coming version: nothing staff can act on.
os.environ["SQLALCHEMY_SILENCE_UBER_WARNING"] = "1"

import sqlalchemy as sa
import yaml
from rasa.core.lock_store import LockError, LockStore
from rasa.core.tracker_store import SQLTrackerStore
from rasa.core.utils import read_endpoints_from_path

from ops.tracker_store import apply_tracker_store_defaults, open_tracker_store
from privacy.tracker_store import overwrite_what_is_deleted
from scripts.report import at_least_one
from scripts.table import markdown_table

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = ROOT / "privacy" / "settings.yml"
SECONDS_PER_DAY = 86400

DELETED = "deleted"
ACTIVE_AGAIN = "kept: active again"
LOCK_FAILED = "not deleted: its lock could not be taken"


@dataclass(frozen=True)
class Idle:
    """A conversation as listed: its id, when its last event happened, how many events it has."""

    sender: str
    last_event: float
    events: int


@dataclass(frozen=True)
class Outcome:
    conversation: Idle
    what: str
    deleted: int = 0


def retention_days(settings: Path) -> int:
    """privacy/settings.yml's retention_days: a whole number of 1 or more."""
    try:
        days = (yaml.safe_load(settings.read_text(encoding="utf-8")) or {}).get("retention_days")
    except (OSError, yaml.YAMLError, AttributeError) as error:
        raise SystemExit(f"cannot read retention_days from {settings}: {error}")
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise SystemExit(f"{settings}: retention_days must be a whole number of days, 1 or more (it is {days!r})")
    return days


def idle_conversations(store: SQLTrackerStore, cutoff: float) -> List[Idle]:
    """The conversations whose last event is older than `cutoff`, longest idle first."""
    event = store.SQLEvent
    last = sa.func.max(event.timestamp)
    with store.session_scope() as session:
        rows = (
            session.query(event.sender_id, last, sa.func.count(event.id))
            .group_by(event.sender_id)
            .having(last < cutoff)
            .order_by(last, event.sender_id)
            .all()
        )
    return [Idle(sender, timestamp, count) for sender, timestamp, count in rows]


def delete_if_still_idle(store: SQLTrackerStore, sender: str, cutoff: float) -> int:
    """Deletes every event of `sender`'s conversation unless it has one from `cutoff` on, in one
    statement, so the check and the deletion see the same events; returns how many it deleted."""
    events = store.SQLEvent.__table__
    # An alias, or SQLAlchemy would tie the inner query to the row being deleted.
    later = events.alias("later")
    statement = events.delete().where(
        events.c.sender_id == sender,
        ~sa.exists().where(later.c.sender_id == sender, later.c.timestamp >= cutoff),
    )
    with store.session_scope() as session:
        overwrite_what_is_deleted(store, session)
        deleted = session.execute(statement).rowcount
        session.commit()
    return deleted


async def purge(store: SQLTrackerStore, lock_store: LockStore, cutoff: float) -> List[Outcome]:
    """Deletes the conversations idle since before `cutoff`, each under its lock.

    Both safeguards are needed. The lock is the one the Rasa servers take while they handle a
    message: with Redis (the cluster) it keeps every server off the conversation while it is deleted,
    and a server handling it makes the purge wait until that message is answered. But an in-memory
    lock store (`make run`) lives inside the server's process, where this one cannot see it. So the
    deletion itself checks again, in the same statement, that nothing was added since the listing:
    whatever the server has written by then keeps the conversation. What neither catches, with
    in-memory locks only, is a visitor who comes back after the whole period in the very
    milliseconds of the deletion: the server writes that turn just after it, and with it some or all
    of the old events it had read (Rasa's SQL store writes whatever of its tracker it does not find
    stored). The conversation goes on, and is not due again for a whole period.
    """
    outcomes = []
    for idle in idle_conversations(store, cutoff):
        try:
            async with lock_store.lock(idle.sender):
                deleted = delete_if_still_idle(store, idle.sender, cutoff)
        except LockError as error:
            outcomes.append(Outcome(idle, f"{LOCK_FAILED} ({' '.join(str(error).split())})"))
            continue
        outcomes.append(Outcome(idle, DELETED if deleted else ACTIVE_AGAIN, deleted))
    return outcomes


def when(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M")


def table(conversations: Sequence[Idle], outcomes: Optional[Sequence[Outcome]] = None) -> str:
    header = ["conversation", "last activity", "events"] + (["what happened"] if outcomes else [])
    rows = [[idle.sender, when(idle.last_event), str(idle.events)] for idle in conversations]
    if outcomes:
        rows = [row + [outcome.what] for row, outcome in zip(rows, outcomes)]
    return markdown_table(header, rows)


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def sql_store(endpoints: Path, domain: Path) -> SQLTrackerStore:
    store = open_tracker_store(endpoints, domain)
    if not isinstance(store, SQLTrackerStore):
        raise SystemExit(
            f"make purge deletes from an SQL tracker store (SQLite, PostgreSQL); {endpoints} names "
            f"a {type(store).__name__}"
        )
    return store


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dry-run", action="store_true", help="list what would be deleted, delete nothing")
    parser.add_argument(
        "--days",
        type=at_least_one,
        metavar="N",
        help=f"delete conversations idle longer than N days (default: retention_days in {SETTINGS.relative_to(ROOT)})",
    )
    parser.add_argument("--endpoints", type=Path, default=ROOT / "endpoints.yml")
    parser.add_argument("--domain", type=Path, default=ROOT / "domain")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")

    days = args.days or retention_days(SETTINGS)
    period = f"{plural(days, 'day')}" + ("" if args.days else f" ({SETTINGS.relative_to(ROOT)}, retention_days)")
    cutoff = time.time() - days * SECONDS_PER_DAY
    apply_tracker_store_defaults(os.environ)  # endpoints.yml names them; Rasa needs each one set
    store = sql_store(args.endpoints, args.domain)

    if args.dry_run:
        idle = idle_conversations(store, cutoff)
        if not idle:
            print(f"Nothing to delete: every conversation had activity in the last {period}.")
            return 0
        print(f"Conversations with no activity in the last {period}, since {when(cutoff)}:\n")
        print(table(idle))
        events = sum(conversation.events for conversation in idle)
        print(
            f"\nDry run: {plural(len(idle), 'conversation')} ({plural(events, 'event')}) would be deleted. "
            "Nothing was deleted."
        )
        return 0

    # In memory unless LOCK_STORE_TYPE=redis: the servers' own lock store (see purge).
    lock_store = LockStore.create(read_endpoints_from_path(args.endpoints).lock_store)
    outcomes = asyncio.run(purge(store, lock_store, cutoff))
    if not outcomes:
        print(f"Nothing to delete: every conversation had activity in the last {period}.")
        return 0
    print(f"Conversations with no activity in the last {period}, since {when(cutoff)}:\n")
    print(table([outcome.conversation for outcome in outcomes], outcomes))
    gone = [outcome for outcome in outcomes if outcome.what == DELETED]
    print(
        f"\nDeleted {plural(len(gone), 'conversation')} ({plural(sum(outcome.deleted for outcome in gone), 'event')})."
    )
    kept = sum(outcome.what == ACTIVE_AGAIN for outcome in outcomes)
    if kept:
        print(f"Kept {plural(kept, 'conversation')} that had new activity by the time its turn came.")
    failed = len(outcomes) - len(gone) - kept
    if failed:
        print(f"Not deleted, as their lock could not be taken: {plural(failed, 'conversation')}. Run make purge again.")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
