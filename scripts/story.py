"""Prints a conversation from the tracker store as a test story, ready for tests/test_stories.yml.

    make story ID=<conversation id>        (the sender id; `make shell` prints the one it uses)

Reads the tracker store named in endpoints.yml (SQLite in var/ unless the TRACKER_STORE_*
environment variables choose another: ops/tracker_store.py), so it works for conversations
from the web widget, REST and the shell alike. Check the intents and actions it prints: they are
what the bot did, which is what the story will then require.
"""

import argparse
import asyncio
import os
import sys
from pathlib import Path

from rasa.shared.core.training_data.story_writer.yaml_story_writer import YAMLStoryWriter

from ops.tracker_store import apply_tracker_store_defaults, open_tracker_store

ROOT = Path(__file__).resolve().parent.parent


async def story_of(sender: str, endpoints: Path, domain_path: Path) -> str:
    store = open_tracker_store(endpoints, domain_path)
    tracker = await store.retrieve_full_tracker(sender)
    if tracker is None or not tracker.events:
        raise SystemExit(f"no conversation {sender!r} in the tracker store of {endpoints.name}")
    story = tracker.as_story()
    return YAMLStoryWriter().dumps(story.story_steps, is_appendable=True, is_test_story=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sender", help="the conversation id")
    parser.add_argument("--endpoints", type=Path, default=ROOT / "endpoints.yml")
    parser.add_argument("--domain", type=Path, default=ROOT / "domain")
    args = parser.parse_args()
    apply_tracker_store_defaults(os.environ)  # endpoints.yml names them; Rasa needs each one set
    print(asyncio.run(story_of(args.sender, args.endpoints, args.domain)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
