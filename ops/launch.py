"""Starts the assistant's servers: `python -m ops.launch run` (make run) or `shell` (make shell).

run:   the action server, the Rasa server (REST, socket.io and callback channels; the HTTP API with
       an auth token) and the web page with the chat widget, under supervisor, which starts one that
       crashes again; prints what runs where and stops them all on Ctrl-C.
shell: the action server if it is not already up, then `rasa shell`; when the shell ends (/stop or
       Ctrl-D), stops the action server it started.

The action server's address is read from the endpoints file, so the two always agree. The tracker
store's TRACKER_STORE_* variables get their defaults (SQLite in var/) from ops/tracker_store.py.
"""

import argparse
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO, List, Optional
from urllib.parse import urlsplit

import yaml

from channels.settings import allowed_origins
from ops.process import STARTUP_TIMEOUT_S, STOP_TIMEOUT_S, Server, StartupFailed, free_local_port, is_up
from ops.settings import BIN, MODEL, RASA_PORT, ROOT, WEB, WEB_PORT, child_env
from ops.supervisor import Program, Supervisor, SupervisorError
from ops.tracker_store import apply_tracker_store_defaults

TOKEN_FILE = ROOT / "var" / "auth-token"
TOKEN_ENV = "RASA_AUTH_TOKEN"


class StopRequested(Exception):
    """Ctrl-C or SIGTERM: stop every server this launcher started."""


def action_server_address(endpoints: Path):
    url = yaml.safe_load(endpoints.read_text(encoding="utf-8"))["action_endpoint"]["url"]
    parts = urlsplit(url)
    return parts.hostname, parts.port


def action_server_command(port: int) -> List[str]:
    return [str(BIN / "python"), "-m", "rasa_sdk", "--actions", "actions", "--port", str(port)]


def action_server_env(host: str) -> dict:
    # rasa-sdk binds to SANIC_HOST (0.0.0.0 unless told): keep it on the address Rasa calls.
    return {"SANIC_HOST": host}


def action_server(host: str, port: int, log: Optional[IO] = None) -> Server:
    """The action server on host:port, started (it answers once `wait_until_up` returns)."""
    return Server(
        "action server",
        action_server_command(port),
        f"http://{host}:{port}/health",
        dict(child_env(), **action_server_env(host)),
        log,
    )


def start_action_server(endpoints: Path) -> Server:
    server = action_server(*action_server_address(endpoints))
    server.wait_until_up()
    return server


def web_server_command(port: int) -> List[str]:
    widget = WEB / "node_modules" / "rasa-webchat" / "lib" / "index.js"
    if not widget.exists():
        raise SystemExit(f"{widget.relative_to(ROOT)} is missing: run `make run` (it runs npm ci in web/)")
    return [str(BIN / "python"), "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(WEB)]


def auth_token(token_file: Path = TOKEN_FILE) -> tuple:
    """The HTTP API's token: RASA_AUTH_TOKEN, or a new one for this session, kept in token_file."""
    if os.environ.get(TOKEN_ENV):
        return os.environ[TOKEN_ENV], f"${TOKEN_ENV}"
    token = secrets.token_urlsafe(32)
    token_file.touch(mode=0o600)
    token_file.chmod(0o600)
    token_file.write_text(token + "\n", encoding="utf-8")
    return token, str(token_file.relative_to(ROOT) if token_file.is_relative_to(ROOT) else token_file)


def rasa_command(model: Path, endpoints: Path, *subcommand: str) -> List[str]:
    return [
        str(BIN / "rasa"),
        *subcommand,
        "--model",
        str(model),
        "--endpoints",
        str(endpoints),
    ]


def rasa_run_command(
    model: Path, endpoints: Path, credentials: Path, interface: str, port: int, origins: List[str], token: str
) -> List[str]:
    """`rasa run` with the channels of `credentials`, the HTTP API behind `token` and browsers
    allowed from `origins` only."""
    return rasa_command(model, endpoints, "run") + [
        "--credentials",
        str(credentials),
        "--interface",
        interface,
        "--port",
        str(port),
        "--cors",
        *origins,
        "--enable-api",
        # One argument: a token that begins with "-" (token_urlsafe's alphabet has it) would
        # otherwise be read as an option, and the server would not start.
        f"--auth-token={token}",
    ]


def rasa_server(
    model: Path,
    endpoints: Path,
    credentials: Path,
    interface: str,
    port: int,
    origins: List[str],
    token: str,
    env: dict,
    log: Optional[IO] = None,
) -> Server:
    """The Rasa server of `rasa_run_command`, started (it answers once `wait_until_up` returns)."""
    return Server(
        "Rasa server",
        rasa_run_command(model, endpoints, credentials, interface, port, origins, token),
        f"http://{interface}:{port}/webhooks/rest/",
        env,
        log,
    )


def run(args: argparse.Namespace) -> int:
    """The three servers under supervisor (ops/supervisor.py), which starts one that crashes again;
    their output comes here. Ctrl-C (or SIGTERM) stops them all."""
    (ROOT / "var").mkdir(exist_ok=True)
    host, actions_port = action_server_address(args.endpoints)
    origins = allowed_origins()
    token, token_place = auth_token()
    rasa_url = f"http://{args.interface}:{args.port}"
    programs = [
        Program("actions", action_server_command(actions_port), env=action_server_env(host), priority=200),
        Program("web", web_server_command(args.web_port), priority=200),
        Program(
            "rasa",
            rasa_run_command(args.model, args.endpoints, args.credentials, args.interface, args.port, origins, token),
            priority=300,
        ),
    ]
    health = {
        "actions": f"http://{host}:{actions_port}/health",
        "web": f"http://127.0.0.1:{args.web_port}/",
        "rasa": f"{rasa_url}/webhooks/rest/",
    }
    names = {"actions": "The action server", "web": "The web page", "rasa": "The Rasa server"}

    def stop_requested(*_: object) -> None:
        raise StopRequested()

    signal.signal(signal.SIGINT, stop_requested)
    signal.signal(signal.SIGTERM, stop_requested)
    # Its configuration and socket: this run's own, so that tests can run several side by side.
    supervisor = Supervisor(Path(tempfile.mkdtemp(prefix="cops-run-")))
    supervisord = None
    try:
        supervisor.write(programs)
        supervisord = supervisor.start_in_foreground(child_env())
        for name in ("actions", "web", "rasa"):
            supervisor.start_program(name)
            supervisor.wait_until(name, lambda url=health[name]: is_up(url), STARTUP_TIMEOUT_S)
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
            f"  Action server  http://{host}:{actions_port}  (health: /health)\n"
            f"  Model          {args.model}\n"
            f"  Endpoints      {args.endpoints} (conversations are kept in the tracker store it names)\n"
            "Press Ctrl-C to stop them all.\n",
            flush=True,
        )
        pids = {name: info["pid"] for name, info in supervisor.programs().items()}
        while supervisord.poll() is None:
            time.sleep(1)
            for name, info in supervisor.programs().items():
                if info["statename"] == "FATAL":
                    print(f"{names[name]} could not be started again; stopping the rest.", flush=True)
                    return 1
                if info["pid"] and info["pid"] != pids[name]:
                    # While the action server is down, visitors get the Response Center's contacts
                    # (channels/guard.py); Rasa finds it again by itself.
                    print(f"{names[name]} stopped; supervisor is starting it again.", flush=True)
                    pids[name] = info["pid"]
        print("supervisor stopped; so did the servers.", flush=True)
        return 1
    except StopRequested:
        return 0
    except SupervisorError as failure:
        print(failure, file=sys.stderr, flush=True)
        return 1
    finally:
        # A second Ctrl-C must not cut the clean-up short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if supervisord is not None:
            supervisor.shutdown()
            supervisord.wait()
        shutil.rmtree(supervisor.directory, ignore_errors=True)


