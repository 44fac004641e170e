"""PyPI's supervisor keeps the cluster's servers running (make cluster): it starts each, restarts one
that crashes, writes and rotates its log, and stops them all, last started first, with one call.

This module writes its configuration and talks to it over its Unix socket (XML-RPC), which sits in a
directory of its own readable by its owner only; supervisor opens no TCP port. Which program comes
first and when one answers is the caller's to say: supervisor only knows that a process runs.
"""

import shlex
import subprocess
import time
import xmlrpc.client
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional

from supervisor.xmlrpc import SupervisorTransport

from ops.settings import BIN, ROOT

SUPERVISORD = BIN / "supervisord"
CONFIG = "supervisord.conf"
SOCKET = "supervisor.sock"
READY_TIMEOUT_S = 30
# supervisor's states (supervisor/states.py) in which a program will not run unless started again:
# stopped on request, never started, or given up on after failing to start (startretries).
GAVE_UP = {"STOPPED", "FATAL"}
LOG_BYTES = "10MB"
LOG_BACKUPS = 3


class SupervisorError(Exception):
    """supervisord did not start, or a program did not come up."""


@dataclass
class Program:
    """One server under supervisor. `env` is added to supervisord's environment for it alone; with
    no `log`, its output goes to supervisord's own standard output (make run's terminal)."""

    name: str
    command: List[str]
    log: Optional[Path] = None
    env: Dict[str, str] = field(default_factory=dict)
    user: Optional[str] = None
    # Where it runs: a program run as another user must be able to enter it (the project's
    # folder may be private to its owner, as a fresh `mktemp -d` clone is).
    directory: Path = ROOT
    # Reverse order of stopping: supervisord stops the highest first.
    priority: int = 100
    stop_signal: str = "TERM"

    def section(self) -> str:
        lines = [
            f"[program:{self.name}]",
            f"command={_escaped(shlex.join(self.command))}",
            f"directory={_escaped(str(self.directory))}",
            f"priority={self.priority}",
            # The caller starts each one in order, once what it needs answers.
            "autostart=false",
            # A crash (any exit it was not asked for) is restarted at once.
            "autorestart=unexpected",
            "exitcodes=0",
            "startsecs=1",
            f"stopsignal={self.stop_signal}",
            "stopwaitsecs=15",
            # Whatever a server forked goes with it.
            "stopasgroup=true",
            "killasgroup=true",
            "redirect_stderr=true",
        ]
        if self.log:
            lines += [
                f"stdout_logfile={_escaped(str(self.log))}",
                f"stdout_logfile_maxbytes={LOG_BYTES}",
                f"stdout_logfile_backups={LOG_BACKUPS}",
            ]
        else:
            # A terminal or a pipe cannot be rotated.
            lines += ["stdout_logfile=/dev/stdout", "stdout_logfile_maxbytes=0"]
        if self.env:
            lines.append(
                "environment=" + ",".join(f"{key}={_env_value(key, value)}" for key, value in self.env.items())
            )
        if self.user:
            lines.append(f"user={self.user}")
        return "\n".join(lines) + "\n"


def _escaped(text: str) -> str:
    # supervisor expands %(name)s in its configuration's values.
    return text.replace("%", "%%")


def _env_value(key: str, value: str) -> str:
    # supervisor's environment= reads quoted values but no escapes: a quote inside cannot be written.
    if any(char in value for char in "\"'\n"):
        raise SupervisorError(f"{key}'s value has a quote or a line break, which supervisor cannot be given")
    return '"' + _escaped(value) + '"'


