"""The production files (deploy/, written for docker compose and Rasa's Helm charts, not run here)
agree with what runs here: the compose file and the Helm values parse; their images, ports,
channels and stores match endpoints.yml, credentials.yml, the installed Rasa and rasa-sdk; the nginx
rules shared with `make cluster` pass nginx's own check as compose renders them; and no file holds
a secret, every one comes from the environment."""

import re
import string
import subprocess
from importlib.metadata import version
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from conftest import ROOT, debian_package

from ops.settings import RASA_PORT

DEPLOY = ROOT / "deploy"
COMPOSE = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text(encoding="utf-8"))
RASA_VALUES = yaml.safe_load((DEPLOY / "helm" / "rasa-values.yaml").read_text(encoding="utf-8"))
ACTION_VALUES = yaml.safe_load((DEPLOY / "helm" / "action-server-values.yaml").read_text(encoding="utf-8"))
ENDPOINTS = yaml.safe_load((ROOT / "endpoints.yml").read_text(encoding="utf-8"))
CREDENTIALS = yaml.safe_load((ROOT / "credentials.yml").read_text(encoding="utf-8"))
ACTION_PORT = urlsplit(ENDPOINTS["action_endpoint"]["url"]).port
SERVICES = COMPOSE["services"]


def base_image(dockerfile: str) -> str:
    return re.search(r"^FROM (\S+)\s*$", (DEPLOY / dockerfile).read_text(encoding="utf-8"), re.M)[1]


def ports_in(upstream_file: str) -> set:
    text = (DEPLOY / "nginx" / "upstreams" / upstream_file).read_text(encoding="utf-8")
    return {int(port) for port in re.findall(r"^server [\w.-]+:(\d+)", text, re.M)}


def test_the_images_run_the_installed_rasa_and_rasa_sdk():
    assert base_image("rasa.Dockerfile") == f"rasa/rasa:{version('rasa')}"
    assert base_image("actions.Dockerfile") == f"rasa/rasa-sdk:{version('rasa-sdk')}"
    assert RASA_VALUES["image"]["tag"] == version("rasa")
    assert ACTION_VALUES["image"]["tag"] == version("rasa-sdk")


def test_compose_runs_every_piece_with_a_health_check_and_keeps_the_database():
    assert set(SERVICES) == {"postgres", "redis", "action-server", "rasa", "nginx", "web"}
    assert all("healthcheck" in service for service in SERVICES.values())
    assert SERVICES["rasa"]["deploy"]["replicas"] >= 2 and SERVICES["action-server"]["deploy"]["replicas"] >= 2
    volume = SERVICES["postgres"]["volumes"][0].split(":")
    assert volume[1] == "/var/lib/postgresql/data" and volume[0] in COMPOSE["volumes"]


def test_the_action_server_port_is_endpoints_yml_s_everywhere():
    compose_endpoints = yaml.safe_load((DEPLOY / "endpoints.yml").read_text(encoding="utf-8"))
    assert urlsplit(compose_endpoints["action_endpoint"]["url"]).port == ACTION_PORT
    assert urlsplit(compose_endpoints["action_endpoint"]["url"]).hostname == "nginx"
    command = SERVICES["action-server"]["command"]
    assert command[command.index("--port") + 1] == str(ACTION_PORT)
    assert f"EXPOSE {ACTION_PORT}" in (DEPLOY / "actions.Dockerfile").read_text(encoding="utf-8")
    assert SERVICES["nginx"]["environment"]["COPS_NGINX_ACTIONS_LISTEN"] == str(ACTION_PORT)
    assert ports_in("action-servers.conf") == {ACTION_PORT}
    assert ACTION_VALUES["applicationSettings"]["port"] == ACTION_VALUES["service"]["port"] == ACTION_PORT
    assert urlsplit(RASA_VALUES["rasa-action-server"]["external"]["url"]).port == ACTION_PORT


