"""Private PostgreSQL and Redis instances for the fault tests: started by the tests on free ports, restarted by
them, never the machine's shared services.

PostgreSQL is a cluster of its own (initdb + pg_ctl, run as the postgres user when we are root), with a template
database copied from the suite's migrated test database (pg_dump | pg_restore: seconds, where migrating anew
would take a minute); each test gets a fresh copy of the template. Redis is a plain redis-server without
persistence, as the machine's is, so a restart loses what was queued."""
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

PG_BINS = sorted(Path("/usr/lib/postgresql").glob("*/bin"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def available() -> str | None:
    """Why private instances cannot run here, or None."""
    if not PG_BINS or not (PG_BINS[-1] / "initdb").exists():
        return "PostgreSQL server binaries (initdb, pg_ctl) are not installed"
    if shutil.which("redis-server") is None:
        return "redis-server is not installed"
    return None


def _as_postgres(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


class PrivatePostgres:
    def __init__(self):
        self.bin = PG_BINS[-1]
        self.base = Path(tempfile.mkdtemp(prefix="fault-pg-"))
        self.data, self.sock = self.base / "data", self.base / "sock"
        self.sock.mkdir()
        self.port = free_port()
        if os.geteuid() == 0:
            shutil.chown(self.base, "postgres")
            shutil.chown(self.sock, "postgres")
        subprocess.run(_as_postgres([str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
                                     "--no-sync", "-E", "UTF8", "--locale=C"]),
                       check=True, capture_output=True, timeout=120)

    def url(self, name: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def start(self) -> None:
        options = (f"-p {self.port} -k {self.sock} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=60")
        subprocess.run(_as_postgres([str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.base / "log"),
                                     "-w", "-t", "60", "-o", options, "start"]), check=True, capture_output=True,
                       timeout=90)

    def stop(self, mode: str = "fast") -> None:
        """fast: every session is cut (as in a crash of the clients' view), the server shuts down cleanly."""
        subprocess.run(_as_postgres([str(self.bin / "pg_ctl"), "-D", str(self.data), "-w", "-t", "60", "-m", mode,
                                     "stop"]), capture_output=True, timeout=90)

    def sql(self, statement: str) -> None:
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(statement)

    def load_template(self, source_url: str, name: str = "template_app") -> None:
        self.sql(f'CREATE DATABASE "{name}"')
        dump = subprocess.run([str(self.bin / "pg_dump"), "-Fc", "--no-owner", "-d", source_url], check=True,
                              capture_output=True, timeout=120).stdout
        subprocess.run([str(self.bin / "pg_restore"), "--no-owner", "-d", self.url(name)], input=dump,
                       check=True, capture_output=True, timeout=120)

    def fresh_database(self, name: str = "app", template: str = "template_app") -> str:
        self.sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return self.url(name)

    def destroy(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.base, ignore_errors=True)


class PrivateRedis:
    def __init__(self):
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 20) -> None:
        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--protected-mode", "no"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.1)
        raise AssertionError("private Redis did not start")

    def stop(self) -> None:
        """Like the machine's Redis dying: no save, everything queued is gone."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
