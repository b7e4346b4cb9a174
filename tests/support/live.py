"""Test-side helpers on top of the launcher (tests.support.servers), which may use Django.

`live_server`: a real ExamPulse for browser tests, on its own SQLite file, migrated and seeded,
under daphne. `current_database_url`: the database this pytest run uses, for servers that must
share it with the test.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.servers import Server


def current_database_url() -> str:
    """A URL for the database this test run uses (pytest-django's test_ database)."""
    from django.db import connection

    settings = connection.settings_dict
    user = settings.get("USER") or "postgres"
    host = settings.get("HOST") or "127.0.0.1"
    port = settings.get("PORT") or 5432
    password = settings.get("PASSWORD") or ""
    auth = f"{user}:{password}@" if password else f"{user}@"
    return f"postgres://{auth}{host}:{port}/{settings['NAME']}"


@dataclass
class LiveServer:
    """A running, seeded server (`daphne`) and the SQLite file behind it."""

    daphne: Server
    db_path: Path

    @property
    def url(self) -> str:
        return self.daphne.url

    @property
    def port(self) -> int:
        return self.daphne.port

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        """Read the server's database directly (what was really stored, not what the API says)."""
        with sqlite3.connect(self.db_path) as connection:
            return connection.execute(sql, params).fetchall()

    def manage(self, *args: str) -> str:
        """Run a management command against the server's database."""
        return self.daphne.manage(*args)

    def sibling(self) -> Server:
        """Another server on the same database and settings, not started (one a test may stop and restart)."""
        return Server(database_url=self.daphne.database_url, extra_env=self.daphne.extra_env)


@contextmanager
def live_server(tmp_dir: Path, *, extra_env: Mapping[str, str] | None = None) -> Iterator[LiveServer]:
    """Migrate and seed a fresh database in tmp_dir, start daphne on a free loopback port, yield it."""
    db_path = tmp_dir / "live.sqlite3"
    env = {"EXAMPULSE_DEMO": "true", "MODEL_DIR": str(tmp_dir / "models"), **(extra_env or {})}
    daphne = Server(database_url=f"sqlite:///{db_path}", extra_env=env)
    try:
        daphne.manage("migrate", "--noinput")
        daphne.manage("seed_demo")
        with daphne:
            yield LiveServer(daphne=daphne, db_path=db_path)
    finally:
        daphne.close()
