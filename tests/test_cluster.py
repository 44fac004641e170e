"""Scale out: two Rasa servers and two action servers behind nginx, sharing PostgreSQL and Redis
(ops/cluster.py, what `make cluster` starts), on free ports of 127.0.0.1 and in a temporary
directory. nginx, Redis and PostgreSQL are Debian's packages, installed here if missing (`make test`
installs them first); the test is skipped, saying why, only where one cannot be installed.

20 visitors, each in its own conversation, talk to nginx over REST in three rounds:
1. both Rasa servers and both action servers up: every answer right, and each server took traffic;
2. one Rasa server and one action server are killed (SIGKILL, a crash) once 40 answers are in;
3. supervisor has started both again by itself, and each takes traffic again (nginx's log names who
   answered what).

What a crash costs, by design: nginx passes a request to another server only when the dead one
refused it (it never saw it). A request the Rasa server died handling gets 502: the visitor's client
asks the tracker (HTTP API, through nginx) whether the turn was recorded, and sends it again at once
only if not, so no turn is recorded twice or lost. A conversation the
dead server was handling stays locked in Redis until its ticket expires (Rasa's TICKET_LOCK_LIFETIME,
here LOCK_LIFETIME_S; channels/lock_store.py keeps the waiting messages' tickets alive): meanwhile that visitor
gets channels/guard.py's answer (the Response Center's contacts) within 4 s, and the messages are
answered, in order, once the lock expires. An action server dying costs nothing: nginx sends the
action call again to the other one (actions keep no state).

In PostgreSQL, read directly: each visitor's messages are all there, each once, in the order sent;
after each, the replies the visitor received (or, where it got the guard's answer, its real answer,
given once the lock expired), each once; nothing is lost or doubled.

Also: socket.io through nginx, polling upgraded to a websocket, each visitor kept on one server and
visitors spread over both; and stopping the cluster leaves nothing running or listening.
"""

import asyncio
import json
import re
import shutil
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

import aiohttp
import pytest
from conftest import debian_package, listening_addresses
from test_load import FALLBACK_PREFIX, QUESTIONS, marker

from ops import cluster as cluster_module
from ops.postgresql import server_bin

VISITORS = 20
ROUNDS = {"both up": 4, "one of each killed": 8, "restarted": 3}
KILL_AFTER_ANSWERS = 40
LOCK_LIFETIME_S = 20
REQUEST_TIMEOUT_S = 60
ROUND_TIMEOUT_S = 150


def _installed(path: Path):
    return lambda: path if path.exists() else None


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    debian_package("nginx", _installed(cluster_module.NGINX))
    debian_package("redis-server", _installed(cluster_module.REDIS))
    debian_package("postgresql", server_bin)
    # Not under pytest's own temporary directory, which PostgreSQL's user may not enter.
    directory = Path(tempfile.mkdtemp(prefix="cops-cluster-"))
    directory.chmod(0o711)
    try:
        yield cluster_module.start(
            cluster_module.Ports.free(rasa_servers=2),
            directory=directory,
            env={"TICKET_LOCK_LIFETIME": str(LOCK_LIFETIME_S)},
        )
    finally:
        try:
            cluster_module.stop(directory)
        finally:
            # The servers' and nginx's logs stay with pytest's temporary files (the last 3 runs).
            kept = tmp_path_factory.getbasetemp() / "cluster-logs"
            shutil.copytree(directory / "logs", kept, dirs_exist_ok=True)
            if (directory / "nginx").exists():
                shutil.copytree(
                    directory / "nginx", kept / "nginx", dirs_exist_ok=True, ignore=shutil.ignore_patterns("temp")
                )
            shutil.rmtree(directory, ignore_errors=True)


# --- the lock store, as Rasa reads endpoints.yml --------------------------------------------------


