"""`make purge`: conversations idle longer than the retention period are deleted, the rest are kept
whole, and one a server is answering is left alone.

On SQLite (a temporary file) and on PostgreSQL (Debian's package, a throw-away cluster on
127.0.0.1 and a free port, as in test_restart.py), seeded through Rasa's own SQLTrackerStore.save
with conversations whose events are old (the retention period of privacy/settings.yml and 10 days
more) or new (now):
- the dry run names the idle conversations and deletes nothing; the purge then deletes them, and
  every other conversation's rows stay as they were, one that began long ago but is active now too;
- `--days` overrides the setting, and 0 or less is refused;
- a conversation whose lock a server holds while it answers is not touched: the purge waits for the
  lock, then decides on what is stored by then, so the server's new turn keeps the conversation.
  In memory (in one process, as within `make run`'s server) and in Redis (from another process, as
  in the cluster);
- a conversation that gets a new event between the listing and its deletion is kept (the
  deletion's own check, which is all there is across processes with in-memory locks);
- with the lock store out of reach (the cluster's Redis down), nothing is deleted, and the purge
  says so and fails.
"""

import asyncio
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List, Tuple

import pytest
import yaml
from conftest import ROOT, debian_package, free_port
from rasa.core.tracker_store import SQLTrackerStore, TrackerStore
from rasa.core.utils import read_endpoints_from_path
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from channels.lock_store import InOrderLockStore
from ops.postgresql import PostgreSQL, server_bin
from ops.tracker_store import apply_tracker_store_defaults
from scripts.purge import (
    ACTIVE_AGAIN,
    DELETED,
    LOCK_FAILED,
    SETTINGS,
    delete_if_still_idle,
    idle_conversations,
    main,
    purge,
    retention_days,
)

RETENTION_DAYS = yaml.safe_load(SETTINGS.read_text(encoding="utf-8"))["retention_days"]
OLD_DAYS = RETENTION_DAYS + 10
DAY_S = 86400
WAIT_S = 120  # for the purge, started as its own process, to queue for a lock

# What one visitor typed and no other: after the purge, not a byte of it may be left.
UNIQUE_WORDS = "does the xylophone quokka workshop run on sundays"

Rows = List[Tuple[int, str]]


def days_ago(days: float) -> float:
    return time.time() - days * DAY_S


def seed(
    store: SQLTrackerStore, sender: str, started: float, last: float, question: str = "where was the 2019 conference?"
) -> Rows:
    """A conversation of two turns, as the servers record one, from `started` to `last`; its rows."""
    events = [
        ActionExecuted("action_session_start", timestamp=started),
        SessionStarted(timestamp=started),
        ActionExecuted("action_listen", timestamp=started),
        UserUttered("hello", timestamp=started),
        BotUttered("Hi! I'm the COPS Office's virtual assistant.", timestamp=started),
        ActionExecuted("action_listen", timestamp=started),
        UserUttered(question, timestamp=last),
        BotUttered("Pigeon Forge, Tennessee.", timestamp=last),
        ActionExecuted("action_listen", timestamp=last),
    ]
    asyncio.run(store.save(DialogueStateTracker.from_events(sender, events)))
    return rows(store, sender)


async def add_turn(store: SQLTrackerStore, sender: str) -> None:
    """What a server writes when the visitor comes back: a new message, now."""
    tracker = await store.retrieve(sender)
    tracker.update(UserUttered("I'm back: what is the response center's phone number?"))
    await store.save(tracker)


def rows(store: SQLTrackerStore, sender: str) -> Rows:
    """A conversation's events as stored: id and data, in order."""
    event = store.SQLEvent
    with store.session_scope() as session:
        found = session.query(event.id, event.data).filter(event.sender_id == sender).order_by(event.id).all()
    return [tuple(row) for row in found]


