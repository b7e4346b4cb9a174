"""ExamPulse load tool: real sockets, real JWTs, real servers, on loopback only.

    .venv/bin/python -m benchmarks.loadtest --students 1000 --exams 10 --proctors 2 --rate 200 --duration 30

It creates students and proctors over E exams, starts their sessions through the REST API,
starts the server process(es) itself, opens every socket with a real access JWT at a bounded
ramp, streams `suspicious_activity` on an open-loop schedule, and reports sockets held,
failures, events sent/acked, proctor deliveries received vs expected, student->proctor and ack
latency percentiles, events/s, and the servers' CPU and RSS. Afterwards it checks in the
database that every acknowledged event is stored exactly once.

`--stack both` runs the same traffic against benchmarks.bare_asgi (the same server and channel
layer with no database work) in the same run, and prints each product figure as a ratio of it.
`--peak` steps the rate up until p99 student->proctor latency passes --peak-p99-ms.
`--fresh-joins` plays an exam's first minute before every phase: all sockets (proctors and
students) close and open again at --ramp joins per second, --settle seconds pass, then the phase
streams; each phase reports the join's server CPU per socket and its latency second by second.
`--baseline-share` gives only that share of the students a ready baseline (the rest are scored
without a per-student detector, as on an exam day with uncalibrated students).

Users are bulk-created in the database (hashing thousands of Argon2 passwords through
/api/auth/register would measure the hasher, not the product); their tokens are minted with the
server's own signing key; exams are created and sessions started through the real REST API.
Every run is bounded: --duration per phase, --max-students, and a hard overall --deadline.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import gc
import json
import os
import random
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "exampulse.settings")
# Measure production settings (no per-query debug bookkeeping), over plain HTTP on loopback. The
# tool mints tokens in-process, so it and the servers it starts share this key.
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "loadtest-" + uuid.uuid4().hex + uuid.uuid4().hex)
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
# The run's own population model (population_model_prepare), never the operator's.
os.environ["MODEL_DIR"] = str(ROOT / "var" / "loadtest" / "models")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
import websockets  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db.models import Count  # noqa: E402
from rest_framework_simplejwt.tokens import AccessToken  # noqa: E402

from accounts.models import Role, User  # noqa: E402
from exams.models import Exam  # noqa: E402
from harness.servers import Server, ServerError, start_all  # noqa: E402
from monitoring.models import Event  # noqa: E402
from scoring.aggregation import fold_all, signals_from  # noqa: E402
from scoring.anomaly import SESSION_FEATURES  # noqa: E402
from scoring.models import BASELINE_READY_SAMPLES, Baseline  # noqa: E402
from scoring.population import train, vector_from  # noqa: E402
from scoring.services import population_model_save  # noqa: E402
from scoring.synthetic import event_stream, random_profile  # noqa: E402

LOOPBACK = "127.0.0.1"
LOG_DIR = ROOT / "var" / "loadtest"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
EVENT_MIX = (
    ("mouse_sample", lambda r: {"speed_pxs": round(r.uniform(250, 600), 1)}),
    ("typing_sample", lambda r: {"wpm": round(r.uniform(30, 60), 1), "hold_ms_mean": round(r.uniform(80, 120), 1)}),
    ("question_answered", lambda r: {"question_id": f"q{r.randint(1, 5)}", "time_spent_sec": r.randint(20, 90)}),
    ("window_blur", lambda r: {}),
    ("window_focus", lambda r: {"blur_duration_ms": r.randint(200, 3000)}),
)


# --- set-up: users, exams, sessions --------------------------------------------------------------


@dataclass
class Population:
    run_id: str
    exams: list[int]
    students: list[tuple[int, str, int]]  # (user id, token, exam id)
    proctors: list[tuple[int, str, int]]  # (user id, token, exam id)


def http_json(url: str, *, token: str, body: dict | None = None, method: str = "POST") -> dict:
    data = json.dumps(body or {}).encode()
    request = urllib.request.Request(  # noqa: S310 - loopback URL built by this tool
        url, data=data, method=method, headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return json.load(response)


def create_population(
    base_url: str, *, students: int, proctors: int, exams: int, baseline_share: float = 1.0
) -> Population:
    """Users in bulk; exams and session starts through the REST API."""
    run_id = uuid.uuid4().hex[:8]
    password = make_password(None)  # unusable: these accounts log in by token only
    staff = User.objects.bulk_create(
        [
            User(email=f"load-{run_id}-p{i}@load.test", name=f"Load proctor {i}", role=Role.PROCTOR, password=password)
            for i in range(max(1, proctors * exams))
        ]
    )
    pupils = User.objects.bulk_create(
        [
            User(email=f"load-{run_id}-s{i}@load.test", name=f"Load student {i}", role=Role.STUDENT, password=password)
            for i in range(students)
        ]
    )
    staff = list(User.objects.filter(email__startswith=f"load-{run_id}-p").order_by("id"))
    pupils = list(User.objects.filter(email__startswith=f"load-{run_id}-s").order_by("id"))
    baselines_create(pupils[: round(len(pupils) * baseline_share)])
    owner_token = str(AccessToken.for_user(staff[0]))
    questions = [
        {"id": f"q{i}", "text": f"Question {i}", "type": "mcq", "options": ["a", "b"], "answer": "a", "points": 1}
        for i in range(1, 6)
    ]
    exam_ids = []
    for index in range(exams):
        created = http_json(
            f"{base_url}/api/exams",
            token=owner_token,
            body={
                "name": f"Load {run_id} #{index}",
                "duration_minutes": 180,
                "status": "active",
                # Low sensitivity: the load is about throughput, not an alert storm.
                "monitoring_sensitivity": "low",
                "questions": questions,
            },
        )
        exam_ids.append(created["data"]["id"])
    student_rows = []
    for index, user in enumerate(pupils):
        student_rows.append((user.pk, str(AccessToken.for_user(user)), exam_ids[index % exams]))

    def start(row: tuple[int, str, int]) -> None:
        http_json(f"{base_url}/api/exams/{row[2]}/start", token=row[1])

    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(start, student_rows))
    proctor_rows = [
        (user.pk, str(AccessToken.for_user(user)), exam_ids[index % exams])
        for index, user in enumerate(staff[: proctors * exams])
    ]
    return Population(run_id=run_id, exams=exam_ids, students=student_rows, proctors=proctor_rows)


def baselines_create(pupils: list) -> None:
    """A ready calibration baseline per student, so every event runs the per-student detector."""
    rng = np.random.default_rng(7)
    rows = []
    for user in pupils:
        profile = random_profile(rng)
        samples = [
            {name: round(profile[name] * float(rng.lognormal(0, 0.1)), 1) for name in SESSION_FEATURES}
            for _ in range(BASELINE_READY_SAMPLES + 2)
        ]
        rows.append(
            Baseline(
                user=user,
                features={"samples": samples},
                sample_count=len(samples),
                typing_speed_wpm=profile["typing_speed_wpm"],
                mouse_speed_pxs=profile["mouse_speed_pxs"],
                avg_question_time_sec=profile["avg_question_time_sec"],
                tab_switch_rate=0.0,
            )
        )
    Baseline.objects.bulk_create(rows, batch_size=1000)


def population_model_prepare() -> None:
    """Train a population model on synthetic sessions into the run's own MODEL_DIR (the servers
    inherit it), so every event is also scored by the IsolationForest, as in production."""
    rng = np.random.default_rng(11)
    sessions = [event_stream(rng, profile=random_profile(rng), cheating=rng.random() < 0.15) for _ in range(300)]
    rows = [vector_from(signals_from(fold_all(events))) for events in sessions]
    Path(os.environ["MODEL_DIR"]).mkdir(parents=True, exist_ok=True)
    population_model_save(model=train(np.array(rows, dtype=float)))


def delete_population(population: Population) -> None:
    Exam.objects.filter(pk__in=population.exams).delete()
    User.objects.filter(email__startswith=f"load-{population.run_id}-").delete()


# --- servers ----------------------------------------------------------------------------------


class MeasuredServer(Server):
    """A launcher Server whose CPU time and RSS this tool samples from /proc."""

    cpu_ticks_start: int = 0
    wall_start: float = 0.0

    def cpu_ticks(self) -> int:
        with open(f"/proc/{self.process.pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime

    def rss_kb(self) -> int:
        with open(f"/proc/{self.process.pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def mark(self) -> None:
        self.cpu_ticks_start = self.cpu_ticks()
        self.wall_start = time.monotonic()

    def cpu_seconds(self) -> float:
        """CPU time (user + system) this process has used since `mark()`."""
        return (self.cpu_ticks() - self.cpu_ticks_start) / CLOCK_TICKS

    def cpu_percent(self) -> float:
        elapsed = time.monotonic() - self.wall_start
        return 100.0 * self.cpu_seconds() / max(elapsed, 1e-9)


def machine_cpu() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine, all cores (first line of /proc/stat)."""
    with open("/proc/stat") as handle:
        values = [int(v) for v in handle.readline().split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


def machine_cpu_percent(start: tuple[int, int]) -> float:
    """Share of all cores busy since `start` (servers, PostgreSQL, Redis and this tool together)."""
    busy, total = machine_cpu()
    return round(100.0 * (busy - start[0]) / max(total - start[1], 1), 1)


def start_servers(app: str, count: int, *, server: str) -> list[MeasuredServer]:
    """`count` healthy servers (harness.servers) on this run's database, Redis and settings."""
    args = ["--log-level", "warning", "--ws-max-size", "65536"] if server == "uvicorn" else []
    items = [
        MeasuredServer(
            database_url=os.environ.get("DATABASE_URL"),
            redis_url=os.environ.get("REDIS_URL"),
            extra_env={"DEBUG": os.environ["DEBUG"]},
            app=app,
            kind=server,
            args=args,
            log_dir=LOG_DIR,
            start_timeout=60,
        )
        for _ in range(count)
    ]
    try:
        start_all(items)  # a server that never became healthy must not outlive the run
    except ServerError as exc:
        raise SystemExit(f"{exc}\nfull logs in {LOG_DIR}") from exc
    (LOG_DIR / "pids").write_text("\n".join(str(item.pid) for item in items))
    return items


def stop_servers(servers: list[MeasuredServer]) -> None:
    for item in servers:  # SIGTERM to all first: they shut down in parallel
        if item.running:
            item.process.send_signal(signal.SIGTERM)
    for item in servers:
        item.close()


# --- the load ---------------------------------------------------------------------------------


@dataclass
class Stats:
    sent: dict[str, float] = field(default_factory=dict)  # client_event_id -> send time
    acked: dict[str, float] = field(default_factory=dict)  # client_event_id -> ack time
    event_ids: dict[str, int] = field(default_factory=dict)  # client_event_id -> server event id
    delivered: dict[str, list[float]] = field(default_factory=dict)  # client_event_id -> proctor receive times
    errors: dict[str, int] = field(default_factory=dict)
    connect_latency: list[float] = field(default_factory=list)
    connect_failures: dict[str, int] = field(default_factory=dict)
    drops: dict[str, int] = field(default_factory=dict)
    lag_max: float = 0.0
    late_sends: int = 0  # sends later than Fleet.late_after behind their schedule


class ToolClock:
    """This process's own CPU over a span (the load tool shares the machine with the servers), and
    the machine's CPU pressure: the share of the span in which some runnable task waited for a core."""

    def __init__(self) -> None:
        self.cpu = time.process_time()
        self.wall = time.monotonic()
        self.stalled = cpu_stalled_us()

    def cpu_percent(self) -> float:
        return round(100 * (time.process_time() - self.cpu) / max(time.monotonic() - self.wall, 1e-9), 1)

    def pressure_percent(self) -> float | None:
        now = cpu_stalled_us()
        if now is None or self.stalled is None:
            return None
        return round(100 * (now - self.stalled) / 1e6 / max(time.monotonic() - self.wall, 1e-9), 1)


def cpu_stalled_us() -> int | None:
    """Linux PSI: microseconds in which at least one runnable task waited for a CPU (None without PSI)."""
    try:
        with open("/proc/pressure/cpu") as handle:
            some = handle.readline().split()
    except OSError:
        return None
    return int(some[-1].removeprefix("total="))


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


class Fleet:
    """All sockets of one run, and the readers that timestamp every frame they receive."""

    def __init__(self, population: Population, servers: list[MeasuredServer], *, bare: bool) -> None:
        self.population = population
        self.servers = servers
        self.bare = bare
        self.stats = Stats()
        self.student_sockets: list[tuple[object, int]] = []  # (websocket, exam id)
        self.proctor_sockets: list[object] = []
        self.proctor_count_by_exam: dict[int, int] = {}
        self.tasks: list[asyncio.Task] = []
        self.sent_exam: dict[str, int] = {}  # client_event_id -> exam id
        self.closing = False
        self.connect_seconds = 0.0
        self.late_after = 0.05  # seconds behind schedule that count as a late send (--tool-lag-ms)

    def url(self, index: int, token: str, role: str) -> str:
        server = self.servers[index % len(self.servers)]
        extra = "&role=proctor" if self.bare and role == "proctor" else ""
        return f"ws://{LOOPBACK}:{server.port}/ws/exam/?token={token}{extra}"

    async def _open(self, url: str, exam_id: int) -> object:
        started = time.monotonic()
        ws = await websockets.connect(url, open_timeout=20, ping_interval=None, max_queue=None, close_timeout=2)
        first = json.loads(await asyncio.wait_for(ws.recv(), 20))
        if first["event"] != "connected":
            raise RuntimeError(f"expected connected, got {first['event']}")
        await ws.send(json.dumps({"event": "join_exam", "data": {"exam_id": exam_id}}))
        while True:
            frame = json.loads(await asyncio.wait_for(ws.recv(), 20))
            if frame["event"] == "joined_exam":
                break
            if frame["event"] == "error":
                raise RuntimeError(f"join refused: {frame['data'].get('code')}")
        self.stats.connect_latency.append(time.monotonic() - started)
        return ws

    async def connect_all(self, ramp_per_s: float) -> None:
        """Proctors first (so they see every student), then students at a bounded ramp."""
        for index, (_uid, token, exam_id) in enumerate(self.population.proctors):
            ws = await self._open(self.url(index, token, "proctor"), exam_id)
            self.proctor_sockets.append(ws)
            self.proctor_count_by_exam[exam_id] = self.proctor_count_by_exam.get(exam_id, 0) + 1
            self.tasks.append(asyncio.create_task(self._read(ws, proctor=True)))
        self.stats.connect_latency.clear()
        started = time.monotonic()

        async def one(index: int, token: str, exam_id: int) -> None:
            await asyncio.sleep(max(0.0, started + index / ramp_per_s - time.monotonic()))
            try:
                ws = await self._open(self.url(index + 1, token, "student"), exam_id)
            except Exception as exc:  # recorded, the run goes on
                reason = exc.__class__.__name__
                self.stats.connect_failures[reason] = self.stats.connect_failures.get(reason, 0) + 1
                return
            self.student_sockets.append((ws, exam_id))
            self.tasks.append(asyncio.create_task(self._read(ws, proctor=False)))

        await asyncio.gather(*(one(i, token, exam) for i, (_u, token, exam) in enumerate(self.population.students)))
        self.connect_seconds = time.monotonic() - started

    async def _read(self, ws, *, proctor: bool) -> None:
        stats = self.stats
        try:
            async for raw in ws:
                now = time.monotonic()
                frame = json.loads(raw)
                name, data = frame["event"], frame["data"]
                if proctor:
                    if name == "student_activity" and data.get("client_event_id"):
                        stats.delivered.setdefault(data["client_event_id"], []).append(now)
                elif name == "activity_logged":
                    key = data.get("client_event_id")
                    stats.acked[key] = now
                    stats.event_ids[key] = data.get("event_id")
                elif name == "error":
                    code = data.get("code", "?")
                    stats.errors[code] = stats.errors.get(code, 0) + 1
        except websockets.ConnectionClosed as exc:
            reason = f"closed {exc.code}" if exc.code else "closed"
            if not self.closing:
                stats.drops[reason] = stats.drops.get(reason, 0) + 1

    async def stream(self, *, rate: float, duration: float, tag: str) -> tuple[float, list[str]]:
        """Open-loop: event k is due at start + k/rate on a random student's socket."""
        rng = random.Random(tag)
        sockets = self.student_sockets
        total = int(rate * duration)
        keys: list[str] = []
        started = time.monotonic()
        for k in range(total):
            due = started + k / rate
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                self.stats.lag_max = max(self.stats.lag_max, -delay)
                if -delay > self.late_after:
                    self.stats.late_sends += 1
            ws, exam_id = sockets[k % len(sockets)] if k < len(sockets) else rng.choice(sockets)
            event_type, payload = rng.choice(EVENT_MIX)
            key = f"{self.population.run_id}-{tag}-{k}"
            frame = {"exam_id": exam_id, "type": event_type, "client_event_id": key, **payload(rng)}
            self.stats.sent[key] = time.monotonic()
            self.sent_exam[key] = exam_id
            keys.append(key)
            try:
                await ws.send(json.dumps({"event": "suspicious_activity", "data": frame}))
            except websockets.ConnectionClosed:
                self.stats.drops["send on closed"] = self.stats.drops.get("send on closed", 0) + 1
        return time.monotonic() - started, keys

    async def close(self) -> None:
        self.closing = True
        for task in self.tasks:
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.gather(*self.tasks, return_exceptions=True)
        sockets = [ws for ws, _exam in self.student_sockets] + self.proctor_sockets
        # Concurrently: one by one, 1,000 closing handshakes would take longer than the phase.
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)

    async def reopen(self, ramp_per_s: float) -> None:
        """Every socket closes (the students and proctors leave), then all join again at the ramp."""
        await self.close()
        self.tasks, self.student_sockets, self.proctor_sockets = [], [], []
        self.proctor_count_by_exam = {}
        self.closing = False
        await self.connect_all(ramp_per_s)