def test_the_rasa_port_is_the_same_everywhere():
    assert f"--port {RASA_PORT}" in SERVICES["rasa"]["command"][0]
    assert ports_in("rasa-servers.conf") == {RASA_PORT}
    assert SERVICES["nginx"]["environment"]["COPS_NGINX_LISTEN"] == str(RASA_PORT)
    # Published on this host's loopback unless COPS_PUBLISH_ADDRESS names another address.
    assert SERVICES["nginx"]["ports"] == [f"${{COPS_PUBLISH_ADDRESS:-127.0.0.1}}:{RASA_PORT}:{RASA_PORT}"]
    assert RASA_VALUES["applicationSettings"]["port"] == RASA_PORT
    assert f"--port {RASA_PORT}" in RASA_VALUES["args"][0]


def test_compose_uses_the_project_s_stores_with_only_the_action_endpoint_moved():
    compose_endpoints = yaml.safe_load((DEPLOY / "endpoints.yml").read_text(encoding="utf-8"))
    assert {key: value for key, value in compose_endpoints.items() if key != "action_endpoint"} == {
        key: value for key, value in ENDPOINTS.items() if key != "action_endpoint"
    }
    environment = SERVICES["rasa"]["environment"]
    # Every variable endpoints.yml names, set for the Rasa servers: PostgreSQL and Redis.
    named = set(re.findall(r"\$\{(\w+)\}", (ROOT / "endpoints.yml").read_text(encoding="utf-8")))
    assert named <= set(environment)
    assert (environment["TRACKER_STORE_DIALECT"], environment["TRACKER_STORE_URL"]) == ("postgresql", "postgres")
    assert (environment["LOCK_STORE_TYPE"], environment["LOCK_STORE_URL"]) == ("redis", "redis")
    rasa_dockerfile = (DEPLOY / "rasa.Dockerfile").read_text(encoding="utf-8")
    assert "COPY --chown=1001 deploy/endpoints.yml /app/endpoints.yml" in rasa_dockerfile
    assert "COPY --chown=1001 credentials.yml /app/credentials.yml" in rasa_dockerfile


def test_helm_sets_the_stores_the_channels_the_token_and_the_origins():
    settings = RASA_VALUES["applicationSettings"]
    tracker, lock = settings["endpoints"]["trackerStore"], settings["endpoints"]["lockStore"]
    assert (tracker["enabled"], tracker["type"], tracker["dialect"]) == (
        True,
        ENDPOINTS["tracker_store"]["type"],
        "postgresql",
    )
    assert (lock["enabled"], lock["type"], lock["store"]) == (True, ENDPOINTS["lock_store"]["type"], "redis")
    assert set(settings["credentials"]["additionalChannelCredentials"]) == set(CREDENTIALS)
    for channel, config in CREDENTIALS.items():
        given = settings["credentials"]["additionalChannelCredentials"][channel] or {}
        assert set(given) == set(config or {}), channel
    run = RASA_VALUES["args"][0]
    assert '--auth-token "$RASA_AUTH_TOKEN"' in run and "--cors $COPS_ALLOWED_ORIGINS" in run and "'*'" not in run
    from_secret = {env["name"]: env["valueFrom"] for env in RASA_VALUES["extraEnv"]}
    assert from_secret["RASA_AUTH_TOKEN"]["secretKeyRef"]["name"] == "cops-assistant"
    assert "COPS_ALLOWED_ORIGINS" in from_secret


def test_compose_takes_the_same_token_and_origins_from_the_environment():
    run = SERVICES["rasa"]["command"][0]  # $$: compose leaves it to the container's shell
    assert '--auth-token "$$RASA_AUTH_TOKEN"' in run and "--cors $$COPS_ALLOWED_ORIGINS" in run
    assert SERVICES["rasa"]["environment"]["RASA_AUTH_TOKEN"].startswith("${RASA_AUTH_TOKEN:?")
    assert SERVICES["rasa"]["environment"]["COPS_ALLOWED_ORIGINS"].startswith("${COPS_ALLOWED_ORIGINS:?")