def the_store_of(env: Dict[str, str]) -> SQLTrackerStore:
    """The tracker store endpoints.yml names with these variables, as the servers open it."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in apply_tracker_store_defaults(dict(env)).items():
            patch.setenv(name, value)
        config = read_endpoints_from_path(str(ROOT / "endpoints.yml")).tracker_store
    opened = TrackerStore.create(config, Domain.empty())
    assert isinstance(opened, SQLTrackerStore)
    return opened


def run_purge(env: Dict[str, str], *args: str) -> subprocess.CompletedProcess:
    """`python -m scripts.purge`, as `make purge` runs it."""
    return subprocess.run(
        [sys.executable, "-m", "scripts.purge", *args],
        cwd=ROOT,
        env=dict(os.environ, **env),
        capture_output=True,
        text=True,
        timeout=WAIT_S,
    )


def until(condition: Callable[[], bool], what: str, timeout: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"not after {timeout} s: {what}")
        time.sleep(0.05)


def waiting_for_lock(lock_store, sender: str) -> bool:
    """Whether a second ticket (the purge's) is queued behind the one the server holds."""
    lock = lock_store.get_lock(sender)
    return lock is not None and len(lock.tickets) == 2


@pytest.fixture(scope="module")
def postgresql():
    # Not under pytest's own temporary directory, which PostgreSQL's user may not enter.
    directory = Path(tempfile.mkdtemp(prefix="cops-postgresql-"))
    server = PostgreSQL(debian_package("postgresql", server_bin), directory, free_port(), secrets.token_hex(12))
    try:
        server.start()
        yield server
    finally:
        try:
            server.stop()
        finally:
            shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def env(request, tmp_path) -> Dict[str, str]:
    """The TRACKER_STORE_* variables that choose the test's store."""
    if request.param == "sqlite":
        return {"TRACKER_STORE_DB": str(tmp_path / "conversations.db")}
    return request.getfixturevalue("postgresql").env()


@pytest.fixture
def store(env):
    opened = the_store_of(env)
    with opened.session_scope() as session:  # PostgreSQL's server is the module's: start empty
        session.query(opened.SQLEvent).delete()
        session.commit()
    yield opened
    opened.engine.dispose()


def test_the_setting_is_one_whole_number_of_days():
    assert retention_days(SETTINGS) == RETENTION_DAYS >= 1


@pytest.mark.parametrize("written", ["retention_days: 0", "retention_days: thirty", "retention_days: 7.5", "other: 1"])
def test_a_wrong_setting_is_refused_naming_the_file(tmp_path, written):
    settings = tmp_path / "settings.yml"
    settings.write_text(written + "\n", encoding="utf-8")
    with pytest.raises(SystemExit, match=f"{settings}: retention_days must be a whole number of days, 1 or more"):
        retention_days(settings)


@pytest.mark.parametrize("days", ["0", "-3", "a week"])
def test_days_below_one_are_refused(days, capsys):
    with pytest.raises(SystemExit) as refused:
        main(["--days", days])
    assert refused.value.code == 2
    assert f"{days!r} is not a whole number of 1 or more" in capsys.readouterr().err


def test_the_dry_run_names_the_idle_conversations_and_the_purge_deletes_only_them(store, env):
    idle = {
        "idle-1": seed(store, "idle-1", days_ago(OLD_DAYS + 5), days_ago(OLD_DAYS), question=UNIQUE_WORDS),
        "idle-2": seed(store, "idle-2", days_ago(OLD_DAYS + 5), days_ago(OLD_DAYS)),
    }
    kept = {
        "today": seed(store, "today", days_ago(0.01), days_ago(0)),
        # begun long ago, but the visitor came back yesterday: kept whole
        "came-back": seed(store, "came-back", days_ago(OLD_DAYS), days_ago(1)),
    }
    events = sum(len(found) for found in idle.values())

    dry = run_purge(env, "--dry-run")
    assert dry.returncode == 0, dry.stderr[-3000:]
    listed = dry.stdout
    assert f"no activity in the last {RETENTION_DAYS} days (privacy/settings.yml" in listed
    assert "idle-1" in listed and "idle-2" in listed
    assert "today" not in listed and "came-back" not in listed
    assert f"Dry run: 2 conversations ({events} events) would be deleted. Nothing was deleted." in listed
    assert {name: rows(store, name) for name in (*idle, *kept)} == {**idle, **kept}

    done = run_purge(env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"Deleted 2 conversations ({events} events)." in done.stdout
    for name in idle:
        [line] = [line for line in done.stdout.splitlines() if f"| {name} " in line]
        assert DELETED in line
    assert {name: rows(store, name) for name in idle} == {"idle-1": [], "idle-2": []}
    assert {name: rows(store, name) for name in kept} == kept
    assert [conversation.sender for conversation in idle_conversations(store, time.time())] == ["came-back", "today"]
    if env.get("TRACKER_STORE_DB", "").endswith(".db"):  # SQLite: not left readable in the file either
        assert UNIQUE_WORDS.encode() not in Path(env["TRACKER_STORE_DB"]).read_bytes()


def test_days_overrides_the_setting(store, env, monkeypatch, capsys):
    week_old = seed(store, "a-week-old", days_ago(8), days_ago(7))
    for name, value in apply_tracker_store_defaults(dict(env)).items():
        monkeypatch.setenv(name, value)  # so main's own defaults change nothing another test sees

    assert main(["--dry-run"]) == 0
    assert "Nothing to delete: every conversation had activity in the last" in capsys.readouterr().out
    assert main(["--days", "10"]) == 0
    assert rows(store, "a-week-old") == week_old
    assert main(["--days", "6"]) == 0
    assert "Deleted 1 conversation (9 events)." in capsys.readouterr().out
    assert rows(store, "a-week-old") == []


def test_without_its_lock_a_conversation_is_not_deleted_and_the_purge_says_so(store, env, monkeypatch, capsys):
    before = seed(store, "idle", days_ago(OLD_DAYS + 1), days_ago(OLD_DAYS))
    # The cluster's Redis down: nobody listens on its port.
    env = dict(env, LOCK_STORE_TYPE="redis", LOCK_STORE_URL="127.0.0.1", LOCK_STORE_PORT=str(free_port()))
    for name, value in apply_tracker_store_defaults(env).items():
        monkeypatch.setenv(name, value)

    assert main([]) == 1
    printed = capsys.readouterr().out
    [idle] = [line for line in printed.splitlines() if "| idle " in line]
    assert LOCK_FAILED in idle and "Connection refused" in idle
    assert "Deleted 0 conversations (0 events)." in printed
    assert "Not deleted, as their lock could not be taken: 1 conversation. Run make purge again." in printed
    assert rows(store, "idle") == before


def test_a_conversation_a_server_is_answering_is_left_alone_and_then_kept(store):
    before = seed(store, "returning", days_ago(OLD_DAYS + 1), days_ago(OLD_DAYS))
    seed(store, "idle", days_ago(OLD_DAYS + 1), days_ago(OLD_DAYS))
    lock_store = InOrderLockStore()  # in memory, as `make run`'s server has it

    async def scenario():
        async with lock_store.lock("returning"):  # what a server holds while it answers a message
            purging = asyncio.create_task(purge(store, lock_store, days_ago(RETENTION_DAYS)))
            deadline = time.monotonic() + 10
            while not waiting_for_lock(lock_store, "returning"):
                assert not purging.done() and time.monotonic() < deadline, "the purge did not wait for the lock"
                await asyncio.sleep(0.01)
            assert rows(store, "returning") == before
            await add_turn(store, "returning")
        return await purging

    outcomes = asyncio.run(scenario())
    assert {outcome.conversation.sender: outcome.what for outcome in outcomes} == {
        "returning": ACTIVE_AGAIN,
        "idle": DELETED,
    }
    assert rows(store, "returning")[: len(before)] == before
    assert len(rows(store, "returning")) == len(before) + 1
    assert rows(store, "idle") == []


def test_in_the_cluster_the_purge_waits_for_the_lock_a_server_holds_in_redis(store, env, redis_port):
    before = seed(store, "returning", days_ago(OLD_DAYS + 1), days_ago(OLD_DAYS))
    seed(store, "idle", days_ago(OLD_DAYS + 1), days_ago(OLD_DAYS))
    # Another process's hold on the conversation, as a Rasa server of the cluster takes it.
    server_locks = InOrderLockStore(EndpointConfig(url="127.0.0.1", store="redis", port=redis_port))
    ticket = server_locks.issue_ticket("returning", lock_lifetime=WAIT_S + 60)
    env = dict(env, LOCK_STORE_TYPE="redis", LOCK_STORE_URL="127.0.0.1", LOCK_STORE_PORT=str(redis_port))
    purging = subprocess.Popen(
        [sys.executable, "-m", "scripts.purge"],
        cwd=ROOT,
        env=dict(os.environ, **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        until(lambda: waiting_for_lock(server_locks, "returning") or purging.poll() is not None, "the purge queues")
        assert purging.poll() is None, purging.communicate()
        assert rows(store, "returning") == before
        asyncio.run(add_turn(store, "returning"))
    finally:
        server_locks.cleanup("returning", ticket)
        out, err = purging.communicate(timeout=WAIT_S)
    assert purging.returncode == 0, err[-3000:]
    [returning] = [line for line in out.splitlines() if "| returning" in line]
    assert ACTIVE_AGAIN in returning
    assert "Deleted 1 conversation (9 events)." in out
    assert len(rows(store, "returning")) == len(before) + 1
    assert rows(store, "idle") == []


def test_a_new_event_between_the_listing_and_the_deletion_keeps_the_conversation(store):
    cutoff = days_ago(RETENTION_DAYS)
    before = seed(store, "back-just-now", days_ago(OLD_DAYS + 1), days_ago(OLD_DAYS))
    assert [conversation.sender for conversation in idle_conversations(store, cutoff)] == ["back-just-now"]

    asyncio.run(add_turn(store, "back-just-now"))

    assert delete_if_still_idle(store, "back-just-now", cutoff) == 0
    after = rows(store, "back-just-now")
    assert after[: len(before)] == before and len(after) == len(before) + 1
    assert idle_conversations(store, cutoff) == []
