"""Scale out on this machine: `make cluster` (up), `make cluster-down` (down), status.

Everything listens on 127.0.0.1 only; its data, logs and configuration are in var/cluster/
(git-ignored). supervisor (ops/supervisor.py) runs each server: it starts one that crashes again at
once, rotates its log in var/cluster/logs/, and stops them all, last started first, on `down`.
This module says what runs, in which order, and when each answers:
- PostgreSQL (Debian's package, ops/postgresql.py): the tracker store every Rasa server shares.
  Its data stays across down and up.
- Redis (Debian's package): the lock store they share, so a conversation's messages are handled one
  at a time and in order, whichever server gets them. Nothing in it needs keeping.
- one or two Rasa servers on the same model, each started the way `make run` starts its one
  (ops/launch.py: the project's channels, the HTTP API behind the token, browsers only from
  COPS_ALLOWED_ORIGINS);
- two action servers;
- nginx (Debian's package, a private instance run as root whose workers run as `nobody`): the
  one address for visitors, in front of the Rasa servers (REST, the HTTP API, socket.io with sticky
  sessions) and, for the Rasa servers, of the action servers. Its rules are
  deploy/nginx/templates/default.conf.template, the same file docker compose uses.
- the web page with the chat widget (`up`: http://localhost:8080), talking to nginx.

The benchmark and tests/test_cluster.py use it from Python:

    from ops.cluster import Ports, start, stop
    cluster = start(Ports.free(rasa_servers=1))  # returns once every server answers
    cluster.url, cluster.token                   # nginx: REST, socket.io, the HTTP API (?token=)
    cluster.kill("rasa-1")                       # a crash: supervisor starts it again
    stop(cluster.directory)                      # stops everything it started
"""

import argparse
import json
import os
import secrets
import socket
import string
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

import yaml

from channels.settings import ALLOWED_ORIGINS_ENV, allowed_origins
from ops import launch, settings
from ops.postgresql import PostgreSQL, server_bin
from ops.process import STARTUP_TIMEOUT_S, is_up, port_is_open
from ops.settings import MODEL, ROOT
from ops.supervisor import GAVE_UP, LOG_BYTES, Program, Supervisor, SupervisorError
from ops.tracker_store import apply_tracker_store_defaults

DIRECTORY = ROOT / "var" / "cluster"
CREDENTIALS = ROOT / "credentials.yml"
NGINX_TEMPLATE = ROOT / "deploy" / "nginx" / "templates" / "default.conf.template"
NGINX = Path("/usr/sbin/nginx")
REDIS = Path("/usr/bin/redis-server")
STATE = "cluster.json"
READY_TIMEOUT_S = 60
INFRASTRUCTURE = {"postgresql", "redis", "nginx", "web"}
# A server that fails one request is passed over for this long, then tried again.
UPSTREAM_FAIL_TIMEOUT_S = 5


class ClusterError(Exception):
    """The cluster cannot start: a program is missing, a port is taken, a server did not come up."""


@dataclass
class Ports:
    """Where each part listens on 127.0.0.1. As many Rasa servers as `rasa` names (1 or 2)."""

    nginx: int = settings.RASA_PORT  # visitors, scripts/ask.py and the web page go here, as to `make run`'s Rasa
    nginx_actions: int = settings.ACTIONS_PORT  # the Rasa servers call the action servers here (endpoints.yml's URL)
    rasa: Tuple[int, ...] = (5006, 5007)
    actions: Tuple[int, ...] = (5056, 5057)
    # Not the packages' usual ports, where a system-wide server may be running.
    postgresql: int = 5433
    redis: int = 6380
    web: Optional[int] = None  # the web page with the chat widget; None: not started

    @classmethod
    def default(cls, rasa_servers: int = 2, web: Optional[int] = None) -> "Ports":
        return cls(rasa=cls.rasa[:rasa_servers], web=web)

    @classmethod
    def free(cls, rasa_servers: int = 2, web: bool = False) -> "Ports":
        """Ports nothing listens on now, e.g. for a test or a benchmark next to `make run`."""
        probes = []
        try:
            for _ in range(6 + rasa_servers + web):
                probe = socket.socket()
                probe.bind(("127.0.0.1", 0))
                probes.append(probe)
            found = [probe.getsockname()[1] for probe in probes]
        finally:
            for probe in probes:
                probe.close()
        return cls(
            nginx=found[0],
            nginx_actions=found[1],
            actions=(found[2], found[3]),
            postgresql=found[4],
            redis=found[5],
            rasa=tuple(found[6 : 6 + rasa_servers]),
            web=found[-1] if web else None,
        )

    def named(self) -> List[Tuple[str, int]]:
        listed = [
            ("nginx", self.nginx),
            ("nginx (action servers)", self.nginx_actions),
            ("PostgreSQL", self.postgresql),
            ("Redis", self.redis),
        ]
        listed += [(f"rasa-{i}", port) for i, port in enumerate(self.rasa, 1)]
        listed += [(f"actions-{i}", port) for i, port in enumerate(self.actions, 1)]
        return listed + ([("web page", self.web)] if self.web else [])


