"""`make shell`, driven through a pseudo-terminal the way staff use it.

It types a question at Rasa's prompt, reads the answer (plain text, then the prompt again: the
custom actions send the shell channel no buttons, so no menu appears; replies written with buttons
in the domain, the greeting for one, do still show rasa's arrow-key menu), leaves, and checks that
nothing it started is left behind:

* `make shell` with no action server up starts one on the endpoints.yml address (127.0.0.1:5055) and
  stops it when the session ends, whichever way staff leave: /stop, Ctrl-C or Ctrl-D at the prompt,
  or closing the terminal window (the login shell then sends SIGHUP to the foreground job);
* `make shell` with an action server already up uses it and leaves it running.

"Left behind" means: any process `make shell` started (its process tree, taken while the prompt was
waiting, the action server included although it runs in a session of its own) still alive; the
action server port still open (first case); any process started since the test began whose command
line holds `rasa shell` (`python -m channels.rasa_shell shell`), or `rasa_sdk` with the action server port, and which carries this session's
mark in its environment (COPS_SHELL_TEST=<random id>, inherited by all that `make shell` starts),
still alive. The mark keeps a colleague's `make shell`, or other tests' servers, out of the count.

`make shell` cannot be pointed elsewhere: it uses endpoints.yml, so port 5055 and the tracker store
var/conversations.db (each session is a new conversation id there). If port 5055 is already in use
when a test begins, the test is SKIPPED, with the reason, and nothing is stopped: whatever listens
there belongs to someone else (a colleague's `make run` or `make shell`), stopping it is not this
test's business, and with it up neither case can be checked (the first needs the port free, the
second an action server whose life the test controls). Two runs of this file at once (two people's
`make test`) take turns: each test holds a lock, /tmp/cops-make-shell-<port>.lock, while it runs.
Other tests' servers never collide: they run on ephemeral ports (32768 and up), and the shell's own
Rasa server takes a free port too. Someone starting `make run` or `make shell` by hand while a test
runs is not guarded against: their action server or ours would find 5055 taken. The test
is also skipped when the model or .venv is out of date, since `make shell` would first retrain or
reinstall (`make test` brings both up to date before pytest runs).
"""

import fcntl
import os
import re
import signal
import subprocess
import time
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pexpect
import pytest
import yaml
from conftest import ROOT, listening_addresses, port_is_open, process_tree, processes

from ops.settings import MODEL, child_env

PYTHON = ROOT / ".venv" / "bin" / "python"
PROMPT = "Your input ->"
QUESTION = "what is the response center phone number?"
ANSWER = "800-421-6770"
STARTUP_TIMEOUT_S = 240  # model loading takes 10-20 s on a quiet machine
STOP_TIMEOUT_S = 60
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
MARK = "COPS_SHELL_TEST"

_ACTION_URL = urlsplit(yaml.safe_load((ROOT / "endpoints.yml").read_text(encoding="utf-8"))["action_endpoint"]["url"])
ACTION_HOST, ACTION_PORT = _ACTION_URL.hostname, _ACTION_URL.port
# `rasa shell` as make shell starts it (with its patch, channels/rasa_shell.py).
RASA_SHELL = "channels.rasa_shell shell"
ACTION_HEALTH = f"http://{ACTION_HOST}:{ACTION_PORT}/health"


# --- processes and ports, from /proc -------------------------------------------------------------


def now_ticks() -> int:
    """Now, in the unit of /proc/<pid>/stat's start time (clock ticks since boot)."""
    return int(float(Path("/proc/uptime").read_text().split()[0]) * CLOCK_TICKS)


def still_alive(known: dict) -> dict:
    """Those of `known` (pid -> (start time, command line)) that still run (same pid, same start)."""
    table = processes()
    return {pid: info for pid, info in known.items() if pid in table and table[pid][1] == info[0]}


def carries(pid: int, mark: str) -> bool:
    """Whether the process's environment holds `mark` (NAME=value)."""
    try:
        return mark.encode() in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:  # ended, or not ours to read
        return False


def suspects_since(begin_ticks: int, mark: str) -> dict:
    """Processes started since begin_ticks, carrying `mark`, that look like a shell session's:
    `rasa shell`, or the action server on the endpoints.yml port."""
    port_flag = re.compile(rf"--port[ =]{ACTION_PORT}\b")
    return {
        pid: cmdline
        for pid, (_, start, cmdline) in processes().items()
        if start >= begin_ticks
        and (RASA_SHELL in cmdline or ("rasa_sdk" in cmdline and port_flag.search(cmdline)))
        and carries(pid, mark)
    }


def is_healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def wait_for(condition, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.25)
    return condition()


# --- the session ---------------------------------------------------------------------------------


