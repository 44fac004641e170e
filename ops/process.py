"""The servers as child processes: started in a process group of their own, waited for until their
health check answers, stopped with everything they forked."""

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from typing import IO, List, Optional

from ops.settings import ROOT

STARTUP_TIMEOUT_S = 180
STOP_TIMEOUT_S = 15


class StartupFailed(Exception):
    """A server exited or did not answer while starting."""


class Server:
    """A child process in its own process group, so stopping it stops everything it forked."""

    def __init__(self, name: str, command: List[str], health_url: str, env: dict, log: Optional[IO] = None) -> None:
        self.name = name
        self.health_url = health_url
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            start_new_session=True,
            stdout=log,
            stderr=subprocess.STDOUT if log else None,
        )

    def wait_until_up(self) -> None:
        """Returns once the server answers; otherwise stops it (it runs in its own session, so
        nothing else would) and raises."""
        try:
            self._wait_for_health()
        except BaseException:
            self.stop()
            raise

    def _wait_for_health(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise StartupFailed(f"{self.name} exited with code {self.process.returncode} while starting")
            if is_up(self.health_url):
                return
            time.sleep(0.5)
        raise StartupFailed(f"{self.name} did not answer {self.health_url} within {STARTUP_TIMEOUT_S} s")

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        except ProcessLookupError:
            pass


def is_up(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def free_local_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def port_is_open(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something accepts connections on host:port."""
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex((host, port)) == 0