def shell(args: argparse.Namespace) -> int:
    """The action server unless one is up, then `rasa shell` in the foreground; stops what it started.

    Signals: Ctrl-C belongs to `rasa shell` (at its prompt it ends the session, "Cancelled by user";
    while the model loads it stops it) and this process waits for it. SIGTERM (make forwards it) and
    SIGHUP (the terminal was closed: the login shell sends it to the whole foreground job) stop
    `rasa shell` and then the action server this session started. While the action server starts,
    signals wait until it is up, so a Ctrl-C at that moment cannot leave it running on its own (it
    is in its own session: no signal from the terminal reaches it).
    """
    (ROOT / "var").mkdir(exist_ok=True)
    host, port = action_server_address(args.endpoints)
    started: Optional[Server] = None
    rasa: Optional[subprocess.Popen] = None
    starting = True
    pending: List[int] = []

    def on_signal(signum: int, _frame: object) -> None:
        if starting:
            pending.append(signum)
        elif signum != signal.SIGINT:
            raise SystemExit(128 + signum)  # the `finally` below stops what this session started

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, on_signal)
    try:
        if not is_up(f"http://{host}:{port}/health"):
            print(f"Starting the action server on {host}:{port} ...", flush=True)
            started = start_action_server(args.endpoints)
        starting = False
        if pending:
            return 128 + pending[0]
        # The shell's own Rasa server is only the console's way in: this machine only, on a port of
        # its own, so it neither shows on the network nor collides with `make run` (5005).
        command = rasa_command(args.model, args.endpoints, "shell") + [
            "--interface",
            "127.0.0.1",
            "--port",
            str(free_local_port()),
            "--conversation-id",
            args.conversation_id,
        ]
        print(
            f"Conversation id: {args.conversation_id} (`make story ID={args.conversation_id}` "
            "prints it as a test story)",
            flush=True,
        )
        rasa = subprocess.Popen(
            [str(BIN / "python"), "-m", "channels.rasa_shell", *command[1:]],
            cwd=ROOT,
            env=dict(child_env(), COPS_SHELL_LANGUAGE=args.language),
        )
        return rasa.wait()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)  # a second signal must not cut the clean-up short
        if rasa is not None and rasa.poll() is None:
            rasa.terminate()
            try:
                rasa.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                rasa.kill()
                rasa.wait()
        if started is not None:
            started.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["run", "shell"])
    parser.add_argument("--model", type=Path, default=MODEL)
    parser.add_argument("--endpoints", type=Path, default=ROOT / "endpoints.yml")
    parser.add_argument("--credentials", type=Path, default=ROOT / "credentials.yml")
    parser.add_argument("--interface", default=os.environ.get("RASA_INTERFACE", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("RASA_PORT", RASA_PORT)))
    parser.add_argument("--web-port", type=int, default=int(os.environ.get("WEB_PORT", WEB_PORT)))
    parser.add_argument("--language", choices=["en", "es"], default="en", help="shell: the conversation's language")
    parser.add_argument(
        "--conversation-id",
        default=time.strftime("staff-%Y%m%d-%H%M%S"),
        help="shell: the conversation's id in the tracker store",
    )
    args = parser.parse_args()
    # Before any server starts: they all get this environment (child_env) and Rasa needs every
    # variable endpoints.yml names.
    apply_tracker_store_defaults(os.environ)
    try:
        return run(args) if args.mode == "run" else shell(args)
    except StartupFailed as failure:
        print(failure, file=sys.stderr, flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
