"""Asks the assistant one question over REST and prints the replies.

    .venv/bin/python scripts/ask.py "what is the response center phone number?"
    .venv/bin/python scripts/ask.py --sender visitor-42 --url http://localhost:5005 "and the e-mail?"

Replies are printed one per line; buttons follow as "  [title] -> payload". The same --sender
continues the same conversation. Exits 1 when the server cannot be reached or answers an error.
"""

import argparse
import sys
import uuid
from typing import List

import requests

DEFAULT_URL = "http://localhost:5005"
TIMEOUT_S = 30


def ask(message: str, sender: str, url: str = DEFAULT_URL, timeout: float = TIMEOUT_S) -> List[dict]:
    """The bot's replies to `message`, as Rasa's REST channel returns them."""
    response = requests.post(
        f"{url.rstrip('/')}/webhooks/rest/webhook",
        json={"sender": sender, "message": message},
        timeout=timeout,
    )
    response.raise_for_status()
    return response.json()


def render(replies: List[dict]) -> str:
    lines = []
    for reply in replies:
        if reply.get("text"):
            lines.append(reply["text"])
        lines += [f"  [{button['title']}] -> {button['payload']}" for button in reply.get("buttons", [])]
    return "\n".join(lines) if lines else "(no reply)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("message")
    parser.add_argument("--sender", default=f"cli-{uuid.uuid4()}", help="conversation id (default: a new one)")
    parser.add_argument("--url", default=DEFAULT_URL, help=f"the Rasa server (default {DEFAULT_URL})")
    args = parser.parse_args()
    try:
        print(render(ask(args.message, args.sender, args.url)))
    except requests.RequestException as error:
        print(f"cannot ask {args.url}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
