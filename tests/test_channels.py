"""The channel set-ups of docs/channels.md and the project's credentials.yml, built with Rasa's own
code the way `rasa run` builds them (rasa/core/run.py: `create_http_input_channels`, which reads the
file with `read_config_file`, substituting ${VAR}s, and `_create_single_channel`, which calls the
channel class's `from_credentials`).

The credentials blocks are taken from docs/channels.md itself, so a typo on that page fails here.
No test here touches the network: every socket connection is refused and recorded, and the one
network call Rasa makes by design while building a channel (Bot Framework fetching Microsoft's
token-signing keys) is replaced and counted.
"""

import asyncio
import datetime
import inspect
import os
import re
import socket
import time
import uuid
from pathlib import Path
from typing import Dict, List, NamedTuple, Tuple

import pytest
import rasa.shared.utils.io
import yaml
from rasa.core.channels import BUILTIN_CHANNELS
from rasa.core.channels.botframework import BotFrameworkInput
from rasa.core.channels.callback import CallbackInput
from rasa.core.channels.channel import register
from rasa.core.channels.rest import RestInput
from rasa.core.channels.socketio import SocketIOInput
from rasa.core.channels.telegram import TelegramOutput
from rasa.shared.exceptions import RasaException
from rasa.shared.utils.common import class_from_module_path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "channels.md"
CREDENTIALS = ROOT / "credentials.yml"

PLATFORMS_HEADING = "Connecting a chat platform"
# The platform sections of docs/channels.md and the Rasa channel each one sets up, in page order.
PLATFORMS = {
    "Slack": "slack",
    "Telegram": "telegram",
    "Facebook Messenger": "facebook",
    "Twilio (SMS)": "twilio",
    "Mattermost": "mattermost",
    "Rocket.Chat": "rocketchat",
    "Microsoft Bot Framework": "botframework",
    "Webex Teams": "webexteams",
}
PROJECT_CHANNELS = ["channels.rest.RestChannel", "callback", "channels.socketio.SocketIOChannel"]

VARIABLE = re.compile(r"\$\{([A-Z][A-Z0-9_]*)\}")
# A whole value that is a variable, possibly followed by a URL path (`${RASA_PUBLIC_URL}/webhooks/...`).
VARIABLE_VALUE = re.compile(r"\$\{[A-Z][A-Z0-9_]*\}(/[\w./-]*)?")
LOCAL_URL = re.compile(r"https?://(localhost|127\.0\.0\.1)(:\d+)?(/[\w./-]*)?")
# Settings that hold behaviour, never an account's identity or a secret.
NON_SECRET_KEYS = {
    "use_threads",
    "conversation_granularity",
    "user_message_evt",
    "bot_message_evt",
    "session_persistence",
    "metadata_key",
    "socketio_path",
    "namespace",
}
# Dummy values; a Telegram token must look like one (digits, a colon, the rest).
DUMMY_VALUES = {"TELEGRAM_TOKEN": "123456789:dummy-telegram-token"}


# --- reading docs/channels.md ---------------------------------------------------------------------


class Section(NamedTuple):
    level: int
    title: str
    parent: str  # the title of the enclosing level-2 section
    body: str


def sections(text: str) -> List[Section]:
    """The page's sections: each heading (outside code blocks) with the text up to the next one."""
    found: List[Section] = []
    level, title, parent, body = 0, "", "", []
    in_code = False

    def close() -> None:
        if title:
            found.append(Section(level, title, parent, "\n".join(body)))

    for line in text.splitlines():
        if line.startswith("```"):
            in_code = not in_code
        heading = None if in_code else re.match(r"(#{1,6}) (.+)", line)
        if heading:
            close()
            level, title, body = len(heading.group(1)), heading.group(2).strip(), []
            if level <= 2:
                parent = title
        else:
            body.append(line)
    close()
    return found


