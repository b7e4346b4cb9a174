"""The one way to run ExamPulse out of process: `manage.py` commands and ASGI servers on loopback.

Tests (browser, cross-process, scale-out, large frames, faults) and the load tool
(benchmarks/loadtest.py) all start their servers here. This module uses the standard library only:
importing it pulls in neither Django nor pytest, so the load tool can import it before it sets
Django up.

    manage("migrate", "--noinput", database_url=url)          # stdout, or ManageError with the output
    with servers(2, database_url=url, redis_url=redis) as (a, b):
        a.url, a.ws_url, a.port                                 # http://127.0.0.1:P, ws://.../ws/exam/
        a.kill(); a.restart(); a.output()                       # faults; log tail for failure messages

Environment: every child gets this process's environment, minus DATABASE_URL, REDIS_URL and
TEST_DATABASE_NAME, plus DEBUG=true and LOG_LEVEL=WARNING, then DATABASE_URL / REDIS_URL when
given (None means unset: the settings' default), then `extra_env` (which wins over all of it, e.g.
{"DEBUG": "false"} or {"EXAMPULSE_DEMO": "true"}). See `child_env`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Literal

ROOT = Path(__file__).resolve().parents[1]
LOOPBACK = "127.0.0.1"
PRODUCT_APP = "exampulse.asgi:application"
# Inherited variables a child must never pick up by accident: it gets its services explicitly.
_SCRUBBED = ("DATABASE_URL", "REDIS_URL", "TEST_DATABASE_NAME")
_TAIL_CHARS = 5000

ServerKind = Literal["daphne", "uvicorn"]


class ManageError(RuntimeError):
    """A manage.py command exited non-zero; the message holds the command and its output's tail."""


class ServerError(RuntimeError):
    """A server exited or never answered /api/health; the message holds its log's tail."""


def free_port() -> int:
    """A loopback TCP port that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def child_env(
    *, database_url: str | None, redis_url: str | None = None, extra_env: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment for a manage.py command or a server (see the module docstring)."""
    env = {key: value for key, value in os.environ.items() if key not in _SCRUBBED}
    env.update({"DEBUG": "true", "LOG_LEVEL": "WARNING"})
    if database_url:
        env["DATABASE_URL"] = database_url
    if redis_url:
        env["REDIS_URL"] = redis_url
    env.update(extra_env or {})
    return env


