"""What a stranger on the network or a visitor's browser can and cannot do."""

import subprocess
import uuid

import pytest
import requests
from conftest import ROOT, listening_addresses

from ops.settings import MODEL


@pytest.mark.parametrize(
    "method, path",
    [
        ("PUT", "/model"),
        ("POST", "/model/parse"),
        ("GET", "/conversations/someone/tracker"),
        ("POST", "/conversations/someone/messages"),
        ("GET", "/status"),
    ],
)
def test_the_http_api_refuses_without_the_token(assistant, method, path):
    for params in ({}, {"token": "not-the-token"}):
        answer = requests.request(method, f"{assistant.url}{path}", params=params, json={"text": "hi"}, timeout=10)
        assert answer.status_code == 401, (method, path, params)


def test_the_http_api_answers_with_the_token(assistant):
    answer = requests.post(
        f"{assistant.url}/model/parse", params={"token": assistant.token}, json={"text": "hello"}, timeout=10
    )
    assert answer.status_code == 200 and answer.json()["intent"]["name"] == "greet"


def test_the_action_server_listens_on_this_machine_only(assistant):
    assert listening_addresses(assistant.actions_port) == {"127.0.0.1"}


def test_cors_allows_only_the_configured_origin(assistant):
    def preflight(origin: str) -> requests.Response:
        return requests.options(
            f"{assistant.url}/webhooks/rest/webhook",
            headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
            timeout=10,
        )

    assert preflight(assistant.origin).headers.get("Access-Control-Allow-Origin") == assistant.origin
    assert "Access-Control-Allow-Origin" not in preflight("http://evil.example").headers


def test_socketio_refuses_another_origin(assistant):
    polling = f"{assistant.url}/socket.io/?EIO=4&transport=polling"
    assert requests.get(polling, headers={"Origin": assistant.origin}, timeout=10).status_code == 200
    refused = requests.get(polling, headers={"Origin": "http://evil.example"}, timeout=10)
    assert refused.status_code == 400 and "Access-Control-Allow-Origin" not in refused.headers


def test_logs_do_not_contain_what_visitors_type(assistant):
    marker = f"my-private-detail-{uuid.uuid4()}"
    assistant.ask(f"what is the response center phone number? {marker}", f"privacy-{uuid.uuid4()}")
    assistant.ask(marker, f"privacy-{uuid.uuid4()}")
    assistant.log.flush()
    assert marker not in assistant.log_path.read_text()


@pytest.mark.parametrize(
    "path",
    [
        ".venv/bin/python",
        "models/cops.tar.gz",
        "var/conversations.db",
        "var/auth-token",
        ".env",
        ".env.production",
        "anything.db",
        "web/node_modules/rasa-webchat/lib/index.js",
        "results/x.json",
    ],
)
def test_local_and_generated_files_are_never_committed(path):
    ignored = subprocess.run(["git", "check-ignore", "--quiet", "--no-index", path], cwd=ROOT)
    assert ignored.returncode == 0, f"{path} is not git-ignored"


def test_a_token_that_begins_with_a_dash_is_still_the_token_rasa_reads():
    """secrets.token_urlsafe() begins with "-" one time in 64: `--auth-token -x...` made `make run`
    fail to start ("expected one argument")."""
    from rasa.__main__ import create_argument_parser

    from ops import launch

    command = launch.rasa_run_command(
        MODEL,
        ROOT / "endpoints.yml",
        ROOT / "credentials.yml",
        "127.0.0.1",
        5005,
        ["http://localhost:8080"],
        "-OBHXGaqd2p1tLFn",
    )
    arguments = create_argument_parser().parse_args(command[1:])
    assert arguments.auth_token == "-OBHXGaqd2p1tLFn"
    assert arguments.enable_api
