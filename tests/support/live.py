"""A real ExamPulse server for browser tests: its own SQLite file, migrated and seeded, under daphne."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.servers import ROOT, free_port, wait_healthy


@dataclass
class LiveServer:
    url: str
    port: int
    db_path: Path
    env: dict[str, str]

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        """Read the server's database directly (what was really stored, not what the API says)."""
        with sqlite3.connect(self.db_path) as connection:
            return connection.execute(sql, params).fetchall()

    def manage(self, *args: str) -> str:
        """Run a management command against the server's database."""
        result = subprocess.run(  # noqa: S603 - our own interpreter and manage.py
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=120
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed: {result.stderr[-2000:]}")
        return result.stdout


@contextmanager
def live_server(tmp_dir: Path, *, extra_env: dict[str, str] | None = None) -> Iterator[LiveServer]:
    """Migrate and seed a fresh database in tmp_dir, start daphne on a free loopback port, yield it."""
    db_path = tmp_dir / "live.sqlite3"
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "TEST_DATABASE_NAME"}}
    env.update(
        {
            "DATABASE_URL": f"sqlite:///{db_path}",
            "DEBUG": "true",
            "EXAMPULSE_DEMO": "true",
            "LOG_LEVEL": "WARNING",
            "MODEL_DIR": str(tmp_dir / "models"),
            **(extra_env or {}),
        }
    )
    port = free_port()
    server = LiveServer(url=f"http://127.0.0.1:{port}", port=port, db_path=db_path, env=env)
    server.manage("migrate", "--noinput")
    server.manage("seed_demo")
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "exampulse.asgi:application"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_healthy(port, process)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
