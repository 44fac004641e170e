"""This machine's configuration, written once: where the project and its model are, the ports
`make run` serves on, and the environment every Rasa process gets (telemetry off: no call leaves
the machine). tests/test_settings.py checks the files that must repeat a value (the Makefile,
endpoints.yml) agree with it."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The virtualenv's programs (rasa, python): the one running this.
BIN = Path(sys.executable).parent
# make train writes it; make run, make shell, make cluster and the tests serve it.
MODEL = ROOT / "models" / "cops.tar.gz"
WEB = ROOT / "web"
# make run's ports (RASA_PORT and WEB_PORT change them), and the action server's, which
# endpoints.yml's action_endpoint names (the launcher reads it from there; tests/test_settings.py
# checks the two agree).
RASA_PORT = 5005
ACTIONS_PORT = 5055
WEB_PORT = 8080
TELEMETRY = {"RASA_TELEMETRY_ENABLED": "false"}


def child_env() -> dict:
    env = dict(os.environ)
    env.update(TELEMETRY)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return env