def summarise(fleet: Fleet, keys: list[str], elapsed: float) -> dict:
    stats = fleet.stats
    acked = [k for k in keys if k in stats.acked]
    ack_latency = [(stats.acked[k] - stats.sent[k]) * 1000 for k in acked]
    delivery_latency = []
    expected = received = 0
    # Every acked event should reach every proctor of its exam.
    for key in acked:
        want = fleet.proctor_count_by_exam.get(fleet.sent_exam[key], 0)
        got = stats.delivered.get(key, [])
        expected += want
        received += min(len(got), want)
        delivery_latency += [(t - stats.sent[key]) * 1000 for t in got]
    # Latency over time, per second of the phase: shows whether a tail is a start-up burst or steady.
    start = min((stats.sent[k] for k in keys), default=0.0)
    by_second: dict[int, list[float]] = {}
    delivered_by_second: dict[int, list[float]] = {}
    for key in acked:
        second = int(stats.sent[key] - start)
        by_second.setdefault(second, []).append((stats.acked[key] - stats.sent[key]) * 1000)
        delivered_by_second.setdefault(second, []).extend(
            (t - stats.sent[key]) * 1000 for t in stats.delivered.get(key, [])
        )
    return {
        "ack_p99_ms_by_second": [round(pct(by_second[second], 99) or 0, 1) for second in sorted(by_second)],
        "delivery_p99_ms_by_second": [
            round(pct(delivered_by_second[second], 99) or 0, 1) for second in sorted(delivered_by_second)
        ],
        "events_sent": len(keys),
        "events_acked": len(acked),
        "events_per_s": round(len(acked) / elapsed, 1) if elapsed else 0,
        "ack_ms": {q: round(pct(ack_latency, q) or 0, 1) for q in (50, 95, 99)}
        | {"max": round(max(ack_latency or [0]), 1)},
        "deliveries_expected": expected,
        "deliveries_received": received,
        "delivery_ms": {q: round(pct(delivery_latency, q) or 0, 1) for q in (50, 95, 99)}
        | {"max": round(max(delivery_latency or [0]), 1)},
        "errors": dict(stats.errors),
        "drops": dict(stats.drops),
        "client_lag_max_ms": round(stats.lag_max * 1000, 1),
        "client_late_sends": stats.late_sends,
    }