def lock_store_of(env: Dict[str, str]):
    from rasa.core.lock_store import LockStore
    from rasa.core.utils import read_endpoints_from_path

    from ops.tracker_store import apply_tracker_store_defaults

    applied = apply_tracker_store_defaults(dict(env))
    with pytest.MonkeyPatch.context() as patch:
        for name, value in applied.items():
            patch.setenv(name, value)
        config = read_endpoints_from_path(str(cluster_module.ROOT / "endpoints.yml")).lock_store
        return LockStore.create(config)


def test_with_nothing_set_locks_stay_in_memory():
    from rasa.core.lock_store import InMemoryLockStore

    assert isinstance(lock_store_of({}).storage, InMemoryLockStore)


def test_the_lock_store_variables_choose_redis():
    from rasa.core.lock_store import RedisLockStore

    store = lock_store_of(
        {
            "LOCK_STORE_TYPE": "redis",
            "LOCK_STORE_URL": "127.0.0.1",
            "LOCK_STORE_PORT": "6390",
            "LOCK_STORE_PASSWORD": "not-a-real-one",
        }
    )
    assert isinstance(store.storage, RedisLockStore)
    settings = store.storage.red.connection_pool.connection_kwargs
    assert (settings["host"], settings["port"], settings["db"], settings["password"]) == (
        "127.0.0.1",
        6390,
        1,
        "not-a-real-one",
    )


def test_redis_without_its_host_is_refused_naming_it():
    from ops.tracker_store import apply_tracker_store_defaults

    with pytest.raises(SystemExit, match="LOCK_STORE_TYPE=redis needs LOCK_STORE_URL"):
        apply_tracker_store_defaults({"LOCK_STORE_TYPE": "redis"})


# --- visitors over REST ----------------------------------------------------------------------------


@dataclass
class Turn:
    visitor: int
    number: int  # 1-based, over the three rounds
    round: str
    text: str
    fact: str
    sent_at: float = 0.0
    status: Optional[int] = None
    replies: list = field(default_factory=list)
    error: Optional[str] = None
    failures: List[str] = field(default_factory=list)  # what the tries before the last one got
    recorded_before_failure: bool = False  # a 502 whose turn the tracker already had: not resent

    @property
    def answered(self) -> bool:
        return self.status == 200 and bool(self.replies)

    @property
    def fallback(self) -> bool:
        return any((reply.get("text") or "").startswith(FALLBACK_PREFIX) for reply in self.replies)


def plan(visitor: int) -> List[Turn]:
    """The visitor's messages over the three rounds: questions answered by custom actions (contacts)
    and by domain answers followed by a custom action's link; each marked with visitor and turn, and
    rotating so that at any moment the visitors ask different things."""
    turns, number = [], 0
    for round_, count in ROUNDS.items():
        for _ in range(count):
            number += 1
            intent, phrasings, fact = QUESTIONS[(visitor + number) % len(QUESTIONS)]
            text = f"{phrasings[(visitor + number) % len(phrasings)]} {marker(visitor, number)}"
            turns.append(Turn(visitor, number, round_, text, fact))
    return turns


def sender_of(run: str, visitor: int) -> str:
    return f"cluster-{run}-visitor-{visitor:02d}"


