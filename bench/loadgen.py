"""Load generator: concurrent visitors asking the REST channel, each in a conversation of its own.

    python bench/loadgen.py --url http://127.0.0.1:5005 --visitors 20 --messages 10 "what is the phone number?"

Every visitor sends its messages one after the other (a person waits for the answer before typing
again); the visitors run at the same time. With `--conversations K`, each visitor that has sent its
messages leaves and a new one (a new sender id) takes its place, K times: Rasa's cost per turn grows
with the length of the conversation, so one endless conversation would not be what a site sees. It prints one JSON object: each reply's latency in
seconds, the wall time of the whole run and the requests that failed: no reply, an error, or (with
`--expect`) a reply without the expected text, such as the apology the channels give when the model
is not loaded. It runs as a process of its own, apart from the servers it measures; it sends to
127.0.0.1 only and stops by itself after the last message (or `--timeout` seconds per request).
"""

import argparse
import asyncio
import json
import sys
import time
import uuid
from urllib.parse import urlsplit

import aiohttp


async def visitor(
    session: aiohttp.ClientSession,
    url: str,
    sender: str,
    texts: list,
    expect: str,
    timeout_s: float,
    latencies: list,
    failures: list,
) -> None:
    for text in texts:
        started = time.perf_counter()
        try:
            async with session.post(
                url, json={"sender": sender, "message": text}, timeout=aiohttp.ClientTimeout(total=timeout_s)
            ) as response:
                replies = await response.json() if response.status == 200 else None
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            failures.append(f"{type(error).__name__}: {error}")
            continue
        if not replies:
            failures.append(f"HTTP {response.status}, no reply to {text!r}")
            continue
        if expect not in " ".join(reply.get("text", "") for reply in replies):
            failures.append(f"{text!r} was answered without {expect!r}: {replies}")
            continue
        latencies.append(time.perf_counter() - started)


async def run(
    base_url: str, texts: list, expect: str, visitors: int, messages: int, conversations: int, timeout_s: float
) -> dict:
    url = base_url.rstrip("/") + "/webhooks/rest/webhook"
    run_id = uuid.uuid4().hex[:8]
    latencies: list = []
    failures: list = []

    async def one_place(place: int) -> None:
        for conversation in range(conversations):
            await visitor(
                session,
                url,
                f"bench-{run_id}-{place}-{conversation}",
                [texts[(place + i) % len(texts)] for i in range(messages)],
                expect,
                timeout_s,
                latencies,
                failures,
            )

    # One connection per visitor, as separate browsers would have.
    connector = aiohttp.TCPConnector(limit=visitors)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(*(one_place(place) for place in range(visitors)))
        wall_s = time.perf_counter() - started
    return {
        "visitors": visitors,
        "messages": messages,
        "conversations": conversations,
        "latencies_s": latencies,
        "wall_s": wall_s,
        "failures": failures,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("texts", nargs="+", help="what the visitors ask, in turn")
    parser.add_argument("--url", required=True, help="the Rasa server, e.g. http://127.0.0.1:5005")
    parser.add_argument("--expect", default="", help="text every answer must contain")
    parser.add_argument("--visitors", type=int, default=1)
    parser.add_argument("--messages", type=int, default=10, help="messages per conversation")
    parser.add_argument("--conversations", type=int, default=1, help="conversations, one after the other, per visitor")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for one reply")
    args = parser.parse_args()
    if urlsplit(args.url).hostname != "127.0.0.1":
        parser.error("the benchmark sends to 127.0.0.1 only")
    json.dump(
        asyncio.run(
            run(args.url, args.texts, args.expect, args.visitors, args.messages, args.conversations, args.timeout)
        ),
        sys.stdout,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