def start_profilers(servers: list[MeasuredServer], directory: str, stack: str) -> list[tuple[subprocess.Popen, Path]]:
    """py-spy on every server until it exits: stacks of the thread holding the GIL, i.e. where its CPU goes."""
    spy = Path(sys.executable).with_name("py-spy")
    if not spy.exists():
        raise SystemExit("--profile needs py-spy in the venv: .venv/bin/pip install py-spy")
    Path(directory).mkdir(parents=True, exist_ok=True)
    profilers = []
    for item in servers:
        output = Path(directory) / f"{stack}-{item.port}.txt"
        argv = [str(spy), "record", "--pid", str(item.process.pid), "--format", "raw", "--rate", "200"]
        # By default only the thread holding the GIL: where the process's CPU goes.
        argv += [] if os.environ.get("LOADTEST_PROFILE_ALL_THREADS") else ["--gil"]
        argv += ["--nonblocking", "--output", str(output)]
        process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
        profilers.append((process, output))
    return profilers


def profile_summary(path: Path, top: int = 25) -> list[tuple[str, float]]:
    """Share of busy samples under each of the project's own functions (inclusive), largest first."""
    own = ("accounts/", "exams/", "monitoring/", "scoring/", "exampulse/", "channels/", "daphne/", "psycopg/")
    totals: dict[str, int] = {}
    samples = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        samples += int(count)
        seen = set()
        for frame in stack.split(";"):
            name, _, location = frame.partition(" (")
            location = location.split(":")[0]
            if not any(part in location for part in own):
                continue
            key = f"{name} ({location.split('site-packages/')[-1].replace(str(ROOT) + '/', '')})"
            if key not in seen:
                seen.add(key)
                totals[key] = totals.get(key, 0) + int(count)
    ranked = sorted(totals.items(), key=lambda item: -item[1])[:top]
    return [(key, round(100 * n / max(samples, 1), 1)) for key, n in ranked]


