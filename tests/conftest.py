import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Optional, TypeVar

import pytest
import yaml

# The tests' port and health helpers are the launcher's own, re-exported for the test modules.
from ops.process import free_local_port as free_port  # noqa: F401
from ops.process import is_up, port_is_open  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent

STARTUP_TIMEOUT_S = 240
T = TypeVar("T")

# Tests keep conversations in stores of their own, never in one the shell running them may name.
for _name in [name for name in os.environ if name.startswith(("TRACKER_STORE_", "LOCK_STORE_"))]:
    del os.environ[_name]


def debian_package(package: str, find: Callable[[], Optional[T]]) -> T:
    """What `find` finds (a program of Debian's `package`), installing the package first if it finds
    nothing; skips the test saying why when it cannot be installed here (`make test` installs it)."""
    found = find()
    if found:
        return found
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        pytest.skip(
            f"{package} is not installed and cannot be installed here (needs root and "
            f"apt-get): apt-get install {package}, or run `make test` as root"
        )
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", package]):
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            pytest.skip(
                f"{package} could not be installed: `{' '.join(command)}` failed:\n"
                f"{done.stdout[-1500:]}{done.stderr[-1500:]}"
            )
    found = find()
    if not found:
        pytest.skip(f"apt-get installed {package} but what the test needs of it is not there")
    return found


def assert_rasa_accepts(project: Path, *data: str) -> None:
    """`rasa data validate --fail-on-warnings` on the project in `project` (its domain/ and
    config.yml, its data/ and `data`): what staff run after changing the training data."""
    validated = subprocess.run(
        [
            sys.executable,
            "-m",
            "rasa",
            "data",
            "validate",
            "--fail-on-warnings",
            "--domain",
            "domain",
            "--config",
            "config.yml",
            "--data",
            "data",
            *data,
        ],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
        # The project's components (config.yml names them) import from its root.
        env=dict(os.environ, PYTHONPATH=str(ROOT), RASA_TELEMETRY_ENABLED="false"),
    )
    assert validated.returncode == 0, validated.stdout[-3000:] + validated.stderr[-3000:]


def listening_addresses(port: int) -> set:
    """The local addresses with a TCP socket listening on `port` (IPv4 as dotted quads, IPv6 as hex)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                if len(address) == 8:
                    found.add(".".join(str(int(address[i : i + 2], 16)) for i in (6, 4, 2, 0)))
                else:
                    found.add(address)
    return found


def processes() -> dict:
    """pid -> (parent pid, start time in ticks since boot, command line) for every live process."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:  # it ended meanwhile
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "; comm may hold spaces
        if fields[0] == "Z":  # a zombie has ended; only its parent has not collected it yet
            continue
        found[int(entry.name)] = (int(fields[1]), int(fields[19]), cmdline)
    return found


def process_tree(root_pid: int) -> dict:
    """root_pid and its descendants: pid -> (start time, command line)."""
    table = processes()
    tree, frontier = {}, [root_pid]
    while frontier:
        pid = frontier.pop()
        if pid in table:
            tree[pid] = table[pid][1:]
            frontier.extend(child for child, (parent, _, _) in table.items() if parent == pid)
    return tree


class Assistant:
    """The real servers, started by ops/launch.py exactly as `make run` starts them.

    Only what must differ for a test run differs: free ports, a throw-away tracker store, a callback
    URL pointing at `callback_port` (where a test may listen), and a known API token. `env` adds to
    the launcher's environment; when it names a TRACKER_STORE_DB, that store is used instead of the
    SQLite file `db`.
    """

    def __init__(self, tmp: Path, env: Optional[dict] = None) -> None:
        self.rasa_port = free_port()
        self.actions_port = free_port()
        self.web_port = free_port()
        self.callback_port = free_port()
        self.db = tmp / "conversations.db"
        self.token = "test-token-" + os.urandom(8).hex()
        self.origin = f"http://localhost:{self.web_port}"
        self.url = f"http://127.0.0.1:{self.rasa_port}"
        self.web_url = f"http://localhost:{self.web_port}"

        endpoints = yaml.safe_load((ROOT / "endpoints.yml").read_text(encoding="utf-8"))
        endpoints["action_endpoint"]["url"] = f"http://127.0.0.1:{self.actions_port}/webhook"
        if "TRACKER_STORE_DB" not in (env or {}):
            endpoints["tracker_store"]["db"] = str(self.db)
        self.endpoints = tmp / "endpoints.yml"
        self.endpoints.write_text(yaml.safe_dump(endpoints), encoding="utf-8")

        credentials = yaml.safe_load((ROOT / "credentials.yml").read_text(encoding="utf-8"))
        credentials["callback"]["url"] = f"http://127.0.0.1:{self.callback_port}/bot"
        self.credentials = tmp / "credentials.yml"
        self.credentials.write_text(yaml.safe_dump(credentials), encoding="utf-8")

        self.log_path = tmp / "serve.log"
        self.log = self.log_path.open("w")
        env = dict(os.environ, **(env or {}), RASA_AUTH_TOKEN=self.token, COPS_ALLOWED_ORIGINS=self.origin)
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ops.launch",
                "run",
                "--endpoints",
                str(self.endpoints),
                "--credentials",
                str(self.credentials),
                "--port",
                str(self.rasa_port),
                "--web-port",
                str(self.web_port),
            ],
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env=env,
        )

    def wait_until_ready(self) -> None:
        """Until every server answers its health check, as `make run` waits for them: the REST
        channel's (Rasa serves it once the model is loaded), the action server's, the web page."""
        health = [f"{self.url}/webhooks/rest/", f"http://127.0.0.1:{self.actions_port}/health", f"{self.web_url}/"]
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"make run's launcher exited:\n{self.log_path.read_text()[-3000:]}")
            if all(is_up(url) for url in health):
                return
            time.sleep(1)
        pytest.fail(f"the servers were not up after {STARTUP_TIMEOUT_S} s:\n{self.log_path.read_text()[-3000:]}")

    def ask(self, message: str, sender: str) -> list:
        from scripts.ask import ask

        return ask(message, sender, self.url)

    def stop(self) -> None:
        """What Ctrl-C does to `make run`."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


@pytest.fixture(scope="session")
def assistant(tmp_path_factory):
    """One running assistant shared by the end-to-end tests."""
    running = Assistant(tmp_path_factory.mktemp("assistant"))
    try:
        running.wait_until_ready()
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def redis_port():
    """A private Redis of Debian's package on 127.0.0.1, for the cluster's lock store."""
    import redis  # installed with Rasa, which uses it for the lock store

    server = debian_package("redis-server", lambda: shutil.which("redis-server"))
    port = free_port()
    directory = Path(tempfile.mkdtemp(prefix="cops-redis-"))
    # Locks live for seconds: nothing to save, nothing to restore.
    options = ["--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no", "--dir", str(directory)]
    process = subprocess.Popen([server, *options], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=2)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                client.ping()
                break
            except redis.exceptions.ConnectionError:  # not listening yet
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail("redis-server did not answer within 30 s")
                time.sleep(0.05)
        yield port
    finally:
        client.close()
        process.terminate()
        process.wait(30)
        shutil.rmtree(directory, ignore_errors=True)
