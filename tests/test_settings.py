"""Facts of configuration written once in ops/settings.py, and the files that must repeat one agree."""

import re
from urllib.parse import urlsplit

import yaml

from ops import settings
from ops.cluster import Ports
from scripts.ask import DEFAULT_URL

ROOT = settings.ROOT


def makefile_variable(name: str) -> str:
    found = re.search(rf"^(?:export )?{name} := (.*)$", (ROOT / "Makefile").read_text(encoding="utf-8"), re.MULTILINE)
    assert found, f"the Makefile sets no {name}"
    return found.group(1).strip()


def test_the_makefile_trains_the_model_the_servers_serve():
    assert ROOT / makefile_variable("MODEL") == settings.MODEL


def test_the_ports_agree_with_endpoints_yml_the_cluster_and_the_question_script():
    endpoints = yaml.safe_load((ROOT / "endpoints.yml").read_text(encoding="utf-8"))
    assert urlsplit(endpoints["action_endpoint"]["url"]).port == settings.ACTIONS_PORT
    assert (Ports().nginx, Ports().nginx_actions) == (settings.RASA_PORT, settings.ACTIONS_PORT)
    assert urlsplit(DEFAULT_URL).port == settings.RASA_PORT


def test_telemetry_is_off_wherever_rasa_runs():
    assert makefile_variable("RASA_TELEMETRY_ENABLED") == "false"
    assert settings.child_env()["RASA_TELEMETRY_ENABLED"] == "false"
    # What the container images and compose give Rasa (they do not run the launcher).
    assert "ENV RASA_TELEMETRY_ENABLED=false" in (ROOT / "deploy" / "rasa.Dockerfile").read_text(encoding="utf-8")
    compose = yaml.safe_load((ROOT / "deploy" / "docker-compose.yml").read_text(encoding="utf-8"))
    rasa_services = [
        service
        for service in compose["services"].values()
        if "RASA_TELEMETRY_ENABLED" in (service.get("environment") or {})
    ]
    assert rasa_services and all(
        service["environment"]["RASA_TELEMETRY_ENABLED"] == "false" for service in rasa_services
    )