def _rss_bytes(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


@dataclass
class Cluster:
    """A cluster's ports, secrets and files, as recorded in `directory`/cluster.json (readable by
    root only); what runs is supervisor's to tell."""

    directory: Path
    ports: Ports
    token: str
    postgresql_password: str
    redis_password: str
    model: Path
    credentials: Path
    env: Dict[str, str] = field(default_factory=dict)  # added to the Rasa and action servers' environment

    @property
    def url(self) -> str:
        """nginx: REST (/webhooks/rest/webhook), socket.io (/socket.io/), the HTTP API (?token=)."""
        return f"http://127.0.0.1:{self.ports.nginx}"

    @property
    def logs(self) -> Path:
        return self.directory / "logs"

    @property
    def access_log(self) -> Path:
        """nginx's log: a line per request, naming the server that answered (upstream=...)."""
        return self.directory / "nginx" / "access.log"

    @property
    def endpoints(self) -> Path:
        return self.directory / "endpoints.yml"

    def postgresql(self) -> PostgreSQL:
        bin_ = server_bin()
        if bin_ is None:
            raise ClusterError("PostgreSQL is not installed: apt-get install postgresql (make cluster does)")
        return PostgreSQL(bin_, self.directory / "postgresql", self.ports.postgresql, self.postgresql_password)

    def server_env(self) -> Dict[str, str]:
        """What the Rasa servers run with: the shared tracker and lock stores, and `env`."""
        env = settings.child_env()
        env.update(self.postgresql().env())
        env.update(
            LOCK_STORE_TYPE="redis",
            LOCK_STORE_URL="127.0.0.1",
            LOCK_STORE_PORT=str(self.ports.redis),
            LOCK_STORE_DB="1",
            LOCK_STORE_PASSWORD=self.redis_password,
        )
        env.update(self.env)
        return apply_tracker_store_defaults(env)

    @property
    def supervisor(self) -> Supervisor:
        return Supervisor(self.directory / "supervisor")

    @property
    def processes(self) -> Dict[str, dict]:
        """What supervisor runs, by name: its record of each (statename, pid ...); {} once stopped."""
        return self.supervisor.programs()

    def save(self) -> None:
        state = self.directory / STATE
        state.touch(mode=0o600)
        state.chmod(0o600)
        recorded = asdict(self)
        recorded.update(directory=str(self.directory), model=str(self.model), credentials=str(self.credentials))
        state.write_text(json.dumps(recorded, indent=2) + "\n", encoding="utf-8")

    def alive(self, name: str) -> bool:
        return self.supervisor.info(name)["statename"] == "RUNNING"

    def pid(self, name: str) -> int:
        return self.supervisor.info(name)["pid"]

    def kill(self, name: str) -> None:
        """A crash: SIGKILL to the server (e.g. "rasa-1", "actions-2"); returns once it is gone.
        supervisor starts it again by itself."""
        self.supervisor.kill(name)

    def wait_until_answering(self, name: str) -> None:
        """Returns once the Rasa or action server `name` answers, starting it if it is stopped."""
        if self.supervisor.info(name)["statename"] in GAVE_UP:
            self.supervisor.start_program(name)
        self._wait(name, restarted=True)

    def memory(self) -> Dict[str, int]:
        """Resident memory of each running process, in bytes (for nginx and PostgreSQL: the master)."""
        return {name: _rss_bytes(info["pid"]) for name, info in self.processes.items() if info["pid"]}

    def ports_by_name(self) -> Dict[str, int]:
        ports = {"postgresql": self.ports.postgresql, "redis": self.ports.redis, "nginx": self.ports.nginx}
        ports.update({f"rasa-{i}": port for i, port in enumerate(self.ports.rasa, 1)})
        ports.update({f"actions-{i}": port for i, port in enumerate(self.ports.actions, 1)})
        return ports | ({"web": self.ports.web} if self.ports.web else {})

    def programs(self) -> List[Program]:
        """Everything the cluster runs, as supervisor runs it; the priority orders the stopping."""
        logs = self.logs
        database = self.postgresql()
        programs = [
            # SIGINT: PostgreSQL's fast shutdown (SIGTERM would wait for every client to leave).
            Program(
                "postgresql",
                database.server_command(),
                logs / "postgresql.log",
                user=database.owner,
                stop_signal="INT",
                directory=database.dir,
            ),
            Program("redis", [str(REDIS), str(self.directory / "redis" / "redis.conf")], logs / "redis.log"),
        ]
        programs += [
            Program(
                f"actions-{i}",
                launch.action_server_command(port),
                logs / f"actions-{i}.log",
                env=launch.action_server_env("127.0.0.1"),
                priority=200,
            )
            for i, port in enumerate(self.ports.actions, 1)
        ]
        server_env = self.server_env()
        own = settings.child_env()
        programs += [
            Program(
                f"rasa-{i}",
                launch.rasa_run_command(
                    self.model, self.endpoints, self.credentials, "127.0.0.1", port, allowed_origins(), self.token
                ),
                logs / f"rasa-{i}.log",
                # Only what differs from supervisord's own environment (settings.child_env).
                env={key: value for key, value in server_env.items() if own.get(key) != value},
                priority=300,
            )
            for i, port in enumerate(self.ports.rasa, 1)
        ]
        nginx = self.directory / "nginx"
        programs.append(
            Program(
                "nginx",
                [str(NGINX), "-p", str(nginx), "-c", str(nginx / "nginx.conf"), "-e", str(nginx / "error.log")],
                logs / "nginx.log",
                priority=400,
            )
        )
        if self.ports.web:
            programs.append(Program("web", launch.web_server_command(self.ports.web), logs / "web.log", priority=500))
        return programs

    def health(self, name: str) -> Callable[[], bool]:
        """What tells that `name` answers."""
        kind, _, _ = name.partition("-")
        port = self.ports_by_name()[name]
        if kind == "postgresql":
            return self.postgresql().accepts_connections
        if kind == "redis":
            return self._redis_answers
        path = {"actions": "/health", "rasa": "/webhooks/rest/", "nginx": "/webhooks/rest/", "web": "/"}[kind]
        return lambda: is_up(f"http://127.0.0.1:{port}{path}")

    def _redis_answers(self) -> bool:
        import redis  # installed with Rasa, which uses it for the lock store

        client = redis.Redis(host="127.0.0.1", port=self.ports.redis, password=self.redis_password, socket_timeout=2)
        try:
            return bool(client.ping())
        except redis.exceptions.ConnectionError:
            return False

    def _start(self, *names: str) -> None:
        """Starts them together; returns once each answers."""
        for name in names:
            self.supervisor.start_program(name)
        for name in names:
            self._wait(name)

    def _wait(self, name: str, restarted: bool = False) -> None:
        try:
            self.supervisor.wait_until(
                name, self.health(name), READY_TIMEOUT_S if name in INFRASTRUCTURE else STARTUP_TIMEOUT_S, restarted
            )
        except SupervisorError as failure:
            raise ClusterError(str(failure)) from None


def load(directory: Path = DIRECTORY) -> Optional[Cluster]:
    """The cluster recorded in `directory`, or None."""
    state = directory / STATE
    if not state.exists():
        return None
    recorded = json.loads(state.read_text(encoding="utf-8"))
    recorded.pop("processes", None)  # recorded before supervisor ran the cluster
    ports = recorded.pop("ports")
    ports.update(rasa=tuple(ports["rasa"]), actions=tuple(ports["actions"]))
    return Cluster(
        directory=Path(recorded.pop("directory")),
        ports=Ports(**ports),
        model=Path(recorded.pop("model")),
        credentials=Path(recorded.pop("credentials")),
        **recorded,
    )


def _secret(path: Path) -> str:
    """A password kept in `path` (readable by root only), made the first time."""
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(24) + "\n", encoding="utf-8")
    return path.read_text(encoding="utf-8").strip()