def manage(
    *args: str,
    database_url: str | None,
    redis_url: str | None = None,
    extra_env: Mapping[str, str] | None = None,
    timeout: float = 180,
) -> str:
    """Run `python manage.py *args` from the project root in `child_env(...)`; return its stdout.

    Raises ManageError (with the tail of stdout and stderr) when it exits non-zero, and
    subprocess.TimeoutExpired after `timeout` seconds.
    """
    result = subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=child_env(database_url=database_url, redis_url=redis_url, extra_env=extra_env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise ManageError(
            f"manage.py {' '.join(args)} exited {result.returncode}\n"
            f"--- stdout\n{result.stdout[-2000:]}\n--- stderr\n{result.stderr[-3000:]}"
        )
    return result.stdout


class Server:
    """One ASGI server process (daphne by default) on a loopback port, its output in a log file.

    Nothing runs until `start()` (or `with Server(...) as server:`). The port is fixed at
    construction, so `restart()` and `stop()` + `start()` come back on the same URL.

    database_url, redis_url, extra_env: as for `child_env`.
    app: the ASGI application path (benchmarks.bare_asgi:application for the bare stack).
    kind: "daphne" or "uvicorn" (uvicorn must be installed to use it).
    args: extra command-line arguments for the server, before the application path.
    port: a fixed port; by default a free one.
    log_dir: keep the log as log_dir/server-<port>.log; by default a temporary file that
        `close()` deletes.
    start_timeout: seconds `start()` waits for GET /api/health to answer 200.
    """

    def __init__(
        self,
        *,
        database_url: str | None,
        redis_url: str | None = None,
        extra_env: Mapping[str, str] | None = None,
        app: str = PRODUCT_APP,
        kind: ServerKind = "daphne",
        args: Sequence[str] = (),
        port: int | None = None,
        log_dir: Path | None = None,
        start_timeout: float = 30,
    ) -> None:
        if kind not in ("daphne", "uvicorn"):
            raise ValueError(f"unknown server kind {kind!r}")
        self.database_url = database_url
        self.redis_url = redis_url
        self.extra_env = dict(extra_env or {})
        self.env = child_env(database_url=database_url, redis_url=redis_url, extra_env=self.extra_env)
        self.app = app
        self.kind = kind
        self.args = list(args)
        self.port = port or free_port()
        self.start_timeout = start_timeout
        self.process: subprocess.Popen | None = None
        self.log_dir = log_dir
        self.log_path: Path | None = None  # created by the first spawn()
        self._log: IO[bytes] | None = None

    def __repr__(self) -> str:
        return f"<Server {self.kind} {self.app} on {self.port} pid={self.pid}>"

    @property
    def url(self) -> str:
        """http://127.0.0.1:<port> (no trailing slash)."""
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def ws_url(self) -> str:
        """The exam socket's URL, ws://127.0.0.1:<port>/ws/exam/ (append ?token=...)."""
        return f"ws://{LOOPBACK}:{self.port}/ws/exam/"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def argv(self) -> list[str]:
        if self.kind == "uvicorn":
            server = ["-m", "uvicorn", "--host", LOOPBACK, "--port", str(self.port)]
        else:
            server = ["-m", "daphne", "-b", LOOPBACK, "-p", str(self.port)]
        return [sys.executable, *server, *self.args, self.app]

    def spawn(self) -> None:
        """Start the process without waiting for it (`wait_healthy()` next); see `start()`."""
        if self.running:
            raise RuntimeError(f"{self!r} is already running")
        if self._log is None:
            if self.log_dir is not None:
                self.log_dir.mkdir(parents=True, exist_ok=True)
                self.log_path = self.log_dir / f"server-{self.port}.log"
                self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed by close()
            else:
                self._log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed by close()
                    prefix=f"exampulse-{self.kind}-{self.port}-", suffix=".log", delete=False
                )
                self.log_path = Path(self._log.name)
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and a server module
            self.argv(), cwd=ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT
        )

    def wait_healthy(self, timeout: float | None = None) -> None:
        """Wait until GET /api/health answers 200; ServerError (with the log) if it exits or times out."""
        timeout = self.start_timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                code = None if self.process is None else self.process.returncode
                raise ServerError(f"{self.kind} on {self.port} exited ({code}):\n{self.output()}")
            with (
                contextlib.suppress(OSError, urllib.error.HTTPError),
                urllib.request.urlopen(f"{self.url}/api/health", timeout=2) as response,  # noqa: S310
            ):
                if response.status == 200:
                    return
            time.sleep(0.2)
        raise ServerError(f"{self.kind} on {self.port} not healthy after {timeout} s:\n{self.output()}")

    def start(self) -> Server:
        """Spawn and wait until healthy; a server that never became healthy is stopped before raising."""
        self.spawn()
        try:
            self.wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self, timeout: float = 10) -> None:
        """SIGTERM, then SIGKILL after `timeout` s (daphne can linger on an open socket). Idempotent."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None

    def kill(self) -> None:
        """SIGKILL: no graceful shutdown, what a crashed process looks like to its clients."""
        if self.running:
            self.process.kill()
            self.process.wait(timeout=10)

    def restart(self) -> None:
        """stop() then start(), on the same port and log."""
        self.stop()
        self.start()

    def output(self, limit: int = _TAIL_CHARS) -> str:
        """The last `limit` characters of the server's log (stdout and stderr)."""
        if self.log_path is None:
            return ""
        try:
            return self.log_path.read_text(errors="replace")[-limit:]
        except OSError:
            return ""

    def manage(self, *args: str, timeout: float = 180) -> str:
        """Run a manage.py command with this server's services and environment."""
        return manage(
            *args,
            database_url=self.database_url,
            redis_url=self.redis_url,
            extra_env=self.extra_env,
            timeout=timeout,
        )

    def close(self) -> None:
        """stop(), close the log, and delete it unless it was given a log_dir."""
        self.stop()
        if self._log is not None:
            self._log.close()
            self._log = None
        if self.log_dir is None and self.log_path is not None:
            with contextlib.suppress(OSError):
                self.log_path.unlink()

    def __enter__(self) -> Server:
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def start_all(items: Iterable[Server]) -> list[Server]:
    """Spawn every server, then wait for each; if any fails, close them all and re-raise."""
    items = list(items)
    try:
        for item in items:
            item.spawn()
        for item in items:
            item.wait_healthy()
    except BaseException:
        for item in items:
            item.close()
        raise
    return items


@contextlib.contextmanager
def servers(
    count: int,
    *,
    database_url: str | None,
    redis_url: str | None = None,
    extra_env: Mapping[str, str] | None = None,
    app: str = PRODUCT_APP,
    kind: ServerKind = "daphne",
    args: Sequence[str] = (),
    log_dir: Path | None = None,
    start_timeout: float = 30,
) -> Iterator[list[Server]]:
    """`count` healthy servers sharing the given services (arguments as for `Server`); closed on exit.

    with servers(2, database_url=url, redis_url=redis) as (a, b): ...
    """
    started = start_all(
        Server(
            database_url=database_url,
            redis_url=redis_url,
            extra_env=extra_env,
            app=app,
            kind=kind,
            args=args,
            log_dir=log_dir,
            start_timeout=start_timeout,
        )
        for _ in range(count)
    )
    try:
        yield started
    finally:
        for item in started:
            item.close()