async def run_stack(population: Population, *, app: str, bare: bool, args) -> tuple[dict, Fleet]:
    servers = start_servers(app, args.processes, server=args.server)
    fleet = Fleet(population, servers, bare=bare)
    fleet.late_after = args.tool_lag_ms / 1000
    stack = "bare" if bare else "product"
    report: dict = {"stack": stack, "server": args.server, "processes": args.processes}
    # --profile-joins records only the fresh-join ramps (joins() below), not the whole run.
    profilers = start_profilers(servers, args.profile, stack) if args.profile and not args.profile_joins else []
    try:
        for item in servers:
            item.mark()
        machine_start = machine_cpu()
        tool = ToolClock()
        await fleet.connect_all(args.ramp)
        report["machine_cpu_percent_connect"] = machine_cpu_percent(machine_start)
        report["tool_cpu_percent_connect"] = tool.cpu_percent()
        report["cpu_pressure_percent_connect"] = tool.pressure_percent()
        report["sockets_held"] = len(fleet.student_sockets)
        report["proctor_sockets"] = len(population.proctors)
        report["connect_failures"] = dict(fleet.stats.connect_failures)
        report["connect_rate_per_s"] = round(len(fleet.student_sockets) / max(fleet.connect_seconds, 1e-9), 1)
        report["connect_join_ms"] = {
            q: round((pct(fleet.stats.connect_latency, q) or 0) * 1000, 1) for q in (50, 95, 99)
        }
        report["rss_mb_after_connect"] = [round(s.rss_kb() / 1024, 1) for s in servers]
        report["cpu_percent_connect"] = [round(s.cpu_percent(), 1) for s in servers]

        async def joins() -> dict:
            """The exam's first minute again: everyone leaves, then joins at the ramp; the servers' CPU per join."""
            for item in servers:
                item.mark()
            started = time.monotonic()
            ramp_profilers = (
                start_profilers(servers, args.profile, f"{stack}-joins-{len(profilers)}") if args.profile_joins else []
            )
            await fleet.reopen(args.ramp)
            cpu_seconds = sum(s.cpu_seconds() for s in servers)
            for process, _output in ramp_profilers:
                process.send_signal(signal.SIGINT)  # py-spy writes what it recorded and exits
            profilers.extend(ramp_profilers)
            joined = len(fleet.student_sockets) + len(fleet.proctor_sockets)
            result = {
                "sockets": joined,
                "failures": dict(fleet.stats.connect_failures),
                "seconds": round(time.monotonic() - started, 1),
                "rate_per_s": round(len(fleet.student_sockets) / max(fleet.connect_seconds, 1e-9), 1),
                "join_ms": {q: round((pct(fleet.stats.connect_latency, q) or 0) * 1000, 1) for q in (50, 95, 99)},
                # The leaves of the previous phase are in it too: every socket left once and joined once.
                "cpu_ms_per_join": round(1000 * cpu_seconds / max(joined, 1), 3),
                "cpu_percent": [round(s.cpu_percent(), 1) for s in servers],
            }
            fleet.stats.connect_failures.clear()
            # The sockets sit idle until the phase: what holding them costs (heartbeats, pings, Redis).
            for item in servers:
                item.mark()
            await asyncio.sleep(args.settle)
            result["idle_cpu_percent"] = [round(s.cpu_percent(), 1) for s in servers]
            return result

        async def phase(rate: float, tag: str) -> dict:
            join = await joins() if args.fresh_joins else None
            for item in servers:
                item.mark()
            machine_start = machine_cpu()
            tool = ToolClock()
            fleet.stats.lag_max, fleet.stats.late_sends = 0.0, 0
            # The tool's own collector pauses (its timestamps dicts grow every phase) would read as late sends.
            gc.collect()
            gc.disable()
            try:
                elapsed, keys = await fleet.stream(rate=rate, duration=args.duration, tag=tag)
                await asyncio.sleep(args.drain)
            finally:
                gc.enable()
            result = {"rate_target": rate, **summarise(fleet, keys, elapsed)}
            result["tool_cpu_percent"] = tool.cpu_percent()
            result["cpu_pressure_percent"] = tool.pressure_percent()
            # An open-loop schedule the tool cannot keep measures the tool, not the servers.
            # A one-off stall (the scheduler, a collection) is not a tool that cannot keep up.
            result["tool_bound"] = result["client_late_sends"] > 0.01 * max(result["events_sent"], 1)
            result["cpu_percent"] = [round(s.cpu_percent(), 1) for s in servers]
            # All servers' CPU over the phase (and its drain) per acknowledged event.
            cpu_seconds = sum(s.cpu_seconds() for s in servers)
            result["cpu_ms_per_event"] = round(1000 * cpu_seconds / max(result["events_acked"], 1), 3)
            result["machine_cpu_percent"] = machine_cpu_percent(machine_start)
            result["rss_mb"] = [round(s.rss_kb() / 1024, 1) for s in servers]
            if join is not None:
                result["join"] = join
            return result

        if args.rate:
            report["steady"] = await phase(args.rate, "steady")
        if args.peak:
            steps = []
            for index, rate in enumerate(args.peak_rates):
                # The step's index keeps client_event_ids unique when a rate is repeated.
                step = await phase(rate, f"peak{index}-{int(rate)}")
                steps.append(step)
                ok = (
                    step["delivery_ms"][99] <= args.peak_p99_ms
                    and step["deliveries_received"] == step["deliveries_expected"]
                )
                if "join" in step:
                    print(f"  {report['stack']:7s} {join_line(step['join'])}", flush=True)
                print(
                    f"  {report['stack']:7s} rate {rate:6.0f}/s: {step['events_per_s']:7.1f} ev/s acked, "
                    f"p99 delivery {step['delivery_ms'][99]:7.1f} ms, "
                    f"{step['deliveries_received']}/{step['deliveries_expected']} delivered, "
                    f"ack p99 {step['ack_ms'][99]:6.1f} ms, cpu/event {step['cpu_ms_per_event']:.2f} ms, "
                    f"cpu {step['cpu_percent']}, machine {step['machine_cpu_percent']} %, "
                    f"load tool {step['tool_cpu_percent']} % (lag max {step['client_lag_max_ms']} ms, "
                    f"{step['client_late_sends']} sends over {args.tool_lag_ms:.0f} ms late), "
                    f"CPU pressure {step['cpu_pressure_percent']} %",
                    flush=True,
                )
                if step["tool_bound"]:
                    print(f"  {report['stack']:7s} the load tool fell behind; higher rates would measure it")
                    report["peak_tool_bound_at"] = rate
                if not ok or step["tool_bound"]:
                    break
            report["peak_steps"] = steps
            passing = [
                s["events_per_s"]
                for s in steps
                if s["delivery_ms"][99] <= args.peak_p99_ms
                and s["deliveries_received"] == s["deliveries_expected"]
                and not s["tool_bound"]
            ]
            report["peak_events_per_s"] = max(passing) if passing else 0.0
        report["drops_total"] = dict(fleet.stats.drops)
    finally:
        await fleet.close()
        stop_servers(servers)
        for process, output in profilers:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=30)
            if output.exists():
                report.setdefault("profile", {})[str(output)] = profile_summary(output)
    return report, fleet