def _write_endpoints(cluster: Cluster) -> None:
    """endpoints.yml with the action endpoint at nginx; the stores stay the variables it names."""
    endpoints = yaml.safe_load((ROOT / "endpoints.yml").read_text(encoding="utf-8"))
    endpoints["action_endpoint"]["url"] = f"http://127.0.0.1:{cluster.ports.nginx_actions}/webhook"
    cluster.endpoints.write_text(yaml.safe_dump(endpoints), encoding="utf-8")


def _write_redis_config(cluster: Cluster) -> None:
    directory = cluster.directory / "redis"
    directory.mkdir(exist_ok=True)
    # In a file, not on the command line, where `ps` would show the password.
    config = directory / "redis.conf"
    config.touch(mode=0o600)
    config.write_text(
        f"bind 127.0.0.1\nport {cluster.ports.redis}\nprotected-mode yes\n"
        f"requirepass {cluster.redis_password}\n"
        # Locks live for seconds: nothing to save, nothing to restore.
        'save ""\nappendonly no\n'
        f"dir {directory}\ndaemonize no\n",
        encoding="utf-8",
    )


def nginx_config(ports: Ports, directory: Path) -> Path:
    """Writes nginx's configuration for these ports into `directory` and returns the main file:
    deploy/nginx/templates/default.conf.template, rendered as the nginx image renders it."""
    directory.mkdir(parents=True, exist_ok=True)
    upstreams = directory / "upstreams"
    upstreams.mkdir(exist_ok=True)

    def servers(listed: Tuple[int, ...]) -> str:
        return "".join(
            f"server 127.0.0.1:{port} max_fails=1 fail_timeout={UPSTREAM_FAIL_TIMEOUT_S}s;\n" for port in listed
        )

    (upstreams / "rasa-servers.conf").write_text(servers(ports.rasa), encoding="utf-8")
    (upstreams / "action-servers.conf").write_text(servers(ports.actions), encoding="utf-8")
    # envsubst fills in only the variables it is given; so does safe_substitute, leaving nginx's.
    rendered = string.Template(NGINX_TEMPLATE.read_text(encoding="utf-8")).safe_substitute(
        COPS_NGINX_LISTEN=f"127.0.0.1:{ports.nginx}",
        COPS_NGINX_ACTIONS_LISTEN=f"127.0.0.1:{ports.nginx_actions}",
        COPS_NGINX_UPSTREAMS=str(upstreams),
        COPS_NGINX_ACCESS_LOG=str(directory / "access.log"),
    )
    (directory / "cops.conf").write_text(rendered, encoding="utf-8")
    temp = directory / "temp"
    temp.mkdir(exist_ok=True)
    main = directory / "nginx.conf"
    # Every path nginx writes is in `directory`: none of the package's own (/var/lib/nginx, /run).
    main.write_text(
        "daemon off;\n"
        "worker_processes 1;\n"
        f"pid {directory / 'nginx.pid'};\n"
        f"error_log {directory / 'error.log'} warn;\n"
        "events { worker_connections 1024; }\n"
        "http {\n"
        + "".join(
            f"    {kind}_temp_path {temp / kind};\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        + f"    include {directory / 'cops.conf'};\n"
        "}\n",
        encoding="utf-8",
    )
    return main


def _nginx(config: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    # -e: not even nginx's start-up messages go to the package's /var/log/nginx.
    return subprocess.run(
        [str(NGINX), "-p", str(config.parent), "-c", str(config), "-e", str(config.parent / "error.log"), *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=check,
    )


def _write_nginx_config(cluster: Cluster) -> None:
    config = nginx_config(cluster.ports, cluster.directory / "nginx")
    checked = _nginx(config, "-t", check=False)
    if checked.returncode != 0:
        raise ClusterError(f"nginx refuses its configuration {config}:\n{checked.stderr}")


def _check_ready(ports: Ports, model: Path) -> None:
    missing = [
        f"{path} (apt-get install {package})"
        for path, package in ((NGINX, "nginx"), (REDIS, "redis-server"))
        if not path.exists()
    ]
    if server_bin() is None:
        missing.append("PostgreSQL's server (apt-get install postgresql)")
    if missing:
        raise ClusterError("missing: " + ", ".join(missing) + "; `make cluster` installs them")
    if not model.exists():
        raise ClusterError(f"no model at {model}: `make train` makes one")
    taken = [f"{name} {port}" for name, port in ports.named() if port_is_open(port)]
    if taken:
        raise ClusterError(
            "already in use on 127.0.0.1: "
            + ", ".join(taken)
            + " (`make run` uses 5005, 5055 and 8080: stop it, or choose other ports)"
        )


def start(
    ports: Optional[Ports] = None,
    directory: Path = DIRECTORY,
    model: Path = MODEL,
    env: Optional[Dict[str, str]] = None,
    say: Callable[[str], None] = lambda _: None,
) -> Cluster:
    """Starts the whole cluster and returns once every server answers through nginx.

    ports: Ports.default() unless given (Ports.free() for ports nothing uses now); as many Rasa
    servers as ports.rasa names. directory: its files; PostgreSQL's data stays there across stop
    and start. env: added to the Rasa and action servers' environment (TICKET_LOCK_LIFETIME...).
    The HTTP API's token is RASA_AUTH_TOKEN if set, otherwise a new one kept in directory/auth-token.
    Raises ClusterError, having stopped whatever it had started, when something cannot start.
    """
    ports = ports or Ports.default()
    if not 1 <= len(ports.rasa) <= 2 or len(ports.actions) != 2:
        raise ClusterError("the cluster runs one or two Rasa servers and two action servers")
    directory = directory.resolve()
    directory.mkdir(parents=True, exist_ok=True)
    if Supervisor(directory / "supervisor").running():
        raise ClusterError(f"a cluster is already running from {directory}: stop it first (make cluster-down)")
    _check_ready(ports, model)
    (directory / "logs").mkdir(exist_ok=True)
    (directory / "postgresql").mkdir(exist_ok=True)
    token, _ = launch.auth_token(directory / "auth-token")
    cluster = Cluster(
        directory=directory,
        ports=ports,
        token=token,
        postgresql_password=_secret(directory / "postgresql-password"),
        redis_password=secrets.token_urlsafe(24),
        model=model.resolve(),
        credentials=CREDENTIALS,
        env=dict(env or {}),
    )
    cluster.save()
    try:
        database = cluster.postgresql()
        new_database = database.initialize()
        _write_redis_config(cluster)
        _write_endpoints(cluster)
        _write_nginx_config(cluster)
        cluster.supervisor.write(cluster.programs())
        cluster.supervisor.start(settings.child_env())
        say(f"PostgreSQL on 127.0.0.1:{ports.postgresql}, Redis on 127.0.0.1:{ports.redis} ...")
        cluster._start("postgresql", "redis")
        if new_database:
            database.create_database()
        say(
            f"{len(ports.actions)} action servers and {len(ports.rasa)} Rasa server(s) "
            "(each Rasa server loads the model: up to a minute) ..."
        )
        cluster._start(*(f"actions-{i}" for i in range(1, len(ports.actions) + 1)))
        cluster._start(*(f"rasa-{i}" for i in range(1, len(ports.rasa) + 1)))
        cluster._start("nginx", *(["web"] if ports.web else []))
    except BaseException:
        stop(directory)
        raise
    return cluster


def stop(directory: Path = DIRECTORY) -> List[str]:
    """Stops everything the cluster in `directory` runs, last started first; returns their names.
    Its data stays."""
    directory = directory.resolve()
    stopped = Supervisor(directory / "supervisor").shutdown()
    (directory / STATE).unlink(missing_ok=True)
    return stopped


def _megabytes(size: int) -> str:
    return f"{size / 2**20:,.0f} MB"


def up(args: argparse.Namespace) -> int:
    ports = Ports.default(args.rasa_servers, web=args.web_port)
    ports.nginx = args.port
    try:
        cluster = start(ports, say=lambda text: print(text, flush=True))
    except ClusterError as failure:
        print(f"make cluster: {failure}", file=sys.stderr)
        return 1
    url = f"http://localhost:{ports.nginx}"
    token_place = (
        "$RASA_AUTH_TOKEN"
        if os.environ.get(launch.TOKEN_ENV)
        else str((cluster.directory / "auth-token").relative_to(ROOT))
    )
    rasa = ", ".join(f"127.0.0.1:{port}" for port in ports.rasa)
    actions = ", ".join(f"127.0.0.1:{port}" for port in ports.actions)
    print(
        "\nThe cluster is running (this machine only):\n"
        f"  nginx          {url}: REST POST /webhooks/rest/webhook, socket.io /socket.io/,\n"
        f"                 HTTP API /status?token=<token> (the token is in {token_place})\n"
        f"  Rasa servers   {rasa}  (the tracker and lock stores below)\n"
        f"  action servers {actions}, behind nginx on 127.0.0.1:{ports.nginx_actions}\n"
        f"  PostgreSQL     127.0.0.1:{ports.postgresql}  (data in {cluster.directory.relative_to(ROOT)}/postgresql)\n"
        f"  Redis          127.0.0.1:{ports.redis}\n"
        + (f"  web page       http://localhost:{ports.web}  (the chat widget, through nginx)\n" if ports.web else "")
        + f"  logs           {cluster.logs.relative_to(ROOT)}/, nginx's in {cluster.access_log.parent.relative_to(ROOT)}/\n"
        f"  browsers       allowed from {os.environ.get(ALLOWED_ORIGINS_ENV) or ' '.join(allowed_origins())}\n"
        "`make cluster-down` stops it all.",
        flush=True,
    )
    return 0


def down(_: argparse.Namespace) -> int:
    stopped = stop()
    print(f"Stopped: {', '.join(stopped)}." if stopped else "No cluster is running.")
    return 0


def status(_: argparse.Namespace) -> int:
    cluster = load()
    processes = cluster.processes if cluster else {}
    if not processes:
        print("No cluster is running.")
        return 1
    ports = cluster.ports_by_name()
    for name, info in processes.items():
        state = info["statename"].lower()
        if info["pid"]:
            state += f", pid {info['pid']}, {_megabytes(_rss_bytes(info['pid']))} resident"
        print(f"  {name:<11} 127.0.0.1:{ports[name]:<6} {state}")
    print(f"Logs: {cluster.logs}/ (rotated at {LOG_BYTES}); supervisor's: {cluster.supervisor.log}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    start_it = commands.add_parser("up", help="start the cluster; returns once every server answers")
    start_it.add_argument("--rasa-servers", type=int, choices=[1, 2], default=2)
    start_it.add_argument("--port", type=int, default=Ports.nginx, help="nginx's port (REST, socket.io, API)")
    start_it.add_argument(
        "--web-port", type=int, default=int(os.environ.get("WEB_PORT", "8080")), help="the web page's port"
    )
    start_it.set_defaults(run=up)
    commands.add_parser("down", help="stop everything `up` started").set_defaults(run=down)
    commands.add_parser("status", help="what runs, and its memory").set_defaults(run=status)
    args = parser.parse_args()
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
