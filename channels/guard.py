"""What every channel checks before a visitor's message may reach the model, and what a visitor
gets when the assistant itself cannot answer.

Rasa 3.6 hands any text to the NLU model: an empty one gets a guess, and a 100 KB one costs DIET (rasa init's classifier)
about 40 s and 12 GB of memory. Those never reach it here. And when the action server is down or
hangs, Rasa answers nothing at all: the visitor gets the Response Center's phone and e-mail instead.
"""

import asyncio
import logging
import os
from typing import Any, Awaitable, Dict, Optional

from components.language import from_metadata, language_of
from content.formatting import REPLIES, ReplyStyle, contact_values

logger = logging.getLogger(__name__)

# Longer messages never reach the model; COPS_MAX_MESSAGE_CHARS changes the limit.
MAX_MESSAGE_CHARS = int(os.environ.get("COPS_MAX_MESSAGE_CHARS", "1000"))
# Rasa waits up to 300 s for the action server; a visitor gets the fallback answer after this.
REPLY_DEADLINE_S = 4.0


def language(text: str, metadata: Any = None) -> str:
    """The language of a reply the channel gives itself, without the model (and the conversation's
    slot): the one the client names, else the one the message is written in, else English."""
    return from_metadata(metadata) or language_of(text[:MAX_MESSAGE_CHARS]) or "en"


def refusal(text: str, metadata: Any = None) -> Optional[str]:
    """The reply for a message that must not reach the model, or None if it may."""
    if not text.strip():
        return REPLIES.text("empty_message", language(text, metadata))
    if len(text) > MAX_MESSAGE_CHARS:
        return REPLIES.text("too_long", language(text, metadata), max_chars=f"{MAX_MESSAGE_CHARS:,}")
    return None


def unavailable(text: str = "", metadata: Any = None) -> str:
    """The answer when the assistant could not produce one: who to contact instead.

    Both channels' clients render Markdown, so the phone and e-mail are clickable."""
    style = ReplyStyle(markdown=True, buttons=False, language=language(text, metadata))
    return REPLIES.text("unavailable", style.language, **contact_values(style))


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
        logger.warning(
            "No reply within %.0f s for conversation %s: gave the fallback answer.", REPLY_DEADLINE_S, sender_id
        )
        return False
    except Exception:
        logger.exception("Handling a message of conversation %s failed.", sender_id)
    return True