def database_check(fleet: Fleet) -> dict:
    """Every acknowledged event stored exactly once, and nothing stored that was not sent."""
    prefix = f"{fleet.population.run_id}-"
    counts = dict(
        Event.objects.filter(client_event_id__startswith=prefix)
        .values_list("client_event_id")
        .annotate(n=Count("id"))
        .values_list("client_event_id", "n")
    )
    acked = set(fleet.stats.acked)
    return {
        "acked": len(acked),
        "stored": len(counts),
        "acked_not_stored": len(acked - set(counts)),
        "stored_twice": sum(1 for n in counts.values() if n > 1),
        "stored_not_acked": len(set(counts) - acked),
    }


def join_line(join: dict) -> str:
    return (
        f"fresh joins: {join['sockets']} sockets in {join['seconds']} s ({join['rate_per_s']}/s), "
        f"failures {join['failures'] or 0}, join ms {join['join_ms']}, "
        f"server CPU {join['cpu_ms_per_join']} ms per leave+join, cpu% {join['cpu_percent']}; "
        f"then idle {join.get('idle_cpu_percent')} cpu% over the settle"
    )


def by_second_line(step: dict) -> str:
    return (
        f"  p99 by second (delivery): {step['delivery_p99_ms_by_second']}\n"
        f"  p99 by second (ack):      {step['ack_p99_ms_by_second']}"
    )


