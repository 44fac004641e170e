"""Conversation locks shared by several Rasa servers in one Redis (channels/lock_store.py), on a real
Redis: Debian's redis-server on a free port of 127.0.0.1 (conftest's redis_port; `make test` installs it).

Two servers are two stores with their own connections, as two Rasa processes have."""

import asyncio
import threading
import time

from rasa.utils.endpoints import EndpointConfig

from channels.lock_store import InOrderLockStore


def server(port: int) -> InOrderLockStore:
    return InOrderLockStore(EndpointConfig(url="127.0.0.1", store="redis", port=str(port), db="1", password=""))


def test_two_servers_issuing_tickets_at_once_lose_none(redis_port):
    """Rasa's Redis store reads a queue and writes it back: of two servers doing so at once, one
    overwrites the other's ticket."""
    servers = [server(redis_port), server(redis_port)]
    issued = {0: [], 1: []}

    def issue(which: int) -> None:
        for _ in range(300):
            issued[which].append(servers[which].issue_ticket("visitor", 60))

    threads = [threading.Thread(target=issue, args=(which,)) for which in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    queued = [ticket.number for ticket in servers[0].get_lock("visitor").tickets]
    assert sorted(issued[0] + issued[1]) == sorted(queued) == list(range(600)), "every ticket once, none lost"
    for number in queued:
        servers[number % 2].finish_serving("visitor", number)
    assert servers[0].get_lock("visitor") is None, "the queue is deleted once every ticket is done"


def test_a_message_sent_again_to_the_other_server_is_handled_in_order(redis_port):
    """Server 1 died holding the conversation; the visitor's message, sent again, reaches server 2
    and the next one server 1, restarted. Each is handled once the dead ticket expires, in order."""
    lifetime = 0.5
    first, second = server(redis_port), server(redis_port)
    handled = []

    async def message(name: str, store: InOrderLockStore, sent_after: float) -> None:
        await asyncio.sleep(sent_after)
        async with store.lock("visitor-2", lock_lifetime=lifetime):
            handled.append((name, time.monotonic() - started))

    async def scenario() -> None:
        first.issue_ticket("visitor-2", lifetime)  # never finished: the server died
        await asyncio.gather(message("sent again", second, 0.001), message("next", first, 0.1))

    started = time.monotonic()
    asyncio.run(asyncio.wait_for(scenario(), 10))
    assert [name for name, _ in handled] == ["sent again", "next"]
    assert lifetime <= handled[0][1] < lifetime + 0.3
    assert second.get_lock("visitor-2") is None