class Visitors:
    def __init__(self, cluster: cluster_module.Cluster, run: str) -> None:
        self.cluster = cluster
        self.senders = {v: sender_of(run, v) for v in range(1, VISITORS + 1)}
        self.turns = {v: plan(v) for v in self.senders}
        self.answers = 0

    async def post(self, session: aiohttp.ClientSession, sender: str, turn: Turn) -> None:
        turn.sent_at = time.monotonic()
        try:
            async with session.post(
                f"{self.cluster.url}/webhooks/rest/webhook",
                json={"sender": sender, "message": turn.text},
                timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S),
            ) as response:
                turn.status, turn.error = response.status, None
                turn.replies = await response.json(content_type=None) if response.status == 200 else []
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
            turn.status, turn.error = None, f"{type(error).__name__}: {error}"

    async def recorded(self, session: aiohttp.ClientSession, sender: str, text: str) -> bool:
        async with session.get(
            f"{self.cluster.url}/conversations/{sender}/tracker",
            params={"token": self.cluster.token, "include_events": "ALL"},
            timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S),
        ) as response:
            response.raise_for_status()
            events = (await response.json())["events"]
        return any(event["event"] == "user" and event.get("text") == text for event in events)

    async def visit(self, session: aiohttp.ClientSession, visitor: int, round_: str) -> None:
        sender = self.senders[visitor]
        for turn in [turn for turn in self.turns[visitor] if turn.round == round_]:
            await self.post(session, sender, turn)
            if turn.status in (502, 503, 504) or turn.error:
                # Sent again only if no server recorded it: a resend must not record the turn twice.
                turn.failures.append(turn.error or f"HTTP {turn.status}")
                if await self.recorded(session, sender, turn.text):
                    turn.recorded_before_failure = True
                    self.answers += 1
                    continue
                # At once: the resend queues right behind the dead server's ticket. Rasa's own lock
                # stores lost about half of those (channels/lock_store.py says why).
                await self.post(session, sender, turn)
            self.answers += 1
            if not turn.answered:
                return  # the rest of this conversation would not tell anything more

    async def round(self, round_: str, during=None) -> float:
        """Every visitor's messages of this round, all visitors at once; `during` runs meanwhile."""
        started = time.monotonic()
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=2 * VISITORS)) as session:
            tasks = [self.visit(session, v, round_) for v in self.senders]
            if during is not None:
                tasks.append(during)
            await asyncio.wait_for(asyncio.gather(*tasks), ROUND_TIMEOUT_S)
        return time.monotonic() - started

    def of_round(self, round_: str) -> List[Turn]:
        return [turn for turns in self.turns.values() for turn in turns if turn.round == round_]


def answer_problems(turns: List[Turn], fallback_allowed=lambda turn: False) -> List[str]:
    problems = []
    for turn in turns:
        where = f"visitor {turn.visitor} turn {turn.number} {turn.text!r}"
        if turn.recorded_before_failure:
            continue
        if not turn.answered:
            problems.append(f"{where}: no answer ({turn.error or f'HTTP {turn.status}'}; before: {turn.failures})")
        elif turn.fallback and not fallback_allowed(turn):
            problems.append(f"{where}: the fallback answer {turn.replies!r}")
        elif not turn.fallback and not any(turn.fact in (reply.get("text") or "") for reply in turn.replies):
            problems.append(f"{where}: expected {turn.fact!r}, got {turn.replies!r}")
    return problems


ACCESS_LINE = re.compile(
    r'"(?P<method>\w+) (?P<uri>\S+)" (?P<status>\d+) upstream=(?P<upstream>\S+) '
    r"upstream_status=(?P<upstream_status>\S+)"
)


REST, ACTIONS = "/webhooks/rest/webhook", "/webhook"


def served(cluster: cluster_module.Cluster, since: int, path: str) -> Counter:
    """Requests for `path` nginx logged after byte `since` of its log, by the server that answered
    them (200s only)."""
    counts: Counter = Counter()
    with cluster.access_log.open("rb") as log:
        log.seek(since)
        for line in log.read().decode().splitlines():
            found = ACCESS_LINE.search(line)
            if found and found["uri"] == path and found["status"] == "200":
                # After a refused connection nginx names both servers: the last one answered.
                counts[found["upstream"].split(", ")[-1]] += 1
    return counts


def log_size(cluster: cluster_module.Cluster) -> int:
    return cluster.access_log.stat().st_size


def addresses(ports) -> List[str]:
    return [f"127.0.0.1:{port}" for port in ports]