def code_blocks(text: str, language: str) -> List[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", text, re.DOTALL | re.MULTILINE)


@pytest.fixture(scope="module")
def doc() -> str:
    return DOC.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def platform_sections(doc) -> Dict[str, Section]:
    return {
        section.title: section
        for section in sections(doc)
        if section.level == 3 and section.parent == PLATFORMS_HEADING
    }


@pytest.fixture(scope="module")
def documented_blocks(platform_sections) -> Dict[str, str]:
    """{channel name: its credentials block, as written on the page}, in page order."""
    missing = [title for title in PLATFORMS if title not in platform_sections]
    if missing:
        pytest.fail(f"docs/channels.md has no '### ' section under '{PLATFORMS_HEADING}' for {missing}")
    blocks = {}
    for title, channel in PLATFORMS.items():
        found = code_blocks(platform_sections[title].body, "yaml")
        assert len(found) == 1, f"the {title} section must hold exactly one ```yaml block"
        blocks[channel] = found[0]
    return blocks


def variables_in(text: str) -> List[str]:
    return sorted(set(VARIABLE.findall(text)))


def dummy_value(variable: str) -> str:
    if variable in DUMMY_VALUES:
        return DUMMY_VALUES[variable]
    if variable.endswith("_URL"):
        return f"https://{variable.lower().replace('_', '-')}.invalid"
    return f"dummy-{variable.lower().replace('_', '-')}"


@pytest.fixture
def documented_credentials(tmp_path, monkeypatch, documented_blocks) -> Path:
    """A credentials file with exactly the page's eight blocks, every ${VAR} set to a dummy value."""
    text = "\n".join(documented_blocks.values())
    for variable in variables_in(text):
        monkeypatch.setenv(variable, dummy_value(variable))
    path = tmp_path / "credentials.yml"
    path.write_text(text, encoding="utf-8")
    return path


# --- no network -----------------------------------------------------------------------------------


@pytest.fixture
def no_network(monkeypatch) -> List[Tuple]:
    """Refuses, and records, every attempt to resolve a name or open a connection."""
    attempts: List[Tuple] = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError(f"a test tried to use the network: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    return attempts


@pytest.fixture
def key_fetches(monkeypatch) -> List[str]:
    """Bot Framework's channel downloads Microsoft's signing keys when it is built: counted, not run."""
    fetches: List[str] = []

    def fetch_keys(self) -> None:
        fetches.append(self.app_id)
        self.jwt_keys = {}
        self.jwt_update_time = datetime.datetime.now()

    monkeypatch.setattr(BotFrameworkInput, "_update_cached_jwk_keys", fetch_keys)
    return fetches


@pytest.fixture
def telegram_webhooks(monkeypatch) -> List[str]:
    """Telegram's channel registers its webhook_url with Telegram when its routes are built: recorded."""
    registered: List[str] = []

    async def set_webhook(self, url=None, *args, **kwargs) -> bool:
        registered.append(url)
        return True

    monkeypatch.setattr(TelegramOutput, "set_webhook", set_webhook)
    return registered


# --- building channels the way `rasa run` does ----------------------------------------------------


def build_channel(name: str, credentials):
    """What rasa.core.run._create_single_channel does: a built-in channel by name, else a class path."""
    if name in BUILTIN_CHANNELS:
        return BUILTIN_CHANNELS[name].from_credentials(credentials)
    return class_from_module_path(name).from_credentials(credentials)


def routes_of(channels) -> set:
    """The (path, method) pairs the Rasa server serves for these channels (rasa run's `register`)."""
    from sanic import Sanic

    app = Sanic(f"test_channels_{uuid.uuid4().hex}")
    register(channels, app, route="/webhooks/")
    return {("/" + route.path, method) for route in app.router.routes for method in route.methods}


def accepted_keys(channel_class) -> set:
    """The settings the channel's from_credentials reads, from Rasa's own source."""
    source = inspect.getsource(channel_class.from_credentials)
    return set(re.findall(r"credentials\.get\(\s*[\"']([^\"']+)[\"']", source))


# --- the page -------------------------------------------------------------------------------------


def test_the_page_sets_up_each_platform_once(platform_sections, documented_blocks):
    assert list(platform_sections) == list(PLATFORMS)
    for channel, block in documented_blocks.items():
        parsed = yaml.safe_load(block)
        assert isinstance(parsed, dict) and list(parsed) == [channel], block
        assert channel in BUILTIN_CHANNELS
        assert isinstance(parsed[channel], dict) and parsed[channel], block


def test_the_documented_blocks_use_only_settings_rasa_reads(documented_blocks):
    """A misspelt key would be ignored by Rasa without a word: refuse it here."""
    for channel, block in documented_blocks.items():
        keys = accepted_keys(BUILTIN_CHANNELS[channel])
        assert keys, f"could not read the settings of {channel}'s from_credentials"
        unknown = set(yaml.safe_load(block)[channel]) - keys
        assert not unknown, f"{channel}: Rasa does not read {sorted(unknown)} (it reads {sorted(keys)})"


def test_the_documented_blocks_build_with_rasa_without_network(
    documented_credentials, documented_blocks, no_network, key_fetches
):
    # Read as `rasa run` reads it: schema check, then YAML with ${VAR} substitution.
    credentials = rasa.shared.utils.io.read_config_file(documented_credentials)
    assert list(credentials) == list(PLATFORMS.values())

    for channel, block in documented_blocks.items():
        written = yaml.safe_load(block)[channel]
        for key, value in written.items():
            read = credentials[channel][key]
            if isinstance(value, str) and "$" in value:
                # Substituted, which a quoted "${VAR}" would not be.
                assert read == os.path.expandvars(value), f"{channel}.{key}: {value!r} read as {read!r}"
                assert "$" not in read
            else:
                assert read == value, f"{channel}.{key}"

    channels = [build_channel(name, settings) for name, settings in credentials.items()]
    for channel, built in zip(credentials, channels):
        assert type(built) is BUILTIN_CHANNELS[channel]
        assert built.name() == channel

    # `rasa run` itself (rasa.core.run) builds the same channels from the same file.
    from rasa.core.run import create_http_input_channels

    by_rasa_run = create_http_input_channels(None, str(documented_credentials))
    assert [type(built) for built in by_rasa_run] == [type(built) for built in channels]

    assert no_network == []
    # The one network call made by design while building, replaced by the fixture: Bot Framework's
    # signing keys (once for each of the two builds above), for the documented app id.
    assert key_fetches == [os.environ["BOTFRAMEWORK_APP_ID"]] * 2


def test_the_documented_webhook_urls_are_the_routes_rasa_serves(
    documented_credentials, platform_sections, no_network, key_fetches, telegram_webhooks
):
    credentials = rasa.shared.utils.io.read_config_file(documented_credentials)
    channels = [build_channel(name, settings) for name, settings in credentials.items()]
    routes = routes_of(channels)

    for title, channel in PLATFORMS.items():
        urls = re.findall(r"Webhook URL: `(https://[^`]+)`", platform_sections[title].body)
        assert urls == [f"https://<your-host>/webhooks/{channel}/webhook"], title
        path = urls[0][len("https://<your-host>") :]
        assert (path, "POST") in routes, f"{title}: Rasa serves no POST {path}"
        assert (f"/webhooks/{channel}", "GET") in routes, f"{title}: no health check"
        assert f"https://<your-host>/webhooks/{channel}/" in platform_sections[title].body, title

    # Telegram's webhook_url, which Rasa registers with Telegram itself, is that same route.
    assert telegram_webhooks == [f"{os.environ['RASA_PUBLIC_URL']}/webhooks/telegram/webhook"]
    assert no_network == []


def test_rasa_substitutes_unquoted_variables_only_and_refuses_unset_ones(tmp_path, monkeypatch):
    """What the page says about ${VAR}s, checked against Rasa's reader."""
    monkeypatch.setenv("COPS_TEST_TOKEN", "dummy-token")
    monkeypatch.delenv("COPS_TEST_UNSET", raising=False)
    path = tmp_path / "credentials.yml"
    path.write_text(
        "slack:\n"
        "  plain: ${COPS_TEST_TOKEN}\n"
        '  double: "${COPS_TEST_TOKEN}"\n'
        "  single: '${COPS_TEST_TOKEN}'\n"
        "  part: ${COPS_TEST_TOKEN}/webhooks/slack/webhook\n",
        encoding="utf-8",
    )
    assert rasa.shared.utils.io.read_config_file(path)["slack"] == {
        "plain": "dummy-token",
        "double": "${COPS_TEST_TOKEN}",
        "single": "${COPS_TEST_TOKEN}",
        "part": "dummy-token/webhooks/slack/webhook",
    }
    path.write_text("slack:\n  slack_token: ${COPS_TEST_UNSET}\n", encoding="utf-8")
    with pytest.raises(RasaException, match="COPS_TEST_UNSET"):
        rasa.shared.utils.io.read_config_file(path)


# --- the project's own credentials.yml ------------------------------------------------------------


def test_the_projects_credentials_build_like_rasa_run(no_network):
    credentials = rasa.shared.utils.io.read_config_file(CREDENTIALS)
    assert list(credentials) == PROJECT_CHANNELS

    rest, callback, socketio = [build_channel(name, settings) for name, settings in credentials.items()]

    from channels.rest import RestChannel

    assert type(rest) is RestChannel and isinstance(rest, RestInput) and rest.name() == "rest"
    assert type(callback) is CallbackInput
    assert callback.callback_endpoint.url == credentials["callback"]["url"]

    from channels.socketio import SocketIOChannel

    assert type(socketio) is SocketIOChannel and isinstance(socketio, SocketIOInput)
    assert socketio.name() == "socketio"
    settings = credentials["channels.socketio.SocketIOChannel"]
    assert socketio.user_message_evt == settings["user_message_evt"]
    assert socketio.bot_message_evt == settings["bot_message_evt"]
    assert socketio.session_persistence is settings["session_persistence"] is True
    assert socketio.metadata_key == settings["metadata_key"]

    # rasa run's own helper agrees, class for class.
    from rasa.core.run import _create_single_channel

    assert [type(_create_single_channel(name, settings)) for name, settings in credentials.items()] == [
        RestChannel,
        CallbackInput,
        SocketIOChannel,
    ]

    routes = routes_of([rest, callback, socketio])
    assert ("/webhooks/rest/webhook", "POST") in routes
    assert ("/webhooks/callback/webhook", "POST") in routes
    assert ("/socket.io", "GET") in routes and ("/socket.io", "POST") in routes
    assert no_network == []


# --- no secret on the page or in credentials.yml --------------------------------------------------


def literal_values(settings, path: str = ""):
    """(key path, value) for every value that is neither a variable nor known to be harmless."""
    if isinstance(settings, dict):
        for key, value in settings.items():
            yield from literal_values(value, f"{path}.{key}" if path else str(key))
        return
    if isinstance(settings, list):
        for index, value in enumerate(settings):
            yield from literal_values(value, f"{path}[{index}]")
        return
    key = path.rsplit(".", 1)[-1]
    if settings is None or isinstance(settings, (bool, int, float)) or key in NON_SECRET_KEYS:
        return
    if isinstance(settings, str) and (VARIABLE_VALUE.fullmatch(settings) or LOCAL_URL.fullmatch(settings)):
        return
    yield path, settings


def test_no_credentials_block_holds_a_literal_secret(doc):
    blocks = code_blocks(doc, "yaml") + [CREDENTIALS.read_text(encoding="utf-8")]
    assert len(blocks) >= len(PLATFORMS) + 1
    offenders = []
    for block in blocks:
        offenders += [f"{path}: {value!r}" for path, value in literal_values(yaml.safe_load(block))]
        # A quoted ${VAR} is not substituted by Rasa: the platform would get the text "${VAR}".
        offenders += [line.strip() for line in block.splitlines() if re.search(r"[\"']\$\{", line)]
    assert offenders == []


def test_the_env_example_names_every_variable_with_a_placeholder(doc):
    examples = [block for block in code_blocks(doc, "sh") if block.startswith("# .env")]
    assert len(examples) == 1, "the page needs exactly one ```sh block starting with '# .env'"
    assignments = dict(
        re.fullmatch(r"([A-Z][A-Z0-9_]*)=(.*)", line).groups()
        for line in examples[0].splitlines()
        if line and not line.startswith("#")
    )
    used = set(variables_in("\n".join(code_blocks(doc, "yaml"))))
    assert used - set(assignments) == set()
    for name, value in assignments.items():
        # Placeholders only, quoted so that sourcing the file as it is does no harm.
        assert re.fullmatch(r"'[^']*<[^<>']+>[^']*'", value), f"{name}={value}"


# --- the lock store: every message keeps its place in its conversation's queue --------------------


def test_a_message_queued_behind_a_dead_servers_ticket_is_handled_in_order():
    """The visitor's message sent again just after a server died holding the conversation queues
    right behind the dead ticket, and the next message behind it. With Rasa's own stores the first
    one's ticket would expire with the dead one's, and it would be lost after the second was
    handled (channels/lock_store.py); here each is handled, in order, once the dead ticket expires."""
    from channels.lock_store import InOrderLockStore

    lifetime = 0.5
    store = InOrderLockStore()
    handled = []

    async def message(name: str, sent_after: float) -> None:
        await asyncio.sleep(sent_after)
        async with store.lock("visitor", lock_lifetime=lifetime):
            handled.append((name, time.monotonic() - started))

    async def scenario() -> None:
        store.issue_ticket("visitor", lifetime)  # the dead server's: never finished
        await asyncio.gather(message("sent again", 0.001), message("next", 0.1))

    started = time.monotonic()
    asyncio.run(asyncio.wait_for(scenario(), 10))
    assert [name for name, _ in handled] == ["sent again", "next"]
    assert lifetime <= handled[0][1] < lifetime + 0.3, "served once the dead ticket expired, not before"
    assert store.get_lock("visitor") is None, "the queue is gone once both are done"


def test_a_message_waiting_longer_than_the_lifetime_behind_a_live_one_keeps_its_place():
    """Only a ticket nobody looks after expires: one waiting three lifetimes behind a message that
    is still being handled (and renews nothing) is served after it, not dropped."""
    from channels.lock_store import InOrderLockStore

    lifetime = 0.3
    store = InOrderLockStore()
    handled = []

    async def scenario() -> None:
        async def waiting() -> None:
            async with store.lock("visitor", lock_lifetime=lifetime):
                handled.append("waiting")

        async with store.lock("visitor", lock_lifetime=10):
            task = asyncio.ensure_future(waiting())
            await asyncio.sleep(3 * lifetime)
            assert handled == []
            handled.append("slow")
        await task

    asyncio.run(asyncio.wait_for(scenario(), 10))
    assert handled == ["slow", "waiting"]


def test_the_lock_store_names_its_backends():
    from rasa.core.lock_store import InMemoryLockStore
    from rasa.utils.endpoints import EndpointConfig

    from channels.lock_store import InOrderLockStore

    assert isinstance(InOrderLockStore(EndpointConfig(store="in_memory", port="6379")).storage, InMemoryLockStore)
    with pytest.raises(ValueError, match="in_memory, redis"):
        InOrderLockStore(EndpointConfig(store="sql"))
