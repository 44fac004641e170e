"""Starts the assistant's servers: `run` (make run) or `shell` (make shell).

run:   the action server, the Rasa server (REST, socket.io and callback channels; the HTTP API with
       an auth token) and the web page with the chat widget; prints what runs where and stops them
       all on Ctrl-C (or when any of them dies).
shell: the action server if it is not already up, then `rasa shell`; when the shell ends (/stop or
       Ctrl-D), stops the action server it started.

The action server's address is read from the endpoints file, so the two always agree.
"""

import argparse
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import List, Optional
from urllib.parse import urlsplit

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from channels.settings import allowed_origins  # noqa: E402  (needs ROOT on the path)

BIN = Path(sys.executable).parent
WEB = ROOT / "web"
TOKEN_FILE = ROOT / "var" / "auth-token"
TOKEN_ENV = "RASA_AUTH_TOKEN"
STARTUP_TIMEOUT_S = 180
STOP_TIMEOUT_S = 15


class Server:
    """A child process in its own process group, so stopping it stops everything it forked."""

    def __init__(self, name: str, command: List[str], health_url: str, env: dict) -> None:
        self.name = name
        self.health_url = health_url
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, start_new_session=True
        )

    def wait_until_up(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"{self.name} exited with code {self.process.returncode} while starting")
            if is_up(self.health_url):
                return
            time.sleep(0.5)
        raise SystemExit(f"{self.name} did not answer {self.health_url} within {STARTUP_TIMEOUT_S} s")

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


def action_server_address(endpoints: Path):
    url = yaml.safe_load(endpoints.read_text(encoding="utf-8"))["action_endpoint"]["url"]
    parts = urlsplit(url)
    return parts.hostname, parts.port


def child_env() -> dict:
    env = dict(os.environ)
    env["RASA_TELEMETRY_ENABLED"] = "false"
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return env


def start_action_server(endpoints: Path) -> Server:
    host, port = action_server_address(endpoints)
    env = child_env()
    # rasa-sdk binds to SANIC_HOST (0.0.0.0 unless told): keep it on the address Rasa calls.
    env["SANIC_HOST"] = host
    server = Server(
        "action server",
        [str(BIN / "python"), "-m", "rasa_sdk", "--actions", "actions", "--port", str(port)],
        f"http://{host}:{port}/health",
        env,
    )
    server.wait_until_up()
    return server


def start_web_server(port: int) -> Server:
    widget = WEB / "node_modules" / "rasa-webchat" / "lib" / "index.js"
    if not widget.exists():
        raise SystemExit(f"{widget.relative_to(ROOT)} is missing: run `make run` (it runs npm ci in web/)")
    server = Server(
        "web page",
        [str(BIN / "python"), "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(WEB)],
        f"http://127.0.0.1:{port}/",
        child_env(),
    )
    server.wait_until_up()
    return server


def auth_token() -> tuple:
    """The HTTP API's token: RASA_AUTH_TOKEN, or a new one for this session, kept in var/auth-token."""
    if os.environ.get(TOKEN_ENV):
        return os.environ[TOKEN_ENV], f"${TOKEN_ENV}"
    token = secrets.token_urlsafe(32)
    TOKEN_FILE.touch(mode=0o600)
    TOKEN_FILE.chmod(0o600)
    TOKEN_FILE.write_text(token + "\n", encoding="utf-8")
    return token, str(TOKEN_FILE.relative_to(ROOT))


def rasa_command(args: argparse.Namespace, *subcommand: str) -> List[str]:
    return [
        str(BIN / "rasa"),
        *subcommand,
        "--model", str(args.model),
        "--endpoints", str(args.endpoints),
    ]


def run(args: argparse.Namespace) -> int:
    (ROOT / "var").mkdir(exist_ok=True)
    servers: List[Server] = []

    def stop_all(*_: object) -> None:
        for server in reversed(servers):
            server.stop()
        raise SystemExit(0)

    signal.signal(signal.SIGINT, stop_all)
    signal.signal(signal.SIGTERM, stop_all)
    try:
        servers.append(start_action_server(args.endpoints))
        servers.append(start_web_server(args.web_port))
        origins = allowed_origins()
        token, token_place = auth_token()
        rasa_url = f"http://{args.interface}:{args.port}"
        servers.append(
            Server(
                "Rasa server",
                rasa_command(args, "run")
                + [
                    "--credentials", str(args.credentials),
                    "--interface", args.interface,
                    "--port", str(args.port),
                    "--cors", *origins,
                    "--enable-api",
                    "--auth-token", token,
                ],
                f"{rasa_url}/webhooks/rest/",
                child_env(),
            )
        )
        servers[-1].wait_until_up()
        host, port = action_server_address(args.endpoints)
        print(
            "\nThe COPS Office help assistant is running:\n"
            f"  Rasa server    {rasa_url}\n"
            f"    REST         POST {rasa_url}/webhooks/rest/webhook"
            ' {"sender": "you", "message": "hello"}\n'
            f"    socket.io    {rasa_url}/socket.io/\n"
            f"    callback     POST {rasa_url}/webhooks/callback/webhook (replies go to the url in {args.credentials.name})\n"
            f"    HTTP API     {rasa_url}/status?token=<token>, the token is in {token_place}\n"
            f"    browsers     allowed from {' '.join(origins)}\n"
            f"  Web page       http://localhost:{args.web_port}  (the chat widget)\n"
            f"  Action server  http://{host}:{port}  (health: /health)\n"
            f"  Model          {args.model}\n"
            f"  Endpoints      {args.endpoints} (conversations are kept in the tracker store it names)\n"
            "Press Ctrl-C to stop them all.\n",
            flush=True,
        )
        while all(server.process.poll() is None for server in servers):
            time.sleep(1)
        dead = next(server for server in servers if server.process.poll() is not None)
        print(f"{dead.name} stopped (exit code {dead.process.returncode}); stopping the rest.", flush=True)
        return 1
    finally:
        for server in reversed(servers):
            server.stop()


def shell(args: argparse.Namespace) -> int:
    (ROOT / "var").mkdir(exist_ok=True)
    host, port = action_server_address(args.endpoints)
    started: Optional[Server] = None
    if not is_up(f"http://{host}:{port}/health"):
        print(f"Starting the action server on {host}:{port} ...", flush=True)
        started = start_action_server(args.endpoints)
    # Ctrl-C belongs to rasa shell; this process only waits for it to end.
    signal.signal(signal.SIGINT, lambda *_: None)
    try:
        return subprocess.call(rasa_command(args, "shell"), cwd=ROOT, env=child_env())
    finally:
        if started is not None:
            started.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["run", "shell"])
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "cops.tar.gz")
    parser.add_argument("--endpoints", type=Path, default=ROOT / "endpoints.yml")
    parser.add_argument("--credentials", type=Path, default=ROOT / "credentials.yml")
    parser.add_argument("--interface", default=os.environ.get("RASA_INTERFACE", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("RASA_PORT", "5005")))
    parser.add_argument("--web-port", type=int, default=int(os.environ.get("WEB_PORT", "8080")))
    args = parser.parse_args()
    return run(args) if args.mode == "run" else shell(args)


if __name__ == "__main__":
    sys.exit(main())