def staff_environment() -> dict:
    """The caller's environment, as a terminal would give it; not a parent make's job server."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")}
    env["TERM"] = "dumb"  # prompt_toolkit still draws its prompt; fewer escape sequences to read past
    return env


class ShellSession:
    """`make shell` in a pseudo-terminal, with a transcript in `log_path`."""

    def __init__(self, log_path: Path, *make_args: str) -> None:
        self.log_path = log_path
        self.log = log_path.open("w", encoding="utf-8")
        self.tree: dict = {}
        env = staff_environment()
        env[MARK] = uuid.uuid4().hex
        self.mark = f"{MARK}={env[MARK]}"
        self.child = pexpect.spawn(
            "make",
            ["shell", *make_args],
            cwd=str(ROOT),
            env=env,
            encoding="utf-8",
            codec_errors="replace",
            timeout=STARTUP_TIMEOUT_S,
            dimensions=(40, 200),
        )
        self.child.logfile_read = self.log

    def transcript(self, last: int = 4000) -> str:
        self.log.flush()
        text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", self.log_path.read_text(encoding="utf-8", errors="replace"))
        return text[-last:]

    def expect(self, pattern, timeout: float) -> str:
        """Waits for `pattern`; returns what came before it."""
        try:
            self.child.expect(pattern, timeout=timeout)
        except (pexpect.TIMEOUT, pexpect.EOF) as error:
            pytest.fail(f"waiting for {pattern!r}: {type(error).__name__}\n--- make shell said:\n{self.transcript()}")
        return self.child.before

    def snapshot(self) -> None:
        """Everything `make shell` started, while it runs."""
        self.tree = process_tree(self.child.pid)

    def close(self) -> None:
        """If a check failed midway, end what this session started (and nothing else)."""
        if self.child.isalive():
            try:
                os.killpg(self.child.pid, signal.SIGHUP)  # as closing the terminal would
            except ProcessLookupError:
                pass
            wait_for(lambda: not self.child.isalive(), STOP_TIMEOUT_S)
        for pid in still_alive({**self.tree, **process_tree(self.child.pid)}):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.child.close(force=True)
        self.log.close()


def how_many(text: str, pattern: str) -> int:
    return len(re.findall(pattern, text))


def talk_and_leave(session: ShellSession, leave: str, begin_ticks: int) -> None:
    """The prompt, the question, the answer, then `leave`; waits until the terminal closes."""
    session.expect(PROMPT, STARTUP_TIMEOUT_S)
    session.snapshot()
    # The leftover check must be able to see this session's processes, or it proves nothing.
    assert any(RASA_SHELL in cmd for cmd in suspects_since(begin_ticks, session.mark).values())
    rasa = [cmd for _, cmd in session.tree.values() if RASA_SHELL in cmd]
    assert rasa, f"no `rasa shell` among make shell's processes: {session.tree}"
    port_flag = re.search(r"--port (\d+)", rasa[0])
    shell_port = int(port_flag.group(1)) if port_flag else 5005  # rasa's default
    assert listening_addresses(shell_port) == {"127.0.0.1"}, (
        f"the shell's Rasa server listens on {listening_addresses(shell_port) or 'nothing'} port {shell_port}: "
        "it must be reachable from this machine only"
    )

    session.child.sendline(QUESTION)
    session.expect(ANSWER, 60)  # (the prompt is drawn again, with the question, as soon as it is sent)
    rest_of_reply = session.expect(PROMPT, 60)  # with buttons, a menu would stand here instead
    assert "Type out your own message" not in rest_of_reply, f"a buttons menu appeared:\n{session.transcript()}"

    if leave == "/stop":
        session.child.sendline("/stop")
    elif leave == "ctrl-c":
        session.child.sendintr()
    elif leave == "ctrl-d":
        session.child.sendeof()
    elif leave == "terminal closed":
        os.killpg(session.child.pid, signal.SIGHUP)  # what the login shell does to its foreground job
    else:
        raise ValueError(leave)
    session.expect(pexpect.EOF, STOP_TIMEOUT_S)
    session.child.close()
    if leave != "terminal closed":  # make itself dies of the hang-up then
        assert session.child.exitstatus == 0, (
            f"make shell ended with {session.child.exitstatus} (signal {session.child.signalstatus}):\n"
            f"{session.transcript()}"
        )


def assert_nothing_left(session: ShellSession, begin_ticks: int) -> None:
    left = {}
    wait_for(lambda: not still_alive(session.tree) and not suspects_since(begin_ticks, session.mark), 10)
    left.update({pid: cmd for pid, (_, cmd) in still_alive(session.tree).items()})
    left.update(suspects_since(begin_ticks, session.mark))
    assert not left, f"left running after make shell ended: {left}\n--- make shell said:\n{session.transcript()}"


# --- fixtures ------------------------------------------------------------------------------------


@pytest.fixture
def begin_ticks():
    """The test's start, once no other run of this test is going on (the lock is held until the test
    ends); skips the test when `make shell` cannot run cleanly now (module docstring)."""
    with open(Path("/tmp") / f"cops-make-shell-{ACTION_PORT}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, after the test
        yield check_make_shell_can_run()


def check_make_shell_can_run() -> int:
    if port_is_open(ACTION_PORT, ACTION_HOST):
        pytest.skip(
            f"{ACTION_HOST}:{ACTION_PORT} (endpoints.yml's action server) is already in use by a process "
            "this test did not start; it is left alone, and `make shell` cannot be tested meanwhile"
        )
    stale = subprocess.run(
        ["make", "--question", ".venv/bin/.installed", str(MODEL.relative_to(ROOT))],
        cwd=ROOT,
        env=staff_environment(),
        capture_output=True,
    )
    if stale.returncode != 0:
        pytest.skip(
            "the model or .venv is out of date, so `make shell` would retrain/reinstall first: run `make train`"
        )
    return now_ticks()


@pytest.fixture
def session(begin_ticks, tmp_path):
    running = ShellSession(tmp_path / "make-shell.log")
    try:
        yield running
    finally:
        running.close()


@pytest.fixture
def own_action_server(begin_ticks, tmp_path):
    """An action server on the endpoints.yml address, started (and stopped) by the test itself."""
    env = dict(child_env(), SANIC_HOST=ACTION_HOST)
    log = (tmp_path / "action-server.log").open("w")
    server = subprocess.Popen(
        [str(PYTHON), "-m", "rasa_sdk", "--actions", "actions", "--port", str(ACTION_PORT)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        if (
            not wait_for(lambda: server.poll() is not None or is_healthy(ACTION_HEALTH), STARTUP_TIMEOUT_S)
            or server.poll() is not None
        ):
            pytest.fail(
                f"the test's action server did not start:\n{(tmp_path / 'action-server.log').read_text()[-3000:]}"
            )
        yield server
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
        log.close()


# --- the tests -----------------------------------------------------------------------------------


@pytest.mark.parametrize("leave", ["/stop", "ctrl-c", "ctrl-d", "terminal closed"])
def test_make_shell_starts_the_action_server_and_stops_it_when_staff_leave(begin_ticks, session, leave):
    talk_and_leave(session, leave, begin_ticks)

    said = session.transcript(last=10**7)
    assert how_many(said, f"Starting the action server on {ACTION_HOST}:{ACTION_PORT}") == 1, said[-4000:]
    assert any("rasa_sdk" in cmd for _, cmd in session.tree.values()), f"no action server among {session.tree}"
    assert wait_for(lambda: not port_is_open(ACTION_PORT, ACTION_HOST), 10), (
        f"{ACTION_HOST}:{ACTION_PORT} still open after make shell ended"
    )
    assert_nothing_left(session, begin_ticks)


def test_make_shell_uses_a_running_action_server_and_leaves_it_running(begin_ticks, own_action_server, session):
    talk_and_leave(session, "/stop", begin_ticks)

    said = session.transcript(last=10**7)
    assert "Starting the action server" not in said, said[-4000:]
    assert not any("rasa_sdk" in cmd for _, cmd in session.tree.values()), (
        f"make shell started an action server of its own: {session.tree}"
    )
    assert own_action_server.poll() is None, "the action server make shell found was stopped"
    assert is_healthy(ACTION_HEALTH), f"{ACTION_HEALTH} no longer answers after make shell ended"
    assert own_action_server.pid not in session.tree
    assert_nothing_left(session, begin_ticks)


def test_make_shell_in_spanish_opens_and_answers_in_spanish(begin_ticks, tmp_path):
    """`make shell CHAT_LANGUAGE=es`: staff try what a Spanish-speaking visitor gets."""
    session = ShellSession(tmp_path / "make-shell-es.log", "CHAT_LANGUAGE=es")
    try:
        session.expect("le responderé en español", STARTUP_TIMEOUT_S)
        session.expect(PROMPT, 60)
        session.snapshot()
        session.child.sendline("cual es el numero de telefono?")
        reply = session.expect(ANSWER, 60)
        assert "Puede llamar" in reply, session.transcript()
        session.expect(PROMPT, 60)
        session.child.sendline("/stop")
        session.expect(pexpect.EOF, STOP_TIMEOUT_S)
        session.child.close()
        assert session.child.exitstatus == 0, session.transcript()
        assert_nothing_left(session, begin_ticks)
    finally:
        session.close()