def print_report(reports: list[dict]) -> None:
    for report in reports:
        print(f"\n== {report['stack']} stack on {report['processes']} {report['server']} process(es)")
        print(
            f"sockets held {report['sockets_held']} (+{report['proctor_sockets']} proctors), "
            f"failures {report['connect_failures'] or 0}, connect rate {report['connect_rate_per_s']}/s, "
            f"connect+join ms {report['connect_join_ms']}, RSS MB {report['rss_mb_after_connect']}, "
            f"CPU % servers {report['cpu_percent_connect']}, machine {report['machine_cpu_percent_connect']}, "
            f"load tool {report['tool_cpu_percent_connect']}, CPU pressure {report['cpu_pressure_percent_connect']}"
        )
        for label in ("steady",):
            if label in report:
                s = report[label]
                if "join" in s:
                    print(join_line(s["join"]))
                print(
                    f"{label}: target {s['rate_target']}/s -> {s['events_per_s']} ev/s acked; "
                    f"sent {s['events_sent']} acked {s['events_acked']}; "
                    f"deliveries {s['deliveries_received']}/{s['deliveries_expected']}; "
                    f"student->proctor ms {s['delivery_ms']}; ack ms {s['ack_ms']}; "
                    f"errors {s['errors'] or 0}; cpu/event {s['cpu_ms_per_event']} ms; "
                    f"cpu% {s['cpu_percent']} (machine {s['machine_cpu_percent']}); "
                    f"RSS MB {s['rss_mb']}; "
                    f"client lag max {s['client_lag_max_ms']} ms, load tool CPU {s['tool_cpu_percent']} %, "
                    f"CPU pressure {s['cpu_pressure_percent']} %"
                )
                print(by_second_line(s))
        if "peak_events_per_s" in report:
            bound = report.get("peak_tool_bound_at")
            note = f" (at least: the load tool fell behind at {bound:.0f}/s)" if bound else ""
            print(f"peak sustained at p99 <= target: {report['peak_events_per_s']} events/s{note}")
        print(f"drops: {report['drops_total'] or 0}")
        if "database_check" in report:
            print(f"database check: {report['database_check']}")
        for output, ranked in report.get("profile", {}).items():
            print(f"profile {output} (share of busy samples, inclusive):")
            for name, share in ranked:
                print(f"  {share:5.1f}%  {name}")
    by_stack = {r["stack"]: r for r in reports}
    if "product" in by_stack and "bare" in by_stack:
        product, bare = by_stack["product"], by_stack["bare"]
        print("\n== product / bare-stack ratios")
        if "steady" in product and "steady" in bare:
            for q in (50, 99):
                b = bare["steady"]["delivery_ms"][q] or 1e-9
                print(f"steady p{q} delivery latency: {product['steady']['delivery_ms'][q] / b:.2f}x bare")
            p_cpu, b_cpu = product["steady"]["cpu_ms_per_event"], bare["steady"]["cpu_ms_per_event"] or 1e-9
            print(f"steady server CPU per acked event: {p_cpu:.2f} ms vs {b_cpu:.2f} ms bare = {p_cpu / b_cpu:.2f}x")
            p_pct, b_pct = sum(product["steady"]["cpu_percent"]), sum(bare["steady"]["cpu_percent"]) or 1e-9
            print(f"steady server CPU: {p_pct:.0f} % vs {b_pct:.0f} % bare = {p_pct / b_pct:.2f}x")
            if "join" in product["steady"] and "join" in bare["steady"]:
                p_join, b_join = product["steady"]["join"]["cpu_ms_per_join"], bare["steady"]["join"]["cpu_ms_per_join"]
                print(
                    f"server CPU per leave+join: {p_join:.2f} ms vs {b_join:.2f} ms bare "
                    f"= {p_join / (b_join or 1e-9):.2f}x"
                )
        if "peak_events_per_s" in product and bare.get("peak_events_per_s"):
            ratio = product["peak_events_per_s"] / bare["peak_events_per_s"]
            print(f"peak events/s: {ratio:.0%} of bare ({product['peak_events_per_s']} vs {bare['peak_events_per_s']})")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--proctors", type=int, default=2, help="per exam")
    parser.add_argument("--exams", type=int, default=2)
    parser.add_argument("--rate", type=float, default=40.0, help="steady events/s over all students (0: skip)")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per phase")
    parser.add_argument("--drain", type=float, default=3.0, help="seconds to wait for stragglers after a phase")
    parser.add_argument("--ramp", type=float, default=250.0, help="student connects per second")
    parser.add_argument(
        "--fresh-joins",
        action="store_true",
        help="before every phase all sockets leave and join again at --ramp (an exam's first minute)",
    )
    parser.add_argument(
        "--settle",
        type=float,
        default=1.5,
        help="seconds between a join ramp and its phase (the servers' idle CPU is measured over them)",
    )
    parser.add_argument(
        "--baseline-share", type=float, default=1.0, help="share of students with a ready baseline (0..1)"
    )
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--server", choices=("daphne", "uvicorn"), default="daphne")
    parser.add_argument("--stack", choices=("product", "bare", "both"), default="product")
    parser.add_argument("--peak", action="store_true", help="step the rate up to find the sustainable peak")
    parser.add_argument("--peak-rates", type=lambda s: [float(x) for x in s.split(",")], default=[100, 200, 300, 400])
    parser.add_argument("--peak-p99-ms", type=float, default=200.0)
    parser.add_argument(
        "--tool-lag-ms",
        type=float,
        default=50.0,
        help="over 1%% of a step's sends this late behind schedule: it measures the load tool; the search stops there",
    )
    parser.add_argument("--max-students", type=int, default=6000, help="hard cap, whatever --students says")
    parser.add_argument("--deadline", type=float, default=1200.0, help="hard cap on the whole run, seconds")
    parser.add_argument("--keep", action="store_true", help="keep the run's users, exams and events")
    parser.add_argument("--json", help="also write the full report to this file")
    parser.add_argument(
        "--product-app",
        default="exampulse.asgi:application",
        help="the product's ASGI application (benchmarks.gc_census:application counts its cyclic garbage)",
    )
    parser.add_argument("--profile", metavar="DIR", help="record each server with py-spy into DIR and summarise")
    parser.add_argument(
        "--profile-joins",
        action="store_true",
        help="with --profile and --fresh-joins: record only the join ramps (where a join's CPU goes)",
    )
    args = parser.parse_args(argv)
    args.students = min(args.students, args.max_students)
    return args


