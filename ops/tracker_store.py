"""Where conversations are kept and locked: the tracker store's and the lock store's environment
variables and their defaults.

endpoints.yml names the SQL tracker store's settings as `${TRACKER_STORE_...}` variables, and Rasa
refuses an endpoints file naming a variable that is not set. Every entry point that reads
endpoints.yml (ops/launch.py for `make run` and `make shell`, scripts/story.py for `make story`)
first calls `apply_tracker_store_defaults(os.environ)`; this is the only place the defaults are
written. `open_tracker_store` opens the store for the scripts that read conversations (`make story`,
`make report`). (`rasa train`, `rasa test` and `rasa shell nlu` never read endpoints.yml.)

With nothing set, conversations go to SQLite, var/conversations.db. For PostgreSQL set
TRACKER_STORE_DIALECT=postgresql and at least TRACKER_STORE_PORT and TRACKER_STORE_DB; the host
(TRACKER_STORE_URL), TRACKER_STORE_USER and TRACKER_STORE_PASSWORD are empty unless set, which
means the driver's own default: the local socket, the login user, no password.

Conversation locks are in memory (LOCK_STORE_TYPE=in_memory) unless LOCK_STORE_TYPE=redis, which
needs LOCK_STORE_URL (Redis's host); LOCK_STORE_PORT, LOCK_STORE_DB and LOCK_STORE_PASSWORD default
to Redis's port, database 1 (Rasa's choice) and no password.
"""

from pathlib import Path
from typing import TYPE_CHECKING, MutableMapping

if TYPE_CHECKING:  # Rasa is imported only by the scripts that read conversations, not by the launcher.
    from rasa.core.tracker_store import TrackerStore

DIALECT = "TRACKER_STORE_DIALECT"
URL = "TRACKER_STORE_URL"
PORT = "TRACKER_STORE_PORT"
DB = "TRACKER_STORE_DB"
USER = "TRACKER_STORE_USER"
PASSWORD = "TRACKER_STORE_PASSWORD"

DEFAULT_DIALECT = "sqlite"
# Relative to the project root, where the servers run.
DEFAULT_SQLITE_DB = "var/conversations.db"
# Rasa turns the port into a number, so it cannot be empty, and SQLite refuses any port but 0
# (SQLAlchemy's "none").
SQLITE_PORT = "0"

LOCK_TYPE = "LOCK_STORE_TYPE"
LOCK_URL = "LOCK_STORE_URL"
LOCK_PORT = "LOCK_STORE_PORT"
LOCK_DB = "LOCK_STORE_DB"
LOCK_PASSWORD = "LOCK_STORE_PASSWORD"
LOCK_DEFAULTS = {LOCK_TYPE: "in_memory", LOCK_PORT: "6379", LOCK_DB: "1", LOCK_URL: "", LOCK_PASSWORD: ""}


def apply_tracker_store_defaults(environ: MutableMapping[str, str]) -> MutableMapping[str, str]:
    """Sets every TRACKER_STORE_* and LOCK_STORE_* variable endpoints.yml names that is unset or
    empty, in place.

    Raises SystemExit naming the variables a dialect other than SQLite, or a Redis lock store, needs
    but were not given.
    """

    def unset(name: str) -> bool:
        return not environ.get(name)

    if unset(DIALECT):
        environ[DIALECT] = DEFAULT_DIALECT
    if environ[DIALECT] == "sqlite":
        if unset(DB):
            environ[DB] = DEFAULT_SQLITE_DB
        if unset(PORT):
            environ[PORT] = SQLITE_PORT
    else:
        missing = [name for name in (PORT, DB) if unset(name)]
        if missing:
            raise SystemExit(
                f"{DIALECT}={environ[DIALECT]} needs {' and '.join(missing)} too (see README.md, Conversations)"
            )
    for name in (URL, USER, PASSWORD):
        environ.setdefault(name, "")
    for name, default in LOCK_DEFAULTS.items():
        if unset(name):
            environ[name] = default
    if environ[LOCK_TYPE] == "redis" and not environ[LOCK_URL]:
        raise SystemExit(f"{LOCK_TYPE}=redis needs {LOCK_URL} too, Redis's host (see docs/deploy.md)")
    return environ


def open_tracker_store(endpoints: Path, domain: Path) -> "TrackerStore":
    """The tracker store `endpoints` names (its variables already set), for reading conversations.

    Raises SystemExit with a plain message when a file is missing, the endpoints name no tracker
    store, the SQLite file does not exist (SQLite would create an empty one and show nothing, hiding
    a wrong path) or the database cannot be reached.
    """
    from rasa.core.tracker_store import TrackerStore
    from rasa.core.utils import read_endpoints_from_path
    from rasa.shared.core.domain import Domain
    from rasa.shared.exceptions import ConnectionException

    if not endpoints.is_file():
        raise SystemExit(f"{endpoints}: no such file")
    if not domain.exists():
        raise SystemExit(f"{domain}: no such file or directory")
    config = read_endpoints_from_path(endpoints).tracker_store
    if config is None:
        raise SystemExit(f"{endpoints} names no tracker_store: there are no conversations to read")
    if config.kwargs.get("dialect") == "sqlite":
        database = Path(str(config.kwargs.get("db")))
        if not database.is_file():
            raise SystemExit(f"no conversations yet: {database} does not exist (the tracker store of {endpoints})")
    try:
        return TrackerStore.create(config, Domain.load(str(domain)))
    except ConnectionException as error:
        raise SystemExit(f"cannot read the tracker store of {endpoints}: {error}")
