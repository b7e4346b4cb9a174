"""A real ExamPulse server for browser and end-to-end tests: its own SQLite file, migrated and seeded, under daphne."""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.servers import ROOT, free_port, wait_healthy

# Only seed_demo: the demo users and the two open exams, the quickest server to start.
DEMO_ONLY = (("migrate", "--noinput"), ("seed_demo",))


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
def live_server(
    tmp_dir: Path,
    *,
    extra_env: dict[str, str] | None = None,
    seed: tuple[tuple[str, ...], ...] = DEMO_ONLY,
    from_server: LiveServer | None = None,
) -> Iterator[LiveServer]:
    """Migrate and seed a fresh database in tmp_dir (the `seed` manage.py steps; `make_seed_steps()`
    for what `make run` serves), start daphne on a free loopback port, yield it.

    With `from_server`, start instead on a copy of that server's database and models: seeding is the
    slow part, and tests that change the data each want the freshly seeded state.
    """
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
    if from_server is not None:
        # The source server may be running: sqlite3's backup API copies a consistent snapshot.
        with closing(sqlite3.connect(from_server.db_path)) as source, closing(sqlite3.connect(db_path)) as target:
            source.backup(target)
        models = Path(from_server.env["MODEL_DIR"])
        if models.exists():
            shutil.copytree(models, env["MODEL_DIR"], dirs_exist_ok=True)
    else:
        for step in seed:
            server.manage(*step)
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