def prepare_database() -> None:
    """Create the PostgreSQL database when it is missing, then bring its schema up to date."""
    settings_db = django.db.connections["default"].settings_dict
    if settings_db["ENGINE"] == "django.db.backends.postgresql":
        import psycopg
        from psycopg import sql

        params = {
            "host": settings_db["HOST"] or None,
            "port": settings_db["PORT"] or None,
            "user": settings_db["USER"] or None,
            "password": settings_db["PASSWORD"] or None,
        }
        try:
            psycopg.connect(dbname=settings_db["NAME"], **params).close()
        except psycopg.OperationalError:
            with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
                admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(settings_db["NAME"])))
            print(f"created database {settings_db['NAME']}", flush=True)
    call_command("migrate", verbosity=0, interactive=False)


def main(args) -> list[dict]:
    """Set up (sync ORM), drive each stack (asyncio), then check the database (sync ORM)."""
    reports = []
    prepare_database()
    population_model_prepare()
    # The population is made through one throwaway product server (its REST API).
    seeding = start_servers("exampulse.asgi:application", 1, server="daphne")
    try:
        population = create_population(
            seeding[0].url,
            students=args.students,
            proctors=args.proctors,
            exams=args.exams,
            baseline_share=args.baseline_share,
        )
    finally:
        stop_servers(seeding)
    print(
        f"run {population.run_id}: {len(population.students)} students, {len(population.proctors)} proctors, "
        f"{len(population.exams)} exams",
        flush=True,
    )
    deadline = time.monotonic() + args.deadline
    try:
        stacks = {"product": [False], "bare": [True], "both": [True, False]}[args.stack]
        for bare in stacks:
            app = "benchmarks.bare_asgi:application" if bare else args.product_app
            remaining = deadline - time.monotonic()
            report, fleet = asyncio.run(
                asyncio.wait_for(run_stack(population, app=app, bare=bare, args=args), remaining)
            )
            if not bare:
                report["database_check"] = database_check(fleet)
            reports.append(report)
    finally:
        if not args.keep:
            delete_population(population)
    return reports


def run(argv=None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    try:
        reports = main(args)
    except TimeoutError:
        print(f"run exceeded --deadline {args.deadline} s and was stopped", file=sys.stderr)
        return 2
    print_report(reports)
    print(f"\nwall time {time.monotonic() - started:.0f} s; database {django.db.connection.vendor}")
    if args.json:
        Path(args.json).write_text(json.dumps(reports, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(run())
