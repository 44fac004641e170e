"""A private PostgreSQL server of Debian's `postgresql` package, never the package's own cluster.

The restart test runs one as a throw-away cluster in a temporary directory; `make cluster` keeps one
in var/cluster/postgresql, so its conversations survive `make cluster-down`. Either way it listens
on 127.0.0.1 only (its Unix socket sits in its own directory) and holds one database and one user,
with a password, for Rasa's SQL tracker store.

The server refuses to run as root: as root every command runs as the `postgres` user the package
created (runuser); otherwise as the current user.
"""

import json
import os
import pwd
import subprocess
from pathlib import Path
from typing import List, Optional, Tuple

Row = Tuple[int, str, dict]  # the events table's id, type_name and data, as stored


def server_bin() -> Optional[Path]:
    """The newest installed PostgreSQL server's bin directory (/usr/lib/postgresql/<version>/bin)."""
    found = [initdb.parent for initdb in Path("/usr/lib/postgresql").glob("*/bin/initdb")]
    newest = sorted(found, key=lambda bin_: int(bin_.parent.name) if bin_.parent.name.isdigit() else 0)
    return newest[-1] if newest else None


class PostgreSQL:
    """The server whose data and socket live in `directory`, listening on 127.0.0.1:`port`."""

    def __init__(
        self, bin_: Path, directory: Path, port: int, password: str, db: str = "rasa", user: str = "rasa"
    ) -> None:
        self.bin = bin_
        self.dir = directory
        self.data = directory / "data"
        self.port = port
        self.password = password
        self.db = db
        self.user = user
        self.as_owner: List[str] = []
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.dir, owner.pw_uid, owner.pw_gid)
            self.as_owner = ["runuser", "-u", "postgres", "--"]

    def run(self, tool: str, *args: str) -> None:
        done = subprocess.run(
            [*self.as_owner, str(self.bin / tool), *args],
            cwd=self.dir,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode != 0:
            log = self.dir / "server.log"
            raise RuntimeError(
                f"{tool} {' '.join(args)} failed ({done.returncode}):\n{done.stdout}{done.stderr}"
                + (log.read_text()[-2000:] if log.exists() else "")
            )

    @property
    def owner(self) -> Optional[str]:
        """The user the server runs as, when it is not the current one."""
        return self.as_owner[2] if self.as_owner else None

    def start(self) -> None:
        """Starts the server in the background (pg_ctl); the first time, creates the cluster, Rasa's
        user and its database."""
        new = self.initialize()
        self.run(
            "pg_ctl",
            "--pgdata",
            str(self.data),
            "--log",
            str(self.dir / "server.log"),
            "--wait",
            "--options",
            " ".join(self.server_options()),
            "start",
        )
        if new:
            self.create_database()

    def initialize(self) -> bool:
        """Creates the cluster the first time; returns whether it did (then create_database is due,
        once the server runs)."""
        if (self.data / "PG_VERSION").exists():
            return False
        self.run(
            "initdb",
            "--pgdata",
            str(self.data),
            "--username",
            "postgres",
            "--encoding",
            "UTF8",
            "--locale",
            "C",
            "--auth-local",
            "trust",
            "--auth-host",
            "scram-sha-256",
            "--no-instructions",
        )
        return True

    def server_options(self) -> List[str]:
        return ["-c", "listen_addresses=127.0.0.1", "-p", str(self.port), "-k", str(self.dir)]

    def server_command(self) -> List[str]:
        """The server in the foreground, for a process manager (as the owner: its `user`)."""
        return [str(self.bin / "postgres"), "-D", str(self.data), *self.server_options()]

    def accepts_connections(self) -> bool:
        done = subprocess.run(
            [str(self.bin / "pg_isready"), "--quiet", "--host", str(self.dir), "--port", str(self.port)],
            capture_output=True,
            timeout=10,
        )
        return done.returncode == 0

    def create_database(self) -> None:
        self.run(
            "psql",
            "--host",
            str(self.dir),
            "--port",
            str(self.port),
            "--username",
            "postgres",
            "--dbname",
            "postgres",
            "--quiet",
            "--set",
            "ON_ERROR_STOP=1",
            "--command",
            f"CREATE ROLE {self.user} LOGIN PASSWORD '{self.password}'",
            "--command",
            f"CREATE DATABASE {self.db} OWNER {self.user}",
        )

    def pid(self) -> Optional[int]:
        """The running server's process id (the first line of postmaster.pid), or None."""
        try:
            return int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, IndexError, ValueError):
            return None

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.run("pg_ctl", "--pgdata", str(self.data), "--mode", "fast", "--wait", "stop")

    def env(self) -> dict:
        """What chooses this database for the assistant: endpoints.yml's variables."""
        return {
            "TRACKER_STORE_DIALECT": "postgresql",
            "TRACKER_STORE_URL": "127.0.0.1",
            "TRACKER_STORE_PORT": str(self.port),
            "TRACKER_STORE_DB": self.db,
            "TRACKER_STORE_USER": self.user,
            "TRACKER_STORE_PASSWORD": self.password,
        }

    def rows(self, sender: str) -> List[Row]:
        """A conversation's events as stored, read directly (not through Rasa), in order."""
        found = self.query("SELECT id, type_name, data FROM events WHERE sender_id = %s ORDER BY id", (sender,))
        return [(id_, kind, json.loads(data)) for id_, kind, data in found]

    def query(self, sql: str, parameters: tuple = ()) -> list:
        import psycopg2  # installed with Rasa, which uses it for PostgreSQL

        with psycopg2.connect(
            host="127.0.0.1", port=self.port, dbname=self.db, user=self.user, password=self.password
        ) as connection:
            with connection.cursor() as cursor:
                cursor.execute(sql, parameters)
                found = cursor.fetchall()
        connection.close()
        return found
