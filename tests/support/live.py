"""Test-side helpers on top of the launcher (harness.servers), which may use Django.

`live_server`: a real ExamPulse for browser and end-to-end tests, on its own SQLite file, migrated
and seeded, under daphne. `SeedCache`: each seed built once per test run, copied per server.
`make_seed_steps`: what `make seed` runs, read from the Makefile.
`current_database_url`: the database this pytest run uses, for servers that must share it with the test.
"""

from __future__ import annotations

import fcntl
import hashlib
import re
import shutil
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from harness.servers import ROOT, Server, manage

# Only migrations: an empty database, as a fresh `migrate` leaves it.
MIGRATED = (("migrate", "--noinput"),)
# Only seed_demo: the demo users and the two open exams, the quickest server to start.
DEMO_ONLY = (*MIGRATED, ("seed_demo",))
DB_FILE = "live.sqlite3"


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


def make_seed_steps(makefile: Path = ROOT / "Makefile") -> tuple[tuple[str, ...], ...]:
    """The `manage.py` commands `make seed` runs (its `migrate` prerequisite first), read from the
    Makefile itself so a test of "what a fresh `make run` serves" cannot drift from it."""
    text = makefile.read_text()
    steps: list[tuple[str, ...]] = []
    for target in ("migrate", "seed"):
        recipe = re.search(rf"^{target}:.*\n((?:\t.*\n?)+)", text, re.MULTILINE)
        if recipe is None:
            raise RuntimeError(f"no `{target}` target in {makefile}")
        for line in recipe.group(1).splitlines():
            command = re.search(r"manage\.py\s+(.+)$", line)
            if command:
                steps.append(tuple(command.group(1).split()))
    return tuple(steps)


def copy_database(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite database, even while a server writes to it (sqlite3's backup API)."""
    with closing(sqlite3.connect(source)) as origin, closing(sqlite3.connect(target)) as copy:
        origin.backup(copy)


class SeedCache:
    """Seeded SQLite databases and their model directories, each built once per test run.

    Seeding runs a Django start-up per step (`migrate` alone costs ~5 s of CPU, `make seed`'s steps
    ~15 s), and every live server wants a freshly seeded database. The first test process that
    needs a seed builds it under a file lock in `directory`, which all xdist workers of a run share;
    every server then starts on its own copy, which holds the same rows. What a seed leaves behind
    is still tested as such (tests/test_readme_tour.py reads the built database).
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def build(self, seed: tuple[tuple[str, ...], ...]) -> Path:
        """The directory holding the seeded database (`live.sqlite3`) and its `models/`; built on first use."""
        self.directory.mkdir(parents=True, exist_ok=True)
        key = hashlib.sha256(repr(seed).encode()).hexdigest()[:16]
        built = self.directory / key
        with open(self.directory / f"{key}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, even if a step fails
            if not (built / "done").exists():
                shutil.rmtree(built, ignore_errors=True)
                built.mkdir()
                env = {"EXAMPULSE_DEMO": "true", "MODEL_DIR": str(built / "models")}
                for step in seed:
                    manage(*step, database_url=f"sqlite:///{built / DB_FILE}", extra_env=env)
                (built / "done").touch()
        return built

    def copy(self, seed: tuple[tuple[str, ...], ...], db_path: Path, model_dir: Path | None = None) -> None:
        """Put a copy of the seeded database at db_path (and of its models in model_dir)."""
        built = self.build(seed)
        copy_database(built / DB_FILE, db_path)
        if model_dir is not None and (built / "models").exists():
            shutil.copytree(built / "models", model_dir, dirs_exist_ok=True)


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

    @property
    def env(self) -> dict[str, str]:
        """The environment the server runs with (MODEL_DIR, DATABASE_URL, ...)."""
        return self.daphne.env

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
def live_server(
    tmp_dir: Path,
    *,
    extra_env: Mapping[str, str] | None = None,
    seed: tuple[tuple[str, ...], ...] = DEMO_ONLY,
    from_server: LiveServer | None = None,
    seeds: SeedCache | None = None,
    port: int | None = None,
) -> Iterator[LiveServer]:
    """Migrate and seed a fresh database in tmp_dir (the `seed` manage.py steps; `make_seed_steps()`
    for what `make run` serves), start daphne on a free loopback port, yield it.

    With `seeds` (the `seed_cache` fixture), start on a copy of that seed, built once per test run.
    `port`: a fixed port (a server that must know its own URL beforehand, e.g. PUBLIC_URL); default a free one.
    With `from_server`, start instead on a copy of that server's database and models: seeding is the
    slow part, and tests that change the data each want the freshly seeded state.
    """
    db_path = tmp_dir / DB_FILE
    env = {"EXAMPULSE_DEMO": "true", "MODEL_DIR": str(tmp_dir / "models"), **(extra_env or {})}
    daphne = Server(database_url=f"sqlite:///{db_path}", extra_env=env, port=port)
    try:
        if from_server is not None:
            # The source server may be running: the backup API copies a consistent snapshot.
            copy_database(from_server.db_path, db_path)
            models = Path(from_server.env["MODEL_DIR"])
            if models.exists():
                shutil.copytree(models, env["MODEL_DIR"], dirs_exist_ok=True)
        elif seeds is not None:
            seeds.copy(seed, db_path, Path(env["MODEL_DIR"]))
        else:
            for step in seed:
                daphne.manage(*step)
        with daphne:
            yield LiveServer(daphne=daphne, db_path=db_path)
    finally:
        daphne.close()
