"""ops/supervisor.py with a real supervisord (PyPI's, in the venv) running a small web server: what
`make run` and `make cluster` count on: a crash is started again at once, a program that cannot
start is reported with its log, and one call stops everything."""

import sys

import pytest

from ops.process import free_local_port, is_up, port_is_open
from ops.settings import child_env
from ops.supervisor import Program, Supervisor, SupervisorError


def web(name: str, port: int, log) -> Program:
    return Program(name, [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"], log)


@pytest.fixture
def supervisor(tmp_path):
    running = Supervisor(tmp_path / "supervisor")
    yield running
    running.shutdown()


def test_a_crashed_program_is_started_again_and_one_call_stops_everything(supervisor, tmp_path):
    port = free_local_port()
    supervisor.write([web("web", port, tmp_path / "web.log")])
    supervisor.start(child_env())
    supervisor.start_program("web")
    supervisor.wait_until("web", lambda: is_up(f"http://127.0.0.1:{port}/"), 30)

    killed = supervisor.kill("web")
    supervisor.wait_until("web", lambda: is_up(f"http://127.0.0.1:{port}/"), 30, restarted=True)
    assert supervisor.info("web")["pid"] not in (0, killed)

    assert supervisor.shutdown() == ["web"]
    assert not port_is_open(port)
    assert not supervisor.running() and supervisor.programs() == {}


def test_a_program_that_cannot_start_is_reported_with_its_log(supervisor, tmp_path):
    log = tmp_path / "broken.log"
    supervisor.write([Program("broken", [sys.executable, "-c", "raise SystemExit('no model')"], log)])
    supervisor.start(child_env())
    supervisor.start_program("broken")
    with pytest.raises(SupervisorError, match=f"broken ended while starting; its log: {log}"):
        supervisor.wait_until("broken", lambda: False, 30)
    assert "no model" in log.read_text()


def test_values_are_written_as_given():
    section = Program(
        "rasa", ["rasa", "run", "--auth-token=-a%b c"], env={"TRACKER_STORE_PASSWORD": "p%(ENV_HOME)s"}
    ).section()
    assert "command=rasa run '--auth-token=-a%%b c'" in section
    assert 'environment=TRACKER_STORE_PASSWORD="p%%(ENV_HOME)s"' in section
    with pytest.raises(SupervisorError, match="TOKEN's value has a quote"):
        Program("rasa", ["rasa"], env={"TOKEN": 'a"b'}).section()
