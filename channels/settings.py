"""Settings the Rasa server's channels share with the launcher (ops/launch.py)."""

import os
from typing import List

# The web page with the chat widget (`make run` serves it here). Other pages may not talk to the
# assistant from a browser unless they are added to the environment variable.
DEFAULT_ALLOWED_ORIGINS = "http://localhost:8080"
ALLOWED_ORIGINS_ENV = "COPS_ALLOWED_ORIGINS"


def allowed_origins() -> List[str]:
    """The browser origins allowed to use the REST and socket.io channels.

    COPS_ALLOWED_ORIGINS, when set, replaces the default: origins separated by spaces or commas.
    """
    value = os.environ.get(ALLOWED_ORIGINS_ENV, DEFAULT_ALLOWED_ORIGINS)
    origins = [origin.strip().rstrip("/") for origin in value.replace(",", " ").split()]
    if not origins or "*" in origins:
        raise ValueError(f"{ALLOWED_ORIGINS_ENV} must list origins such as {DEFAULT_ALLOWED_ORIGINS}, not {value!r}")
    return origins
