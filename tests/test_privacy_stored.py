"""Nothing a visitor types that is personal data is kept in clear, anywhere.

Every message of tests/pii_corpus.yml goes to the running assistant, started as `make run` starts
it, through REST and through socket.io (the widget's channel), twice: with SQLite and conversation
locks in memory (`make run`'s default), and with PostgreSQL and the Redis lock store (the
cluster's). The Rasa server logs at debug level, where it quotes every message. Then every byte
kept is read back: the SQLite file, PostgreSQL's data and write-ahead log after a checkpoint,
Redis's keys and its saved snapshot, the servers' log, `make report`'s table, CSV and NLU file, and
`make story`'s export. None holds a raw value of the corpus, however its digits are spaced; the
look-alikes (the office's own phone and address, figures and dates of the answers) are stored intact.
"""

import asyncio
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path
from typing import Callable, Dict, List

import pytest
import socketio
from conftest import ROOT, Assistant, debian_package, free_port
from test_privacy import LOOK_ALIKES, PERSONAL

from ops.postgresql import PostgreSQL, server_bin

REDIS = Path("/usr/bin/redis-server")


# The kinds that are their digits, however written: a date of birth's digits are no such thing.
NUMBERS = {"phone", "ssn", "card"}
# Rasa's event timestamps, in seconds with their fraction: digits that are no one's.
TIMESTAMP = re.compile(rb"\b1\d{9}\.\d+")


def raw_values_in(data: bytes) -> List[str]:
    """The corpus's personal values that `data` holds, each with where it is: as typed or as JSON
    writes it (in any case), or, for a phone, social security or card number, its digits with up to
    3 spaces, brackets, dots, dashes or slashes between each two (but for the digits of the
    look-alikes, kept on purpose)."""
    values = sorted({value for item in PERSONAL for value in item["values"]})
    numbers = sorted(
        {value for item in PERSONAL for value, kind in zip(item["values"], item["kinds"]) if kind in NUMBERS}
    )
    lowered = data.lower()

    def context(start: int, end: int) -> str:
        return f"{data[max(start - 60, 0) : end + 60]!r}"

    found = {}
    for value in values:
        for form in {value.lower().encode(), json.dumps(value)[1:-1].lower().encode()}:
            at = lowered.find(form)
            if at >= 0:
                found[value] = context(at, at + len(form))
    kept_digits = {re.sub(r"\D", "", kept).encode() for item in LOOK_ALIKES for kept in item["keep"]}
    # Separators as people and programs write numbers: not any byte, or a table of the bytes 0 to
    # 255 in a database file would hold every number.
    for run in re.finditer(rb"\d(?:[ ().+/\\-]{0,3}\d){6,}", TIMESTAMP.sub(b"|", data)):
        digits = re.sub(rb"\D", b"", run.group())
        for kept in kept_digits:
            if len(kept) >= 7:
                digits = digits.replace(kept, b"|")
        for value in numbers:
            if re.sub(r"\D", "", value).encode() in digits:
                found.setdefault(value, context(run.start(), run.end()))
    return [f"{value} in {where}" for value, where in sorted(found.items())]


def files_bytes(*paths: Path) -> bytes:
    found = b""
    for path in paths:
        for file in [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file()):
            try:
                found += file.read_bytes()
            except FileNotFoundError:
                # A running PostgreSQL replaces its caches (pg_internal.init) at any moment: a file
                # gone between listing and reading holds nothing any more.
                continue
    return found


# --- sending -------------------------------------------------------------------------------------


def send_by_rest(assistant: Assistant, texts: List[str], prefix: str) -> List[str]:
    senders = []
    for i, text in enumerate(texts):
        sender = f"{prefix}-{i}-{uuid.uuid4().hex[:6]}"
        assistant.ask(text, sender)
        senders.append(sender)
    return senders


async def send_by_socketio(assistant: Assistant, texts: List[str], session: str) -> int:
    """Sends each text in one widget session, waiting for its answer; returns the answers' count."""
    received: list = []
    client = socketio.AsyncClient(reconnection=False)
    client.on("bot_uttered", lambda data: received.append(data))
    await client.connect(
        assistant.url, headers={"Origin": assistant.origin}, transports=["polling"], socketio_path="socket.io"
    )
    await client.emit("session_request", {"session_id": session})
    for text in texts:
        before = len(received)
        await client.emit("user_uttered", {"message": text, "session_id": session, "customData": {}})
        deadline = time.monotonic() + 30
        while len(received) == before and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        quiet_since = len(received)
        await asyncio.sleep(0.1)
        while len(received) != quiet_since:
            quiet_since = len(received)
            await asyncio.sleep(0.1)
        assert len(received) > before, f"no answer by socket.io to {text!r}"
    await client.disconnect()
    return len(received)


