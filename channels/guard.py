"""What every channel checks before a visitor's message may reach the model, and what a visitor
gets when the assistant itself cannot answer.

Rasa 3.6 hands any text to the NLU model: an empty one gets a guess, and a 100 KB one costs DIET
about 40 s and 12 GB of memory. Those never reach it here. And when the action server is down or
hangs, Rasa answers nothing at all: the visitor gets the Response Center's phone and e-mail instead.
"""

import asyncio
import logging
import os
from typing import Any, Awaitable, Dict, Optional

from actions import contact_data, replies

logger = logging.getLogger(__name__)

MAX_MESSAGE_CHARS_ENV = "COPS_MAX_MESSAGE_CHARS"
DEFAULT_MAX_MESSAGE_CHARS = 1000
# Rasa waits up to 300 s for the action server; a visitor gets the fallback answer after this.
REPLY_DEADLINE_S = 4.0

_CONTACTS = contact_data.load()
_REPLIES = replies.load()


def max_message_chars() -> int:
    return int(os.environ.get(MAX_MESSAGE_CHARS_ENV, DEFAULT_MAX_MESSAGE_CHARS))


def refusal(text: str) -> Optional[str]:
    """The reply for a message that must not reach the model, or None if it may."""
    if not text.strip():
        return _REPLIES.text("empty_message")
    if len(text) > max_message_chars():
        return _REPLIES.text("too_long", max_chars=str(max_message_chars()))
    return None


def unavailable(markdown: bool) -> str:
    """The answer when the assistant could not produce one: who to contact instead."""
    phone, email = _CONTACTS.phone, _CONTACTS.email
    if markdown:
        phone, email = f"[{phone}]({_CONTACTS.tel_uri})", f"[{email}](mailto:{email})"
    return _REPLIES.text("unavailable", center_name=_CONTACTS.center_name, phone=phone, email=email)


def bot_message(recipient_id: str, text: str) -> Dict[str, Any]:
    """A reply in the shape Rasa's REST channel returns its own."""
    return {"recipient_id": recipient_id, "text": text}


async def handled_in_time(handling: Awaitable[Any], sender_id: str) -> bool:
    """Waits at most REPLY_DEADLINE_S for a message to be handled; False if it took longer.

    The handling goes on regardless, so the conversation keeps the message and its answer.
    """
    task = asyncio.ensure_future(handling)
    try:
        await asyncio.wait_for(asyncio.shield(task), REPLY_DEADLINE_S)
    except asyncio.TimeoutError:
        logger.warning("No reply within %.0f s for conversation %s: gave the fallback answer.",
                       REPLY_DEADLINE_S, sender_id)
        return False
    except Exception:
        logger.exception("Handling a message of conversation %s failed.", sender_id)
    return True