def stored(cluster: cluster_module.Cluster, senders: Dict[int, str]) -> Dict[str, List[tuple]]:
    """Each visitor's events in PostgreSQL, read directly (not through Rasa), in the order stored."""
    found: Dict[str, List[tuple]] = {sender: [] for sender in senders.values()}
    rows = cluster.postgresql().query(
        "SELECT sender_id, type_name, data FROM events WHERE sender_id = ANY(%s) ORDER BY id", (list(senders.values()),)
    )
    for sender, kind, data in rows:
        found[sender].append((kind, json.loads(data)))
    return found


def stored_problems(events: List[tuple], turns: List[Turn], sender: str) -> List[str]:
    sent = [turn.text for turn in turns]
    stored_user = [event.get("text") for kind, event in events if kind == "user"]
    if stored_user != sent:
        return [f"{sender}: user messages stored {stored_user!r}, sent {sent!r}"]
    recorded: List[List[str]] = []
    for kind, event in events:
        if kind == "user":
            recorded.append([])
        elif kind == "bot" and recorded:
            recorded[-1].append(event.get("text") or "")
    problems = []
    for turn, bot_texts in zip(turns, recorded):
        where = f"{sender} turn {turn.number} {turn.text!r}"
        if turn.fallback or turn.recorded_before_failure:
            # Answered by the server that got the lock once it expired, or by the one that died.
            if not bot_texts or not any(turn.fact in text for text in bot_texts):
                problems.append(f"{where}: stored replies {bot_texts!r} do not give {turn.fact!r}")
            if len(set(bot_texts)) != len(bot_texts):
                problems.append(f"{where}: a reply stored twice: {bot_texts!r}")
        elif bot_texts != [reply.get("text") or "" for reply in turn.replies]:
            problems.append(f"{where}: stored replies {bot_texts!r}, received {turn.replies!r}")
    return problems


def wait_until_stored(cluster: cluster_module.Cluster, visitors: Visitors, timeout_s: float) -> Dict[str, list]:
    """Messages answered with the guard's fallback are still being handled: wait for them."""
    deadline = time.monotonic() + timeout_s
    while True:
        events = stored(cluster, visitors.senders)
        complete = all(
            sum(1 for kind, _ in events[sender] if kind == "user") >= len(visitors.turns[v])
            for v, sender in visitors.senders.items()
        )
        if complete or time.monotonic() > deadline:
            return events
        time.sleep(1)