SECRET_KEY = re.compile(r"password|token|secret|requirepass", re.I)
# What a secret's value may be: taken from the environment (compose's ${VAR:?...}, a shell's "$VAR",
# Rasa's ${VAR}) or from a Kubernetes Secret (valueFrom).
FROM_ENVIRONMENT = re.compile(r'^"?\$\{?\w+(:\?[^}]*)?\}?"?$')


def secrets_written(node, path="") -> list:
    """Values of keys that name a secret, and are written out instead of taken from the environment."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            where = f"{path}.{key}"
            names_where = str(key).startswith("existingSecret")  # a Secret's name or key, not its value
            if (
                SECRET_KEY.search(str(key))
                and not names_where
                and isinstance(value, (str, int))
                and not FROM_ENVIRONMENT.match(str(value))
            ):
                found.append(f"{where}: {value!r}")
            found += secrets_written(value, where)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += secrets_written(value, f"{path}[{index}]")
    return found


@pytest.mark.parametrize(
    "document", ["docker-compose.yml", "endpoints.yml", "helm/rasa-values.yaml", "helm/action-server-values.yaml"]
)
def test_no_secret_is_written_in_the_deploy_files(document):
    assert secrets_written(yaml.safe_load((DEPLOY / document).read_text(encoding="utf-8"))) == []


def test_every_secret_compose_needs_is_required_from_the_environment():
    text = (DEPLOY / "docker-compose.yml").read_text(encoding="utf-8")
    for name in ("RASA_AUTH_TOKEN", "POSTGRES_PASSWORD", "REDIS_PASSWORD", "COPS_ALLOWED_ORIGINS"):
        uses = re.findall(r"\$\{" + name + r"([^}]*)\}", text)
        assert uses and all(use.startswith(":?") for use in uses), name
    # The password reaches the server through the environment, never its command line.
    assert '--requirepass "$$REDIS_PASSWORD"' in SERVICES["redis"]["command"][-1]


def test_the_shared_nginx_rules_pass_nginx_s_check_as_compose_renders_them(tmp_path):
    nginx = debian_package("nginx", lambda: Path("/usr/sbin/nginx") if Path("/usr/sbin/nginx").exists() else None)
    environment = dict(SERVICES["nginx"]["environment"])
    mounts = dict(volume.split(":")[:2] for volume in SERVICES["nginx"]["volumes"])
    assert mounts["./nginx/templates"] == "/etc/nginx/templates"
    assert mounts["./nginx/upstreams"] == environment["COPS_NGINX_UPSTREAMS"]
    # Compose's service names resolve only inside compose: here they are this machine.
    upstreams = tmp_path / "upstreams"
    upstreams.mkdir()
    for listed in (DEPLOY / "nginx" / "upstreams").glob("*.conf"):
        text = re.sub(r"^server [\w-]+:", "server 127.0.0.1:", listed.read_text(encoding="utf-8"), flags=re.M)
        (upstreams / listed.name).write_text(text, encoding="utf-8")
    # As the image's envsubst does: only the variables set, never nginx's own.
    environment.update(COPS_NGINX_UPSTREAMS=str(upstreams), COPS_NGINX_ACCESS_LOG=str(tmp_path / "access.log"))
    template = DEPLOY / "nginx" / "templates" / "default.conf.template"
    rendered = string.Template(template.read_text(encoding="utf-8")).safe_substitute(environment)
    assert "${" not in rendered
    (tmp_path / "default.conf").write_text(rendered, encoding="utf-8")
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path / 'nginx.pid'};\nerror_log {tmp_path / 'error.log'};\nevents {{}}\n"
        f"http {{ include {tmp_path / 'default.conf'}; }}\n",
        encoding="utf-8",
    )
    checked = subprocess.run(
        [str(nginx), "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"), "-e", str(tmp_path / "error.log")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert checked.returncode == 0, checked.stderr
