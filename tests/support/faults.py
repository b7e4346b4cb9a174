"""Private PostgreSQL and Redis instances on free loopback ports, for fault tests that stop and restart them.

Servers and manage.py commands come from the one launcher, harness.servers.

The shared services on 5432/6379 are never touched: each instance here lives in a temp directory,
listens on its own port and dies with the test. PostgreSQL refuses to run as root, so when the
tests run as root its binaries run as the `postgres` OS user (`runuser`).
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

from harness.servers import free_port

START_TIMEOUT_S = 30
# Extra environment for the servers of a fault test (harness.servers.servers(extra_env=...)):
# the live path must not reuse a connection across a database restart without checking it.
SERVER_ENV = {"DB_CONN_MAX_AGE": "60"}


class FaultSetupError(RuntimeError):
    """A private service could not be started: the fault test fails, it never skips."""


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}")) or (
        [shutil.which(name)] if shutil.which(name) else []
    )
    if not found:
        raise FaultSetupError(f"PostgreSQL binary {name!r} not found (install postgresql)")
    return found[-1]


def _as_postgres(argv: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return argv
    return ["runuser", "-u", "postgres", "--", *argv]


class PrivatePostgres:
    """A throwaway cluster: `start()`, `stop()` (immediate, like a crash), `restart()`, `url(db)`."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="exampulse-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        result = subprocess.run(  # noqa: S603 - fixed argv
            _as_postgres([_pg_bin("initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync"]),
            capture_output=True,
            text=True,
            timeout=120,
        )
        if result.returncode != 0:
            raise FaultSetupError(f"initdb failed: {result.stderr[-2000:]}")

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - fixed argv
            _as_postgres(
                [
                    _pg_bin("postgres"),
                    "-D",
                    str(self.data),
                    "-p",
                    str(self.port),
                    "-k",
                    str(self.dir),
                    "-c",
                    "listen_addresses=127.0.0.1",
                    "-c",
                    "fsync=off",
                    "-c",
                    "max_connections=200",
                ]
            ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise FaultSetupError(f"postgres exited: {self.process.stderr.read().decode()[-2000:]}")
            try:
                with psycopg.connect(self.url(), connect_timeout=2):
                    return
            except psycopg.OperationalError:
                time.sleep(0.2)
        raise FaultSetupError(f"postgres on {self.port} did not accept connections in {START_TIMEOUT_S} s")

    def stop(self) -> None:
        """Immediate shutdown: open connections are cut, uncommitted work is lost."""
        if self.process is None:
            return
        # SIGINT is PostgreSQL's "fast" shutdown. runuser does not forward it, so signal the
        # postmaster itself (its pid is the first line of postmaster.pid).
        pid_file = self.data / "postmaster.pid"
        try:
            os.kill(int(pid_file.read_text().split()[0]), signal.SIGINT)
        except (OSError, ValueError, IndexError):
            self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def create_database(self, name: str, *, template: str | None = None) -> str:
        with psycopg.connect(self.url(), autocommit=True) as conn:
            suffix = f" TEMPLATE {template}" if template else ""
            conn.execute(f'CREATE DATABASE "{name}"{suffix}')
        return self.url(name)

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class PrivateRedis:
    """A Redis with no persistence on its own port: `start()`, `stop()` (SIGKILL), `url`."""

    def __init__(self) -> None:
        self.binary = shutil.which("redis-server")
        if not self.binary:
            raise FaultSetupError("redis-server not found (install redis-server)")
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - fixed argv
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), __import__("socket").create_connection(("127.0.0.1", self.port), 1):
                return
            time.sleep(0.1)
        raise FaultSetupError(f"redis-server on {self.port} did not start")

    def freeze(self) -> None:
        """SIGSTOP: connections stay open but nothing answers, like a hung host or a partition."""
        if self.process is not None:
            self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        """Kill it outright: what a crashed Redis looks like to its clients."""
        if self.process is None:
            return
        self.process.send_signal(signal.SIGCONT)
        self.process.kill()
        self.process.wait(timeout=10)
        self.process = None
