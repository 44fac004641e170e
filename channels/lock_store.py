"""Conversation locks that keep each conversation's messages in order, on one Rasa server or on
several sharing Redis (endpoints.yml's `lock_store`: `store` is LOCK_STORE_TYPE, in_memory or redis).

Rasa 3.6's lock stores give each message a ticket in its conversation's queue. A ticket expires
after TICKET_LOCK_LIFETIME seconds, so that a server that died holding one does not block the
conversation for ever. Two defects of theirs lose a message or its place:

1. A waiting message's ticket expires as well. A message that waited as long as the lifetime
   behind a dead server's ticket is dropped from the queue, and fails with LockError once the
   messages after it are done: the visitor's turn is lost (tests/test_cluster.py lost one).
2. The Redis store reads a queue, changes it and writes it back without a transaction: when two
   servers change one conversation's queue at once, one change is lost.

Here a waiting message renews its ticket each time it looks at the queue, so only a ticket that
nobody looks after any more (a dead or stuck server's) expires; and each change of a queue in Redis
is one transaction, done again if another server changed the queue in between.
"""

import asyncio
import json
import time
from contextlib import asynccontextmanager
from typing import Any, AsyncGenerator, Callable, Optional, Text, Tuple, TypeVar

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, InMemoryLockStore, LockError, LockStore, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

# Rasa looks at the queue once a second: a visitor's second message would wait up to a second after
# the first one's answer for nothing. A look costs one Redis round trip.
POLL_S = 0.1
STORES = ("in_memory", "redis")

Result = TypeVar("Result")


class InOrderLockStore(LockStore):
    """Rasa's ticket locks, kept in memory or in Redis, with no message losing its place."""

    def __init__(self, endpoint_config: Optional[EndpointConfig] = None) -> None:
        settings = dict(endpoint_config.kwargs) if endpoint_config else {}
        store = settings.pop("store", None) or "in_memory"
        if store not in STORES:
            raise ValueError(
                f"lock_store's store (LOCK_STORE_TYPE) is {store!r}: it must be one of {', '.join(STORES)}"
            )
        self.storage: LockStore = (
            RedisLockStore(host=endpoint_config.url, **settings) if store == "redis" else InMemoryLockStore()
        )
        super().__init__()

    def get_lock(self, conversation_id: Text) -> Optional[TicketLock]:
        return self.storage.get_lock(conversation_id)

    def delete_lock(self, conversation_id: Text) -> None:
        self.storage.delete_lock(conversation_id)

    def save_lock(self, lock: TicketLock) -> None:
        self.storage.save_lock(lock)

    def _change(self, conversation_id: Text, change: Callable[[TicketLock], Result]) -> Result:
        """`change(queue)` applied to the conversation's queue (a new one if it has none) as one
        step; a queue left empty is deleted."""
        if not isinstance(self.storage, RedisLockStore):
            # One event loop, and nothing here awaits: no other change can come in between.
            lock = self.storage.get_or_create_lock(conversation_id)
            result = change(lock)
            if lock.tickets:
                self.storage.save_lock(lock)
            else:
                self.storage.delete_lock(conversation_id)
            return result
        key = self.storage.key_prefix + conversation_id

        def transaction(pipe: Any) -> Result:
            stored = pipe.get(key)
            lock = TicketLock.from_dict(json.loads(stored)) if stored else self.create_lock(conversation_id)
            result = change(lock)
            pipe.multi()
            if lock.tickets:
                pipe.set(key, lock.dumps())
            else:
                pipe.delete(key)
            return result

        # WATCH, then MULTI/EXEC: redis-py runs `transaction` again if the queue changed meanwhile.
        return self.storage.red.transaction(transaction, key, value_from_callable=True)

    def issue_ticket(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME) -> int:
        return self._issue(conversation_id, lock_lifetime)[0]

    def _issue(self, conversation_id: Text, lifetime: float) -> Tuple[int, TicketLock]:
        """A new ticket, and the queue as it left it: the first message of a turn is served at once,
        with no second look."""
        try:
            return self._change(conversation_id, lambda lock: (lock.issue_ticket(lifetime), lock))
        except Exception as error:
            raise LockError(f"Could not issue a ticket for conversation '{conversation_id}': {error}") from error

    @asynccontextmanager
    async def lock(
        self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME, wait_time_in_seconds: float = POLL_S
    ) -> AsyncGenerator[TicketLock, None]:
        ticket, lock = self._issue(conversation_id, lock_lifetime)
        try:
            if lock.is_locked(ticket):
                lock = await self._wait_for_turn(conversation_id, ticket, lock_lifetime, wait_time_in_seconds)
            yield lock
        finally:
            self.finish_serving(conversation_id, ticket)

    async def _wait_for_turn(self, conversation_id: Text, ticket: int, lifetime: float, poll_s: float) -> TicketLock:
        def renewed(lock: TicketLock) -> Optional[TicketLock]:
            lock.remove_expired_tickets()
            mine = next((waiting for waiting in lock.tickets if waiting.number == ticket), None)
            if mine is None:
                return None
            mine.expires = time.time() + lifetime
            return lock

        while True:
            lock = self._change(conversation_id, renewed)
            if lock is None:
                # Only if this server stopped looking for longer than the lifetime, or the store was emptied.
                raise LockError(f"Conversation '{conversation_id}' lost ticket {ticket} while it waited.")
            if not lock.is_locked(ticket):
                return lock
            await asyncio.sleep(poll_s)

    def update_lock(self, conversation_id: Text) -> None:
        self._change(conversation_id, lambda lock: lock.remove_expired_tickets())

    def finish_serving(self, conversation_id: Text, ticket_number: int) -> None:
        self._change(conversation_id, lambda lock: lock.remove_ticket_for(ticket_number))

    def cleanup(self, conversation_id: Text, ticket_number: int) -> None:
        # A queue left empty is deleted in the same step (_change).
        self.finish_serving(conversation_id, ticket_number)