class Supervisor:
    """The supervisord whose configuration, socket and own log are in `directory`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.config = directory / CONFIG
        self.socket = directory / SOCKET
        self.log = directory / "supervisord.log"

    def write(self, programs: List[Program]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.directory.chmod(0o711)  # PostgreSQL's user must reach its data below it
        text = (
            "[supervisord]\n"
            f"logfile={_escaped(str(self.log))}\n"
            f"pidfile={_escaped(str(self.directory / 'supervisord.pid'))}\n"
            f"childlogdir={_escaped(str(self.directory))}\n"
            "\n[unix_http_server]\n"
            f"file={_escaped(str(self.socket))}\n"
            "chmod=0700\n"
            "\n[rpcinterface:supervisor]\n"
            "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n"
            "\n[supervisorctl]\n"
            f"serverurl=unix://{_escaped(str(self.socket))}\n"
        )
        text += "".join("\n" + program.section() for program in programs)
        # It holds the servers' passwords.
        self.config.touch(mode=0o600)
        self.config.chmod(0o600)
        self.config.write_text(text, encoding="utf-8")

    def start(self, env: Dict[str, str]) -> None:
        """Starts supervisord in the background (it outlives this process); returns once it answers."""
        done = subprocess.run(
            [str(SUPERVISORD), "--configuration", str(self.config)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=READY_TIMEOUT_S,
        )
        if done.returncode != 0:
            raise SupervisorError(f"supervisord did not start: {done.stdout}{done.stderr}".strip())
        self._wait_for_socket(lambda: False)

    def start_in_foreground(self, env: Dict[str, str]) -> subprocess.Popen:
        """Starts supervisord as a child of this process, writing to its standard output; returns
        once it answers. In a session of its own: a Ctrl-C is for the caller, who stops it."""
        process = subprocess.Popen(
            [str(SUPERVISORD), "--nodaemon", "--silent", "--configuration", str(self.config)],
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )
        self._wait_for_socket(lambda: process.poll() is not None)
        return process

    def _wait_for_socket(self, ended: Callable[[], bool]) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not self.running():
            if ended() or time.monotonic() > deadline:
                raise SupervisorError(f"supervisord did not answer on {self.socket}; its log: {self.log}")
            time.sleep(0.1)

    def _rpc(self):
        transport = SupervisorTransport(None, None, f"unix://{self.socket}")
        return xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport).supervisor

    def running(self) -> bool:
        if not self.socket.exists():
            return False
        try:
            return self._rpc().getState()["statename"] == "RUNNING"
        except (OSError, xmlrpc.client.Error):
            return False

    def programs(self) -> Dict[str, dict]:
        """Every program, by name: supervisor's record (statename, pid, exitstatus ...); {} once stopped."""
        if not self.socket.exists():
            return {}
        try:
            return {info["name"]: info for info in self._rpc().getAllProcessInfo()}
        except (OSError, xmlrpc.client.Error):
            return {}

    def info(self, name: str) -> dict:
        return self.programs().get(name, {"statename": "STOPPED", "pid": 0})

    def start_program(self, name: str) -> None:
        """Starts `name` without waiting for it (see wait_until)."""
        try:
            self._rpc().startProcess(name, False)
        except xmlrpc.client.Fault as fault:
            raise SupervisorError(f"{name} did not start: {fault.faultString}") from None

    def wait_until(self, name: str, answers: Callable[[], bool], timeout_s: float, restarted: bool = False) -> None:
        """Returns once `answers()` is true; otherwise stops `name` and raises, naming its log, when
        it ends first or `timeout_s` runs out. `restarted`: it may end and be started again by
        supervisor meanwhile (after a crash); otherwise, starting, it must not end at all."""
        deadline = time.monotonic() + timeout_s
        first_pid = 0
        while not answers():
            state = self.info(name)
            first_pid = first_pid or state["pid"]
            ended = state["statename"] in GAVE_UP or (
                not restarted and (state["statename"] in {"EXITED", "BACKOFF"} or state["pid"] not in (0, first_pid))
            )
            if ended or time.monotonic() > deadline:
                self.stop_program(name)
                reason = "ended while starting" if ended else f"did not answer within {timeout_s:.0f} s"
                raise SupervisorError(f"{name} {reason}; its log: {state.get('stdout_logfile', '')}")
            time.sleep(0.3)

    def stop_program(self, name: str) -> None:
        try:
            self._rpc().stopProcess(name, True)
        except xmlrpc.client.Fault:
            pass  # not running

    def kill(self, name: str) -> int:
        """A crash: SIGKILL to the program; returns its pid once that process is gone (supervisor
        then starts it again)."""
        pid = self.info(name)["pid"]
        self._rpc().signalProcess(name, "KILL")
        deadline = time.monotonic() + READY_TIMEOUT_S
        while self.info(name)["pid"] == pid:
            if time.monotonic() > deadline:
                raise SupervisorError(f"{name} (pid {pid}) was sent SIGKILL but supervisor still reports it")
            time.sleep(0.05)
        return pid

    def shutdown(self) -> List[str]:
        """Stops every program (the highest priority first), then supervisord; returns the names of
        those that were running."""
        running = [name for name, info in self.programs().items() if info["statename"] not in GAVE_UP | {"EXITED"}]
        if not self.running():
            return []
        self._rpc().shutdown()
        deadline = time.monotonic() + 120
        while self.socket.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        return running
