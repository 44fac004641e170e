"""Nothing lost: a conversation goes on after the servers are stopped (Ctrl-C) and started again.

Twice: with SQLite, the default, and with PostgreSQL, chosen only by the TRACKER_STORE_* variables
(endpoints.yml). PostgreSQL is Debian's package, installed here if missing (`make test` installs it
first), running as a throw-away cluster in a temporary directory, on 127.0.0.1 and a free port;
it is stopped and removed at the end.

Each time: three questions over REST; the tracker's events from the HTTP API; every server
stopped; the events as stored in the database (read directly, not through Rasa) must be those;
servers started again on the same store: the HTTP API gives the same events; a follow-up question
in the same conversation is answered, and its events come after the old ones, none of which is
changed, lost or stored twice.

Also: with no variable set, endpoints.yml as Rasa reads it is SQLite in var/ (the defaults of
ops/tracker_store.py), and a PostgreSQL setting that lacks a variable is refused naming it.
"""

import json
import secrets
import shutil
import sqlite3
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, List

import pytest
import requests
from conftest import ROOT, Assistant, debian_package, free_port

from ops.postgresql import PostgreSQL, Row, server_bin
from ops.tracker_store import apply_tracker_store_defaults

QUESTIONS = [
    ("hello", "COPS Office's virtual assistant"),
    ("where was the nasro 2019 conference held?", "Pigeon Forge, Tennessee"),
    ("who opened the 2019 conference", "Phil Keith"),
]
FOLLOW_UP = ("how many people attended the nasro conference", "2,100")


@dataclass
class Store:
    """A tracker store: the variables that choose it, and its rows of one conversation."""

    env: dict
    rows: Callable[[str], List[Row]]


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    if request.param == "sqlite":
        # Only the file is named: the dialect and the rest are the defaults.
        path = tmp_path / "conversations.db"

        def rows(sender: str) -> List[Row]:
            with sqlite3.connect(path) as db:
                found = db.execute(
                    "SELECT id, type_name, data FROM events WHERE sender_id = ? ORDER BY id", (sender,)
                ).fetchall()
            return [(id_, kind, json.loads(data)) for id_, kind, data in found]

        return Store({"TRACKER_STORE_DB": str(path)}, rows)
    return request.getfixturevalue("postgresql_store")


def text_of(replies: list) -> str:
    return "\n".join(reply.get("text", "") for reply in replies)


def start(tmp: Path, store: Store) -> Assistant:
    tmp.mkdir()
    assistant = Assistant(tmp, env=store.env)
    try:
        assistant.wait_until_ready()
    except BaseException:
        assistant.stop()
        raise
    return assistant


def tracker_events(assistant: Assistant, sender: str) -> list:
    answer = requests.get(
        f"{assistant.url}/conversations/{sender}/tracker",
        params={"token": assistant.token, "include_events": "ALL"},
        timeout=30,
    )
    answer.raise_for_status()
    return answer.json()["events"]


@pytest.mark.timeout(1500)  # two start-ups of the servers, and perhaps installing PostgreSQL
def test_a_conversation_goes_on_after_a_restart(store, tmp_path):
    sender = f"restart-{uuid.uuid4()}"

    first = start(tmp_path / "first", store)
    try:
        for question, fact in QUESTIONS:
            assert fact in text_of(first.ask(question, sender)), question
        before = tracker_events(first, sender)
    finally:
        first.stop()
    assert first.process.returncode == 0, "Ctrl-C did not stop the servers cleanly"
    assert [event.get("text") for event in before if event["event"] == "user"] == [q for q, _ in QUESTIONS]

    # With every server stopped, the database itself holds the whole conversation.
    stored = store.rows(sender)
    assert [data for _, _, data in stored] == before
    assert [kind for _, kind, _ in stored] == [event["event"] for event in before]

    second = start(tmp_path / "second", store)
    try:
        assert tracker_events(second, sender) == before
        question, fact = FOLLOW_UP
        assert fact in text_of(second.ask(question, sender))
        after = tracker_events(second, sender)
    finally:
        second.stop()

    # The old events come first, unchanged; then the follow-up's, in the same session.
    assert after[: len(before)] == before
    added = after[len(before) :]
    assert [event.get("text") for event in added if event["event"] == "user"] == [question]
    assert "session_started" not in [event["event"] for event in added]
    # In the database: the old rows kept their ids and data, the new ones follow, none twice.
    stored_after = store.rows(sender)
    assert stored_after[: len(stored)] == stored
    assert [data for _, _, data in stored_after] == after
    assert len({json.dumps(data, sort_keys=True) for _, _, data in stored_after}) == len(stored_after)


def test_with_nothing_set_conversations_go_to_sqlite_in_var():
    """endpoints.yml as Rasa reads it, with the defaults every entry point applies."""
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.core.utils import read_endpoints_from_path
    from rasa.shared.utils.common import class_from_module_path

    env = apply_tracker_store_defaults({})
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        config = read_endpoints_from_path(str(ROOT / "endpoints.yml")).tracker_store
    # Rasa's SQL store, masking personal data (privacy/tracker_store.py).
    assert issubclass(class_from_module_path(config.type), SQLTrackerStore)
    url = SQLTrackerStore.get_db_url(host=config.url, **config.kwargs)
    # What SQLite gets: that file, and nothing it would refuse (a host, a port, a user).
    from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite

    assert (url.drivername, url.database) == ("sqlite", "var/conversations.db")
    SQLiteDialect_pysqlite().create_connect_args(url)  # raises "Invalid SQLite URL" otherwise


def test_what_is_set_is_kept_and_what_postgresql_lacks_is_named():
    given = {
        "TRACKER_STORE_DIALECT": "postgresql",
        "TRACKER_STORE_URL": "127.0.0.1",
        "TRACKER_STORE_PORT": "5433",
        "TRACKER_STORE_DB": "rasa",
    }
    applied = apply_tracker_store_defaults(dict(given))
    assert {name: value for name, value in applied.items() if name.startswith("TRACKER_STORE_")} == dict(
        given, TRACKER_STORE_USER="", TRACKER_STORE_PASSWORD=""
    )
    with pytest.raises(SystemExit, match="needs TRACKER_STORE_PORT and TRACKER_STORE_DB"):
        apply_tracker_store_defaults({"TRACKER_STORE_DIALECT": "postgresql"})


# --- PostgreSQL: Debian's package, a throw-away cluster ------------------------------------------


@pytest.fixture
def postgresql_store():
    # Characters that would break a URL written by hand.
    password = "p@ss:w/rd-" + secrets.token_hex(8)
    directory = Path(tempfile.mkdtemp(prefix="cops-postgresql-"))
    server = PostgreSQL(debian_package("postgresql", server_bin), directory, free_port(), password)
    try:
        server.start()
        yield Store(server.env(), server.rows)
    finally:
        try:
            server.stop()
        finally:
            shutil.rmtree(directory, ignore_errors=True)