@pytest.mark.timeout(420)
def test_twenty_visitors_lose_and_double_nothing_through_a_killed_rasa_and_action_server(cluster):
    run = uuid.uuid4().hex[:8]
    visitors = Visitors(cluster, run)
    rasa_1, rasa_2 = addresses(cluster.ports.rasa)
    actions_1, actions_2 = addresses(cluster.ports.actions)
    report = []

    # 1. Both up: nginx spreads the visitors over both Rasa servers, and their action calls over
    #    both action servers.
    mark = log_size(cluster)
    seconds = asyncio.run(visitors.round("both up"))
    problems = answer_problems(visitors.of_round("both up"))
    assert not problems, "\n".join(problems[:30])
    rasa, actions = served(cluster, mark, REST), served(cluster, mark, ACTIONS)
    memory = {name: f"{size / 2**20:.0f} MB" for name, size in cluster.memory().items()}
    report.append(
        f"both up: {len(visitors.of_round('both up'))} answers in {seconds:.1f} s; "
        f"Rasa servers {dict(rasa)}, action servers {dict(actions)}; resident memory {memory}"
    )
    assert rasa[rasa_1] > 0 and rasa[rasa_2] > 0, f"nginx did not use both Rasa servers: {rasa}"
    assert actions[actions_1] > 0 and actions[actions_2] > 0, f"nor both action servers: {actions}"

    # 2. Mid-load, a crash of one of each.
    killed_at: List[float] = []
    killed_pids: List[int] = []

    async def crash() -> None:
        while visitors.answers < VISITORS * ROUNDS["both up"] + KILL_AFTER_ANSWERS:
            await asyncio.sleep(0.05)
        killed_at.append(time.monotonic())
        killed_pids.extend([cluster.pid("rasa-1"), cluster.pid("actions-1")])
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, cluster.kill, "rasa-1")
        await loop.run_in_executor(None, cluster.kill, "actions-1")

    mark = log_size(cluster)
    seconds = asyncio.run(visitors.round("one of each killed", during=crash()))
    assert killed_at, "the servers were never killed: the visitors finished first"
    turns = visitors.of_round("one of each killed")
    hit = {turn.visitor for turn in turns if turn.failures}

    def fallback_allowed(turn: Turn) -> bool:
        # Only a conversation the dead server held, and only until its lock expired.
        return turn.visitor in hit and turn.sent_at < killed_at[0] + LOCK_LIFETIME_S + 5

    problems = answer_problems(turns, fallback_allowed)
    failed = [turn for turn in turns if turn.failures]
    report.append(
        f"one of each killed after {KILL_AFTER_ANSWERS} answers: {len(turns)} messages in {seconds:.1f} s; "
        f"{len(failed)} died with the Rasa server ({Counter(f for t in failed for f in t.failures)}), "
        f"{sum(t.recorded_before_failure for t in failed)} of them recorded before it died (not resent), "
        f"the rest resent; {sum(t.fallback for t in turns)} fallback answers while locks expired, "
        f"for {len(hit)} visitors; served by {dict(served(cluster, mark, REST))}, "
        f"actions by {dict(served(cluster, mark, ACTIONS))}"
    )
    assert not problems, "\n".join(report + problems[:30])
    after_kill = [turn for turn in turns if turn.sent_at > killed_at[0] + 1]
    assert any(turn.answered and not turn.fallback for turn in after_kill), "no real answer after the crash"
    # 3. Started again by supervisor, with nobody asking: each takes traffic again.
    cluster.wait_until_answering("rasa-1")
    cluster.wait_until_answering("actions-1")
    restart_s = time.monotonic() - killed_at[0]
    assert cluster.pid("rasa-1") not in killed_pids and cluster.pid("actions-1") not in killed_pids
    events = wait_until_stored(cluster, visitors, LOCK_LIFETIME_S + 30)  # the queued ones answered first
    mark = log_size(cluster)
    seconds = asyncio.run(visitors.round("restarted"))
    problems = answer_problems(visitors.of_round("restarted"))
    rasa, actions = served(cluster, mark, REST), served(cluster, mark, ACTIONS)
    report.append(
        f"restarted, answering {restart_s:.1f} s after the kill: {len(visitors.of_round('restarted'))} answers in "
        f"{seconds:.1f} s; Rasa servers {dict(rasa)}, action servers {dict(actions)}"
    )
    print("\ncluster: " + "\ncluster: ".join(report))
    assert not problems, "\n".join(report + problems[:30])
    assert rasa[rasa_1] > 0, f"the restarted Rasa server took no traffic: {rasa}"
    assert actions[actions_1] > 0, f"the restarted action server took no traffic: {actions}"

    # In PostgreSQL: every turn once, in order, with its replies.
    events = wait_until_stored(cluster, visitors, 30)
    problems = []
    for v, sender in visitors.senders.items():
        problems += stored_problems(events[sender], visitors.turns[v], sender)
    assert not problems, "\n".join(report + problems[:30])


# --- socket.io through nginx -----------------------------------------------------------------------

SOCKET_VISITORS = 12  # from 127.0.0.2 up: different addresses, so nginx spreads them
PHONE_QUESTION = "what is the response center phone number?"