def run_script(assistant: Assistant, env: Dict[str, str], *args: str) -> str:
    finished = subprocess.run(
        [sys.executable, "-m", *args, "--endpoints", str(assistant.endpoints)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    return finished.stdout + finished.stderr


def checkpoint(database: PostgreSQL) -> None:
    """Has PostgreSQL write every change to its data files (as its superuser: CHECKPOINT needs it)."""
    database.run(
        "psql",
        "--host",
        str(database.dir),
        "--port",
        str(database.port),
        "--username",
        "postgres",
        "--dbname",
        "postgres",
        "--quiet",
        "--command",
        "CHECKPOINT",
    )


def user_texts(query: Callable, placeholder: str, senders: List[str]) -> List[List[str]]:
    """What the store holds of each conversation's messages, read with `query` (the driver's own)."""
    sql = f"SELECT data FROM events WHERE sender_id = {placeholder} AND type_name = 'user' ORDER BY id"
    return [[json.loads(data)["text"] for (data,) in query(sql, (sender,))] for sender in senders]


# --- the stores ------------------------------------------------------------------------------------


class Redis:
    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.directory = directory
        (directory / "redis.conf").write_text(
            f"bind 127.0.0.1\nport {self.port}\nprotected-mode yes\ndir {directory}\ndbfilename dump.rdb\n"
            'save ""\nappendonly no\ndaemonize no\n',
            encoding="utf-8",
        )
        self.process = subprocess.Popen([str(REDIS), str(directory / "redis.conf")], stdout=subprocess.DEVNULL)

    def client(self):
        import redis  # installed with Rasa, which uses it for the lock store

        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=5)

    def wait(self) -> None:
        import redis

        for _ in range(100):
            try:
                self.client().ping()
                return
            except redis.exceptions.ConnectionError:
                time.sleep(0.1)
        pytest.fail("Redis did not start")

    def everything(self) -> bytes:
        """Every key and value it holds now, and its snapshot on disk."""
        client = self.client()
        held = b"".join(key + (client.dump(key) or b"") for key in client.scan_iter())
        client.save()
        return held + (self.directory / "dump.rdb").read_bytes()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)


@pytest.fixture(params=["sqlite, locks in memory", "postgresql, locks in redis"])
def kept(request, tmp_path):
    """Runs the assistant on one configuration, sends it the corpus, and returns every byte it
    kept, the stored text of each look-alike, and how many conversations were held."""
    directory = Path(tempfile.mkdtemp(prefix="cops-privacy-"))
    directory.chmod(0o711)  # PostgreSQL's user enters it
    env: Dict[str, str] = {"LOG_LEVEL": "DEBUG"}
    database = redis = None
    try:
        if request.param.startswith("postgresql"):
            (directory / "pg").mkdir()
            database = PostgreSQL(debian_package("postgresql", server_bin), directory / "pg", free_port(), "pw")
            database.start()
            debian_package("redis-server", lambda: REDIS if REDIS.exists() else None)
            (directory / "redis").mkdir()
            redis = Redis(directory / "redis")
            redis.wait()
            env.update(
                database.env(), LOCK_STORE_TYPE="redis", LOCK_STORE_URL="127.0.0.1", LOCK_STORE_PORT=str(redis.port)
            )
        assistant = Assistant(tmp_path, env)
        try:
            assistant.wait_until_ready()
            texts = [item["text"] for item in PERSONAL + LOOK_ALIKES]
            # Both channels at once, as visitors would: the test takes half the time.
            with ThreadPoolExecutor(max_workers=1) as rest:
                sent = rest.submit(send_by_rest, assistant, texts, "privacy")
                answers = asyncio.run(send_by_socketio(assistant, texts, f"privacy-widget-{uuid.uuid4().hex[:6]}"))
                senders = sent.result()
            assert answers >= len(texts)
            time.sleep(1)  # the last turn is saved after its answer is sent
        finally:
            assistant.stop()

        script_env = dict(os.environ, **env)
        outputs = tmp_path / "outputs"
        outputs.mkdir()
        shown = run_script(
            assistant,
            script_env,
            "scripts.report",
            "--csv",
            str(outputs / "report.csv"),
            "--nlu",
            str(outputs / "report_nlu.yml"),
        )
        # The conversations with the most personal values, each a process of its own to export.
        richest = sorted(range(len(PERSONAL)), key=lambda i: -len(PERSONAL[i]["values"]))[:3]
        for sender in [senders[i] for i in richest]:
            shown += run_script(assistant, script_env, "scripts.story", sender)

        look_alike_senders = senders[len(PERSONAL) :]
        if database is not None:
            checkpoint(database)
            stored = files_bytes(database.data) + redis.everything()
            look_alikes = user_texts(database.query, "%s", look_alike_senders)
        else:
            stored = files_bytes(*assistant.db.parent.glob(assistant.db.name + "*"))
            with closing(sqlite3.connect(assistant.db)) as connection:
                look_alikes = user_texts(
                    lambda sql, parameters: connection.execute(sql, parameters).fetchall(), "?", look_alike_senders
                )
        yield {
            "store": stored,
            "logs": assistant.log_path.read_bytes(),
            "report and stories": shown.encode() + files_bytes(outputs),
            "look-alikes": look_alikes,
        }
    finally:
        if redis is not None:
            redis.stop()
        if database is not None:
            database.stop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.mark.timeout(1500)
def test_no_personal_value_is_kept_and_look_alikes_are_intact(kept):
    # The logs are at debug level, where Rasa quotes each message: they must hold the masked text.
    assert b"[SSN]" in kept["logs"] and b"[EMAIL]" in kept["logs"]
    assert b"[PHONE]" in kept["store"] or b"[PHONE]" in kept["report and stories"]
    for where in ("store", "logs", "report and stories"):
        assert raw_values_in(kept[where]) == [], f"personal data in clear in the {where}"
    for item, stored in zip(LOOK_ALIKES, kept["look-alikes"]):
        assert stored == [item["text"]], f"a look-alike was changed when stored: {item['text']!r} -> {stored}"
