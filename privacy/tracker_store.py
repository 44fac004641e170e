"""Rasa's SQL tracker store (SQLite or PostgreSQL), keeping no personal data in clear and erasing
a conversation when its visitor asks.

endpoints.yml names this class as the tracker store. It writes what Rasa's SQLTrackerStore writes,
row for row, but each event's text passes privacy/pii.py's mask first: the store, and everything
read from it (make report, make story, the HTTP API), holds "[SSN]" where the visitor typed a
social security number. The tracker Rasa holds in memory during the turn is not changed, so the
model and the actions read what the visitor wrote, and the answer is the same.

When the turn being saved ran `action_erase_conversation` (after the visitor confirmed "delete my
conversation"), every event stored before that action is deleted. What is kept is the language
the visitor chose, so that they are answered in it, and the events from that action on (its
"deleted" message), so that the next turn reads on from there.

A turn reads back only its conversation's latest events (RECENT_EVENTS), so that its cost does not
grow with the conversation; the whole conversation is read for make report, make story and the
HTTP API's /tracker.
"""

import itertools
import json
import logging
from typing import Any, Dict, Iterator, List, Optional, Text

import sqlalchemy
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import ActionExecuted, Event, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from privacy import logs
from privacy.pii import masked

logger = logging.getLogger(__name__)
# Every process that keeps conversations logs them masked too.
logs.install()

ERASE_ACTION = "action_erase_conversation"
# How many of its latest events a turn reads back. Rasa's store reads and parses every event of the
# session, and the policies then go through every one of them: a visitor on Slack or Telegram keeps
# one conversation for months, and its 200th turn cost 6 times its 10th. About 20 turns: more than
# any rule, follow-up or repeated question looks back. What the window leaves out still counts
# through the slots' values, read as the events that last set them.
RECENT_EVENTS = 200
# How many of a tracker's events are stored: set on the trackers this store reads and writes.
_STORED = "_cops_stored_events"
# Slots that hold no word of the visitor's and that the conversation needs after an erasure.
KEPT_AFTER_ERASURE = ("language",)


class PrivateSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore whose rows hold masked text, and which erases a conversation on request.

    It also appends exactly the events the tracker gained since this store read or wrote it.
    Rasa's own SQL store counts the conversation's rows instead: when two servers answer one
    conversation at once (in the cluster, after a Redis lock expired behind a server that died),
    the second to save skips as many of its own events as the first wrote, and a visitor's turn is
    lost (tests/test_cluster.py saw it). A tracker this store did not read is counted Rasa's way.
    """

    async def _retrieve(self, sender_id: Text, fetch_events_from_all_sessions: bool) -> Optional[DialogueStateTracker]:
        if fetch_events_from_all_sessions:  # the whole conversation: make report, make story
            tracker = await super()._retrieve(sender_id, fetch_events_from_all_sessions)
        else:
            tracker = self._recent(sender_id)
        if tracker is not None:
            setattr(tracker, _STORED, len(tracker.events))
        return tracker

    def _recent(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        """The session's latest RECENT_EVENTS events, from the first turn among them that starts
        with no loop open, after the events that last set each slot before it; the whole session
        when it is shorter, or when no turn among them starts outside a loop.

        Outside a loop, because a loop's later events reach back to where it opened (the two-stage
        fallback reverts the visitor's messages since): a window that starts inside one left Rasa
        spinning (bench/NOTES.md)."""
        event = self.SQLEvent
        with self.session_scope() as session:
            session_events = self._event_query(session, sender_id, fetch_events_from_all_sessions=False).order_by(None)
            rows = session_events.order_by(event.id.desc()).limit(RECENT_EVENTS).all()[::-1]
            if not rows or not self.domain:
                return None
            if len(rows) == RECENT_EVENTS:
                # A restart closes any loop without an event of the loop's own.
                loop_or_restart_before = (
                    session_events.filter(event.id < rows[0].id, event.type_name.in_(("active_loop", "restart")))
                    .order_by(event.id.desc())
                    .first()
                )
                start = _first_turn_outside_a_loop(rows, loop_or_restart_before)
                if start is None:
                    rows = session_events.order_by(event.id).all()
                else:
                    rows = self._slots_before(session_events, rows[start].id) + rows[start:]
            events = [json.loads(row.data) for row in rows]
        return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)

    def _slots_before(self, session_events: Any, first_id: int) -> List[Any]:
        """The rows that last set each slot before event `first_id`, since the last reset."""
        event = self.SQLEvent
        earlier = session_events.filter(event.id < first_id)
        reset = earlier.filter(event.type_name.in_(("restart", "reset_slots"))).with_entities(
            sqlalchemy.func.max(event.id)
        )
        since_reset = earlier.filter(event.id > (reset.scalar() or 0))
        # A slot event's action_name column holds the slot's name (SQLTrackerStore.save).
        latest = (
            since_reset.filter(event.type_name == "slot")
            .group_by(event.action_name)
            .with_entities(sqlalchemy.func.max(event.id))
        )
        ids = [row_id for (row_id,) in latest.all() if row_id is not None]
        return session_events.filter(event.id.in_(ids)).order_by(event.id).all() if ids else []

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator[Event]:
        stored = getattr(tracker, _STORED, None)
        if stored is None:
            return super()._additional_events(session, tracker)
        return itertools.islice(tracker.events, stored, len(tracker.events))

    async def save(self, tracker: DialogueStateTracker) -> None:
        with self.session_scope() as session:
            events = list(self._additional_events(session, tracker))
            erasure = _erasure(events)
            if erasure is not None:
                overwrite_what_is_deleted(self, session)
                session.query(self.SQLEvent).filter(self.SQLEvent.sender_id == tracker.sender_id).delete(
                    synchronize_session=False
                )
                events = _kept_slots(tracker) + events[erasure:]
            rows = [_row(event) for event in events]
            for row in rows:
                session.add(self.SQLEvent(sender_id=tracker.sender_id, **row))
            session.commit()
        setattr(tracker, _STORED, len(tracker.events))
        if erasure is not None:
            logger.info("Conversation %s erased at its visitor's request.", tracker.sender_id)
        if self.event_broker is not None:
            for row in rows:
                self.event_broker.publish(dict(json.loads(row["data"]), sender_id=tracker.sender_id))

    async def stream_events(self, tracker: DialogueStateTracker) -> None:
        """Nothing: save() publishes the masked events itself."""


def _first_turn_outside_a_loop(rows: List[Any], loop_or_restart_before: Optional[Any]) -> Optional[int]:
    """The index of the first `action_listen` among `rows` at which no loop is open."""

    def opens_a_loop(row: Any) -> bool:
        return row.type_name == "active_loop" and json.loads(row.data).get("name") is not None

    open_loop = loop_or_restart_before is not None and opens_a_loop(loop_or_restart_before)
    for index, row in enumerate(rows):
        if row.type_name in ("active_loop", "restart"):
            open_loop = opens_a_loop(row)
        elif row.type_name == "action" and row.action_name == "action_listen" and not open_loop:
            return index
    return None


def overwrite_what_is_deleted(store: SQLTrackerStore, session: Any) -> None:
    """Has the database overwrite the rows `session` deletes: else SQLite leaves them readable in
    its free pages until they are reused. (PostgreSQL has no such setting: docs/privacy.md.)"""
    if store.engine.dialect.name == "sqlite":
        session.execute(sqlalchemy.text("PRAGMA secure_delete = ON"))


# The events that can hold what the visitor typed: the message, and slots and entities taken from
# it. Any other event holds names, numbers and the team's own texts (the assistant's replies never
# quote the visitor), but for the metadata a client sends with a message, which a new session's
# event repeats.
TYPED_EVENTS = {"user", "slot", "entities"}


def _masked_event(data: Dict[Text, Any]) -> Dict[Text, Any]:
    if data.get("event") in TYPED_EVENTS:
        return masked(data)
    if data.get("metadata"):
        return dict(data, metadata=masked(data["metadata"]))
    return data


def _erasure(events: List[Event]) -> Optional[int]:
    """Where in `events` the erasing action ran, if it did."""
    for position, event in enumerate(events):
        if isinstance(event, ActionExecuted) and event.action_name == ERASE_ACTION:
            return position
    return None


def _kept_slots(tracker: DialogueStateTracker) -> List[Event]:
    return [
        SlotSet(name, tracker.get_slot(name))
        for name in KEPT_AFTER_ERASURE
        if name in tracker.slots and tracker.get_slot(name) is not None
    ]


def _row(event: Event) -> Dict[Text, Any]:
    """The columns SQLTrackerStore.save writes for `event`, its text masked."""
    data = _masked_event(event.as_dict())
    return dict(
        type_name=event.type_name,
        timestamp=data.get("timestamp"),
        intent_name=data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
        action_name=data.get("name"),
        data=json.dumps(data),
    )