async def socketio_visitor(cluster: cluster_module.Cluster, address: str, session_id: str) -> str:
    """What the widget does, in socket.io's own protocol (Engine.IO 4): open a session by polling,
    upgrade it to a websocket, ask for the conversation `session_id`, ask a question; returns the
    reply. Every request of a session must reach the server that opened it, or it is refused."""
    endpoint = f"{cluster.url}/socket.io/"
    headers = {"Origin": cluster_module.allowed_origins()[0]}
    timeout = aiohttp.ClientTimeout(total=30)
    connector = aiohttp.TCPConnector(local_addr=(address, 0))
    async with aiohttp.ClientSession(connector=connector, headers=headers, timeout=timeout) as http:

        async def poll(**params) -> List[str]:
            async with http.get(endpoint, params={"EIO": "4", "transport": "polling", **params}) as response:
                assert response.status == 200, (response.status, await response.text())
                return (await response.text()).split("\x1e")

        opened = await poll()
        sid = json.loads(opened[0][1:])["sid"]  # "0{...}": the open packet
        async with http.post(
            endpoint, params={"EIO": "4", "transport": "polling", "sid": sid}, data="40"
        ) as response:  # connect to the default namespace
            assert response.status == 200, (response.status, await response.text())
        assert any(packet.startswith("40") for packet in await poll(sid=sid))
        socket_url = endpoint.replace("http://", "ws://")
        async with http.ws_connect(socket_url, params={"EIO": "4", "transport": "websocket", "sid": sid}) as ws:
            await ws.send_str("2probe")
            assert await ws.receive_str() == "3probe"
            await ws.send_str("5")  # upgraded: from here on, the websocket only

            async def event(name: str) -> list:
                while True:
                    packet = await ws.receive_str()
                    if packet == "2":
                        await ws.send_str("3")  # the server's ping
                    elif packet.startswith("42") and json.loads(packet[2:])[0] == name:
                        return json.loads(packet[2:])[1:]

            await ws.send_str("42" + json.dumps(["session_request", {"session_id": session_id}]))
            assert await event("session_confirm") == [session_id]
            await ws.send_str(
                "42" + json.dumps(["user_uttered", {"message": PHONE_QUESTION, "session_id": session_id}])
            )
            return (await event("bot_uttered"))[0].get("text", "")


def test_socketio_visitors_stay_on_one_server_and_are_spread_over_both(cluster):
    run = uuid.uuid4().hex[:8]
    sources = [f"127.0.0.{n}" for n in range(2, 2 + SOCKET_VISITORS)]
    mark = log_size(cluster)

    async def all_visitors() -> List[str]:
        return await asyncio.gather(
            *(socketio_visitor(cluster, source, f"socket-{run}-{n}") for n, source in enumerate(sources))
        )

    answers = asyncio.run(asyncio.wait_for(all_visitors(), 120))
    assert all("Response Center" in answer for answer in answers), answers

    by_source: Dict[str, set] = {}
    with cluster.access_log.open("rb") as log:
        log.seek(mark)
        for line in log.read().decode().splitlines():
            found = ACCESS_LINE.search(line)
            if found and found["uri"].startswith("/socket.io/"):
                by_source.setdefault(line.split()[0], set()).add(found["upstream"])
    assert set(by_source) == set(sources), by_source
    assert all(len(upstreams) == 1 for upstreams in by_source.values()), f"a visitor moved: {by_source}"
    assert set().union(*by_source.values()) == set(addresses(cluster.ports.rasa)), by_source


# --- what stopping leaves ---------------------------------------------------------------------------


def test_everything_listens_on_loopback_only_and_stopping_leaves_nothing(cluster):
    ports = [port for _, port in cluster.ports.named()]
    for port in ports:
        assert listening_addresses(port) == {"127.0.0.1"}, port
    processes = dict(cluster.processes)
    assert set(processes) == {"postgresql", "redis", "actions-1", "actions-2", "rasa-1", "rasa-2", "nginx"}

    stopped = cluster_module.stop(cluster.directory)

    assert set(stopped) == set(processes)
    assert not any(cluster.alive(name) for name in processes)
    assert [port for port in ports if listening_addresses(port)] == []
    assert cluster_module.load(cluster.directory) is None
